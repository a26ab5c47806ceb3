// casd: the client access frontend (POP3 and IMAP4). Stateless: all data lives in
// mailboxstored.
//   casd [--config FILE] [--store HOST:PORT] [--state-dir DIR] [--port-file FILE]
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "cas/autoconfig/autoconfig_server.h"
#include "cas/imap/session/imap_server.h"
#include "cas/pop3/session/pop3_server.h"
#include "cas/server/change_router.h"
#include "cas/server/settings_watcher.h"
#include "common/config.h"
#include "common/grpc_runtime.h"
#include "common/logging.h"
#include "common/metrics_http.h"
#include "common/node_agent.h"
#include "common/protocol_settings.h"
#include "common/served_certificates.h"
#include "common/service_listeners.h"
#include "common/store_token.h"
#include "common/tls.h"
#include "common/tls_provider.h"
#include "config.pb.h"
#include "mailboxstore/client/grpc_store_client.h"

namespace {

std::string HostName() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  common::TuneGrpcRuntime();
  mail::v1::CasdConfig cfg;
  if (int exit_status = common::ParseServerFlags(
          argc, argv, "casd",
          "usage: casd [--config FILE] [--store HOST:PORT] [--state-dir DIR] [--port-file FILE]\n",
          {{"--store", "store_endpoint"},
           {"--state-dir", "state_dir"},
           {"--port-file", "port_file"}},
          &cfg);
      exit_status >= 0) {
    return exit_status;
  }
  if (cfg.store_endpoint().empty()) cfg.set_store_endpoint("127.0.0.1:7400");
  if (!cfg.store_token_file().empty()) {
    auto token = common::ReadTokenFile(cfg.store_token_file(), "store_token_file");
    if (!token.ok()) {
      std::fprintf(stderr, "casd: %s\n", token.status().message().c_str());
      return 1;
    }
    common::SetStoreToken(*token);
  }
  if (cfg.state_dir().empty()) cfg.set_state_dir("/var/lib/casmail/cas");
  if (cfg.host_name().empty()) cfg.set_host_name(HostName());
  if (cfg.node_name().empty()) cfg.set_node_name(HostName());
  if (!cfg.log_file().empty()) common::SetLogFile(cfg.log_file());
  if (cfg.protocol_log_dir().empty()) cfg.set_protocol_log_dir(cfg.state_dir() + "/logs");

  auto pop3_settings = common::WithDefaults(cfg.pop3(), common::SettingsKind::kPop3);
  common::Status valid = common::Validate(pop3_settings, common::SettingsKind::kPop3);
  if (!valid.ok()) {
    std::fprintf(stderr, "casd: POP3 settings: %s\n", valid.message().c_str());
    return 2;
  }
  auto imap_settings = common::WithDefaults(cfg.imap4(), common::SettingsKind::kImap4);
  valid = common::Validate(imap_settings, common::SettingsKind::kImap4);
  if (!valid.ok()) {
    std::fprintf(stderr, "casd: IMAP4 settings: %s\n", valid.message().c_str());
    return 2;
  }

  auto proxy_protocol = common::MakeProxyProtocolOptions(
      {cfg.proxy_protocol_trusted_networks().begin(), cfg.proxy_protocol_trusted_networks().end()});
  if (!proxy_protocol.ok()) {
    std::fprintf(stderr, "casd: %s\n", proxy_protocol.status().message().c_str());
    return 2;
  }

