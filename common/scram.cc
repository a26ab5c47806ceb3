#include "common/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <climits>
#include <cstring>
#include <optional>
#include <vector>

#include "common/base64.h"

namespace common {
namespace {

static_assert(SHA256_DIGEST_LENGTH == kScramKeySize);
static_assert(kScramMaxIterations <= static_cast<uint32_t>(INT_MAX));
static_assert(kScramMaxPasswordSize <= static_cast<size_t>(INT_MAX));
static_assert(kScramMaxSaltSize <= static_cast<size_t>(INT_MAX));

// Random nonces: 18 bytes give 24 base64 characters, none of them ','.
constexpr size_t kNonceRandomBytes = 18;

// A fixed-size key buffer that is wiped when it goes out of scope.
struct Key {
  unsigned char bytes[kScramKeySize] = {};
  Key() = default;
  Key(const Key&) = delete;
  Key& operator=(const Key&) = delete;
  ~Key() { OPENSSL_cleanse(bytes, sizeof(bytes)); }
  std::string_view view() const {
    return std::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes));
  }
};

void Cleanse(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
}

bool HmacSha256(std::string_view key, std::string_view data, Key& out) {
  if (key.size() > static_cast<size_t>(INT_MAX)) return false;
  unsigned int out_len = 0;
  const unsigned char* result =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.bytes, &out_len);
  return result != nullptr && out_len == kScramKeySize;
}

bool Sha256(std::string_view data, Key& out) {
  return SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.bytes) !=
         nullptr;
}

// Keys derived from a password: ClientKey, StoredKey and ServerKey (RFC 5802 section 3).
struct DerivedKeys {
  Key client_key;
  Key stored_key;
  Key server_key;
};

// Callers have bounded the password, salt and iteration count.
bool DeriveKeys(std::string_view password, std::string_view salt, uint32_t iterations,
                DerivedKeys& out) {
  Key salted_password;
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                        static_cast<int>(kScramKeySize), salted_password.bytes) != 1) {
    return false;
  }
  return HmacSha256(salted_password.view(), "Client Key", out.client_key) &&
         Sha256(out.client_key.view(), out.stored_key) &&
         HmacSha256(salted_password.view(), "Server Key", out.server_key);
}

// Strict UTF-8 (no overlong forms, surrogates or code points above U+10FFFF) without Unicode
// control characters (category Cc: U+0000-U+001F, U+007F-U+009F).
bool IsUtf8WithoutControls(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return false;
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t code_point = 0;
    uint32_t min = 0;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      code_point = c & 0x1f;
      min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      code_point = c & 0x0f;
      min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      code_point = c & 0x07;
      min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      code_point = (code_point << 6) | (cc & 0x3f);
    }
    if (code_point < min || code_point > 0x10ffff) return false;
    if (code_point >= 0xd800 && code_point <= 0xdfff) return false;
    if (code_point <= 0x9f) return false;  // C1 controls (U+0080-U+009F).
    i += len;
  }
  return true;
}

// The simplified SASLprep described in scram.h.
Status PreparePassword(std::string_view password) {
  if (password.empty()) return InvalidArgumentError("empty password");
  if (password.size() > kScramMaxPasswordSize) return InvalidArgumentError("password too long");
  if (!IsUtf8WithoutControls(password)) {
    return InvalidArgumentError("password is not UTF-8 or contains control characters");
  }
  return Status::Ok();
}

bool CredentialsWellFormed(const ScramCredentials& c) {
  return c.iterations >= 1 && c.iterations <= kScramMaxIterations && !c.salt.empty() &&
         c.salt.size() <= kScramMaxSaltSize && c.stored_key.size() == kScramKeySize &&
         c.server_key.size() == kScramKeySize;
}

