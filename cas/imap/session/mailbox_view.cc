#include "cas/imap/session/mailbox_view.h"

#include <algorithm>
#include <map>

namespace cas::imap {

void MailboxView::Load(const mail::v1::Folder& folder, const mail::v1::FetchResponse& records) {
  auto messages = std::make_shared<MessageList>();
  messages->reserve(records.messages_size());
  for (const auto& r : records.messages()) {
    MessageEntry e;
    e.uid = r.uid();
    e.flags.assign(r.flags().begin(), r.flags().end());
    e.modseq = r.modseq();
    messages->push_back(std::move(e));
  }
  std::sort(messages->begin(), messages->end(),
            [](const MessageEntry& a, const MessageEntry& b) { return a.uid < b.uid; });
  Load(folder, std::move(messages), records.highest_modseq());
}

void MailboxView::Load(const mail::v1::Folder& folder,
                       std::shared_ptr<const MessageList> messages, uint64_t highest_modseq) {
  folder_id_ = folder.id();
  uidvalidity_ = folder.uidvalidity();
  uidnext_ = folder.uidnext();
  highest_modseq_ = std::max(folder.highest_modseq(), highest_modseq);
  messages_ = messages ? std::move(messages) : std::make_shared<MessageList>();
  if (!messages_->empty()) uidnext_ = std::max(uidnext_, messages_->back().uid + 1);
  pending_appends_.clear();
  pending_expunges_.clear();
  pending_flags_.clear();
}

MessageList& MailboxView::Mutable() {
  // Sole owner: nobody else can reach the list, so changing it in place is safe (every list
  // is made as a non-const MessageList). Otherwise this view takes its own copy.
  if (messages_.use_count() != 1) messages_ = std::make_shared<MessageList>(*messages_);
  return const_cast<MessageList&>(*messages_);
}

uint32_t MailboxView::SeqOf(uint32_t uid) const {
  const MessageList& messages = *messages_;
  auto it = std::lower_bound(messages.begin(), messages.end(), uid,
                             [](const MessageEntry& e, uint32_t u) { return e.uid < u; });
  if (it == messages.end() || it->uid != uid) return 0;
  return static_cast<uint32_t>(it - messages.begin()) + 1;
}

uint32_t MailboxView::UnseenFirstSeq() const {
  for (size_t i = 0; i < messages_->size(); ++i) {
    const auto& f = (*messages_)[i].flags;
    if (std::find(f.begin(), f.end(), "\\Seen") == f.end()) return static_cast<uint32_t>(i + 1);
  }
  return 0;
}

void MailboxView::OnEvent(const mail::v1::ChangeEvent& e) {
  if (e.folder_id() != folder_id_) return;
  highest_modseq_ = std::max(highest_modseq_, e.modseq());
  switch (e.kind()) {
    case mail::v1::CHANGE_KIND_APPEND:
      for (uint32_t uid : e.uids()) {
        if (uid < uidnext_ && (SeqOf(uid) != 0 || uid <= LargestUid())) continue;
        if (pending_expunges_.count(uid)) continue;
        MessageEntry m;
        m.uid = uid;
        m.flags.assign(e.flags().begin(), e.flags().end());
        m.modseq = e.modseq();
        pending_appends_.emplace(uid, std::move(m));
      }
      break;
    case mail::v1::CHANGE_KIND_FLAGS:
      for (uint32_t uid : e.uids()) {
        std::vector<std::string> flags(e.flags().begin(), e.flags().end());
        auto pa = pending_appends_.find(uid);
        if (pa != pending_appends_.end()) {
          if (e.modseq() > pa->second.modseq) {
            pa->second.flags = flags;
            pa->second.modseq = e.modseq();
          }
          continue;
        }
        AddPendingFlags(uid, flags, e.modseq());
      }
      break;
    case mail::v1::CHANGE_KIND_EXPUNGE:
      for (uint32_t uid : e.uids()) {
        pending_appends_.erase(uid);
        pending_flags_.erase(uid);
        if (SeqOf(uid) != 0) pending_expunges_.insert(uid);
      }
      break;
    default:
      break;
  }
}

void MailboxView::Reconcile(const mail::v1::FetchResponse& records) {
  std::map<uint32_t, const mail::v1::MessageRecord*> now;
  for (const auto& r : records.messages()) now[r.uid()] = &r;
  highest_modseq_ = std::max(highest_modseq_, records.highest_modseq());
  for (const auto& m : *messages_) {
    auto it = now.find(m.uid);
    if (it == now.end()) {
      pending_flags_.erase(m.uid);
      pending_expunges_.insert(m.uid);
    } else if (it->second->modseq() > m.modseq) {
      AddPendingFlags(m.uid, std::vector<std::string>(it->second->flags().begin(),
                                                      it->second->flags().end()),
                      it->second->modseq());
    }
  }
  for (const auto& [uid, r] : now) {
    if (uid <= LargestUid() || pending_appends_.count(uid)) continue;
    MessageEntry e;
    e.uid = uid;
    e.flags.assign(r->flags().begin(), r->flags().end());
    e.modseq = r->modseq();
    pending_appends_.emplace(uid, std::move(e));
  }
  for (auto it = pending_appends_.begin(); it != pending_appends_.end();) {
    it = now.count(it->first) ? std::next(it) : pending_appends_.erase(it);
  }
}

void MailboxView::AddPendingFlags(uint32_t uid, const std::vector<std::string>& flags,
                                  uint64_t modseq) {
  uint32_t seq = SeqOf(uid);
  if (seq == 0) return;
  if (modseq <= AtSeq(seq).modseq) return;  // Already reflected.
  auto& p = pending_flags_[uid];
  if (p.uid == 0 || modseq > p.modseq) {
    p.uid = uid;
    p.flags = flags;
    p.modseq = modseq;
  }
}

void MailboxView::ApplyFlags(uint32_t uid, const std::vector<std::string>& flags,
                             uint64_t modseq) {
  uint32_t seq = SeqOf(uid);
  if (seq == 0) return;
  if (modseq >= AtSeq(seq).modseq) {
    MessageEntry& m = Mutable()[seq - 1];
    m.flags = flags;
    m.modseq = modseq;
  }
  auto it = pending_flags_.find(uid);
  if (it != pending_flags_.end() && it->second.modseq <= modseq) pending_flags_.erase(it);
  highest_modseq_ = std::max(highest_modseq_, modseq);
}

std::vector<uint32_t> MailboxView::RemoveNow(const std::vector<uint32_t>& uids) {
  std::vector<uint32_t> sorted(uids);
  std::sort(sorted.begin(), sorted.end());
  std::vector<uint32_t> seqs;
  // Highest first would keep numbers stable, but RFC 3501 clients expect each EXPUNGE to be
  // computed after the previous one; sending in ascending UID order, each seq is the message's
  // position at that moment.
  for (uint32_t uid : sorted) {
    uint32_t seq = SeqOf(uid);
    if (seq == 0) continue;
    MessageList& messages = Mutable();
    messages.erase(messages.begin() + (seq - 1));
    seqs.push_back(seq);
    pending_expunges_.erase(uid);
    pending_flags_.erase(uid);
  }
  return seqs;
}

bool MailboxView::HasPendingUpdates() const {
  return !pending_appends_.empty() || !pending_expunges_.empty() || !pending_flags_.empty();
}

MailboxView::Updates MailboxView::TakeUpdates(bool allow_expunge) {
  Updates u;
  // Flag changes first, numbered in the current sequence (before expunges renumber).
  for (auto it = pending_flags_.begin(); it != pending_flags_.end();) {
    uint32_t seq = SeqOf(it->first);
    if (seq == 0) {
      it = pending_flags_.erase(it);
      continue;
    }
    if (!allow_expunge && pending_expunges_.count(it->first)) {
      ++it;
      continue;
    }
    MessageEntry& m = Mutable()[seq - 1];
    m.flags = it->second.flags;
    m.modseq = it->second.modseq;
    u.flag_changes.emplace_back(seq, m);
    it = pending_flags_.erase(it);
  }
  if (allow_expunge && !pending_expunges_.empty()) {
    std::vector<uint32_t> uids(pending_expunges_.begin(), pending_expunges_.end());
    u.expunged_seqs = RemoveNow(uids);
    u.vanished_uids = uids;
    pending_expunges_.clear();
  }
  // New messages are numbered after the expunges are told, never before.
  if (pending_expunges_.empty() && !pending_appends_.empty()) {
    for (auto& [uid, m] : pending_appends_) {
      if (uid > LargestUid()) {
        Mutable().push_back(m);
        uidnext_ = std::max(uidnext_, uid + 1);
      }
    }
    pending_appends_.clear();
    u.exists = exists();
  }
  return u;
}

}  // namespace cas::imap
