#include "mailboxstore/core/group_commit.h"

#include "common/logging.h"

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

}  // namespace

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
      result = common::UnavailableError("database write failed: " + s.ToString());
      ++generation_;
      // Everything queued behind the failed group was computed assuming it succeeded.
      for (PendingWrite* p : queue_) {
        p->status_ = common::AbortedError("an earlier write failed; retry");
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
