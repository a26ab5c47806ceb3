// RocksMailboxStore: the mailbox store engine over RocksDB. The only code that opens the
// database. Thread-safe: the gRPC service calls it from many threads at once.
//
// Concurrency model:
// - Every write goes through one GroupCommitter (see group_commit.h): concurrent writers share
//   WAL syncs, and writes are applied and published in the order they were queued.
// - Each mailbox has a MailboxState with a mutex and in-memory counters (modseq, next UIDs,
//   folder counts, quota usage). Allocation of UIDs/MODSEQs and queueing of the write happen
//   under that mutex, so UIDs become visible in increasing order. Appends release the mutex
//   before waiting for the sync (so appends to one folder share fsyncs); operations that read
//   and rewrite existing records (flags, expunge, copy, folder changes) hold it until durable.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <rocksdb/db.h>

#include "common/status.h"
#include "control.pb.h"
#include "directory.pb.h"
#include "mailboxstore/core/change_hub.h"
#include "mailboxstore/core/credential_cache.h"
#include "mailboxstore/core/group_commit.h"
#include "mailboxstore/core/login_throttle.h"
#include "store.pb.h"

namespace mailboxstore {

struct StoreOptions {
  std::string data_dir;          // Required: the RocksDB directory.
  bool sync_writes = true;       // Default: true. Acknowledged writes are on disk.
  uint32_t scram_iterations = 4096;  // Default: 4096 (RFC 7677 minimum).
  // Default retention of the special-use folders (days; 0 = keep forever).
  uint32_t deleted_items_retention_days = 30;  // Default: 30.
  uint32_t junk_retention_days = 10;           // Default: 10.
  // How often the background job purges expired messages; 0 disables the job.
  uint32_t retention_interval_seconds = 3600;  // Default: 3600.
  size_t block_cache_bytes = 256ull << 20;     // Default: 256 MiB.
  uint64_t max_message_bytes = 64ull << 20;    // Default: 64 MiB per message.
  // Secret mixed into fake SCRAM verifiers of unknown users (made random when empty).
  std::string fake_verifier_secret;
  // Brute-force protection of every login (see login_throttle.h); defaults as documented there.
  LoginThrottleOptions login_throttle;
  LoginThrottle::Clock login_throttle_clock;  // Default: the system clock (tests inject one).
  // Successful password checks remembered for a short time (see credential_cache.h).
  CredentialCacheOptions credential_cache;
  // The per-mailbox change log (CONDSTORE/QRESYNC, IDLE catch-up) keeps the changes of the
  // last this many MODSEQs; older ones are trimmed and GetChanges for them answers
  // kOutOfRange. 0 keeps everything.
  uint64_t changelog_retained_modseqs = 20000;  // Default: 20000.
};

// Column family names; one per record kind.
inline constexpr const char* kColumnFamilies[] = {
    "default",  // meta: schema version, id counters, per-mailbox counters
    "mailbox", "mailbox_index", "credential", "domain",  "folder",
    "subscription", "message", "blob", "structure", "blobref", "changelog"};

class RocksMailboxStore {
 public:
  static common::StatusOr<std::unique_ptr<RocksMailboxStore>> Open(const StoreOptions& options);
  ~RocksMailboxStore();
  RocksMailboxStore(const RocksMailboxStore&) = delete;
  RocksMailboxStore& operator=(const RocksMailboxStore&) = delete;

  // ---- Directory ------------------------------------------------------------------------
  common::StatusOr<mail::v1::Mailbox> CreateMailbox(const mail::v1::CreateMailboxRequest& req);
  common::StatusOr<mail::v1::Mailbox> GetMailbox(const std::string& identity);
  common::StatusOr<mail::v1::Mailbox> GetMailboxById(uint64_t id);
  common::StatusOr<std::vector<mail::v1::Mailbox>> ListMailboxes(
      const mail::v1::ListMailboxesRequest& req);
  common::StatusOr<mail::v1::Mailbox> UpdateMailbox(const std::string& identity,
                                                    const mail::v1::MailboxUpdate& update);
  common::StatusOr<mail::v1::Mailbox> SetPassword(const std::string& identity,
                                                  const std::string& password);
  common::StatusOr<mail::v1::Mailbox> DeleteMailbox(const std::string& identity);

  common::StatusOr<mail::v1::AcceptedDomain> AddAcceptedDomain(const std::string& domain);
  common::Status RemoveAcceptedDomain(const std::string& domain);
  common::StatusOr<std::vector<mail::v1::AcceptedDomain>> ListAcceptedDomains();

