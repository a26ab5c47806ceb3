// Makes this process a node of the control plane: it registers with mailboxstored, heartbeats
// every second, and applies the desired state of the services it hosts (Start-Service,
// Stop-Service, Restart-Service) as soon as a heartbeat answer carries a change.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "control.pb.h"

namespace common {

class NodeAgent {
 public:
  struct Service {
    mail::v1::ServiceName name;
    // Whether the service's listeners are open now (reported as Running / Stopped).
    std::function<bool()> running;
    // Brings the service to the desired state: open or close its listeners; a new
    // restart_generation means close (ending sessions) and open again.
    std::function<void(const mail::v1::ServiceState& desired)> apply;
    // Where it listens now (ServiceState.endpoints); may be empty.
    std::function<std::vector<std::string>()> endpoints = {};
  };

  NodeAgent(std::string store_endpoint, mail::v1::Node identity, std::vector<Service> services,
            std::function<uint64_t()> settings_version);
  ~NodeAgent();
  void Start();
  void Stop();

 private:
  void Loop();

  std::string endpoint_;
  mail::v1::Node identity_;
  std::vector<Service> services_;
  std::function<uint64_t()> settings_version_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace common
