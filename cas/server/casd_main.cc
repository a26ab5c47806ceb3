// casd: the client access frontend (POP3 now; IMAP4 joins). Stateless: all data lives in
// mailboxstored.
//   casd [--config FILE] [--store HOST:PORT] [--state-dir DIR] [--port-file FILE]
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>
#include <vector>

#include "cas/imap/session/imap_server.h"
#include "cas/pop3/session/pop3_server.h"
#include "cas/server/change_router.h"
#include "common/listener.h"
#include "cas/server/settings_watcher.h"
#include "common/protocol_settings.h"
#include "common/config.h"
#include "common/logging.h"
#include "common/tls.h"
#include "config.pb.h"
#include "mailboxstore/client/grpc_store_client.h"

namespace {

std::string HostName() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

void Usage() {
  std::fprintf(stderr,
               "usage: casd [--config FILE] [--store HOST:PORT] [--state-dir DIR] "
               "[--port-file FILE]\n");
}

}  // namespace

int main(int argc, char** argv) {
  mail::v1::CasdConfig cfg;
  std::string store_override, state_override, port_file_override;
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
        std::fprintf(stderr, "casd: %s\n", s.ToString().c_str());
        return 2;
      }
    } else if (a == "--store") {
      store_override = next();
    } else if (a == "--state-dir") {
      state_override = next();
    } else if (a == "--port-file") {
      port_file_override = next();
    } else {
      Usage();
      return a == "-h" || a == "--help" ? 0 : 2;
    }
  }
  if (!store_override.empty()) cfg.set_store_endpoint(store_override);
  if (!state_override.empty()) cfg.set_state_dir(state_override);
  if (!port_file_override.empty()) cfg.set_port_file(port_file_override);
  if (cfg.store_endpoint().empty()) cfg.set_store_endpoint("127.0.0.1:7400");
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

  // TLS: the configured certificate, or a self-signed one made on first start.
  common::TlsFiles files;
  if (!cfg.certificate_file().empty() || !cfg.private_key_file().empty()) {
    files.certificate_chain = cfg.certificate_file();
    files.private_key = cfg.private_key_file();
  } else {
    files.certificate_chain = cfg.state_dir() + "/tls/cert.pem";
    files.private_key = cfg.state_dir() + "/tls/key.pem";
    bool created = false;
    common::Status s = common::EnsureSelfSignedCertificate(files, cfg.host_name(), &created);
    if (!s.ok()) {
      MAIL_LOG(kError, "casd") << "cannot make a self-signed certificate: " << s.ToString();
      return 1;
    }
    if (created) {
      MAIL_LOG(kWarning, "casd") << "no certificate configured: made a self-signed certificate "
                                    "for "
                                 << cfg.host_name() << " in " << files.certificate_chain
                                 << " (clients will ask to trust it; import a real one)";
    }
  }
  auto tls = common::MakeServerTlsContext(files);
  if (!tls.ok()) {
    MAIL_LOG(kError, "casd") << tls.status().ToString();
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
  }
  mailboxstore::GrpcStoreClient store(store_options);
  cas::ChangeRouter router;
  store.StartWatching([&](const mail::v1::ChangeEvent& e) { router.Dispatch(e); },
                      [&] { router.ResyncAll(); });

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::atomic<uint64_t> sessions{0};
  auto limits = common::ConnectionLimits::Create();

  common::SettingsHolder pop3_holder(pop3_settings);
  common::ProtocolLog pop3_log(cfg.protocol_log_dir(), "pop3");
  cas::pop3::MaildropLocks locks;
  cas::pop3::Pop3Services pop3{&pop3_holder, &store, &store, limits, &locks, &pop3_log, &sessions};

  common::SettingsHolder imap_holder(imap_settings);
  common::ProtocolLog imap_log(cfg.protocol_log_dir(), "imap4");
  cas::imap::ImapServices imap{&imap_holder, &store, &store, &router, limits, &imap_log,
                               &sessions};

  // Settings the administrator changes in the store apply to the next connection.
  cas::SettingsWatcher settings_watcher(cfg.store_endpoint(), cfg.pop3(), cfg.imap4(),
                                        &pop3_holder, &imap_holder);
  settings_watcher.Start();

  std::vector<std::shared_ptr<common::Listener>> listeners;
  std::vector<std::string> port_lines;
  auto open = [&](const std::string& proto, const std::string& binding, bool implicit_tls,
                  common::SessionStarter start) {
    auto l = std::make_shared<common::Listener>(io, binding, *tls, std::move(start));
    common::Status s = l->Open();
    if (!s.ok()) {
      MAIL_LOG(kWarning, "casd") << s.message();
      return;
    }
    MAIL_LOG(kInfo, "casd") << proto << " listening on " << binding << " (port " << l->port()
                            << (implicit_tls ? ", implicit TLS)" : ", plain + STARTTLS)");
    port_lines.push_back(proto + (implicit_tls ? " tls " : " plain ") + std::to_string(l->port()));
    listeners.push_back(std::move(l));
  };
  auto pop3_starter = [&](bool implicit_tls) {
    return [&, implicit_tls](std::unique_ptr<common::Stream> stream) {
      auto ex = asio::make_strand(io);
      asio::co_spawn(ex, cas::pop3::ServePop3(std::move(stream), implicit_tls, &pop3),
                     asio::detached);
    };
  };
  auto imap_starter = [&](bool implicit_tls) {
    return [&, implicit_tls](std::unique_ptr<common::Stream> stream) {
      auto ex = asio::make_strand(io);
      asio::co_spawn(ex, cas::imap::ServeImap(std::move(stream), implicit_tls, &imap),
                     asio::detached);
    };
  };
  for (const auto& b : imap_settings.unencrypted_or_tls_bindings()) {
    open("imap4", b, false, imap_starter(false));
  }
  for (const auto& b : imap_settings.ssl_bindings()) open("imap4", b, true, imap_starter(true));
  for (const auto& b : pop3_settings.unencrypted_or_tls_bindings()) {
    open("pop3", b, false, pop3_starter(false));
  }
  for (const auto& b : pop3_settings.ssl_bindings()) open("pop3", b, true, pop3_starter(true));
  if (listeners.empty()) {
    MAIL_LOG(kError, "casd") << "no listener could be opened";
    return 1;
  }
  if (!cfg.port_file().empty()) {
    std::string tmp = cfg.port_file() + ".tmp";
    {
      std::ofstream out(tmp);
      for (const auto& line : port_lines) out << line << "\n";
    }
    std::rename(tmp.c_str(), cfg.port_file().c_str());
  }

  unsigned threads = cfg.io_threads() != 0 ? cfg.io_threads()
                                           : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < threads; ++i) pool.emplace_back([&] { io.run(); });
  MAIL_LOG(kInfo, "casd") << "casd ready (node " << cfg.node_name() << ", store "
                          << cfg.store_endpoint() << ")";
  int sig = 0;
  sigwait(&sigs, &sig);
  MAIL_LOG(kInfo, "casd") << "stopping on signal " << sig;
  for (auto& l : listeners) asio::post(io, [l] { l->Close(); });
  work.reset();
  io.stop();
  for (auto& t : pool) t.join();
  store.StopWatching();
  settings_watcher.Stop();
  MAIL_LOG(kInfo, "casd") << "stopped";
  return 0;
}