// printable = %x21-2B / %x2D-7E (RFC 5802 section 7).
bool IsValidNonce(std::string_view nonce) {
  if (nonce.empty()) return false;
  for (char ch : nonce) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

StatusOr<std::string> RandomNonce() {
  unsigned char bytes[kNonceRandomBytes];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return InternalError("RAND_bytes failed");
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

std::vector<std::string_view> SplitAttributes(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t comma = s.find(',', start);
    if (comma == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
}

// "x=value" with the given attribute letter; returns the value.
std::optional<std::string_view> AttributeValue(std::string_view attribute, char name) {
  if (attribute.size() < 2 || attribute[0] != name || attribute[1] != '=') return std::nullopt;
  return attribute.substr(2);
}

// An optional extension attribute: ALPHA "=" value. Unknown extensions are ignored.
bool IsExtension(std::string_view attribute) {
  if (attribute.size() < 2 || attribute[1] != '=') return false;
  const char c = attribute[0];
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool AllExtensions(const std::vector<std::string_view>& attributes, size_t from) {
  for (size_t i = from; i < attributes.size(); ++i) {
    if (!IsExtension(attributes[i])) return false;
  }
  return true;
}

// saslname (RFC 5802 section 7): "=2C" is ',' and "=3D" is '='; any other '=' is an error.
std::optional<std::string> DecodeSaslName(std::string_view in) {
  if (in.empty()) return std::nullopt;
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '=') {
      out.push_back(in[i]);
      continue;
    }
    const std::string_view escape = in.substr(i + 1, 2);
    if (escape == "2C") {
      out.push_back(',');
    } else if (escape == "3D") {
      out.push_back('=');
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  if (!IsUtf8WithoutControls(out)) return std::nullopt;
  return out;
}

std::string EncodeSaslName(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    if (c == ',') {
      out.append("=2C");
    } else if (c == '=') {
      out.append("=3D");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<uint32_t> ParseIterations(std::string_view s) {
  if (s.empty() || s.size() > 10 || s[0] == '0') return std::nullopt;
  uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(value);
}

std::string Xor(std::string_view a, std::string_view b) {
  std::string out(a.size(), '\0');
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) out[i] = static_cast<char>(a[i] ^ b[i]);
  return out;
}

}  // namespace

StatusOr<ScramCredentials> MakeScramSha256Credentials(std::string_view password,
                                                      uint32_t iterations, std::string_view salt) {
  MAIL_RETURN_IF_ERROR(PreparePassword(password));
  if (iterations < kScramMinIterations || iterations > kScramMaxIterations) {
    return InvalidArgumentError("iteration count out of range");
  }
  if (salt.size() > kScramMaxSaltSize) return InvalidArgumentError("salt too long");
  ScramCredentials credentials;
  credentials.iterations = iterations;
  if (salt.empty()) {
    unsigned char random[kScramSaltSize];
    if (RAND_bytes(random, sizeof(random)) != 1) return InternalError("RAND_bytes failed");
    credentials.salt.assign(reinterpret_cast<const char*>(random), sizeof(random));
  } else {
    credentials.salt.assign(salt);
  }
  DerivedKeys keys;
  if (!DeriveKeys(password, credentials.salt, iterations, keys)) {
    return InternalError("SCRAM key derivation failed");
  }
  credentials.stored_key.assign(keys.stored_key.view());
  credentials.server_key.assign(keys.server_key.view());
  return credentials;
}

bool VerifyPlainPassword(const ScramCredentials& credentials, std::string_view password) {
  if (!CredentialsWellFormed(credentials)) return false;
  if (!PreparePassword(password).ok()) return false;
  DerivedKeys keys;
  if (!DeriveKeys(password, credentials.salt, credentials.iterations, keys)) return false;
  return CRYPTO_memcmp(keys.stored_key.bytes, credentials.stored_key.data(), kScramKeySize) == 0;
}

ScramCredentials FakeScramCredentials(std::string_view user, std::string_view server_secret,
                                      uint32_t iterations) {
  // Domain-separated HMACs of the user name. The keys are random-looking values that no
  // password produces; if OpenSSL fails they stay zero, which no proof matches either.
  const auto derive = [&](std::string_view label, Key& out) {
    std::string message(label);
    message.push_back('\0');
    message.append(user);
    if (!HmacSha256(server_secret, message, out)) OPENSSL_cleanse(out.bytes, sizeof(out.bytes));
  };
  Key salt;
  Key stored_key;
  Key server_key;
  derive("casmail scram fake salt", salt);
  derive("casmail scram fake stored key", stored_key);
  derive("casmail scram fake server key", server_key);
  ScramCredentials credentials;
  credentials.iterations = iterations;
  credentials.salt.assign(salt.view().substr(0, kScramSaltSize));
  credentials.stored_key.assign(stored_key.view());
  credentials.server_key.assign(server_key.view());
  return credentials;
}

// ---------------------------------------------------------------------------------------------
// ScramServer

ScramServer::~ScramServer() {
  Cleanse(credentials_.stored_key);
  Cleanse(credentials_.server_key);
}

Status ScramServer::Fail(Status status) {
  state_ = State::kFailed;
  return status;
}

StatusOr<std::string> ScramServer::HandleClientFirst(std::string_view message) {
  if (state_ != State::kWaitClientFirst) {
    return Fail(FailedPreconditionError("client-first-message out of order"));
  }
  if (message.empty()) return Fail(InvalidArgumentError("empty client-first-message"));
  if (message.size() > kScramMaxMessageSize) {
    return Fail(InvalidArgumentError("client-first-message too long"));
  }

  // gs2-header = gs2-cbind-flag "," [ authzid ] ","
  if (message[0] == 'p') return Fail(InvalidArgumentError("channel binding not supported"));
  if ((message[0] != 'n' && message[0] != 'y') || message.size() < 2 || message[1] != ',') {
    return Fail(InvalidArgumentError("bad GS2 header"));
  }
  const size_t header_end = message.find(',', 2);
  if (header_end == std::string_view::npos) return Fail(InvalidArgumentError("bad GS2 header"));
  const std::string_view authzid_attribute = message.substr(2, header_end - 2);
  std::optional<std::string> authzid;
  if (!authzid_attribute.empty()) {
    const std::optional<std::string_view> value = AttributeValue(authzid_attribute, 'a');
    if (!value) return Fail(InvalidArgumentError("bad authzid"));
    // "a=" with nothing after it is treated as no authzid.
    if (!value->empty()) {
      authzid = DecodeSaslName(*value);
      if (!authzid) return Fail(InvalidArgumentError("bad authzid"));
    }
  }
  const std::string_view bare = message.substr(header_end + 1);

  // client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
  const std::vector<std::string_view> attributes = SplitAttributes(bare);
  if (AttributeValue(attributes[0], 'm')) {
    return Fail(InvalidArgumentError("mandatory extension not supported"));
  }
  if (attributes.size() < 2) return Fail(InvalidArgumentError("missing username or nonce"));
  const std::optional<std::string_view> encoded_user = AttributeValue(attributes[0], 'n');
  if (!encoded_user) return Fail(InvalidArgumentError("missing username"));
  std::optional<std::string> user = DecodeSaslName(*encoded_user);
  if (!user) return Fail(InvalidArgumentError("bad username"));
  const std::optional<std::string_view> nonce = AttributeValue(attributes[1], 'r');
  if (!nonce) return Fail(InvalidArgumentError("missing nonce"));
  if (!IsValidNonce(*nonce)) return Fail(InvalidArgumentError("bad nonce"));
  if (!AllExtensions(attributes, 2)) return Fail(InvalidArgumentError("bad attribute"));
  if (authzid && *authzid != *user) {
    return Fail(PermissionDeniedError("authorization identity differs from user"));
  }

  gs2_header_.assign(message.substr(0, header_end + 1));
  client_first_bare_.assign(bare);
  username_ = std::move(*user);
  client_nonce_.assign(*nonce);
  state_ = State::kWaitCredentials;
  return username_;
}

StatusOr<std::string> ScramServer::StartWithCredentials(const ScramCredentials& credentials) {
  if (state_ != State::kWaitCredentials) {
    return Fail(FailedPreconditionError("credentials supplied out of order"));
  }
  if (!CredentialsWellFormed(credentials)) {
    return Fail(InvalidArgumentError("malformed SCRAM credentials"));
  }
  if (server_nonce_.empty()) {
    StatusOr<std::string> nonce = RandomNonce();
    if (!nonce.ok()) return Fail(nonce.status());
    server_nonce_ = std::move(nonce).value();
  } else if (!IsValidNonce(server_nonce_)) {
    return Fail(FailedPreconditionError("bad injected server nonce"));
  }
  credentials_ = credentials;
  server_first_ = "r=" + client_nonce_ + server_nonce_ + ",s=" + Base64Encode(credentials_.salt) +
                  ",i=" + std::to_string(credentials_.iterations);
  state_ = State::kWaitClientFinal;
  return server_first_;
}

StatusOr<std::string> ScramServer::HandleClientFinal(std::string_view message) {
  if (state_ != State::kWaitClientFinal) {
    return Fail(FailedPreconditionError("client-final-message out of order"));
  }
  if (message.size() > kScramMaxMessageSize) {
    return Fail(InvalidArgumentError("client-final-message too long"));
  }

  // client-final-message = channel-binding "," nonce ["," extensions] "," proof
  const size_t proof_start = message.rfind(',');
  if (proof_start == std::string_view::npos) return Fail(InvalidArgumentError("missing proof"));
  const std::string_view without_proof = message.substr(0, proof_start);
  const std::optional<std::string_view> proof_b64 =
      AttributeValue(message.substr(proof_start + 1), 'p');
  if (!proof_b64) return Fail(InvalidArgumentError("missing proof"));
  const std::vector<std::string_view> attributes = SplitAttributes(without_proof);
  if (attributes.size() < 2) return Fail(InvalidArgumentError("missing channel binding or nonce"));
  const std::optional<std::string_view> cbind_b64 = AttributeValue(attributes[0], 'c');
  if (!cbind_b64) return Fail(InvalidArgumentError("missing channel binding"));
  const std::optional<std::string_view> nonce = AttributeValue(attributes[1], 'r');
  if (!nonce) return Fail(InvalidArgumentError("missing nonce"));
  if (!AllExtensions(attributes, 2)) return Fail(InvalidArgumentError("bad attribute"));

  // With flags "n" and "y" the channel binding is just the GS2 header.
  const std::optional<std::string> cbind = Base64Decode(*cbind_b64);
  if (!cbind || *cbind != gs2_header_) {
    return Fail(InvalidArgumentError("channel binding mismatch"));
  }
  if (nonce->size() != client_nonce_.size() + server_nonce_.size() ||
      nonce->substr(0, client_nonce_.size()) != client_nonce_ ||
      nonce->substr(client_nonce_.size()) != server_nonce_) {
    return Fail(InvalidArgumentError("nonce mismatch"));
  }
  std::optional<std::string> proof = Base64Decode(*proof_b64);
  if (!proof || proof->size() != kScramKeySize) {
    return Fail(InvalidArgumentError("bad proof encoding"));
  }

  std::string auth_message = client_first_bare_;
  auth_message.push_back(',');
  auth_message.append(server_first_);
  auth_message.push_back(',');
  auth_message.append(without_proof);

  Key client_signature;
  if (!HmacSha256(credentials_.stored_key, auth_message, client_signature)) {
    return Fail(InternalError("HMAC failed"));
  }
  std::string client_key = Xor(*proof, client_signature.view());
  Key computed_stored_key;
  const bool hashed = Sha256(client_key, computed_stored_key);
  Cleanse(client_key);
  if (!hashed) return Fail(InternalError("SHA-256 failed"));
  if (CRYPTO_memcmp(computed_stored_key.bytes, credentials_.stored_key.data(), kScramKeySize) !=
      0) {
    return Fail(UnauthenticatedError("invalid proof"));
  }
  Key server_signature;
  if (!HmacSha256(credentials_.server_key, auth_message, server_signature)) {
    return Fail(InternalError("HMAC failed"));
  }
  state_ = State::kDone;
  return "v=" + Base64Encode(server_signature.view());
}

// ---------------------------------------------------------------------------------------------
// ScramClient

ScramClient::ScramClient(std::string username, std::string password)
    : username_(std::move(username)), password_(std::move(password)) {}

ScramClient::~ScramClient() {
  Cleanse(password_);
  Cleanse(expected_server_signature_);
}

Status ScramClient::Fail(Status status) {
  state_ = State::kFailed;
  Cleanse(password_);
  return status;
}

StatusOr<std::string> ScramClient::ClientFirst() {
  if (state_ != State::kStart) return Fail(FailedPreconditionError("ClientFirst out of order"));
  if (username_.empty()) return Fail(InvalidArgumentError("empty username"));
  if (Status prepared = PreparePassword(password_); !prepared.ok()) return Fail(prepared);
  if (client_nonce_.empty()) {
    StatusOr<std::string> nonce = RandomNonce();
    if (!nonce.ok()) return Fail(nonce.status());
    client_nonce_ = std::move(nonce).value();
  } else if (!IsValidNonce(client_nonce_)) {
    return Fail(InvalidArgumentError("bad injected client nonce"));
  }
  client_first_bare_ = "n=" + EncodeSaslName(username_) + ",r=" + client_nonce_;
  state_ = State::kWaitServerFirst;
  return "n,," + client_first_bare_;
}

StatusOr<std::string> ScramClient::HandleServerFirst(std::string_view message) {
  if (state_ != State::kWaitServerFirst) {
    return Fail(FailedPreconditionError("server-first-message out of order"));
  }
  if (message.size() > kScramMaxMessageSize) {
    return Fail(InvalidArgumentError("server-first-message too long"));
  }
  // server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count
  //                        ["," extensions]
  const std::vector<std::string_view> attributes = SplitAttributes(message);
  if (AttributeValue(attributes[0], 'm')) {
    return Fail(InvalidArgumentError("mandatory extension not supported"));
  }
  if (attributes.size() < 3) return Fail(InvalidArgumentError("malformed server-first-message"));
  const std::optional<std::string_view> nonce = AttributeValue(attributes[0], 'r');
  const std::optional<std::string_view> salt_b64 = AttributeValue(attributes[1], 's');
  const std::optional<std::string_view> iterations_text = AttributeValue(attributes[2], 'i');
  if (!nonce || !salt_b64 || !iterations_text || !AllExtensions(attributes, 3)) {
    return Fail(InvalidArgumentError("malformed server-first-message"));
  }
  if (!IsValidNonce(*nonce) || nonce->size() <= client_nonce_.size() ||
      nonce->substr(0, client_nonce_.size()) != client_nonce_) {
    return Fail(InvalidArgumentError("server nonce does not extend the client nonce"));
  }
  const std::optional<std::string> salt = Base64Decode(*salt_b64);
  if (!salt || salt->empty() || salt->size() > kScramMaxSaltSize) {
    return Fail(InvalidArgumentError("bad salt"));
  }
  const std::optional<uint32_t> iterations = ParseIterations(*iterations_text);
  if (!iterations || *iterations < kScramMinIterations || *iterations > kScramMaxIterations) {
    return Fail(InvalidArgumentError("iteration count out of range"));
  }

  DerivedKeys keys;
  if (!DeriveKeys(password_, *salt, *iterations, keys)) {
    return Fail(InternalError("SCRAM key derivation failed"));
  }
  Cleanse(password_);
  std::string without_proof = "c=" + Base64Encode("n,,") + ",r=";
  without_proof.append(*nonce);
  std::string auth_message = client_first_bare_;
  auth_message.push_back(',');
  auth_message.append(message);
  auth_message.push_back(',');
  auth_message.append(without_proof);

  Key client_signature;
  Key server_signature;
  if (!HmacSha256(keys.stored_key.view(), auth_message, client_signature) ||
      !HmacSha256(keys.server_key.view(), auth_message, server_signature)) {
    return Fail(InternalError("HMAC failed"));
  }
  const std::string proof = Xor(keys.client_key.view(), client_signature.view());
  expected_server_signature_.assign(server_signature.view());
  state_ = State::kWaitServerFinal;
  return without_proof + ",p=" + Base64Encode(proof);
}

Status ScramClient::VerifyServerFinal(std::string_view message) {
  if (state_ != State::kWaitServerFinal) {
    return Fail(FailedPreconditionError("server-final-message out of order"));
  }
  if (message.size() > kScramMaxMessageSize) {
    return Fail(InvalidArgumentError("server-final-message too long"));
  }
  // server-final-message = (server-error / verifier) ["," extensions]
  const std::vector<std::string_view> attributes = SplitAttributes(message);
  if (!AllExtensions(attributes, 1)) {
    return Fail(InvalidArgumentError("malformed server-final-message"));
  }
  if (const std::optional<std::string_view> error = AttributeValue(attributes[0], 'e')) {
    return Fail(UnauthenticatedError("server error: " + std::string(*error)));
  }
  const std::optional<std::string_view> verifier = AttributeValue(attributes[0], 'v');
  if (!verifier) return Fail(InvalidArgumentError("malformed server-final-message"));
  const std::optional<std::string> signature = Base64Decode(*verifier);
  if (!signature || signature->size() != kScramKeySize) {
    return Fail(InvalidArgumentError("bad server signature encoding"));
  }
  if (CRYPTO_memcmp(signature->data(), expected_server_signature_.data(), kScramKeySize) != 0) {
    return Fail(UnauthenticatedError("wrong server signature"));
  }
  state_ = State::kDone;
  return Status::Ok();
}

}  // namespace common
