#include "mailboxstore/core/rocks_mailbox_store.h"

#include <algorithm>
#include <chrono>
#include <set>

#include <openssl/rand.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/cache.h>

#include "common/logging.h"
#include "common/mail_text.h"
#include "mailboxstore/core/folder_names.h"
#include "mailboxstore/core/keys.h"
#include "mailboxstore/core/search_headers.h"
#include "mailboxstore/core/mailbox_state.h"
#include "mailboxstore/core/mime_parser.h"
#include "mailboxstore/core/store_internal.h"

namespace mailboxstore {

using common::Status;
using common::StatusOr;
using internal::NowUnix;

namespace {

constexpr uint32_t kSchemaVersion = 1;
constexpr size_t kBodyChunk = 1 << 20;
constexpr int kMaxBodiesPerCall = 256;

// Reference counts of stored bodies: signed 64-bit additions.
class CountAddOperator : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing_value,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger*) const override {
    int64_t base = existing_value ? keys::DecodeCount(existing_value->ToStringView()) : 0;
    *new_value = keys::EncodeCount(base + keys::DecodeCount(value.ToStringView()));
    return true;
  }
  const char* Name() const override { return "mail.CountAdd"; }
};

// RocksDB recovers from a full disk by itself only once the free space exceeds its largest
// write buffer (64 MiB), polled every 5 s, and refuses a manual Resume() meanwhile. The store
// resumes on its next write instead (GroupCommitter), as soon as the flush fits.
class ManualNoSpaceRecovery : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason /*reason*/, rocksdb::Status bg_error,
                            bool* auto_recovery) override {
    if (bg_error.IsNoSpace()) *auto_recovery = false;
  }
};

Status FromRocks(const rocksdb::Status& s, const char* what) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return common::NotFoundError(what);
  return common::UnavailableError(std::string(what) + ": " + s.ToString());
}

struct SpecialFolder {
  const char* name;
  const char* special_use;
  int retention;  // 0 none, 1 deleted items, 2 junk
};
constexpr SpecialFolder kSpecialFolders[] = {
    {"INBOX", "", 0},        {"Drafts", "\\Drafts", 0},         {"Sent", "\\Sent", 0},
    {"Deleted Items", "\\Trash", 1}, {"Junk", "\\Junk", 2},    {"Archive", "\\Archive", 0},
};

std::string EncodeStateCounters(uint64_t modseq, uint32_t next_folder_id,
                                uint64_t next_message_id, uint32_t next_uidvalidity,
                                uint64_t changelog_floor) {
  std::string v;
  keys::PutU64(&v, modseq);
  keys::PutU32(&v, next_folder_id);
  keys::PutU64(&v, next_message_id);
  keys::PutU32(&v, next_uidvalidity);
  keys::PutU64(&v, changelog_floor);
  return v;
}

}  // namespace

struct RocksMailboxStore::PreparedBody {
  std::string sha;
  const std::string* raw = nullptr;
  std::string structure;  // Serialized MessageStructure.
  std::string search_headers;  // EncodeSearchHeaders of its decoded header fields.
  uint64_t wire_size = 0;
};

namespace {

// Size with every line end (CRLF, bare LF, bare CR) counted as two octets.
uint64_t CrlfSize(std::string_view raw) {
  uint64_t n = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\r') {
      n += 2;
      if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      n += 2;
    } else {
      ++n;
    }
  }
  return n;
}

}  // namespace

RocksMailboxStore::RocksMailboxStore(const StoreOptions& options)
    : options_(options),
      throttle_(std::make_unique<LoginThrottle>(options.login_throttle,
                                                options.login_throttle_clock)),
      credential_cache_(std::make_unique<VerifiedCredentialCache>(options.credential_cache)) {}

RocksMailboxStore::~RocksMailboxStore() {
  Shutdown();
  for (auto* h : handles_) {
    if (h != nullptr) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  delete db_;
}

void RocksMailboxStore::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(retention_mu_);
    stopping_ = true;
  }
  retention_cv_.notify_all();
  if (retention_thread_.joinable()) retention_thread_.join();
  hub_.CloseAll();
  {
    std::lock_guard<std::mutex> lock(settings_mu_);
    stopping_settings_ = true;
  }
  settings_cv_.notify_all();
}

StatusOr<std::unique_ptr<RocksMailboxStore>> RocksMailboxStore::Open(const StoreOptions& options) {
  if (options.data_dir.empty()) return common::InvalidArgumentError("data_dir is required");
  InitMimeLibrary();
  std::unique_ptr<RocksMailboxStore> store(new RocksMailboxStore(options));
  MAIL_RETURN_IF_ERROR(store->OpenDb());
  if (options.retention_interval_seconds > 0) {
    store->retention_thread_ = std::thread([s = store.get()] { s->RetentionLoop(); });
  }
  return store;
}

Status RocksMailboxStore::OpenDb() {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 5;
  db_options.listeners.push_back(std::make_shared<ManualNoSpaceRecovery>());
  // Several writers share one WAL sync (we also group them ourselves).
  db_options.enable_pipelined_write = false;

  auto cache = rocksdb::NewLRUCache(options_.block_cache_bytes);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < kCfCount; ++i) {
    rocksdb::ColumnFamilyOptions cf_options;
    cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    cf_options.compression = rocksdb::kLZ4Compression;
    if (i == kBlob) {
      // Bodies are large and written once: keep them out of the LSM tree (BlobDB).
      cf_options.enable_blob_files = true;
      cf_options.min_blob_size = 4096;
      cf_options.enable_blob_garbage_collection = true;
      cf_options.compression = rocksdb::kNoCompression;
      // A memtable of bodies must be flushed before RocksDB can take writes again after the
      // disk ran full; a small one needs little space freed for that (and bodies do not stay
      // in memory anyway).
      cf_options.write_buffer_size = 8 << 20;
    }
    if (i == kBlobRef) cf_options.merge_operator = std::make_shared<CountAddOperator>();
    descriptors.emplace_back(kColumnFamilies[i], cf_options);
  }
  rocksdb::Status s =
      rocksdb::DB::Open(db_options, options_.data_dir, descriptors, &handles_, &db_);
  if (!s.ok() && s.IsInvalidArgument() && s.ToString().find("LZ4") != std::string::npos) {
    for (auto& d : descriptors) d.options.compression = rocksdb::kNoCompression;
    s = rocksdb::DB::Open(db_options, options_.data_dir, descriptors, &handles_, &db_);
  }
  if (!s.ok()) return common::UnavailableError("cannot open database: " + s.ToString());

  // Schema version and id counters.
  std::string v;
  s = db_->Get(rocksdb::ReadOptions(), cf(kMeta), "schema", &v);
  if (s.IsNotFound()) {
    std::string ver;
    keys::PutU32(&ver, kSchemaVersion);
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync_writes;
    s = db_->Put(wo, cf(kMeta), "schema", ver);
    if (!s.ok()) return FromRocks(s, "write schema version");
  } else if (!s.ok()) {
    return FromRocks(s, "read schema version");
  } else if (v.size() != 4 || keys::GetU32(v, 0) > kSchemaVersion) {
    return common::FailedPreconditionError("database was written by a newer version");
  }
  s = db_->Get(rocksdb::ReadOptions(), cf(kMeta), "next_mailbox_id", &v);
  if (s.ok() && v.size() == 8) next_mailbox_id_ = keys::GetU64(v, 0);
  if (options_.fake_verifier_secret.empty()) {
    s = db_->Get(rocksdb::ReadOptions(), cf(kMeta), "fake_secret", &v);
    if (s.ok()) {
      options_.fake_verifier_secret = v;
    } else {
      std::string secret(32, '\0');
      RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), 32);
      rocksdb::WriteOptions wo;
      wo.sync = options_.sync_writes;
      s = db_->Put(wo, cf(kMeta), "fake_secret", secret);
      if (!s.ok()) return FromRocks(s, "write secret");
      options_.fake_verifier_secret = secret;
    }
  }

  MAIL_RETURN_IF_ERROR(LoadSettings());
  MAIL_RETURN_IF_ERROR(LoadControl());
  MAIL_RETURN_IF_ERROR(LoadAudit());
  MAIL_RETURN_IF_ERROR(LoadLoginThrottle());

  committer_ = std::make_unique<GroupCommitter>(
      db_, options_.sync_writes,
      [this](const std::vector<mail::v1::ChangeEvent>& events) { hub_.Publish(events); });

  // Free bodies whose last reference went away before a crash.
  std::vector<std::string> unreferenced;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(kBlobRef)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (keys::DecodeCount(it->value().ToStringView()) <= 0) {
      unreferenced.push_back(it->key().ToString());
    }
  }
  if (!unreferenced.empty()) FreeBodiesIfUnreferenced(unreferenced);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Mailbox state.

