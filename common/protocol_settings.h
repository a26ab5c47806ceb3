// Set-PopSettings / Set-ImapSettings values with Exchange's defaults filled in, validated once
// and then shared read-only by sessions (a change swaps the snapshot; sessions keep theirs).
#pragma once

#include <memory>
#include <mutex>

#include "common/status.h"
#include "settings.pb.h"

namespace common {

enum class SettingsKind { kPop3, kImap4 };

// Fills every unset field with the Exchange 2013+ default for the protocol.
mail::v1::ProtocolSettings WithDefaults(const mail::v1::ProtocolSettings& in, SettingsKind protocol);
// Range checks of Exchange (MaxCommandSize 40..1024 for POP3, 1024..16384 for IMAP4; timeouts
// 30 s..1 h for pre-auth, 30 s..24 h after).
common::Status Validate(const mail::v1::ProtocolSettings& s, SettingsKind protocol);

class SettingsHolder {
 public:
  explicit SettingsHolder(mail::v1::ProtocolSettings s)
      : current_(std::make_shared<const mail::v1::ProtocolSettings>(std::move(s))) {}
  std::shared_ptr<const mail::v1::ProtocolSettings> Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }
  void Set(mail::v1::ProtocolSettings s) {
    auto next = std::make_shared<const mail::v1::ProtocolSettings>(std::move(s));
    std::lock_guard<std::mutex> lock(mu_);
    current_ = std::move(next);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const mail::v1::ProtocolSettings> current_;
};

}  // namespace common
