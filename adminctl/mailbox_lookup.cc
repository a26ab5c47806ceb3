#include "adminctl/mailbox_lookup.h"

#include <algorithm>

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

CmdletStatus FindMailboxes(const parser::BoundCommand& args, CmdletContext& context,
                           std::vector<Mailbox>* out) {
  const std::optional<std::string> identity = args.GetString("Identity");
  if (identity && !parser::HasWildcard(*identity)) {
    Mailbox m;
    if (CmdletStatus s = GetMailboxByIdentity(context, *identity, &m); !s.ok()) return s;
    out->push_back(std::move(m));
    return CmdletStatus::Ok();
  }

  const parser::BoundValue* result_size = args.Find("ResultSize");
  size_t want = kDefaultResultSize + 1;  // One more, to know whether to warn.
  if (result_size != nullptr) {
    if (result_size->unlimited) {
      want = 0;
    } else if (result_size->is_null || result_size->integer <= 0) {
      return CmdletStatus::Error(
          "Cannot validate argument on parameter 'ResultSize'. Give a number larger than 0, or "
          "Unlimited.");
    } else {
      want = static_cast<size_t>(result_size->integer);
    }
  }
  std::vector<Mailbox> mailboxes;
  if (CmdletStatus s = ListMailboxes(context, want, identity.value_or(""), &mailboxes); !s.ok()) {
    return s;
  }
  if (result_size == nullptr && mailboxes.size() > static_cast<size_t>(kDefaultResultSize)) {
    mailboxes.resize(kDefaultResultSize);
    Warn(context,
         "By default, only the first 1000 items are returned. Use the ResultSize parameter to "
         "specify the number of items returned. To return all items, specify \"-ResultSize "
         "Unlimited\".");
  }
  for (Mailbox& m : mailboxes) out->push_back(std::move(m));
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
