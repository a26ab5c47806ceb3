// gRPC services of mailboxstored over RocksMailboxStore. Thin: they translate requests and
// Status codes and stream results; all logic lives in the engine.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "control.grpc.pb.h"
#include "directory.grpc.pb.h"
#include "mailboxstore/core/rocks_mailbox_store.h"
#include "store.grpc.pb.h"

namespace mailboxstore {

grpc::Status ToGrpc(const common::Status& s);

// Admin access check: empty token = the endpoint is trusted by its transport (unix socket with
// file permissions); otherwise every call must carry "authorization: Bearer <token>".
class AdminGuard {
 public:
  // `what` names the token in refusals: "admin", or "node" for the frontend endpoint.
  explicit AdminGuard(std::string token, const char* what = "admin")
      : token_(std::move(token)), what_(what) {}
  grpc::Status Check(grpc::ServerContext* ctx) const;

 private:
  std::string token_;
  const char* what_;
};

class DirectoryService final : public mail::v1::Directory::Service {
 public:
  DirectoryService(RocksMailboxStore* store, AdminGuard guard)
      : store_(store), guard_(std::move(guard)) {}

  grpc::Status CreateMailbox(grpc::ServerContext*, const mail::v1::CreateMailboxRequest*,
                             mail::v1::GetMailboxResponse*) override;
  grpc::Status GetMailbox(grpc::ServerContext*, const mail::v1::MailboxIdentity*,
                          mail::v1::GetMailboxResponse*) override;
  grpc::Status ListMailboxes(grpc::ServerContext*, const mail::v1::ListMailboxesRequest*,
                             mail::v1::ListMailboxesResponse*) override;
  grpc::Status UpdateMailbox(grpc::ServerContext*, const mail::v1::UpdateMailboxRequest*,
                             mail::v1::GetMailboxResponse*) override;
  grpc::Status SetPassword(grpc::ServerContext*, const mail::v1::SetPasswordRequest*,
                           mail::v1::GetMailboxResponse*) override;
  grpc::Status DeleteMailbox(grpc::ServerContext*, const mail::v1::DeleteMailboxRequest*,
                             mail::v1::DeleteMailboxResponse*) override;
  grpc::Status AddAcceptedDomain(grpc::ServerContext*, const mail::v1::AcceptedDomainRequest*,
                                 mail::v1::AcceptedDomain*) override;
  grpc::Status RemoveAcceptedDomain(grpc::ServerContext*, const mail::v1::AcceptedDomainRequest*,
                                    mail::v1::Empty*) override;
  grpc::Status ListAcceptedDomains(grpc::ServerContext*,
                                   const mail::v1::ListAcceptedDomainsRequest*,
                                   mail::v1::ListAcceptedDomainsResponse*) override;
  grpc::Status GetLogonFailures(grpc::ServerContext*, const mail::v1::GetLogonFailuresRequest*,
                                mail::v1::GetLogonFailuresResponse*) override;
  grpc::Status GetBlockedClients(grpc::ServerContext*, const mail::v1::GetBlockedClientsRequest*,
                                 mail::v1::GetBlockedClientsResponse*) override;
  grpc::Status ClearBlockedClients(grpc::ServerContext*,
                                   const mail::v1::ClearBlockedClientsRequest*,
                                   mail::v1::ClearBlockedClientsResponse*) override;
  grpc::Status GetMailboxStatistics(grpc::ServerContext*, const mail::v1::MailboxIdentity*,
                                    mail::v1::MailboxStatisticsResponse*) override;

