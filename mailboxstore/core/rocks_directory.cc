// The directory half of RocksMailboxStore: mailboxes, addresses, credentials, accepted
// domains, and authentication.
#include <algorithm>
#include <cctype>

#include <openssl/rand.h>

#include "common/logging.h"
#include "common/scram.h"
#include "mailboxstore/core/keys.h"
#include "mailboxstore/core/mailbox_state.h"
#include "mailboxstore/core/rocks_mailbox_store.h"
#include "mailboxstore/core/store_internal.h"

namespace mailboxstore {

using common::Status;
using common::StatusOr;
using internal::Lower;
using internal::NowUnix;

namespace {

constexpr size_t kMaxNameBytes = 64;
constexpr size_t kMaxAddressBytes = 254;
constexpr size_t kMaxAddresses = 100;
constexpr size_t kMaxPasswordBytes = 1024;

std::string NameKey(std::string_view name) { return "n:" + Lower(name); }
std::string AddressKey(std::string_view addr) { return "a:" + Lower(addr); }
std::string GuidKey(std::string_view guid) { return "g:" + Lower(guid); }

Status ValidateName(const std::string& name) {
  if (name.empty()) return common::InvalidArgumentError("Name is required");
  if (name.size() > kMaxNameBytes) {
    return common::InvalidArgumentError("Name is longer than 64 characters");
  }
  for (unsigned char c : name) {
    if (!(std::isalnum(c) || c == '.' || c == '-' || c == '_')) {
      return common::InvalidArgumentError(
          "Name may contain only letters, digits, '.', '-' and '_': '" + name + "'");
    }
  }
  if (name.front() == '.' || name.back() == '.') {
    return common::InvalidArgumentError("Name cannot start or end with '.'");
  }
  return Status::Ok();
}

// A practical check of an SMTP address (RFC 5321 Mailbox with a dot-atom local part).
Status ValidateAddress(const std::string& addr) {
  if (addr.size() > kMaxAddressBytes) {
    return common::InvalidArgumentError("address is too long: " + addr);
  }
  size_t at = addr.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 >= addr.size() || at > 64) {
    return common::InvalidArgumentError("'" + addr + "' is not a valid SMTP address");
  }
  std::string_view local(addr.data(), at), domain(addr.data() + at + 1, addr.size() - at - 1);
  for (unsigned char c : local) {
    if (!(std::isalnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~.").find(static_cast<char>(c)) !=
                                 std::string_view::npos)) {
      return common::InvalidArgumentError("'" + addr + "' is not a valid SMTP address");
    }
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return common::InvalidArgumentError("'" + addr + "' is not a valid SMTP address");
  }
  if (domain.find('.') == std::string_view::npos || domain.front() == '.' ||
      domain.back() == '.' || domain.find("..") != std::string_view::npos) {
    return common::InvalidArgumentError("'" + addr + "' is not a valid SMTP address");
  }
  for (unsigned char c : domain) {
    if (!(std::isalnum(c) || c == '-' || c == '.')) {
      return common::InvalidArgumentError("'" + addr + "' is not a valid SMTP address");
    }
  }
  return Status::Ok();
}

std::string DomainOf(const std::string& addr) { return addr.substr(addr.rfind('@') + 1); }

std::string NewGuid() {
  unsigned char b[16];
  RAND_bytes(b, sizeof(b));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(hex[b[i] >> 4]);
    out.push_back(hex[b[i] & 15]);
  }
  return out;
}

mail::v1::ScramVerifier ToProto(const common::ScramCredentials& c) {
  mail::v1::ScramVerifier v;
  v.set_mechanism("SCRAM-SHA-256");
  v.set_iterations(c.iterations);
  v.set_salt(c.salt);
  v.set_stored_key(c.stored_key);
  v.set_server_key(c.server_key);
  return v;
}

common::ScramCredentials FromProto(const mail::v1::ScramVerifier& v) {
  common::ScramCredentials c;
  c.iterations = v.iterations();
  c.salt = v.salt();
  c.stored_key = v.stored_key();
  c.server_key = v.server_key();
  return c;
}

bool ProtocolAllowed(const mail::v1::Mailbox& mb, mail::v1::Protocol protocol,
                     bool smtp_auth_disabled_by_default) {
  switch (protocol) {
    case mail::v1::PROTOCOL_POP3:
      return mb.pop_enabled();
    case mail::v1::PROTOCOL_IMAP4:
      return mb.imap_enabled();
    case mail::v1::PROTOCOL_SMTP:
      // Unset follows the organisation default (Set-TransportConfig
      // -SmtpClientAuthenticationDisabled; off unless set).
      if (mb.smtp_client_authentication_disabled() == mail::v1::TRISTATE_UNSET) {
        return !smtp_auth_disabled_by_default;
      }
      return mb.smtp_client_authentication_disabled() != mail::v1::TRISTATE_TRUE;
    default:
      return true;
  }
}

}  // namespace