StatusOr<std::shared_ptr<RocksMailboxStore::MailboxState>> RocksMailboxStore::LockedState(
    uint64_t mailbox_id, std::unique_lock<std::mutex>* lock) {
  std::shared_ptr<MailboxState> state;
  {
    std::lock_guard<std::mutex> g(states_mu_);
    auto& slot = states_[mailbox_id];
    if (!slot) slot = std::make_shared<MailboxState>();
    state = slot;
  }
  *lock = std::unique_lock<std::mutex>(state->mu);
  if (state->deleted) return common::NotFoundError("mailbox not found");
  uint64_t gen = committer_->generation();
  if (!state->loaded || state->generation != gen) {
    Status s = LoadState(mailbox_id, state.get());
    if (!s.ok()) {
      lock->unlock();
      if (s.code() == common::StatusCode::kNotFound) DropState(mailbox_id);
      return s;
    }
    state->generation = gen;
    state->loaded = true;
  }
  return state;
}

void RocksMailboxStore::DropState(uint64_t mailbox_id) {
  std::lock_guard<std::mutex> g(states_mu_);
  states_.erase(mailbox_id);
}

Status RocksMailboxStore::LoadState(uint64_t mailbox_id, MailboxState* state) {
  std::string v;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf(kMailbox), keys::MailboxKey(mailbox_id), &v);
  if (s.IsNotFound()) return common::NotFoundError("mailbox not found");
  if (!s.ok()) return FromRocks(s, "read mailbox");
  mail::v1::Mailbox mb;
  if (!mb.ParseFromString(v)) return common::InternalError("corrupt mailbox record");
  state->quota = mb.quota().prohibit_send_receive_quota();

  s = db_->Get(rocksdb::ReadOptions(), cf(kMeta), keys::MailboxCountersKey(mailbox_id), &v);
  if (!s.ok()) return FromRocks(s, "read mailbox counters");
  // 24 bytes before the change log was trimmed (nothing trimmed yet), 32 since.
  if (v.size() != 24 && v.size() != 32) return common::InternalError("corrupt mailbox counters");
  state->modseq = keys::GetU64(v, 0);
  state->next_folder_id = keys::GetU32(v, 8);
  state->next_message_id = keys::GetU64(v, 12);
  state->next_uidvalidity = keys::GetU32(v, 20);
  state->changelog_floor = v.size() == 32 ? keys::GetU64(v, 24) : 0;

  state->folders.clear();
  std::string prefix = keys::MailboxKey(mailbox_id);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(kFolder)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    mail::v1::Folder f;
    if (!f.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return common::InternalError("corrupt folder record");
    }
    state->folders[f.id()] = std::move(f);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "read folders");
  state->subscriptions.clear();
  it.reset(db_->NewIterator(rocksdb::ReadOptions(), cf(kSubscription)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    state->subscriptions.insert(it->key().ToString().substr(8));
  }
  return FromRocks(it->status(), "read subscriptions");
}

void RocksMailboxStore::PutFolder(uint64_t mailbox_id, const mail::v1::Folder& folder,
                                  PendingWrite* w) {
  mail::v1::Folder stored = folder;
  stored.clear_has_children();
  stored.clear_subscribed();
  w->Put(cf(kFolder), keys::FolderKey(mailbox_id, folder.id()), stored.SerializeAsString());
}

void RocksMailboxStore::PutCounters(uint64_t mailbox_id, const MailboxState& state,
                                    PendingWrite* w) {
  // Every change to a mailbox passes here, so this is where its change log is kept bounded:
  // once it spans more than the limit plus an eighth, the oldest entries go in one range
  // delete (so a tombstone is written once per limit/8 changes, not per change).
  const uint64_t limit = options_.changelog_retained_modseqs;
  if (limit != 0 && state.modseq > state.changelog_floor + limit + limit / 8) {
    const uint64_t floor = state.modseq - limit;
    w->DeleteRange(cf(kChangelog), keys::ChangeKey(mailbox_id, 0, 0),
                   keys::ChangeKey(mailbox_id, floor + 1, 0));
    state.changelog_floor = floor;
  }
  w->Put(cf(kMeta), keys::MailboxCountersKey(mailbox_id),
         EncodeStateCounters(state.modseq, state.next_folder_id, state.next_message_id,
                             state.next_uidvalidity, state.changelog_floor));
}

StatusOr<mail::v1::Folder*> RocksMailboxStore::FindFolder(MailboxState* state,
                                                          const mail::v1::FolderRef& ref) {
  if (ref.id() != 0) {
    auto it = state->folders.find(ref.id());
    if (it == state->folders.end()) return common::NotFoundError("folder not found");
    return &it->second;
  }
  std::string name = NormalizeFolderName(ref.name().empty() ? "INBOX" : ref.name());
  for (auto& [id, f] : state->folders) {
    if (f.name() == name) return &f;
  }
  return common::NotFoundError("folder not found: " + name);
}

namespace {

void AddChange(uint64_t mailbox_id, mail::v1::ChangeEvent e, uint32_t index,
               rocksdb::ColumnFamilyHandle* changelog, PendingWrite* w) {
  e.set_mailbox_id(mailbox_id);
  w->Put(changelog, keys::ChangeKey(mailbox_id, e.modseq(), index), e.SerializeAsString());
  w->AddEvent(std::move(e));
}

}  // namespace

StatusOr<mail::v1::Folder> RocksMailboxStore::CreateFolderLocked(
    uint64_t mailbox_id, MailboxState* state, const std::string& name,
    const std::string& special_use, uint32_t retention_days, PendingWrite* w) {
  for (const auto& [id, f] : state->folders) {
    if (f.name() == name) return common::AlreadyExistsError("folder already exists: " + name);
  }
  if (state->folders.size() >= 10000) {
    return common::ResourceExhaustedError("too many folders in this mailbox");
  }
  mail::v1::Folder f;
  f.set_id(state->next_folder_id++);
  f.set_name(name);
  f.set_special_use(special_use);
  f.set_uidvalidity(state->next_uidvalidity++);
  f.set_uidnext(1);
  f.set_highest_modseq(++state->modseq);
  f.set_created_unix(NowUnix());
  f.set_retention_days(retention_days);
  state->folders[f.id()] = f;
  PutFolder(mailbox_id, f, w);
  mail::v1::ChangeEvent e;
  e.set_folder_id(f.id());
  e.set_kind(mail::v1::CHANGE_KIND_FOLDER_CREATED);
  e.set_modseq(f.highest_modseq());
  e.set_folder_name(name);
  AddChange(mailbox_id, std::move(e), 0, cf(kChangelog), w);
  return f;
}

// ---------------------------------------------------------------------------------------
// Folders.

StatusOr<std::vector<mail::v1::Folder>> RocksMailboxStore::ListFolders(
    const mail::v1::ListFoldersRequest& req) {
  std::unique_lock<std::mutex> lock;
  MAIL_ASSIGN_OR_RETURN(auto state, LockedState(req.mailbox_id(), &lock));
  std::string pattern = CombineListPattern(req.reference(), req.pattern());
  if (pattern.empty()) pattern = "*";
  // INBOX matches case-insensitively.
  std::string norm_pattern = NormalizeFolderName(pattern);
  std::vector<mail::v1::Folder> out;
  std::map<std::string, const mail::v1::Folder*> by_name;
  for (const auto& [id, f] : state->folders) by_name[f.name()] = &f;
  auto has_children = [&](const std::string& name) {
    auto it = by_name.upper_bound(name);
    return it != by_name.end() && IsDescendant(it->first, name);
  };
  if (req.subscribed_only()) {
    for (const std::string& name : state->subscriptions) {
      if (!MatchFolderPattern(norm_pattern, name) && !MatchFolderPattern(pattern, name)) continue;
      auto it = by_name.find(name);
      mail::v1::Folder f;
      if (it != by_name.end()) {
        f = *it->second;
      } else {
        f.set_name(name);  // Subscribed but not existing (id 0 = \NonExistent).
      }
      f.set_subscribed(true);
      f.set_has_children(has_children(name));
      out.push_back(std::move(f));
    }
    return out;
  }
  for (const auto& [name, fp] : by_name) {
    if (!MatchFolderPattern(norm_pattern, name) && !MatchFolderPattern(pattern, name)) continue;
    mail::v1::Folder f = *fp;
    f.set_subscribed(state->subscriptions.count(name) > 0);
    f.set_has_children(has_children(name));
    out.push_back(std::move(f));
  }
  return out;
}

StatusOr<mail::v1::Folder> RocksMailboxStore::GetFolder(uint64_t mailbox_id,
                                                        const mail::v1::FolderRef& ref) {
  std::unique_lock<std::mutex> lock;
  MAIL_ASSIGN_OR_RETURN(auto state, LockedState(mailbox_id, &lock));
  MAIL_ASSIGN_OR_RETURN(mail::v1::Folder * f, FindFolder(state.get(), ref));
  mail::v1::Folder out = *f;
  out.set_subscribed(state->subscriptions.count(out.name()) > 0);
  return out;
}