 private:
  RocksMailboxStore* store_;
  AdminGuard guard_;
};

class AccessService final : public mail::v1::Access::Service {
 public:
  explicit AccessService(RocksMailboxStore* store, AdminGuard guard = AdminGuard(""))
      : store_(store), guard_(std::move(guard)) {}
  grpc::Status AuthenticatePlain(grpc::ServerContext*, const mail::v1::AuthenticatePlainRequest*,
                                 mail::v1::AuthenticateResponse*) override;
  grpc::Status GetScramVerifier(grpc::ServerContext*, const mail::v1::GetScramVerifierRequest*,
                                mail::v1::GetScramVerifierResponse*) override;
  grpc::Status CompleteLogin(grpc::ServerContext*, const mail::v1::CompleteLoginRequest*,
                             mail::v1::AuthenticateResponse*) override;
  grpc::Status ResolveAddress(grpc::ServerContext*, const mail::v1::ResolveAddressRequest*,
                              mail::v1::ResolveAddressResponse*) override;
  grpc::Status ReportLoginFailure(grpc::ServerContext*,
                                  const mail::v1::ReportLoginFailureRequest*,
                                  mail::v1::ReportLoginFailureResponse*) override;

 private:
  RocksMailboxStore* store_;
  AdminGuard guard_;
};

class MessageStoreService final : public mail::v1::MessageStore::Service {
 public:
  explicit MessageStoreService(RocksMailboxStore* store, AdminGuard guard = AdminGuard(""))
      : store_(store), guard_(std::move(guard)) {}
  grpc::Status ListFolders(grpc::ServerContext*, const mail::v1::ListFoldersRequest*,
                           mail::v1::ListFoldersResponse*) override;
  grpc::Status GetFolder(grpc::ServerContext*, const mail::v1::GetFolderRequest*,
                         mail::v1::FolderResponse*) override;
  grpc::Status CreateFolder(grpc::ServerContext*, const mail::v1::CreateFolderRequest*,
                            mail::v1::FolderResponse*) override;
  grpc::Status DeleteFolder(grpc::ServerContext*, const mail::v1::DeleteFolderRequest*,
                            mail::v1::DeleteFolderResponse*) override;
  grpc::Status RenameFolder(grpc::ServerContext*, const mail::v1::RenameFolderRequest*,
                            mail::v1::RenameFolderResponse*) override;
  grpc::Status SubscribeFolder(grpc::ServerContext*, const mail::v1::SubscribeFolderRequest*,
                               mail::v1::FolderResponse*) override;
  grpc::Status Append(grpc::ServerContext*, const mail::v1::AppendRequest*,
                      mail::v1::AppendResponse*) override;
  grpc::Status Deliver(grpc::ServerContext*, const mail::v1::DeliverRequest*,
                       mail::v1::DeliverResponse*) override;
  grpc::Status Fetch(grpc::ServerContext*, const mail::v1::FetchRequest*,
                     grpc::ServerWriter<mail::v1::FetchResponse>*) override;
  grpc::Status GetBody(grpc::ServerContext*, const mail::v1::GetBodyRequest*,
                       grpc::ServerWriter<mail::v1::GetBodyResponse>*) override;
  grpc::Status GetBodies(grpc::ServerContext*, const mail::v1::GetBodiesRequest*,
                         grpc::ServerWriter<mail::v1::GetBodiesResponse>*) override;
  grpc::Status StoreFlags(grpc::ServerContext*, const mail::v1::StoreFlagsRequest*,
                          mail::v1::StoreFlagsResponse*) override;
  grpc::Status Expunge(grpc::ServerContext*, const mail::v1::ExpungeRequest*,
                       mail::v1::ExpungeResponse*) override;
  grpc::Status Copy(grpc::ServerContext*, const mail::v1::CopyRequest*,
                    mail::v1::CopyResponse*) override;
  grpc::Status SearchText(grpc::ServerContext*, const mail::v1::SearchTextRequest*,
                          mail::v1::SearchTextResponse*) override;
  grpc::Status Watch(grpc::ServerContext*, const mail::v1::WatchRequest*,
                     grpc::ServerWriter<mail::v1::ChangeEvent>*) override;
  grpc::Status GetChanges(grpc::ServerContext*, const mail::v1::GetChangesRequest*,
                          mail::v1::GetChangesResponse*) override;
  grpc::Status MailboxStats(grpc::ServerContext*, const mail::v1::MailboxStatsRequest*,
                            mail::v1::MailboxStatsResponse*) override;

