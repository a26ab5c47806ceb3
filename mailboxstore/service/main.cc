// mailboxstored: the mailbox store process.
//   mailboxstored [--config FILE] [--data-dir DIR] [--listen HOST:PORT]
//                 [--admin-socket PATH] [--port-file FILE]
// Command-line flags override the config file. SIGTERM/SIGINT stop it cleanly.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "common/config.h"
#include "common/grpc_runtime.h"
#include "common/logging.h"
#include "common/metrics_http.h"
#include "config.pb.h"
#include "mailboxstore/service/store_server.h"

namespace {

void Usage() {
  std::fprintf(stderr,
               "usage: mailboxstored [--config FILE] [--data-dir DIR] [--listen HOST:PORT]\n"
               "                     [--admin-socket PATH] [--port-file FILE]\n");
}

}  // namespace

int main(int argc, char** argv) {
  common::TuneGrpcRuntime();
  mail::v1::StoreServerConfig cfg;
  std::string port_file;
  std::string data_dir, listen, admin_socket;
  bool have_listen = false, have_socket = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        Usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--config") {
      common::Status s = common::LoadTextProto(next(), &cfg);
      if (!s.ok()) {
        std::fprintf(stderr, "mailboxstored: %s\n", s.ToString().c_str());
        return 2;
      }
    } else if (a == "--data-dir") {
      data_dir = next();
    } else if (a == "--listen") {
      listen = next();
      have_listen = true;
    } else if (a == "--admin-socket") {
      admin_socket = next();
      have_socket = true;
    } else if (a == "--port-file") {
      port_file = next();
    } else if (a == "-h" || a == "--help") {
      Usage();
      return 0;
    } else {
      Usage();
      return 2;
    }
  }
  if (!data_dir.empty()) cfg.set_data_dir(data_dir);
  if (!cfg.log_file().empty()) common::SetLogFile(cfg.log_file());
  auto options = mailboxstore::OptionsFromConfig(cfg);
  if (!options.ok()) {
    std::fprintf(stderr, "mailboxstored: %s\n", options.status().ToString().c_str());
    return 2;
  }
  if (have_listen) options->listen = listen;
  if (have_socket) options->admin_socket = admin_socket;

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto server = mailboxstore::StoreServer::Start(*options);
  if (!server.ok()) {
    MAIL_LOG(kError, "store") << "cannot start: " << server.status().ToString();
    return 1;
  }
  if (!port_file.empty()) {
    std::string tmp = port_file + ".tmp";
    {
      std::ofstream out(tmp);
      out << (*server)->port() << "\n";
    }
    std::rename(tmp.c_str(), port_file.c_str());
  }
  // Prometheus metrics on metrics_bindings (off by default).
  std::unique_ptr<common::MetricsServer> metrics_server;
  if (cfg.metrics_bindings_size() > 0) {
    auto started = common::MetricsServer::Start(
        {cfg.metrics_bindings().begin(), cfg.metrics_bindings().end()},
        &common::metrics::Registry::Default());
    if (!started.ok()) {
      MAIL_LOG(kError, "store") << started.status().message();
      return 1;
    }
    metrics_server = std::move(started).value();
  }
  MAIL_LOG(kInfo, "store") << "mailboxstored ready (data " << options->store.data_dir << ")";
  int sig = 0;
  sigwait(&sigs, &sig);
  MAIL_LOG(kInfo, "store") << "stopping on signal " << sig;
  metrics_server.reset();
  (*server)->Shutdown();
  server->reset();
  MAIL_LOG(kInfo, "store") << "stopped";
  return 0;
}
