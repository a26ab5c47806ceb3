#include "mailboxstore/service/grpc_services.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/text_format.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <set>

#include "common/logging.h"

namespace mailboxstore {

grpc::Status ToGrpc(const common::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  if (s.code() == common::StatusCode::kInternal) {
    MAIL_LOG(kError, "store") << "internal error: " << s.message();
  }
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), s.message());
}

grpc::Status AdminGuard::Check(grpc::ServerContext* ctx) const {
  if (token_.empty()) return grpc::Status::OK;
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  std::string expected = "Bearer " + token_;
  if (it != md.end() && it->second.size() == expected.size() &&
      CRYPTO_memcmp(it->second.data(), expected.data(), expected.size()) == 0) {
    return grpc::Status::OK;
  }
  MAIL_LOG(kWarning, "admin") << "refused " << what_ << " call without a valid token from "
                              << ctx->peer();
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(what_) + " token required");
}

namespace {

// Fields that change by themselves, not by an admin: left out of audit values.
const std::set<std::string>& VolatileFields() {
  static const std::set<std::string> fields = {"total_size", "total_messages", "last_logon_unix",
                                               "version", "last_heartbeat_unix"};
  return fields;
}

// One field of `m` as single-line text ("pop_enabled: false"), or "" when unset.
std::string FieldText(const google::protobuf::Message& m, const google::protobuf::FieldDescriptor* f) {
  std::unique_ptr<google::protobuf::Message> only(m.New());
  only->CopyFrom(m);
  const auto* r = only->GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> set;
  r->ListFields(*only, &set);
  for (const auto* other : set) {
    if (other != f) r->ClearField(only.get(), other);
  }
  std::string text;
  google::protobuf::TextFormat::Printer printer;
  printer.SetSingleLineMode(true);
  printer.PrintToString(*only, &text);
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (text.empty() && !f->is_repeated() &&
      f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
    // proto3 leaves false, 0 and "" unset: show them as values all the same.
    std::string value;
    google::protobuf::TextFormat::PrintFieldValueToString(m, f, -1, &value);
    text = f->name() + ": " + value;
  }
  return text;
}

// The fields that differ between `before` and `after`, each side as "field: value; ...";
// singular sub-messages are compared field by field ("pop3.login_type: ...").
void Diff(const google::protobuf::Message& before, const google::protobuf::Message& after,
          std::string* old_text, std::string* new_text, const std::string& prefix = "") {
  const auto* d = before.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (VolatileFields().count(f->name()) != 0) continue;
    if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE && !f->is_repeated()) {
      Diff(before.GetReflection()->GetMessage(before, f), after.GetReflection()->GetMessage(after, f),
           old_text, new_text, prefix + f->name() + ".");
      continue;
    }
    std::string a = FieldText(before, f), b = FieldText(after, f);
    if (a == b) continue;
    if (!old_text->empty()) *old_text += "; ";
    if (!new_text->empty()) *new_text += "; ";
    *old_text += prefix + (a.empty() ? f->name() + ": (unset)" : a);
    *new_text += prefix + (b.empty() ? f->name() + ": (unset)" : b);
  }
}

std::string Describe(const google::protobuf::Message& m) {
  std::string out;
  const auto* d = m.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (VolatileFields().count(f->name()) != 0) continue;
    std::string t = FieldText(m, f);
    if (t.empty()) continue;
    if (!out.empty()) out += "; ";
    out += t;
  }
  return out;
}

std::string Metadata(grpc::ServerContext* ctx, const char* key) {
  const auto& md = ctx->client_metadata();
  auto it = md.find(key);
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size()).substr(0, 4096);
}

