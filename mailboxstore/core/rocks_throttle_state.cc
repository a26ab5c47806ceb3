// The brute-force protection's state (failure records, blocks, trusted addresses) under
// "throttle:" keys in the meta column family, so that restarting or killing the store neither
// lifts a block early nor makes an owner's address a stranger again.
//
// Writes are not synced: they reach the WAL in the operating system's cache, which a killed
// process does not lose (a power cut may lose the last few, as it may any unsynced write).
// Successful logins write nothing unless they make a new trust (LoginThrottle::TakeChanges).
#include "common/logging.h"
#include "mailboxstore/core/rocks_mailbox_store.h"

namespace mailboxstore {

namespace {

constexpr std::string_view kThrottlePrefix = "throttle:";

common::Status Unavailable(const rocksdb::Status& s, const char* what) {
  return common::UnavailableError(std::string(what) + ": " + s.ToString());
}

}  // namespace

common::Status RocksMailboxStore::LoadLoginThrottle() {
  rocksdb::WriteBatch expired;
  size_t loaded = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(kMeta)));
  for (it->Seek(rocksdb::Slice(kThrottlePrefix.data(), kThrottlePrefix.size()));
       it->Valid() && it->key().starts_with(rocksdb::Slice(kThrottlePrefix.data(),
                                                           kThrottlePrefix.size()));
       it->Next()) {
    std::string_view key = it->key().ToStringView().substr(kThrottlePrefix.size());
    if (throttle_->Restore(key, it->value().ToStringView())) {
      ++loaded;
    } else {
      expired.Delete(cf(kMeta), it->key());
    }
  }
  if (!it->status().ok()) return Unavailable(it->status(), "read login throttle state");
  if (expired.Count() > 0) {
    rocksdb::Status s = db_->Write(rocksdb::WriteOptions(), &expired);
    if (!s.ok()) return Unavailable(s, "drop expired login throttle state");
  }
  if (loaded > 0 || expired.Count() > 0) {
    MAIL_LOG(kInfo, "auth") << "login throttle: restored " << loaded << " entries, dropped "
                            << expired.Count() << " expired";
  }
  throttle_->TrackChanges();
  return common::Status::Ok();
}

void RocksMailboxStore::PersistLoginThrottle() {
  if (!throttle_->HasChanges()) return;
  std::lock_guard<std::mutex> lock(throttle_persist_mu_);
  std::vector<ThrottleChange> changes = throttle_->TakeChanges();
  if (changes.empty()) return;
  rocksdb::WriteBatch batch;
  for (const ThrottleChange& c : changes) {
    std::string key = std::string(kThrottlePrefix) + c.key;
    if (c.value) {
      batch.Put(cf(kMeta), key, *c.value);
    } else {
      batch.Delete(cf(kMeta), key);
    }
  }
  rocksdb::Status s = db_->Write(rocksdb::WriteOptions(), &batch);
  if (!s.ok()) {
    // The protection keeps working from memory; only a restart would forget these.
    MAIL_LOG(kWarning, "auth") << "cannot store the login throttle state: " << s.ToString();
  }
}

}  // namespace mailboxstore
