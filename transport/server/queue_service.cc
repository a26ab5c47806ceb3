#include "transport/server/queue_service.h"

#include <chrono>

#include "common/logging.h"
#include "transport/queue/dsn.h"

namespace transport {

namespace {

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

grpc::Status FromStatus(const common::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, s.message());
}

}  // namespace

std::vector<mail::v1::QueuedMessage> QueueService::Select(
    const mail::v1::QueueActionRequest& req) const {
  std::string hop = req.next_hop();
  if (size_t slash = hop.find('\\'); slash != std::string::npos) hop = hop.substr(slash + 1);
  hop = Lower(hop);
  std::vector<mail::v1::QueuedMessage> out;
  for (auto& m : queue_->List()) {
    if (req.id() != 0 && m.id() != req.id()) continue;
    if (!hop.empty() && Lower(m.next_hop()) != hop) continue;
    out.push_back(std::move(m));
  }
  return out;
}

grpc::Status QueueService::GetQueue(grpc::ServerContext*, const mail::v1::GetQueueRequest*,
                                    mail::v1::GetQueueResponse* resp) {
  for (auto& s : queue_->Summaries(node_, NowUnix())) *resp->add_queues() = std::move(s);
  return grpc::Status::OK;
}

grpc::Status QueueService::GetMessages(grpc::ServerContext*,
                                       const mail::v1::GetQueuedMessagesRequest* req,
                                       mail::v1::GetQueuedMessagesResponse* resp) {
  mail::v1::QueueActionRequest sel;
  sel.set_next_hop(req->next_hop());
  sel.set_id(req->id());
  for (auto& m : Select(sel)) *resp->add_messages() = std::move(m);
  if (req->id() != 0 && resp->messages().empty()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "The message " + std::to_string(req->id()) + " wasn't found.");
  }
  return grpc::Status::OK;
}

grpc::Status QueueService::ForEach(const mail::v1::QueueActionRequest& req,
                                   mail::v1::QueueActionResponse* resp,
                                   const std::function<bool(mail::v1::QueuedMessage*)>& change) {
  auto selected = Select(req);
  if (req.id() != 0 && selected.empty()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "The message " + std::to_string(req.id()) + " wasn't found.");
  }
  uint32_t n = 0;
  for (auto& m : selected) {
    if (!change(&m)) continue;
    common::Status s = queue_->Update(m);
    if (!s.ok()) return FromStatus(s);
    ++n;
  }
  resp->set_messages_affected(n);
  agent_->Wake();
  return grpc::Status::OK;
}

grpc::Status QueueService::RetryQueue(grpc::ServerContext*, const mail::v1::QueueActionRequest* req,
                                      mail::v1::QueueActionResponse* resp) {
  int64_t now = NowUnix();
  return ForEach(*req, resp, [now](mail::v1::QueuedMessage* m) {
    if (m->suspended()) return false;
    m->set_next_attempt_unix(now);
    return true;
  });
}

grpc::Status QueueService::SuspendQueue(grpc::ServerContext*,
                                        const mail::v1::QueueActionRequest* req,
                                        mail::v1::QueueActionResponse* resp) {
  return ForEach(*req, resp, [](mail::v1::QueuedMessage* m) {
    if (m->suspended()) return false;
    m->set_suspended(true);
    return true;
  });
}

grpc::Status QueueService::ResumeQueue(grpc::ServerContext*, const mail::v1::QueueActionRequest* req,
                                       mail::v1::QueueActionResponse* resp) {
  int64_t now = NowUnix();
  return ForEach(*req, resp, [now](mail::v1::QueuedMessage* m) {
    if (!m->suspended()) return false;
    m->set_suspended(false);
    m->set_next_attempt_unix(now);
    return true;
  });
}

grpc::Status QueueService::RemoveMessage(grpc::ServerContext*,
                                         const mail::v1::QueueActionRequest* req,
                                         mail::v1::QueueActionResponse* resp) {
  auto selected = Select(*req);
  if (req->id() != 0 && selected.empty()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "The message " + std::to_string(req->id()) + " wasn't found.");
  }
  uint32_t n = 0;
  for (auto& m : selected) {
    if (req->with_ndr()) {
      auto body = queue_->GetBody(m.id());
      std::vector<int> pending;
      for (int i = 0; i < m.recipients_size(); ++i) {
        auto* r = m.mutable_recipients(i);
        if (r->state() != mail::v1::RECIPIENT_STATE_PENDING) continue;
        r->set_state(mail::v1::RECIPIENT_STATE_FAILED);
        r->set_last_response("550 5.3.0 Message deleted by the administrator" +
                             (r->last_response().empty() ? std::string()
                                                         : " (last error: " + r->last_response() + ")"));
        pending.push_back(i);
      }
      if (body.ok()) {
        agent_->QueueDsn(m, *body, pending, static_cast<int>(queue::DsnAction::kFailed));
      }
    }
    common::Status s = queue_->Remove(m.id());
    if (!s.ok()) return FromStatus(s);
    MAIL_LOG(kInfo, "queue") << "message " << m.id() << " removed by the administrator"
                             << (req->with_ndr() ? " (with NDR)" : "");
    ++n;
  }
  resp->set_messages_affected(n);
  return grpc::Status::OK;
}

}  // namespace transport
