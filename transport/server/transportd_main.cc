// transportd: SMTP receive connectors (submission 587 and 465, inbound 25), local delivery
// into the store, and the durable outbound queue to the smart hosts.
//   transportd [--config FILE] [--store HOST:PORT] [--state-dir DIR] [--port-file FILE]
//              [--admin-socket PATH]
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <thread>
#include <vector>

#include "common/blocking_pool.h"
#include "common/config.h"
#include "common/grpc_runtime.h"
#include "common/logging.h"
#include "common/metrics_http.h"
#include "common/node_agent.h"
#include "common/protocol_log.h"
#include "common/served_certificates.h"
#include "common/store_token.h"
#include "common/tls.h"
#include "common/tls_provider.h"
#include "common/transport_settings.h"
#include "config.pb.h"
#include "control.grpc.pb.h"
#include "mailboxstore/client/grpc_store_client.h"
#include "transport/queue/queue_store.h"
#include "transport/server/connector_set.h"
#include "transport/server/delivery.h"
#include "transport/server/queue_service.h"
#include "transport/server/smtp_session.h"

namespace {

std::string HostName() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

// The organisation's transport settings as this node runs them: the store's values with the
// defaults filled in, and the node's smart hosts while the organisation names none.
class TransportSettingsHolder {
 public:
  explicit TransportSettingsHolder(const mail::v1::TransportdConfig& cfg) : cfg_(cfg) {
    Set(mail::v1::TransportSettings());
  }
  void Set(const mail::v1::TransportSettings& explicit_values) {
    mail::v1::TransportSettings s = common::TransportWithDefaults(explicit_values);
    if (s.smart_hosts().empty()) {
      for (const auto& h : cfg_.smart_hosts()) *s.add_smart_hosts() = h;
      for (auto& h : *s.mutable_smart_hosts()) {
        if (h.port() == 0) h.set_port(25);
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    current_ = std::move(s);
  }
  mail::v1::TransportSettings Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }

 private:
  const mail::v1::TransportdConfig& cfg_;
  mutable std::mutex mu_;
  mail::v1::TransportSettings current_;
};

// Follows the store's settings stream; each new version applies at once.
class Watcher {
 public:
  Watcher(std::string endpoint, std::function<void(const mail::v1::ServerSettings&)> apply)
      : endpoint_(std::move(endpoint)), apply_(std::move(apply)) {}
  void Start() {
    thread_ = std::thread([this] { Loop(); });
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      if (ctx_ != nullptr) ctx_->TryCancel();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop() {
    auto stub = mail::v1::Settings::NewStub(
        grpc::CreateChannel(endpoint_, grpc::InsecureChannelCredentials()));
    int backoff_ms = 100;
    while (!stop_) {
      grpc::ClientContext ctx;
      common::AttachStoreToken(&ctx);
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) break;
        ctx_ = &ctx;
      }
      auto reader = stub->WatchSettings(&ctx, mail::v1::GetSettingsRequest());
      mail::v1::ServerSettings s;
      while (reader->Read(&s)) {
        backoff_ms = 100;
        apply_(s);
      }
      (void)reader->Finish();
      {
        std::lock_guard<std::mutex> lock(mu_);
        ctx_ = nullptr;
      }
      if (stop_) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
      backoff_ms = std::min(backoff_ms * 2, 2000);
    }
  }
  std::string endpoint_;
  std::function<void(const mail::v1::ServerSettings&)> apply_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  grpc::ClientContext* ctx_ = nullptr;
  std::thread thread_;
};

}  // namespace

