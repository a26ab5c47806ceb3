#include "mailboxstore/core/change_hub.h"

#include <algorithm>
#include <chrono>

namespace mailboxstore {

std::optional<mail::v1::ChangeEvent> ChangeHub::Subscription::Next(int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
               [&] { return !queue_.empty() || closed_; });
  if (queue_.empty()) return std::nullopt;
  mail::v1::ChangeEvent e = std::move(queue_.front());
  queue_.pop_front();
  return e;
}

bool ChangeHub::Subscription::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

std::shared_ptr<ChangeHub::Subscription> ChangeHub::Subscribe(
    bool all, const std::vector<uint64_t>& mailboxes) {
  auto sub = std::make_shared<Subscription>();
  sub->all_ = all;
  sub->mailboxes_.insert(mailboxes.begin(), mailboxes.end());
  std::lock_guard<std::mutex> lock(mu_);
  subs_.push_back(sub);
  return sub;
}

void ChangeHub::Unsubscribe(const std::shared_ptr<Subscription>& sub) {
  std::lock_guard<std::mutex> lock(mu_);
  subs_.erase(std::remove(subs_.begin(), subs_.end(), sub), subs_.end());
}

void ChangeHub::Publish(const std::vector<mail::v1::ChangeEvent>& events) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& sub : subs_) {
    std::lock_guard<std::mutex> sub_lock(sub->mu_);
    if (sub->closed_) continue;
    bool added = false;
    for (const auto& e : events) {
      if (!sub->Wants(e.mailbox_id())) continue;
      if (sub->queue_.size() >= max_queue_) {
        sub->closed_ = true;  // Too slow: end its stream; it resynchronises.
        break;
      }
      sub->queue_.push_back(e);
      added = true;
    }
    if (added || sub->closed_) sub->cv_.notify_all();
  }
}

void ChangeHub::CloseAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& sub : subs_) {
    std::lock_guard<std::mutex> sub_lock(sub->mu_);
    sub->closed_ = true;
    sub->cv_.notify_all();
  }
}

size_t ChangeHub::subscriber_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return subs_.size();
}

}  // namespace mailboxstore