  {
    std::error_code ec;
    std::filesystem::create_directories(cfg.state_dir(), ec);
    if (ec) {
      std::fprintf(stderr, "casd: cannot create %s: %s\n", cfg.state_dir().c_str(),
                   ec.message().c_str());
      return 1;
    }
  }
  // TLS: certificates enabled in the store for IMAP or POP, else the configured certificate,
  // else a self-signed one made on first start. Each service has its own provider, changed
  // live by Enable-ExchangeCertificate and by replacing the files.
  auto tls_files = common::ServerTlsFilesFor(cfg.certificate_file(), cfg.private_key_file(),
                                             cfg.state_dir(), cfg.host_name(), "casd");
  if (!tls_files.ok()) {
    MAIL_LOG(kError, "casd") << tls_files.status().ToString();
    return 1;
  }
  auto make_tls = [&](const char* component) {
    return common::TlsProvider::Create(
        {tls_files->certificate_chain, tls_files->private_key, component});
  };
  auto imap_tls = make_tls("casd imap4");
  auto pop3_tls = make_tls("casd pop3");
  if (!imap_tls.ok() || !pop3_tls.ok()) {
    MAIL_LOG(kError, "casd")
        << (imap_tls.ok() ? pop3_tls.status() : imap_tls.status()).ToString();
    return 1;
  }

  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  mailboxstore::GrpcStoreClientOptions store_options;
  store_options.endpoint = cfg.store_endpoint();
  if (cfg.store_deadline_ms() != 0) {
    store_options.deadline = std::chrono::milliseconds(cfg.store_deadline_ms());
    store_options.long_deadline = std::max(store_options.long_deadline, store_options.deadline);
  }
  mailboxstore::GrpcStoreClient store(store_options);
  cas::ChangeRouter router;
  // LIST answers kept for every IMAP session of this process, until the change stream tells
  // of a folder change in that mailbox (or reconnects).
  cas::imap::FolderLists folder_lists;
  store.StartWatching(
      [&](const mail::v1::ChangeEvent& e) {
        if (cas::imap::ChangesFolderList(e)) folder_lists.Changed(e.mailbox_id());
        router.Dispatch(e);
      },
      [&] {
        folder_lists.Clear();
        router.ResyncAll();
      });

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::atomic<uint64_t> sessions{0};
  // MaxConnections and the per-address and per-user limits count each protocol on its own.
  auto pop3_limits = common::ConnectionLimits::Create();
  auto imap_limits = common::ConnectionLimits::Create();

  common::SettingsHolder pop3_holder(pop3_settings);
  common::ProtocolLog pop3_log(cfg.protocol_log_dir(), "pop3");
  cas::pop3::MaildropLocks locks;
  cas::pop3::Pop3Services pop3{&pop3_holder, &store,    &store,   pop3_limits,
                               &locks,       &pop3_log, &sessions};

  common::SettingsHolder imap_holder(imap_settings);
  common::ProtocolLog imap_log(cfg.protocol_log_dir(), "imap4");
  const size_t cache_mb = cfg.imap_message_cache_mb() != 0 ? cfg.imap_message_cache_mb() : 64;
  cas::imap::MessageCache message_cache(cache_mb << 20);
  const size_t snapshot_mb =
      cfg.imap_folder_snapshot_mb() != 0 ? cfg.imap_folder_snapshot_mb() : 32;
  // Folders under 1,000 messages are read whole at SELECT: that is as quick as catching up.
  cas::imap::FolderSnapshots folder_snapshots(snapshot_mb << 20, 1000);
  cas::imap::ImapServices imap{&imap_holder, &store,    &store,         &router,
                               imap_limits,  &imap_log, &sessions,      &message_cache,
                               &folder_snapshots, &folder_lists};

  // Settings the administrator changes in the store apply to the next connection.
  cas::SettingsWatcher settings_watcher(cfg.store_endpoint(), cfg.pop3(), cfg.imap4(), &pop3_holder,
                                        &imap_holder);
  settings_watcher.Start();
  // Open the listeners where the organisation's settings say, when the store answers soon;
  // otherwise with the node's own settings (the watcher catches up later).
  if (!settings_watcher.WaitForFirstSnapshot(std::chrono::seconds(3))) {
    MAIL_LOG(kWarning, "casd") << "no settings from the store yet; starting with this node's";
  }

