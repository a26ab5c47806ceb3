// Quick mailbox resynchronisation (RFC 7162 section 3.2): what a client that last saw a folder
// at some MODSEQ must be told, computed from the session's view of the folder and the UIDs the
// store's change log lists as expunged. Pure logic: no I/O, no store.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "cas/imap/codec/command.h"
#include "cas/imap/session/mailbox_view.h"

namespace cas::imap {

// The UIDs of EXPUNGE events in `changes` (a GetChanges reply) for folder `folder_id`,
// ascending and without duplicates.
std::vector<uint32_t> ExpungedUids(const mail::v1::GetChangesResponse& changes, uint32_t folder_id);

// The UIDs to report as vanished among `within` (ascending, merged ranges, as
// SequenceSet::Resolve returns them). `expunged` holds the UIDs the change log lists as
// expunged since the client's MODSEQ; std::nullopt when the log cannot tell, in which case
// every UID of `within` below UIDNEXT that is not in the folder is reported (RFC 7162 allows
// the server to be conservative). UIDs still in the view are never reported: their expunge,
// if any, is told later as a plain VANISHED.
std::vector<SeqRange> VanishedUids(const MailboxView& view, const std::vector<SeqRange>& within,
                                   const std::optional<std::vector<uint32_t>>& expunged);

// Replies to SELECT/EXAMINE (QRESYNC (...)) when the UIDVALIDITY matches.
struct QresyncReply {
  std::vector<SeqRange> vanished;                          // "* VANISHED (EARLIER) ..."
  std::vector<std::pair<uint32_t, MessageEntry>> changed;  // (seq, entry) for FETCH.
};

// Known UIDs (or all UIDs below UIDNEXT) restrict both lists. Without change-log data, the
// sequence match data narrows the VANISHED list: when the client's sequence number for a UID
// is still that UID's number, no message below it has gone.
QresyncReply ComputeQresync(const MailboxView& view, const QresyncParams& params,
                            const std::optional<std::vector<uint32_t>>& expunged);

}  // namespace cas::imap
