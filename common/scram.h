// SCRAM-SHA-256 (RFC 5802, RFC 7677): stored verifiers, PLAIN checks against them, and both
// sides of the exchange as small state machines without I/O.
//
// Credentials are never stored as passwords: a ScramCredentials value (salt, iteration count,
// StoredKey, ServerKey) serves SCRAM-SHA-256 and PLAIN logins alike.
//
// Password preparation is a deliberately simplified SASLprep: a password must be valid UTF-8,
// non-empty, at most kScramMaxPasswordSize bytes and free of control characters (Unicode
// category Cc: U+0000-U+001F, U+007F, U+0080-U+009F); otherwise it is passed through
// unchanged. The full RFC 4013 profile (mapping non-ASCII spaces to U+0020, removing
// "mapped to nothing" characters, NFKC normalisation, bidi checks) is NOT done, so a password
// that such a mapping would change may not match a client that applies full SASLprep.
//
// Channel binding (SCRAM-SHA-256-PLUS) is not supported: the server accepts the GS2 flags "n"
// and "y" and rejects "p=". Never advertise the -PLUS mechanism while using this code (with
// -PLUS advertised, "y" would indicate a downgrade attack).
//
// Error codes: kInvalidArgument for malformed or oversized input (never a crash),
// kPermissionDenied for an authorization identity other than the user, kUnauthenticated for a
// wrong proof or server signature, kFailedPrecondition for calls out of order, kInternal when
// OpenSSL fails. Callers map all of them to the protocol's fixed failure reply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace common {

// Longest SCRAM message accepted from the peer, in bytes (after any transport base64).
inline constexpr size_t kScramMaxMessageSize = 4096;
// Longest password accepted, in bytes.
inline constexpr size_t kScramMaxPasswordSize = 1024;
// RFC 7677: iteration counts below 4096 are too weak; above the maximum, one login would cost
// too much CPU (and a hostile server could stall a client).
inline constexpr uint32_t kScramMinIterations = 4096;
inline constexpr uint32_t kScramMaxIterations = 10'000'000;
// Default iteration count for new verifiers.
inline constexpr uint32_t kScramDefaultIterations = 4096;
// Length of a random salt, and the longest salt accepted, in bytes.
inline constexpr size_t kScramSaltSize = 16;
inline constexpr size_t kScramMaxSaltSize = 256;
// SHA-256 output size: the size of StoredKey, ServerKey, proofs and signatures.
inline constexpr size_t kScramKeySize = 32;

// A SCRAM-SHA-256 verifier. All string fields hold raw bytes (not base64).
struct ScramCredentials {
  uint32_t iterations = 0;
  std::string salt;
  std::string stored_key;  // H(HMAC(SaltedPassword, "Client Key")), kScramKeySize bytes.
  std::string server_key;  // HMAC(SaltedPassword, "Server Key"), kScramKeySize bytes.
};

// Builds a verifier for `password`. An empty `salt` means a fresh random kScramSaltSize-byte
// salt. InvalidArgument when the password fails preparation (see above), when `iterations`
// is outside [kScramMinIterations, kScramMaxIterations], or when `salt` is longer than
// kScramMaxSaltSize; Internal when OpenSSL fails.
StatusOr<ScramCredentials> MakeScramSha256Credentials(std::string_view password,
                                                      uint32_t iterations = kScramDefaultIterations,
                                                      std::string_view salt = {});

// True when `password` (e.g. from AUTH PLAIN or IMAP LOGIN) matches the verifier. Recomputes
// StoredKey with PBKDF2 and compares in constant time. False for passwords that fail
// preparation and for malformed credentials (wrong key sizes, bad iteration count).
bool VerifyPlainPassword(const ScramCredentials& credentials, std::string_view password);

// A deterministic verifier for a user that does not exist, so that a SCRAM exchange for an
// unknown user proceeds normally and fails only at the proof, exactly like a wrong password:
// the same user always gets the same salt, and no password matches. `server_secret` must be a
// random per-deployment secret (at least 32 bytes) that clients never see; otherwise salts of
// unknown users become predictable. `iterations` should equal the count used for real users.
ScramCredentials FakeScramCredentials(std::string_view user, std::string_view server_secret,
                                      uint32_t iterations = kScramDefaultIterations);

