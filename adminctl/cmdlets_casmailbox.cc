// Get-CASMailbox and Set-CASMailbox over mail.v1.Directory: the per-mailbox client-access
// settings (POP3 and IMAP4 on/off, SMTP client authentication, and how POP3 serves mail).
#include <string>
#include <string_view>
#include <vector>

#include "adminctl/client_access.h"
#include "adminctl/cmdlet.h"
#include "adminctl/mailbox_lookup.h"
#include "adminctl/parser/strings.h"

namespace adminctl {
namespace {

using mail::v1::Mailbox;
using parser::BoundCommand;
using parser::BoundValue;
using parser::ParamType;

// An enum value as typed and shown, and its mail.v1 number. The order is the order the
// binder accepts numbers in (-PopRetrievalAction 3), and matches the proto numbering.
template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};

constexpr EnumName<mail::v1::PopDownloadScope> kPopDownloadScopes[] = {
    {"AllMail", mail::v1::POP_DOWNLOAD_SCOPE_ALL_MAIL},
    {"FromNow", mail::v1::POP_DOWNLOAD_SCOPE_FROM_NOW},
};

constexpr EnumName<mail::v1::PopRetrievalAction> kPopRetrievalActions[] = {
    {"Keep", mail::v1::POP_RETRIEVAL_ACTION_KEEP},
    {"MarkRead", mail::v1::POP_RETRIEVAL_ACTION_MARK_READ},
    {"Archive", mail::v1::POP_RETRIEVAL_ACTION_ARCHIVE},
    {"Delete", mail::v1::POP_RETRIEVAL_ACTION_DELETE},
};

template <typename E, size_t N>
std::vector<std::string> EnumNames(const EnumName<E> (&table)[N]) {
  std::vector<std::string> names;
  for (const EnumName<E>& e : table) names.emplace_back(e.name);
  return names;
}

// The display name of `value`; the number when a newer server sends one we do not know.
template <typename E, size_t N>
std::string NameOf(const EnumName<E> (&table)[N], E value) {
  for (const EnumName<E>& e : table) {
    if (e.value == value) return std::string(e.name);
  }
  return std::to_string(static_cast<int>(value));
}

// -ProtocolSettings: one row per server, port and encryption the mailbox's user can set up in
// a mail client, as the providers' help pages list them.
const View& ProtocolSettingsView() {
  static const View* view = new View{
      View::Kind::kTable, {"Name", "Protocol", "Server", "Port", "Encryption", "UserName"}};
  return *view;
}

const View& CasMailboxView() {
  // Exchange's default columns for Get-CASMailbox.
  static const View* view = new View{
      View::Kind::kTable,
      {"Name", "ActiveSyncEnabled", "OWAEnabled", "PopEnabled", "ImapEnabled", "MapiEnabled"}};
  return *view;
}

// $null shows as an empty value, as PowerShell prints a null Nullable<bool>.
std::string FormatTristate(mail::v1::Tristate t) {
  switch (t) {
    case mail::v1::TRISTATE_TRUE:
      return FormatBool(true);
    case mail::v1::TRISTATE_FALSE:
      return FormatBool(false);
    default:
      return "";
  }
}

Record CasMailboxRecord(const Mailbox& m) {
  Record r;
  r.Add("Name", m.name());
  r.Add("Identity", m.name());  // What Set-CASMailbox binds to when this object is piped.
  r.Add("DisplayName", m.display_name());
  r.Add("PrimarySmtpAddress", m.primary_smtp_address());
  // We serve no ActiveSync, Outlook on the web or MAPI: shown as the disabled protocols they
  // are, so that scripts reading these properties see the truth.
  r.Add("ActiveSyncEnabled", FormatBool(false));
  r.Add("OWAEnabled", FormatBool(false));
  r.Add("MapiEnabled", FormatBool(false));
  r.Add("PopEnabled", FormatBool(m.pop_enabled()));
  // There are no per-mailbox overrides of the server's POP/IMAP settings (MIME format, read
  // receipts, iCal): the protocol defaults always apply.
  r.Add("PopUseProtocolDefaults", FormatBool(true));
  // The store keeps each message's exact CRLF size; LIST and RETR never estimate.
  r.Add("PopEnableExactRFC822Size", FormatBool(true));
  r.Add("PopDownloadScope", NameOf(kPopDownloadScopes, m.pop_download_scope()));
  r.Add("PopRetrievalAction", NameOf(kPopRetrievalActions, m.pop_retrieval_action()));
  r.Add("PopFolders",
        FormatMultiValue(std::vector<std::string>(m.pop_folders().begin(), m.pop_folders().end())));
  r.Add("PopEnabledSince", FormatDateTime(m.pop_enabled_since_unix()));
  r.Add("ImapEnabled", FormatBool(m.imap_enabled()));
  r.Add("ImapUseProtocolDefaults", FormatBool(true));
  r.Add("SmtpClientAuthenticationDisabled",
        FormatTristate(m.smtp_client_authentication_disabled()));
  return r;
}

// The servers `m`'s user may use: those offered, minus the protocols turned off for the
// mailbox (Set-CASMailbox, and SmtpClientAuthenticationDisabled falling back to the
// organisation's setting).
std::vector<common::ServerEndpoint> MailboxEndpoints(const Mailbox& m, const ClientAccess& access) {
  std::vector<common::ServerEndpoint> out;
  if (m.mailbox_disabled() || m.account_disabled()) return out;
  const common::ClientSettings& servers = access.servers;
  if (m.imap_enabled()) out.insert(out.end(), servers.imap4.begin(), servers.imap4.end());
  if (m.pop_enabled()) out.insert(out.end(), servers.pop3.begin(), servers.pop3.end());
  const bool smtp_off = m.smtp_client_authentication_disabled() == mail::v1::TRISTATE_TRUE ||
                        (m.smtp_client_authentication_disabled() == mail::v1::TRISTATE_UNSET &&
                         access.settings.transport().smtp_client_authentication_disabled());
  if (!smtp_off) out.insert(out.end(), servers.smtp.begin(), servers.smtp.end());
  return out;
}

// Exchange's {server:port:SSL, server:port:TLS} form of one protocol's endpoints.
std::string ConnectionSettings(const std::vector<common::ServerEndpoint>& endpoints,
                               common::ClientProtocol protocol, const std::string& host) {
  std::vector<std::string> items;
  for (const common::ServerEndpoint& e : endpoints) {
    if (e.protocol != protocol) continue;
    items.push_back(host + ":" + std::to_string(e.port) + ":" + ExchangeEncryption(e.security));
  }
  return FormatMultiValue(items);
}

// One row per endpoint of `m`. Each row also carries Exchange's six properties
// (ExternalImapSettings, ...) with the whole lists, for scripts written against Exchange;
// internal and external clients are told the same names.
void AddProtocolSettingsRows(const Mailbox& m, const ClientAccess& access, CmdletContext& context,
                             CmdletOutput* output) {
  const std::vector<common::ServerEndpoint> endpoints = MailboxEndpoints(m, access);
  const std::string& host = access.servers.host_name;
  if (endpoints.empty() || host.empty()) {
    Warn(context, "No mail client can be set up for '" + m.name() + "' now: " +
                      (m.mailbox_disabled() || m.account_disabled()
                           ? std::string("the mailbox is disabled.")
                           : "no server offers a protocol enabled for it (see Get-Service, "
                             "Get-CASMailbox and Get-ReceiveConnector)."));
    return;
  }
  const std::string imap = ConnectionSettings(endpoints, common::ClientProtocol::kImap4, host);
  const std::string pop = ConnectionSettings(endpoints, common::ClientProtocol::kPop3, host);
  const std::string smtp = ConnectionSettings(endpoints, common::ClientProtocol::kSmtp, host);
  for (const common::ServerEndpoint& e : endpoints) {
    Record r;
    r.Add("Name", m.name());
    r.Add("Identity", m.name());
    r.Add("Protocol", ProtocolName(e.protocol));
    r.Add("Server", host);
    r.Add("Port", std::to_string(e.port));
    r.Add("Encryption", ClientEncryption(e.security));
    // Every login accepts the name or any address; clients are set up with the address.
    r.Add("UserName", m.primary_smtp_address());
    r.Add("ExternalImapSettings", imap);
    r.Add("InternalImapSettings", imap);
    r.Add("ExternalPopSettings", pop);
    r.Add("InternalPopSettings", pop);
    r.Add("ExternalSmtpSettings", smtp);
    r.Add("InternalSmtpSettings", smtp);
    output->records.push_back(std::move(r));
  }
}

CmdletStatus GetCasMailbox(const BoundCommand& args, const std::vector<Record>&,
                           CmdletContext& context, CmdletOutput* output) {
  if (!args.GetSwitch("ProtocolSettings")) {
    return FindMailboxRecords(args, context, CasMailboxRecord, &output->records);
  }
  // -Filter still selects by the CAS mailbox properties.
  std::vector<Record> selected;
  std::vector<Mailbox> mailboxes;
  if (CmdletStatus s = FindMailboxRecords(args, context, CasMailboxRecord, &selected, &mailboxes);
      !s.ok()) {
    return s;
  }
  ClientAccess access;
  if (CmdletStatus s = GetClientAccess(context, &access); !s.ok()) return s;
  for (const Mailbox& m : mailboxes) AddProtocolSettingsRows(m, access, context, output);
  output->view = ProtocolSettingsView();
  return CmdletStatus::Ok();
}

// PowerShell's text for $null given to a System.Boolean parameter.
CmdletStatus NullBoolean(std::string_view parameter) {
  return CmdletStatus::Error("Cannot process argument transformation on parameter '" +
                             std::string(parameter) +
                             "'. Cannot convert value \"\" to type \"System.Boolean\". Boolean "
                             "parameters accept only Boolean values and numbers, such as $True, "
                             "$False, 1 or 0.");
}

// PowerShell's text for $null given to an enum parameter.
template <typename E, size_t N>
CmdletStatus NullEnum(std::string_view parameter, const EnumName<E> (&table)[N]) {
  std::string names;
  for (const EnumName<E>& e : table) names += (names.empty() ? "" : ",") + std::string(e.name);
  return CmdletStatus::Error("Cannot bind parameter '" + std::string(parameter) +
                             "'. Cannot convert null to type \"" + std::string(parameter) +
                             "\" due to enumeration values that are not valid. Specify one of "
                             "the following enumeration values and try again. The possible "
                             "enumeration values are \"" +
                             names + "\".");
}

// -PopFolders: the whole list; no empty list, empty names or repeats.
CmdletStatus ApplyPopFolders(const BoundValue& v, mail::v1::MailboxUpdate* update) {
  if (v.list.is_delta) {
    return CmdletStatus::Error(
        "-PopFolders takes the whole list of folders, for example -PopFolders Inbox,Junk; "
        "@{Add=...; Remove=...} is not supported.");
  }
  bool empty = v.is_null || v.list.values.empty();
  for (const std::string& folder : v.list.values) {
    if (folder.find_first_not_of(" \t") == std::string::npos) empty = true;
  }
  if (empty) {
    return CmdletStatus::Error(
        "Cannot validate argument on parameter 'PopFolders'. The argument is null, empty, or an "
        "element of the argument collection contains a null value. POP3 needs at least one "
        "folder, for example -PopFolders Inbox.");
  }
  update->set_has_pop_folders(true);
  for (size_t i = 0; i < v.list.values.size(); ++i) {
    const std::string& folder = v.list.values[i];
    for (size_t j = 0; j < i; ++j) {
      if (parser::EqualsIgnoreCase(v.list.values[j], folder)) {
        return CmdletStatus::Error("The folder '" + folder +
                                   "' is given more than once in -PopFolders.");
      }
    }
    update->add_pop_folders(folder);
  }
  return CmdletStatus::Ok();
}

CmdletStatus SetCasMailbox(const BoundCommand& args, const std::vector<Record>&,
                           CmdletContext& context, CmdletOutput* output) {
  const std::string identity = args.GetString("Identity").value_or("");
  mail::v1::MailboxUpdate update;
  bool any = false;

  struct BoolField {
    std::string_view name;
    void (mail::v1::MailboxUpdate::*set)(bool);
  };
  for (const BoolField& f : {
           BoolField{"PopEnabled", &mail::v1::MailboxUpdate::set_pop_enabled},
           BoolField{"ImapEnabled", &mail::v1::MailboxUpdate::set_imap_enabled},
       }) {
    const BoundValue* v = args.Find(f.name);
    if (v == nullptr) continue;
    if (v->is_null) return NullBoolean(f.name);
    (update.*f.set)(v->boolean);
    any = true;
  }
  // Tri-state: $null (unset) follows the server's setting.
  if (const BoundValue* v = args.Find("SmtpClientAuthenticationDisabled")) {
    update.set_smtp_client_authentication_disabled(
        v->is_null ? mail::v1::TRISTATE_UNSET
                   : (v->boolean ? mail::v1::TRISTATE_TRUE : mail::v1::TRISTATE_FALSE));
    any = true;
  }
  if (const BoundValue* v = args.Find("PopDownloadScope")) {
    if (v->is_null) return NullEnum("PopDownloadScope", kPopDownloadScopes);
    update.set_pop_download_scope(kPopDownloadScopes[static_cast<size_t>(v->integer)].value);
    any = true;
  }
  if (const BoundValue* v = args.Find("PopRetrievalAction")) {
    if (v->is_null) return NullEnum("PopRetrievalAction", kPopRetrievalActions);
    update.set_pop_retrieval_action(kPopRetrievalActions[static_cast<size_t>(v->integer)].value);
    any = true;
  }
  if (const BoundValue* v = args.Find("PopFolders")) {
    if (CmdletStatus s = ApplyPopFolders(*v, &update); !s.ok()) return s;
    any = true;
  }

  if (!any) return WarnNothingModified(context, identity);
  if (args.GetSwitch("WhatIf")) {
    // The mailbox must exist; nothing is changed.
    mail::v1::MailboxIdentity request;
    request.set_identity(identity);
    mail::v1::GetMailboxResponse response;
    auto client = NewClientContext(context);
    grpc::Status status = context.directory->GetMailbox(client.get(), request, &response);
    if (!status.ok()) return StatusFromGrpc(status, identity, context);
    output->text += "What if: Setting CAS mailbox \"" + response.mailbox().name() + "\".\n";
    return CmdletStatus::Ok();
  }
  return SendMailboxUpdate(context, identity, std::move(update));
}

}  // namespace

