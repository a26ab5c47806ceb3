#include "transport/queue/queue_store.h"

#include <rocksdb/db.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cmath>
#include <ctime>

#include "common/logging.h"

namespace transport::queue {
namespace {

using common::Status;
using common::StatusOr;
using mail::v1::QueuedMessage;

constexpr char kComponent[] = "queue";

// Column families: meta (schema version, id counter), envelopes and bodies, both keyed by the
// big-endian id so that iteration is in id order.
enum Cf { kMeta = 0, kEnvelope = 1, kBody = 2, kCfCount = 3 };
constexpr const char* kCfNames[kCfCount] = {"default", "envelope", "body"};
constexpr char kSchemaKey[] = "schema";
constexpr char kNextIdKey[] = "next_id";
constexpr uint32_t kSchemaVersion = 1;

std::string EncodeId(uint64_t id) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(id & 0xff);
    id >>= 8;
  }
  return out;
}

std::optional<uint64_t> DecodeId(std::string_view s) {
  if (s.size() != 8) return std::nullopt;
  uint64_t id = 0;
  for (char c : s) id = (id << 8) | static_cast<unsigned char>(c);
  return id;
}

// The id counter only ever grows: concurrent Enqueues merge their "id + 1" and the stored
// value is the largest, whatever order the writes reach the WAL in.
class MaxIdOperator : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& /*key*/, const rocksdb::Slice* existing_value,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger* /*logger*/) const override {
    uint64_t best = DecodeId(value.ToStringView()).value_or(0);
    if (existing_value != nullptr) {
      best = std::max(best, DecodeId(existing_value->ToStringView()).value_or(0));
    }
    *new_value = EncodeId(best);
    return true;
  }
  const char* Name() const override { return "transport.queue.MaxId"; }
};

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return common::NotFoundError(what);
  return common::UnavailableError(what + ": " + s.ToString());
}

bool HasPending(const QueuedMessage& m) {
  return std::any_of(m.recipients().begin(), m.recipients().end(),
                     [](const auto& r) { return r.state() == mail::v1::RECIPIENT_STATE_PENDING; });
}

bool Deliverable(const QueuedMessage& m) { return !m.suspended() && HasPending(m); }

uint32_t MaxAttempts(const QueuedMessage& m) {
  uint32_t n = 0;
  for (const auto& r : m.recipients()) n = std::max(n, r.attempts());
  return n;
}

// "smarthost.example:25" -> "smarthost.example"; "[192.0.2.1]:25" -> "[192.0.2.1]".
std::string HopDomain(const std::string& hop) {
  size_t colon = hop.rfind(':');
  if (colon == std::string::npos || colon + 1 == hop.size()) return hop;
  for (size_t i = colon + 1; i < hop.size(); ++i) {
    if (hop[i] < '0' || hop[i] > '9') return hop;
  }
  bool bracketed = colon > 0 && hop[colon - 1] == ']';
  if (!bracketed && hop.find(':') != colon) return hop;  // A bare IPv6 address.
  return hop.substr(0, colon);
}

}  // namespace

int64_t RetryDelaySeconds(uint32_t attempts, double scale) {
  static constexpr int64_t kSteps[] = {60, 5 * 60, 10 * 60, 20 * 60, 40 * 60, 60 * 60};
  if (attempts == 0 || !(scale > 0)) return 0;
  size_t step = std::min<size_t>(attempts - 1, std::size(kSteps) - 1);
  double seconds = std::round(static_cast<double>(kSteps[step]) * scale);
  if (seconds > 1e15) return static_cast<int64_t>(1e15);
  return std::max<int64_t>(1, static_cast<int64_t>(seconds));
}

StatusOr<std::unique_ptr<QueueStore>> QueueStore::Open(const std::string& dir, bool sync) {
  if (dir.empty()) return common::InvalidArgumentError("queue directory is required");
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 5;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < kCfCount; ++i) {
    rocksdb::ColumnFamilyOptions cf_options;
    if (i == kMeta) cf_options.merge_operator = std::make_shared<MaxIdOperator>();
    if (i == kBody) {
      // Bodies are large, written once and deleted whole: keep them out of the LSM tree.
      cf_options.enable_blob_files = true;
      cf_options.min_blob_size = 4096;
      cf_options.enable_blob_garbage_collection = true;
    }
    descriptors.emplace_back(kCfNames[i], cf_options);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, descriptors, &handles, &db);
  if (!s.ok()) return common::UnavailableError("cannot open queue database: " + s.ToString());
  std::unique_ptr<QueueStore> store(new QueueStore(db, std::move(handles), sync));
  MAIL_RETURN_IF_ERROR(store->Load());
  return store;
}

QueueStore::QueueStore(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> handles,
                       bool sync)
    : db_(db), handles_(std::move(handles)), sync_(sync) {}

