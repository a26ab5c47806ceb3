#include "mailboxstore/service/grpc_services.h"

#include <openssl/crypto.h>

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
  MAIL_LOG(kWarning, "admin") << "refused admin call without a valid token from " << ctx->peer();
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "admin token required");
}

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
  return Assign(store_->CreateMailbox(*req),
                [&](mail::v1::Mailbox m) { *resp->mutable_mailbox() = std::move(m); });
}

grpc::Status DirectoryService::GetMailbox(grpc::ServerContext* ctx,
                                          const mail::v1::MailboxIdentity* req,
                                          mail::v1::GetMailboxResponse* resp) {
  GUARD();
  return Assign(store_->GetMailbox(req->identity()),
                [&](mail::v1::Mailbox m) { *resp->mutable_mailbox() = std::move(m); });
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
  return Assign(store_->UpdateMailbox(req->identity(), req->update()),
                [&](mail::v1::Mailbox m) { *resp->mutable_mailbox() = std::move(m); });
}

grpc::Status DirectoryService::SetPassword(grpc::ServerContext* ctx,
                                           const mail::v1::SetPasswordRequest* req,
                                           mail::v1::GetMailboxResponse* resp) {
  GUARD();
  return Assign(store_->SetPassword(req->identity(), req->password()),
                [&](mail::v1::Mailbox m) { *resp->mutable_mailbox() = std::move(m); });
}

grpc::Status DirectoryService::DeleteMailbox(grpc::ServerContext* ctx,
                                             const mail::v1::DeleteMailboxRequest* req,
                                             mail::v1::DeleteMailboxResponse* resp) {
  GUARD();
  return Assign(store_->DeleteMailbox(req->identity()),
                [&](mail::v1::Mailbox m) { *resp->mutable_mailbox() = std::move(m); });
}

grpc::Status DirectoryService::AddAcceptedDomain(grpc::ServerContext* ctx,
                                                 const mail::v1::AcceptedDomainRequest* req,
                                                 mail::v1::AcceptedDomain* resp) {
  GUARD();
  return Assign(store_->AddAcceptedDomain(req->domain_name()),
                [&](mail::v1::AcceptedDomain d) { *resp = std::move(d); });
}

grpc::Status DirectoryService::RemoveAcceptedDomain(grpc::ServerContext* ctx,
                                                    const mail::v1::AcceptedDomainRequest* req,
                                                    mail::v1::Empty*) {
  GUARD();
  return ToGrpc(store_->RemoveAcceptedDomain(req->domain_name()));
}

grpc::Status DirectoryService::ListAcceptedDomains(grpc::ServerContext* ctx,
                                                   const mail::v1::ListAcceptedDomainsRequest*,
                                                   mail::v1::ListAcceptedDomainsResponse* resp) {
  GUARD();
  return Assign(store_->ListAcceptedDomains(), [&](std::vector<mail::v1::AcceptedDomain> v) {
    for (auto& d : v) *resp->add_domains() = std::move(d);
  });
}

// ---- Access ------------------------------------------------------------------------------

grpc::Status AccessService::AuthenticatePlain(grpc::ServerContext*,
                                              const mail::v1::AuthenticatePlainRequest* req,
                                              mail::v1::AuthenticateResponse* resp) {
  return Assign(store_->AuthenticatePlain(*req),
                [&](mail::v1::AuthenticateResponse r) { *resp = std::move(r); });
}

grpc::Status AccessService::GetScramVerifier(grpc::ServerContext*,
                                             const mail::v1::GetScramVerifierRequest* req,
                                             mail::v1::GetScramVerifierResponse* resp) {
  if (!req->mechanism().empty() && req->mechanism() != "SCRAM-SHA-256") {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "unsupported mechanism");
  }
  return Assign(store_->GetScramVerifier(req->user()),
                [&](mail::v1::ScramVerifier v) { *resp->mutable_verifier() = std::move(v); });
}

grpc::Status AccessService::CompleteLogin(grpc::ServerContext*,
                                          const mail::v1::CompleteLoginRequest* req,
                                          mail::v1::AuthenticateResponse* resp) {
  return Assign(store_->CompleteLogin(*req),
                [&](mail::v1::AuthenticateResponse r) { *resp = std::move(r); });
}

