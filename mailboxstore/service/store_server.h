// StoreServer: the mailboxstored process's servers. The frontend endpoint (TCP) serves
// Access and MessageStore; the admin endpoint (a unix socket, mode 0600) serves everything;
// an optional TCP admin endpoint serves the admin services to callers with the bearer token.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "common/status.h"
#include "config.pb.h"
#include "mailboxstore/core/rocks_mailbox_store.h"
#include "mailboxstore/service/grpc_services.h"

namespace mailboxstore {

struct StoreServerOptions {
  StoreOptions store;
  std::string listen = "127.0.0.1:7400";           // Default: 127.0.0.1:7400 ("" = off).
  std::string admin_socket = "/run/casmail/admin.sock";  // Default ("" = off).
  std::string admin_listen;                         // Default: off.
  std::string admin_token;                          // Required with admin_listen.
  // Required of every call on `listen` when set (casd's and transportd's store_token_file).
  std::string node_token;
};

// Builds options from a config message (defaults applied for unset fields).
common::StatusOr<StoreServerOptions> OptionsFromConfig(const mail::v1::StoreServerConfig& cfg);

class StoreServer {
 public:
  static common::StatusOr<std::unique_ptr<StoreServer>> Start(const StoreServerOptions& options);
  ~StoreServer();

  int port() const { return port_; }              // Frontend TCP port actually bound.
  int admin_tcp_port() const { return admin_tcp_port_; }
  RocksMailboxStore* store() { return store_.get(); }
  // Stops accepting calls, ends streams, and closes the database.
  void Shutdown();

 private:
  StoreServer() = default;
  StoreServerOptions options_;
  std::unique_ptr<RocksMailboxStore> store_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::unique_ptr<grpc::Server> frontend_;
  std::unique_ptr<grpc::Server> admin_;
  std::unique_ptr<grpc::Server> admin_tcp_;
  int port_ = 0;
  int admin_tcp_port_ = 0;
  bool shut_down_ = false;
};

}  // namespace mailboxstore