StatusOr<mail::v1::Mailbox> RocksMailboxStore::ReadMailbox(uint64_t id) {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(kMailbox), keys::MailboxKey(id), &v);
  if (s.IsNotFound()) return common::NotFoundError("mailbox not found");
  if (!s.ok()) return common::UnavailableError("read mailbox: " + s.ToString());
  mail::v1::Mailbox mb;
  if (!mb.ParseFromString(v)) return common::InternalError("corrupt mailbox record");
  return mb;
}

void RocksMailboxStore::FillCounters(const MailboxState& state, mail::v1::Mailbox* mb) const {
  mb->set_total_size(state.TotalSize());
  mb->set_total_messages(state.TotalMessages());
  std::lock_guard<std::mutex> lock(logon_mu_);
  auto it = last_logon_.find(mb->id());
  if (it != last_logon_.end() && it->second > mb->last_logon_unix()) {
    mb->set_last_logon_unix(it->second);
  }
}

void RocksMailboxStore::NoteLogon(mail::v1::Mailbox* mb) {
  const int64_t now = NowUnix();
  std::lock_guard<std::mutex> lock(logon_mu_);
  last_logon_[mb->id()] = now;
  mb->set_last_logon_unix(now);
}

StatusOr<uint64_t> RocksMailboxStore::ResolveIdentity(const std::string& identity) {
  if (identity.empty() || identity.size() > kMaxAddressBytes) {
    return common::NotFoundError("The operation couldn't be performed because object '" +
                                 identity + "' couldn't be found.");
  }
  std::string v;
  for (const std::string& key : {NameKey(identity), AddressKey(identity), GuidKey(identity)}) {
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(kMailboxIndex), key, &v);
    if (s.ok() && v.size() == 8) return keys::GetU64(v, 0);
    if (!s.ok() && !s.IsNotFound()) return common::UnavailableError("read index: " + s.ToString());
  }
  if (std::all_of(identity.begin(), identity.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      identity.size() < 20) {
    uint64_t id = std::stoull(identity);
    if (ReadMailbox(id).ok()) return id;
  }
  return common::NotFoundError("The operation couldn't be performed because object '" + identity +
                               "' couldn't be found.");
}

Status RocksMailboxStore::CheckAddressesFree(const std::vector<std::string>& addrs,
                                             uint64_t self_id) {
  std::string v;
  for (const auto& a : addrs) {
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(kMailboxIndex), AddressKey(a), &v);
    if (s.ok() && v.size() == 8 && keys::GetU64(v, 0) != self_id) {
      return common::AlreadyExistsError("The proxy address \"SMTP:" + a +
                                        "\" is already being used by another mailbox.");
    }
    if (!s.ok() && !s.IsNotFound()) return common::UnavailableError("read index");
  }
  return Status::Ok();
}

void RocksMailboxStore::AddAddressIndex(const mail::v1::Mailbox& mb, PendingWrite* w) {
  std::string id = keys::MailboxKey(mb.id());
  w->Put(cf(kMailboxIndex), NameKey(mb.name()), id);
  w->Put(cf(kMailboxIndex), GuidKey(mb.guid()), id);
  w->Put(cf(kMailboxIndex), AddressKey(mb.primary_smtp_address()), id);
  for (const auto& a : mb.email_addresses()) w->Put(cf(kMailboxIndex), AddressKey(a), id);
}

void RocksMailboxStore::RemoveAddressIndex(const mail::v1::Mailbox& mb, PendingWrite* w) {
  w->Delete(cf(kMailboxIndex), NameKey(mb.name()));
  w->Delete(cf(kMailboxIndex), GuidKey(mb.guid()));
  w->Delete(cf(kMailboxIndex), AddressKey(mb.primary_smtp_address()));
  for (const auto& a : mb.email_addresses()) w->Delete(cf(kMailboxIndex), AddressKey(a));
}

