// The selected folder as one IMAP session sees it: the message sequence (UIDs, flags,
// MODSEQs) the client knows, plus changes from other sessions that are waiting to be told.
// RFC 3501 7.4.1: EXPUNGE responses may not be sent while a command that uses message sequence
// numbers (FETCH, STORE, SEARCH without UID) runs, so updates are taken at points where the
// session is allowed to send them. Pure logic: no I/O, no store.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store.pb.h"

namespace cas::imap {

struct MessageEntry {
  uint32_t uid = 0;
  std::vector<std::string> flags;
  uint64_t modseq = 0;
};
using MessageList = std::vector<MessageEntry>;  // Ascending UID.

class MailboxView {
 public:
  // Replaces the view with the folder's records (SELECT/EXAMINE).
  void Load(const mail::v1::Folder& folder, const mail::v1::FetchResponse& records);
  // The same from a message list made elsewhere (a shared snapshot brought up to date), in
  // ascending UID order, that shows every change up to `highest_modseq`. The list may be
  // shared with others (it must have been made as a non-const MessageList): the view copies
  // it the first time it changes, so a SELECT that changes nothing copies nothing.
  void Load(const mail::v1::Folder& folder, std::shared_ptr<const MessageList> messages,
            uint64_t highest_modseq);
  // The message list, for sharing (see Load).
  std::shared_ptr<const MessageList> shared_messages() const { return messages_; }

  uint32_t exists() const { return static_cast<uint32_t>(messages_->size()); }
  uint32_t uidvalidity() const { return uidvalidity_; }
  uint32_t uidnext() const { return uidnext_; }
  uint64_t highest_modseq() const { return highest_modseq_; }
  uint32_t folder_id() const { return folder_id_; }
  const MessageList& messages() const { return *messages_; }
  // 1-based sequence number of `uid`, or 0.
  uint32_t SeqOf(uint32_t uid) const;
  // Entry for a 1-based sequence number (must be valid).
  const MessageEntry& AtSeq(uint32_t seq) const { return (*messages_)[seq - 1]; }
  uint32_t UnseenFirstSeq() const;  // For [UNSEEN n]; 0 if none.
  uint32_t LargestUid() const { return messages_->empty() ? 0 : messages_->back().uid; }

  // Changes seen on the change stream (from this or other sessions). Idempotent: an event the
  // view already reflects (a UID it has, an older MODSEQ) changes nothing.
  void OnEvent(const mail::v1::ChangeEvent& event);
  // After the change stream was interrupted: compares the view with the folder's records as
  // they are now and queues whatever changed (appends, flag changes, expunges) as pending.
  void Reconcile(const mail::v1::FetchResponse& records);
  // The session's own changes, applied at once (their events arrive later and are ignored).
  void ApplyFlags(uint32_t uid, const std::vector<std::string>& flags, uint64_t modseq);
  // Removes UIDs at once (own EXPUNGE/MOVE); returns their sequence numbers in the order the
  // EXPUNGE responses must be sent (each computed after the previous removal).
  std::vector<uint32_t> RemoveNow(const std::vector<uint32_t>& uids);

  struct Updates {
    std::vector<uint32_t> expunged_seqs;  // As "* n EXPUNGE", in order.
    std::vector<uint32_t> vanished_uids;  // The same messages by UID (QRESYNC VANISHED).
    std::optional<uint32_t> exists;       // "* n EXISTS" when new messages arrived.
    std::vector<std::pair<uint32_t, MessageEntry>> flag_changes;  // (seq, entry) for FETCH.
  };
  // Everything pending. With allow_expunge false, expunges stay pending, and so do appends
  // while expunges are pending (they would be numbered after messages about to disappear).
  Updates TakeUpdates(bool allow_expunge);
  bool HasPendingUpdates() const;

 private:
  void AddPendingFlags(uint32_t uid, const std::vector<std::string>& flags, uint64_t modseq);

  uint32_t folder_id_ = 0;
  uint32_t uidvalidity_ = 0;
  uint32_t uidnext_ = 1;
  uint64_t highest_modseq_ = 0;
  // The list to change: this view's own (copied first while it is shared).
  MessageList& Mutable();

  // Ascending UID: index = seq - 1. Never null; possibly shared with a snapshot.
  std::shared_ptr<const MessageList> messages_ = std::make_shared<MessageList>();
  std::map<uint32_t, MessageEntry> pending_appends_;
  std::set<uint32_t> pending_expunges_;
  std::map<uint32_t, MessageEntry> pending_flags_;  // uid -> newest flags.
};

}  // namespace cas::imap
