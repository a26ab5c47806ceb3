// Keeps this node's protocol settings in step with the store (Set-PopSettings and
// Set-ImapSettings apply to the next connection, with no restart). Values the administrator
// set win over the node's config file; bindings stay as the node was configured. The
// organisation's transport settings are kept too (client autoconfiguration lists the SMTP
// submission connectors).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "common/protocol_settings.h"
#include "settings.pb.h"

namespace cas {

// The node's settings: its config file's values overlaid with the explicit store values.
mail::v1::ProtocolSettings MergeSettings(const mail::v1::ProtocolSettings& config,
                                         const mail::v1::ProtocolSettings& store,
                                         common::SettingsKind kind);

class SettingsWatcher {
 public:
  SettingsWatcher(std::string store_endpoint, mail::v1::ProtocolSettings pop3_config,
                  mail::v1::ProtocolSettings imap4_config, common::SettingsHolder* pop3,
                  common::SettingsHolder* imap4);
  ~SettingsWatcher();
  void Start();
  void Stop();
  // Called (on the watcher's thread) after each settings snapshot was applied to the holders.
  void SetOnChange(std::function<void()> on_change);
  // Blocks until the first snapshot from the store was applied, or `timeout`; true if it was.
  bool WaitForFirstSnapshot(std::chrono::milliseconds timeout);
  uint64_t version() const { return version_; }
  // The organisation's transport settings (receive connectors) with defaults filled in, as in
  // the latest snapshot from the store; null until the store has sent one.
  std::shared_ptr<const mail::v1::TransportSettings> transport() const;
  // The store's certificates enabled for a service (with their keys), as in the latest
  // snapshot, set before the change callback runs; null until the store has sent one.
  std::shared_ptr<const mail::v1::ServerSettings> certificates() const;

 private:
  void Loop();
  std::string endpoint_;
  mail::v1::ProtocolSettings pop3_config_, imap4_config_;
  common::SettingsHolder* pop3_;
  common::SettingsHolder* imap4_;
  std::atomic<uint64_t> version_{0};
  mutable std::mutex transport_mu_;
  std::shared_ptr<const mail::v1::TransportSettings> transport_;
  std::shared_ptr<const mail::v1::ServerSettings> certificates_;
  std::mutex first_mu_;
  std::condition_variable first_cv_;
  bool have_first_ = false;
  std::mutex on_change_mu_;
  std::function<void()> on_change_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  grpc::ClientContext* ctx_ = nullptr;
  std::thread thread_;
};

}  // namespace cas