// Writes one entry of the admin audit log. `cmdlet` is what adminctl said it ran, or the
// RPC name for other clients.
void Audit(RocksMailboxStore* store, grpc::ServerContext* ctx, const std::string& rpc,
           const std::string& object, const std::string& old_value, const std::string& new_value,
           const grpc::Status& result) {
  mail::v1::AuditEntry e;
  std::string user = Metadata(ctx, "x-audit-user");
  std::string peer = ctx->peer();
  std::string via = peer.rfind("unix:", 0) == 0 ? "unix socket" : "token from " + peer;
  e.set_caller(user.empty() ? via : user + " (" + via + ")");
  std::string cmdlet = Metadata(ctx, "x-audit-cmdlet");
  e.set_cmdlet(cmdlet.empty() ? rpc : cmdlet);
  std::string parameters = Metadata(ctx, "x-audit-parameters");
  if (!parameters.empty()) e.add_parameters(parameters);
  e.set_object(object);
  e.set_old_value(old_value.substr(0, 16384));
  e.set_new_value(new_value.substr(0, 16384));
  e.set_succeeded(result.ok());
  e.set_error(result.error_message());
  common::Status s = store->AppendAudit(std::move(e));
  if (!s.ok()) {
    MAIL_LOG(kError, "admin") << "cannot write the admin audit log: " << s.ToString();
  }
}

}  // namespace

#define GUARD()                                     \
  do {                                              \
    grpc::Status _g = guard_.Check(ctx);            \
    if (!_g.ok()) return _g;                        \
  } while (0)

template <typename T, typename F>
grpc::Status Assign(common::StatusOr<T> r, F&& set) {
  if (!r.ok()) return ToGrpc(r.status());
  set(std::move(*r));
  return grpc::Status::OK;
}

// ---- Directory ---------------------------------------------------------------------------

grpc::Status DirectoryService::CreateMailbox(grpc::ServerContext* ctx,
                                             const mail::v1::CreateMailboxRequest* req,
                                             mail::v1::GetMailboxResponse* resp) {
  GUARD();
  grpc::Status st = Assign(store_->CreateMailbox(*req),
                           [&](mail::v1::Mailbox m) { *resp->mutable_mailbox() = std::move(m); });
  Audit(store_, ctx, "CreateMailbox", req->name(), "", st.ok() ? Describe(resp->mailbox()) : "",
        st);
  return st;
}

grpc::Status DirectoryService::GetMailbox(grpc::ServerContext* ctx,
                                          const mail::v1::MailboxIdentity* req,
                                          mail::v1::GetMailboxResponse* resp) {
  GUARD();
  return Assign(store_->GetMailbox(req->identity()),
                [&](mail::v1::Mailbox m) { *resp->mutable_mailbox() = std::move(m); });
}

grpc::Status DirectoryService::GetMailboxStatistics(grpc::ServerContext* ctx,
                                                    const mail::v1::MailboxIdentity* req,
                                                    mail::v1::MailboxStatisticsResponse* resp) {
  GUARD();
  return Assign(store_->GetMailboxStatistics(req->identity()),
                [&](mail::v1::MailboxStatisticsResponse r) { *resp = std::move(r); });
}

grpc::Status DirectoryService::ListMailboxes(grpc::ServerContext* ctx,
                                             const mail::v1::ListMailboxesRequest* req,
                                             mail::v1::ListMailboxesResponse* resp) {
  GUARD();
  return Assign(store_->ListMailboxes(*req), [&](std::vector<mail::v1::Mailbox> v) {
    for (auto& m : v) *resp->add_mailboxes() = std::move(m);
  });
}

grpc::Status DirectoryService::UpdateMailbox(grpc::ServerContext* ctx,
                                             const mail::v1::UpdateMailboxRequest* req,
                                             mail::v1::GetMailboxResponse* resp) {
  GUARD();
  auto before = store_->GetMailbox(req->identity());
  grpc::Status st = Assign(store_->UpdateMailbox(req->identity(), req->update()),
                           [&](mail::v1::Mailbox m) { *resp->mutable_mailbox() = std::move(m); });
  std::string old_value, new_value;
  if (st.ok() && before.ok()) Diff(*before, resp->mailbox(), &old_value, &new_value);
  Audit(store_, ctx, "UpdateMailbox", before.ok() ? before->name() : req->identity(), old_value,
        new_value, st);
  return st;
}

grpc::Status DirectoryService::SetPassword(grpc::ServerContext* ctx,
                                           const mail::v1::SetPasswordRequest* req,
                                           mail::v1::GetMailboxResponse* resp) {
  GUARD();
  grpc::Status st = Assign(store_->SetPassword(req->identity(), req->password()),
                           [&](mail::v1::Mailbox m) { *resp->mutable_mailbox() = std::move(m); });
  Audit(store_, ctx, "SetPassword", req->identity(), "", st.ok() ? "password changed" : "", st);
  return st;
}

