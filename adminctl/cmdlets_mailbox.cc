// New-Mailbox, Get-Mailbox, Set-Mailbox and Remove-Mailbox over mail.v1.Directory.
#include <string>
#include <vector>

#include "adminctl/cmdlet.h"
#include "adminctl/mailbox_lookup.h"
#include "adminctl/parser/strings.h"

namespace adminctl {
namespace {

using mail::v1::Mailbox;
using parser::BoundCommand;
using parser::BoundValue;
using parser::ParamType;

const View& MailboxView() {
  static const View* view =
      new View{View::Kind::kTable, {"Name", "Alias", "ServerName", "ProhibitSendQuota"}};
  return *view;
}

Record MailboxRecord(const Mailbox& m, const CmdletContext& context) {
  std::vector<std::string> addresses;
  if (!m.primary_smtp_address().empty()) addresses.push_back("SMTP:" + m.primary_smtp_address());
  for (const std::string& a : m.email_addresses()) {
    if (a != m.primary_smtp_address()) addresses.push_back("smtp:" + a);
  }
  Record r;
  r.Add("Name", m.name());
  r.Add("Alias", m.name());
  r.Add("DisplayName", m.display_name());
  r.Add("Identity", m.name());
  r.Add("Guid", m.guid());
  r.Add("RecipientTypeDetails", "UserMailbox");
  r.Add("PrimarySmtpAddress", m.primary_smtp_address());
  r.Add("EmailAddresses", FormatMultiValue(addresses));
  r.Add("ServerName", context.server_name);
  r.Add("AccountDisabled", FormatBool(m.account_disabled()));
  // False after Disable-Mailbox: no login and no mail accepted, the data kept.
  r.Add("IsMailboxEnabled", FormatBool(!m.mailbox_disabled()));
  r.Add("WhenCreated", FormatDateTime(m.created_unix()));
  r.Add("IssueWarningQuota", FormatQuota(m.quota().issue_warning_quota()));
  r.Add("ProhibitSendQuota", FormatQuota(m.quota().prohibit_send_quota()));
  r.Add("ProhibitSendReceiveQuota", FormatQuota(m.quota().prohibit_send_receive_quota()));
  r.Add("TotalItemSize", FormatByteQuantity(m.total_size()));
  r.Add("ItemCount", std::to_string(m.total_messages()));
  r.Add("LastLogonTime", FormatDateTime(m.last_logon_unix()));
  return r;
}

// The password from -Password, the ConvertTo-SecureString form, or a no-echo prompt when the
// value was left out and a person is at the terminal. `*given` is false when the parameter
// is absent (and not mandatory). The password is never printed or put in a message.
CmdletStatus ResolvePassword(const BoundCommand& args, CmdletContext& context,
                             std::string* password, bool* given) {
  *given = false;
  const BoundValue* v = args.Find("Password");
  if (v == nullptr) return CmdletStatus::Ok();
  *given = true;
  if (!v->value_omitted) {
    if (v->is_null || v->text.empty()) {
      return CmdletStatus::Error(
          "Cannot bind argument to parameter 'Password' because it is an empty string.");
    }
    *password = v->text;
    return CmdletStatus::Ok();
  }
  if (context.terminal == nullptr || !context.terminal->IsInteractive()) {
    return CmdletStatus::Error(
        "A value for parameter 'Password' is required, and standard input is not a terminal, "
        "so adminctl cannot prompt for it. Give -Password '<password>'.");
  }
  std::optional<std::string> first = context.terminal->ReadSecret("Password: ");
  if (!first || first->empty()) return CmdletStatus::Error("No password was entered.");
  std::optional<std::string> second = context.terminal->ReadSecret("Confirm password: ");
  if (!second || *second != *first) return CmdletStatus::Error("The passwords do not match.");
  *password = std::move(*first);
  return CmdletStatus::Ok();
}

// "SMTP:a@x" names the primary address (as in Exchange), "smtp:a@x" or "a@x" a secondary one.
struct ProxyAddress {
  std::string address;
  bool primary = false;
};

CmdletStatus ParseProxyAddress(const std::string& text, ProxyAddress* out) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos) {
    *out = {text, false};
    return CmdletStatus::Ok();
  }
  const std::string_view prefix = std::string_view(text).substr(0, colon);
  if (!parser::EqualsIgnoreCase(prefix, "smtp")) {
    return CmdletStatus::Error("Only SMTP addresses are supported; '" + text +
                               "' has the prefix '" + std::string(prefix) + ":'.");
  }
  *out = {text.substr(colon + 1), prefix == "SMTP"};
  return CmdletStatus::Ok();
}