  // One ServiceListeners per protocol: Start-/Stop-/Restart-Service open and close them.
  std::mutex port_file_mu;
  std::vector<common::ServiceListeners*> services;
  // The port file appears once, when every listener of the start is open (whoever waits for
  // it reads all lines at once), and is rewritten when the control plane changes them.
  bool port_file_ready = false;
  auto write_port_file = [&] {
    if (cfg.port_file().empty()) return;
    std::lock_guard<std::mutex> lock(port_file_mu);
    if (!port_file_ready) return;
    std::string tmp = cfg.port_file() + ".tmp";
    {
      std::ofstream out(tmp);
      for (auto* svc : services) {
        for (const auto& line : svc->PortLines()) out << line << "\n";
      }
    }
    std::rename(tmp.c_str(), cfg.port_file().c_str());
  };
  auto bindings_of = [](const mail::v1::ProtocolSettings& s) {
    std::vector<common::ServiceListeners::Binding> out;
    for (const auto& b : s.unencrypted_or_tls_bindings()) out.push_back({b, false});
    for (const auto& b : s.ssl_bindings()) out.push_back({b, true});
    return out;
  };
  common::ServiceListeners imap_service(
      io, (*imap_tls)->context(), "imap4",
      "* BYE IMAP4 service stopped by the administrator\r\n",
      bindings_of(*imap_holder.Get()),
      [&imap](std::unique_ptr<common::Stream> stream, bool implicit_tls) {
        return cas::imap::ServeImap(std::move(stream), implicit_tls, &imap);
      },
      [&] { write_port_file(); });
  common::ServiceListeners pop3_service(
      io, (*pop3_tls)->context(), "pop3",
      "-ERR [SYS/TEMP] POP3 service stopped by the administrator\r\n",
      bindings_of(*pop3_holder.Get()),
      [&pop3](std::unique_ptr<common::Stream> stream, bool implicit_tls) {
        return cas::pop3::ServePop3(std::move(stream), implicit_tls, &pop3);
      },
      [&] { write_port_file(); });
  services = {&imap_service, &pop3_service};
  // Behind a load balancer: the client's address comes in a PROXY header.
  imap_service.SetProxyProtocol(*proxy_protocol);
  pop3_service.SetProxyProtocol(*proxy_protocol);
  size_t opened = imap_service.Open() + pop3_service.Open();
  if (opened == 0) {
    MAIL_LOG(kError, "casd") << "no listener could be opened";
    return 1;
  }

  // Client autoconfiguration over HTTP (Thunderbird, Outlook, Apple), when bindings are
  // configured. Every document is computed from the live state at request time.
  cas::autoconfig::AutoconfigServices autoconfig;
  autoconfig.limits = common::ConnectionLimits::Create();
  const std::string public_host_name =
      cfg.public_host_name().empty() ? cfg.host_name() : cfg.public_host_name();
  autoconfig.snapshot = [&] {
    cas::autoconfig::NodeSnapshot s;
    s.host_name = public_host_name;
    s.imap4 = {imap_service.running(), imap_holder.Get(),
               cas::autoconfig::OpenPortsFromPortLines(imap_service.PortLines())};
    s.pop3 = {pop3_service.running(), pop3_holder.Get(),
              cas::autoconfig::OpenPortsFromPortLines(pop3_service.PortLines())};
    s.transport = settings_watcher.transport();
    return s;
  };
  std::vector<common::ServiceListeners::Binding> autoconfig_bindings;
  for (const auto& b : cfg.autoconfig_bindings()) autoconfig_bindings.push_back({b, false});
  for (const auto& b : cfg.autoconfig_tls_bindings()) autoconfig_bindings.push_back({b, true});
  std::unique_ptr<common::ServiceListeners> autoconfig_service;
  if (!autoconfig_bindings.empty()) {
    autoconfig_service = std::make_unique<common::ServiceListeners>(
        io, (*imap_tls)->context(), "autoconfig", "", std::move(autoconfig_bindings),
        [&autoconfig](std::unique_ptr<common::Stream> stream, bool implicit_tls) {
          return cas::autoconfig::ServeAutoconfig(std::move(stream), implicit_tls, &autoconfig);
        },
        [&] { write_port_file(); });
    {
      std::lock_guard<std::mutex> lock(port_file_mu);
      services.push_back(autoconfig_service.get());
    }
    if (autoconfig_service->Open() == 0) {
      MAIL_LOG(kWarning, "casd") << "no autoconfig listener could be opened";
    }
  }

