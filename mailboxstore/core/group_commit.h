// Group commit: every write to the database goes through one GroupCommitter. Writers queue
// their operations; one of them (the leader) merges everything queued into one WriteBatch,
// writes it with one WAL sync, publishes the change events in order, and wakes the others.
// So concurrent synced writes share fsyncs, and batches become visible (and their events are
// published) in exactly the order they were queued.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "common/status.h"
#include "store.pb.h"

namespace mailboxstore {

struct WriteOp {
  enum class Kind { kPut, kDelete, kMerge, kDeleteRange };
  Kind kind;
  rocksdb::ColumnFamilyHandle* cf;
  std::string key;
  std::string value;  // For kDeleteRange: the end key (exclusive).
};

class PendingWrite {
 public:
  void Put(rocksdb::ColumnFamilyHandle* cf, std::string key, std::string value) {
    ops_.push_back({WriteOp::Kind::kPut, cf, std::move(key), std::move(value)});
  }
  void Delete(rocksdb::ColumnFamilyHandle* cf, std::string key) {
    ops_.push_back({WriteOp::Kind::kDelete, cf, std::move(key), {}});
  }
  void Merge(rocksdb::ColumnFamilyHandle* cf, std::string key, std::string value) {
    ops_.push_back({WriteOp::Kind::kMerge, cf, std::move(key), std::move(value)});
  }
  void DeleteRange(rocksdb::ColumnFamilyHandle* cf, std::string begin, std::string end) {
    ops_.push_back({WriteOp::Kind::kDeleteRange, cf, std::move(begin), std::move(end)});
  }
  void AddEvent(mail::v1::ChangeEvent event) { events_.push_back(std::move(event)); }
  bool empty() const { return ops_.empty(); }

  // A write whose operations are decided by the leader itself, after every earlier write is
  // durable and before any later one is applied (used to free unreferenced bodies).
  void SetLeaderCallback(std::function<void(rocksdb::DB*, PendingWrite*)> cb) {
    leader_callback_ = std::move(cb);
  }

  // The cache generation the writer's view was built on (see GroupCommitter::generation).
  uint64_t generation = 0;

 private:
  friend class GroupCommitter;
  std::vector<WriteOp> ops_;
  std::vector<mail::v1::ChangeEvent> events_;
  std::function<void(rocksdb::DB*, PendingWrite*)> leader_callback_;
  common::Status status_;
  bool done_ = false;
};

class GroupCommitter {
 public:
  using Publisher = std::function<void(const std::vector<mail::v1::ChangeEvent>&)>;

  GroupCommitter(rocksdb::DB* db, bool sync, Publisher publisher)
      : db_(db), sync_(sync), publisher_(std::move(publisher)) {}

  // Queues `w` and returns once it is durable (or failed). Thread-safe.
  common::Status Commit(PendingWrite* w) {
    common::Status s = Enqueue(w);
    if (!s.ok()) return s;
    return Wait(w);
  }
  // Fixes the position of `w` in the commit order (call it while holding the locks that
  // decided the write's content) ...
  common::Status Enqueue(PendingWrite* w);
  // ... then waits, without those locks, until it is durable or failed.
  common::Status Wait(PendingWrite* w);

  // Bumped after a failed write: in-memory counters built before it may be ahead of the
  // database and must be reloaded. A write built on an older generation is refused (kAborted).
  uint64_t generation() const;

  // Statistics for benchmarks: number of WAL writes and of writers they carried.
  uint64_t groups_written() const;
  uint64_t writes_committed() const;

 private:
  // After a write failed for lack of disk space RocksDB refuses every write until resumed;
  // the leader asks it to resume (at most once a second) before the next write, so that the
  // store takes writes again as soon as space returns, without a restart. Leader only.
  void ResumeAfterNoSpace();

  rocksdb::DB* db_;
  bool sync_;
  Publisher publisher_;
  std::atomic<bool> no_space_{false};
  std::chrono::steady_clock::time_point last_resume_{};
  std::string last_resume_error_;  // Logged once while it stays the same.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PendingWrite*> queue_;
  bool leader_active_ = false;
  uint64_t generation_ = 1;
  uint64_t groups_written_ = 0;
  uint64_t writes_committed_ = 0;
};

}  // namespace mailboxstore