// -EmailAddresses into the update: a replacement list or @{Add=...; Remove=...}.
CmdletStatus ApplyEmailAddresses(const parser::MultiValue& value, mail::v1::MailboxUpdate* update,
                                 bool primary_given) {
  std::string primary;
  auto take = [&](const std::vector<std::string>& items, bool allow_primary,
                  google::protobuf::RepeatedPtrField<std::string>* target) -> CmdletStatus {
    for (const std::string& item : items) {
      ProxyAddress a;
      if (CmdletStatus s = ParseProxyAddress(item, &a); !s.ok()) return s;
      if (a.address.empty()) return CmdletStatus::Error("An empty email address was given.");
      if (a.primary && allow_primary) {
        if (!primary.empty()) {
          return CmdletStatus::Error(
              "Only one address can be primary (written with the upper-case SMTP: prefix).");
        }
        primary = a.address;
        continue;
      }
      target->Add(std::move(a.address));
    }
    return CmdletStatus::Ok();
  };
  if (value.is_delta) {
    if (CmdletStatus s = take(value.add, true, update->mutable_add_email_addresses()); !s.ok()) {
      return s;
    }
    if (CmdletStatus s = take(value.remove, false, update->mutable_remove_email_addresses());
        !s.ok()) {
      return s;
    }
  } else {
    update->set_has_email_addresses(true);
    if (CmdletStatus s = take(value.values, true, update->mutable_email_addresses()); !s.ok()) {
      return s;
    }
  }
  if (!primary.empty()) {
    if (primary_given) {
      return CmdletStatus::Error(
          "Give the primary address either with -PrimarySmtpAddress or as SMTP:<address> in "
          "-EmailAddresses, not both.");
    }
    update->set_primary_smtp_address(primary);
  }
  return CmdletStatus::Ok();
}

// A quota parameter into bytes for the wire (0 = Unlimited). `*set` is false when absent.
CmdletStatus QuotaBytes(const BoundCommand& args, const char* name, uint64_t* bytes, bool* set) {
  *set = false;
  std::optional<parser::SizeValue> size = args.GetSize(name);
  if (!size) return CmdletStatus::Ok();
  if (!size->unlimited && size->bytes == 0) {
    return CmdletStatus::Error(std::string("The value of ") + name +
                               " must be larger than 0 bytes, or Unlimited.");
  }
  *set = true;
  *bytes = size->unlimited ? 0 : size->bytes;
  return CmdletStatus::Ok();
}

CmdletStatus GetMailbox(const BoundCommand& args, const std::vector<Record>&,
                        CmdletContext& context, CmdletOutput* output) {
  return FindMailboxRecords(
      args, context, [&](const Mailbox& m) { return MailboxRecord(m, context); }, &output->records);
}

CmdletStatus NewMailbox(const BoundCommand& args, const std::vector<Record>&,
                        CmdletContext& context, CmdletOutput* output) {
  const std::string name = args.GetString("Name").value_or("");
  mail::v1::CreateMailboxRequest request;
  request.set_name(name);
  request.set_display_name(args.GetString("DisplayName").value_or(name));

  std::optional<std::string> address = args.GetString("PrimarySmtpAddress");
  if (!address || address->empty()) {
    mail::v1::ListAcceptedDomainsResponse domains;
    auto client = NewClientContext(context);
    grpc::Status status = context.directory->ListAcceptedDomains(
        client.get(), mail::v1::ListAcceptedDomainsRequest(), &domains);
    if (!status.ok()) return StatusFromGrpc(status, name, context);
    for (const mail::v1::AcceptedDomain& d : domains.domains()) {
      if (d.is_default()) address = name + "@" + d.domain_name();
    }
    if (!address || address->empty()) {
      return CmdletStatus::Error(
          "No -PrimarySmtpAddress was given and there is no default accepted domain to build "
          "one from. Give -PrimarySmtpAddress " +
          name +
          "@<domain>, or make an accepted "
          "domain the default.");
    }
  }
  request.set_primary_smtp_address(*address);

  bool given = false;
  std::string password;
  if (CmdletStatus s = ResolvePassword(args, context, &password, &given); !s.ok()) return s;
  request.set_password(password);

  mail::v1::GetMailboxResponse response;
  auto client = NewClientContext(context);
  grpc::Status status = context.directory->CreateMailbox(client.get(), request, &response);
  if (!status.ok()) return StatusFromGrpc(status, name, context);
  output->records.push_back(MailboxRecord(response.mailbox(), context));
  return CmdletStatus::Ok();
}

