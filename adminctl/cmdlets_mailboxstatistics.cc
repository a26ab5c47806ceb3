// Get-MailboxStatistics and Get-MailboxFolderStatistics over Directory.GetMailboxStatistics:
// one call returns a mailbox and the counts of all of its folders.
#include <string>
#include <string_view>
#include <vector>

#include "adminctl/cmdlet.h"
#include "adminctl/parser/strings.h"

namespace adminctl {
namespace {

using mail::v1::FolderStatistics;
using mail::v1::MailboxStatisticsResponse;
using parser::BoundCommand;
using parser::ParamType;

const View& MailboxStatisticsView() {
  // Exchange's default columns.
  static const View* view = new View{
      View::Kind::kTable, {"DisplayName", "ItemCount", "StorageLimitStatus", "LastLogonTime"}};
  return *view;
}

const View& FolderStatisticsView() {
  static const View* view = new View{
      View::Kind::kTable, {"Name", "FolderPath", "FolderType", "ItemsInFolder", "FolderSize"}};
  return *view;
}

// Exchange's FolderType values, by IMAP special use (RFC 6154); the -FolderScope names.
constexpr std::string_view kFolderScopes[] = {"All",          "Inbox",     "SentItems", "Drafts",
                                              "DeletedItems", "JunkEmail", "Archive"};

std::string FolderType(const FolderStatistics& f) {
  if (f.name() == "INBOX") return "Inbox";
  if (f.special_use() == "\\Sent") return "SentItems";
  if (f.special_use() == "\\Drafts") return "Drafts";
  if (f.special_use() == "\\Trash") return "DeletedItems";
  if (f.special_use() == "\\Junk") return "JunkEmail";
  if (f.special_use() == "\\Archive") return "Archive";
  return "User Created";
}

// The store names the inbox "INBOX" (IMAP); Exchange shows it as "Inbox".
std::string DisplayPath(const std::string& name) {
  if (name == "INBOX") return "Inbox";
  if (name.starts_with("INBOX/")) return "Inbox" + name.substr(5);
  return name;
}

// What Exchange reports against the quotas: the first one the mailbox is over.
std::string StorageLimitStatus(const mail::v1::Mailbox& m) {
  const mail::v1::Quota& q = m.quota();
  if (q.issue_warning_quota() == 0 && q.prohibit_send_quota() == 0 &&
      q.prohibit_send_receive_quota() == 0) {
    return "NoChecking";
  }
  const uint64_t size = m.total_size();
  if (q.prohibit_send_receive_quota() != 0 && size >= q.prohibit_send_receive_quota()) {
    return "ProhibitSendReceive";
  }
  if (q.prohibit_send_quota() != 0 && size >= q.prohibit_send_quota()) return "ProhibitSend";
  if (q.issue_warning_quota() != 0 && size >= q.issue_warning_quota()) return "IssueWarning";
  return "BelowLimit";
}

CmdletStatus FetchStatistics(CmdletContext& context, const std::string& identity,
                             MailboxStatisticsResponse* out) {
  mail::v1::MailboxIdentity request;
  request.set_identity(identity);
  auto client = NewClientContext(context);
  grpc::Status status = context.directory->GetMailboxStatistics(client.get(), request, out);
  if (!status.ok()) return StatusFromGrpc(status, identity, context);
  return CmdletStatus::Ok();
}

CmdletStatus GetMailboxStatistics(const BoundCommand& args, const std::vector<Record>&,
                                  CmdletContext& context, CmdletOutput* output) {
  const std::string identity = args.GetString("Identity").value_or("");
  MailboxStatisticsResponse stats;
  if (CmdletStatus s = FetchStatistics(context, identity, &stats); !s.ok()) return s;
  const mail::v1::Mailbox& m = stats.mailbox();
  // Messages marked \Deleted and not expunged yet: the nearest thing to Exchange's
  // recoverable items that IMAP and POP3 clients leave behind.
  uint64_t deleted = 0;
  for (const FolderStatistics& f : stats.folders()) deleted += f.deleted();
  Record r;
  r.Add("DisplayName", m.display_name());
  r.Add("Identity", m.name());
  r.Add("MailboxGuid", m.guid());
  r.Add("ItemCount", std::to_string(m.total_messages()));
  r.Add("TotalItemSize", FormatByteQuantity(m.total_size()));
  r.Add("DeletedItemCount", std::to_string(deleted));
  r.Add("FolderCount", std::to_string(stats.folders_size()));
  r.Add("LastLogonTime", FormatDateTime(m.last_logon_unix()));
  r.Add("StorageLimitStatus", StorageLimitStatus(m));
  r.Add("IsMailboxEnabled", FormatBool(!m.mailbox_disabled()));
  r.Add("ServerName", context.server_name);
  output->records.push_back(std::move(r));
  return CmdletStatus::Ok();
}

CmdletStatus GetMailboxFolderStatistics(const BoundCommand& args, const std::vector<Record>&,
                                        CmdletContext& context, CmdletOutput* output) {
  const std::string identity = args.GetString("Identity").value_or("");
  const std::string scope = args.GetString("FolderScope").value_or("All");
  MailboxStatisticsResponse stats;
  if (CmdletStatus s = FetchStatistics(context, identity, &stats); !s.ok()) return s;
  const auto& folders = stats.folders();
  // A folder in scope, and every folder under one (Exchange includes the subfolders).
  auto in_scope = [&](const FolderStatistics& f) {
    if (parser::EqualsIgnoreCase(scope, "All")) return true;
    for (const FolderStatistics& g : folders) {
      if (!parser::EqualsIgnoreCase(FolderType(g), scope)) continue;
      if (g.name() == f.name() || f.name().starts_with(g.name() + "/")) return true;
    }
    return false;
  };
  for (const FolderStatistics& f : folders) {
    if (!in_scope(f)) continue;
    uint64_t items_below = f.messages(), size_below = f.size();
    for (const FolderStatistics& g : folders) {
      if (g.name().starts_with(f.name() + "/")) {
        items_below += g.messages();
        size_below += g.size();
      }
    }
    const std::string path = DisplayPath(f.name());
    Record r;
    r.Add("Name", path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1));
    r.Add("Identity", stats.mailbox().name() + "\\" + path);
    r.Add("FolderPath", "/" + path);
    r.Add("FolderType", FolderType(f));
    r.Add("SpecialUse", f.special_use());
    r.Add("ItemsInFolder", std::to_string(f.messages()));
    r.Add("UnreadItemsInFolder", std::to_string(f.unseen()));
    r.Add("DeletedItemsInFolder", std::to_string(f.deleted()));
    r.Add("FolderSize", FormatByteQuantity(f.size()));
    r.Add("ItemsInFolderAndSubfolders", std::to_string(items_below));
    r.Add("FolderAndSubfolderSize", FormatByteQuantity(size_below));
    r.Add("CreationTime", FormatDateTime(f.created_unix()));
    output->records.push_back(std::move(r));
  }
  return CmdletStatus::Ok();
}

}  // namespace

void RegisterMailboxStatisticsCmdlets(CmdletRegistry* registry) {
  registry->Add(Cmdlet{
      .schema = {"Get-MailboxStatistics",
                 {
                     {.name = "Identity", .mandatory = true, .position = 0, .from_pipeline = true},
                 }},
      .handler = GetMailboxStatistics,
      .default_view = MailboxStatisticsView(),
  });
  std::vector<std::string> scopes(std::begin(kFolderScopes), std::end(kFolderScopes));
  registry->Add(Cmdlet{
      .schema = {"Get-MailboxFolderStatistics",
                 {
                     {.name = "Identity", .mandatory = true, .position = 0, .from_pipeline = true},
                     {.name = "FolderScope", .type = ParamType::kEnum, .enum_values = scopes},
                 }},
      .handler = GetMailboxFolderStatistics,
      .default_view = FolderStatisticsView(),
  });
}

}  // namespace adminctl