grpc::Status DirectoryService::DeleteMailbox(grpc::ServerContext* ctx,
                                             const mail::v1::DeleteMailboxRequest* req,
                                             mail::v1::DeleteMailboxResponse* resp) {
  GUARD();
  grpc::Status st = Assign(store_->DeleteMailbox(req->identity()),
                           [&](mail::v1::Mailbox m) { *resp->mutable_mailbox() = std::move(m); });
  Audit(store_, ctx, "DeleteMailbox", req->identity(), st.ok() ? Describe(resp->mailbox()) : "",
        "", st);
  return st;
}

grpc::Status DirectoryService::AddAcceptedDomain(grpc::ServerContext* ctx,
                                                 const mail::v1::AcceptedDomainRequest* req,
                                                 mail::v1::AcceptedDomain* resp) {
  GUARD();
  grpc::Status st = Assign(store_->AddAcceptedDomain(req->domain_name()),
                           [&](mail::v1::AcceptedDomain d) { *resp = std::move(d); });
  Audit(store_, ctx, "AddAcceptedDomain", req->domain_name(), "", st.ok() ? Describe(*resp) : "",
        st);
  return st;
}

grpc::Status DirectoryService::RemoveAcceptedDomain(grpc::ServerContext* ctx,
                                                    const mail::v1::AcceptedDomainRequest* req,
                                                    mail::v1::Empty*) {
  GUARD();
  grpc::Status st = ToGrpc(store_->RemoveAcceptedDomain(req->domain_name()));
  Audit(store_, ctx, "RemoveAcceptedDomain", req->domain_name(), req->domain_name(), "", st);
  return st;
}

grpc::Status DirectoryService::ListAcceptedDomains(grpc::ServerContext* ctx,
                                                   const mail::v1::ListAcceptedDomainsRequest*,
                                                   mail::v1::ListAcceptedDomainsResponse* resp) {
  GUARD();
  return Assign(store_->ListAcceptedDomains(), [&](std::vector<mail::v1::AcceptedDomain> v) {
    for (auto& d : v) *resp->add_domains() = std::move(d);
  });
}

// ---- Brute-force protection --------------------------------------------------------------

namespace {

// "127.0.0.1 (client address rule, 5 failures, until 1767261600)" for the audit log.
std::string DescribeBlocks(const google::protobuf::RepeatedPtrField<mail::v1::BlockedClient>& v) {
  std::string out;
  for (const auto& b : v) {
    if (!out.empty()) out += "; ";
    if (b.rule() == mail::v1::BLOCK_RULE_MAILBOX) {
      out += "mailbox " + b.mailbox() + " (mailbox rule";
    } else {
      out += b.client_address() + " (client address rule";
    }
    out += ", " + std::to_string(b.failures()) + " failures, blocked until unix " +
           std::to_string(b.blocked_until_unix()) + ")";
  }
  return out;
}

}  // namespace

grpc::Status DirectoryService::GetLogonFailures(grpc::ServerContext* ctx,
                                                const mail::v1::GetLogonFailuresRequest* req,
                                                mail::v1::GetLogonFailuresResponse* resp) {
  GUARD();
  *resp = store_->GetLogonFailures(*req);
  return grpc::Status::OK;
}

grpc::Status DirectoryService::GetBlockedClients(grpc::ServerContext* ctx,
                                                 const mail::v1::GetBlockedClientsRequest*,
                                                 mail::v1::GetBlockedClientsResponse* resp) {
  GUARD();
  *resp = store_->GetBlockedClients();
  return grpc::Status::OK;
}