CmdletStatus SetMailbox(const BoundCommand& args, const std::vector<Record>&,
                        CmdletContext& context, CmdletOutput*) {
  const std::string identity = args.GetString("Identity").value_or("");
  mail::v1::MailboxUpdate update;
  bool any = false;
  if (std::optional<std::string> v = args.GetString("Name")) {
    update.set_name(*v);
    any = true;
  }
  if (args.Has("DisplayName")) {
    update.set_display_name(args.GetString("DisplayName").value_or(""));
    any = true;
  }
  std::optional<std::string> primary = args.GetString("PrimarySmtpAddress");
  if (primary) {
    update.set_primary_smtp_address(*primary);
    any = true;
  }
  if (std::optional<parser::MultiValue> v = args.GetStringList("EmailAddresses")) {
    if (CmdletStatus s = ApplyEmailAddresses(*v, &update, primary.has_value()); !s.ok()) return s;
    any = true;
  }
  struct QuotaField {
    const char* name;
    void (mail::v1::MailboxUpdate::*set)(uint64_t);
  };
  for (const QuotaField& q : {
           QuotaField{"IssueWarningQuota", &mail::v1::MailboxUpdate::set_issue_warning_quota},
           QuotaField{"ProhibitSendQuota", &mail::v1::MailboxUpdate::set_prohibit_send_quota},
           QuotaField{"ProhibitSendReceiveQuota",
                      &mail::v1::MailboxUpdate::set_prohibit_send_receive_quota},
       }) {
    uint64_t bytes = 0;
    bool set = false;
    if (CmdletStatus s = QuotaBytes(args, q.name, &bytes, &set); !s.ok()) return s;
    if (set) {
      (update.*q.set)(bytes);
      any = true;
    }
  }
  if (std::optional<bool> v = args.GetBool("AccountDisabled")) {
    update.set_account_disabled(*v);
    any = true;
  }

  bool password_given = false;
  std::string password;
  if (CmdletStatus s = ResolvePassword(args, context, &password, &password_given); !s.ok()) {
    return s;
  }

  if (!any && !password_given) return WarnNothingModified(context, identity);
  // The password first: a rename in the update would change what `identity` names.
  if (password_given) {
    mail::v1::SetPasswordRequest request;
    request.set_identity(identity);
    request.set_password(password);
    mail::v1::GetMailboxResponse response;
    auto client = NewClientContext(context);
    grpc::Status status = context.directory->SetPassword(client.get(), request, &response);
    if (!status.ok()) return StatusFromGrpc(status, identity, context);
  }
  if (any) return SendMailboxUpdate(context, identity, std::move(update));
  return CmdletStatus::Ok();
}

CmdletStatus RemoveMailbox(const BoundCommand& args, const std::vector<Record>&,
                           CmdletContext& context, CmdletOutput*) {
  const std::string identity = args.GetString("Identity").value_or("");
  bool proceed = false;
  if (CmdletStatus s = ConfirmAction(
          args, context, "Removing mailbox \"" + identity + "\".",
          "Removing mailbox '" + identity +
              "' needs confirmation, but standard input is not a terminal, so adminctl cannot "
              "ask. Add -Confirm:$false to remove it without a prompt.",
          &proceed);
      !s.ok() || !proceed) {
    return s;
  }
  mail::v1::DeleteMailboxRequest request;
  request.set_identity(identity);
  mail::v1::DeleteMailboxResponse response;
  auto client = NewClientContext(context);
  grpc::Status status = context.directory->DeleteMailbox(client.get(), request, &response);
  if (!status.ok()) return StatusFromGrpc(status, identity, context);
  return CmdletStatus::Ok();
}