StatusOr<mail::v1::Folder> RocksMailboxStore::CreateFolder(
    const mail::v1::CreateFolderRequest& req) {
  std::string name = NormalizeFolderName(req.name());
  MAIL_RETURN_IF_ERROR(ValidateFolderName(name));
  if (!req.special_use().empty()) {
    static const std::set<std::string> kUses = {"\\Drafts", "\\Sent",  "\\Trash",
                                                "\\Junk",   "\\Archive", "\\Flagged",
                                                "\\All"};
    if (kUses.count(req.special_use()) == 0) {
      return common::InvalidArgumentError("unknown special-use attribute");
    }
  }
  std::unique_lock<std::mutex> lock;
  MAIL_ASSIGN_OR_RETURN(auto state, LockedState(req.mailbox_id(), &lock));
  PendingWrite w;
  w.generation = state->generation;
  // Create missing parents first (RFC 3501 6.3.3).
  for (size_t pos = name.find(kFolderDelimiter); pos != std::string::npos;
       pos = name.find(kFolderDelimiter, pos + 1)) {
    std::string parent = name.substr(0, pos);
    bool exists = false;
    for (const auto& [id, f] : state->folders) exists = exists || f.name() == parent;
    if (!exists) {
      auto st = CreateFolderLocked(req.mailbox_id(), state.get(), parent, "", 0, &w);
      if (!st.ok()) return st.status();
    }
  }
  auto created = CreateFolderLocked(req.mailbox_id(), state.get(), name, req.special_use(), 0, &w);
  if (!created.ok()) {
    state->loaded = false;  // Parents may have been added to the cache: reload next time.
    return created.status();
  }
  PutCounters(req.mailbox_id(), *state, &w);
  Status s = committer_->Commit(&w);
  if (!s.ok()) {
    state->loaded = false;
    return s;
  }
  return *created;
}

StatusOr<mail::v1::DeleteFolderResponse> RocksMailboxStore::DeleteFolder(
    const mail::v1::DeleteFolderRequest& req) {
  std::unique_lock<std::mutex> lock;
  MAIL_ASSIGN_OR_RETURN(auto state, LockedState(req.mailbox_id(), &lock));
  MAIL_ASSIGN_OR_RETURN(mail::v1::Folder * folder, FindFolder(state.get(), req.folder()));
  if (folder->name() == "INBOX") return common::InvalidArgumentError("INBOX cannot be deleted");
  for (const auto& [id, f] : state->folders) {
    if (IsDescendant(f.name(), folder->name())) {
      return common::FailedPreconditionError("folder has child folders; delete them first");
    }
  }
  PendingWrite w;
  w.generation = state->generation;
  std::vector<std::string> shas;
  uint32_t removed = 0;
  Status scan = ScanMessages(req.mailbox_id(), folder->id(), {},
                             [&](mail::v1::MessageRecord& rec) {
                               w.Merge(cf(kBlobRef), rec.body_sha256(), keys::EncodeCount(-1));
                               shas.push_back(rec.body_sha256());
                               ++removed;
                               return true;
                             });
  MAIL_RETURN_IF_ERROR(scan);
  const std::string folder_begin = keys::MessagePrefix(req.mailbox_id(), folder->id());
  const std::string folder_end = keys::MessagePrefix(req.mailbox_id(), folder->id() + 1);
  w.DeleteRange(cf(kMessage), folder_begin, folder_end);
  w.DeleteRange(cf(kMeta), keys::SearchSummaryKey(folder_begin), keys::SearchSummaryKey(folder_end));
  w.Delete(cf(kFolder), keys::FolderKey(req.mailbox_id(), folder->id()));
  mail::v1::DeleteFolderResponse resp;
  *resp.mutable_folder() = *folder;
  resp.set_messages_removed(removed);
  mail::v1::ChangeEvent e;
  e.set_folder_id(folder->id());
  e.set_kind(mail::v1::CHANGE_KIND_FOLDER_DELETED);
  e.set_modseq(++state->modseq);
  e.set_folder_name(folder->name());
  AddChange(req.mailbox_id(), std::move(e), 0, cf(kChangelog), &w);
  state->folders.erase(folder->id());
  PutCounters(req.mailbox_id(), *state, &w);
  Status s = CommitAndCollect(&w, shas);
  if (!s.ok()) {
    state->loaded = false;
    return s;
  }
  return resp;
}

StatusOr<mail::v1::RenameFolderResponse> RocksMailboxStore::RenameFolder(
    const mail::v1::RenameFolderRequest& req) {
  std::string new_name = NormalizeFolderName(req.new_name());
  MAIL_RETURN_IF_ERROR(ValidateFolderName(new_name));
  std::string old_name;
  {
    std::unique_lock<std::mutex> lock;
    MAIL_ASSIGN_OR_RETURN(auto state, LockedState(req.mailbox_id(), &lock));
    MAIL_ASSIGN_OR_RETURN(mail::v1::Folder * folder, FindFolder(state.get(), req.folder()));
    old_name = folder->name();
  }
  if (old_name == "INBOX") {
    // RFC 3501 6.3.5: renaming INBOX moves its messages to the new folder; INBOX stays.
    mail::v1::CreateFolderRequest create;
    create.set_mailbox_id(req.mailbox_id());
    create.set_name(new_name);
    MAIL_ASSIGN_OR_RETURN(mail::v1::Folder created, CreateFolder(create));
    mail::v1::CopyRequest move;
    move.set_mailbox_id(req.mailbox_id());
    move.mutable_folder()->set_name("INBOX");
    move.mutable_destination()->set_id(created.id());
    move.set_move(true);
    auto moved = Copy(move);
    if (!moved.ok()) return moved.status();
    mail::v1::RenameFolderResponse resp;
    MAIL_ASSIGN_OR_RETURN(*resp.add_renamed(), GetFolder(req.mailbox_id(), move.destination()));
    return resp;
  }

  std::unique_lock<std::mutex> lock;
  MAIL_ASSIGN_OR_RETURN(auto state, LockedState(req.mailbox_id(), &lock));
  MAIL_ASSIGN_OR_RETURN(mail::v1::Folder * folder, FindFolder(state.get(), req.folder()));
  old_name = folder->name();
  if (new_name == old_name) return common::AlreadyExistsError("folder already has that name");
  if (IsDescendant(new_name, old_name)) {
    return common::InvalidArgumentError("cannot move a folder into itself");
  }
  for (const auto& [id, f] : state->folders) {
    if (f.name() == new_name) return common::AlreadyExistsError("folder already exists");
  }
  PendingWrite w;
  w.generation = state->generation;
  uint64_t modseq = ++state->modseq;
  mail::v1::RenameFolderResponse resp;
  uint32_t index = 0;
  std::vector<uint32_t> to_rename;
  for (const auto& [id, f] : state->folders) {
    if (f.name() == old_name || IsDescendant(f.name(), old_name)) to_rename.push_back(id);
  }
  for (uint32_t id : to_rename) {
    mail::v1::Folder& f = state->folders[id];
    std::string renamed = new_name + f.name().substr(old_name.size());
    if (!ValidateFolderName(renamed).ok()) {
      state->loaded = false;
      return common::InvalidArgumentError("a child folder's new name would be too long");
    }
    f.set_name(renamed);
    PutFolder(req.mailbox_id(), f, &w);
    *resp.add_renamed() = f;
    mail::v1::ChangeEvent e;
    e.set_folder_id(id);
    e.set_kind(mail::v1::CHANGE_KIND_FOLDER_RENAMED);
    e.set_modseq(modseq);
    e.set_folder_name(renamed);
    AddChange(req.mailbox_id(), std::move(e), index++, cf(kChangelog), &w);
  }
  // Create missing parents of the new name.
  for (size_t pos = new_name.find(kFolderDelimiter); pos != std::string::npos;
       pos = new_name.find(kFolderDelimiter, pos + 1)) {
    std::string parent = new_name.substr(0, pos);
    bool exists = false;
    for (const auto& [id, f] : state->folders) exists = exists || f.name() == parent;
    if (!exists) {
      auto st = CreateFolderLocked(req.mailbox_id(), state.get(), parent, "", 0, &w);
      if (!st.ok()) {
        state->loaded = false;
        return st.status();
      }
    }
  }
  PutCounters(req.mailbox_id(), *state, &w);
  Status s = committer_->Commit(&w);
  if (!s.ok()) {
    state->loaded = false;
    return s;
  }
  return resp;
}

StatusOr<mail::v1::Folder> RocksMailboxStore::SubscribeFolder(
    const mail::v1::SubscribeFolderRequest& req) {
  std::string name = NormalizeFolderName(req.name());
  MAIL_RETURN_IF_ERROR(ValidateFolderName(name));
  std::unique_lock<std::mutex> lock;
  MAIL_ASSIGN_OR_RETURN(auto state, LockedState(req.mailbox_id(), &lock));
  PendingWrite w;
  w.generation = state->generation;
  if (req.subscribed()) {
    if (state->subscriptions.size() >= 10000) {
      return common::ResourceExhaustedError("too many subscriptions");
    }
    w.Put(cf(kSubscription), keys::SubscriptionKey(req.mailbox_id(), name), "");
  } else {
    w.Delete(cf(kSubscription), keys::SubscriptionKey(req.mailbox_id(), name));
  }
  // Told to the frontends (a LIST or LSUB they answer from memory must be read again), but
  // not kept in the change log: a subscription has no MODSEQ and no client resyncs it.
  mail::v1::ChangeEvent e;
  e.set_mailbox_id(req.mailbox_id());
  e.set_kind(mail::v1::CHANGE_KIND_SUBSCRIPTION);
  e.set_folder_name(name);
  w.AddEvent(std::move(e));
  MAIL_RETURN_IF_ERROR(committer_->Commit(&w));
  if (req.subscribed()) {
    state->subscriptions.insert(name);
  } else {
    state->subscriptions.erase(name);
  }
  mail::v1::Folder out;
  for (const auto& [id, f] : state->folders) {
    if (f.name() == name) out = f;
  }
  out.set_name(name);
  out.set_subscribed(req.subscribed());
  return out;
}

