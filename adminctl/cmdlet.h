// The cmdlet table: each cmdlet is {schema, handler, default view}, registered by its
// cmdlets_<family>.cc file, plus what handlers share (gRPC stub, terminal, status type).
#pragma once

#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adminctl/format.h"
#include "adminctl/parser/binder.h"
#include "adminctl/parser/schema.h"
#include "control.grpc.pb.h"
#include "directory.grpc.pb.h"
#include "transport.grpc.pb.h"

namespace adminctl {

// Where prompts go and answers come from. The real one is StdioTerminal (terminal.h).
class Terminal {
 public:
  virtual ~Terminal() = default;
  // True when a person can answer prompts (standard input is a terminal).
  virtual bool IsInteractive() const = 0;
  // Shows `prompt` and reads one line without its newline; nullopt at end of input.
  virtual std::optional<std::string> ReadLine(std::string_view prompt) = 0;
  // The same without echoing what is typed (passwords).
  virtual std::optional<std::string> ReadSecret(std::string_view prompt) = 0;
};

// A cmdlet's outcome: OK, or the message printed as "<Cmdlet>: <message>" on stderr.
class [[nodiscard]] CmdletStatus {
 public:
  static CmdletStatus Ok() { return CmdletStatus(); }
  static CmdletStatus Error(std::string message) { return CmdletStatus(std::move(message)); }

  bool ok() const { return !message_.has_value(); }
  const std::string& message() const { return *message_; }

 private:
  CmdletStatus() = default;
  explicit CmdletStatus(std::string message) : message_(std::move(message)) {}
  std::optional<std::string> message_;
};

class CmdletRegistry;

struct CmdletContext {
  mail::v1::Directory::StubInterface* directory = nullptr;
  // Get-/Set-PopSettings and Get-/Set-ImapSettings; served on the same admin endpoint.
  mail::v1::Settings::StubInterface* settings = nullptr;
  // Get-Service, Start-/Stop-/Restart-Service, Set-Service; on the same admin endpoint.
  mail::v1::Control::StubInterface* control = nullptr;
  // Shown in "Cannot connect to the mailbox store at <endpoint>".
  std::string endpoint;
  // The queue cmdlets (Get-Queue, Get-Message, ...): transportd's admin socket, a separate
  // endpoint that is sent no token.
  mail::v1::Queue::StubInterface* queue = nullptr;
  // Shown in "Cannot connect to the transport service at <endpoint>".
  std::string transport_endpoint;
  // Sent as "authorization: Bearer <token>" when not empty.
  std::string token;
  // Deadline of each call. Default: 30 s.
  std::chrono::milliseconds deadline{30000};
  // The ServerName column. Default: the local host name.
  std::string server_name;
  Terminal* terminal = nullptr;
  // Where "WARNING: ..." lines go (stderr in the program).
  std::ostream* warnings = nullptr;
  // Set by the runner for a formatter: the default view of the objects piped into it.
  const View* input_view = nullptr;
  // Every cmdlet, for Get-Command and Get-Help. Set by the runner when not set.
  const CmdletRegistry* registry = nullptr;
  // Set by the runner for each cmdlet it runs: sent with every call so that the store's admin
  // audit log records the cmdlet and its parameters (secrets as ***).
  std::string audit_cmdlet;
  std::string audit_parameters;
};

struct CmdletOutput {
  std::vector<Record> records;  // Objects for the next pipeline element or the default view.
  // Formatters: the rendered text. Other cmdlets: host messages ("What if: ..." lines),
  // printed to the output as soon as the cmdlet returns.
  std::string text;
  // Non-terminating errors (PowerShell's Write-Error), for a cmdlet that returns OK: each is
  // printed as "<Cmdlet>: <message>", the records still go down the pipeline, and the line
  // fails (adminctl exits with 1).
  std::vector<std::string> errors;
  // How the records are shown when it is not the cmdlet's default_view (a switch that changes
  // what the objects are, such as Get-CASMailbox -ProtocolSettings).
  std::optional<View> view;
};

using CmdletHandler =
    std::function<CmdletStatus(const parser::BoundCommand& args, const std::vector<Record>& input,
                               CmdletContext& context, CmdletOutput* output)>;

struct Cmdlet {
  parser::CommandSchema schema = {};      // schema.name is the canonical cmdlet name.
  std::vector<std::string> aliases = {};  // E.g. "fl" for Format-List.
  CmdletHandler handler = {};
  View default_view = {};
  // Formatters get every piped object at once and must end the pipeline. Other cmdlets run
  // once per piped object, with their from_pipeline parameter taken from the object.
  bool formatter = false;
};

class CmdletRegistry {
 public:
  void Add(Cmdlet cmdlet) { cmdlets_.push_back(std::move(cmdlet)); }
  // Case-insensitive, by name or alias; nullptr when unknown.
  const Cmdlet* Find(std::string_view name) const;
  const std::vector<Cmdlet>& cmdlets() const { return cmdlets_; }

