// Get-Queue, Get-Message, Retry-Queue, Suspend-Queue, Resume-Queue, Suspend-Message,
// Resume-Message and Remove-Message over mail.v1.Queue: transportd's durable outbound queue,
// served on its own admin socket (--transport-endpoint), not by the mailbox store. A queue is
// a next hop ("relay.example.net:25", "Mailbox Delivery"); its identity is "<server>\<next
// hop>" and a message's "<server>\<next hop>\<id>", as Exchange prints them.
#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adminctl/cmdlet.h"
#include "adminctl/parser/strings.h"
#include "adminctl/queue_identity.h"
#include "transport.grpc.pb.h"

namespace adminctl {
namespace {

using mail::v1::QueuedMessage;
using mail::v1::QueuedRecipient;
using mail::v1::QueueSummary;
using parser::BoundCommand;
using parser::ParamType;

// transportd's next hop for local recipients.
constexpr std::string_view kMailboxDeliveryHop = "Mailbox Delivery";

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The call deadline only: transportd's socket is guarded by its file mode, and the mailbox
// store's admin token is not sent to another service.
std::unique_ptr<grpc::ClientContext> QueueClientContext(const CmdletContext& context) {
  auto client = std::make_unique<grpc::ClientContext>();
  client->set_deadline(std::chrono::system_clock::now() + context.deadline);
  return client;
}

CmdletStatus ObjectNotFound(std::string_view identity) {
  return CmdletStatus::Error("The operation couldn't be performed because object '" +
                             std::string(identity) + "' couldn't be found.");
}

// A failed Queue call in PowerShell's shape; transportd's own texts ("The message 12 wasn't
// found.") are passed through.
CmdletStatus QueueCallFailed(const grpc::Status& status, std::string_view identity,
                             const CmdletContext& context) {
  const std::string& endpoint = context.transport_endpoint;
  const std::string& detail = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return CmdletStatus::Ok();
    case grpc::StatusCode::NOT_FOUND:
      return detail.empty() ? ObjectNotFound(identity) : CmdletStatus::Error(detail);
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return CmdletStatus::Error(detail.empty() ? "The transport service rejected the request."
                                                : detail);
    case grpc::StatusCode::UNAVAILABLE:
      return CmdletStatus::Error("Cannot connect to the transport service at " + endpoint + ": " +
                                 detail);
    case grpc::StatusCode::DEADLINE_EXCEEDED: {
      const int64_t ms = context.deadline.count();
      const std::string limit =
          ms % 1000 == 0 ? std::to_string(ms / 1000) + " seconds" : std::to_string(ms) + " ms";
      return CmdletStatus::Error("The transport service at " + endpoint +
                                 " did not answer within " + limit + ".");
    }
    case grpc::StatusCode::UNIMPLEMENTED:
      return CmdletStatus::Error("The service at " + endpoint +
                                 " does not serve the queue admin API (mail.v1.Queue); give "
                                 "transportd's admin socket with --transport-endpoint.");
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return CmdletStatus::Error("Access denied by the transport service at " + endpoint + ": " +
                                 detail);
    default:
      return CmdletStatus::Error("The transport service failed the request (code " +
                                 std::to_string(static_cast<int>(status.error_code())) +
                                 "): " + detail);
  }
}

CmdletStatus NotConnected() {
  return CmdletStatus::Error("Internal error: no connection to the transport service.");
}

CmdletStatus BadQueueIdentity(std::string_view text) {
  return CmdletStatus::Error("'" + std::string(text) +
                             "' is not a valid queue identity. Give <server>\\<next hop> or the "
                             "next hop, for example mbx01\\relay.example.net:25.");
}

CmdletStatus BadMessageIdentity(std::string_view text) {
  return CmdletStatus::Error("'" + std::string(text) +
                             "' is not a valid message identity. Give <server>\\<next hop>\\<id> "
                             "or the id, for example mbx01\\relay.example.net:25\\42 or 42.");
}

// ---------------------------------------------------------------------------------------------
// Queues

// "mbx01\relay.example.net:25" -> "mbx01" and "relay.example.net:25".
std::string_view NodeOf(const QueueSummary& q) {
  std::string_view id = q.identity();
  const size_t slash = id.find('\\');
  return slash == std::string_view::npos ? std::string_view() : id.substr(0, slash);
}

std::string_view HopOf(const QueueSummary& q) {
  std::string_view id = q.identity();
  const size_t slash = id.find('\\');
  return slash == std::string_view::npos ? id : id.substr(slash + 1);
}

CmdletStatus LoadQueues(CmdletContext& context, std::string_view identity,
                        std::vector<QueueSummary>* out) {
  if (context.queue == nullptr) return NotConnected();
  mail::v1::GetQueueResponse response;
  auto client = QueueClientContext(context);
  grpc::Status status =
      context.queue->GetQueue(client.get(), mail::v1::GetQueueRequest(), &response);
  if (!status.ok()) return QueueCallFailed(status, identity, context);
  out->assign(response.queues().begin(), response.queues().end());
  return CmdletStatus::Ok();
}

const QueueSummary* FindQueue(const std::vector<QueueSummary>& queues, const QueueIdentity& q) {
  for (const QueueSummary& s : queues) {
    if (!q.server.empty() && !parser::EqualsIgnoreCase(NodeOf(s), q.server)) continue;
    if (parser::EqualsIgnoreCase(HopOf(s), q.next_hop)) return &s;
  }
  return nullptr;
}

// True when some queue is on `server`: the node name transportd puts in every identity.
bool OnServer(const std::vector<QueueSummary>& queues, std::string_view server) {
  for (const QueueSummary& s : queues) {
    if (parser::EqualsIgnoreCase(NodeOf(s), server)) return true;
  }
  return false;
}

// Exchange's DeliveryType: local delivery, a smart host (written host:port), or a domain.
std::string DeliveryType(std::string_view hop) {
  if (parser::EqualsIgnoreCase(hop, kMailboxDeliveryHop)) return "SmtpDeliveryToMailbox";
  const size_t colon = hop.rfind(':');
  if (colon != std::string_view::npos && colon + 1 < hop.size() &&
      std::all_of(hop.begin() + static_cast<std::ptrdiff_t>(colon) + 1, hop.end(),
                  [](char c) { return c >= '0' && c <= '9'; })) {
    return "SmtpRelayToSmartHost";
  }
  return "DnsConnectorDelivery";
}

Record QueueRecord(const QueueSummary& q) {
  Record r;
  r.Add("Identity", q.identity());
  r.Add("DeliveryType", DeliveryType(HopOf(q)));
  r.Add("Status", q.status());
  r.Add("MessageCount", std::to_string(q.message_count()));
  r.Add("NextHopDomain", q.next_hop_domain());
  r.Add("LastError", q.last_error());
  r.Add("NextRetryTime", FormatDateTime(q.next_retry_unix()));
  return r;
}

const View& QueueView() {
  static const View* view = new View{
      View::Kind::kTable,
      {"Identity", "DeliveryType", "Status", "MessageCount", "NextHopDomain", "LastError"}};
  return *view;
}

CmdletStatus GetQueue(const BoundCommand& args, const std::vector<Record>&, CmdletContext& context,
                      CmdletOutput* output) {
  const std::optional<std::string> identity = args.GetString("Identity");
  std::optional<QueueIdentity> wanted;
  if (identity && !parser::HasWildcard(*identity)) {
    wanted = ParseQueueIdentity(*identity);
    if (!wanted) return BadQueueIdentity(*identity);
  }
  std::vector<QueueSummary> queues;
  if (CmdletStatus s = LoadQueues(context, identity.value_or(""), &queues); !s.ok()) return s;
  if (wanted) {
    const QueueSummary* q = FindQueue(queues, *wanted);
    if (q == nullptr) return ObjectNotFound(*identity);
    output->records.push_back(QueueRecord(*q));
    return CmdletStatus::Ok();
  }
  for (const QueueSummary& q : queues) {
    if (identity && !parser::WildcardMatch(*identity, q.identity()) &&
        !parser::WildcardMatch(*identity, HopOf(q))) {
      continue;
    }
    output->records.push_back(QueueRecord(q));
  }
  return CmdletStatus::Ok();
}

// The queue -Identity names, which must exist: a next hop with nothing queued has no queue.
CmdletStatus ResolveQueue(CmdletContext& context, const std::string& identity,
                          std::vector<QueueSummary>* queues, const QueueSummary** found) {
  std::optional<QueueIdentity> q = ParseQueueIdentity(identity);
  if (!q) return BadQueueIdentity(identity);
  if (CmdletStatus s = LoadQueues(context, identity, queues); !s.ok()) return s;
  *found = FindQueue(*queues, *q);
  if (*found == nullptr) return ObjectNotFound(identity);
  return CmdletStatus::Ok();
}

using QueueMethod = grpc::Status (mail::v1::Queue::StubInterface::*)(
    grpc::ClientContext*, const mail::v1::QueueActionRequest&, mail::v1::QueueActionResponse*);

CmdletStatus CallAction(CmdletContext& context, QueueMethod method,
                        const mail::v1::QueueActionRequest& request, std::string_view identity,
                        uint32_t* affected) {
  if (context.queue == nullptr) return NotConnected();
  mail::v1::QueueActionResponse response;
  auto client = QueueClientContext(context);
  grpc::Status status = (context.queue->*method)(client.get(), request, &response);
  if (!status.ok()) return QueueCallFailed(status, identity, context);
  *affected = response.messages_affected();
  return CmdletStatus::Ok();
}

enum class QueueAction { kRetry, kSuspend, kResume };

CmdletStatus ActOnQueue(const BoundCommand& args, CmdletContext& context, QueueAction action) {
  const std::optional<std::string> identity = args.GetString("Identity");
  mail::v1::QueueActionRequest request;
  std::string status;  // Of the named queue.
  if (identity) {
    std::vector<QueueSummary> queues;
    const QueueSummary* q = nullptr;
    if (CmdletStatus s = ResolveQueue(context, *identity, &queues, &q); !s.ok()) return s;
    request.set_next_hop(std::string(HopOf(*q)));
    status = q->status();
  }
  // Retry-Queue without -Identity retries every queue.
  QueueMethod method = &mail::v1::Queue::StubInterface::RetryQueue;
  if (action == QueueAction::kSuspend) method = &mail::v1::Queue::StubInterface::SuspendQueue;
  if (action == QueueAction::kResume) method = &mail::v1::Queue::StubInterface::ResumeQueue;
  uint32_t affected = 0;
  if (CmdletStatus s = CallAction(context, method, request, identity.value_or(""), &affected);
      !s.ok()) {
    return s;
  }
  if (affected == 0 && identity) {
    switch (action) {
      case QueueAction::kRetry:
        if (status == "Suspended") {
          Warn(context, "The queue '" + *identity +
                            "' is suspended, so nothing was retried. Resume it with "
                            "Resume-Queue.");
        }
        break;
      case QueueAction::kSuspend:
        Warn(context, "The queue '" + *identity + "' is already suspended.");
        break;
      case QueueAction::kResume:
        Warn(context, "The queue '" + *identity + "' isn't suspended.");
        break;
    }
  }
  return CmdletStatus::Ok();
}

CmdletStatus RetryQueue(const BoundCommand& args, const std::vector<Record>&,
                        CmdletContext& context, CmdletOutput*) {
  return ActOnQueue(args, context, QueueAction::kRetry);
}

CmdletStatus SuspendQueue(const BoundCommand& args, const std::vector<Record>&,
                          CmdletContext& context, CmdletOutput*) {
  return ActOnQueue(args, context, QueueAction::kSuspend);
}

CmdletStatus ResumeQueue(const BoundCommand& args, const std::vector<Record>&,
                         CmdletContext& context, CmdletOutput*) {
  return ActOnQueue(args, context, QueueAction::kResume);
}

// ---------------------------------------------------------------------------------------------
// Messages

uint32_t AttemptsOf(const QueuedMessage& m) {
  uint32_t attempts = m.attempts();
  for (const QueuedRecipient& r : m.recipients()) attempts = std::max(attempts, r.attempts());
  return attempts;
}

bool HasPending(const QueuedMessage& m) {
  for (const QueuedRecipient& r : m.recipients()) {
    if (r.state() == mail::v1::RECIPIENT_STATE_PENDING) return true;
  }
  return false;
}

// Ready (waiting for its first or next attempt now), Retry (a failed attempt, the next one
// later), Suspended, or Failed (no recipient left to try; the non-delivery report is due).
std::string MessageStatus(const QueuedMessage& m, int64_t now) {
  if (m.suspended()) return "Suspended";
  if (!HasPending(m)) return "Failed";
  if (AttemptsOf(m) > 0 && m.next_attempt_unix() > now) return "Retry";
  return "Ready";
}

std::string RecipientText(const QueuedRecipient& r) {
  std::string state;
  switch (r.state()) {
    case mail::v1::RECIPIENT_STATE_PENDING:
      state = r.attempts() > 0 ? "Retry" : "Ready";
      break;
    case mail::v1::RECIPIENT_STATE_DELIVERED:
      state = "Delivered";
      break;
    case mail::v1::RECIPIENT_STATE_FAILED:
      state = "Failed";
      break;
    default:
      state = std::to_string(static_cast<int>(r.state()));
      break;
  }
  if (!r.last_response().empty()) state += ": " + r.last_response();
  return r.address() + " (" + state + ")";
}

// The queue identity of each next hop, from Get-Queue's list (which knows the node name).
std::string QueueIdentityOf(const std::vector<QueueSummary>& queues, const std::string& hop,
                            const CmdletContext& context) {
  for (const QueueSummary& q : queues) {
    if (parser::EqualsIgnoreCase(HopOf(q), hop)) return q.identity();
  }
  std::string node = queues.empty() ? context.server_name : std::string(NodeOf(queues.front()));
  return node + "\\" + hop;
}

Record MessageRecord(const QueuedMessage& m, const std::string& queue, int64_t now) {
  const std::string status = MessageStatus(m, now);
  std::vector<std::string> recipients;
  for (const QueuedRecipient& r : m.recipients()) recipients.push_back(RecipientText(r));
  Record r;
  r.Add("Identity", queue + "\\" + std::to_string(m.id()));
  r.Add("FromAddress", m.sender().empty() ? "<>" : m.sender());
  r.Add("Status", status);
  r.Add("Size", FormatByteQuantity(m.size()));
  r.Add("SCL", "-1");  // No content filtering here.
  r.Add("Queue", queue);
  // A null sender is a delivery status notification transportd made; the rest came by SMTP.
  r.Add("MessageSourceName", m.sender().empty() ? "DSN" : "SMTP");
  r.Add("Subject", m.subject());
  r.Add("Recipients", FormatMultiValue(recipients));
  r.Add("DateReceived", FormatDateTime(m.received_unix()));
  r.Add("ExpirationTime", FormatDateTime(m.expires_unix()));
  r.Add("RetryCount", std::to_string(AttemptsOf(m)));
  r.Add("LastError", m.last_error());
  r.Add("NextRetryTime", status == "Ready" || status == "Retry"
                             ? FormatDateTime(m.next_attempt_unix())
                             : std::string());
  return r;
}

const View& MessageView() {
  static const View* view = new View{View::Kind::kTable,
                                     {"Identity", "FromAddress", "Status", "Size", "SCL", "Queue",
                                      "MessageSourceName", "Subject"}};
  return *view;
}

// A message -Identity: its id and next hop for the request. A server part must be the node
// transportd runs on (message ids are per node), which every queue identity names.
CmdletStatus ResolveMessage(CmdletContext& context, const std::string& identity,
                            std::vector<QueueSummary>* queues, uint64_t* id,
                            std::string* next_hop) {
  std::optional<MessageIdentity> m = ParseMessageIdentity(identity);
  if (!m) return BadMessageIdentity(identity);
  if (CmdletStatus s = LoadQueues(context, identity, queues); !s.ok()) return s;
  if (!m->server.empty() && !OnServer(*queues, m->server)) return ObjectNotFound(identity);
  *id = m->id;
  *next_hop = m->next_hop;
  return CmdletStatus::Ok();
}

CmdletStatus GetMessage(const BoundCommand& args, const std::vector<Record>& input,
                        CmdletContext& context, CmdletOutput* output) {
  std::optional<std::string> identity = args.GetString("Identity");
  std::optional<std::string> queue = args.GetString("Queue");
  // Get-Queue | Get-Message: the piped object's Identity names a queue.
  if (input.size() == 1 && input.front().Find("DeliveryType") != nullptr && identity && !queue) {
    queue = std::move(identity);
    identity.reset();
  }
  if (identity && queue) {
    return CmdletStatus::Error(
        "Give -Identity or -Queue, not both: a message identity names its queue already.");
  }
  std::vector<QueueSummary> queues;
  mail::v1::GetQueuedMessagesRequest request;
  if (identity) {
    uint64_t id = 0;
    std::string hop;
    if (CmdletStatus s = ResolveMessage(context, *identity, &queues, &id, &hop); !s.ok()) {
      return s;
    }
    request.set_id(id);
    request.set_next_hop(hop);
  } else if (queue) {
    const QueueSummary* q = nullptr;
    if (CmdletStatus s = ResolveQueue(context, *queue, &queues, &q); !s.ok()) return s;
    request.set_next_hop(std::string(HopOf(*q)));
  } else {
    if (CmdletStatus s = LoadQueues(context, "", &queues); !s.ok()) return s;
  }
  mail::v1::GetQueuedMessagesResponse response;
  auto client = QueueClientContext(context);
  grpc::Status status = context.queue->GetMessages(client.get(), request, &response);
  if (!status.ok()) {
    return QueueCallFailed(status, identity ? *identity : queue.value_or(""), context);
  }
  const int64_t now = NowUnix();
  for (const QueuedMessage& m : response.messages()) {
    output->records.push_back(
        MessageRecord(m, QueueIdentityOf(queues, m.next_hop(), context), now));
  }
  return CmdletStatus::Ok();
}

CmdletStatus SuspendOrResumeMessage(const BoundCommand& args, CmdletContext& context,
                                    bool suspend) {
  const std::string identity = args.GetString("Identity").value_or("");
  std::vector<QueueSummary> queues;
  mail::v1::QueueActionRequest request;
  uint64_t id = 0;
  std::string hop;
  if (CmdletStatus s = ResolveMessage(context, identity, &queues, &id, &hop); !s.ok()) return s;
  request.set_id(id);
  request.set_next_hop(hop);
  uint32_t affected = 0;
  if (CmdletStatus s = CallAction(context,
                                  suspend ? &mail::v1::Queue::StubInterface::SuspendQueue
                                          : &mail::v1::Queue::StubInterface::ResumeQueue,
                                  request, identity, &affected);
      !s.ok()) {
    return s;
  }
  if (affected == 0) {
    Warn(context, "The message '" + identity + "' " +
                      (suspend ? "is already suspended." : "isn't suspended."));
  }
  return CmdletStatus::Ok();
}

CmdletStatus SuspendMessage(const BoundCommand& args, const std::vector<Record>&,
                            CmdletContext& context, CmdletOutput*) {
  return SuspendOrResumeMessage(args, context, /*suspend=*/true);
}

CmdletStatus ResumeMessage(const BoundCommand& args, const std::vector<Record>&,
                           CmdletContext& context, CmdletOutput*) {
  return SuspendOrResumeMessage(args, context, /*suspend=*/false);
}

CmdletStatus RemoveMessage(const BoundCommand& args, const std::vector<Record>&,
                           CmdletContext& context, CmdletOutput*) {
  const std::string identity = args.GetString("Identity").value_or("");
  const parser::BoundValue* with_ndr = args.Find("WithNDR");
  if (with_ndr != nullptr && with_ndr->is_null) {
    return CmdletStatus::Error(
        "Cannot validate argument on parameter 'WithNDR'. The argument is null. Provide a valid "
        "value for the argument, and then try running the command again.");
  }
  std::vector<QueueSummary> queues;
  mail::v1::QueueActionRequest request;
  uint64_t id = 0;
  std::string hop;
  if (CmdletStatus s = ResolveMessage(context, identity, &queues, &id, &hop); !s.ok()) return s;
  request.set_id(id);
  request.set_next_hop(hop);
  // Exchange's default: the sender gets a non-delivery report.
  request.set_with_ndr(with_ndr == nullptr || with_ndr->boolean);
  bool proceed = false;
  if (CmdletStatus s = ConfirmAction(
          args, context,
          "Removing message \"" + identity + "\"" +
              (request.with_ndr() ? ", with a non-delivery report to the sender." : "."),
          "Removing message '" + identity +
              "' needs confirmation, but standard input is not a terminal, so adminctl cannot "
              "ask. Add -Confirm:$false to remove it without a prompt.",
          &proceed);
      !s.ok() || !proceed) {
    return s;
  }
  uint32_t affected = 0;
  return CallAction(context, &mail::v1::Queue::StubInterface::RemoveMessage, request, identity,
                    &affected);
}

parser::ParameterSpec MandatoryIdentity() {
  return {.name = "Identity", .mandatory = true, .position = 0, .from_pipeline = true};
}

}  // namespace