// ---------------------------------------------------------------------------------------
// Messages.

Status RocksMailboxStore::ScanMessages(
    uint64_t mailbox_id, uint32_t folder_id,
    const google::protobuf::RepeatedPtrField<mail::v1::UidRange>& uids,
    const std::function<bool(mail::v1::MessageRecord&)>& fn) {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  if (uids.empty()) {
    ranges.emplace_back(1, UINT32_MAX);
  } else {
    MAIL_ASSIGN_OR_RETURN(ranges, internal::NormalizeRanges(uids));
  }
  std::string prefix = keys::MessagePrefix(mailbox_id, folder_id);
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(kMessage)));
  for (const auto& [first, last] : ranges) {
    for (it->Seek(keys::MessageKey(mailbox_id, folder_id, first));
         it->Valid() && it->key().starts_with(prefix); it->Next()) {
      uint32_t uid = keys::MessageKeyUid(it->key().ToStringView());
      if (uid > last) break;
      mail::v1::MessageRecord rec;
      if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return common::InternalError("corrupt message record");
      }
      if (!fn(rec)) return Status::Ok();
    }
    if (!it->status().ok()) return FromRocks(it->status(), "scan messages");
  }
  return Status::Ok();
}

StatusOr<mail::v1::AppendResponse> RocksMailboxStore::Append(const mail::v1::AppendRequest& req) {
  // An append is a delivery to one target that may bypass the quota (server notices).
  google::protobuf::RepeatedPtrField<mail::v1::DeliveryTarget> targets;
  auto* t = targets.Add();
  t->set_mailbox_id(req.mailbox_id());
  *t->mutable_folder() = req.folder();
  *t->mutable_flags() = req.flags();
  MAIL_ASSIGN_OR_RETURN(mail::v1::DeliverResponse resp,
                        DeliverMessage(targets, req.message(), req.internal_date_unix(),
                                       req.ignore_quota()));
  const mail::v1::DeliveryResult& r = resp.results(0);
  if (r.code() != 0) return Status(static_cast<common::StatusCode>(r.code()), r.message());
  return r.appended();
}

StatusOr<mail::v1::DeliverResponse> RocksMailboxStore::Deliver(
    const mail::v1::DeliverRequest& req) {
  return DeliverMessage(req.targets(), req.message(), req.internal_date_unix(),
                        /*ignore_quota=*/false);
}

StatusOr<mail::v1::DeliverResponse> RocksMailboxStore::DeliverMessage(
    const google::protobuf::RepeatedPtrField<mail::v1::DeliveryTarget>& targets,
    const std::string& message, int64_t internal_date, bool ignore_quota) {
  if (message.empty()) return common::InvalidArgumentError("message is empty");
  if (message.size() > options_.max_message_bytes) {
    return common::ResourceExhaustedError("message is larger than the store accepts");
  }
  if (targets.size() > 10000) return common::InvalidArgumentError("too many recipients");
  // Hashing and MIME parsing happen before any lock is taken.
  PreparedBody body;
  body.sha = internal::Sha256(message);
  body.raw = &message;
  {
    mail::v1::MessageStructure parsed = ParseMessage(message);
    body.structure = parsed.SerializeAsString();
    body.search_headers = EncodeSearchHeaders(parsed.decoded_headers());
  }
  body.wire_size = CrlfSize(message);
  uint64_t size = message.size();
  int64_t now = NowUnix();

  // Lock every target mailbox (in id order, so no deadlock), allocate UIDs, queue one write
  // carrying one body for all, release the locks, and wait for the single sync.
  std::vector<uint64_t> ids;
  for (const auto& t : targets) ids.push_back(t.mailbox_id());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::map<uint64_t, std::pair<std::shared_ptr<MailboxState>, std::unique_lock<std::mutex>>>
      locked;
  mail::v1::DeliverResponse resp;
  for (const auto& t : targets) {
    auto* r = resp.add_results();
    r->set_mailbox_id(t.mailbox_id());
  }
  for (uint64_t id : ids) {
    std::unique_lock<std::mutex> lock;
    auto state = LockedState(id, &lock);
    if (!state.ok()) continue;  // Reported per target below.
    locked.emplace(id, std::make_pair(*state, std::move(lock)));
  }
  PendingWrite w;
  w.generation = committer_->generation();
  int delivered = 0;
  for (int i = 0; i < targets.size(); ++i) {
    const auto& t = targets.Get(i);
    auto* r = resp.mutable_results(i);
    auto it = locked.find(t.mailbox_id());
    if (it == locked.end()) {
      r->set_code(static_cast<int>(common::StatusCode::kNotFound));
      r->set_message("mailbox not found");
      continue;
    }
    MailboxState* state = it->second.first.get();
    auto flags = internal::NormalizeFlags(t.flags());
    if (!flags.ok()) {
      r->set_code(static_cast<int>(flags.status().code()));
      r->set_message(flags.status().message());
      continue;
    }
    mail::v1::FolderRef ref = t.folder();
    auto folder_or = FindFolder(state, ref);
    if (!folder_or.ok()) {
      r->set_code(static_cast<int>(common::StatusCode::kNotFound));
      r->set_message("folder not found");
      continue;
    }
    mail::v1::Folder* folder = *folder_or;
    if (!ignore_quota && state->quota > 0 && state->TotalSize() + size > state->quota) {
      r->set_code(static_cast<int>(common::StatusCode::kResourceExhausted));
      r->set_message("mailbox is full (quota exceeded)");
      continue;
    }
    if (folder->uidnext() == UINT32_MAX) {
      r->set_code(static_cast<int>(common::StatusCode::kResourceExhausted));
      r->set_message("folder has run out of UIDs");
      continue;
    }
    mail::v1::MessageRecord rec;
    rec.set_uid(folder->uidnext());
    for (const auto& f : *flags) rec.add_flags(f);
    rec.set_modseq(++state->modseq);
    rec.set_internal_date_unix(internal_date != 0 ? internal_date : now);
    rec.set_size(size);
    rec.set_wire_size(body.wire_size);
    rec.set_body_sha256(body.sha);
    rec.set_message_id(state->next_message_id++);
    rec.set_arrived_unix(now);
    folder->set_uidnext(rec.uid() + 1);
    folder->set_highest_modseq(rec.modseq());
    folder->set_messages(folder->messages() + 1);
    folder->set_size(folder->size() + size);
    if (!internal::HasFlag(rec, "\\Seen")) folder->set_unseen(folder->unseen() + 1);
    if (internal::HasFlag(rec, "\\Deleted")) folder->set_deleted(folder->deleted() + 1);
    std::string key = keys::MessageKey(t.mailbox_id(), folder->id(), rec.uid());
    w.Put(cf(kMessage), key, rec.SerializeAsString());
    w.Put(cf(kMeta), keys::SearchSummaryKey(key), body.search_headers);
    PutFolder(t.mailbox_id(), *folder, &w);
    PutCounters(t.mailbox_id(), *state, &w);
    mail::v1::ChangeEvent e;
    e.set_folder_id(folder->id());
    e.set_kind(mail::v1::CHANGE_KIND_APPEND);
    e.set_modseq(rec.modseq());
    e.add_uids(rec.uid());
    *e.mutable_flags() = rec.flags();
    e.set_uidnext(folder->uidnext());
    e.set_messages(folder->messages());
    AddChange(t.mailbox_id(), std::move(e), 0, cf(kChangelog), &w);
    auto* a = r->mutable_appended();
    a->set_folder_id(folder->id());
    a->set_uidvalidity(folder->uidvalidity());
    a->set_uid(rec.uid());
    a->set_modseq(rec.modseq());
    a->set_message_id(rec.message_id());
    ++delivered;
  }
  if (delivered == 0) return resp;
  w.Put(cf(kBlob), body.sha, *body.raw);
  w.Put(cf(kStructure), body.sha, body.structure);
  w.Merge(cf(kBlobRef), body.sha, keys::EncodeCount(delivered));
  Status s = committer_->Enqueue(&w);
  if (!s.ok()) {
    for (auto& [id, sl] : locked) sl.first->loaded = false;
    return s;
  }
  locked.clear();  // Releases the mailbox locks.
  MAIL_RETURN_IF_ERROR(committer_->Wait(&w));
  return resp;
}

