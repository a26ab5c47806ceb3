// LIST without a store round trip. The store's answers to ListFolders are kept here per
// mailbox, shared by every session of this process, until the mailbox's folder list changes:
// a folder created, deleted or renamed, or a subscription changed, as the change stream tells
// (casd's watcher calls Changed) or as a session of this process is about to do and has just
// done (it calls Changed before the store call and again before it answers the client). A
// change-stream resync forgets everything (Clear).
//
// An answer read while a change was made is never kept: Put stores only under the generation
// the reader saw before it asked (Generation), and every Changed moves it on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "store.pb.h"

namespace cas::imap {

// True for the events that change a mailbox's folder list.
bool ChangesFolderList(const mail::v1::ChangeEvent& e);

class FolderLists {
 public:
  // Keeps the answers of up to `max_mailboxes` mailboxes (least recently used go first),
  // each up to `max_answers_per_mailbox` different questions.
  explicit FolderLists(size_t max_mailboxes = 4096, size_t max_answers_per_mailbox = 8);
  FolderLists(const FolderLists&) = delete;
  FolderLists& operator=(const FolderLists&) = delete;

  // The key of one ListFolders question.
  static std::string Key(const mail::v1::ListFoldersRequest& req);

  uint64_t Generation(uint64_t mailbox_id);
  std::optional<mail::v1::ListFoldersResponse> Get(uint64_t mailbox_id, const std::string& key);
  // Keeps `answer` if the mailbox's generation is still `generation`.
  void Put(uint64_t mailbox_id, const std::string& key, uint64_t generation,
           const mail::v1::ListFoldersResponse& answer);
  void Changed(uint64_t mailbox_id);
  void Clear();

  size_t mailboxes() const;

 private:
  struct Entry {
    uint64_t generation = 0;
    std::map<std::string, mail::v1::ListFoldersResponse> answers;
    std::list<uint64_t>::iterator lru;
  };
  Entry& Touch(uint64_t mailbox_id);  // Needs mu_.

  const size_t max_mailboxes_;
  const size_t max_answers_;
  mutable std::mutex mu_;
  // Generations only grow, also across Clear and eviction: a reader that saw generation g of
  // an evicted mailbox cannot store under it again.
  uint64_t next_generation_ = 1;
  std::unordered_map<uint64_t, Entry> entries_;
  std::list<uint64_t> lru_;  // Front: most recently used.
};

}  // namespace cas::imap
