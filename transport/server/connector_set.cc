#include "transport/server/connector_set.h"

#include <cstdio>
#include <fstream>

#include "common/logging.h"
#include "common/transport_settings.h"

namespace transport {

ConnectorSet::ConnectorSet(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls,
                           SmtpServices* services,
                           std::vector<mail::v1::ReceiveConnector> node_bindings,
                           std::string port_file)
    : io_(io),
      tls_(std::move(tls)),
      services_(services),
      node_bindings_(std::move(node_bindings)),
      port_file_(std::move(port_file)) {}

std::vector<std::string> ConnectorSet::BindingsFor(const mail::v1::ReceiveConnector& c) const {
  for (const auto& n : node_bindings_) {
    if (common::SameConnectorName(n.name(), c.name()) && !n.bindings().empty()) {
      return {n.bindings().begin(), n.bindings().end()};
    }
  }
  return {c.bindings().begin(), c.bindings().end()};
}

size_t ConnectorSet::Apply(const mail::v1::TransportSettings& effective) {
  std::lock_guard<std::mutex> lock(mu_);
  last_ = effective;
  if (!service_wanted_) return 0;
  return ApplyLocked(effective);
}

bool ConnectorSet::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& r : running_) {
    if (!r.listeners.empty()) return true;
  }
  return false;
}

std::vector<std::string> ConnectorSet::Endpoints() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& r : running_) {
    bool tls = r.state->Get()->implicit_tls();
    for (const auto& l : r.listeners) {
      const std::string& b = l->binding();
      size_t colon = b.rfind(':');
      std::string host = colon == std::string::npos ? b : b.substr(0, colon);
      out.push_back(std::string(tls ? "smtps" : "smtp") + "://" + host + ":" +
                    std::to_string(l->port()) + " " + r.name);
    }
  }
  return out;
}

void ConnectorSet::ApplyService(const mail::v1::ServiceState& desired) {
  std::lock_guard<std::mutex> lock(mu_);
  bool restart = seen_generation_ && desired.restart_generation() != restart_generation_;
  seen_generation_ = true;
  restart_generation_ = desired.restart_generation();
  if (restart && desired.want_running()) {
    MAIL_LOG(kInfo, "transportd") << "SMTP restarting (Restart-Service)";
    CloseAllLocked(true);
    service_wanted_ = true;
    ApplyLocked(last_);
    return;
  }
  if (desired.want_running() == service_wanted_) return;
  service_wanted_ = desired.want_running();
  if (service_wanted_) {
    MAIL_LOG(kInfo, "transportd") << "SMTP starting (Start-Service)";
    ApplyLocked(last_);
  } else {
    MAIL_LOG(kInfo, "transportd") << "SMTP stopping (Stop-Service): ending " << sessions_->size()
                                  << " sessions";
    CloseAllLocked(true);
  }
}

size_t ConnectorSet::ApplyLocked(const mail::v1::TransportSettings& effective) {
  std::vector<Running> next;
  for (const auto& c : effective.receive_connectors()) {
    if (!c.enabled()) continue;
    std::vector<std::string> bindings = BindingsFor(c);
    Running* old = nullptr;
    for (auto& r : running_) {
      if (common::SameConnectorName(r.name, c.name())) old = &r;
    }
    if (old != nullptr && old->bindings == bindings && !old->listeners.empty()) {
      old->state->Set(c);  // Same sockets, new settings for the next connection.
      old->name = c.name();
      next.push_back(std::move(*old));
      old->name.clear();
      continue;
    }
    if (old != nullptr) {
      for (auto& l : old->listeners) asio::post(io_, [l] { l->Close(); });
      old->listeners.clear();
      old->name.clear();
    }
    Running r;
    r.name = c.name();
    r.bindings = bindings;
    r.state = std::make_shared<ConnectorState>(c);
    for (const std::string& configured : bindings) {
      std::shared_ptr<ConnectorState> state = r.state;
      SmtpServices* services = services_;
      asio::io_context* io = &io_;
      auto registry = sessions_;
      std::string b = configured;
      const std::string zero_key = c.name() + "|" + configured;
      size_t colon = configured.rfind(':');
      bool zero = colon != std::string::npos && configured.substr(colon + 1) == "0";
      if (zero && zero_ports_.count(zero_key) != 0) {
        b = configured.substr(0, colon + 1) + std::to_string(zero_ports_[zero_key]);
      }
      auto listener = std::make_shared<common::Listener>(
          io_, b, tls_, [state, services, io, registry](std::unique_ptr<common::Stream> stream) {
            auto ex = asio::make_strand(*io);
            uint64_t id = registry->Add(stream.get(), ex);
            asio::co_spawn(ex, ServeSmtp(std::move(stream), state, services),
                           [registry, id](std::exception_ptr) { registry->Remove(id); });
          });
      listener->SetProxyProtocol(proxy_);
      common::Status s = listener->Open();
      if (!s.ok()) {
        MAIL_LOG(kWarning, "transportd") << c.name() << ": " << s.message();
        continue;
      }
      if (zero) zero_ports_[zero_key] = listener->port();
      MAIL_LOG(kInfo, "transportd") << "receive connector \"" << c.name() << "\" listening on " << b
                                    << " (port " << listener->port()
                                    << (c.implicit_tls() ? ", implicit TLS)" : ", STARTTLS)");
      r.listeners.push_back(std::move(listener));
    }
    next.push_back(std::move(r));
  }
  // Connectors removed or disabled: close their listeners.
  for (auto& r : running_) {
    if (r.name.empty()) continue;
    MAIL_LOG(kInfo, "transportd") << "receive connector \"" << r.name << "\" closed";
    for (auto& l : r.listeners) asio::post(io_, [l] { l->Close(); });
  }
  running_ = std::move(next);
  WritePortFile();
  size_t n = 0;
  for (const auto& r : running_) n += r.listeners.size();
  return n;
}

void ConnectorSet::CloseAll() {
  std::lock_guard<std::mutex> lock(mu_);
  CloseAllLocked(false);
}

void ConnectorSet::CloseAllLocked(bool end_sessions) {
  for (auto& r : running_) {
    for (auto& l : r.listeners) asio::post(io_, [l] { l->Close(); });
  }
  running_.clear();
  if (end_sessions) sessions_->StopAll("421 4.3.2 SMTP service stopped by the administrator\r\n");
  WritePortFile();
}

void ConnectorSet::WritePortFile() {
  if (port_file_.empty()) return;
  std::string tmp = port_file_ + ".tmp";
  {
    std::ofstream out(tmp);
    for (const auto& r : running_) {
      std::string name = r.name;
      for (char& ch : name) {
        if (ch == ' ') ch = '_';
      }
      for (const auto& l : r.listeners) out << "smtp " << name << " " << l->port() << "\n";
    }
  }
  std::rename(tmp.c_str(), port_file_.c_str());
}

}  // namespace transport
