#include "transport/server/delivery.h"

#include <algorithm>
#include <chrono>

#include "common/logging.h"
#include "common/metrics.h"
#include "common/storage_status.h"
#include "transport/client/smtp_client.h"
#include "transport/queue/dsn.h"
#include "transport/server/message_headers.h"

namespace transport {

namespace {

constexpr int kCodeOk = 0;
constexpr int kCodeNotFound = 5;
constexpr int kCodeResourceExhausted = 8;

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string DomainOf(const std::string& address) {
  size_t at = address.rfind('@');
  return at == std::string::npos ? "" : address.substr(at + 1);
}

bool WantsNotice(const mail::v1::QueuedRecipient& r, queue::DsnAction action) {
  const auto& n = r.notify();
  bool any = n.never() || n.success() || n.failure() || n.delay();
  if (n.never()) return false;
  switch (action) {
    case queue::DsnAction::kFailed:
      return !any || n.failure();  // Default NOTIFY is FAILURE (RFC 3461 4.1).
    case queue::DsnAction::kDelayed:
      return n.delay();
    case queue::DsnAction::kDelivered:
    case queue::DsnAction::kRelayed:
      return n.success();
  }
  return false;
}

// The NOTIFY= value for a next hop that offers DSN; "" when the sender gave none.
std::string NotifyParameter(const mail::v1::DsnNotify& n) {
  if (n.never()) return "NEVER";
  std::string out;
  for (auto [on, name] : {std::pair{n.success(), "SUCCESS"}, std::pair{n.failure(), "FAILURE"},
                          std::pair{n.delay(), "DELAY"}}) {
    if (!on) continue;
    if (!out.empty()) out += ",";
    out += name;
  }
  return out;
}

std::string PostmasterOf(const mail::v1::TransportSettings& s, const std::string& host) {
  if (!s.postmaster_address().empty()) return s.postmaster_address();
  return "postmaster@" + host;
}

}  // namespace

std::string ReturnPathHeader(const std::string& sender) {
  return "Return-Path: <" + sender + ">\r\n";
}

// ---- DeliveryAgent --------------------------------------------------------------------------

DeliveryAgent::DeliveryAgent(asio::io_context& io, queue::QueueStore* queue,
                             mailboxstore::MailStore* store, common::BlockingPool* pool,
                             TransportSettingsSource settings, DeliveryOptions options)
    : io_(io),
      strand_(asio::make_strand(io)),
      timer_(strand_),
      queue_(queue),
      store_(store),
      pool_(pool),
      settings_(std::move(settings)),
      options_(std::move(options)) {}

void DeliveryAgent::Start() {
  asio::co_spawn(strand_, [this] { return Loop(); }, asio::detached);
}

void DeliveryAgent::Stop() {
  stopping_ = true;
  Wake();
}

void DeliveryAgent::Wake() {
  woken_ = true;
  asio::post(strand_, [this] { timer_.cancel(); });
}

int64_t DeliveryAgent::ExpirationSeconds() const {
  if (options_.expiration_override_seconds != 0) return options_.expiration_override_seconds;
  return settings_().message_expiration_seconds();
}

std::string DeliveryAgent::NextHopFor(bool local, const std::string& address) const {
  if (local) return "Mailbox Delivery";
  mail::v1::TransportSettings s = settings_();
  if (!s.smart_hosts().empty()) {
    return s.smart_hosts(0).host() + ":" + std::to_string(s.smart_hosts(0).port());
  }
  return DomainOf(address);
}

asio::awaitable<void> DeliveryAgent::Loop() {
  while (!stopping_) {
    woken_ = false;
    int64_t now = NowUnix();
    std::vector<mail::v1::QueuedMessage> due;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (in_flight_.size() < options_.max_parallel) {
        due = queue_->Due(now, options_.max_parallel * 2);
      }
    }
    for (auto& m : due) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (in_flight_.size() >= options_.max_parallel) break;
        if (!in_flight_.insert(m.id()).second) continue;
      }
      asio::co_spawn(strand_, Attempt(std::move(m)), asio::detached);
    }
    // Sleep until the next message is due, a message is queued, or an attempt ends.
    std::optional<int64_t> next = queue_->NextDue();
    int64_t wait_s = 60;
    if (next) wait_s = std::clamp<int64_t>(*next - NowUnix(), 0, 60);
    if (woken_) continue;
    bool busy;
    {
      std::lock_guard<std::mutex> lock(mu_);
      busy = !in_flight_.empty();
    }
    // While messages are in flight, due ones may be the in-flight ones themselves.
    if (wait_s == 0 && busy) wait_s = 1;
    if (wait_s == 0) continue;
    timer_.expires_after(std::chrono::seconds(wait_s));
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