  {
    std::lock_guard<std::mutex> lock(port_file_mu);
    port_file_ready = true;
  }
  write_port_file();

  // Enable-/Remove-ExchangeCertificate: the next handshake uses the new certificate.
  auto apply_certificates = [&] {
    auto certificates = settings_watcher.certificates();
    if (!certificates) return;
    (*imap_tls)->SetCertificates(
        common::ServedCertificatesFor(*certificates, mail::v1::CERTIFICATE_SERVICE_IMAP));
    (*pop3_tls)->SetCertificates(
        common::ServedCertificatesFor(*certificates, mail::v1::CERTIFICATE_SERVICE_POP));
  };
  // Set-ImapSettings / Set-PopSettings bindings (when this node's config names none) re-open
  // the listeners.
  settings_watcher.SetOnChange([&] {
    imap_service.SetBindings(bindings_of(*imap_holder.Get()));
    pop3_service.SetBindings(bindings_of(*pop3_holder.Get()));
    apply_certificates();
  });
  apply_certificates();  // The snapshot that arrived before the callback was set.

  // The control plane: this node heartbeats and follows Start-/Stop-/Restart-Service.
  mail::v1::Node identity;
  identity.set_name(cfg.node_name());
  identity.set_version(PROJECT_VERSION_STRING);
  identity.set_host_name(public_host_name);
  common::NodeAgent node(cfg.store_endpoint(), identity,
                         {{mail::v1::SERVICE_NAME_POP3, [&] { return pop3_service.running(); },
                           [&](const mail::v1::ServiceState& d) { pop3_service.Apply(d); },
                           [&] { return pop3_service.Endpoints(); }},
                          {mail::v1::SERVICE_NAME_IMAP4, [&] { return imap_service.running(); },
                           [&](const mail::v1::ServiceState& d) { imap_service.Apply(d); },
                           [&] { return imap_service.Endpoints(); }}},
                         [&settings_watcher] { return settings_watcher.version(); });
  node.Start();

  // Prometheus metrics on metrics_bindings (off by default).
  std::unique_ptr<common::MetricsServer> metrics_server;
  if (cfg.metrics_bindings_size() > 0) {
    auto started = common::MetricsServer::Start(
        {cfg.metrics_bindings().begin(), cfg.metrics_bindings().end()},
        &common::metrics::Registry::Default());
    if (!started.ok()) {
      MAIL_LOG(kError, "casd") << started.status().message();
      return 1;
    }
    metrics_server = std::move(started).value();
  }

  unsigned threads =
      cfg.io_threads() != 0 ? cfg.io_threads() : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < threads; ++i) pool.emplace_back([&] { io.run(); });
  MAIL_LOG(kInfo, "casd") << "casd ready (node " << cfg.node_name() << ", store "
                          << cfg.store_endpoint() << ")";
  int sig = 0;
  sigwait(&sigs, &sig);
  MAIL_LOG(kInfo, "casd") << "stopping on signal " << sig;
  node.Stop();
  imap_service.Close(false);
  pop3_service.Close(false);
  if (autoconfig_service) autoconfig_service->Close(false);
  work.reset();
  io.stop();
  for (auto& t : pool) t.join();
  store.StopWatching();
  settings_watcher.Stop();
  MAIL_LOG(kInfo, "casd") << "stopped";
  return 0;
}