 private:
  std::vector<Cmdlet> cmdlets_;
};

// One registration function per cmdlets_<family>.cc.
void RegisterFormatCmdlets(CmdletRegistry* registry);
void RegisterMailboxCmdlets(CmdletRegistry* registry);
void RegisterCasMailboxCmdlets(CmdletRegistry* registry);
void RegisterProtocolSettingsCmdlets(CmdletRegistry* registry);
// Receive and send connectors, Get-/Set-TransportService, Get-/Set-TransportConfig.
void RegisterTransportCmdlets(CmdletRegistry* registry);
// Add-/Get-/Remove-RecipientPermission (Send As).
void RegisterRecipientPermissionCmdlets(CmdletRegistry* registry);
// Get-Queue, Get-Message and the queue and message actions, against transportd.
void RegisterQueueCmdlets(CmdletRegistry* registry);
// Get-Service, Start-Service, Stop-Service, Restart-Service and Set-Service.
void RegisterServiceCmdlets(CmdletRegistry* registry);
// Get-Command and Get-Help (cmdlets_help.cc).
void RegisterHelpCmdlets(CmdletRegistry* registry);
void RegisterAuditCmdlets(CmdletRegistry* registry);
// Test-ImapConnectivity, Test-PopConnectivity and Test-SmtpConnectivity.
void RegisterConnectivityCmdlets(CmdletRegistry* registry);
// Get-LogonFailure, Get-BlockedClient and Clear-BlockedClient (brute-force protection).
void RegisterLogonCmdlets(CmdletRegistry* registry);
// Get-MailboxStatistics and Get-MailboxFolderStatistics.
void RegisterMailboxStatisticsCmdlets(CmdletRegistry* registry);
// Get-ClientAccessDnsRecords (the DNS records for client autoconfiguration).
void RegisterClientAccessCmdlets(CmdletRegistry* registry);
// Get-, New-, Import-, Enable- and Remove-ExchangeCertificate.
void RegisterCertificateCmdlets(CmdletRegistry* registry);
// Every cmdlet adminctl knows.
CmdletRegistry DefaultRegistry();

// "-Identity alice -PopEnabled False" for the audit log: every bound parameter, passwords
// and other secure strings as ***, non-printable characters as '?'.
std::string AuditParameters(const parser::BoundCommand& args);

// A client context with the call deadline and the bearer token.
std::unique_ptr<grpc::ClientContext> NewClientContext(const CmdletContext& context);

// Maps a failed call to PowerShell-shaped text. `identity` is the object the call was about.
CmdletStatus StatusFromGrpc(const grpc::Status& status, std::string_view identity,
                            const CmdletContext& context);

// Prints "WARNING: <text>" to context.warnings.
void Warn(const CmdletContext& context, std::string_view text);

// PowerShell's confirmation for cmdlets that remove or grant something: unless -Confirm:$false
// was given, asks "Are you sure you want to perform this action?\n<what>" on the terminal
// until the answer is Yes or No. `*proceed` is false when the answer was No (or input ended).
// Fails with `cannot_ask` when standard input is not a terminal.
CmdletStatus ConfirmAction(const parser::BoundCommand& args, CmdletContext& context,
                           const std::string& what, const std::string& cannot_ask, bool* proceed);

}  // namespace adminctl