  common::StatusOr<mail::v1::AuthenticateResponse> AuthenticatePlain(
      const mail::v1::AuthenticatePlainRequest& req);
  // Throttled callers get `throttled` and no verifier.
  common::StatusOr<mail::v1::GetScramVerifierResponse> GetScramVerifier(
      const mail::v1::GetScramVerifierRequest& req);
  common::StatusOr<mail::v1::AuthenticateResponse> CompleteLogin(
      const mail::v1::CompleteLoginRequest& req);
  // A SCRAM proof that failed in a frontend: counted like a wrong password.
  common::Status ReportLoginFailure(const mail::v1::ReportLoginFailureRequest& req);

  // ---- Brute-force protection (Get-LogonFailure, Get-BlockedClient, Clear-BlockedClient) --
  mail::v1::GetLogonFailuresResponse GetLogonFailures(const mail::v1::GetLogonFailuresRequest& req);
  mail::v1::GetBlockedClientsResponse GetBlockedClients();
  common::StatusOr<mail::v1::ClearBlockedClientsResponse> ClearBlockedClients(
      const mail::v1::ClearBlockedClientsRequest& req);
  LoginThrottle& login_throttle() { return *throttle_; }
  common::StatusOr<mail::v1::ResolveAddressResponse> ResolveAddress(const std::string& address);

  // ---- Folders --------------------------------------------------------------------------
  common::StatusOr<std::vector<mail::v1::Folder>> ListFolders(
      const mail::v1::ListFoldersRequest& req);
  common::StatusOr<mail::v1::Folder> GetFolder(uint64_t mailbox_id,
                                               const mail::v1::FolderRef& ref);
  common::StatusOr<mail::v1::Folder> CreateFolder(const mail::v1::CreateFolderRequest& req);
  common::StatusOr<mail::v1::DeleteFolderResponse> DeleteFolder(
      const mail::v1::DeleteFolderRequest& req);
  common::StatusOr<mail::v1::RenameFolderResponse> RenameFolder(
      const mail::v1::RenameFolderRequest& req);
  common::StatusOr<mail::v1::Folder> SubscribeFolder(const mail::v1::SubscribeFolderRequest& req);

  // ---- Messages -------------------------------------------------------------------------
  common::StatusOr<mail::v1::AppendResponse> Append(const mail::v1::AppendRequest& req);
  common::StatusOr<mail::v1::DeliverResponse> Deliver(const mail::v1::DeliverRequest& req);
  // Calls `sink` with chunks of at most `chunk` records; stops early if it returns false.
  common::Status Fetch(const mail::v1::FetchRequest& req,
                       const std::function<bool(mail::v1::FetchResponse&)>& sink,
                       size_t chunk = 1000);
  // Calls `sink` with consecutive pieces of the section (at most 1 MiB each).
  common::Status GetBody(const mail::v1::GetBodyRequest& req,
                         const std::function<bool(mail::v1::GetBodyResponse&)>& sink);
  // Whole messages of one folder, one `sink` call each, in the order of `req.uids`; a message
  // expunged meanwhile comes with found=false. Stops early if `sink` returns false.
  common::Status GetBodies(const mail::v1::GetBodiesRequest& req,
                           const std::function<bool(mail::v1::GetBodiesResponse&)>& sink);
  // SEARCH BODY/TEXT over the given UIDs of one folder, read and matched here so that a
  // search costs one call whatever the number of messages (see SearchTextRequest).
  common::StatusOr<mail::v1::SearchTextResponse> SearchText(
      const mail::v1::SearchTextRequest& req);
  common::StatusOr<mail::v1::StoreFlagsResponse> StoreFlags(
      const mail::v1::StoreFlagsRequest& req);
  common::StatusOr<mail::v1::ExpungeResponse> Expunge(const mail::v1::ExpungeRequest& req);
  common::StatusOr<mail::v1::CopyResponse> Copy(const mail::v1::CopyRequest& req);

  // ---- Changes and maintenance ----------------------------------------------------------
  std::shared_ptr<ChangeHub::Subscription> Watch(const mail::v1::WatchRequest& req);
  void Unwatch(const std::shared_ptr<ChangeHub::Subscription>& sub);
  common::StatusOr<mail::v1::GetChangesResponse> GetChanges(
      const mail::v1::GetChangesRequest& req);
  common::StatusOr<mail::v1::MailboxStatsResponse> MailboxStats(uint64_t mailbox_id);
  // Get-MailboxStatistics / Get-MailboxFolderStatistics: the mailbox by identity and its folders.
  common::StatusOr<mail::v1::MailboxStatisticsResponse> GetMailboxStatistics(
      const std::string& identity);
  common::StatusOr<mail::v1::PurgeExpiredResponse> PurgeExpired(int64_t now_unix);

