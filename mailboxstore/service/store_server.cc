#include "mailboxstore/service/store_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include <grpcpp/resource_quota.h>

#include "common/config.h"
#include "common/logging.h"

namespace mailboxstore {
namespace {

constexpr int kMaxMessageBytes = 100 << 20;  // Above the 64 MiB message limit plus framing.

void Configure(grpc::ServerBuilder* b) {
  b->SetMaxReceiveMessageSize(kMaxMessageBytes);
  b->SetMaxSendMessageSize(kMaxMessageBytes);
  grpc::ResourceQuota quota("mailboxstored");
  quota.SetMaxThreads(1024);
  b->SetResourceQuota(quota);
  b->AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Appends block in the group committer; with gRPC's default of 1-2 polling threads the sync
  // server made a new thread for about every other append (measured by tests/bench: +50% at
  // 64 clients with a standing pool of pollers).
  b->SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 64);
  b->SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 128);
  b->AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
}

}  // namespace

common::StatusOr<StoreServerOptions> OptionsFromConfig(const mail::v1::StoreServerConfig& cfg) {
  StoreServerOptions o;
  o.store.data_dir = cfg.data_dir().empty() ? "/var/lib/casmail/store" : cfg.data_dir();
  if (!cfg.listen().empty()) o.listen = cfg.listen();
  if (!cfg.admin_socket().empty()) o.admin_socket = cfg.admin_socket();
  o.admin_listen = cfg.admin_listen();
  if (cfg.has_sync_writes()) o.store.sync_writes = cfg.sync_writes();
  if (cfg.deleted_items_retention_days() != 0) {
    o.store.deleted_items_retention_days = cfg.deleted_items_retention_days();
  }
  if (cfg.junk_retention_days() != 0) o.store.junk_retention_days = cfg.junk_retention_days();
  if (cfg.retention_interval_seconds() != 0) {
    o.store.retention_interval_seconds = cfg.retention_interval_seconds();
  }
  if (cfg.scram_iterations() != 0) {
    if (cfg.scram_iterations() < 4096) {
      return common::InvalidArgumentError("scram_iterations must be at least 4096");
    }
    o.store.scram_iterations = cfg.scram_iterations();
  }
  MAIL_RETURN_IF_ERROR(ValidateIpNetworks({cfg.login_throttle_exempt().begin(),
                                           cfg.login_throttle_exempt().end()}));
  o.store.login_throttle.exempt_networks.assign(cfg.login_throttle_exempt().begin(),
                                                cfg.login_throttle_exempt().end());
  if (!o.admin_listen.empty()) {
    if (cfg.admin_token_file().empty()) {
      return common::InvalidArgumentError("admin_listen needs admin_token_file");
    }
    MAIL_ASSIGN_OR_RETURN(o.admin_token,
                          common::ReadTokenFile(cfg.admin_token_file(), "admin_token_file"));
  }
  if (!cfg.node_token_file().empty()) {
    MAIL_ASSIGN_OR_RETURN(o.node_token,
                          common::ReadTokenFile(cfg.node_token_file(), "node_token_file"));
  }
  return o;
}

namespace {

// The frontend endpoint's guard: the node token when one is configured.
AdminGuard NodeGuard(const StoreServerOptions& options) {
  return AdminGuard(options.node_token, "node");
}

}  // namespace

