// Add-RecipientPermission, Get-RecipientPermission and Remove-RecipientPermission over
// mail.v1.Directory: the Send As right, as Exchange Online names it. A mailbox may submit mail
// (SMTP MAIL FROM and From:) as the addresses in its send_as list as well as its own;
// Add-RecipientPermission -Identity helpdesk -Trustee bob puts helpdesk's primary SMTP address
// in bob's list.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "adminctl/cmdlet.h"
#include "adminctl/mailbox_lookup.h"
#include "adminctl/parser/strings.h"

namespace adminctl {
namespace {

using mail::v1::Mailbox;
using parser::BoundCommand;
using parser::ParamType;

constexpr char kSendAs[] = "SendAs";

const View& PermissionView() {
  // Exchange Online's default columns for Get-RecipientPermission.
  static const View* view =
      new View{View::Kind::kTable, {"Identity", "Trustee", "AccessControlType", "AccessRights"}};
  return *view;
}

// The trustee as Exchange Online shows it: its address (the user principal name there).
std::string TrusteeText(const Mailbox& m) {
  return m.primary_smtp_address().empty() ? m.name() : m.primary_smtp_address();
}

Record PermissionRecord(const std::string& identity, const std::string& trustee) {
  Record r;
  r.Add("Identity", identity);
  r.Add("Trustee", trustee);
  r.Add("AccessControlType", "Allow");
  r.Add("AccessRights", FormatMultiValue({kSendAs}));
  r.Add("IsInherited", FormatBool(false));
  r.Add("InheritanceType", "None");
  return r;
}

// Every address of `m`: the primary one first.
std::vector<std::string> AddressesOf(const Mailbox& m) {
  std::vector<std::string> out;
  if (!m.primary_smtp_address().empty()) out.push_back(m.primary_smtp_address());
  for (const std::string& a : m.email_addresses()) {
    if (!parser::EqualsIgnoreCase(a, m.primary_smtp_address())) out.push_back(a);
  }
  return out;
}

bool Contains(const google::protobuf::RepeatedPtrField<std::string>& list,
              const std::string& value) {
  for (const std::string& v : list) {
    if (parser::EqualsIgnoreCase(v, value)) return true;
  }
  return false;
}

CmdletStatus CheckAccessRights(const BoundCommand& args) {
  const parser::BoundValue* v = args.Find("AccessRights");
  if (v != nullptr && v->is_null) {
    return CmdletStatus::Error(
        "Cannot validate argument on parameter 'AccessRights'. The argument is null. Provide a "
        "valid value for the argument, and then try running the command again.");
  }
  return CmdletStatus::Ok();
}

// Add-RecipientPermission (`add`) or Remove-RecipientPermission.
CmdletStatus ChangeSendAs(const BoundCommand& args, CmdletContext& context, CmdletOutput* output,
                          bool add) {
  if (CmdletStatus s = CheckAccessRights(args); !s.ok()) return s;
  const std::string identity = args.GetString("Identity").value_or("");
  const std::string trustee_identity = args.GetString("Trustee").value_or("");
  Mailbox target;
  if (CmdletStatus s = GetMailboxByIdentity(context, identity, &target); !s.ok()) return s;
  Mailbox trustee;
  if (CmdletStatus s = GetMailboxByIdentity(context, trustee_identity, &trustee); !s.ok()) {
    return s;
  }
  if (target.primary_smtp_address().empty()) {
    return CmdletStatus::Error("The mailbox '" + target.name() +
                               "' has no primary SMTP address to send as.");
  }
  if (target.id() == trustee.id()) {
    Warn(context, "'" + trustee.name() + "' can always send as its own addresses; nothing was " +
                      (add ? "added." : "removed."));
    return CmdletStatus::Ok();
  }

  mail::v1::MailboxUpdate update;
  if (add) {
    if (Contains(trustee.send_as(), target.primary_smtp_address())) {
      Warn(context, "'" + trustee.name() + "' already has the SendAs permission on '" +
                        target.name() + "'.");
      output->records.push_back(PermissionRecord(target.name(), TrusteeText(trustee)));
      return CmdletStatus::Ok();
    }
    update.add_add_send_as(target.primary_smtp_address());
  } else {
    // Every address of the mailbox, so that a grant made before its primary address changed
    // goes too.
    for (const std::string& a : AddressesOf(target)) {
      if (Contains(trustee.send_as(), a)) update.add_remove_send_as(a);
    }
    if (update.remove_send_as().empty()) {
      Warn(context, "The recipient permission 'SendAs' for '" + trustee.name() +
                        "' on recipient '" + target.name() + "' doesn't exist.");
      return CmdletStatus::Ok();
    }
  }

  const std::string action = std::string(add ? "Adding" : "Removing") +
                             " recipient permission 'SendAs' for user '" + trustee.name() +
                             "' on recipient '" + target.name() + "'";
  bool proceed = false;
  if (CmdletStatus s = ConfirmAction(
          args, context, action + ".",
          action + " needs confirmation, but standard input is not a terminal, so "
                   "adminctl cannot ask. Add -Confirm:$false to do it without a prompt.",
          &proceed);
      !s.ok() || !proceed) {
    return s;
  }
  if (CmdletStatus s = SendMailboxUpdate(context, trustee.name(), std::move(update)); !s.ok()) {
    return s;
  }
  if (add) output->records.push_back(PermissionRecord(target.name(), TrusteeText(trustee)));
  return CmdletStatus::Ok();
}

CmdletStatus AddRecipientPermission(const BoundCommand& args, const std::vector<Record>&,
                                    CmdletContext& context, CmdletOutput* output) {
  return ChangeSendAs(args, context, output, /*add=*/true);
}

CmdletStatus RemoveRecipientPermission(const BoundCommand& args, const std::vector<Record>&,
                                       CmdletContext& context, CmdletOutput* output) {
  return ChangeSendAs(args, context, output, /*add=*/false);
}

CmdletStatus GetRecipientPermission(const BoundCommand& args, const std::vector<Record>&,
                                    CmdletContext& context, CmdletOutput* output) {
  if (CmdletStatus s = CheckAccessRights(args); !s.ok()) return s;
  const std::optional<std::string> identity = args.GetString("Identity");
  const std::optional<std::string> trustee_identity = args.GetString("Trustee");

  std::optional<Mailbox> target;
  if (identity) {
    target.emplace();
    if (CmdletStatus s = GetMailboxByIdentity(context, *identity, &*target); !s.ok()) return s;
  }
  std::vector<Mailbox> trustees;
  if (trustee_identity) {
    Mailbox m;
    if (CmdletStatus s = GetMailboxByIdentity(context, *trustee_identity, &m); !s.ok()) return s;
    trustees.push_back(std::move(m));
  } else {
    if (CmdletStatus s = ListAllMailboxes(context, &trustees); !s.ok()) return s;
  }

  // Who each address belongs to, for the Identity column: known from the listing, else asked.
  std::map<std::string, std::string> owner;  // Lower-case address -> mailbox name.
  auto learn = [&](const Mailbox& m) {
    for (const std::string& a : AddressesOf(m)) owner[parser::AsciiLower(a)] = m.name();
  };
  if (target) learn(*target);
  if (!trustee_identity) {
    for (const Mailbox& m : trustees) learn(m);
  }
  for (const Mailbox& t : trustees) {
    for (const std::string& address : t.send_as()) {
      const std::string key = parser::AsciiLower(address);
      auto it = owner.find(key);
      if (target && (it == owner.end() || it->second != target->name())) continue;
      if (it == owner.end()) {
        Mailbox m;
        CmdletStatus s = GetMailboxByIdentity(context, address, &m);
        // An address no mailbox has any more is shown as it is.
        owner[key] = s.ok() ? m.name() : address;
        it = owner.find(key);
      }
      output->records.push_back(PermissionRecord(it->second, TrusteeText(t)));
    }
  }
  return CmdletStatus::Ok();
}

parser::ParameterSpec AccessRightsSpec(bool mandatory) {
  return {.name = "AccessRights",
          .type = ParamType::kEnum,
          .mandatory = mandatory,
          .enum_values = {kSendAs},
          .type_name = "Microsoft.Exchange.Management.RecipientTasks.RecipientAccessRight"};
}

}  // namespace

void RegisterRecipientPermissionCmdlets(CmdletRegistry* registry) {
  registry->Add(Cmdlet{
      .schema = {"Add-RecipientPermission",
                 {
                     {.name = "Identity", .mandatory = true, .position = 0, .from_pipeline = true},
                     {.name = "Trustee", .mandatory = true},
                     AccessRightsSpec(/*mandatory=*/true),
                     {.name = "Confirm", .type = ParamType::kSwitch},
                 }},
      .handler = AddRecipientPermission,
      .default_view = PermissionView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Get-RecipientPermission",
                 {
                     {.name = "Identity", .position = 0, .from_pipeline = true},
                     {.name = "Trustee"},
                     AccessRightsSpec(/*mandatory=*/false),
                 }},
      .handler = GetRecipientPermission,
      .default_view = PermissionView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Remove-RecipientPermission",
                 {
                     {.name = "Identity", .mandatory = true, .position = 0, .from_pipeline = true},
                     {.name = "Trustee", .mandatory = true},
                     AccessRightsSpec(/*mandatory=*/true),
                     {.name = "Confirm", .type = ParamType::kSwitch},
                 }},
      .handler = RemoveRecipientPermission,
      .default_view = PermissionView(),
  });
}

}  // namespace adminctl
