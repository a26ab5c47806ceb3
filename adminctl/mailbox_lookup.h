// Finding mailboxes for the cmdlets of every family: one by identity, or a name-ordered
// listing filtered by a wildcard and cut at -ResultSize, as Get-Mailbox and Get-CASMailbox do.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "adminctl/cmdlet.h"
#include "directory.pb.h"

namespace adminctl {

// The Get-* cmdlets return this many objects unless -ResultSize says otherwise (as Exchange).
inline constexpr int64_t kDefaultResultSize = 1000;

// The mailboxes the "Identity" and "ResultSize" parameters of `args` select: without
// Identity or with a wildcard (al*), the listing page by page, matched on name, address and
// display name, cut at ResultSize (default kDefaultResultSize, with Exchange's warning when
// that default cut the list); otherwise the one mailbox, and NotFound when there is none.
CmdletStatus FindMailboxes(const parser::BoundCommand& args, CmdletContext& context,
                           std::vector<mail::v1::Mailbox>* out);

// Get-Mailbox and Get-CASMailbox: the mailboxes FindMailboxes() selects as records made by
// `to_record`; with a "Filter" parameter (OPATH, see opath_filter.h) only those whose
// properties match, every mailbox being examined and ResultSize counting the matches.
// `mailboxes`, when given, receives the mailboxes of the records, in the same order.
CmdletStatus FindMailboxRecords(const parser::BoundCommand& args, CmdletContext& context,
                                const std::function<Record(const mail::v1::Mailbox&)>& to_record,
                                std::vector<Record>* out,
                                std::vector<mail::v1::Mailbox>* mailboxes = nullptr);

// Every mailbox, in name order, page by page (Get-RecipientPermission).
CmdletStatus ListAllMailboxes(CmdletContext& context, std::vector<mail::v1::Mailbox>* out);

// One mailbox by identity (name, any address, GUID or id).
CmdletStatus GetMailboxByIdentity(CmdletContext& context, const std::string& identity,
                                  mail::v1::Mailbox* out);

// What a Set-* cmdlet does when it was given nothing to change: the mailbox must exist, and
// PowerShell's "no settings ... have been modified" warning is printed.
CmdletStatus WarnNothingModified(CmdletContext& context, const std::string& identity);

// Sends one Directory.UpdateMailbox for `identity` (Set-Mailbox, Set-CASMailbox).
CmdletStatus SendMailboxUpdate(CmdletContext& context, const std::string& identity,
                               mail::v1::MailboxUpdate update);

}  // namespace adminctl
