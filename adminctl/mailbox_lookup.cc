#include "adminctl/mailbox_lookup.h"

#include <algorithm>

#include "adminctl/opath_filter.h"
#include "adminctl/parser/strings.h"

namespace adminctl {
namespace {

using mail::v1::Mailbox;

// Mailboxes asked for per ListMailboxes call.
constexpr uint32_t kListPageSize = 1000;

// ListMailboxes page by page. `want` 0 means all; `pattern` filters on name, address and
// display name when not empty.
CmdletStatus ListMailboxes(CmdletContext& context, size_t want, const std::string& pattern,
                           std::vector<Mailbox>* out) {
  std::string after;
  while (want == 0 || out->size() < want) {
    mail::v1::ListMailboxesRequest request;
    uint32_t page = kListPageSize;
    if (want != 0 && pattern.empty()) {
      page = static_cast<uint32_t>(std::min<size_t>(page, want - out->size()));
    }
    request.set_result_size(page);
    request.set_after_name(after);
    mail::v1::ListMailboxesResponse response;
    auto client = NewClientContext(context);
    grpc::Status status = context.directory->ListMailboxes(client.get(), request, &response);
    if (!status.ok()) return StatusFromGrpc(status, pattern, context);
    if (response.mailboxes_size() == 0) break;
    const std::string& last = response.mailboxes(response.mailboxes_size() - 1).name();
    if (!after.empty() && last <= after) {
      return CmdletStatus::Error("The mailbox store returned a page that does not advance past '" +
                                 after + "'.");
    }
    for (const Mailbox& m : response.mailboxes()) {
      if (!pattern.empty() && !parser::WildcardMatch(pattern, m.name()) &&
          !parser::WildcardMatch(pattern, m.primary_smtp_address()) &&
          !parser::WildcardMatch(pattern, m.display_name())) {
        continue;
      }
      out->push_back(m);
      if (want != 0 && out->size() >= want) break;
    }
    after = last;
  }
  return CmdletStatus::Ok();
}

}  // namespace

CmdletStatus ListAllMailboxes(CmdletContext& context, std::vector<Mailbox>* out) {
  return ListMailboxes(context, 0, "", out);
}

CmdletStatus GetMailboxByIdentity(CmdletContext& context, const std::string& identity,
                                  Mailbox* out) {
  mail::v1::MailboxIdentity request;
  request.set_identity(identity);
  mail::v1::GetMailboxResponse response;
  auto client = NewClientContext(context);
  grpc::Status status = context.directory->GetMailbox(client.get(), request, &response);
  if (!status.ok()) return StatusFromGrpc(status, identity, context);
  *out = std::move(*response.mutable_mailbox());
  return CmdletStatus::Ok();
}

namespace {

// How many objects -ResultSize asks for: 0 for Unlimited, kDefaultResultSize + 1 without it
// (one more, to know whether to warn).
CmdletStatus WantedResults(const parser::BoundCommand& args, size_t* want) {
  const parser::BoundValue* result_size = args.Find("ResultSize");
  *want = kDefaultResultSize + 1;
  if (result_size == nullptr) return CmdletStatus::Ok();
  if (result_size->unlimited) {
    *want = 0;
  } else if (result_size->is_null || result_size->integer <= 0) {
    return CmdletStatus::Error(
        "Cannot validate argument on parameter 'ResultSize'. Give a number larger than 0, or "
        "Unlimited.");
  } else {
    *want = static_cast<size_t>(result_size->integer);
  }
  return CmdletStatus::Ok();
}

// Cuts `items` at the default ResultSize with Exchange's warning when no -ResultSize was given.
template <typename T>
void CutAtDefault(const parser::BoundCommand& args, CmdletContext& context, std::vector<T>* items) {
  if (args.Find("ResultSize") == nullptr &&
      items->size() > static_cast<size_t>(kDefaultResultSize)) {
    items->resize(kDefaultResultSize);
    Warn(context,
         "By default, only the first 1000 items are returned. Use the ResultSize parameter to "
         "specify the number of items returned. To return all items, specify \"-ResultSize "
         "Unlimited\".");
  }
}

}  // namespace

CmdletStatus FindMailboxes(const parser::BoundCommand& args, CmdletContext& context,
                           std::vector<Mailbox>* out) {
  const std::optional<std::string> identity = args.GetString("Identity");
  if (identity && !parser::HasWildcard(*identity)) {
    Mailbox m;
    if (CmdletStatus s = GetMailboxByIdentity(context, *identity, &m); !s.ok()) return s;
    out->push_back(std::move(m));
    return CmdletStatus::Ok();
  }
  size_t want = 0;
  if (CmdletStatus s = WantedResults(args, &want); !s.ok()) return s;
  std::vector<Mailbox> mailboxes;
  if (CmdletStatus s = ListMailboxes(context, want, identity.value_or(""), &mailboxes); !s.ok()) {
    return s;
  }
  CutAtDefault(args, context, &mailboxes);
  for (Mailbox& m : mailboxes) out->push_back(std::move(m));
  return CmdletStatus::Ok();
}

CmdletStatus FindMailboxRecords(const parser::BoundCommand& args, CmdletContext& context,
                                const std::function<Record(const Mailbox&)>& to_record,
                                std::vector<Record>* out, std::vector<Mailbox>* found) {
  const std::optional<std::string> filter_text = args.GetString("Filter");
  if (!args.Has("Filter")) {
    std::vector<Mailbox> mailboxes;
    if (CmdletStatus s = FindMailboxes(args, context, &mailboxes); !s.ok()) return s;
    for (const Mailbox& m : mailboxes) out->push_back(to_record(m));
    if (found != nullptr) *found = std::move(mailboxes);
    return CmdletStatus::Ok();
  }
  // The filterable properties are the ones the cmdlet outputs.
  std::vector<std::string> names;
  const Record sample = to_record(Mailbox());
  for (const Property& p : sample.properties()) names.push_back(p.name);
  OpathFilter filter;
  std::string error;
  if (!filter.Parse(filter_text.value_or(""), names, &error)) return CmdletStatus::Error(error);
  size_t want = 0;
  if (CmdletStatus s = WantedResults(args, &want); !s.ok()) return s;

  std::vector<Mailbox> mailboxes;
  const std::optional<std::string> identity = args.GetString("Identity");
  if (identity && !parser::HasWildcard(*identity)) {
    Mailbox m;
    if (CmdletStatus s = GetMailboxByIdentity(context, *identity, &m); !s.ok()) return s;
    mailboxes.push_back(std::move(m));
  } else if (CmdletStatus s = ListMailboxes(context, 0, identity.value_or(""), &mailboxes);
             !s.ok()) {
    return s;
  }
  std::vector<Record> matched;
  std::vector<Mailbox> matched_mailboxes;
  for (Mailbox& m : mailboxes) {
    Record r = to_record(m);
    if (!filter.Matches(r)) continue;
    matched.push_back(std::move(r));
    matched_mailboxes.push_back(std::move(m));
    if (want != 0 && matched.size() >= want) break;
  }
  CutAtDefault(args, context, &matched);
  matched_mailboxes.resize(matched.size());
  for (Record& r : matched) out->push_back(std::move(r));
  if (found != nullptr) *found = std::move(matched_mailboxes);
  return CmdletStatus::Ok();
}

CmdletStatus WarnNothingModified(CmdletContext& context, const std::string& identity) {
  Mailbox m;
  if (CmdletStatus s = GetMailboxByIdentity(context, identity, &m); !s.ok()) return s;
  Warn(context, "The command completed successfully but no settings of '" + identity +
                    "' have been modified.");
  return CmdletStatus::Ok();
}

CmdletStatus SendMailboxUpdate(CmdletContext& context, const std::string& identity,
                               mail::v1::MailboxUpdate update) {
  mail::v1::UpdateMailboxRequest request;
  request.set_identity(identity);
  *request.mutable_update() = std::move(update);
  mail::v1::GetMailboxResponse response;
  auto client = NewClientContext(context);
  grpc::Status status = context.directory->UpdateMailbox(client.get(), request, &response);
  if (!status.ok()) return StatusFromGrpc(status, identity, context);
  return CmdletStatus::Ok();
}

}  // namespace adminctl
