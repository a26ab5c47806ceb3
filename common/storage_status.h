// "The store's disk is full", as a status that crosses gRPC unchanged (code and message): a
// temporary server condition, which the frontends answer as such (IMAP NO [UNAVAILABLE],
// POP3 -ERR [SYS/TEMP], SMTP 452 4.3.1) and never as the user's quota (OVERQUOTA, 552).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace common {

inline constexpr std::string_view kInsufficientStorage = "insufficient system storage";

inline Status InsufficientStorageError(std::string_view detail) {
  return UnavailableError(std::string(kInsufficientStorage) + ": " + std::string(detail));
}

inline bool IsInsufficientStorage(const Status& s) {
  return s.code() == StatusCode::kUnavailable && s.message().starts_with(kInsufficientStorage);
}

}  // namespace common