StatusOr<mail::v1::Mailbox> RocksMailboxStore::CreateMailbox(
    const mail::v1::CreateMailboxRequest& req) {
  MAIL_RETURN_IF_ERROR(ValidateName(req.name()));
  std::string primary = Lower(req.primary_smtp_address());
  if (primary.empty()) return common::InvalidArgumentError("PrimarySmtpAddress is required");
  MAIL_RETURN_IF_ERROR(ValidateAddress(primary));
  std::vector<std::string> secondary;
  for (const auto& a : req.email_addresses()) {
    std::string l = Lower(a);
    MAIL_RETURN_IF_ERROR(ValidateAddress(l));
    if (l != primary && std::find(secondary.begin(), secondary.end(), l) == secondary.end()) {
      secondary.push_back(l);
    }
  }
  if (secondary.size() > kMaxAddresses) return common::InvalidArgumentError("too many addresses");
  if (req.password().empty()) return common::InvalidArgumentError("Password is required");
  if (req.password().size() > kMaxPasswordBytes) {
    return common::InvalidArgumentError("Password is too long");
  }
  if (req.display_name().size() > 256) return common::InvalidArgumentError("DisplayName is too long");
  // The expensive part (PBKDF2) outside any lock.
  MAIL_ASSIGN_OR_RETURN(common::ScramCredentials creds,
                        common::MakeScramSha256Credentials(req.password(),
                                                           options_.scram_iterations));

  std::lock_guard<std::mutex> dir_lock(directory_mu_);
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(kMailboxIndex), NameKey(req.name()), &v);
  if (s.ok()) {
    return common::AlreadyExistsError("A mailbox with the name '" + req.name() +
                                      "' already exists.");
  }
  std::vector<std::string> all = secondary;
  all.push_back(primary);
  MAIL_RETURN_IF_ERROR(CheckAddressesFree(all, 0));

  mail::v1::Mailbox mb;
  mb.set_id(next_mailbox_id_);
  mb.set_guid(NewGuid());
  mb.set_name(req.name());
  mb.set_display_name(req.display_name().empty() ? req.name() : req.display_name());
  mb.set_primary_smtp_address(primary);
  for (const auto& a : secondary) mb.add_email_addresses(a);
  mb.set_created_unix(NowUnix());
  mb.set_pop_enabled(true);
  mb.set_imap_enabled(true);
  mb.add_pop_folders("Inbox");
  mb.set_pop_enabled_since_unix(mb.created_unix());
  *mb.mutable_quota() = req.quota();

  PendingWrite w;
  w.generation = committer_->generation();
  std::string next_id;
  keys::PutU64(&next_id, next_mailbox_id_ + 1);
  w.Put(cf(kMeta), "next_mailbox_id", next_id);
  w.Put(cf(kMailbox), keys::MailboxKey(mb.id()), mb.SerializeAsString());
  w.Put(cf(kCredential), keys::MailboxKey(mb.id()), ToProto(creds).SerializeAsString());
  AddAddressIndex(mb, &w);
  // Accept the domains of its addresses (the first domain becomes the default).
  bool have_default = false;
  {
    auto domains = ListAcceptedDomains();
    if (domains.ok()) {
      for (const auto& d : *domains) have_default = have_default || d.is_default();
    }
  }
  for (const auto& a : all) {
    std::string domain = DomainOf(a);
    s = db_->Get(rocksdb::ReadOptions(), cf(kDomain), domain, &v);
    if (s.IsNotFound()) {
      mail::v1::AcceptedDomain d;
      d.set_domain_name(domain);
      d.set_is_default(!have_default);
      have_default = true;
      w.Put(cf(kDomain), domain, d.SerializeAsString());
    }
  }

  MailboxState fresh;
  fresh.next_uidvalidity = static_cast<uint32_t>(NowUnix());
  for (const auto& sf : {std::make_tuple("INBOX", "", 0u),
                         std::make_tuple("Drafts", "\\Drafts", 0u),
                         std::make_tuple("Sent", "\\Sent", 0u),
                         std::make_tuple("Deleted Items", "\\Trash",
                                         options_.deleted_items_retention_days),
                         std::make_tuple("Junk", "\\Junk", options_.junk_retention_days),
                         std::make_tuple("Archive", "\\Archive", 0u)}) {
    auto f = CreateFolderLocked(mb.id(), &fresh, std::get<0>(sf), std::get<1>(sf),
                                std::get<2>(sf), &w);
    if (!f.ok()) return f.status();
    w.Put(cf(kSubscription), keys::SubscriptionKey(mb.id(), std::get<0>(sf)), "");
  }
  PutCounters(mb.id(), fresh, &w);
  MAIL_RETURN_IF_ERROR(committer_->Commit(&w));
  ++next_mailbox_id_;
  DropState(mb.id());
  MAIL_LOG(kInfo, "directory") << "created mailbox " << mb.name() << " <"
                               << mb.primary_smtp_address() << ">";
  return mb;
}

StatusOr<mail::v1::Mailbox> RocksMailboxStore::GetMailboxById(uint64_t id) {
  std::unique_lock<std::mutex> lock;
  MAIL_ASSIGN_OR_RETURN(auto state, LockedState(id, &lock));
  MAIL_ASSIGN_OR_RETURN(mail::v1::Mailbox mb, ReadMailbox(id));
  FillCounters(*state, &mb);
  return mb;
}

StatusOr<mail::v1::Mailbox> RocksMailboxStore::GetMailbox(const std::string& identity) {
  MAIL_ASSIGN_OR_RETURN(uint64_t id, ResolveIdentity(identity));
  return GetMailboxById(id);
}

StatusOr<std::vector<mail::v1::Mailbox>> RocksMailboxStore::ListMailboxes(
    const mail::v1::ListMailboxesRequest& req) {
  // Ordered by name through the name index.
  std::vector<mail::v1::Mailbox> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf(kMailboxIndex)));
  std::string start = "n:" + Lower(req.after_name());
  for (it->Seek(start); it->Valid() && it->key().starts_with("n:"); it->Next()) {
    if (!req.after_name().empty() && it->key().ToString() == start) continue;
    if (it->value().size() != 8) continue;
    auto mb = GetMailboxById(keys::GetU64(it->value().ToStringView(), 0));
    if (!mb.ok()) {
      if (mb.status().code() == common::StatusCode::kNotFound) continue;
      return mb.status();
    }
    out.push_back(std::move(*mb));
    if (req.result_size() != 0 && out.size() >= req.result_size()) break;
  }
  if (!it->status().ok()) return common::UnavailableError("list mailboxes: " + it->status().ToString());
  return out;
}

