#include "mailboxstore/core/group_commit.h"

#include "common/logging.h"
#include "common/storage_status.h"

namespace mailboxstore {
namespace {

void Apply(const WriteOp& op, rocksdb::WriteBatch* batch) {
  switch (op.kind) {
    case WriteOp::Kind::kPut:
      batch->Put(op.cf, op.key, op.value);
      break;
    case WriteOp::Kind::kDelete:
      batch->Delete(op.cf, op.key);
      break;
    case WriteOp::Kind::kMerge:
      batch->Merge(op.cf, op.key, op.value);
      break;
    case WriteOp::Kind::kDeleteRange:
      batch->DeleteRange(op.cf, op.key, op.value);
      break;
  }
}

// ENOSPC, as RocksDB reports it for the failing write and for every write after it.
bool IsNoSpace(const rocksdb::Status& s) {
  return s.IsNoSpace() ||
         (s.IsIOError() && s.ToString().find("No space left") != std::string::npos);
}

}  // namespace

void GroupCommitter::ResumeAfterNoSpace() {
  auto now = std::chrono::steady_clock::now();
  if (now - last_resume_ < std::chrono::seconds(1)) return;
  last_resume_ = now;
  rocksdb::Status s = db_->Resume();
  if (s.ok()) {
    no_space_ = false;
    last_resume_error_.clear();
    MAIL_LOG(kInfo, "store") << "database writable again after running out of disk space";
  } else if (s.ToString() != last_resume_error_) {
    last_resume_error_ = s.ToString();
    MAIL_LOG(kWarning, "store") << "database still read-only: " << last_resume_error_;
  }
}

uint64_t GroupCommitter::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

uint64_t GroupCommitter::groups_written() const {
  std::lock_guard<std::mutex> lock(mu_);
  return groups_written_;
}

uint64_t GroupCommitter::writes_committed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writes_committed_;
}

common::Status GroupCommitter::Enqueue(PendingWrite* w) {
  std::lock_guard<std::mutex> lock(mu_);
  if (w->generation != 0 && w->generation != generation_) {
    if (no_space_) return common::InsufficientStorageError("an earlier write failed");
    return common::AbortedError("store state changed after a failed write; retry");
  }
  w->done_ = false;
  queue_.push_back(w);
  return common::Status::Ok();
}

common::Status GroupCommitter::Wait(PendingWrite* w) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!w->done_) {
    if (leader_active_) {
      cv_.wait(lock);
      continue;
    }
    // Lead one group: everything queued up to the first leader callback (which must run
    // alone, against a database holding every earlier write).
    leader_active_ = true;
    std::vector<PendingWrite*> group;
    if (queue_.front()->leader_callback_) {
      group.push_back(queue_.front());
      queue_.pop_front();
    } else {
      while (!queue_.empty() && !queue_.front()->leader_callback_) {
        group.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    lock.unlock();

    if (group.size() == 1 && group[0]->leader_callback_) {
      group[0]->leader_callback_(db_, group[0]);
    }
    rocksdb::WriteBatch batch;
    for (PendingWrite* p : group) {
      for (const WriteOp& op : p->ops_) Apply(op, &batch);
    }
    rocksdb::Status s;
    if (no_space_ && batch.Count() > 0) ResumeAfterNoSpace();
    if (batch.Count() > 0) {
      rocksdb::WriteOptions options;
      options.sync = sync_;
      s = db_->Write(options, &batch);
    }
    if (s.ok() && publisher_) {
      std::vector<mail::v1::ChangeEvent> events;
      for (PendingWrite* p : group) {
        for (auto& e : p->events_) events.push_back(std::move(e));
      }
      if (!events.empty()) publisher_(events);
    }

    lock.lock();
    common::Status result;
    if (!s.ok()) {
      MAIL_LOG(kError, "store") << "database write failed: " << s.ToString();
      if (IsNoSpace(s)) {
        no_space_ = true;
        result = common::InsufficientStorageError("database write failed: " + s.ToString());
      } else {
        result = common::UnavailableError("database write failed: " + s.ToString());
      }
      ++generation_;
      // Everything queued behind the failed group was computed assuming it succeeded.
      for (PendingWrite* p : queue_) {
        // Out of space, they would fail alike: say why rather than "retry".
        p->status_ = no_space_ ? common::InsufficientStorageError("an earlier write failed")
                               : common::AbortedError("an earlier write failed; retry");
        p->done_ = true;
      }
      queue_.clear();
    } else {
      ++groups_written_;
      writes_committed_ += group.size();
    }
    for (PendingWrite* p : group) {
      p->status_ = result;
      p->done_ = true;
    }
    leader_active_ = false;
    cv_.notify_all();
  }
  return w->status_;
}

}  // namespace mailboxstore
