// Get-AdminAuditLog: every change made over the admin API, newest first, as the store
// recorded it (who, when, cmdlet and parameters, object, old and new values).
#include <algorithm>
#include <cstdio>
#include <ctime>

#include "adminctl/cmdlet.h"
#include "adminctl/format.h"

namespace adminctl {

namespace {

using parser::BoundCommand;
using parser::ParamType;

// "2026-11-26" or "2026-11-26 09:30" (local time) -> unix seconds; false when unreadable.
bool ParseDate(const std::string& text, int64_t* out) {
  std::tm tm{};
  tm.tm_isdst = -1;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  int n = std::sscanf(text.c_str(), "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &sec);
  if (n < 3) n = std::sscanf(text.c_str(), "%d/%d/%d %d:%d:%d", &mo, &d, &y, &h, &mi, &sec);
  if (n < 3 || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31) return false;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  std::time_t t = std::mktime(&tm);
  if (t == -1) return false;
  *out = static_cast<int64_t>(t);
  return true;
}

Record EntryRecord(const mail::v1::AuditEntry& e) {
  Record r;
  r.Add("RunDate", FormatDateTime(e.time_unix()));
  r.Add("Caller", e.caller());
  r.Add("CmdletName", e.cmdlet());
  r.Add("ObjectModified", e.object());
  r.Add("CmdletParameters", e.parameters().empty() ? "" : e.parameters(0));
  r.Add("OldValue", e.old_value());
  r.Add("NewValue", e.new_value());
  r.Add("Succeeded", e.succeeded() ? "True" : "False");
  r.Add("Error", e.error());
  r.Add("Identity", std::to_string(e.id()));
  return r;
}

CmdletStatus GetAdminAuditLog(const BoundCommand& args, const std::vector<Record>&,
                              CmdletContext& context, CmdletOutput* output) {
  if (context.control == nullptr) return CmdletStatus::Error("No connection to the mailbox store.");
  mail::v1::GetAdminAuditLogRequest req;
  if (auto v = args.GetString("StartDate")) {
    int64_t t = 0;
    if (!ParseDate(*v, &t)) {
      return CmdletStatus::Error("Cannot bind parameter 'StartDate'. Cannot convert value \"" + *v +
                                 "\" to type \"System.DateTime\" (use 2026-11-26 or "
                                 "\"2026-11-26 09:30\").");
    }
    req.set_start_unix(t);
  }
  if (auto v = args.GetString("EndDate")) {
    int64_t t = 0;
    if (!ParseDate(*v, &t)) {
      return CmdletStatus::Error("Cannot bind parameter 'EndDate'. Cannot convert value \"" + *v +
                                 "\" to type \"System.DateTime\" (use 2026-11-26 or "
                                 "\"2026-11-26 09:30\").");
    }
    req.set_end_unix(t);
  }
  if (auto v = args.GetString("Cmdlets")) req.set_cmdlet(*v);
  if (auto v = args.GetString("ObjectIds")) req.set_object(*v);
  if (auto v = args.GetInt("ResultSize")) {
    if (*v < 1) return CmdletStatus::Error("ResultSize must be at least 1.");
    req.set_result_size(static_cast<uint32_t>(std::min<int64_t>(*v, 1000000)));
  }
  mail::v1::GetAdminAuditLogResponse resp;
  auto client = NewClientContext(context);
  grpc::Status status = context.control->GetAdminAuditLog(client.get(), req, &resp);
  if (!status.ok()) return StatusFromGrpc(status, "", context);
  for (const auto& e : resp.entries()) output->records.push_back(EntryRecord(e));
  return CmdletStatus::Ok();
}

}  // namespace

void RegisterAuditCmdlets(CmdletRegistry* registry) {
  registry->Add(Cmdlet{
      .schema = {"Get-AdminAuditLog",
                 {
                     {.name = "StartDate"},
                     {.name = "EndDate"},
                     {.name = "Cmdlets"},
                     {.name = "ObjectIds"},
                     {.name = "ResultSize", .type = ParamType::kInt, .allow_unlimited = true},
                 }},
      .handler = GetAdminAuditLog,
      .default_view = View{View::Kind::kList,
                           {"RunDate", "Caller", "CmdletName", "CmdletParameters",
                            "ObjectModified", "OldValue", "NewValue", "Succeeded", "Error"}},
  });
}

}  // namespace adminctl
