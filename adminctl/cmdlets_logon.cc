// Get-LogonFailure, Get-BlockedClient and Clear-BlockedClient over mail.v1.Directory: the
// mailbox store's brute-force protection, which every frontend node shares. Failed logins are
// counted per client address and per mailbox; an address with too many is refused for a
// while, and so are untrusted addresses for a mailbox with too many. Everything lifts by
// itself; Clear-BlockedClient lifts it at once.
#include <string>
#include <vector>

#include "adminctl/cmdlet.h"

namespace adminctl {
namespace {

using parser::BoundCommand;
using parser::ParamType;

std::string ProtocolText(mail::v1::Protocol p) {
  switch (p) {
    case mail::v1::PROTOCOL_POP3:
      return "POP3";
    case mail::v1::PROTOCOL_IMAP4:
      return "IMAP4";
    case mail::v1::PROTOCOL_SMTP:
      return "SMTP";
    case mail::v1::PROTOCOL_ADMIN:
      return "Admin";
    default:
      return "Unknown";
  }
}

std::string RuleText(mail::v1::BlockRule rule) {
  return rule == mail::v1::BLOCK_RULE_MAILBOX ? "Mailbox" : "ClientAddress";
}

Record FailureRecord(const mail::v1::LogonFailure& f) {
  Record r;
  r.Add("LastFailure", FormatDateTime(f.last_unix()));
  r.Add("Protocol", ProtocolText(f.protocol()));
  r.Add("ClientAddress", f.client_address());
  r.Add("User", f.user());
  r.Add("Count", std::to_string(f.count()));
  r.Add("FirstFailure", FormatDateTime(f.first_unix()));
  return r;
}

Record BlockedRecord(const mail::v1::BlockedClient& b) {
  const bool mailbox = b.rule() == mail::v1::BLOCK_RULE_MAILBOX;
  std::vector<std::string> addresses(b.client_addresses().begin(), b.client_addresses().end());
  Record r;
  // Identity is what Clear-BlockedClient takes from the pipeline; Rule says which it is.
  r.Add("Identity", mailbox ? b.mailbox() : b.client_address());
  r.Add("Rule", RuleText(b.rule()));
  r.Add("Failures", std::to_string(b.failures()));
  r.Add("BlockedUntil", FormatDateTime(b.blocked_until_unix()));
  r.Add("RetryAfter", FormatTimeSpan(b.retry_after_seconds()));
  r.Add("ClientAddress", mailbox ? "" : b.client_address());
  r.Add("Mailbox", mailbox ? b.mailbox() : "");
  r.Add("ClientAddresses", FormatMultiValue(addresses));
  std::string failures = std::to_string(b.failures()) + " failed logins";
  if (mailbox) {
    r.Add("Reason", failures + " for this mailbox from " + std::to_string(addresses.size()) +
                        (addresses.size() == 1 ? " address" : " addresses") +
                        " it has not logged in from; those are refused, addresses it has "
                        "logged in from are not");
  } else {
    r.Add("Reason", failures + " from this address; it is refused for every mailbox");
  }
  return r;
}

CmdletStatus GetLogonFailure(const BoundCommand& args, const std::vector<Record>&,
                             CmdletContext& context, CmdletOutput* output) {
  if (context.directory == nullptr) {
    return CmdletStatus::Error("No connection to the mailbox store.");
  }
  mail::v1::GetLogonFailuresRequest req;
  if (auto v = args.GetString("ClientAddress")) req.set_client_address(*v);
  if (auto v = args.GetString("Identity")) req.set_identity(*v);
  mail::v1::GetLogonFailuresResponse resp;
  auto client = NewClientContext(context);
  grpc::Status status = context.directory->GetLogonFailures(client.get(), req, &resp);
  if (!status.ok()) return StatusFromGrpc(status, req.identity(), context);
  for (const auto& f : resp.failures()) output->records.push_back(FailureRecord(f));
  return CmdletStatus::Ok();
}

CmdletStatus GetBlockedClient(const BoundCommand&, const std::vector<Record>&,
                              CmdletContext& context, CmdletOutput* output) {
  if (context.directory == nullptr) {
    return CmdletStatus::Error("No connection to the mailbox store.");
  }
  mail::v1::GetBlockedClientsResponse resp;
  auto client = NewClientContext(context);
  grpc::Status status = context.directory->GetBlockedClients(
      client.get(), mail::v1::GetBlockedClientsRequest(), &resp);
  if (!status.ok()) return StatusFromGrpc(status, "", context);
  for (const auto& b : resp.blocked()) output->records.push_back(BlockedRecord(b));
  return CmdletStatus::Ok();
}

CmdletStatus ClearBlockedClient(const BoundCommand& args, const std::vector<Record>& input,
                                CmdletContext& context, CmdletOutput*) {
  if (context.directory == nullptr) {
    return CmdletStatus::Error("No connection to the mailbox store.");
  }
  mail::v1::ClearBlockedClientsRequest req;
  req.set_all(args.GetSwitch("All"));
  if (auto v = args.GetString("ClientAddress")) req.set_client_address(*v);
  if (auto v = args.GetString("Identity")) {
    // A Get-BlockedClient row piped in names an address when its rule is ClientAddress.
    const std::string* rule = input.size() == 1 ? input[0].Find("Rule") : nullptr;
    if (rule != nullptr && *rule == "ClientAddress") {
      req.set_client_address(*v);
    } else {
      req.set_identity(*v);
    }
  }
  if (!req.all() && req.client_address().empty() && req.identity().empty()) {
    return CmdletStatus::Error(
        "Give -ClientAddress, -Identity (a mailbox) or -All, or pipe in Get-BlockedClient.");
  }
  mail::v1::ClearBlockedClientsResponse resp;
  auto client = NewClientContext(context);
  grpc::Status status = context.directory->ClearBlockedClients(client.get(), req, &resp);
  if (!status.ok()) return StatusFromGrpc(status, req.identity(), context);
  if (resp.failures_cleared() == 0 && resp.lifted().empty()) {
    std::string what = req.all()                       ? "any client"
                       : !req.client_address().empty() ? "'" + req.client_address() + "'"
                                                       : "'" + req.identity() + "'";
    Warn(context, "No failed logins were recorded for " + what + "; nothing was changed.");
  }
  return CmdletStatus::Ok();
}

}  // namespace

void RegisterLogonCmdlets(CmdletRegistry* registry) {
  registry->Add(Cmdlet{
      .schema = {"Get-LogonFailure",
                 {
                     {.name = "Identity", .position = 0},
                     {.name = "ClientAddress"},
                 }},
      .handler = GetLogonFailure,
      .default_view =
          View{View::Kind::kTable, {"LastFailure", "Protocol", "ClientAddress", "User", "Count"}},
  });
  registry->Add(Cmdlet{
      .schema = {"Get-BlockedClient", {}},
      .handler = GetBlockedClient,
      .default_view =
          View{View::Kind::kTable, {"Identity", "Rule", "Failures", "BlockedUntil", "RetryAfter"}},
  });
  registry->Add(Cmdlet{
      .schema = {"Clear-BlockedClient",
                 {
                     {.name = "Identity", .position = 0, .from_pipeline = true},
                     {.name = "ClientAddress"},
                     {.name = "All", .type = ParamType::kSwitch},
                 }},
      .handler = ClearBlockedClient,
      .default_view = View{},
  });
}

}  // namespace adminctl