// Server side of one SCRAM-SHA-256 exchange. Usage:
//   ScramServer server;
//   auto server_first = server.HandleClientFirst(client_first);  // parses, sets username()
//   ... look up server.username(); if unknown use FakeScramCredentials(...) ...
//   server_first = server.StartWithCredentials(credentials);     // "r=...,s=...,i=..."
//   auto server_final = server.HandleClientFinal(client_final);  // "v=..." or an error
// Messages are the SCRAM messages themselves, not the base64 SASL payloads around them. Any
// error ends the exchange: later calls return FailedPrecondition.
class ScramServer {
 public:
  ScramServer() = default;
  ScramServer(const ScramServer&) = delete;
  ScramServer& operator=(const ScramServer&) = delete;
  ~ScramServer();

  // Parses "n,,n=user,r=nonce" (GS2 flag "n" or "y", optional "a=" authzid equal to the
  // user). Returns the decoded user name (also available from username()).
  StatusOr<std::string> HandleClientFirst(std::string_view client_first_message);

  // The user name from client-first, with "=2C" and "=3D" decoded. Valid UTF-8 without
  // control characters. Empty before HandleClientFirst succeeds.
  const std::string& username() const { return username_; }

  // Returns server-first "r=<client nonce><server nonce>,s=<base64 salt>,i=<iterations>".
  // InvalidArgument when `credentials` are malformed (salt empty or above kScramMaxSaltSize,
  // keys not kScramKeySize bytes, iteration count 0 or above kScramMaxIterations).
  StatusOr<std::string> StartWithCredentials(const ScramCredentials& credentials);

  // Verifies "c=...,r=...,p=..." and returns server-final "v=<base64 server signature>".
  // Unauthenticated when the proof is wrong.
  StatusOr<std::string> HandleClientFinal(std::string_view client_final_message);

  // True once HandleClientFinal has accepted the proof.
  bool authenticated() const { return state_ == State::kDone; }

  // Replaces the random server nonce (for test vectors). Call before StartWithCredentials.
  // `nonce` must be non-empty printable ASCII without ','; otherwise StartWithCredentials
  // fails with FailedPrecondition.
  void SetServerNonceForTesting(std::string nonce) { server_nonce_ = std::move(nonce); }

 private:
  enum class State { kWaitClientFirst, kWaitCredentials, kWaitClientFinal, kDone, kFailed };

  Status Fail(Status status);

  State state_ = State::kWaitClientFirst;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string username_;
  std::string client_nonce_;
  std::string server_nonce_;
  std::string server_first_;
  ScramCredentials credentials_;
};

// Client side of one SCRAM-SHA-256 exchange (tests, admin connectivity checks). Sends GS2
// flag "n" and no authzid. Usage:
//   ScramClient client("alice", "secret");
//   auto first = client.ClientFirst();                     // "n,,n=alice,r=..."
//   auto final_message = client.HandleServerFirst(server_first);
//   Status ok = client.VerifyServerFinal(server_final);    // checks the server's signature
// The server's iteration count must be within [kScramMinIterations, kScramMaxIterations].
class ScramClient {
 public:
  ScramClient(std::string username, std::string password);
  ScramClient(const ScramClient&) = delete;
  ScramClient& operator=(const ScramClient&) = delete;
  ~ScramClient();

  // Replaces the random client nonce (for test vectors). Call before ClientFirst. `nonce` must
  // be non-empty printable ASCII without ','; otherwise ClientFirst fails.
  void SetClientNonceForTesting(std::string nonce) { client_nonce_ = std::move(nonce); }

  // Returns client-first "n,,n=<user>,r=<nonce>". InvalidArgument when the user name is empty
  // or the password fails preparation.
  StatusOr<std::string> ClientFirst();

  // Parses server-first and returns client-final "c=biws,r=<nonce>,p=<base64 proof>".
  StatusOr<std::string> HandleServerFirst(std::string_view server_first_message);

  // Checks server-final "v=<signature>". Unauthenticated for a wrong signature or for a
  // server error "e=...".
  Status VerifyServerFinal(std::string_view server_final_message);

  // True once VerifyServerFinal has accepted the server's signature.
  bool authenticated() const { return state_ == State::kDone; }

 private:
  enum class State { kStart, kWaitServerFirst, kWaitServerFinal, kDone, kFailed };

  Status Fail(Status status);

  State state_ = State::kStart;
  std::string username_;
  std::string password_;
  std::string client_nonce_;
  std::string client_first_bare_;
  std::string expected_server_signature_;
};

}  // namespace common
