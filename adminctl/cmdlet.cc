#include "adminctl/cmdlet.h"

#include <unistd.h>

#include <cstdlib>

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
  RegisterMailboxStatisticsCmdlets(&registry);
  RegisterCasMailboxCmdlets(&registry);
  RegisterClientAccessCmdlets(&registry);
  RegisterProtocolSettingsCmdlets(&registry);
  RegisterServiceCmdlets(&registry);
  RegisterCertificateCmdlets(&registry);
  RegisterTransportCmdlets(&registry);
  RegisterRecipientPermissionCmdlets(&registry);
  RegisterQueueCmdlets(&registry);
  RegisterAuditCmdlets(&registry);
  RegisterLogonCmdlets(&registry);
  RegisterConnectivityCmdlets(&registry);
  RegisterFormatCmdlets(&registry);
  RegisterHelpCmdlets(&registry);
  return registry;
}

namespace {

// gRPC metadata values are printable ASCII.
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  return out.substr(0, 4000);
}

std::string AuditUser() {
  for (const char* name : {"SUDO_USER", "USER", "LOGNAME"}) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0') return v;
  }
  return "uid " + std::to_string(::getuid());
}

}  // namespace

std::string AuditParameters(const parser::BoundCommand& args) {
  std::string out;
  for (const auto& [name, value] : args.values()) {
    if (!out.empty()) out += " ";
    out += "-" + name;
    std::string text;
    switch (value.type) {
      case parser::ParamType::kSecureString:
        text = "***";
        break;
      case parser::ParamType::kSwitch:
        text = value.boolean ? "" : ":$false";
        break;
      case parser::ParamType::kBool:
        text = value.is_null ? "$null" : (value.boolean ? "$true" : "$false");
        break;
      case parser::ParamType::kInt:
        text = value.unlimited ? "Unlimited" : std::to_string(value.integer);
        break;
      case parser::ParamType::kSize:
        text = value.unlimited ? "Unlimited" : std::to_string(value.bytes);
        break;
      case parser::ParamType::kStringList: {
        const auto& l = value.list;
        auto join = [](const std::vector<std::string>& v) {
          std::string j;
          for (const auto& x : v) j += (j.empty() ? "" : ",") + x;
          return j;
        };
        text = l.is_delta ? "@{Add=" + join(l.add) + "; Remove=" + join(l.remove) + "}"
                          : join(l.values);
        break;
      }
      default:
        text = value.is_null ? "$null" : value.text;
        break;
    }
    if (value.type == parser::ParamType::kSwitch) {
      out += text;
    } else {
      bool quote = text.find(' ') != std::string::npos;
      out += " " + (quote ? "'" + text + "'" : text);
    }
  }
  return Printable(out);
}

std::unique_ptr<grpc::ClientContext> NewClientContext(const CmdletContext& context) {
  auto client = std::make_unique<grpc::ClientContext>();
  client->set_deadline(std::chrono::system_clock::now() + context.deadline);
  if (!context.token.empty()) client->AddMetadata("authorization", "Bearer " + context.token);
  if (!context.audit_cmdlet.empty()) {
    client->AddMetadata("x-audit-cmdlet", Printable(context.audit_cmdlet));
    client->AddMetadata("x-audit-parameters", context.audit_parameters);
    client->AddMetadata("x-audit-user", Printable(AuditUser()));
  }
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