StatusOr<mail::v1::Mailbox> RocksMailboxStore::UpdateMailbox(
    const std::string& identity, const mail::v1::MailboxUpdate& u) {
  std::lock_guard<std::mutex> dir_lock(directory_mu_);
  MAIL_ASSIGN_OR_RETURN(uint64_t id, ResolveIdentity(identity));
  std::unique_lock<std::mutex> lock;
  MAIL_ASSIGN_OR_RETURN(auto state, LockedState(id, &lock));
  MAIL_ASSIGN_OR_RETURN(mail::v1::Mailbox old, ReadMailbox(id));
  mail::v1::Mailbox mb = old;
  if (u.has_name()) {
    MAIL_RETURN_IF_ERROR(ValidateName(u.name()));
    if (Lower(u.name()) != Lower(old.name())) {
      std::string v;
      if (db_->Get(rocksdb::ReadOptions(), cf(kMailboxIndex), NameKey(u.name()), &v).ok()) {
        return common::AlreadyExistsError("A mailbox with the name '" + u.name() +
                                          "' already exists.");
      }
    }
    mb.set_name(u.name());
  }
  if (u.has_display_name()) {
    if (u.display_name().size() > 256) return common::InvalidArgumentError("DisplayName is too long");
    mb.set_display_name(u.display_name());
  }
  std::vector<std::string> secondary(mb.email_addresses().begin(), mb.email_addresses().end());
  if (u.has_email_addresses()) secondary.assign(u.email_addresses().begin(), u.email_addresses().end());
  for (const auto& a : u.add_email_addresses()) secondary.push_back(a);
  for (const auto& a : u.remove_email_addresses()) {
    std::string l = Lower(a);
    secondary.erase(std::remove_if(secondary.begin(), secondary.end(),
                                   [&](const std::string& x) { return Lower(x) == l; }),
                    secondary.end());
  }
  std::string primary = mb.primary_smtp_address();
  if (u.has_primary_smtp_address()) {
    std::string p = Lower(u.primary_smtp_address());
    MAIL_RETURN_IF_ERROR(ValidateAddress(p));
    // The old primary stays as a secondary address, as in Exchange.
    if (p != primary) secondary.push_back(primary);
    primary = p;
  }
  std::vector<std::string> clean;
  for (const auto& a : secondary) {
    std::string l = Lower(a);
    MAIL_RETURN_IF_ERROR(ValidateAddress(l));
    if (l != primary && std::find(clean.begin(), clean.end(), l) == clean.end()) clean.push_back(l);
  }
  if (clean.size() > kMaxAddresses) return common::InvalidArgumentError("too many addresses");
  std::vector<std::string> all = clean;
  all.push_back(primary);
  MAIL_RETURN_IF_ERROR(CheckAddressesFree(all, id));
  mb.set_primary_smtp_address(primary);
  mb.clear_email_addresses();
  for (const auto& a : clean) mb.add_email_addresses(a);

  if (u.has_account_disabled()) mb.set_account_disabled(u.account_disabled());
  if (u.has_mailbox_disabled()) mb.set_mailbox_disabled(u.mailbox_disabled());
  if (u.has_pop_enabled()) {
    if (u.pop_enabled() && !old.pop_enabled()) mb.set_pop_enabled_since_unix(NowUnix());
    mb.set_pop_enabled(u.pop_enabled());
  }
  if (u.has_imap_enabled()) mb.set_imap_enabled(u.imap_enabled());
  if (u.has_smtp_client_authentication_disabled()) {
    mb.set_smtp_client_authentication_disabled(u.smtp_client_authentication_disabled());
  }
  if (u.has_pop_download_scope()) mb.set_pop_download_scope(u.pop_download_scope());
  if (u.has_pop_retrieval_action()) mb.set_pop_retrieval_action(u.pop_retrieval_action());
  if (u.has_pop_folders()) {
    if (u.pop_folders().empty()) return common::InvalidArgumentError("PopFolders cannot be empty");
    mb.clear_pop_folders();
    for (const auto& f : u.pop_folders()) mb.add_pop_folders(f);
  }
  if (u.has_issue_warning_quota()) mb.mutable_quota()->set_issue_warning_quota(u.issue_warning_quota());
  if (u.has_prohibit_send_quota()) mb.mutable_quota()->set_prohibit_send_quota(u.prohibit_send_quota());
  if (u.has_prohibit_send_receive_quota()) {
    mb.mutable_quota()->set_prohibit_send_receive_quota(u.prohibit_send_receive_quota());
  }
  for (const auto& a : u.add_send_as()) {
    std::string l = Lower(a);
    MAIL_RETURN_IF_ERROR(ValidateAddress(l));
    if (std::find(mb.send_as().begin(), mb.send_as().end(), l) == mb.send_as().end()) {
      mb.add_send_as(l);
    }
  }
  for (const auto& a : u.remove_send_as()) {
    std::string l = Lower(a);
    auto* list = mb.mutable_send_as();
    list->erase(std::remove(list->begin(), list->end(), l), list->end());
  }
  // Limits that are set (0 = unlimited) must be ordered.
  const auto& q = mb.quota();
  auto out_of_order = [](uint64_t lower, uint64_t upper) {
    return lower != 0 && upper != 0 && lower > upper;
  };
  if (out_of_order(q.issue_warning_quota(), q.prohibit_send_quota()) ||
      out_of_order(q.prohibit_send_quota(), q.prohibit_send_receive_quota()) ||
      out_of_order(q.issue_warning_quota(), q.prohibit_send_receive_quota())) {
    return common::InvalidArgumentError(
        "quotas must satisfy IssueWarningQuota <= ProhibitSendQuota <= ProhibitSendReceiveQuota");
  }

  PendingWrite w;
  w.generation = state->generation;
  RemoveAddressIndex(old, &w);
  AddAddressIndex(mb, &w);
  w.Put(cf(kMailbox), keys::MailboxKey(id), mb.SerializeAsString());
  mail::v1::ChangeEvent e;
  e.set_mailbox_id(id);
  e.set_kind(mail::v1::CHANGE_KIND_MAILBOX_UPDATED);
  w.AddEvent(e);
  MAIL_RETURN_IF_ERROR(committer_->Commit(&w));
  state->quota = mb.quota().prohibit_send_receive_quota();
  FillCounters(*state, &mb);
  return mb;
}