Status RocksMailboxStore::Fetch(const mail::v1::FetchRequest& req,
                                const std::function<bool(mail::v1::FetchResponse&)>& sink,
                                size_t chunk) {
  uint32_t folder_id, uidvalidity;
  uint64_t highest;
  {
    std::unique_lock<std::mutex> lock;
    MAIL_ASSIGN_OR_RETURN(auto state, LockedState(req.mailbox_id(), &lock));
    MAIL_ASSIGN_OR_RETURN(mail::v1::Folder * folder, FindFolder(state.get(), req.folder()));
    folder_id = folder->id();
    uidvalidity = folder->uidvalidity();
    highest = folder->highest_modseq();
  }
  mail::v1::FetchResponse resp;
  resp.set_uidvalidity(uidvalidity);
  resp.set_highest_modseq(highest);
  resp.set_folder_id(folder_id);
  bool stopped = false;
  bool sent_any = false;
  std::map<std::string, std::string> structure_cache;  // Per chunk.
  Status scan_status;
  auto flush = [&]() {
    sent_any = true;
    if (!sink(resp)) stopped = true;
    resp.clear_messages();
    structure_cache.clear();
  };
  Status s = ScanMessages(req.mailbox_id(), folder_id, req.uids(), [&](mail::v1::MessageRecord& rec) {
    if (req.changed_since() != 0 && rec.modseq() <= req.changed_since()) return true;
    if (req.with_structure()) {
      auto it = structure_cache.find(rec.body_sha256());
      if (it == structure_cache.end()) {
        std::string v;
        rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), cf(kStructure), rec.body_sha256(), &v);
        if (!rs.ok()) {
          scan_status = FromRocks(rs, "read message structure");
          return false;
        }
        it = structure_cache.emplace(rec.body_sha256(), std::move(v)).first;
      }
      if (!rec.mutable_structure()->ParseFromString(it->second)) {
        scan_status = common::InternalError("corrupt message structure");
        return false;
      }
    }
    *resp.add_messages() = std::move(rec);
    if (static_cast<size_t>(resp.messages_size()) >= chunk) flush();
    return !stopped;
  });
  MAIL_RETURN_IF_ERROR(s);
  MAIL_RETURN_IF_ERROR(scan_status);
  if (!stopped && (resp.messages_size() > 0 || !sent_any)) flush();
  return Status::Ok();
}

Status RocksMailboxStore::GetBodies(const mail::v1::GetBodiesRequest& req,
                                    const std::function<bool(mail::v1::GetBodiesResponse&)>& sink) {
  if (req.uids_size() > kMaxBodiesPerCall) {
    return common::InvalidArgumentError("at most " + std::to_string(kMaxBodiesPerCall) +
                                        " messages per call");
  }
  mail::v1::GetBodyRequest one;
  one.set_mailbox_id(req.mailbox_id());
  {
    // A missing mailbox or folder fails the call; after this, NOT_FOUND means the message.
    std::unique_lock<std::mutex> lock;
    MAIL_ASSIGN_OR_RETURN(auto state, LockedState(req.mailbox_id(), &lock));
    MAIL_ASSIGN_OR_RETURN(mail::v1::Folder * folder, FindFolder(state.get(), req.folder()));
    one.mutable_folder()->set_id(folder->id());
  }
  for (uint32_t uid : req.uids()) {
    one.set_uid(uid);
    mail::v1::GetBodiesResponse resp;
    resp.set_uid(uid);
    Status s = GetBody(one, [&](mail::v1::GetBodyResponse& chunk) {
      resp.mutable_data()->append(chunk.data());
      return true;
    });
    if (!s.ok() && s.code() != common::StatusCode::kNotFound) return s;
    resp.set_found(s.ok());
    if (!s.ok()) resp.clear_data();
    if (!sink(resp)) break;
  }
  return Status::Ok();
}

Status RocksMailboxStore::GetBody(const mail::v1::GetBodyRequest& req,
                                  const std::function<bool(mail::v1::GetBodyResponse&)>& sink) {
  uint32_t folder_id;
  {
    std::unique_lock<std::mutex> lock;
    MAIL_ASSIGN_OR_RETURN(auto state, LockedState(req.mailbox_id(), &lock));
    MAIL_ASSIGN_OR_RETURN(mail::v1::Folder * folder, FindFolder(state.get(), req.folder()));
    folder_id = folder->id();
  }
  // One snapshot for record, structure and body, so an expunge in between cannot split them.
  const rocksdb::Snapshot* snap = db_->GetSnapshot();
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* s;
    ~Release() { db->ReleaseSnapshot(s); }
  } release{db_, snap};
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  std::string v;
  rocksdb::Status rs =
      db_->Get(ro, cf(kMessage), keys::MessageKey(req.mailbox_id(), folder_id, req.uid()), &v);
  if (rs.IsNotFound()) return common::NotFoundError("no message with that UID");
  MAIL_RETURN_IF_ERROR(FromRocks(rs, "read message"));
  mail::v1::MessageRecord rec;
  if (!rec.ParseFromString(v)) return common::InternalError("corrupt message record");
  rocksdb::PinnableSlice raw;
  rs = db_->Get(ro, cf(kBlob), rec.body_sha256(), &raw);
  MAIL_RETURN_IF_ERROR(FromRocks(rs, "read message body"));
  uint64_t begin = 0, size = raw.size();
  if (!req.part().empty() || req.section() != mail::v1::BODY_SECTION_FULL) {
    rs = db_->Get(ro, cf(kStructure), rec.body_sha256(), &v);
    MAIL_RETURN_IF_ERROR(FromRocks(rs, "read message structure"));
    mail::v1::MessageStructure structure;
    if (!structure.ParseFromString(v)) return common::InternalError("corrupt structure");
    MAIL_ASSIGN_OR_RETURN(auto range,
                          internal::ResolveSection(structure, req.part(), req.section()));
    begin = std::min<uint64_t>(range.first, raw.size());
    size = std::min<uint64_t>(range.second, raw.size() - begin);
  }
  uint64_t section_size = size;
  uint64_t off = std::min(req.offset(), size);
  begin += off;
  size -= off;
  if (req.length() != 0) size = std::min(size, req.length());
  mail::v1::GetBodyResponse resp;
  resp.set_section_size(section_size);
  if (size == 0) {
    sink(resp);
    return Status::Ok();
  }
  while (size > 0) {
    uint64_t n = std::min<uint64_t>(size, kBodyChunk);
    resp.set_data(raw.data() + begin, n);
    if (!sink(resp)) break;
    resp.clear_section_size();
    begin += n;
    size -= n;
  }
  return Status::Ok();
}

Status RocksMailboxStore::ScanSearchSummaries(
    uint64_t mailbox_id, uint32_t folder_id,
    const google::protobuf::RepeatedPtrField<mail::v1::UidRange>& uids,
    const rocksdb::ReadOptions& ro, const std::vector<int>& codes,
    const std::vector<std::string>& needles, mail::v1::SearchTextResponse* resp,
    std::vector<std::pair<std::string, uint32_t>>* unsummarized) {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  if (uids.empty()) {
    ranges.emplace_back(1, UINT32_MAX);
  } else {
    MAIL_ASSIGN_OR_RETURN(ranges, internal::NormalizeRanges(uids));
  }
  const std::string prefix = keys::MessagePrefix(mailbox_id, folder_id);
  std::unique_ptr<rocksdb::Iterator> records(db_->NewIterator(ro, cf(kMessage)));
  std::unique_ptr<rocksdb::Iterator> summaries(db_->NewIterator(ro, cf(kMeta)));
  std::vector<SearchHeadersMatch> answers(codes.size());
  for (const auto& [first, last] : ranges) {
    const std::string start = keys::MessageKey(mailbox_id, folder_id, first);
    summaries->Seek(keys::SearchSummaryKey(start));
    std::string summary_key;
    for (records->Seek(start); records->Valid() && records->key().starts_with(prefix);
         records->Next()) {
      const rocksdb::Slice key = records->key();
      const uint32_t uid = keys::MessageKeyUid(key.ToStringView());
      if (uid > last) break;
      // Summaries sit under the records' keys (prefixed); a summary without a record (none
      // should exist) is skipped, a record without a summary is searched through its
      // structure.
      summary_key = keys::SearchSummaryKey(key.ToStringView());
      while (summaries->Valid() && summaries->key().compare(summary_key) < 0) summaries->Next();
      bool known = summaries->Valid() && summaries->key() == summary_key;
      for (size_t i = 0; known && i < codes.size(); ++i) {
        answers[i] = SearchHeadersContain(summaries->value().ToStringView(), codes[i], needles[i]);
        known = answers[i] != SearchHeadersMatch::kUnknown;
      }
      if (known) {
        for (size_t i = 0; i < codes.size(); ++i) {
          if (answers[i] == SearchHeadersMatch::kYes) {
            resp->mutable_matches(static_cast<int>(i))->add_uids(uid);
          }
        }
        continue;
      }
      mail::v1::MessageRecord rec;
      if (!rec.ParseFromArray(records->value().data(),
                              static_cast<int>(records->value().size()))) {
        return common::InternalError("corrupt message record");
      }
      unsummarized->emplace_back(std::move(*rec.mutable_body_sha256()), uid);
    }
    if (!records->status().ok()) return FromRocks(records->status(), "scan messages");
    if (!summaries->status().ok()) return FromRocks(summaries->status(), "scan search summaries");
  }
  return Status::Ok();
}