grpc::Status DirectoryService::ClearBlockedClients(grpc::ServerContext* ctx,
                                                   const mail::v1::ClearBlockedClientsRequest* req,
                                                   mail::v1::ClearBlockedClientsResponse* resp) {
  GUARD();
  grpc::Status st = Assign(store_->ClearBlockedClients(*req),
                           [&](mail::v1::ClearBlockedClientsResponse r) { *resp = std::move(r); });
  std::string object = req->all() ? "all logon failures" : "";
  if (!req->all()) {
    if (!req->client_address().empty()) object = "client address " + req->client_address();
    if (!req->identity().empty()) {
      object += (object.empty() ? "" : ", ") + std::string("mailbox ") + req->identity();
    }
  }
  std::string new_value;
  if (st.ok()) {
    new_value = std::to_string(resp->failures_cleared()) + " failed logins forgotten; " +
                std::to_string(resp->lifted_size()) +
                (resp->lifted_size() == 1 ? " block lifted" : " blocks lifted");
  }
  Audit(store_, ctx, "ClearBlockedClients", object, st.ok() ? DescribeBlocks(resp->lifted()) : "",
        new_value, st);
  return st;
}

// ---- Access ------------------------------------------------------------------------------

grpc::Status AccessService::AuthenticatePlain(grpc::ServerContext* ctx,
                                              const mail::v1::AuthenticatePlainRequest* req,
                                              mail::v1::AuthenticateResponse* resp) {
  GUARD();
  return Assign(store_->AuthenticatePlain(*req),
                [&](mail::v1::AuthenticateResponse r) { *resp = std::move(r); });
}

grpc::Status AccessService::GetScramVerifier(grpc::ServerContext* ctx,
                                             const mail::v1::GetScramVerifierRequest* req,
                                             mail::v1::GetScramVerifierResponse* resp) {
  GUARD();
  if (!req->mechanism().empty() && req->mechanism() != "SCRAM-SHA-256") {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "unsupported mechanism");
  }
  return Assign(store_->GetScramVerifier(*req),
                [&](mail::v1::GetScramVerifierResponse r) { *resp = std::move(r); });
}

grpc::Status AccessService::CompleteLogin(grpc::ServerContext* ctx,
                                          const mail::v1::CompleteLoginRequest* req,
                                          mail::v1::AuthenticateResponse* resp) {
  GUARD();
  return Assign(store_->CompleteLogin(*req),
                [&](mail::v1::AuthenticateResponse r) { *resp = std::move(r); });
}

grpc::Status AccessService::ResolveAddress(grpc::ServerContext* ctx,
                                           const mail::v1::ResolveAddressRequest* req,
                                           mail::v1::ResolveAddressResponse* resp) {
  GUARD();
  return Assign(store_->ResolveAddress(req->address()),
                [&](mail::v1::ResolveAddressResponse r) { *resp = std::move(r); });
}

grpc::Status AccessService::ReportLoginFailure(grpc::ServerContext* ctx,
                                               const mail::v1::ReportLoginFailureRequest* req,
                                               mail::v1::ReportLoginFailureResponse*) {
  GUARD();
  return ToGrpc(store_->ReportLoginFailure(*req));
}

// ---- MessageStore ------------------------------------------------------------------------

grpc::Status MessageStoreService::ListFolders(grpc::ServerContext* ctx,
                                              const mail::v1::ListFoldersRequest* req,
                                              mail::v1::ListFoldersResponse* resp) {
  GUARD();
  return Assign(store_->ListFolders(*req), [&](std::vector<mail::v1::Folder> v) {
    for (auto& f : v) *resp->add_folders() = std::move(f);
  });
}

grpc::Status MessageStoreService::GetFolder(grpc::ServerContext* ctx,
                                            const mail::v1::GetFolderRequest* req,
                                            mail::v1::FolderResponse* resp) {
  GUARD();
  return Assign(store_->GetFolder(req->mailbox_id(), req->folder()),
                [&](mail::v1::Folder f) { *resp->mutable_folder() = std::move(f); });
}

grpc::Status MessageStoreService::CreateFolder(grpc::ServerContext* ctx,
                                               const mail::v1::CreateFolderRequest* req,
                                               mail::v1::FolderResponse* resp) {
  GUARD();
  return Assign(store_->CreateFolder(*req),
                [&](mail::v1::Folder f) { *resp->mutable_folder() = std::move(f); });
}

grpc::Status MessageStoreService::DeleteFolder(grpc::ServerContext* ctx,
                                               const mail::v1::DeleteFolderRequest* req,
                                               mail::v1::DeleteFolderResponse* resp) {
  GUARD();
  return Assign(store_->DeleteFolder(*req),
                [&](mail::v1::DeleteFolderResponse r) { *resp = std::move(r); });
}