StatusOr<mail::v1::Mailbox> RocksMailboxStore::SetPassword(const std::string& identity,
                                                           const std::string& password) {
  if (password.empty()) return common::InvalidArgumentError("Password cannot be empty");
  if (password.size() > kMaxPasswordBytes) return common::InvalidArgumentError("Password is too long");
  MAIL_ASSIGN_OR_RETURN(common::ScramCredentials creds,
                        common::MakeScramSha256Credentials(password, options_.scram_iterations));
  std::lock_guard<std::mutex> dir_lock(directory_mu_);
  MAIL_ASSIGN_OR_RETURN(uint64_t id, ResolveIdentity(identity));
  MAIL_ASSIGN_OR_RETURN(mail::v1::Mailbox mb, ReadMailbox(id));
  PendingWrite w;
  w.Put(cf(kCredential), keys::MailboxKey(id), ToProto(creds).SerializeAsString());
  mail::v1::ChangeEvent e;
  e.set_mailbox_id(id);
  e.set_kind(mail::v1::CHANGE_KIND_MAILBOX_UPDATED);
  w.AddEvent(e);
  MAIL_RETURN_IF_ERROR(committer_->Commit(&w));
  // The new StoredKey already makes old entries unmatchable; this frees them.
  credential_cache_->Forget(id);
  return GetMailboxById(id);
}

StatusOr<mail::v1::Mailbox> RocksMailboxStore::DeleteMailbox(const std::string& identity) {
  std::lock_guard<std::mutex> dir_lock(directory_mu_);
  MAIL_ASSIGN_OR_RETURN(uint64_t id, ResolveIdentity(identity));
  std::unique_lock<std::mutex> lock;
  MAIL_ASSIGN_OR_RETURN(auto state, LockedState(id, &lock));
  MAIL_ASSIGN_OR_RETURN(mail::v1::Mailbox mb, ReadMailbox(id));
  FillCounters(*state, &mb);
  PendingWrite w;
  w.generation = state->generation;
  std::vector<std::string> shas;
  for (const auto& [fid, folder] : state->folders) {
    MAIL_RETURN_IF_ERROR(ScanMessages(id, fid, {}, [&](mail::v1::MessageRecord& rec) {
      w.Merge(cf(kBlobRef), rec.body_sha256(), keys::EncodeCount(-1));
      shas.push_back(rec.body_sha256());
      return true;
    }));
  }
  std::string begin = keys::MailboxKey(id), end = keys::MailboxKey(id + 1);
  for (Cf c : {kFolder, kSubscription, kMessage, kChangelog}) w.DeleteRange(cf(c), begin, end);
  w.DeleteRange(cf(kMeta), keys::SearchSummaryKey(begin), keys::SearchSummaryKey(end));
  w.Delete(cf(kMailbox), begin);
  w.Delete(cf(kCredential), begin);
  w.Delete(cf(kMeta), keys::MailboxCountersKey(id));
  RemoveAddressIndex(mb, &w);
  mail::v1::ChangeEvent e;
  e.set_mailbox_id(id);
  e.set_kind(mail::v1::CHANGE_KIND_MAILBOX_UPDATED);
  w.AddEvent(e);
  MAIL_RETURN_IF_ERROR(committer_->Commit(&w));
  state->deleted = true;
  lock.unlock();
  DropState(id);
  if (!shas.empty()) FreeBodiesIfUnreferenced(shas);
  MAIL_LOG(kInfo, "directory") << "removed mailbox " << mb.name();
  return mb;
}

