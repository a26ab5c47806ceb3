#include "adminctl/cmdlet.h"

#include "adminctl/parser/strings.h"

namespace adminctl {

const Cmdlet* CmdletRegistry::Find(std::string_view name) const {
  for (const Cmdlet& cmdlet : cmdlets_) {
    if (parser::EqualsIgnoreCase(cmdlet.schema.name, name)) return &cmdlet;
    for (const std::string& alias : cmdlet.aliases) {
      if (parser::EqualsIgnoreCase(alias, name)) return &cmdlet;
    }
  }
  return nullptr;
}

CmdletRegistry DefaultRegistry() {
  CmdletRegistry registry;
  RegisterMailboxCmdlets(&registry);
  RegisterCasMailboxCmdlets(&registry);
  RegisterProtocolSettingsCmdlets(&registry);
  RegisterServiceCmdlets(&registry);
  RegisterTransportCmdlets(&registry);
  RegisterRecipientPermissionCmdlets(&registry);
  RegisterQueueCmdlets(&registry);
  RegisterFormatCmdlets(&registry);
  RegisterHelpCmdlets(&registry);
  return registry;
}

std::unique_ptr<grpc::ClientContext> NewClientContext(const CmdletContext& context) {
  auto client = std::make_unique<grpc::ClientContext>();
  client->set_deadline(std::chrono::system_clock::now() + context.deadline);
  if (!context.token.empty()) client->AddMetadata("authorization", "Bearer " + context.token);
  return client;
}

CmdletStatus StatusFromGrpc(const grpc::Status& status, std::string_view identity,
                            const CmdletContext& context) {
  const std::string& detail = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return CmdletStatus::Ok();
    case grpc::StatusCode::NOT_FOUND:
      return CmdletStatus::Error("The operation couldn't be performed because object '" +
                                 std::string(identity) + "' couldn't be found.");
    case grpc::StatusCode::ALREADY_EXISTS:
      return CmdletStatus::Error(
          "The name or address is already being used: " +
          (detail.empty() ? "the mailbox store reported a duplicate." : detail));
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return CmdletStatus::Error(detail.empty() ? "The mailbox store rejected the request."
                                                : detail);
    case grpc::StatusCode::UNAVAILABLE:
      return CmdletStatus::Error("Cannot connect to the mailbox store at " + context.endpoint +
                                 ": " + detail);
    case grpc::StatusCode::DEADLINE_EXCEEDED: {
      const int64_t ms = context.deadline.count();
      const std::string limit =
          ms % 1000 == 0 ? std::to_string(ms / 1000) + " seconds" : std::to_string(ms) + " ms";
      return CmdletStatus::Error("The mailbox store at " + context.endpoint +
                                 " did not answer within " + limit + ".");
    }
    case grpc::StatusCode::UNAUTHENTICATED:
      return CmdletStatus::Error("Access denied by the mailbox store at " + context.endpoint +
                                 ": " + detail +
                                 " (give an admin token with --token or MAIL_ADMIN_TOKEN).");
    case grpc::StatusCode::PERMISSION_DENIED:
      return CmdletStatus::Error("Access denied by the mailbox store at " + context.endpoint +
                                 ": " + detail);
    default:
      return CmdletStatus::Error("The mailbox store failed the request (code " +
                                 std::to_string(static_cast<int>(status.error_code())) +
                                 "): " + detail);
  }
}

void Warn(const CmdletContext& context, std::string_view text) {
  if (context.warnings != nullptr) *context.warnings << "WARNING: " << text << "\n";
}

CmdletStatus ConfirmAction(const parser::BoundCommand& args, CmdletContext& context,
                           const std::string& what, const std::string& cannot_ask, bool* proceed) {
  *proceed = true;
  if (args.Has("Confirm") && !args.GetSwitch("Confirm")) return CmdletStatus::Ok();
  if (context.terminal == nullptr || !context.terminal->IsInteractive()) {
    return CmdletStatus::Error(cannot_ask);
  }
  *proceed = false;
  const std::string prompt = "\nConfirm\nAre you sure you want to perform this action?\n" + what +
                             "\n[Y] Yes  [N] No  (default is \"N\"): ";
  for (int attempt = 0; attempt < 10; ++attempt) {
    std::optional<std::string> answer =
        context.terminal->ReadLine(attempt == 0 ? prompt : "[Y] Yes  [N] No  (default is \"N\"): ");
    if (!answer) return CmdletStatus::Ok();
    const std::string a = parser::AsciiLower(*answer);
    if (a == "y" || a == "yes") {
      *proceed = true;
      return CmdletStatus::Ok();
    }
    if (a.empty() || a == "n" || a == "no") return CmdletStatus::Ok();
  }
  return CmdletStatus::Ok();
}

}  // namespace adminctl
