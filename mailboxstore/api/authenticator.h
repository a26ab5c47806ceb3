// What pre-authentication code may use: checking credentials, nothing else. Login sessions get
// an Authenticator and hand the authenticated mailbox to the post-login session.
#pragma once

#include "common/asio.h"
#include "common/status.h"
#include "directory.pb.h"

namespace mailboxstore {

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual asio::awaitable<common::StatusOr<mail::v1::AuthenticateResponse>> AuthenticatePlain(
      const mail::v1::AuthenticatePlainRequest& req) = 0;
  virtual asio::awaitable<common::StatusOr<mail::v1::GetScramVerifierResponse>> GetScramVerifier(
      const mail::v1::GetScramVerifierRequest& req) = 0;
  virtual asio::awaitable<common::StatusOr<mail::v1::AuthenticateResponse>> CompleteLogin(
      const mail::v1::CompleteLoginRequest& req) = 0;
  // A SCRAM proof did not check out: the store counts it for its brute-force protection.
  virtual asio::awaitable<common::StatusOr<mail::v1::ReportLoginFailureResponse>>
  ReportLoginFailure(const mail::v1::ReportLoginFailureRequest& req) = 0;
};

}  // namespace mailboxstore