int main(int argc, char** argv) {
  common::TuneGrpcRuntime();
  mail::v1::TransportdConfig cfg;
  if (int exit_status =
          common::ParseServerFlags(argc, argv, "transportd",
                                   "usage: transportd [--config FILE] [--store HOST:PORT] "
                                   "[--state-dir DIR] [--port-file FILE] [--admin-socket PATH]\n",
                                   {{"--store", "store_endpoint"},
                                    {"--state-dir", "state_dir"},
                                    {"--port-file", "port_file"},
                                    {"--admin-socket", "admin_socket"}},
                                   &cfg);
      exit_status >= 0) {
    return exit_status;
  }
  if (cfg.store_endpoint().empty()) cfg.set_store_endpoint("127.0.0.1:7400");
  if (!cfg.store_token_file().empty()) {
    auto token = common::ReadTokenFile(cfg.store_token_file(), "store_token_file");
    if (!token.ok()) {
      std::fprintf(stderr, "transportd: %s\n", token.status().message().c_str());
      return 1;
    }
    common::SetStoreToken(*token);
  }
  if (cfg.state_dir().empty()) cfg.set_state_dir("/var/lib/casmail/transport");
  if (cfg.host_name().empty()) cfg.set_host_name(HostName());
  if (cfg.node_name().empty()) cfg.set_node_name(HostName());
  if (cfg.admin_socket().empty()) cfg.set_admin_socket("/run/casmail/transportd.sock");
  if (cfg.retry_scale() <= 0) cfg.set_retry_scale(1.0);
  if (!cfg.log_file().empty()) common::SetLogFile(cfg.log_file());
  if (cfg.protocol_log_dir().empty()) cfg.set_protocol_log_dir(cfg.state_dir() + "/logs");
  for (const auto& c : cfg.receive_connectors()) {
    mail::v1::ReceiveConnector check = common::ConnectorWithDefaults(c);
    common::Status s = common::ValidateConnector(check);
    if (!s.ok()) {
      std::fprintf(stderr, "transportd: receive connector %s: %s\n", c.name().c_str(),
                   s.message().c_str());
      return 2;
    }
  }

  auto proxy_protocol = common::MakeProxyProtocolOptions(
      {cfg.proxy_protocol_trusted_networks().begin(), cfg.proxy_protocol_trusted_networks().end()});
  if (!proxy_protocol.ok()) {
    std::fprintf(stderr, "transportd: %s\n", proxy_protocol.status().message().c_str());
    return 2;
  }

  {
    std::error_code ec;
    std::filesystem::create_directories(cfg.state_dir(), ec);
    if (ec) {
      std::fprintf(stderr, "transportd: cannot create %s: %s\n", cfg.state_dir().c_str(),
                   ec.message().c_str());
      return 1;
    }
  }
  // TLS: certificates enabled in the store for SMTP, else the configured certificate, else a
  // self-signed one made on first start; changed live by Enable-ExchangeCertificate and by
  // replacing the files.
  auto tls_files = common::ServerTlsFilesFor(cfg.certificate_file(), cfg.private_key_file(),
                                             cfg.state_dir(), cfg.host_name(), "transportd");
  if (!tls_files.ok()) {
    MAIL_LOG(kError, "transportd") << tls_files.status().ToString();
    return 1;
  }
  auto tls = common::TlsProvider::Create(
      {tls_files->certificate_chain, tls_files->private_key, "transportd smtp"});
  if (!tls.ok()) {
    MAIL_LOG(kError, "transportd") << tls.status().ToString();
    return 1;
  }

  auto queue = transport::queue::QueueStore::Open(cfg.state_dir() + "/queue",
                                                  !cfg.has_sync_queue() || cfg.sync_queue());
  if (!queue.ok()) {
    MAIL_LOG(kError, "transportd") << "cannot open the queue: " << queue.status().ToString();
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

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  common::BlockingPool pool(8);
  TransportSettingsHolder settings(cfg);
  auto settings_source = [&settings] { return settings.Get(); };

  transport::DeliveryOptions dopts;
  dopts.host_name = cfg.host_name();
  dopts.node_name = cfg.node_name();
  dopts.retry_scale = cfg.retry_scale();
  dopts.expiration_override_seconds = cfg.message_expiration_seconds();
  transport::DeliveryAgent agent(io, queue->get(), &store, &pool, settings_source, dopts);
  transport::StoreAndQueueAcceptor acceptor(queue->get(), &store, &pool, &agent, settings_source,
                                            cfg.message_expiration_seconds());

  common::ProtocolLog smtp_log(cfg.protocol_log_dir(), "smtp");
  std::atomic<uint64_t> sessions{0};
  transport::SmtpServices services;
  services.host_name = cfg.host_name();
  services.auth = &store;
  services.store = &store;
  services.acceptor = &acceptor;
  services.log = &smtp_log;
  services.session_counter = &sessions;

  std::vector<mail::v1::ReceiveConnector> node_bindings(cfg.receive_connectors().begin(),
                                                        cfg.receive_connectors().end());
  transport::ConnectorSet connectors(io, (*tls)->context(), &services, node_bindings,
                                     cfg.port_file());
  // Behind a load balancer: the client's address comes in a PROXY header.
  connectors.SetProxyProtocol(*proxy_protocol);
  if (connectors.Apply(settings.Get()) == 0) {
    MAIL_LOG(kError, "transportd") << "no listener could be opened";
    return 1;
  }

  // Queue administration on a root-only unix socket.
  transport::QueueService queue_service(queue->get(), &agent, cfg.node_name());
  ::unlink(cfg.admin_socket().c_str());
  mode_t old_mask = ::umask(0177);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + cfg.admin_socket(), grpc::InsecureServerCredentials());
  builder.RegisterService(&queue_service);
  std::unique_ptr<grpc::Server> admin = builder.BuildAndStart();
  ::umask(old_mask);
  if (admin == nullptr) {
    MAIL_LOG(kError, "transportd") << "cannot listen on " << cfg.admin_socket();
    return 1;
  }
  ::chmod(cfg.admin_socket().c_str(), 0600);

  // Set-ReceiveConnector, Set-SendConnector and the rest apply live.
  uint64_t applied_version = 0;
  std::atomic<uint64_t> settings_version{0};
  Watcher watcher(cfg.store_endpoint(), [&](const mail::v1::ServerSettings& s) {
    settings.Set(s.transport());
    connectors.Apply(settings.Get());
    (*tls)->SetCertificates(
        common::ServedCertificatesFor(s, mail::v1::CERTIFICATE_SERVICE_SMTP));
    settings_version = s.version();
    if (s.version() != applied_version) {
      MAIL_LOG(kInfo, "transportd") << "applied settings version " << s.version();
      applied_version = s.version();
    }
    agent.Wake();
  });
  watcher.Start();

  // The control plane: this node heartbeats and follows Start-/Stop-/Restart-Service SMTP.
  mail::v1::Node identity;
  identity.set_name(cfg.node_name());
  identity.set_version(PROJECT_VERSION_STRING);
  common::NodeAgent node(cfg.store_endpoint(), identity,
                         {{mail::v1::SERVICE_NAME_SMTP, [&] { return connectors.running(); },
                           [&](const mail::v1::ServiceState& d) { connectors.ApplyService(d); },
                           [&] { return connectors.Endpoints(); }}},
                         [&settings_version] { return settings_version.load(); });
  node.Start();

  // The queue length per next hop, read from the queue's index when scraped.
  common::metrics::Registry::Default().GaugeCallback(
      "mail_queue_messages", "Messages in this node's outbound queue, by next hop.",
      {"next_hop"}, [q = queue->get(), node = cfg.node_name()] {
        common::metrics::Registry::Samples out;
        for (const auto& s : q->Summaries(node, std::time(nullptr))) {
          out.push_back({{s.next_hop_domain()}, static_cast<double>(s.message_count())});
        }
        return out;
      });
  // Prometheus metrics on metrics_bindings (off by default).
  std::unique_ptr<common::MetricsServer> metrics_server;
  if (cfg.metrics_bindings_size() > 0) {
    auto started = common::MetricsServer::Start(
        {cfg.metrics_bindings().begin(), cfg.metrics_bindings().end()},
        &common::metrics::Registry::Default());
    if (!started.ok()) {
      MAIL_LOG(kError, "transportd") << started.status().message();
      return 1;
    }
    metrics_server = std::move(started).value();
  }

  unsigned threads =
      cfg.io_threads() != 0 ? cfg.io_threads() : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> io_threads;
  for (unsigned i = 0; i < threads; ++i) io_threads.emplace_back([&] { io.run(); });
  agent.Start();
  MAIL_LOG(kInfo, "transportd") << "transportd ready (node " << cfg.node_name() << ", store "
                                << cfg.store_endpoint() << ", queue " << cfg.state_dir()
                                << "/queue, admin " << cfg.admin_socket() << ")";
  int sig = 0;
  sigwait(&sigs, &sig);
  MAIL_LOG(kInfo, "transportd") << "stopping on signal " << sig;
  node.Stop();
  watcher.Stop();
  agent.Stop();
  connectors.CloseAll();
  admin->Shutdown();
  work.reset();
  io.stop();
  for (auto& t : io_threads) t.join();
  ::unlink(cfg.admin_socket().c_str());
  MAIL_LOG(kInfo, "transportd") << "stopped";
  return 0;
}