grpc::Status MessageStoreService::RenameFolder(grpc::ServerContext* ctx,
                                               const mail::v1::RenameFolderRequest* req,
                                               mail::v1::RenameFolderResponse* resp) {
  GUARD();
  return Assign(store_->RenameFolder(*req),
                [&](mail::v1::RenameFolderResponse r) { *resp = std::move(r); });
}

grpc::Status MessageStoreService::SubscribeFolder(grpc::ServerContext* ctx,
                                                  const mail::v1::SubscribeFolderRequest* req,
                                                  mail::v1::FolderResponse* resp) {
  GUARD();
  return Assign(store_->SubscribeFolder(*req),
                [&](mail::v1::Folder f) { *resp->mutable_folder() = std::move(f); });
}

grpc::Status MessageStoreService::Append(grpc::ServerContext* ctx,
                                         const mail::v1::AppendRequest* req,
                                         mail::v1::AppendResponse* resp) {
  GUARD();
  return Assign(store_->Append(*req),
                [&](mail::v1::AppendResponse r) { *resp = std::move(r); });
}

grpc::Status MessageStoreService::Deliver(grpc::ServerContext* ctx,
                                          const mail::v1::DeliverRequest* req,
                                          mail::v1::DeliverResponse* resp) {
  GUARD();
  return Assign(store_->Deliver(*req),
                [&](mail::v1::DeliverResponse r) { *resp = std::move(r); });
}

grpc::Status MessageStoreService::Fetch(grpc::ServerContext* ctx,
                                        const mail::v1::FetchRequest* req,
                                        grpc::ServerWriter<mail::v1::FetchResponse>* writer) {
  GUARD();
  return ToGrpc(store_->Fetch(*req, [&](mail::v1::FetchResponse& r) {
    return !ctx->IsCancelled() && writer->Write(r);
  }));
}

grpc::Status MessageStoreService::GetBody(grpc::ServerContext* ctx,
                                          const mail::v1::GetBodyRequest* req,
                                          grpc::ServerWriter<mail::v1::GetBodyResponse>* writer) {
  GUARD();
  return ToGrpc(store_->GetBody(*req, [&](mail::v1::GetBodyResponse& r) {
    return !ctx->IsCancelled() && writer->Write(r);
  }));
}

grpc::Status MessageStoreService::GetBodies(
    grpc::ServerContext* ctx, const mail::v1::GetBodiesRequest* req,
    grpc::ServerWriter<mail::v1::GetBodiesResponse>* writer) {
  GUARD();
  return ToGrpc(store_->GetBodies(*req, [&](mail::v1::GetBodiesResponse& r) {
    return !ctx->IsCancelled() && writer->Write(r);
  }));
}

grpc::Status MessageStoreService::StoreFlags(grpc::ServerContext* ctx,
                                             const mail::v1::StoreFlagsRequest* req,
                                             mail::v1::StoreFlagsResponse* resp) {
  GUARD();
  return Assign(store_->StoreFlags(*req),
                [&](mail::v1::StoreFlagsResponse r) { *resp = std::move(r); });
}

grpc::Status MessageStoreService::Expunge(grpc::ServerContext* ctx,
                                          const mail::v1::ExpungeRequest* req,
                                          mail::v1::ExpungeResponse* resp) {
  GUARD();
  return Assign(store_->Expunge(*req),
                [&](mail::v1::ExpungeResponse r) { *resp = std::move(r); });
}

grpc::Status MessageStoreService::Copy(grpc::ServerContext* ctx, const mail::v1::CopyRequest* req,
                                       mail::v1::CopyResponse* resp) {
  GUARD();
  return Assign(store_->Copy(*req), [&](mail::v1::CopyResponse r) { *resp = std::move(r); });
}

grpc::Status MessageStoreService::SearchText(grpc::ServerContext* ctx,
                                             const mail::v1::SearchTextRequest* req,
                                             mail::v1::SearchTextResponse* resp) {
  GUARD();
  return Assign(store_->SearchText(*req),
                [&](mail::v1::SearchTextResponse r) { *resp = std::move(r); });
}