  // ---- Server settings (Set-PopSettings / Set-ImapSettings) ------------------------------
  // `effective`: defaults filled in; otherwise only the explicitly set values.
  mail::v1::ServerSettings GetSettings(bool effective);
  common::StatusOr<mail::v1::ServerSettings> UpdateProtocolSettings(
      const mail::v1::UpdateProtocolSettingsRequest& req);
  // Waits up to `timeout_ms` for a version newer than `seen`; returns the explicit settings.
  mail::v1::ServerSettings WaitForSettings(uint64_t seen, int timeout_ms);
  // New-/Set-/Remove-ReceiveConnector.
  common::StatusOr<mail::v1::ServerSettings> UpdateReceiveConnector(
      const mail::v1::UpdateReceiveConnectorRequest& req);
  // ---- Control plane: node registry and service states (Get-/Start-/Stop-Service) ---------
  mail::v1::HeartbeatResponse Heartbeat(const mail::v1::HeartbeatRequest& req);
  mail::v1::GetServicesResponse GetServices(const mail::v1::GetServicesRequest& req);
  common::StatusOr<mail::v1::GetServicesResponse> SetService(const mail::v1::SetServiceRequest& req);

  // ---- Admin audit log (Get-AdminAuditLog) --------------------------------------------------
  common::Status AppendAudit(mail::v1::AuditEntry entry);  // Synced; assigns id and time.
  std::vector<mail::v1::AuditEntry> GetAuditLog(const mail::v1::GetAdminAuditLogRequest& req);

  // Set-SendConnector -SmartHosts, Set-TransportService -MessageExpirationTimeout.
  common::StatusOr<mail::v1::ServerSettings> UpdateTransportSettings(
      const mail::v1::UpdateTransportSettingsRequest& req);

  // ---- Certificates (Get-/New-/Import-/Enable-/Remove-ExchangeCertificate) ------------------
  // Held in the settings, so that every change is a new version that WatchSettings sends to
  // the frontends. Replies carry no private key.
  std::vector<mail::v1::Certificate> ListCertificates(const mail::v1::GetCertificatesRequest& req);
  common::StatusOr<mail::v1::Certificate> NewCertificate(
      const mail::v1::NewCertificateRequest& req);
  common::StatusOr<mail::v1::Certificate> ImportCertificate(
      const mail::v1::ImportCertificateRequest& req);
  common::StatusOr<mail::v1::Certificate> EnableCertificate(
      const mail::v1::EnableCertificateRequest& req);
  common::StatusOr<mail::v1::Certificate> RemoveCertificate(
      const mail::v1::RemoveCertificateRequest& req);

  // Number of stored bodies (distinct SHA-256), for tests of deduplication and freeing.
  common::StatusOr<uint64_t> CountStoredBodies();
  const GroupCommitter& committer() const { return *committer_; }

  // Stops background jobs and ends Watch streams (called before shutdown).
  void Shutdown();

 private:
  struct MailboxState;
  enum Cf {
    kMeta = 0, kMailbox, kMailboxIndex, kCredential, kDomain, kFolder, kSubscription, kMessage, kBlob, kStructure, kBlobRef, kChangelog, kCfCount
  };

  explicit RocksMailboxStore(const StoreOptions& options);
  common::Status OpenDb();
  rocksdb::ColumnFamilyHandle* cf(Cf c) const { return handles_[c]; }

  // Mailbox state cache.
  common::StatusOr<std::shared_ptr<MailboxState>> LockedState(
      uint64_t mailbox_id, std::unique_lock<std::mutex>* lock);
  common::Status LoadState(uint64_t mailbox_id, MailboxState* state);
  void DropState(uint64_t mailbox_id);