grpc::Status AccessService::ResolveAddress(grpc::ServerContext*,
                                           const mail::v1::ResolveAddressRequest* req,
                                           mail::v1::ResolveAddressResponse* resp) {
  return Assign(store_->ResolveAddress(req->address()),
                [&](mail::v1::ResolveAddressResponse r) { *resp = std::move(r); });
}

// ---- MessageStore ------------------------------------------------------------------------

grpc::Status MessageStoreService::ListFolders(grpc::ServerContext*,
                                              const mail::v1::ListFoldersRequest* req,
                                              mail::v1::ListFoldersResponse* resp) {
  return Assign(store_->ListFolders(*req), [&](std::vector<mail::v1::Folder> v) {
    for (auto& f : v) *resp->add_folders() = std::move(f);
  });
}

grpc::Status MessageStoreService::GetFolder(grpc::ServerContext*,
                                            const mail::v1::GetFolderRequest* req,
                                            mail::v1::FolderResponse* resp) {
  return Assign(store_->GetFolder(req->mailbox_id(), req->folder()),
                [&](mail::v1::Folder f) { *resp->mutable_folder() = std::move(f); });
}

grpc::Status MessageStoreService::CreateFolder(grpc::ServerContext*,
                                               const mail::v1::CreateFolderRequest* req,
                                               mail::v1::FolderResponse* resp) {
  return Assign(store_->CreateFolder(*req),
                [&](mail::v1::Folder f) { *resp->mutable_folder() = std::move(f); });
}

grpc::Status MessageStoreService::DeleteFolder(grpc::ServerContext*,
                                               const mail::v1::DeleteFolderRequest* req,
                                               mail::v1::DeleteFolderResponse* resp) {
  return Assign(store_->DeleteFolder(*req),
                [&](mail::v1::DeleteFolderResponse r) { *resp = std::move(r); });
}

grpc::Status MessageStoreService::RenameFolder(grpc::ServerContext*,
                                               const mail::v1::RenameFolderRequest* req,
                                               mail::v1::RenameFolderResponse* resp) {
  return Assign(store_->RenameFolder(*req),
                [&](mail::v1::RenameFolderResponse r) { *resp = std::move(r); });
}

grpc::Status MessageStoreService::SubscribeFolder(grpc::ServerContext*,
                                                  const mail::v1::SubscribeFolderRequest* req,
                                                  mail::v1::FolderResponse* resp) {
  return Assign(store_->SubscribeFolder(*req),
                [&](mail::v1::Folder f) { *resp->mutable_folder() = std::move(f); });
}

grpc::Status MessageStoreService::Append(grpc::ServerContext*, const mail::v1::AppendRequest* req,
                                         mail::v1::AppendResponse* resp) {
  return Assign(store_->Append(*req),
                [&](mail::v1::AppendResponse r) { *resp = std::move(r); });
}

grpc::Status MessageStoreService::Deliver(grpc::ServerContext*,
                                          const mail::v1::DeliverRequest* req,
                                          mail::v1::DeliverResponse* resp) {
  return Assign(store_->Deliver(*req),
                [&](mail::v1::DeliverResponse r) { *resp = std::move(r); });
}

grpc::Status MessageStoreService::Fetch(grpc::ServerContext* ctx,
                                        const mail::v1::FetchRequest* req,
                                        grpc::ServerWriter<mail::v1::FetchResponse>* writer) {
  return ToGrpc(store_->Fetch(*req, [&](mail::v1::FetchResponse& r) {
    return !ctx->IsCancelled() && writer->Write(r);
  }));
}

grpc::Status MessageStoreService::GetBody(grpc::ServerContext* ctx,
                                          const mail::v1::GetBodyRequest* req,
                                          grpc::ServerWriter<mail::v1::GetBodyResponse>* writer) {
  return ToGrpc(store_->GetBody(*req, [&](mail::v1::GetBodyResponse& r) {
    return !ctx->IsCancelled() && writer->Write(r);
  }));
}

grpc::Status MessageStoreService::StoreFlags(grpc::ServerContext*,
                                             const mail::v1::StoreFlagsRequest* req,
                                             mail::v1::StoreFlagsResponse* resp) {
  return Assign(store_->StoreFlags(*req),
                [&](mail::v1::StoreFlagsResponse r) { *resp = std::move(r); });
}