StatusOr<mail::v1::SearchTextResponse> RocksMailboxStore::SearchText(
    const mail::v1::SearchTextRequest& req) {
  constexpr int kMaxCriteria = 256;
  constexpr uint64_t kDefaultTextBytes = 10ull << 20;
  if (req.criteria_size() > kMaxCriteria) {
    return common::InvalidArgumentError("too many search criteria");
  }
  uint32_t folder_id;
  {
    std::unique_lock<std::mutex> lock;
    MAIL_ASSIGN_OR_RETURN(auto state, LockedState(req.mailbox_id(), &lock));
    MAIL_ASSIGN_OR_RETURN(mail::v1::Folder * folder, FindFolder(state.get(), req.folder()));
    folder_id = folder->id();
  }
  const size_t max_text = static_cast<size_t>(
      req.max_text_bytes() != 0 ? std::min<uint64_t>(req.max_text_bytes(), SIZE_MAX)
                                : kDefaultTextBytes);
  std::vector<std::string> needles;
  bool any_headers = false;  // TEXT: the decoded header block.
  bool any_body = false;     // BODY or TEXT: the message body (and its full structure).
  mail::v1::SearchTextResponse resp;
  for (const auto& c : req.criteria()) {
    needles.push_back(common::FoldCase(c.text()));
    if (c.header().empty()) {
      any_body = true;
      any_headers = any_headers || c.include_headers();
    }
    resp.add_matches();
  }
  if (needles.empty()) return resp;
  // One snapshot for records, structures and bodies, so an expunge in between cannot split
  // them.
  const rocksdb::Snapshot* snap = db_->GetSnapshot();
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* s;
    ~Release() { db->ReleaseSnapshot(s); }
  } release{db_, snap};
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  Status read_status;
  // Header keys alone (SEARCH FROM x) parse only the header fields of each stored structure
  // and never read a body.
  mail::v1::MessageStructure structure;
  mail::v1::MessageStructureHeaders headers_only;
  rocksdb::PinnableSlice stored;
  // Structures and bodies are keyed by content hash: read in hash order, neighbouring reads
  // share the memtable's and the block cache's paths (about twice as fast as UID order on a
  // large folder), and a body stored in the folder more than once is searched once.
  std::vector<std::pair<std::string, uint32_t>> wanted;  // (body_sha256, uid)
  // Header keys alone, all on fields the search summaries hold (SEARCH FROM/TO/CC/BCC/SUBJECT):
  // the summaries are read in key order beside the records, and only a message without a
  // usable summary goes to its structure.
  std::vector<int> codes;
  bool use_summaries = !any_body;
  for (const auto& c : req.criteria()) {
    codes.push_back(SearchHeaderCode(c.header()));
    use_summaries = use_summaries && codes.back() != 0;
  }
  if (use_summaries) {
    MAIL_RETURN_IF_ERROR(ScanSearchSummaries(req.mailbox_id(), folder_id, req.uids(), ro, codes,
                                             needles, &resp, &wanted));
  } else {
    MAIL_RETURN_IF_ERROR(ScanMessages(req.mailbox_id(), folder_id, req.uids(),
                                      [&](mail::v1::MessageRecord& rec) {
                                        wanted.emplace_back(
                                            std::move(*rec.mutable_body_sha256()), rec.uid());
                                        return true;
                                      }));
  }
  std::sort(wanted.begin(), wanted.end());
  // The UIDs of wanted[begin, end) (one body) match criterion i.
  auto add_matches = [&](int i, size_t begin, size_t end) {
    for (size_t k = begin; k < end; ++k) resp.mutable_matches(i)->add_uids(wanted[k].second);
  };
  auto search_one = [&](size_t begin, size_t end) {
    const std::string& sha = wanted[begin].first;
    stored.Reset();
    rocksdb::Status rs = db_->Get(ro, cf(kStructure), sha, &stored);
    // A message appended after the snapshot was taken: not part of this search.
    if (rs.IsNotFound()) return true;
    const bool parsed =
        rs.ok() && (any_body ? structure.ParseFromArray(stored.data(), static_cast<int>(stored.size()))
                             : headers_only.ParseFromArray(stored.data(),
                                                           static_cast<int>(stored.size())));
    if (!parsed) {
      read_status = rs.ok() ? common::InternalError("corrupt message structure")
                            : FromRocks(rs, "read message structure");
      return false;
    }
    const auto& headers = any_body ? structure.decoded_headers() : headers_only.decoded_headers();
    std::string body;
    if (any_body) {
      rocksdb::PinnableSlice raw;
      rs = db_->Get(ro, cf(kBlob), sha, &raw);
      if (rs.IsNotFound()) return true;
      if (!rs.ok()) {
        read_status = FromRocks(rs, "read message body");
        return false;
      }
      body = common::FoldedBodyText(raw.ToStringView(), structure.body(), max_text);
    }
    std::optional<std::string> header_block;
    if (any_headers) header_block = common::FoldedHeaderBlock(structure);
    for (int i = 0; i < req.criteria_size(); ++i) {
      const mail::v1::TextCriterion& c = req.criteria(i);
      const std::string& needle = needles[static_cast<size_t>(i)];
      const bool match =
          !c.header().empty()
              ? common::HeaderFieldContains(headers, c.header(), needle)
              : body.find(needle) != std::string::npos ||
                    (c.include_headers() && header_block->find(needle) != std::string::npos);
      if (match) add_matches(i, begin, end);
    }
    return true;
  };
  for (size_t begin = 0; begin < wanted.size();) {
    size_t end = begin + 1;
    while (end < wanted.size() && wanted[end].first == wanted[begin].first) ++end;
    if (!search_one(begin, end)) break;
    begin = end;
  }
  MAIL_RETURN_IF_ERROR(read_status);
  for (auto& m : *resp.mutable_matches()) std::sort(m.mutable_uids()->begin(), m.mutable_uids()->end());
  return resp;
}

StatusOr<mail::v1::StoreFlagsResponse> RocksMailboxStore::StoreFlags(
    const mail::v1::StoreFlagsRequest& req) {
  MAIL_ASSIGN_OR_RETURN(std::vector<std::string> flags, internal::NormalizeFlags(req.flags()));
  std::unique_lock<std::mutex> lock;
  MAIL_ASSIGN_OR_RETURN(auto state, LockedState(req.mailbox_id(), &lock));
  MAIL_ASSIGN_OR_RETURN(mail::v1::Folder * folder, FindFolder(state.get(), req.folder()));
  PendingWrite w;
  w.generation = state->generation;
  mail::v1::StoreFlagsResponse resp;
  std::set<std::string> change(flags.begin(), flags.end());
  uint64_t modseq = 0;
  uint32_t index = 0;
  int64_t unseen_delta = 0, deleted_delta = 0;
  Status s = ScanMessages(req.mailbox_id(), folder->id(), req.uids(), [&](mail::v1::MessageRecord& rec) {
    if (req.has_unchanged_since() && rec.modseq() > req.unchanged_since()) {
      resp.add_modified(rec.uid());
      return true;
    }
    std::set<std::string> cur(rec.flags().begin(), rec.flags().end());
    std::set<std::string> next;
    auto lower_in = [](const std::set<std::string>& set, const std::string& f) {
      std::string l = internal::Lower(f);
      for (const auto& x : set) {
        if (internal::Lower(x) == l) return true;
      }
      return false;
    };
    switch (req.mode()) {
      case mail::v1::FLAG_MODE_ADD:
        next = cur;
        for (const auto& f : change) {
          if (!lower_in(next, f)) next.insert(f);
        }
        break;
      case mail::v1::FLAG_MODE_REMOVE:
        for (const auto& f : cur) {
          if (!lower_in(change, f)) next.insert(f);
        }
        break;
      default:
        next = change;
        break;
    }
    if (next.size() > 128) next = cur;  // Bounded; silently keeps the old flags.
    bool was_seen = lower_in(cur, "\\Seen"), is_seen = lower_in(next, "\\Seen");
    bool was_del = lower_in(cur, "\\Deleted"), is_del = lower_in(next, "\\Deleted");
    if (next != cur) {
      if (modseq == 0) modseq = ++state->modseq;
      rec.clear_flags();
      for (const auto& f : next) rec.add_flags(f);
      rec.set_modseq(modseq);
      w.Put(cf(kMessage), keys::MessageKey(req.mailbox_id(), folder->id(), rec.uid()),
            rec.SerializeAsString());
      unseen_delta += (was_seen ? 1 : 0) - (is_seen ? 1 : 0);
      deleted_delta += (is_del ? 1 : 0) - (was_del ? 1 : 0);
      mail::v1::ChangeEvent e;
      e.set_folder_id(folder->id());
      e.set_kind(mail::v1::CHANGE_KIND_FLAGS);
      e.set_modseq(modseq);
      e.add_uids(rec.uid());
      *e.mutable_flags() = rec.flags();
      AddChange(req.mailbox_id(), std::move(e), index++, cf(kChangelog), &w);
    }
    *resp.add_messages() = rec;
    return true;
  });
  if (!s.ok()) {
    state->loaded = false;
    return s;
  }
  if (modseq != 0) {
    folder->set_unseen(static_cast<uint32_t>(folder->unseen() + unseen_delta));
    folder->set_deleted(static_cast<uint32_t>(folder->deleted() + deleted_delta));
    folder->set_highest_modseq(modseq);
    PutFolder(req.mailbox_id(), *folder, &w);
    PutCounters(req.mailbox_id(), *state, &w);
    s = committer_->Commit(&w);
    if (!s.ok()) {
      state->loaded = false;
      return s;
    }
  }
  resp.set_highest_modseq(folder->highest_modseq());
  return resp;
}