common::StatusOr<std::unique_ptr<StoreServer>> StoreServer::Start(
    const StoreServerOptions& options) {
  std::unique_ptr<StoreServer> s(new StoreServer());
  s->options_ = options;
  MAIL_ASSIGN_OR_RETURN(s->store_, RocksMailboxStore::Open(options.store));
  RocksMailboxStore* store = s->store_.get();

  if (!options.listen.empty()) {
    grpc::ServerBuilder b;
    Configure(&b);
    b.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &s->port_);
    for (grpc::Service* svc :
         {static_cast<grpc::Service*>(new AccessService(store, NodeGuard(options))),
          static_cast<grpc::Service*>(new MessageStoreService(store, NodeGuard(options))),
          static_cast<grpc::Service*>(new SettingsService(store, NodeGuard(options), false)),
          static_cast<grpc::Service*>(new ControlService(store, NodeGuard(options), false))}) {
      s->services_.emplace_back(svc);
      b.RegisterService(svc);
    }
    s->frontend_ = b.BuildAndStart();
    if (!s->frontend_ || s->port_ == 0) {
      return common::UnavailableError("cannot listen on " + options.listen);
    }
    MAIL_LOG(kInfo, "store") << "frontend endpoint on " << options.listen << " (port "
                             << s->port_ << ")"
                             << (options.node_token.empty() ? ", no node token" : ", node token");
  }
  if (!options.admin_socket.empty()) {
    std::filesystem::path path(options.admin_socket);
    std::error_code ec;
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    std::filesystem::remove(path, ec);  // A stale socket from an earlier run.
    grpc::ServerBuilder b;
    Configure(&b);
    b.AddListeningPort("unix:" + options.admin_socket, grpc::InsecureServerCredentials());
    for (grpc::Service* svc :
         {static_cast<grpc::Service*>(new DirectoryService(store, AdminGuard(""))),
          static_cast<grpc::Service*>(new MaintenanceService(store, AdminGuard(""))),
          static_cast<grpc::Service*>(new AccessService(store)),
          static_cast<grpc::Service*>(new MessageStoreService(store)),
          static_cast<grpc::Service*>(new SettingsService(store, AdminGuard(""), true)),
          static_cast<grpc::Service*>(new ControlService(store, AdminGuard(""), true))}) {
      s->services_.emplace_back(svc);
      b.RegisterService(svc);
    }
    mode_t old = umask(0177);  // The socket is created 0600: root (the owner) only.
    s->admin_ = b.BuildAndStart();
    umask(old);
    if (!s->admin_) return common::UnavailableError("cannot listen on " + options.admin_socket);
    chmod(options.admin_socket.c_str(), 0600);
    MAIL_LOG(kInfo, "store") << "admin endpoint on unix:" << options.admin_socket;
  }
  if (!options.admin_listen.empty()) {
    if (options.admin_token.empty()) {
      return common::InvalidArgumentError("TCP admin access requires a token");
    }
    grpc::ServerBuilder b;
    Configure(&b);
    b.AddListeningPort(options.admin_listen, grpc::InsecureServerCredentials(),
                       &s->admin_tcp_port_);
    for (grpc::Service* svc :
         {static_cast<grpc::Service*>(new DirectoryService(store, AdminGuard(options.admin_token))),
          static_cast<grpc::Service*>(
              new MaintenanceService(store, AdminGuard(options.admin_token))),
          static_cast<grpc::Service*>(
              new SettingsService(store, AdminGuard(options.admin_token), true)),
          static_cast<grpc::Service*>(
              new ControlService(store, AdminGuard(options.admin_token), true))}) {
      s->services_.emplace_back(svc);
      b.RegisterService(svc);
    }
    s->admin_tcp_ = b.BuildAndStart();
    if (!s->admin_tcp_ || s->admin_tcp_port_ == 0) {
      return common::UnavailableError("cannot listen on " + options.admin_listen);
    }
    MAIL_LOG(kInfo, "store") << "token-protected admin endpoint on " << options.admin_listen;
  }
  return s;
}

void StoreServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (store_) store_->Shutdown();  // Ends Watch streams first.
  auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(5);
  for (auto* srv : {frontend_.get(), admin_.get(), admin_tcp_.get()}) {
    if (srv != nullptr) srv->Shutdown(deadline);
  }
  for (auto* srv : {frontend_.get(), admin_.get(), admin_tcp_.get()}) {
    if (srv != nullptr) srv->Wait();
  }
  if (!options_.admin_socket.empty()) {
    std::error_code ec;
    std::filesystem::remove(options_.admin_socket, ec);
  }
}

StoreServer::~StoreServer() {
  Shutdown();
  frontend_.reset();
  admin_.reset();
  admin_tcp_.reset();
  services_.clear();
  store_.reset();
}

}  // namespace mailboxstore