 private:
  RocksMailboxStore* store_;
  AdminGuard guard_;
};

class MaintenanceService final : public mail::v1::Maintenance::Service {
 public:
  MaintenanceService(RocksMailboxStore* store, AdminGuard guard)
      : store_(store), guard_(std::move(guard)) {}
  grpc::Status PurgeExpired(grpc::ServerContext*, const mail::v1::PurgeExpiredRequest*,
                            mail::v1::PurgeExpiredResponse*) override;

 private:
  RocksMailboxStore* store_;
  AdminGuard guard_;
};

// The node registry and service states. Heartbeat on every endpoint (nodes use the frontend
// one); GetServices and SetService only where `admin` (with the endpoint's guard).
class ControlService final : public mail::v1::Control::Service {
 public:
  ControlService(RocksMailboxStore* store, AdminGuard guard, bool admin)
      : store_(store), guard_(std::move(guard)), admin_(admin) {}
  grpc::Status Heartbeat(grpc::ServerContext*, const mail::v1::HeartbeatRequest*,
                         mail::v1::HeartbeatResponse*) override;
  grpc::Status GetServices(grpc::ServerContext*, const mail::v1::GetServicesRequest*,
                           mail::v1::GetServicesResponse*) override;
  grpc::Status SetService(grpc::ServerContext*, const mail::v1::SetServiceRequest*,
                          mail::v1::GetServicesResponse*) override;
  grpc::Status GetAdminAuditLog(grpc::ServerContext*, const mail::v1::GetAdminAuditLogRequest*,
                                mail::v1::GetAdminAuditLogResponse*) override;

 private:
  RocksMailboxStore* store_;
  AdminGuard guard_;
  bool admin_;
};

// Server settings. Updates only where `allow_update` (the admin endpoints, with their guard).
class SettingsService final : public mail::v1::Settings::Service {
 public:
  SettingsService(RocksMailboxStore* store, AdminGuard guard, bool allow_update)
      : store_(store), guard_(std::move(guard)), allow_update_(allow_update) {}
  grpc::Status GetSettings(grpc::ServerContext*, const mail::v1::GetSettingsRequest*,
                           mail::v1::ServerSettings*) override;
  grpc::Status WatchSettings(grpc::ServerContext*, const mail::v1::GetSettingsRequest*,
                             grpc::ServerWriter<mail::v1::ServerSettings>*) override;
  grpc::Status UpdateProtocolSettings(grpc::ServerContext*,
                                      const mail::v1::UpdateProtocolSettingsRequest*,
                                      mail::v1::ServerSettings*) override;
  grpc::Status UpdateReceiveConnector(grpc::ServerContext*,
                                      const mail::v1::UpdateReceiveConnectorRequest*,
                                      mail::v1::ServerSettings*) override;
  grpc::Status UpdateTransportSettings(grpc::ServerContext*,
                                       const mail::v1::UpdateTransportSettingsRequest*,
                                       mail::v1::ServerSettings*) override;
  grpc::Status GetCertificates(grpc::ServerContext*, const mail::v1::GetCertificatesRequest*,
                               mail::v1::GetCertificatesResponse*) override;
  grpc::Status NewCertificate(grpc::ServerContext*, const mail::v1::NewCertificateRequest*,
                              mail::v1::Certificate*) override;
  grpc::Status ImportCertificate(grpc::ServerContext*, const mail::v1::ImportCertificateRequest*,
                                 mail::v1::Certificate*) override;
  grpc::Status EnableCertificate(grpc::ServerContext*, const mail::v1::EnableCertificateRequest*,
                                 mail::v1::Certificate*) override;
  grpc::Status RemoveCertificate(grpc::ServerContext*, const mail::v1::RemoveCertificateRequest*,
                                 mail::v1::Certificate*) override;

 private:
  RocksMailboxStore* store_;
  AdminGuard guard_;
  bool allow_update_;
};

}  // namespace mailboxstore
