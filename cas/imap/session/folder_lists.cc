#include "cas/imap/session/folder_lists.h"

namespace cas::imap {

bool ChangesFolderList(const mail::v1::ChangeEvent& e) {
  switch (e.kind()) {
    case mail::v1::CHANGE_KIND_FOLDER_CREATED:
    case mail::v1::CHANGE_KIND_FOLDER_DELETED:
    case mail::v1::CHANGE_KIND_FOLDER_RENAMED:
    case mail::v1::CHANGE_KIND_SUBSCRIPTION:
      return true;
    default:
      return false;
  }
}

FolderLists::FolderLists(size_t max_mailboxes, size_t max_answers_per_mailbox)
    : max_mailboxes_(max_mailboxes == 0 ? 1 : max_mailboxes),
      max_answers_(max_answers_per_mailbox == 0 ? 1 : max_answers_per_mailbox) {}

std::string FolderLists::Key(const mail::v1::ListFoldersRequest& req) {
  std::string key = req.reference();
  key += '\0';
  key += req.pattern();
  key += '\0';
  key += req.subscribed_only() ? 's' : 'a';
  return key;
}

FolderLists::Entry& FolderLists::Touch(uint64_t mailbox_id) {
  auto it = entries_.find(mailbox_id);
  if (it != entries_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return it->second;
  }
  if (entries_.size() >= max_mailboxes_) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(mailbox_id);
  Entry& e = entries_[mailbox_id];
  e.generation = next_generation_++;
  e.lru = lru_.begin();
  return e;
}

uint64_t FolderLists::Generation(uint64_t mailbox_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return Touch(mailbox_id).generation;
}

std::optional<mail::v1::ListFoldersResponse> FolderLists::Get(uint64_t mailbox_id,
                                                              const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(mailbox_id);
  if (it == entries_.end()) return std::nullopt;
  auto a = it->second.answers.find(key);
  if (a == it->second.answers.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return a->second;
}

void FolderLists::Put(uint64_t mailbox_id, const std::string& key, uint64_t generation,
                      const mail::v1::ListFoldersResponse& answer) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(mailbox_id);
  if (it == entries_.end() || it->second.generation != generation) return;
  if (it->second.answers.size() >= max_answers_ && !it->second.answers.count(key)) {
    it->second.answers.clear();
  }
  it->second.answers[key] = answer;
}

void FolderLists::Changed(uint64_t mailbox_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(mailbox_id);
  if (it == entries_.end()) return;
  it->second.generation = next_generation_++;
  it->second.answers.clear();
}

void FolderLists::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
  lru_.clear();
}

size_t FolderLists::mailboxes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace cas::imap