// Enable-Mailbox and Disable-Mailbox. Exchange's Disable-Mailbox disconnects the mailbox from
// its user; here there is no separate user object, so a disabled mailbox stays where it is,
// with its folders and messages, but nobody can log in to it on any protocol and mail to any
// of its addresses is refused at RCPT as for an unknown user. Enable-Mailbox undoes that.
CmdletStatus SetMailboxEnabled(const BoundCommand& args, CmdletContext& context,
                               CmdletOutput* output, bool enable) {
  const std::string identity = args.GetString("Identity").value_or("");
  if (args.GetSwitch("WhatIf")) {
    Mailbox m;
    if (CmdletStatus s = GetMailboxByIdentity(context, identity, &m); !s.ok()) return s;
    output->text += std::string("What if: ") + (enable ? "Enabling" : "Disabling") + " mailbox \"" +
                    m.name() + "\".\n";
    return CmdletStatus::Ok();
  }
  if (!enable) {
    bool proceed = false;
    if (CmdletStatus s = ConfirmAction(
            args, context,
            "Disabling mailbox \"" + identity +
                "\": it will refuse every login and all incoming mail until Enable-Mailbox; "
                "its messages are kept.",
            "Disabling mailbox '" + identity +
                "' needs confirmation, but standard input is not a terminal, so adminctl cannot "
                "ask. Add -Confirm:$false to disable it without a prompt.",
            &proceed);
        !s.ok() || !proceed) {
      return s;
    }
  }
  mail::v1::UpdateMailboxRequest request;
  request.set_identity(identity);
  request.mutable_update()->set_mailbox_disabled(!enable);
  mail::v1::GetMailboxResponse response;
  auto client = NewClientContext(context);
  grpc::Status status = context.directory->UpdateMailbox(client.get(), request, &response);
  if (!status.ok()) return StatusFromGrpc(status, identity, context);
  // Enable-Mailbox returns the mailbox, as in Exchange; Disable-Mailbox returns nothing.
  if (enable) output->records.push_back(MailboxRecord(response.mailbox(), context));
  return CmdletStatus::Ok();
}

CmdletStatus EnableMailbox(const BoundCommand& args, const std::vector<Record>&,
                           CmdletContext& context, CmdletOutput* output) {
  return SetMailboxEnabled(args, context, output, true);
}

CmdletStatus DisableMailbox(const BoundCommand& args, const std::vector<Record>&,
                            CmdletContext& context, CmdletOutput* output) {
  return SetMailboxEnabled(args, context, output, false);
}

}  // namespace

void RegisterMailboxCmdlets(CmdletRegistry* registry) {
  registry->Add(Cmdlet{
      .schema = {"New-Mailbox",
                 {
                     {.name = "Name", .mandatory = true, .position = 0},
                     {.name = "DisplayName"},
                     {.name = "PrimarySmtpAddress"},
                     {.name = "Password", .type = ParamType::kSecureString, .mandatory = true},
                 }},
      .handler = NewMailbox,
      .default_view = MailboxView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Get-Mailbox",
                 {
                     {.name = "Identity", .position = 0, .from_pipeline = true},
                     {.name = "ResultSize",
                      .type = ParamType::kInt,
                      .allow_unlimited = true,
                      .type_name = "Microsoft.Exchange.Data.Unlimited`1[System.UInt32]"},
                     {.name = "Filter"},
                 }},
      .handler = GetMailbox,
      .default_view = MailboxView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Set-Mailbox",
                 {
                     {.name = "Identity", .mandatory = true, .position = 0, .from_pipeline = true},
                     {.name = "Name"},
                     {.name = "DisplayName"},
                     {.name = "PrimarySmtpAddress"},
                     {.name = "EmailAddresses", .type = ParamType::kStringList},
                     {.name = "Password", .type = ParamType::kSecureString},
                     {.name = "IssueWarningQuota", .type = ParamType::kSize},
                     {.name = "ProhibitSendQuota", .type = ParamType::kSize},
                     {.name = "ProhibitSendReceiveQuota", .type = ParamType::kSize},
                     {.name = "AccountDisabled", .type = ParamType::kBool},
                 }},
      .handler = SetMailbox,
      .default_view = MailboxView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Remove-Mailbox",
                 {
                     {.name = "Identity", .mandatory = true, .position = 0, .from_pipeline = true},
                     {.name = "Confirm", .type = ParamType::kSwitch},
                 }},
      .handler = RemoveMailbox,
      .default_view = MailboxView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Enable-Mailbox",
                 {
                     {.name = "Identity", .mandatory = true, .position = 0, .from_pipeline = true},
                     {.name = "WhatIf", .type = ParamType::kSwitch},
                 }},
      .handler = EnableMailbox,
      .default_view = MailboxView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Disable-Mailbox",
                 {
                     {.name = "Identity", .mandatory = true, .position = 0, .from_pipeline = true},
                     {.name = "Confirm", .type = ParamType::kSwitch},
                     {.name = "WhatIf", .type = ParamType::kSwitch},
                 }},
      .handler = DisableMailbox,
      .default_view = MailboxView(),
  });
}

}  // namespace adminctl