StatusOr<mail::v1::AcceptedDomain> RocksMailboxStore::AddAcceptedDomain(const std::string& domain) {
  std::string d = Lower(domain);
  MAIL_RETURN_IF_ERROR(ValidateAddress("postmaster@" + d));
  std::lock_guard<std::mutex> dir_lock(directory_mu_);
  std::string v;
  if (db_->Get(rocksdb::ReadOptions(), cf(kDomain), d, &v).ok()) {
    return common::AlreadyExistsError("The accepted domain '" + d + "' already exists.");
  }
  MAIL_ASSIGN_OR_RETURN(auto existing, ListAcceptedDomains());
  mail::v1::AcceptedDomain ad;
  ad.set_domain_name(d);
  ad.set_is_default(existing.empty());
  PendingWrite w;
  w.Put(cf(kDomain), d, ad.SerializeAsString());
  MAIL_RETURN_IF_ERROR(committer_->Commit(&w));
  return ad;
}

Status RocksMailboxStore::RemoveAcceptedDomain(const std::string& domain) {
  std::string d = Lower(domain);
  std::lock_guard<std::mutex> dir_lock(directory_mu_);
  std::string v;
  if (!db_->Get(rocksdb::ReadOptions(), cf(kDomain), d, &v).ok()) {
    return common::NotFoundError("The accepted domain '" + d + "' couldn't be found.");
  }
  PendingWrite w;
  w.Delete(cf(kDomain), d);
  return committer_->Commit(&w);
}

StatusOr<std::vector<mail::v1::AcceptedDomain>> RocksMailboxStore::ListAcceptedDomains() {
  std::vector<mail::v1::AcceptedDomain> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(kDomain)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    mail::v1::AcceptedDomain d;
    if (d.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      out.push_back(std::move(d));
    }
  }
  if (!it->status().ok()) return common::UnavailableError("list domains");
  return out;
}

StatusOr<RocksMailboxStore::LoginSubject> RocksMailboxStore::ResolveLoginSubject(
    const std::string& user) {
  LoginSubject subject;
  auto id = ResolveIdentity(user);
  if (!id.ok()) {
    if (id.status().code() != common::StatusCode::kNotFound) return id.status();
    subject.key = Lower(user.substr(0, kMaxAddressBytes));
    return subject;
  }
  MAIL_ASSIGN_OR_RETURN(mail::v1::Mailbox mb, ReadMailbox(*id));
  subject.key = mb.name();
  subject.mailbox = std::move(mb);
  return subject;
}

namespace {

const char* RuleText(ThrottleRule rule) {
  return rule == ThrottleRule::kMailbox ? "too many failed logins for the mailbox"
                                        : "too many failed logins from the address";
}

}  // namespace

void RocksMailboxStore::NoteLoginFailure(const std::string& client_address,
                                         const LoginSubject& subject,
                                         mail::v1::Protocol protocol) {
  FailureOutcome out = throttle_->RecordFailure(client_address, subject.key, protocol);
  if (!out.counted) return;
  PersistLoginThrottle();
  if (out.address.refused()) {
    MAIL_LOG(kWarning, "auth") << "login throttle: " << client_address << " refused for "
                               << out.address.retry_after_seconds
                               << " s after repeated failed logins (last for " << subject.key
                               << ")";
  }
  if (out.mailbox_block_started) {
    MAIL_LOG(kWarning, "auth") << "login throttle: mailbox " << subject.key
                               << " refuses addresses it has not logged in from, after "
                                  "repeated failed logins (last from "
                               << client_address << ")";
  }
  if (!out.notice || !subject.mailbox) return;
  const mail::v1::Mailbox& mb = *subject.mailbox;
  std::string message = BlockNoticeMessage(*out.notice, mb.primary_smtp_address(),
                                           throttle_->options(), std::chrono::system_clock::now());
  google::protobuf::RepeatedPtrField<mail::v1::DeliveryTarget> targets;
  targets.Add()->set_mailbox_id(mb.id());  // The Inbox.
  auto delivered = DeliverMessage(targets, message, NowUnix(), /*ignore_quota=*/true);
  if (!delivered.ok()) {
    MAIL_LOG(kError, "auth") << "cannot put the blocked sign-in notice in " << mb.name()
                             << "'s Inbox: " << delivered.status().ToString();
  } else if (delivered->results_size() > 0 && delivered->results(0).code() != 0) {
    MAIL_LOG(kError, "auth") << "cannot put the blocked sign-in notice in " << mb.name()
                             << "'s Inbox: " << delivered->results(0).message();
  } else {
    MAIL_LOG(kInfo, "auth") << "told " << mb.name() << " about " << out.notice->attempts
                            << " blocked sign-in attempts";
  }
}

