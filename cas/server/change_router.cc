#include "cas/server/change_router.h"

#include <vector>

namespace cas {

ChangeRouter::Subscription::~Subscription() { router_->Unsubscribe(mailbox_, id_); }

std::unique_ptr<ChangeRouter::Subscription> ChangeRouter::Subscribe(uint64_t mailbox_id,
                                                                    Callback on_event,
                                                                    ResyncCallback on_resync) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t id = next_id_++;
  subs_[mailbox_id][id] = Entry{std::move(on_event), std::move(on_resync)};
  return std::unique_ptr<Subscription>(new Subscription(this, mailbox_id, id));
}

void ChangeRouter::Unsubscribe(uint64_t mailbox, uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = subs_.find(mailbox);
  if (it == subs_.end()) return;
  it->second.erase(id);
  if (it->second.empty()) subs_.erase(it);
}

void ChangeRouter::Dispatch(const mail::v1::ChangeEvent& event) {
  std::vector<Callback> targets;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = subs_.find(event.mailbox_id());
    if (it == subs_.end()) return;
    for (auto& [id, e] : it->second) targets.push_back(e.on_event);
  }
  for (auto& cb : targets) cb(event);
}

void ChangeRouter::ResyncAll() {
  std::vector<ResyncCallback> targets;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [mb, m] : subs_) {
      for (auto& [id, e] : m) targets.push_back(e.on_resync);
    }
  }
  for (auto& cb : targets) cb();
}

size_t ChangeRouter::subscriber_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (auto& [mb, m] : subs_) n += m.size();
  return n;
}

}  // namespace cas