grpc::Status MessageStoreService::Watch(grpc::ServerContext* ctx,
                                        const mail::v1::WatchRequest* req,
                                        grpc::ServerWriter<mail::v1::ChangeEvent>* writer) {
  GUARD();
  if (!req->all_mailboxes() && req->mailbox_ids().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no mailbox to watch");
  }
  auto sub = store_->Watch(*req);
  mail::v1::ChangeEvent sync;
  sync.set_kind(mail::v1::CHANGE_KIND_SYNC);
  bool ok = writer->Write(sync);
  bool overflow = false;
  while (ok && !ctx->IsCancelled()) {
    auto e = sub->Next(250);
    if (!e) {
      if (sub->closed()) {
        overflow = true;
        break;
      }
      continue;
    }
    ok = writer->Write(*e);
  }
  store_->Unwatch(sub);
  if (overflow) {
    return grpc::Status(grpc::StatusCode::ABORTED, "watch ended (store stopping or watcher too "
                                                   "slow); resynchronise with GetChanges");
  }
  return grpc::Status::OK;
}

grpc::Status MessageStoreService::GetChanges(grpc::ServerContext* ctx,
                                             const mail::v1::GetChangesRequest* req,
                                             mail::v1::GetChangesResponse* resp) {
  GUARD();
  return Assign(store_->GetChanges(*req),
                [&](mail::v1::GetChangesResponse r) { *resp = std::move(r); });
}

grpc::Status MessageStoreService::MailboxStats(grpc::ServerContext* ctx,
                                               const mail::v1::MailboxStatsRequest* req,
                                               mail::v1::MailboxStatsResponse* resp) {
  GUARD();
  return Assign(store_->MailboxStats(req->mailbox_id()),
                [&](mail::v1::MailboxStatsResponse r) { *resp = std::move(r); });
}

// ---- Maintenance -------------------------------------------------------------------------

grpc::Status MaintenanceService::PurgeExpired(grpc::ServerContext* ctx,
                                              const mail::v1::PurgeExpiredRequest* req,
                                              mail::v1::PurgeExpiredResponse* resp) {
  GUARD();
  grpc::Status st = Assign(store_->PurgeExpired(req->now_unix()),
                           [&](mail::v1::PurgeExpiredResponse r) { *resp = std::move(r); });
  Audit(store_, ctx, "PurgeExpired", "retention", "",
        st.ok() ? std::to_string(resp->messages_purged()) + " messages purged" : "", st);
  return st;
}

// ---- Settings ----------------------------------------------------------------------------

grpc::Status SettingsService::GetSettings(grpc::ServerContext* ctx,
                                          const mail::v1::GetSettingsRequest*,
                                          mail::v1::ServerSettings* resp) {
  GUARD();  // The TCP admin endpoint shows settings only with the token.
  *resp = store_->GetSettings(/*effective=*/true);
  return grpc::Status::OK;
}

namespace {

// What a frontend node needs of the certificates: those enabled for a service, with their
// keys. The others stay in the store.
mail::v1::ServerSettings ForFrontends(mail::v1::ServerSettings s) {
  auto* list = s.mutable_certificates();
  list->erase(std::remove_if(list->begin(), list->end(),
                             [](const mail::v1::Certificate& c) { return c.services().empty(); }),
              list->end());
  return s;
}

std::string CertificateServicesText(const mail::v1::Certificate& c) {
  std::string out;
  for (int s : c.services()) {
    if (!out.empty()) out += ",";
    out += s == mail::v1::CERTIFICATE_SERVICE_IMAP  ? "IMAP"
           : s == mail::v1::CERTIFICATE_SERVICE_POP ? "POP"
                                                    : "SMTP";
  }
  return out.empty() ? "None" : out;
}

// The audit log's view of a certificate: what it is and where it serves, never the key.
std::string CertificateAuditText(const mail::v1::Certificate& c) {
  std::string domains;
  for (const auto& d : c.certificate_domains()) domains += (domains.empty() ? "" : ",") + d;
  return "subject: " + c.subject() + "; domains: " + domains +
         "; not_after_unix: " + std::to_string(c.not_after_unix()) +
         "; services: " + CertificateServicesText(c);
}

}  // namespace