void DeliveryAgent::QueueDsn(const mail::v1::QueuedMessage& m, const std::string& body,
                             const std::vector<int>& indexes, int action) {
  if (m.sender().empty() || indexes.empty()) return;  // Never a report about a report.
  auto act = static_cast<queue::DsnAction>(action);
  std::vector<int> wanted;
  for (int i : indexes) {
    if (i >= 0 && i < m.recipients_size() && WantsNotice(m.recipients(i), act)) {
      wanted.push_back(i);
    }
  }
  if (wanted.empty()) return;
  mail::v1::TransportSettings s = settings_();
  queue::DsnInput in;
  in.message = &m;
  in.original = body;
  in.recipient_indexes = wanted;
  in.action = act;
  in.reporting_mta = options_.host_name;
  in.now_unix = NowUnix();
  in.postmaster_address = PostmasterOf(s, options_.host_name);
  std::string dsn = queue::BuildDsn(in);
  mail::v1::QueuedMessage report;
  report.set_sender("");
  auto* r = report.add_recipients();
  r->set_address(m.sender());
  report.set_received_unix(in.now_unix);
  report.set_next_attempt_unix(in.now_unix);
  report.set_expires_unix(in.now_unix + ExpirationSeconds());
  report.set_size(dsn.size());
  report.set_sender_mailbox_id(0);
  report.set_next_hop(m.sender_mailbox_id() != 0 ? "Mailbox Delivery" : NextHopFor(false, m.sender()));
  report.set_subject(SubjectOf(dsn));
  auto id = queue_->Enqueue(std::move(report), dsn);
  if (!id.ok()) {
    MAIL_LOG(kError, "queue") << "cannot queue a delivery report for message " << m.id() << ": "
                              << id.status().ToString();
    return;
  }
  MAIL_LOG(kInfo, "queue") << "message " << *id << ": delivery report ("
                           << (act == queue::DsnAction::kFailed    ? "failed"
                               : act == queue::DsnAction::kDelayed ? "delayed"
                               : act == queue::DsnAction::kRelayed ? "relayed"
                                                                   : "delivered")
                           << ") about message " << m.id() << " to <" << m.sender() << ">";
  Wake();
}

