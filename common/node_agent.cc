#include "common/node_agent.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>

#include "common/logging.h"
#include "common/store_token.h"
#include "control.grpc.pb.h"

namespace common {

NodeAgent::NodeAgent(std::string store_endpoint, mail::v1::Node identity,
                     std::vector<Service> services, std::function<uint64_t()> settings_version)
    : endpoint_(std::move(store_endpoint)),
      identity_(std::move(identity)),
      services_(std::move(services)),
      settings_version_(std::move(settings_version)) {
  identity_.clear_services();
  for (const auto& s : services_) identity_.add_services(s.name);
}

NodeAgent::~NodeAgent() { Stop(); }

void NodeAgent::Start() { thread_ = std::thread([this] { Loop(); }); }

void NodeAgent::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NodeAgent::Loop() {
  auto stub = mail::v1::Control::NewStub(
      grpc::CreateChannel(endpoint_, grpc::InsecureChannelCredentials()));
  bool starting = true;
  bool warned = false;
  uint32_t interval_ms = 1000;
  for (;;) {
    mail::v1::HeartbeatRequest req;
    *req.mutable_node() = identity_;
    req.set_starting(starting);
    uint64_t version = settings_version_ ? settings_version_() : 0;
    req.mutable_node()->set_settings_version(version);
    for (const auto& s : services_) {
      auto* st = req.mutable_node()->add_states();
      st->set_node(identity_.name());
      st->set_service(s.name);
      st->set_status(s.running() ? mail::v1::SERVICE_STATUS_RUNNING
                                 : mail::v1::SERVICE_STATUS_STOPPED);
      st->set_settings_version(version);
      if (s.endpoints) {
        for (auto& e : s.endpoints()) st->add_endpoints(std::move(e));
      }
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    common::AttachStoreToken(&ctx);
    mail::v1::HeartbeatResponse resp;
    grpc::Status status = stub->Heartbeat(&ctx, req, &resp);
    if (status.ok()) {
      if (warned) {
        MAIL_LOG(kInfo, "node") << "control plane reachable again";
      }
      warned = false;
      starting = false;
      if (resp.interval_ms() != 0) interval_ms = std::clamp<uint32_t>(resp.interval_ms(), 200, 10000);
      for (const auto& desired : resp.desired()) {
        for (const auto& s : services_) {
          if (s.name == desired.service()) s.apply(desired);
        }
      }
    } else if (!warned) {
      MAIL_LOG(kWarning, "node") << "cannot reach the control plane at " << endpoint_ << ": "
                                 << status.error_message() << " (services keep their state)";
      warned = true;
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, std::chrono::milliseconds(interval_ms), [this] { return stop_; })) break;
  }
}

}  // namespace common