StatusOr<mail::v1::AuthenticateResponse> RocksMailboxStore::AuthenticatePlain(
    const mail::v1::AuthenticatePlainRequest& req) {
  mail::v1::AuthenticateResponse resp;
  resp.set_result(mail::v1::AUTH_RESULT_BAD_CREDENTIALS);
  if (req.password().size() > kMaxPasswordBytes || req.user().size() > kMaxAddressBytes) {
    return resp;
  }
  MAIL_ASSIGN_OR_RETURN(LoginSubject subject, ResolveLoginSubject(req.user()));
  // Before any password work, so that a refused attempt tells nothing about the password.
  ThrottleDecision throttled = throttle_->Check(req.client_address(), subject.key);
  if (throttled.refused()) {
    MAIL_LOG(kInfo, "auth") << "login of " << subject.key << " from " << req.client_address()
                            << " refused for " << throttled.retry_after_seconds
                            << " s: " << RuleText(throttled.rule);
    resp.set_result(mail::v1::AUTH_RESULT_THROTTLED);
    resp.set_retry_after_seconds(throttled.retry_after_seconds);
    return resp;
  }
  common::ScramCredentials creds;
  bool known = subject.mailbox.has_value();
  if (known) {
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(kCredential),
                                 keys::MailboxKey(subject.mailbox->id()), &v);
    mail::v1::ScramVerifier ver;
    if (!s.ok() || !ver.ParseFromString(v)) {
      known = false;
    } else {
      creds = FromProto(ver);
    }
  }
  if (!known) {
    // Same work as for a real user, so timing does not tell unknown users apart.
    creds = common::FakeScramCredentials(Lower(req.user()), options_.fake_verifier_secret);
    (void)common::VerifyPlainPassword(creds, req.password());
    NoteLoginFailure(req.client_address(), subject, req.protocol());
    return resp;
  }
  const uint64_t mailbox_id = subject.mailbox->id();
  if (!credential_cache_->Contains(mailbox_id, creds.stored_key, req.password())) {
    if (!common::VerifyPlainPassword(creds, req.password())) {
      NoteLoginFailure(req.client_address(), subject, req.protocol());
      return resp;
    }
    credential_cache_->Remember(mailbox_id, creds.stored_key, req.password());
  }
  throttle_->RecordSuccess(req.client_address(), subject.key);
  PersistLoginThrottle();  // Usually nothing to write: see LoginThrottle::TrackChanges.
  MAIL_ASSIGN_OR_RETURN(mail::v1::Mailbox mb, ReadMailbox(subject.mailbox->id()));
  // A disabled mailbox (Disable-Mailbox) is refused like a disabled account: the frontends
  // answer both with their ordinary authentication failure.
  if (mb.account_disabled() || mb.mailbox_disabled()) {
    resp.set_result(mail::v1::AUTH_RESULT_ACCOUNT_DISABLED);
  } else if (!ProtocolAllowed(mb, req.protocol(), SmtpAuthDisabledByDefault())) {
    resp.set_result(mail::v1::AUTH_RESULT_PROTOCOL_DISABLED);
  } else {
    resp.set_result(mail::v1::AUTH_RESULT_OK);
    NoteLogon(&mb);
  }
  *resp.mutable_mailbox() = std::move(mb);
  return resp;
}

StatusOr<mail::v1::GetScramVerifierResponse> RocksMailboxStore::GetScramVerifier(
    const mail::v1::GetScramVerifierRequest& req) {
  mail::v1::GetScramVerifierResponse resp;
  MAIL_ASSIGN_OR_RETURN(LoginSubject subject, ResolveLoginSubject(req.user()));
  ThrottleDecision throttled = throttle_->Check(req.client_address(), subject.key);
  if (throttled.refused()) {
    MAIL_LOG(kInfo, "auth") << "SCRAM login of " << subject.key << " from "
                            << req.client_address() << " refused for "
                            << throttled.retry_after_seconds << " s: " << RuleText(throttled.rule);
    resp.set_throttled(true);
    resp.set_retry_after_seconds(throttled.retry_after_seconds);
    return resp;
  }
  if (subject.mailbox) {
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(kCredential),
                                 keys::MailboxKey(subject.mailbox->id()), &v);
    mail::v1::ScramVerifier ver;
    if (s.ok() && ver.ParseFromString(v)) {
      *resp.mutable_verifier() = std::move(ver);
      return resp;
    }
    if (!s.ok() && !s.IsNotFound()) return common::UnavailableError("read credential");
  }
  auto fake = common::FakeScramCredentials(Lower(req.user()), options_.fake_verifier_secret);
  fake.iterations = options_.scram_iterations;
  *resp.mutable_verifier() = ToProto(fake);
  return resp;
}

Status RocksMailboxStore::ReportLoginFailure(const mail::v1::ReportLoginFailureRequest& req) {
  MAIL_ASSIGN_OR_RETURN(LoginSubject subject, ResolveLoginSubject(req.user()));
  NoteLoginFailure(req.client_address(), subject, req.protocol());
  return Status::Ok();
}