asio::awaitable<void> DeliveryAgent::Attempt(mail::v1::QueuedMessage m) {
  const uint64_t id = m.id();
  const int64_t now = NowUnix();
  // Lease: until this attempt records its outcome, the message is not due again (and after a
  // crash it is retried at this time).
  m.set_next_attempt_unix(now + queue::RetryDelaySeconds(m.attempts() + 1, options_.retry_scale));
  auto* q = queue_;
  const mail::v1::QueuedMessage* mp = &m;
  (void)co_await common::RunBlocking(pool_, [q, mp] { return q->Update(*mp); });
  auto body_or = co_await common::RunBlocking(pool_, [q, id] { return q->GetBody(id); });
  // `relayed`: delivered to a next hop without DSN, which will send no report of its own.
  std::vector<int> failed, delivered, relayed;
  size_t remote_delivered = 0;
  if (!body_or.ok()) {
    MAIL_LOG(kError, "queue") << "message " << id << ": body unreadable: " << body_or.status().ToString();
    m.set_last_error("451 4.3.0 Queue body unreadable");
  } else {
    const std::string& body = *body_or;
    mail::v1::TransportSettings settings = settings_();
    if (now >= m.expires_unix() && m.expires_unix() != 0) {
      for (int i = 0; i < m.recipients_size(); ++i) {
        auto* r = m.mutable_recipients(i);
        if (r->state() != mail::v1::RECIPIENT_STATE_PENDING) continue;
        r->set_state(mail::v1::RECIPIENT_STATE_FAILED);
        std::string last = r->last_response().empty() ? m.last_error() : r->last_response();
        r->set_last_response("550 5.4.7 Message expired: not delivered within " +
                             std::to_string((m.expires_unix() - m.received_unix()) / 3600) +
                             " hours" + (last.empty() ? "" : " (last error: " + last + ")"));
        failed.push_back(i);
      }
      MAIL_LOG(kInfo, "queue") << "message " << id << " expired";
    } else {
      // Local mailboxes first: one Deliver for all of them.
      std::vector<int> local, remote;
      mail::v1::DeliverRequest dreq;
      for (int i = 0; i < m.recipients_size(); ++i) {
        auto* r = m.mutable_recipients(i);
        if (r->state() != mail::v1::RECIPIENT_STATE_PENDING) continue;
        r->set_attempts(r->attempts() + 1);
        mail::v1::ResolveAddressRequest req;
        req.set_address(r->address());
        auto res = co_await store_->ResolveAddress(req);
        if (!res.ok()) {
          r->set_last_response("451 4.3.0 Mailbox store unavailable");
          continue;
        }
        if (res->found()) {
          local.push_back(i);
          dreq.add_targets()->set_mailbox_id(res->mailbox().id());
        } else if (res->domain_accepted()) {
          r->set_state(mail::v1::RECIPIENT_STATE_FAILED);
          r->set_last_response("550 5.1.1 <" + r->address() + ">: User unknown");
          failed.push_back(i);
        } else {
          remote.push_back(i);
        }
      }
      if (!local.empty()) {
        dreq.set_message(ReturnPathHeader(m.sender()) + body);
        dreq.set_internal_date_unix(NowUnix());
        auto dres = co_await store_->Deliver(dreq);
        for (size_t k = 0; k < local.size(); ++k) {
          auto* r = m.mutable_recipients(local[k]);
          if (!dres.ok() || static_cast<int>(k) >= dres->results_size()) {
            r->set_last_response("451 4.3.0 Mailbox store unavailable");
            continue;
          }
          int code = dres->results(k).code();
          if (code == kCodeOk) {
            r->set_state(mail::v1::RECIPIENT_STATE_DELIVERED);
            r->set_last_response("250 2.0.0 Delivered to mailbox");
            delivered.push_back(local[k]);
          } else if (code == kCodeResourceExhausted) {
            r->set_state(mail::v1::RECIPIENT_STATE_FAILED);
            r->set_last_response("552 5.2.2 <" + r->address() + ">: Mailbox full");
            failed.push_back(local[k]);
          } else if (code == kCodeNotFound) {
            r->set_state(mail::v1::RECIPIENT_STATE_FAILED);
            r->set_last_response("550 5.1.1 <" + r->address() + ">: User unknown");
            failed.push_back(local[k]);
          } else {
            r->set_last_response("451 4.3.0 " + dres->results(k).message());
          }
        }
      }
      if (!remote.empty()) {
        if (settings.smart_hosts().empty()) {
          for (int i : remote) {
            m.mutable_recipients(i)->set_last_response(
                "451 4.4.0 No smart host configured (Set-SendConnector -SmartHosts)");
          }
        } else {
          client::Envelope env;
          env.sender = m.sender();
          for (int i : remote) {
            const auto& r = m.recipients(i);
            env.recipients.push_back(r.address());
            env.recipient_dsn.push_back({NotifyParameter(r.notify()), r.orcpt()});
          }
          env.envid = m.envid();
          if (m.ret_headers_only()) env.ret = "HDRS";
          env.eight_bit = std::any_of(body.begin(), body.end(),
                                      [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
          for (const auto& hop : settings.smart_hosts()) {
            client::ClientOptions opts;
            opts.helo_name = options_.host_name;
            opts.require_tls = hop.require_tls();
            opts.connect_timeout = std::chrono::seconds(30);
            std::string host = hop.host();
            uint16_t port = static_cast<uint16_t>(hop.port() == 0 ? 25 : hop.port());
            client::SendOutcome out = co_await client::SendMessage(host, port, env, &body, &opts);
            bool last_hop = &hop == &settings.smart_hosts(settings.smart_hosts_size() - 1);
            // Try the next smart host only when this one could not be reached at all.
            if (!out.connected && !out.session_reply.permanent() && !last_hop) {
              MAIL_LOG(kInfo, "queue") << "message " << id << ": " << host << ":" << port
                                       << " unreachable (" << out.session_reply.Text()
                                       << "), trying the next smart host";
              continue;
            }
            for (size_t k = 0; k < remote.size() && k < out.recipients.size(); ++k) {
              auto* r = m.mutable_recipients(remote[k]);
              const auto& reply = out.recipients[k].reply;
              std::string text = std::to_string(reply.code) + " " + reply.Text();
              r->set_last_response(text);
              if (reply.positive()) {
                r->set_state(mail::v1::RECIPIENT_STATE_DELIVERED);
                // A next hop with DSN got NOTIFY and reports from now on (RFC 3461 5.2.2).
                if (!out.dsn_offered) relayed.push_back(remote[k]);
                ++remote_delivered;
              } else if (reply.permanent()) {
                r->set_state(mail::v1::RECIPIENT_STATE_FAILED);
                failed.push_back(remote[k]);
              }
            }
            MAIL_LOG(kInfo, "queue") << "message " << id << " to " << host << ":" << port << ": "
                                     << (out.session_reply.code != 0 ? out.session_reply.Text() : "sent")
                                     << (out.tls_version.empty() ? "" : " (" + out.tls_version + ")");
            break;
          }
        }
      }
    }
    m.set_attempts(m.attempts() + 1);
    std::string last_error;
    bool pending = false;
    for (const auto& r : m.recipients()) {
      if (r.state() == mail::v1::RECIPIENT_STATE_PENDING) {
        pending = true;
        if (!r.last_response().empty()) last_error = r.last_response();
      }
    }
    m.set_last_error(last_error);
    common::metrics::CountDeliveries(
        delivered.size() + remote_delivered, failed.size(),
        std::count_if(m.recipients().begin(), m.recipients().end(), [](const auto& r) {
          return r.state() == mail::v1::RECIPIENT_STATE_PENDING;
        }));
    m.set_next_attempt_unix(NowUnix() + queue::RetryDelaySeconds(m.attempts(), options_.retry_scale));
    DeliveryAgent* self = this;
    const std::string* bodyp = &body;
    co_await common::RunBlocking(pool_, [self, &m, bodyp, &failed, &delivered, &relayed] {
      self->QueueDsn(m, *bodyp, failed, static_cast<int>(queue::DsnAction::kFailed));
      self->QueueDsn(m, *bodyp, delivered, static_cast<int>(queue::DsnAction::kDelivered));
      self->QueueDsn(m, *bodyp, relayed, static_cast<int>(queue::DsnAction::kRelayed));
      return 0;
    });
    if (!pending) {
      (void)co_await common::RunBlocking(pool_, [q, id] { return q->Remove(id); });
      MAIL_LOG(kInfo, "queue") << "message " << id
                               << " done: " << delivered.size() + remote_delivered << " delivered, "
                               << failed.size() << " failed";
    }
  }
  {
    bool pending = std::any_of(m.recipients().begin(), m.recipients().end(), [](const auto& r) {
      return r.state() == mail::v1::RECIPIENT_STATE_PENDING;
    });
    if (pending || !body_or.ok()) {
      (void)co_await common::RunBlocking(pool_, [q, mp] { return q->Update(*mp); });
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_.erase(id);
  }
  Wake();
}

// ---- StoreAndQueueAcceptor ------------------------------------------------------------------

StoreAndQueueAcceptor::StoreAndQueueAcceptor(queue::QueueStore* queue,
                                             mailboxstore::MailStore* store,
                                             common::BlockingPool* pool, DeliveryAgent* agent,
                                             TransportSettingsSource settings,
                                             uint32_t expiration_override_seconds)
    : queue_(queue),
      store_(store),
      pool_(pool),
      agent_(agent),
      settings_(std::move(settings)),
      expiration_override_seconds_(expiration_override_seconds) {}

asio::awaitable<void> StoreAndQueueAcceptor::ReportAtOnce(mail::v1::QueuedMessage m,
                                                         mail::v1::RecipientState state,
                                                         std::vector<std::string> replies,
                                                         const std::string* message,
                                                         int action) {
  std::vector<int> all;
  for (int i = 0; i < m.recipients_size(); ++i) {
    m.mutable_recipients(i)->set_state(state);
    if (static_cast<size_t>(i) < replies.size()) {
      m.mutable_recipients(i)->set_last_response(replies[static_cast<size_t>(i)]);
    }
    all.push_back(i);
  }
  DeliveryAgent* agent = agent_;
  const mail::v1::QueuedMessage* mp = &m;
  const std::vector<int>* allp = &all;
  co_await common::RunBlocking(pool_, [agent, mp, message, allp, action] {
    agent->QueueDsn(*mp, *message, *allp, action);
    return 0;
  });
}

asio::awaitable<AcceptReply> StoreAndQueueAcceptor::Accept(const Transaction* txn,
                                                           const std::string* message) {
  const int64_t now = NowUnix();
  int64_t expiration = expiration_override_seconds_ != 0
                           ? expiration_override_seconds_
                           : settings_().message_expiration_seconds();
  auto make_envelope = [&](const std::vector<const Recipient*>& rcpts) {
    mail::v1::QueuedMessage m;
    m.set_sender(txn->sender);
    for (const Recipient* r : rcpts) {
      auto* q = m.add_recipients();
      q->set_address(r->address);
      *q->mutable_notify() = r->notify;
      q->set_orcpt(r->orcpt);
    }
    m.set_received_unix(now);
    m.set_next_attempt_unix(now);
    m.set_expires_unix(now + expiration);
    m.set_size(message->size());
    m.set_envid(txn->envid);
    m.set_ret_headers_only(txn->ret_headers_only);
    m.set_sender_mailbox_id(txn->sender_mailbox_id);
    m.set_subject(SubjectOf(*message));
    return m;
  };
  std::vector<const Recipient*> remote, local;
  for (const auto& r : txn->recipients) (r.local ? local : remote).push_back(&r);

  auto* q = queue_;
  uint64_t queued_id = 0;
  if (!remote.empty()) {
    mail::v1::QueuedMessage m = make_envelope(remote);
    m.set_next_hop(agent_->NextHopFor(false, remote.front()->address));
    const mail::v1::QueuedMessage* mp = &m;
    auto id = co_await common::RunBlocking(pool_, [q, mp, message] {
      return q->Enqueue(*mp, *message);
    });
    if (!id.ok()) {
      MAIL_LOG(kError, "smtp") << txn->session_id << " queue write failed: " << id.status().ToString();
      co_return AcceptReply{451, "4.3.0", "Queue temporarily unavailable; try again later"};
    }
    queued_id = *id;
  }
  std::vector<const Recipient*> failed, retry, delivered_success;
  std::vector<std::string> failed_replies;
  if (!local.empty()) {
    mail::v1::DeliverRequest req;
    for (const Recipient* r : local) req.add_targets()->set_mailbox_id(r->mailbox_id);
    req.set_message(ReturnPathHeader(txn->sender) + *message);
    req.set_internal_date_unix(now);
    auto res = co_await store_->Deliver(req);
    if (!res.ok()) {
      MAIL_LOG(kWarning, "smtp") << txn->session_id << " store delivery failed: "
                                 << res.status().ToString();
      if (queued_id != 0) {
        (void)co_await common::RunBlocking(pool_, [q, queued_id] { return q->Remove(queued_id); });
      }
      if (common::IsInsufficientStorage(res.status())) {
        co_return AcceptReply{452, "4.3.1", "Insufficient system storage"};
      }
      co_return AcceptReply{451, "4.3.0",
                            "Mailbox store temporarily unavailable; try again later"};
    }
    for (size_t k = 0; k < local.size(); ++k) {
      int code = static_cast<int>(k) < res->results_size() ? res->results(k).code() : 14;
      if (code == kCodeOk) {
        if (local[k]->notify.success()) delivered_success.push_back(local[k]);
        continue;
      }
      if (code == kCodeResourceExhausted) {
        failed.push_back(local[k]);
        failed_replies.push_back("552 5.2.2 <" + local[k]->address + ">: Mailbox full");
      } else if (code == kCodeNotFound) {
        failed.push_back(local[k]);
        failed_replies.push_back("550 5.1.1 <" + local[k]->address + ">: User unknown");
      } else {
        retry.push_back(local[k]);
      }
    }
  }
  common::metrics::CountDeliveries(local.size() - failed.size() - retry.size(), failed.size(),
                                   retry.size());
  if (failed.size() == txn->recipients.size()) {
    // Nobody got it: say so now instead of sending a report.
    if (failed.size() == 1 && failed_replies[0].rfind("552", 0) == 0) {
      co_return AcceptReply{552, "5.2.2", "<" + failed[0]->address + ">: Mailbox full"};
    }
    co_return AcceptReply{550, "5.1.1", "No recipient could take the message"};
  }
  if (!retry.empty()) {
    // A store hiccup for some mailboxes only: the queue retries them.
    mail::v1::QueuedMessage m = make_envelope(retry);
    m.set_next_hop("Mailbox Delivery");
    const mail::v1::QueuedMessage* mp = &m;
    auto id = co_await common::RunBlocking(pool_, [q, mp, message] { return q->Enqueue(*mp, *message); });
    if (!id.ok()) {
      co_return AcceptReply{451, "4.3.0", "Queue temporarily unavailable; try again later"};
    }
    if (queued_id == 0) queued_id = *id;
  }
  // Named locals, not temporaries, go into the coroutine calls (GCC 12).
  if (!failed.empty()) {
    mail::v1::QueuedMessage m = make_envelope(failed);
    co_await ReportAtOnce(std::move(m), mail::v1::RECIPIENT_STATE_FAILED,
                          std::move(failed_replies), message,
                          static_cast<int>(queue::DsnAction::kFailed));
  }
  if (!delivered_success.empty()) {
    // NOTIFY=SUCCESS (RFC 3461 section 4.1): the mailbox has it, so the report is due now.
    mail::v1::QueuedMessage m = make_envelope(delivered_success);
    std::vector<std::string> replies(delivered_success.size(), "250 2.0.0 Delivered to mailbox");
    co_await ReportAtOnce(std::move(m), mail::v1::RECIPIENT_STATE_DELIVERED, std::move(replies),
                          message, static_cast<int>(queue::DsnAction::kDelivered));
  }
  if (queued_id != 0) agent_->Wake();
  std::string text = queued_id != 0 ? "OK: queued as " + std::to_string(queued_id) : "OK: delivered";
  co_return AcceptReply{250, "2.0.0", text};
}

}  // namespace transport