StatusOr<mail::v1::ExpungeResponse> RocksMailboxStore::ExpungeLocked(
    uint64_t mailbox_id, MailboxState* state, mail::v1::Folder* folder,
    const std::vector<mail::v1::MessageRecord>& victims, PendingWrite* w) {
  mail::v1::ExpungeResponse resp;
  if (victims.empty()) {
    resp.set_highest_modseq(folder->highest_modseq());
    return resp;
  }
  uint64_t modseq = ++state->modseq;
  mail::v1::ChangeEvent e;
  e.set_folder_id(folder->id());
  e.set_kind(mail::v1::CHANGE_KIND_EXPUNGE);
  e.set_modseq(modseq);
  for (const auto& rec : victims) {
    std::string key = keys::MessageKey(mailbox_id, folder->id(), rec.uid());
    w->Delete(cf(kMessage), key);
    w->Delete(cf(kMeta), keys::SearchSummaryKey(key));
    w->Merge(cf(kBlobRef), rec.body_sha256(), keys::EncodeCount(-1));
    folder->set_messages(folder->messages() - 1);
    folder->set_size(folder->size() - rec.size());
    if (!internal::HasFlag(rec, "\\Seen")) folder->set_unseen(folder->unseen() - 1);
    if (internal::HasFlag(rec, "\\Deleted")) folder->set_deleted(folder->deleted() - 1);
    resp.add_expunged(rec.uid());
    e.add_uids(rec.uid());
  }
  folder->set_highest_modseq(modseq);
  e.set_uidnext(folder->uidnext());
  e.set_messages(folder->messages());
  PutFolder(mailbox_id, *folder, w);
  PutCounters(mailbox_id, *state, w);
  AddChange(mailbox_id, std::move(e), 0, cf(kChangelog), w);
  resp.set_highest_modseq(modseq);
  return resp;
}

StatusOr<mail::v1::ExpungeResponse> RocksMailboxStore::Expunge(
    const mail::v1::ExpungeRequest& req) {
  std::unique_lock<std::mutex> lock;
  MAIL_ASSIGN_OR_RETURN(auto state, LockedState(req.mailbox_id(), &lock));
  MAIL_ASSIGN_OR_RETURN(mail::v1::Folder * folder, FindFolder(state.get(), req.folder()));
  std::vector<mail::v1::MessageRecord> victims;
  MAIL_RETURN_IF_ERROR(ScanMessages(req.mailbox_id(), folder->id(), req.uids(),
                                    [&](mail::v1::MessageRecord& rec) {
                                      if (!req.only_deleted() ||
                                          internal::HasFlag(rec, "\\Deleted")) {
                                        victims.push_back(std::move(rec));
                                      }
                                      return true;
                                    }));
  PendingWrite w;
  w.generation = state->generation;
  auto resp = ExpungeLocked(req.mailbox_id(), state.get(), folder, victims, &w);
  if (!resp.ok() || victims.empty()) return resp;
  std::vector<std::string> shas;
  for (const auto& v : victims) shas.push_back(v.body_sha256());
  Status s = CommitAndCollect(&w, shas);
  if (!s.ok()) {
    state->loaded = false;
    return s;
  }
  return resp;
}

StatusOr<mail::v1::CopyResponse> RocksMailboxStore::Copy(const mail::v1::CopyRequest& req) {
  std::unique_lock<std::mutex> lock;
  MAIL_ASSIGN_OR_RETURN(auto state, LockedState(req.mailbox_id(), &lock));
  MAIL_ASSIGN_OR_RETURN(mail::v1::Folder * src, FindFolder(state.get(), req.folder()));
  MAIL_ASSIGN_OR_RETURN(mail::v1::Folder * dst, FindFolder(state.get(), req.destination()));
  std::vector<mail::v1::MessageRecord> records;
  MAIL_RETURN_IF_ERROR(ScanMessages(req.mailbox_id(), src->id(), req.uids(),
                                    [&](mail::v1::MessageRecord& rec) {
                                      records.push_back(std::move(rec));
                                      return true;
                                    }));
  mail::v1::CopyResponse resp;
  resp.set_destination_uidvalidity(dst->uidvalidity());
  resp.set_destination_folder_id(dst->id());
  if (records.empty()) {
    resp.set_highest_modseq(src->highest_modseq());
    return resp;
  }
  bool same_folder = src->id() == dst->id();
  if (req.move() && same_folder) {
    resp.set_highest_modseq(src->highest_modseq());
    for (const auto& r : records) {
      resp.add_source_uids(r.uid());
      resp.add_destination_uids(r.uid());
    }
    return resp;
  }
  uint64_t added = 0;
  for (const auto& r : records) added += r.size();
  if (!req.move() && state->quota > 0 && state->TotalSize() + added > state->quota) {
    return common::ResourceExhaustedError("mailbox is full (quota exceeded)");
  }
  if (static_cast<uint64_t>(dst->uidnext()) + records.size() >= UINT32_MAX) {
    return common::ResourceExhaustedError("folder has run out of UIDs");
  }
  PendingWrite w;
  w.generation = state->generation;
  uint64_t modseq = ++state->modseq;
  int64_t now = NowUnix();
  uint32_t index = 0;
  // The copies keep their search summaries (a message stored before summaries existed has
  // none; its copy has none either and is searched through its structure).
  std::unique_ptr<rocksdb::Iterator> summaries(
      db_->NewIterator(rocksdb::ReadOptions(), cf(kMeta)));
  for (const auto& r : records) {
    std::string src_key = keys::MessageKey(req.mailbox_id(), src->id(), r.uid());
    const std::string src_summary = keys::SearchSummaryKey(src_key);
    summaries->Seek(src_summary);
    const bool has_summary = summaries->Valid() && summaries->key() == src_summary;
    mail::v1::MessageRecord copy = r;
    copy.set_uid(dst->uidnext());
    copy.set_modseq(modseq);
    copy.set_arrived_unix(now);
    if (!req.move()) {
      copy.set_message_id(state->next_message_id++);
      w.Merge(cf(kBlobRef), r.body_sha256(), keys::EncodeCount(1));
    }
    dst->set_uidnext(copy.uid() + 1);
    dst->set_messages(dst->messages() + 1);
    dst->set_size(dst->size() + copy.size());
    if (!internal::HasFlag(copy, "\\Seen")) dst->set_unseen(dst->unseen() + 1);
    if (internal::HasFlag(copy, "\\Deleted")) dst->set_deleted(dst->deleted() + 1);
    std::string dst_key = keys::MessageKey(req.mailbox_id(), dst->id(), copy.uid());
    w.Put(cf(kMessage), dst_key, copy.SerializeAsString());
    if (has_summary) {
      w.Put(cf(kMeta), keys::SearchSummaryKey(dst_key), summaries->value().ToString());
    }
    resp.add_source_uids(r.uid());
    resp.add_destination_uids(copy.uid());
    mail::v1::ChangeEvent e;
    e.set_folder_id(dst->id());
    e.set_kind(mail::v1::CHANGE_KIND_APPEND);
    e.set_modseq(modseq);
    e.add_uids(copy.uid());
    *e.mutable_flags() = copy.flags();
    e.set_uidnext(dst->uidnext());
    e.set_messages(dst->messages());
    AddChange(req.mailbox_id(), std::move(e), index++, cf(kChangelog), &w);
  }
  dst->set_highest_modseq(modseq);
  PutFolder(req.mailbox_id(), *dst, &w);
  if (req.move()) {
    // The expunge gets the next modseq; references move with the records (no ref change).
    uint64_t expunge_modseq = ++state->modseq;
    mail::v1::ChangeEvent e;
    e.set_folder_id(src->id());
    e.set_kind(mail::v1::CHANGE_KIND_EXPUNGE);
    e.set_modseq(expunge_modseq);
    for (const auto& r : records) {
      std::string src_key = keys::MessageKey(req.mailbox_id(), src->id(), r.uid());
      w.Delete(cf(kMessage), src_key);
      w.Delete(cf(kMeta), keys::SearchSummaryKey(src_key));
      src->set_messages(src->messages() - 1);
      src->set_size(src->size() - r.size());
      if (!internal::HasFlag(r, "\\Seen")) src->set_unseen(src->unseen() - 1);
      if (internal::HasFlag(r, "\\Deleted")) src->set_deleted(src->deleted() - 1);
      e.add_uids(r.uid());
    }
    src->set_highest_modseq(expunge_modseq);
    e.set_uidnext(src->uidnext());
    e.set_messages(src->messages());
    PutFolder(req.mailbox_id(), *src, &w);
    AddChange(req.mailbox_id(), std::move(e), 0, cf(kChangelog), &w);
    resp.set_highest_modseq(expunge_modseq);
  } else {
    resp.set_highest_modseq(src->highest_modseq());
  }
  PutCounters(req.mailbox_id(), *state, &w);
  Status s = committer_->Commit(&w);
  if (!s.ok()) {
    state->loaded = false;
    return s;
  }
  return resp;
}

