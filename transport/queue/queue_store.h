// The durable outbound queue: transportd's own RocksDB, the role Postfix's queue directory
// plays. A message is an envelope (mail::v1::QueuedMessage: sender, per-recipient state,
// schedule) and a body stored apart, once. The SMTP session answers 250 only after Enqueue
// returned, so Enqueue writes both in one synced WriteBatch.
//
// RocksDB is the truth; the store keeps only a small in-memory schedule index (next attempt
// per deliverable message) so that Due and NextDue do not scan the database. Open rebuilds the
// index from the envelopes.
//
// Thread-safe: every method may be called from several threads at once. Writes that touch
// different messages run concurrently and share WAL syncs (RocksDB group commit).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "transport.pb.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace transport::queue {

// Retry back-off like Postfix and Exchange: after attempt 1 wait 60 s, then 5, 10, 20 and
// 40 minutes, then every 60 minutes (the cap). `attempts` is the number of attempts made so
// far; 0 attempts means "due now" (0 s). `scale` multiplies the delay so tests can use short
// delays; a positive scale never yields less than 1 s, a scale <= 0 yields 0.
int64_t RetryDelaySeconds(uint32_t attempts, double scale = 1.0);

class QueueStore {
 public:
  // Opens (creating if missing) the queue database in `dir`. `sync` = false skips the WAL
  // fsync on writes; only for tests and benchmarks, never for a server that says 250.
  static common::StatusOr<std::unique_ptr<QueueStore>> Open(const std::string& dir,
                                                            bool sync = true);
  ~QueueStore();

  QueueStore(const QueueStore&) = delete;
  QueueStore& operator=(const QueueStore&) = delete;

  // Assigns the id (increasing, never reused, also across reopen), sets size to the body's
  // length (and received_unix to now when 0), and stores envelope and body atomically and
  // durably. InvalidArgument when the envelope has no recipient.
  common::StatusOr<uint64_t> Enqueue(mail::v1::QueuedMessage envelope, std::string_view body);

  // NotFound when there is no message with this id.
  common::StatusOr<mail::v1::QueuedMessage> Get(uint64_t id) const;
  common::StatusOr<std::string> GetBody(uint64_t id) const;

  // Rewrites the envelope of the existing message m.id() (synced). NotFound when it was
  // removed. The body is not touched.
  common::Status Update(const mail::v1::QueuedMessage& m);

  // Deletes envelope and body (synced). NotFound when absent.
  common::Status Remove(uint64_t id);

  // Every queued message, by id.
  std::vector<mail::v1::QueuedMessage> List() const;

  // Messages with next_attempt_unix <= now, not suspended and with at least one PENDING
  // recipient; oldest next_attempt_unix first (then by id); at most `limit`.
  std::vector<mail::v1::QueuedMessage> Due(int64_t now_unix, size_t limit) const;

  // The earliest next_attempt_unix among deliverable messages (not suspended, a PENDING
  // recipient), std::nullopt when there is none: the delivery loop sleeps until then.
  std::optional<int64_t> NextDue() const;

  // Get-Queue: one summary per next hop, identity "<node>\<next_hop>", ordered by next hop.
  // status: "Suspended" when all its messages are suspended; "Retry" when its last attempt
  // failed (a message with last_error, attempts > 0 and a next attempt after now); else
  // "Ready" (suspended messages do not make a queue "Retry"). message_count counts every
  // message. last_error is that of the most recent failure; the envelope has no time of its
  // last attempt, so "most recent" is estimated as next_attempt_unix less the back-off after
  // that many attempts (RetryDelaySeconds at scale 1). next_retry_unix is the earliest next
  // attempt among its deliverable messages (0 when none).
  std::vector<mail::v1::QueueSummary> Summaries(const std::string& node, int64_t now_unix) const;

 private:
  // What the schedule index knows about one message.
  struct Schedule {
    bool deliverable = false;  // Not suspended and some recipient PENDING.
    int64_t next_attempt_unix = 0;
  };

  QueueStore(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> handles, bool sync);
  common::Status Load();
  common::Status Write(rocksdb::WriteBatch* batch);
  void IndexPut(uint64_t id, const mail::v1::QueuedMessage& m);  // index_mu_ held.
  void IndexErase(uint64_t id);                                  // index_mu_ held.
  std::mutex& MessageLock(uint64_t id) { return message_mu_[id % message_mu_.size()]; }

  rocksdb::DB* db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // kMeta, kEnvelope, kBody.
  const bool sync_;

  // Serialises Update/Remove of one message (existence check and write), so an Update never
  // brings back a removed envelope. Striped by id.
  mutable std::array<std::mutex, 64> message_mu_;

  mutable std::mutex index_mu_;
  uint64_t next_id_ = 1;                              // Guarded by index_mu_.
  std::map<uint64_t, Schedule> index_;                // Every queued id.
  std::set<std::pair<int64_t, uint64_t>> due_order_;  // (next_attempt, id), deliverable only.
};

}  // namespace transport::queue