QueueStore::~QueueStore() {
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  db_->Close().PermitUncheckedError();
  delete db_;
}

Status QueueStore::Load() {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[kMeta], kSchemaKey, &v);
  if (s.IsNotFound()) {
    rocksdb::WriteBatch batch;
    s = batch.Put(handles_[kMeta], kSchemaKey, EncodeId(kSchemaVersion));
    if (!s.ok()) return FromRocks(s, "write schema version");
    MAIL_RETURN_IF_ERROR(Write(&batch));
  } else if (!s.ok()) {
    return FromRocks(s, "read schema version");
  } else if (DecodeId(v).value_or(UINT64_MAX) > kSchemaVersion) {
    return common::FailedPreconditionError("queue database was written by a newer version");
  }

  uint64_t next_id = 1;
  s = db_->Get(rocksdb::ReadOptions(), handles_[kMeta], kNextIdKey, &v);
  if (s.ok()) {
    next_id = std::max(next_id, DecodeId(v).value_or(1));
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "read id counter");
  }

  std::lock_guard<std::mutex> lock(index_mu_);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), handles_[kEnvelope]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::optional<uint64_t> id = DecodeId(it->key().ToStringView());
    QueuedMessage m;
    if (!id || !m.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())) ||
        m.id() != *id) {
      // Left in place for an administrator; never delivered, never reused.
      MAIL_LOG(kError, kComponent)
          << "unreadable queue envelope, key " << (id ? std::to_string(*id) : "(malformed)");
      if (id) next_id = std::max(next_id, *id + 1);
      continue;
    }
    next_id = std::max(next_id, *id + 1);
    IndexPut(*id, m);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "scan queue");
  next_id_ = next_id;
  return Status::Ok();
}

Status QueueStore::Write(rocksdb::WriteBatch* batch) {
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  return FromRocks(db_->Write(wo, batch), "queue write");
}

void QueueStore::IndexPut(uint64_t id, const QueuedMessage& m) {
  IndexErase(id);
  Schedule sched{Deliverable(m), m.next_attempt_unix()};
  index_[id] = sched;
  if (sched.deliverable) due_order_.emplace(sched.next_attempt_unix, id);
}

void QueueStore::IndexErase(uint64_t id) {
  auto it = index_.find(id);
  if (it == index_.end()) return;
  if (it->second.deliverable) due_order_.erase({it->second.next_attempt_unix, id});
  index_.erase(it);
}

StatusOr<uint64_t> QueueStore::Enqueue(QueuedMessage envelope, std::string_view body) {
  if (envelope.recipients_size() == 0) {
    return common::InvalidArgumentError("a queued message needs a recipient");
  }
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(index_mu_);
    id = next_id_++;
  }
  envelope.set_id(id);
  envelope.set_size(body.size());
  if (envelope.received_unix() == 0) envelope.set_received_unix(std::time(nullptr));

  std::string key = EncodeId(id);
  std::string value;
  if (!envelope.SerializeToString(&value)) return common::InternalError("serialize envelope");
  rocksdb::WriteBatch batch;
  rocksdb::Status s = batch.Merge(handles_[kMeta], kNextIdKey, EncodeId(id + 1));
  if (s.ok()) s = batch.Put(handles_[kBody], key, rocksdb::Slice(body.data(), body.size()));
  if (s.ok()) s = batch.Put(handles_[kEnvelope], key, value);
  if (!s.ok()) return FromRocks(s, "build enqueue batch");
  MAIL_RETURN_IF_ERROR(Write(&batch));

  std::lock_guard<std::mutex> lock(index_mu_);
  IndexPut(id, envelope);
  return id;
}

StatusOr<QueuedMessage> QueueStore::Get(uint64_t id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[kEnvelope], EncodeId(id), &value);
  if (!s.ok()) return FromRocks(s, "queued message " + std::to_string(id));
  QueuedMessage m;
  if (!m.ParseFromString(value)) {
    return Status(common::StatusCode::kDataLoss,
                  "unreadable envelope of queued message " + std::to_string(id));
  }
  return m;
}

StatusOr<std::string> QueueStore::GetBody(uint64_t id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[kBody], EncodeId(id), &value);
  if (!s.ok()) return FromRocks(s, "body of queued message " + std::to_string(id));
  return value;
}

Status QueueStore::Update(const QueuedMessage& m) {
  std::lock_guard<std::mutex> message_lock(MessageLock(m.id()));
  {
    std::lock_guard<std::mutex> lock(index_mu_);
    if (!index_.contains(m.id())) {
      return common::NotFoundError("queued message " + std::to_string(m.id()));
    }
  }
  std::string value;
  if (!m.SerializeToString(&value)) return common::InternalError("serialize envelope");
  rocksdb::WriteBatch batch;
  rocksdb::Status s = batch.Put(handles_[kEnvelope], EncodeId(m.id()), value);
  if (!s.ok()) return FromRocks(s, "build update batch");
  MAIL_RETURN_IF_ERROR(Write(&batch));
  std::lock_guard<std::mutex> lock(index_mu_);
  IndexPut(m.id(), m);
  return Status::Ok();
}