StatusOr<mail::v1::AuthenticateResponse> RocksMailboxStore::CompleteLogin(
    const mail::v1::CompleteLoginRequest& req) {
  mail::v1::AuthenticateResponse resp;
  resp.set_result(mail::v1::AUTH_RESULT_BAD_CREDENTIALS);
  auto id = ResolveIdentity(req.user());
  if (!id.ok()) {
    if (id.status().code() == common::StatusCode::kNotFound) return resp;
    return id.status();
  }
  MAIL_ASSIGN_OR_RETURN(mail::v1::Mailbox mb, ReadMailbox(*id));
  // The frontend checked the SCRAM proof: the address is the owner's from now on.
  throttle_->RecordSuccess(req.client_address(), mb.name());
  PersistLoginThrottle();
  // A disabled mailbox (Disable-Mailbox) is refused like a disabled account: the frontends
  // answer both with their ordinary authentication failure.
  if (mb.account_disabled() || mb.mailbox_disabled()) {
    resp.set_result(mail::v1::AUTH_RESULT_ACCOUNT_DISABLED);
  } else if (!ProtocolAllowed(mb, req.protocol(), SmtpAuthDisabledByDefault())) {
    resp.set_result(mail::v1::AUTH_RESULT_PROTOCOL_DISABLED);
  } else {
    resp.set_result(mail::v1::AUTH_RESULT_OK);
    NoteLogon(&mb);
  }
  *resp.mutable_mailbox() = std::move(mb);
  return resp;
}

// ---- Brute-force protection ---------------------------------------------------------------

namespace {

int64_t ToUnix(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

mail::v1::BlockedClient ToProto(const Block& b) {
  mail::v1::BlockedClient out;
  if (b.rule == ThrottleRule::kMailbox) {
    out.set_rule(mail::v1::BLOCK_RULE_MAILBOX);
    out.set_mailbox(b.key);
    for (const std::string& a : b.addresses) out.add_client_addresses(a);
  } else {
    out.set_rule(mail::v1::BLOCK_RULE_CLIENT_ADDRESS);
    out.set_client_address(b.key);
  }
  out.set_failures(b.failures);
  // Rounded up, as retry_after_seconds is: the block is over at this second.
  out.set_blocked_until_unix(ToUnix(b.until + std::chrono::milliseconds(999)));
  out.set_retry_after_seconds(b.retry_after_seconds);
  return out;
}

}  // namespace

mail::v1::GetLogonFailuresResponse RocksMailboxStore::GetLogonFailures(
    const mail::v1::GetLogonFailuresRequest& req) {
  mail::v1::GetLogonFailuresResponse resp;
  std::string mailbox;
  if (!req.identity().empty()) {
    auto subject = ResolveLoginSubject(req.identity());
    mailbox = subject.ok() ? subject->key : Lower(req.identity());
  }
  for (const FailureSummary& f : throttle_->Failures(req.client_address(), mailbox)) {
    mail::v1::LogonFailure* out = resp.add_failures();
    out->set_client_address(f.client_address);
    out->set_user(f.user);
    out->set_protocol(f.protocol);
    out->set_count(f.count);
    out->set_first_unix(ToUnix(f.first));
    out->set_last_unix(ToUnix(f.last));
  }
  resp.set_window_seconds(static_cast<uint32_t>(throttle_->options().window.count()));
  return resp;
}

mail::v1::GetBlockedClientsResponse RocksMailboxStore::GetBlockedClients() {
  mail::v1::GetBlockedClientsResponse resp;
  for (const Block& b : throttle_->Blocks()) *resp.add_blocked() = ToProto(b);
  return resp;
}

StatusOr<mail::v1::ClearBlockedClientsResponse> RocksMailboxStore::ClearBlockedClients(
    const mail::v1::ClearBlockedClientsRequest& req) {
  if (!req.all() && req.client_address().empty() && req.identity().empty()) {
    return common::InvalidArgumentError("Give -ClientAddress, -Identity or -All.");
  }
  std::string mailbox;
  if (!req.identity().empty()) {
    auto subject = ResolveLoginSubject(req.identity());
    mailbox = subject.ok() ? subject->key : Lower(req.identity());
  }
  ClearOutcome out = throttle_->Clear(req.client_address(), mailbox, req.all());
  PersistLoginThrottle();
  mail::v1::ClearBlockedClientsResponse resp;
  resp.set_failures_cleared(out.failures_cleared);
  for (const Block& b : out.lifted) *resp.add_lifted() = ToProto(b);
  return resp;
}

StatusOr<mail::v1::ResolveAddressResponse> RocksMailboxStore::ResolveAddress(
    const std::string& address) {
  mail::v1::ResolveAddressResponse resp;
  std::string a = Lower(address);
  if (a.size() > kMaxAddressBytes || a.find('@') == std::string::npos) return resp;
  std::string v;
  resp.set_domain_accepted(db_->Get(rocksdb::ReadOptions(), cf(kDomain), DomainOf(a), &v).ok());
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(kMailboxIndex), AddressKey(a), &v);
  if (s.ok() && v.size() == 8) {
    auto mb = ReadMailbox(keys::GetU64(v, 0));
    // A disabled mailbox receives nothing: its addresses resolve as unknown users of an
    // accepted domain (550 5.1.1), and queued mail for it bounces the same way.
    if (mb.ok() && !mb->mailbox_disabled()) {
      resp.set_found(true);
      *resp.mutable_mailbox() = std::move(*mb);
    }
  } else if (!s.ok() && !s.IsNotFound()) {
    return common::UnavailableError("read index");
  }
  return resp;
}

}  // namespace mailboxstore
