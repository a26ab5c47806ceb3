// The admin audit log (Get-AdminAuditLog): one synced record per change made over the admin
// API, kept under "audit:" + big-endian id in the meta column family, read newest first.
#include <algorithm>
#include <cctype>
#include <chrono>

#include "common/logging.h"
#include "mailboxstore/core/rocks_mailbox_store.h"

namespace mailboxstore {

namespace {

constexpr const char* kAuditPrefix = "audit:";

std::string AuditKey(uint64_t id) {
  std::string k = kAuditPrefix;
  for (int shift = 56; shift >= 0; shift -= 8) k.push_back(static_cast<char>((id >> shift) & 0xff));
  return k;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

common::Status RocksMailboxStore::LoadAudit() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(kMeta)));
  // The last audit key: seek past the prefix and step back.
  std::string end = kAuditPrefix;
  end.back() = static_cast<char>(end.back() + 1);
  it->SeekForPrev(end);
  std::lock_guard<std::mutex> lock(audit_mu_);
  next_audit_id_ = 1;
  if (it->Valid() && it->key().starts_with(kAuditPrefix) &&
      it->key().size() == std::string(kAuditPrefix).size() + 8) {
    mail::v1::AuditEntry e;
    if (e.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      next_audit_id_ = e.id() + 1;
    }
  }
  return common::Status::Ok();
}

common::Status RocksMailboxStore::AppendAudit(mail::v1::AuditEntry entry) {
  PendingWrite w;
  {
    std::lock_guard<std::mutex> lock(audit_mu_);
    entry.set_id(next_audit_id_++);
    if (entry.time_unix() == 0) {
      entry.set_time_unix(std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count());
    }
    w.Put(cf(kMeta), AuditKey(entry.id()), entry.SerializeAsString());
  }
  return committer_->Commit(&w);
}

std::vector<mail::v1::AuditEntry> RocksMailboxStore::GetAuditLog(
    const mail::v1::GetAdminAuditLogRequest& req) {
  std::vector<mail::v1::AuditEntry> out;
  const size_t limit = req.result_size() == 0 ? 1000 : req.result_size();
  const std::string cmdlet = Lower(req.cmdlet());
  const std::string object = Lower(req.object());
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(kMeta)));
  std::string end = kAuditPrefix;
  end.back() = static_cast<char>(end.back() + 1);
  for (it->SeekForPrev(end); it->Valid() && it->key().starts_with(kAuditPrefix) && out.size() < limit;
       it->Prev()) {
    mail::v1::AuditEntry e;
    if (!e.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) continue;
    if (req.end_unix() != 0 && e.time_unix() > req.end_unix()) continue;
    if (req.start_unix() != 0 && e.time_unix() < req.start_unix()) break;
    if (!cmdlet.empty() && Lower(e.cmdlet()) != cmdlet) continue;
    if (!object.empty() && Lower(e.object()).find(object) == std::string::npos) continue;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace mailboxstore
