#include "common/service_listeners.h"

#include "common/logging.h"

namespace common {

ServiceListeners::ServiceListeners(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls,
                                   std::string name, std::string farewell,
                                   std::vector<Binding> bindings, SessionFactory factory,
                                   std::function<void()> on_change)
    : io_(io),
      tls_(std::move(tls)),
      name_(std::move(name)),
      farewell_(std::move(farewell)),
      bindings_(bindings),
      configured_(std::move(bindings)),
      factory_(std::move(factory)),
      on_change_(std::move(on_change)),
      sessions_(std::make_shared<SessionRegistry>()) {}

size_t ServiceListeners::Open() {
  size_t opened = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_) return listeners_.size();
    for (Binding& b : bindings_) {
      auto registry = sessions_;
      SessionFactory* factory = &factory_;
      asio::io_context* io = &io_;
      bool implicit_tls = b.implicit_tls;
      auto listener = std::make_shared<Listener>(
          io_, b.binding, tls_,
          [registry, factory, io, implicit_tls](std::unique_ptr<Stream> stream) {
            auto ex = asio::make_strand(*io);
            uint64_t id = registry->Add(stream.get(), ex);
            asio::co_spawn(ex, (*factory)(std::move(stream), implicit_tls),
                           [registry, id](std::exception_ptr) { registry->Remove(id); });
          });
      listener->SetProxyProtocol(proxy_);
      Status s = listener->Open();
      if (!s.ok()) {
        MAIL_LOG(kWarning, name_) << s.message();
        continue;
      }
      // Port 0: keep the port we got, so that a restart reopens the same one.
      size_t colon = b.binding.rfind(':');
      if (colon != std::string::npos && b.binding.substr(colon + 1) == "0") {
        b.binding = b.binding.substr(0, colon + 1) + std::to_string(listener->port());
      }
      MAIL_LOG(kInfo, name_) << name_ << " listening on " << b.binding
                             << (b.implicit_tls ? " (implicit TLS)" : " (plain + STARTTLS)");
      listeners_.emplace_back(std::move(listener), b.implicit_tls);
      ++opened;
    }
    running_ = !listeners_.empty();
  }
  if (on_change_) on_change_();
  return opened;
}

void ServiceListeners::Close(bool end_sessions) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [l, tls] : listeners_) {
      std::shared_ptr<Listener> listener = l;
      asio::post(io_, [listener] { listener->Close(); });
    }
    listeners_.clear();
    running_ = false;
  }
  if (end_sessions) {
    MAIL_LOG(kInfo, name_) << name_ << " stopped: ending " << sessions_->size() << " sessions";
    sessions_->StopAll(farewell_);
  }
  if (on_change_) on_change_();
}

void ServiceListeners::SetBindings(std::vector<Binding> bindings) {
  bool reopen;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto same = [](const std::vector<Binding>& a, const std::vector<Binding>& b) {
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].binding != b[i].binding || a[i].implicit_tls != b[i].implicit_tls) return false;
      }
      return true;
    };
    if (same(bindings, configured_)) return;
    configured_ = bindings;
    bindings_ = std::move(bindings);
    reopen = running_;
  }
  MAIL_LOG(kInfo, name_) << name_ << " bindings changed";
  if (reopen) {
    Close(false);
    Open();
  }
}

bool ServiceListeners::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

void ServiceListeners::Apply(const mail::v1::ServiceState& desired) {
  bool restart = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (seen_generation_ && desired.restart_generation() != restart_generation_) restart = true;
    seen_generation_ = true;
    restart_generation_ = desired.restart_generation();
  }
  bool is_running = running();
  if (restart && desired.want_running()) {
    MAIL_LOG(kInfo, name_) << name_ << " restarting (Restart-Service)";
    Close(true);
    Open();
    return;
  }
  if (desired.want_running() && !is_running) {
    MAIL_LOG(kInfo, name_) << name_ << " starting (Start-Service)";
    Open();
  } else if (!desired.want_running() && is_running) {
    MAIL_LOG(kInfo, name_) << name_ << " stopping (Stop-Service)";
    Close(true);
  }
}

std::vector<std::string> ServiceListeners::Endpoints() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [l, tls] : listeners_) {
    const std::string& b = l->binding();
    size_t colon = b.rfind(':');
    std::string host = colon == std::string::npos ? b : b.substr(0, colon);
    // The scheme without the protocol version: "imap4" -> "imap".
    std::string scheme = name_ == "imap4" ? "imap" : name_;
    out.push_back(scheme + (tls ? "s" : "") + "://" + host + ":" + std::to_string(l->port()));
  }
  return out;
}

std::vector<std::string> ServiceListeners::PortLines() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [l, tls] : listeners_) {
    out.push_back(name_ + (tls ? " tls " : " plain ") + std::to_string(l->port()));
  }
  return out;
}

}  // namespace common
