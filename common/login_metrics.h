// Counts a login's outcome in mail_logins_total from the store's answer, the same way for
// every frontend (casd's POP3 and IMAP4, transportd's SMTP AUTH).
#pragma once

#include <string_view>

#include "common/metrics.h"
#include "common/status.h"
#include "directory.pb.h"

namespace common {

inline void CountLoginResult(std::string_view protocol,
                             const StatusOr<mail::v1::AuthenticateResponse>& r) {
  std::string_view result = "error";  // The store did not answer.
  if (r.ok()) {
    switch (r->result()) {
      case mail::v1::AUTH_RESULT_OK:
        result = "success";
        break;
      case mail::v1::AUTH_RESULT_THROTTLED:
        result = "throttled";
        break;
      case mail::v1::AUTH_RESULT_PROTOCOL_DISABLED:
      case mail::v1::AUTH_RESULT_ACCOUNT_DISABLED:
        result = "disabled";
        break;
      default:
        result = "failure";
        break;
    }
  }
  metrics::CountLogin(protocol, result);
}

}  // namespace common