grpc::Status SettingsService::WatchSettings(grpc::ServerContext* ctx,
                                            const mail::v1::GetSettingsRequest*,
                                            grpc::ServerWriter<mail::v1::ServerSettings>* writer) {
  GUARD();
  mail::v1::ServerSettings current = ForFrontends(store_->GetSettings(/*effective=*/false));
  if (!writer->Write(current)) return grpc::Status::OK;
  uint64_t seen = current.version();
  while (!ctx->IsCancelled()) {
    mail::v1::ServerSettings next = store_->WaitForSettings(seen, 500);
    if (next.version() <= seen) continue;
    seen = next.version();
    if (!writer->Write(ForFrontends(std::move(next)))) break;
  }
  return grpc::Status::OK;
}

grpc::Status SettingsService::GetCertificates(grpc::ServerContext* ctx,
                                              const mail::v1::GetCertificatesRequest* req,
                                              mail::v1::GetCertificatesResponse* resp) {
  if (!allow_update_) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "admin endpoint only");
  }
  GUARD();
  for (auto& c : store_->ListCertificates(*req)) *resp->add_certificates() = std::move(c);
  return grpc::Status::OK;
}

grpc::Status SettingsService::NewCertificate(grpc::ServerContext* ctx,
                                             const mail::v1::NewCertificateRequest* req,
                                             mail::v1::Certificate* resp) {
  if (!allow_update_) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "settings change only by admins");
  }
  GUARD();
  grpc::Status st = Assign(store_->NewCertificate(*req),
                           [&](mail::v1::Certificate c) { *resp = std::move(c); });
  Audit(store_, ctx, "NewCertificate", st.ok() ? resp->thumbprint() : req->subject_name(), "",
        st.ok() ? CertificateAuditText(*resp) : "", st);
  return st;
}

grpc::Status SettingsService::ImportCertificate(grpc::ServerContext* ctx,
                                                const mail::v1::ImportCertificateRequest* req,
                                                mail::v1::Certificate* resp) {
  if (!allow_update_) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "settings change only by admins");
  }
  GUARD();
  grpc::Status st = Assign(store_->ImportCertificate(*req),
                           [&](mail::v1::Certificate c) { *resp = std::move(c); });
  Audit(store_, ctx, "ImportCertificate", st.ok() ? resp->thumbprint() : "", "",
        st.ok() ? CertificateAuditText(*resp) : "", st);
  return st;
}

grpc::Status SettingsService::EnableCertificate(grpc::ServerContext* ctx,
                                                const mail::v1::EnableCertificateRequest* req,
                                                mail::v1::Certificate* resp) {
  if (!allow_update_) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "settings change only by admins");
  }
  GUARD();
  mail::v1::GetCertificatesRequest find;
  find.set_thumbprint(req->thumbprint());
  std::vector<mail::v1::Certificate> before = store_->ListCertificates(find);
  grpc::Status st = Assign(store_->EnableCertificate(*req),
                           [&](mail::v1::Certificate c) { *resp = std::move(c); });
  Audit(store_, ctx, "EnableCertificate", req->thumbprint(),
        before.empty() ? "" : "services: " + CertificateServicesText(before.front()),
        st.ok() ? "services: " + CertificateServicesText(*resp) : "", st);
  return st;
}

grpc::Status SettingsService::RemoveCertificate(grpc::ServerContext* ctx,
                                                const mail::v1::RemoveCertificateRequest* req,
                                                mail::v1::Certificate* resp) {
  if (!allow_update_) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "settings change only by admins");
  }
  GUARD();
  grpc::Status st = Assign(store_->RemoveCertificate(*req),
                           [&](mail::v1::Certificate c) { *resp = std::move(c); });
  Audit(store_, ctx, "RemoveCertificate", req->thumbprint(),
        st.ok() ? CertificateAuditText(*resp) : "", st.ok() ? "(removed)" : "", st);
  return st;
}

