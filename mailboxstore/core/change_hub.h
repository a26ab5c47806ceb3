// Fans committed change events out to watchers (the Watch RPC streams). Events arrive in
// commit order from the GroupCommitter; every subscriber sees them in that order, each once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "store.pb.h"

namespace mailboxstore {

class ChangeHub {
 public:
  class Subscription {
   public:
    // Waits up to `timeout_ms` for the next event. nullopt on timeout or when closed.
    std::optional<mail::v1::ChangeEvent> Next(int timeout_ms);
    // True once the subscriber fell too far behind (events were dropped) or was closed; the
    // stream must end so that the client resynchronises.
    bool closed() const;

   private:
    friend class ChangeHub;
    bool Wants(uint64_t mailbox_id) const {
      return all_ || mailboxes_.count(mailbox_id) > 0;
    }
    bool all_ = false;
    std::set<uint64_t> mailboxes_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<mail::v1::ChangeEvent> queue_;
    bool closed_ = false;
  };

  // Default: a subscriber more than 100000 events behind is dropped.
  explicit ChangeHub(size_t max_queue = 100000) : max_queue_(max_queue) {}

  std::shared_ptr<Subscription> Subscribe(bool all, const std::vector<uint64_t>& mailboxes);
  void Unsubscribe(const std::shared_ptr<Subscription>& sub);
  void Publish(const std::vector<mail::v1::ChangeEvent>& events);
  // Ends every subscription (shutdown).
  void CloseAll();
  size_t subscriber_count() const;

 private:
  size_t max_queue_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Subscription>> subs_;
};

}  // namespace mailboxstore