Status QueueStore::Remove(uint64_t id) {
  std::lock_guard<std::mutex> message_lock(MessageLock(id));
  {
    std::lock_guard<std::mutex> lock(index_mu_);
    if (!index_.contains(id)) return common::NotFoundError("queued message " + std::to_string(id));
  }
  std::string key = EncodeId(id);
  rocksdb::WriteBatch batch;
  rocksdb::Status s = batch.Delete(handles_[kEnvelope], key);
  if (s.ok()) s = batch.Delete(handles_[kBody], key);
  if (!s.ok()) return FromRocks(s, "build remove batch");
  MAIL_RETURN_IF_ERROR(Write(&batch));
  std::lock_guard<std::mutex> lock(index_mu_);
  IndexErase(id);
  return Status::Ok();
}

std::vector<QueuedMessage> QueueStore::List() const {
  std::vector<QueuedMessage> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), handles_[kEnvelope]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    QueuedMessage m;
    if (!m.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) continue;
    out.push_back(std::move(m));
  }
  if (!it->status().ok()) {
    MAIL_LOG(kError, kComponent) << "queue scan failed: " << it->status().ToString();
  }
  return out;
}

std::vector<QueuedMessage> QueueStore::Due(int64_t now_unix, size_t limit) const {
  std::vector<uint64_t> ids;
  {
    std::lock_guard<std::mutex> lock(index_mu_);
    for (const auto& [when, id] : due_order_) {
      if (when > now_unix || ids.size() >= limit) break;
      ids.push_back(id);
    }
  }
  std::vector<QueuedMessage> out;
  out.reserve(ids.size());
  for (uint64_t id : ids) {
    StatusOr<QueuedMessage> m = Get(id);
    // Changed or removed since the index was read: leave it to the next round.
    if (!m.ok() || !Deliverable(*m) || m->next_attempt_unix() > now_unix) continue;
    out.push_back(std::move(m).value());
  }
  // A concurrent Update may have moved a message; keep the promised order.
  std::stable_sort(out.begin(), out.end(), [](const QueuedMessage& a, const QueuedMessage& b) {
    return a.next_attempt_unix() < b.next_attempt_unix();
  });
  return out;
}

std::optional<int64_t> QueueStore::NextDue() const {
  std::lock_guard<std::mutex> lock(index_mu_);
  if (due_order_.empty()) return std::nullopt;
  return due_order_.begin()->first;
}

std::vector<mail::v1::QueueSummary> QueueStore::Summaries(const std::string& node,
                                                          int64_t now_unix) const {
  struct Hop {
    uint32_t count = 0;
    uint32_t suspended = 0;
    bool retry = false;
    bool has_error = false;
    int64_t error_at = 0;  // Estimated time of the most recent failure.
    uint64_t error_id = 0;
    std::string last_error;
    std::optional<int64_t> next_retry;
  };
  std::map<std::string, Hop> hops;
  for (const QueuedMessage& m : List()) {
    Hop& hop = hops[m.next_hop()];
    ++hop.count;
    if (m.suspended()) ++hop.suspended;
    bool deliverable = Deliverable(m);
    if (deliverable && (!hop.next_retry || m.next_attempt_unix() < *hop.next_retry)) {
      hop.next_retry = m.next_attempt_unix();
    }
    uint32_t attempts = MaxAttempts(m);
    if (m.last_error().empty() || attempts == 0) continue;
    if (deliverable && m.next_attempt_unix() > now_unix) hop.retry = true;
    // The envelope has no time of its last attempt: the next attempt less the back-off
    // after that many attempts.
    int64_t at = m.next_attempt_unix() - RetryDelaySeconds(attempts);
    if (!hop.has_error || at > hop.error_at || (at == hop.error_at && m.id() > hop.error_id)) {
      hop.has_error = true;
      hop.error_at = at;
      hop.error_id = m.id();
      hop.last_error = m.last_error();
    }
  }
  std::vector<mail::v1::QueueSummary> out;
  out.reserve(hops.size());
  for (auto& [next_hop, hop] : hops) {
    mail::v1::QueueSummary& s = out.emplace_back();
    s.set_identity(node + "\\" + next_hop);
    s.set_next_hop_domain(HopDomain(next_hop));
    if (hop.suspended == hop.count) {
      s.set_status("Suspended");
    } else if (hop.retry) {
      s.set_status("Retry");
    } else {
      s.set_status("Ready");
    }
    s.set_message_count(hop.count);
    s.set_last_error(std::move(hop.last_error));
    s.set_next_retry_unix(hop.next_retry.value_or(0));
  }
  return out;
}

}  // namespace transport::queue