// ---------------------------------------------------------------------------------------
// Bodies: freed when their last reference goes.

Status RocksMailboxStore::CommitAndCollect(PendingWrite* w,
                                           const std::vector<std::string>& freed_bodies) {
  MAIL_RETURN_IF_ERROR(committer_->Commit(w));
  if (!freed_bodies.empty()) FreeBodiesIfUnreferenced(freed_bodies);
  return Status::Ok();
}

void RocksMailboxStore::FreeBodiesIfUnreferenced(const std::vector<std::string>& shas) {
  // Runs inside the group-commit leader, alone: every earlier write is durable and no later one
  // is applied yet, so a count read here is exact. A later append of the same body writes the
  // body again, so freeing here never loses a body that is referenced afterwards.
  PendingWrite w;
  std::vector<std::string> candidates(shas);
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  w.SetLeaderCallback([this, candidates](rocksdb::DB* db, PendingWrite* self) {
    for (const auto& sha : candidates) {
      std::string v;
      rocksdb::Status s = db->Get(rocksdb::ReadOptions(), cf(kBlobRef), sha, &v);
      if (s.ok() && keys::DecodeCount(v) > 0) continue;
      if (!s.ok() && !s.IsNotFound()) continue;
      self->Delete(cf(kBlob), sha);
      self->Delete(cf(kStructure), sha);
      self->Delete(cf(kBlobRef), sha);
    }
  });
  Status s = committer_->Commit(&w);
  if (!s.ok()) {
    MAIL_LOG(kWarning, "store") << "freeing unreferenced bodies failed (retried at next start): "
                                << s.ToString();
  }
}

StatusOr<uint64_t> RocksMailboxStore::CountStoredBodies() {
  uint64_t n = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(kBlob)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  MAIL_RETURN_IF_ERROR(FromRocks(it->status(), "count bodies"));
  return n;
}

// ---------------------------------------------------------------------------------------
// Changes, statistics, retention.

std::shared_ptr<ChangeHub::Subscription> RocksMailboxStore::Watch(
    const mail::v1::WatchRequest& req) {
  std::vector<uint64_t> ids(req.mailbox_ids().begin(), req.mailbox_ids().end());
  return hub_.Subscribe(req.all_mailboxes(), ids);
}

void RocksMailboxStore::Unwatch(const std::shared_ptr<ChangeHub::Subscription>& sub) {
  hub_.Unsubscribe(sub);
}

StatusOr<mail::v1::GetChangesResponse> RocksMailboxStore::GetChanges(
    const mail::v1::GetChangesRequest& req) {
  uint32_t folder_id = 0;
  mail::v1::GetChangesResponse resp;
  {
    std::unique_lock<std::mutex> lock;
    MAIL_ASSIGN_OR_RETURN(auto state, LockedState(req.mailbox_id(), &lock));
    if (req.since_modseq() < state->changelog_floor) {
      // The changes right after since_modseq were trimmed: a partial list would look
      // complete. The caller falls back (RFC 7162 3.2.5.2: report every UID not in the
      // folder as vanished).
      return Status(common::StatusCode::kOutOfRange,
                    "changes up to MODSEQ " + std::to_string(state->changelog_floor) +
                        " are no longer kept; resynchronise fully");
    }
    if (!req.folder().name().empty() || req.folder().id() != 0) {
      MAIL_ASSIGN_OR_RETURN(mail::v1::Folder * folder, FindFolder(state.get(), req.folder()));
      folder_id = folder->id();
      resp.set_highest_modseq(folder->highest_modseq());
    } else {
      resp.set_highest_modseq(state->modseq);
    }
  }
  std::string prefix = keys::MailboxKey(req.mailbox_id());
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf(kChangelog)));
  constexpr int kMaxChanges = 100000;
  for (it->Seek(keys::ChangeKey(req.mailbox_id(), req.since_modseq() + 1, 0));
       it->Valid() && it->key().starts_with(prefix); it->Next()) {
    mail::v1::ChangeEvent e;
    if (!e.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return common::InternalError("corrupt change record");
    }
    if (folder_id != 0 && e.folder_id() != folder_id) continue;
    *resp.add_changes() = std::move(e);
    if (resp.changes_size() >= kMaxChanges) {
      return common::ResourceExhaustedError("too many changes; resynchronise fully");
    }
  }
  MAIL_RETURN_IF_ERROR(FromRocks(it->status(), "read changes"));
  return resp;
}

StatusOr<mail::v1::MailboxStatsResponse> RocksMailboxStore::MailboxStats(uint64_t mailbox_id) {
  std::unique_lock<std::mutex> lock;
  MAIL_ASSIGN_OR_RETURN(auto state, LockedState(mailbox_id, &lock));
  mail::v1::MailboxStatsResponse resp;
  resp.set_total_size(state->TotalSize());
  resp.set_total_messages(state->TotalMessages());
  for (const auto& [id, f] : state->folders) {
    auto* out = resp.add_folders();
    *out = f;
    out->set_subscribed(state->subscriptions.count(f.name()) > 0);
  }
  return resp;
}

StatusOr<mail::v1::MailboxStatisticsResponse> RocksMailboxStore::GetMailboxStatistics(
    const std::string& identity) {
  MAIL_ASSIGN_OR_RETURN(uint64_t id, ResolveIdentity(identity));
  mail::v1::MailboxStatisticsResponse resp;
  // The mailbox and its folders under one lock, so that the totals add up.
  std::unique_lock<std::mutex> lock;
  MAIL_ASSIGN_OR_RETURN(auto state, LockedState(id, &lock));
  MAIL_ASSIGN_OR_RETURN(mail::v1::Mailbox mb, ReadMailbox(id));
  FillCounters(*state, &mb);
  *resp.mutable_mailbox() = std::move(mb);
  for (const auto& [fid, f] : state->folders) {
    mail::v1::FolderStatistics* out = resp.add_folders();
    out->set_name(f.name());
    out->set_special_use(f.special_use());
    out->set_messages(f.messages());
    out->set_unseen(f.unseen());
    out->set_deleted(f.deleted());
    out->set_size(f.size());
    out->set_created_unix(f.created_unix());
  }
  std::sort(resp.mutable_folders()->begin(), resp.mutable_folders()->end(),
            [](const mail::v1::FolderStatistics& a, const mail::v1::FolderStatistics& b) {
              if ((a.name() == "INBOX") != (b.name() == "INBOX")) return a.name() == "INBOX";
              return a.name() < b.name();
            });
  return resp;
}

StatusOr<mail::v1::PurgeExpiredResponse> RocksMailboxStore::PurgeExpired(int64_t now_unix) {
  if (now_unix == 0) now_unix = NowUnix();
  std::vector<uint64_t> ids;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(kMailbox)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() == 8) ids.push_back(keys::GetU64(it->key().ToStringView(), 0));
    }
    MAIL_RETURN_IF_ERROR(FromRocks(it->status(), "list mailboxes"));
  }
  mail::v1::PurgeExpiredResponse resp;
  for (uint64_t id : ids) {
    std::unique_lock<std::mutex> lock;
    auto state_or = LockedState(id, &lock);
    if (!state_or.ok()) continue;
    auto state = *state_or;
    std::vector<std::string> shas;
    PendingWrite w;
    w.generation = state->generation;
    for (auto& [fid, folder] : state->folders) {
      if (folder.retention_days() == 0) continue;
      int64_t cutoff = now_unix - static_cast<int64_t>(folder.retention_days()) * 86400;
      std::vector<mail::v1::MessageRecord> victims;
      MAIL_RETURN_IF_ERROR(ScanMessages(id, fid, {}, [&](mail::v1::MessageRecord& rec) {
        if (rec.arrived_unix() < cutoff) victims.push_back(std::move(rec));
        return victims.size() < 100000;
      }));
      if (victims.empty()) continue;
      auto r = ExpungeLocked(id, state.get(), &folder, victims, &w);
      if (!r.ok()) return r.status();
      for (const auto& v : victims) shas.push_back(v.body_sha256());
      resp.set_messages_purged(resp.messages_purged() + static_cast<uint32_t>(victims.size()));
    }
    if (w.empty()) continue;
    Status s = CommitAndCollect(&w, shas);
    if (!s.ok()) {
      state->loaded = false;
      return s;
    }
  }
  return resp;
}

void RocksMailboxStore::RetentionLoop() {
  std::unique_lock<std::mutex> lock(retention_mu_);
  while (!stopping_) {
    retention_cv_.wait_for(lock, std::chrono::seconds(options_.retention_interval_seconds));
    if (stopping_) break;
    lock.unlock();
    auto r = PurgeExpired(0);
    if (!r.ok()) {
      MAIL_LOG(kWarning, "retention") << "purge failed: " << r.status().ToString();
    } else if (r->messages_purged() > 0) {
      MAIL_LOG(kInfo, "retention") << "purged " << r->messages_purged() << " expired messages";
    }
    lock.lock();
  }
}

}  // namespace mailboxstore
