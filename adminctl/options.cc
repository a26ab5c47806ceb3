#include "adminctl/options.h"

namespace adminctl {

std::string QuoteArgument(std::string_view word) {
  bool needs_quotes = word.empty();
  for (char c : word) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';') needs_quotes = true;
  }
  if (!needs_quotes) return std::string(word);
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string JoinArguments(const std::vector<std::string>& words) {
  if (words.size() == 1) return words.front();
  std::string line;
  for (const std::string& word : words) {
    if (!line.empty()) line += ' ';
    line += QuoteArgument(word);
  }
  return line;
}

std::string ParseOptions(const std::vector<std::string>& args,
                         const std::function<const char*(const char*)>& getenv, Options* options) {
  *options = Options();
  if (const char* e = getenv("MAIL_ADMIN_ENDPOINT"); e != nullptr && *e != '\0') {
    options->endpoint = e;
  } else {
    options->endpoint = kDefaultEndpoint;
  }
  if (const char* e = getenv("MAIL_TRANSPORT_ENDPOINT"); e != nullptr && *e != '\0') {
    options->transport_endpoint = e;
  } else {
    options->transport_endpoint = kDefaultTransportEndpoint;
  }
  if (const char* t = getenv("MAIL_ADMIN_TOKEN"); t != nullptr) options->token = t;

  size_t i = 0;
  // Takes the value of option `name`, from "--name=value" or the next argument.
  auto value_of = [&](std::string_view name, std::string* out) -> std::string {
    const std::string& arg = args[i];
    if (arg.size() > name.size() && arg.compare(0, name.size(), name) == 0 &&
        arg[name.size()] == '=') {
      *out = arg.substr(name.size() + 1);
      return "";
    }
    if (i + 1 >= args.size()) return "option " + std::string(name) + " needs a value";
    *out = args[++i];
    return "";
  };
  auto is = [&](std::string_view name) {
    const std::string& arg = args[i];
    return arg == name || (arg.size() > name.size() && arg.compare(0, name.size(), name) == 0 &&
                           arg[name.size()] == '=');
  };

  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    std::string error;
    if (arg == "--") {
      ++i;
      break;
    } else if (arg == "-h" || arg == "--help" || arg == "-?") {
      options->mode = Options::Mode::kHelp;
      return "";
    } else if (arg == "--version") {
      options->mode = Options::Mode::kVersion;
      return "";
    } else if (is("--endpoint")) {
      error = value_of("--endpoint", &options->endpoint);
    } else if (is("--transport-endpoint")) {
      error = value_of("--transport-endpoint", &options->transport_endpoint);
    } else if (is("--token")) {
      error = value_of("--token", &options->token);
    } else if (arg == "-c" || is("--command")) {
      error = value_of(arg == "-c" ? "-c" : "--command", &options->line);
      options->mode = Options::Mode::kLine;
    } else if (is("--file")) {
      error = value_of("--file", &options->file);
      options->mode = Options::Mode::kFile;
    } else if (arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
      return "unknown option " + arg;
    } else {
      break;
    }
    if (!error.empty()) return error;
  }
  if (options->endpoint.empty()) return "the endpoint is empty";
  if (options->transport_endpoint.empty()) return "the transport endpoint is empty";

  std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  if (!rest.empty()) {
    if (options->mode != Options::Mode::kUsage) {
      return "give a cmdlet line, -c or --file, not more than one of them";
    }
    options->mode = Options::Mode::kLine;
    options->line = JoinArguments(rest);
  }
  return "";
}

