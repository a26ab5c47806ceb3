// What happens to a message after the session's last byte: the acceptor makes it durable
// (local mailboxes in the store, other recipients in the queue) before the 250, and the
// delivery agent works the queue: local mailboxes (DSNs, retried store failures) through the
// store, remote recipients through the smart hosts, with retries, back-off, expiry and DSNs.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <string>

#include "common/asio.h"
#include "common/blocking_pool.h"
#include "mailboxstore/api/mail_store.h"
#include "settings.pb.h"
#include "transport.pb.h"
#include "transport/queue/queue_store.h"
#include "transport/server/smtp_session.h"

namespace transport {

struct DeliveryOptions {
  std::string host_name;  // HELO name, Reporting-MTA.
  std::string node_name;  // Get-Queue identities.
  double retry_scale = 1.0;
  uint32_t expiration_override_seconds = 0;  // 0 = the organisation's MessageExpirationTimeout.
  size_t max_parallel = 16;  // Messages in delivery at once.
};

// The organisation's transport settings as last seen (smart hosts, expiration, postmaster).
using TransportSettingsSource = std::function<mail::v1::TransportSettings()>;

class DeliveryAgent {
 public:
  DeliveryAgent(asio::io_context& io, queue::QueueStore* queue, mailboxstore::MailStore* store,
                common::BlockingPool* pool, TransportSettingsSource settings,
                DeliveryOptions options);
  void Start();
  void Stop();
  // Something was queued or made due: look at the queue now.
  void Wake();

  // Queues a report about `indexes` of `m` to its sender (nothing for the null sender or when
  // the recipients asked for no notice). Blocking; call off the I/O threads.
  void QueueDsn(const mail::v1::QueuedMessage& m, const std::string& body,
                const std::vector<int>& indexes, int action);

  // The queue name Get-Queue groups by, for a recipient.
  std::string NextHopFor(bool local, const std::string& address) const;

 private:
  asio::awaitable<void> Loop();
  asio::awaitable<void> Attempt(mail::v1::QueuedMessage m);
  int64_t ExpirationSeconds() const;

  asio::io_context& io_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer timer_;
  queue::QueueStore* queue_;
  mailboxstore::MailStore* store_;
  common::BlockingPool* pool_;
  TransportSettingsSource settings_;
  DeliveryOptions options_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> woken_{false};
  std::mutex mu_;
  std::set<uint64_t> in_flight_;
};

// MessageAcceptor for transportd: remote recipients into the queue (synced) first, then the
// local ones into the store in one Deliver; a store failure takes the queued copy back and
// answers 451 so that the client retries and nothing is lost.
class StoreAndQueueAcceptor final : public MessageAcceptor {
 public:
  StoreAndQueueAcceptor(queue::QueueStore* queue, mailboxstore::MailStore* store,
                        common::BlockingPool* pool, DeliveryAgent* agent,
                        TransportSettingsSource settings, uint32_t expiration_override_seconds);
  asio::awaitable<AcceptReply> Accept(const Transaction* transaction,
                                      const std::string* message) override;

 private:
  // Queues at once a delivery report about every recipient of `m` with the state and reply
  // `reply_of(i)` gives recipient i (a failure at RCPT or DATA, a NOTIFY=SUCCESS delivery).
  asio::awaitable<void> ReportAtOnce(mail::v1::QueuedMessage m,
                                     mail::v1::RecipientState state,
                                     std::vector<std::string> replies,
                                     const std::string* message, int action);

  queue::QueueStore* queue_;
  mailboxstore::MailStore* store_;
  common::BlockingPool* pool_;
  DeliveryAgent* agent_;
  TransportSettingsSource settings_;
  uint32_t expiration_override_seconds_;
};

// "Return-Path: <sender>\r\n" (RFC 5321 4.4), added when a message lands in a mailbox.
std::string ReturnPathHeader(const std::string& sender);

}  // namespace transport
