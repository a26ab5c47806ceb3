// libFuzzer target for the SASL decoders a client reaches before login: base64 (every SASL
// payload), the PLAIN message (RFC 4616) and the server side of SCRAM-SHA-256 (client-first
// and client-final, RFC 5802), on the same bytes.
//
//   clang++ -std=c++20 -I. -fsanitize=fuzzer,address,undefined -o sasl_fuzz
//     tests/fuzz/sasl_fuzz.cc common/base64.cc common/sasl_plain.cc common/scram.cc
//     common/status.cc -lcrypto
//   ./sasl_fuzz tests/fuzz/corpus/sasl
//
// Checks, besides "no crash": the base64 decoder accepts only canonical text (decoding then
// encoding gives the input back) and round-trips any bytes; PLAIN's three parts rebuild the
// message; a SCRAM exchange ends in an error or a proof check, never in a login, and every
// error leaves the exchange failed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/base64.h"
#include "common/sasl_plain.h"
#include "common/scram.h"

namespace {

void Require(bool condition) {
  if (!condition) std::abort();
}

// One fixed verifier: the fuzzer never knows the password, so no proof may pass.
const common::ScramCredentials& Credentials() {
  static const common::ScramCredentials creds = [] {
    auto c = common::MakeScramSha256Credentials("fuzz-password-not-guessable",
                                                common::kScramMinIterations, "fixed-salt-1234");
    Require(c.ok());
    return *c;
  }();
  return creds;
}

void FuzzBase64(std::string_view input) {
  std::optional<std::string> decoded = common::Base64Decode(input);
  if (decoded) Require(common::Base64Encode(*decoded) == input);
  std::optional<std::string> back = common::Base64Decode(common::Base64Encode(input));
  Require(back && *back == input);
}

void FuzzPlain(std::string_view input) {
  std::optional<common::SaslPlain> plain = common::ParseSaslPlain(input);
  size_t nuls = 0;
  for (char c : input) nuls += c == '\0';
  Require(plain.has_value() == (nuls >= 2));
  if (plain) {
    Require(plain->authzid.find('\0') == std::string::npos);
    Require(plain->authcid.find('\0') == std::string::npos);
    Require(plain->authzid + '\0' + plain->authcid + '\0' + plain->password == input);
  }
}

// The server's side of an exchange: client-first is the input up to the first '\n' (or a
// valid fixed one when the input starts with '\n'), client-final is the rest; both are also
// tried as the base64 the session would decode.
void FuzzScram(std::string_view input) {
  size_t nl = input.find('\n');
  std::string_view first = nl == std::string_view::npos ? input : input.substr(0, nl);
  std::string_view final_message = nl == std::string_view::npos ? "" : input.substr(nl + 1);
  std::string fixed_first = "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL";
  if (nl == 0) first = fixed_first;

  for (int pass = 0; pass < 2; ++pass) {
    std::string client_first(first), client_final(final_message);
    if (pass == 1) {
      auto a = common::Base64Decode(first), b = common::Base64Decode(final_message);
      if (!a || !b) break;
      client_first = *a;
      client_final = *b;
    }
    common::ScramServer server;
    server.SetServerNonceForTesting("3rfcNHYJY1ZVvWVs7j");
    auto user = server.HandleClientFirst(client_first);
    if (!user.ok()) {
      Require(server.username().empty());
      // Failed: every later step is refused.
      Require(!server.StartWithCredentials(Credentials()).ok());
      continue;
    }
    Require(*user == server.username());
    Require(client_first.size() <= common::kScramMaxMessageSize);
    auto server_first = server.StartWithCredentials(Credentials());
    Require(server_first.ok());
    auto server_final = server.HandleClientFinal(client_final);
    Require(!server_final.ok());
    Require(!server.authenticated());
    Require(!server.HandleClientFinal(client_final).ok());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  FuzzBase64(input);
  FuzzPlain(input);
  FuzzScram(input);
  return 0;
}