void RegisterCasMailboxCmdlets(CmdletRegistry* registry) {
  registry->Add(Cmdlet{
      .schema = {"Get-CASMailbox",
                 {
                     {.name = "Identity", .position = 0, .from_pipeline = true},
                     {.name = "ResultSize",
                      .type = ParamType::kInt,
                      .allow_unlimited = true,
                      .type_name = "Microsoft.Exchange.Data.Unlimited`1[System.UInt32]"},
                     {.name = "ProtocolSettings", .type = ParamType::kSwitch},
                     {.name = "Filter"},
                 }},
      .handler = GetCasMailbox,
      .default_view = CasMailboxView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Set-CASMailbox",
                 {
                     {.name = "Identity", .mandatory = true, .position = 0, .from_pipeline = true},
                     {.name = "PopEnabled", .type = ParamType::kBool},
                     {.name = "ImapEnabled", .type = ParamType::kBool},
                     {.name = "SmtpClientAuthenticationDisabled", .type = ParamType::kBool},
                     {.name = "PopDownloadScope",
                      .type = ParamType::kEnum,
                      .enum_values = EnumNames(kPopDownloadScopes)},
                     {.name = "PopRetrievalAction",
                      .type = ParamType::kEnum,
                      .enum_values = EnumNames(kPopRetrievalActions)},
                     {.name = "PopFolders", .type = ParamType::kStringList},
                     {.name = "WhatIf", .type = ParamType::kSwitch},
                 }},
      .handler = SetCasMailbox,
      .default_view = CasMailboxView(),
  });
}

}  // namespace adminctl