grpc::Status SettingsService::UpdateProtocolSettings(
    grpc::ServerContext* ctx, const mail::v1::UpdateProtocolSettingsRequest* req,
    mail::v1::ServerSettings* resp) {
  if (!allow_update_) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "settings change only by admins");
  }
  GUARD();
  mail::v1::ServerSettings before = store_->GetSettings(/*effective=*/true);
  grpc::Status st = Assign(store_->UpdateProtocolSettings(*req),
                           [&](mail::v1::ServerSettings s) { *resp = std::move(s); });
  std::string old_value, new_value;
  if (st.ok()) Diff(before, *resp, &old_value, &new_value);
  Audit(store_, ctx, "UpdateProtocolSettings", req->protocol() == mail::v1::SETTINGS_PROTOCOL_POP3 ? "PopSettings" : "ImapSettings", old_value, new_value, st);
  return st;
}

grpc::Status SettingsService::UpdateReceiveConnector(
    grpc::ServerContext* ctx, const mail::v1::UpdateReceiveConnectorRequest* req,
    mail::v1::ServerSettings* resp) {
  if (!allow_update_) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "settings change only by admins");
  }
  GUARD();
  mail::v1::ServerSettings before = store_->GetSettings(/*effective=*/true);
  grpc::Status st = Assign(store_->UpdateReceiveConnector(*req),
                           [&](mail::v1::ServerSettings s) { *resp = std::move(s); });
  std::string old_value, new_value;
  if (st.ok()) Diff(before, *resp, &old_value, &new_value);
  Audit(store_, ctx, "UpdateReceiveConnector", req->identity().empty() ? req->connector().name() : req->identity(), old_value, new_value, st);
  return st;
}

grpc::Status SettingsService::UpdateTransportSettings(
    grpc::ServerContext* ctx, const mail::v1::UpdateTransportSettingsRequest* req,
    mail::v1::ServerSettings* resp) {
  if (!allow_update_) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "settings change only by admins");
  }
  GUARD();
  mail::v1::ServerSettings before = store_->GetSettings(/*effective=*/true);
  grpc::Status st = Assign(store_->UpdateTransportSettings(*req),
                           [&](mail::v1::ServerSettings s) { *resp = std::move(s); });
  std::string old_value, new_value;
  if (st.ok()) Diff(before, *resp, &old_value, &new_value);
  Audit(store_, ctx, "UpdateTransportSettings", "TransportSettings", old_value, new_value, st);
  return st;
}

// ---- Control -----------------------------------------------------------------------------

grpc::Status ControlService::Heartbeat(grpc::ServerContext* ctx,
                                       const mail::v1::HeartbeatRequest* req,
                                       mail::v1::HeartbeatResponse* resp) {
  GUARD();
  *resp = store_->Heartbeat(*req);
  return grpc::Status::OK;
}

grpc::Status ControlService::GetServices(grpc::ServerContext* ctx,
                                         const mail::v1::GetServicesRequest* req,
                                         mail::v1::GetServicesResponse* resp) {
  if (!admin_) return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "admin endpoint only");
  GUARD();
  *resp = store_->GetServices(*req);
  return grpc::Status::OK;
}

grpc::Status ControlService::SetService(grpc::ServerContext* ctx,
                                        const mail::v1::SetServiceRequest* req,
                                        mail::v1::GetServicesResponse* resp) {
  if (!admin_) return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "admin endpoint only");
  GUARD();
  grpc::Status st = Assign(store_->SetService(*req),
                           [&](mail::v1::GetServicesResponse r) { *resp = std::move(r); });
  std::string object = mail::v1::ServiceName_Name(req->service());
  if (!req->node().empty()) object += " on " + req->node();
  std::string change = mail::v1::ServiceAction_Name(req->action());
  if (req->action() == mail::v1::SERVICE_ACTION_SET_STARTUP_TYPE) {
    change += " " + mail::v1::StartupType_Name(req->startup_type());
  }
  Audit(store_, ctx, "SetService", object, "", change, st);
  return st;
}

grpc::Status ControlService::GetAdminAuditLog(grpc::ServerContext* ctx,
                                              const mail::v1::GetAdminAuditLogRequest* req,
                                              mail::v1::GetAdminAuditLogResponse* resp) {
  if (!admin_) return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "admin endpoint only");
  GUARD();
  for (auto& e : store_->GetAuditLog(*req)) *resp->add_entries() = std::move(e);
  return grpc::Status::OK;
}

}  // namespace mailboxstore