  common::StatusOr<uint64_t> ResolveIdentity(const std::string& identity);
  // Who a login is for, as the throttle counts it: the mailbox, or the name as typed when no
  // mailbox has it (mailbox unset).
  struct LoginSubject {
    std::string key;
    std::optional<mail::v1::Mailbox> mailbox;
  };
  common::StatusOr<LoginSubject> ResolveLoginSubject(const std::string& user);
  // Counts a failed login; tells the owner (once an hour at most) when the mailbox rule starts
  // refusing sign-ins.
  void NoteLoginFailure(const std::string& client_address, const LoginSubject& subject,
                        mail::v1::Protocol protocol);
  common::StatusOr<mail::v1::Mailbox> ReadMailbox(uint64_t id);
  void FillCounters(const MailboxState& state, mail::v1::Mailbox* mb) const;
  common::StatusOr<mail::v1::Folder*> FindFolder(MailboxState* state,
                                                 const mail::v1::FolderRef& ref);
  void PutFolder(uint64_t mailbox_id, const mail::v1::Folder& folder, PendingWrite* w);
  void PutCounters(uint64_t mailbox_id, const MailboxState& state, PendingWrite* w);
  common::StatusOr<mail::v1::Folder> CreateFolderLocked(uint64_t mailbox_id, MailboxState* state,
                                                        const std::string& name,
                                                        const std::string& special_use,
                                                        uint32_t retention_days,
                                                        PendingWrite* w);
  struct PreparedBody;
  // Stores `message` once and adds it to every target (Append is one target).
  common::StatusOr<mail::v1::DeliverResponse> DeliverMessage(
      const google::protobuf::RepeatedPtrField<mail::v1::DeliveryTarget>& targets,
      const std::string& message, int64_t internal_date, bool ignore_quota);
  common::Status ScanMessages(uint64_t mailbox_id, uint32_t folder_id,
                              const google::protobuf::RepeatedPtrField<mail::v1::UidRange>& uids,
                              const std::function<bool(mail::v1::MessageRecord&)>& fn);
  // SearchText's header-only path: decides each message in `uids` from its search summary
  // (adding matches to `resp`, criterion i on field code codes[i] and folded needles[i]) and
  // lists in `unsummarized` (body hash, UID) the messages whose summary cannot decide.
  common::Status ScanSearchSummaries(
      uint64_t mailbox_id, uint32_t folder_id,
      const google::protobuf::RepeatedPtrField<mail::v1::UidRange>& uids,
      const rocksdb::ReadOptions& ro, const std::vector<int>& codes,
      const std::vector<std::string>& needles, mail::v1::SearchTextResponse* resp,
      std::vector<std::pair<std::string, uint32_t>>* unsummarized);
  common::StatusOr<mail::v1::ExpungeResponse> ExpungeLocked(
      uint64_t mailbox_id, MailboxState* state, mail::v1::Folder* folder,
      const std::vector<mail::v1::MessageRecord>& victims, PendingWrite* w);
  common::Status CommitAndCollect(PendingWrite* w, const std::vector<std::string>& freed_bodies);
  void FreeBodiesIfUnreferenced(const std::vector<std::string>& shas);
  void RetentionLoop();
  // A successful login (AuthenticatePlain, CompleteLogin): Get-MailboxStatistics'
  // LastLogonTime. Kept in memory only, so that a login costs no write; it is known for the
  // logins since the store started.
  void NoteLogon(mail::v1::Mailbox* mb);
  void RemoveAddressIndex(const mail::v1::Mailbox& mb, PendingWrite* w);
  void AddAddressIndex(const mail::v1::Mailbox& mb, PendingWrite* w);
  common::Status CheckAddressesFree(const std::vector<std::string>& addrs, uint64_t self_id);

  StoreOptions options_;
  std::unique_ptr<LoginThrottle> throttle_;
  mutable std::mutex logon_mu_;
  std::unordered_map<uint64_t, int64_t> last_logon_;  // Mailbox id -> unix time.
  std::unique_ptr<VerifiedCredentialCache> credential_cache_;
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  ChangeHub hub_;
  std::unique_ptr<GroupCommitter> committer_;

  std::mutex states_mu_;
  std::unordered_map<uint64_t, std::shared_ptr<MailboxState>> states_;

  // Serialises directory changes (names and addresses are unique across mailboxes).
  std::mutex directory_mu_;
  uint64_t next_mailbox_id_ = 1;

  std::mutex settings_mu_;
  std::condition_variable settings_cv_;
  mail::v1::ServerSettings settings_;  // Explicit values, as stored.

  common::Status LoadAudit();
  std::mutex audit_mu_;

  // The brute-force protection's tables in the meta column family (rocks_throttle_state.cc):
  // loaded at start, written after each change that matters (failures, blocks, new trusts).
  common::Status LoadLoginThrottle();
  void PersistLoginThrottle();
  std::mutex throttle_persist_mu_;  // Keeps the writes in the order the changes were taken.
  uint64_t next_audit_id_ = 1;

  // Control plane. Keys: (node, ServiceName); node "" holds the default for every node.
  common::Status LoadControl();
  mail::v1::ServiceState EffectiveServiceLocked(const std::string& node,
                                                mail::v1::ServiceName service);
  std::mutex control_mu_;
  std::map<std::string, mail::v1::Node> nodes_;
  std::map<std::pair<std::string, int>, mail::v1::ServiceState> service_states_;
  std::map<std::pair<std::string, int>, mail::v1::ServiceState> reported_;
  std::map<std::pair<std::string, int>, int64_t> reported_time_;  // Last heartbeat per service.
  bool stopping_settings_ = false;
  common::Status LoadSettings();
  bool SmtpAuthDisabledByDefault() {
    std::lock_guard<std::mutex> lock(settings_mu_);
    return settings_.transport().smtp_client_authentication_disabled();
  }
  // Writes `next` as the new settings version and wakes the watchers; settings_mu_ held.
  common::Status CommitSettingsLocked(mail::v1::ServerSettings next, const std::string& what);

  std::mutex retention_mu_;
  std::condition_variable retention_cv_;
  bool stopping_ = false;
  std::thread retention_thread_;
};

}  // namespace mailboxstore