grpc::Status MessageStoreService::Expunge(grpc::ServerContext*,
                                          const mail::v1::ExpungeRequest* req,
                                          mail::v1::ExpungeResponse* resp) {
  return Assign(store_->Expunge(*req),
                [&](mail::v1::ExpungeResponse r) { *resp = std::move(r); });
}

grpc::Status MessageStoreService::Copy(grpc::ServerContext*, const mail::v1::CopyRequest* req,
                                       mail::v1::CopyResponse* resp) {
  return Assign(store_->Copy(*req), [&](mail::v1::CopyResponse r) { *resp = std::move(r); });
}

grpc::Status MessageStoreService::Watch(grpc::ServerContext* ctx,
                                        const mail::v1::WatchRequest* req,
                                        grpc::ServerWriter<mail::v1::ChangeEvent>* writer) {
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

grpc::Status MessageStoreService::GetChanges(grpc::ServerContext*,
                                             const mail::v1::GetChangesRequest* req,
                                             mail::v1::GetChangesResponse* resp) {
  return Assign(store_->GetChanges(*req),
                [&](mail::v1::GetChangesResponse r) { *resp = std::move(r); });
}

grpc::Status MessageStoreService::MailboxStats(grpc::ServerContext*,
                                               const mail::v1::MailboxStatsRequest* req,
                                               mail::v1::MailboxStatsResponse* resp) {
  return Assign(store_->MailboxStats(req->mailbox_id()),
                [&](mail::v1::MailboxStatsResponse r) { *resp = std::move(r); });
}

// ---- Maintenance -------------------------------------------------------------------------

grpc::Status MaintenanceService::PurgeExpired(grpc::ServerContext* ctx,
                                              const mail::v1::PurgeExpiredRequest* req,
                                              mail::v1::PurgeExpiredResponse* resp) {
  GUARD();
  return Assign(store_->PurgeExpired(req->now_unix()),
                [&](mail::v1::PurgeExpiredResponse r) { *resp = std::move(r); });
}

// ---- Settings ----------------------------------------------------------------------------

grpc::Status SettingsService::GetSettings(grpc::ServerContext*, const mail::v1::GetSettingsRequest*,
                                          mail::v1::ServerSettings* resp) {
  *resp = store_->GetSettings(/*effective=*/true);
  return grpc::Status::OK;
}

grpc::Status SettingsService::WatchSettings(grpc::ServerContext* ctx,
                                            const mail::v1::GetSettingsRequest*,
                                            grpc::ServerWriter<mail::v1::ServerSettings>* writer) {
  mail::v1::ServerSettings current = store_->GetSettings(/*effective=*/false);
  if (!writer->Write(current)) return grpc::Status::OK;
  uint64_t seen = current.version();
  while (!ctx->IsCancelled()) {
    mail::v1::ServerSettings next = store_->WaitForSettings(seen, 500);
    if (next.version() <= seen) continue;
    seen = next.version();
    if (!writer->Write(next)) break;
  }
  return grpc::Status::OK;
}

grpc::Status SettingsService::UpdateProtocolSettings(
    grpc::ServerContext* ctx, const mail::v1::UpdateProtocolSettingsRequest* req,
    mail::v1::ServerSettings* resp) {
  if (!allow_update_) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "settings change only by admins");
  }
  GUARD();
  return Assign(store_->UpdateProtocolSettings(*req),
                [&](mail::v1::ServerSettings s) { *resp = std::move(s); });
}

grpc::Status SettingsService::UpdateReceiveConnector(
    grpc::ServerContext* ctx, const mail::v1::UpdateReceiveConnectorRequest* req,
    mail::v1::ServerSettings* resp) {
  if (!allow_update_) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "settings change only by admins");
  }
  GUARD();
  return Assign(store_->UpdateReceiveConnector(*req),
                [&](mail::v1::ServerSettings s) { *resp = std::move(s); });
}

grpc::Status SettingsService::UpdateTransportSettings(
    grpc::ServerContext* ctx, const mail::v1::UpdateTransportSettingsRequest* req,
    mail::v1::ServerSettings* resp) {
  if (!allow_update_) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "settings change only by admins");
  }
  GUARD();
  return Assign(store_->UpdateTransportSettings(*req),
                [&](mail::v1::ServerSettings s) { *resp = std::move(s); });
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
  return Assign(store_->SetService(*req),
                [&](mail::v1::GetServicesResponse r) { *resp = std::move(r); });
}

}  // namespace mailboxstore