std::string UsageText() {
  return R"(Usage: adminctl [--endpoint ENDPOINT] [--token TOKEN] <cmdlet line...>
       adminctl [--endpoint ENDPOINT] [--token TOKEN] -c "<cmdlet line>"
       adminctl [--endpoint ENDPOINT] [--token TOKEN] --file script.ps1
       adminctl [--endpoint ENDPOINT] [--token TOKEN]      (interactive shell)

Runs PowerShell-style cmdlets against the mailbox store's admin endpoint. Without a cmdlet
line on a terminal, starts an interactive shell: Tab completes cmdlets, parameters and
values, Up recalls earlier lines (kept in ~/.adminctl_history, never those with a
password), exit or Ctrl-D leaves.

Options:
  --endpoint E   unix:/path or host:port (default: $MAIL_ADMIN_ENDPOINT, else
                 unix:/run/casmail/admin.sock)
  --transport-endpoint E
                 transportd's queue admin socket, for Get-Queue, Get-Message and the other
                 queue cmdlets (default: $MAIL_TRANSPORT_ENDPOINT, else
                 unix:/run/casmail/transportd.sock)
  --token T      admin token, sent as "authorization: Bearer T" (default: $MAIL_ADMIN_TOKEN)
  -c LINE        run LINE (statements may be separated by ';')
  --file F       run the script F ("-" for standard input); stops at the first error
  --help         show this text

Cmdlets:
  New-Mailbox [-Name] <name> [-PrimarySmtpAddress <address>] [-Password <password>]
              [-DisplayName <text>]
  Get-Mailbox [[-Identity] <identity|wildcard>] [-ResultSize <n>|Unlimited]
  Set-Mailbox [-Identity] <identity> [-Name ..] [-DisplayName ..] [-PrimarySmtpAddress ..]
              [-EmailAddresses a,b | @{Add=..; Remove=..}] [-Password ..]
              [-IssueWarningQuota ..] [-ProhibitSendQuota ..] [-ProhibitSendReceiveQuota ..]
              [-AccountDisabled $true|$false]
  Remove-Mailbox [-Identity] <identity> [-Confirm:$false]
  Get-CASMailbox [[-Identity] <identity|wildcard>] [-ResultSize <n>|Unlimited]
                 [-ProtocolSettings]
  Set-CASMailbox [-Identity] <identity> [-PopEnabled $true|$false] [-ImapEnabled ..]
                 [-SmtpClientAuthenticationDisabled $true|$false|$null]
                 [-PopDownloadScope AllMail|FromNow]
                 [-PopRetrievalAction Keep|MarkRead|Archive|Delete] [-PopFolders Inbox,Junk]
  Get-PopSettings [-Server <name>]      Get-ImapSettings [-Server <name>]
                 (summary; add | Format-List for every property)
  Set-PopSettings [-LoginType SecureLogin|PlainTextAuthentication|PlainTextLogin|3|2|1]
                  [-UnencryptedOrTLSBindings a,b] [-SSLBindings a,b]
                  [-X509CertificateName <fqdn>] [-InternalConnectionSettings h:995:SSL,..]
                  [-ExternalConnectionSettings ..] [-Banner <text>] [-MaxConnections <n>]
                  [-MaxConnectionFromSingleIP <n>] [-MaxConnectionsPerUser <n>]
                  [-MaxCommandSize <n>] [-PreAuthenticatedConnectionTimeout hh:mm:ss]
                  [-AuthenticatedConnectionTimeout [d.]hh:mm:ss]
                  [-MessageRetrievalSortOrder Ascending|Descending]
                  [-ProtocolLogEnabled $true|$false] [-LogFileLocation <dir>] [-WhatIf]
  Set-ImapSettings  the same, without -MessageRetrievalSortOrder, plus [-MaxMessageSize 36MB]
                 Settings are organisation-wide (-Server is accepted and ignored). A change
                 applies to the next connection on every node: no service restart is needed.
  Get-Service [[-Name] POP3|IMAP4|SMTP|MSExchangePOP3|..|<wildcard>] [-Server <node>]
  Start-Service / Stop-Service / Restart-Service [-Name] POP3|IMAP4|SMTP [-Server <node>]
                 [-PassThru] [-WhatIf]       (every node without -Server; or pipe Get-Service)
  Set-Service [-Name] <service> -StartupType Automatic|Manual|Disabled [-Server <node>]
  Get-ReceiveConnector [[-Identity] <name|wildcard>]
  New-ReceiveConnector [-Name] <name> -Bindings 0.0.0.0:2525,.. [-Usage Client|Internet|Custom]
                       [connector parameters as for Set-ReceiveConnector]
  Set-ReceiveConnector [-Identity] <name> [-Name ..] [-Bindings a,b] [-Enabled $true|$false]
                       [-Banner ..] [-Fqdn ..] [-TlsCertificateName ..] [-MaxMessageSize 36MB]
                       [-MaxRecipientsPerMessage <n>] [-MaxInboundConnection <n>]
                       [-MaxInboundConnectionPerSource <n>] [-ConnectionTimeout [d.]hh:mm:ss]
                       [-AuthMechanism Tls,BasicAuth,BasicAuthRequireTLS,..|None]
                       [-RequireTLS ..] [-AuthRequired ..] [-RelayAllowed ..] [-ImplicitTls ..]
                       [-ProtocolLoggingLevel None|Verbose] [-WhatIf]
  Remove-ReceiveConnector [-Identity] <name> [-Confirm:$false] [-WhatIf]
  Get-SendConnector    Set-SendConnector [-SmartHosts host[:port],..|$null] [-Port <n>]
                       [-RequireTLS $true|$false] [-WhatIf]
  Get-TransportService Set-TransportService -MessageExpirationTimeout d.hh:mm:ss [-WhatIf]
  Get-TransportConfig  Set-TransportConfig [-SmtpClientAuthenticationDisabled $true|$false]
                       [-ExternalPostmasterAddress <address>|$null] [-WhatIf]
  Add-RecipientPermission [-Identity] <mailbox> -Trustee <mailbox> -AccessRights SendAs
                          [-Confirm:$false]      (also Remove-RecipientPermission)
  Get-RecipientPermission [[-Identity] <mailbox>] [-Trustee <mailbox>]
  Get-Queue [[-Identity] <server>\<next hop>]     Get-Message [[-Identity] <id>] [-Queue ..]
  Retry-Queue [[-Identity] <queue>]   Suspend-Queue / Resume-Queue [-Identity] <queue>
  Suspend-Message / Resume-Message [-Identity] <server>\<next hop>\<id>|<id>
  Remove-Message [-Identity] <message> [-WithNDR $true|$false] [-Confirm:$false]
  ... | Format-List [<property,wildcard,...>]     (alias fl)
  ... | Format-Table [<property,wildcard,...>]    (alias ft)
  Get-Command [[-Name] <name|wildcard>] [-Verb ..] [-Noun ..]   (alias gcm)
  Get-Help [[-Name] <cmdlet>] [-Detailed] [-Parameter <name>]    (alias help)

Examples:
  adminctl New-Mailbox -Name alice -PrimarySmtpAddress alice@example.test -Password 'S3cret!'
  adminctl 'Get-Mailbox alice | Format-List *Quota*'
  adminctl Set-Mailbox alice -ProhibitSendQuota 2GB
  adminctl 'Get-Mailbox | Set-CASMailbox -PopEnabled $false'
  adminctl 'Get-CASMailbox alice | Format-List Pop*'
  adminctl Remove-Mailbox alice '-Confirm:$false'
  adminctl 'Get-ImapSettings | Format-List'
  adminctl Set-PopSettings -LoginType SecureLogin -MaxConnectionsPerUser 20
  adminctl Get-Help Set-PopSettings -Parameter LoginType
  adminctl 'Get-Service POP3 -Server cas01 | Stop-Service'
  adminctl Set-ReceiveConnector 'Client Frontend' -MaxMessageSize 50MB
  adminctl Set-SendConnector -SmartHosts relay.example.net:587 -RequireTLS '$true'
  adminctl 'Get-Message -Queue "Mailbox Delivery" | Format-List'
)";
}

}  // namespace adminctl
