// Routes the process's one change stream to the sessions that care: sessions subscribe by
// mailbox id; every event for that mailbox is handed to each subscriber's callback (which posts
// it to the session's strand). 10,000 idle sessions cost 10,000 map entries, not streams.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "store.pb.h"

namespace cas {

class ChangeRouter {
 public:
  using Callback = std::function<void(const mail::v1::ChangeEvent&)>;
  using ResyncCallback = std::function<void()>;

  class Subscription {
   public:
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

   private:
    friend class ChangeRouter;
    Subscription(ChangeRouter* router, uint64_t mailbox, uint64_t id)
        : router_(router), mailbox_(mailbox), id_(id) {}
    ChangeRouter* router_;
    uint64_t mailbox_;
    uint64_t id_;
  };

  // The callbacks run on the router's thread and must only post work elsewhere.
  std::unique_ptr<Subscription> Subscribe(uint64_t mailbox_id, Callback on_event,
                                          ResyncCallback on_resync);
  void Dispatch(const mail::v1::ChangeEvent& event);
  // After a reconnect of the change stream: every subscriber must re-read its state.
  void ResyncAll();
  size_t subscriber_count() const;

 private:
  void Unsubscribe(uint64_t mailbox, uint64_t id);
  struct Entry {
    Callback on_event;
    ResyncCallback on_resync;
  };
  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::map<uint64_t, Entry>> subs_;
};

}  // namespace cas