void RegisterQueueCmdlets(CmdletRegistry* registry) {
  registry->Add(Cmdlet{
      .schema = {"Get-Queue", {{.name = "Identity", .position = 0, .from_pipeline = true}}},
      .handler = GetQueue,
      .default_view = QueueView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Retry-Queue", {{.name = "Identity", .position = 0, .from_pipeline = true}}},
      .handler = RetryQueue,
      .default_view = QueueView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Suspend-Queue", {MandatoryIdentity()}},
      .handler = SuspendQueue,
      .default_view = QueueView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Resume-Queue", {MandatoryIdentity()}},
      .handler = ResumeQueue,
      .default_view = QueueView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Get-Message",
                 {
                     {.name = "Identity", .position = 0, .from_pipeline = true},
                     {.name = "Queue"},
                 }},
      .handler = GetMessage,
      .default_view = MessageView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Suspend-Message", {MandatoryIdentity()}},
      .handler = SuspendMessage,
      .default_view = MessageView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Resume-Message", {MandatoryIdentity()}},
      .handler = ResumeMessage,
      .default_view = MessageView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Remove-Message",
                 {
                     MandatoryIdentity(),
                     {.name = "WithNDR", .type = ParamType::kBool},
                     {.name = "Confirm", .type = ParamType::kSwitch},
                 }},
      .handler = RemoveMessage,
      .default_view = MessageView(),
  });
}

}  // namespace adminctl
