#include "common/scram.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <cstddef>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include "common/base64.h"

namespace common {
namespace {

// RFC 7677 section 3.
constexpr char kUser[] = "user";
constexpr char kPassword[] = "pencil";
constexpr char kClientNonce[] = "rOprNGfwEbeRWgbNEkqO";
constexpr char kServerNonce[] = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr char kSaltBase64[] = "W22ZaJ0SNY7soEsUEjb6gQ==";
constexpr char kClientFirst[] = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr char kServerFirst[] =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr char kClientFinal[] =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr char kServerFinal[] = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
constexpr char kFullNonce[] = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";

std::string Rfc7677Salt() { return Base64Decode(kSaltBase64).value(); }

// Computed once: the fuzz loops start thousands of exchanges.
const ScramCredentials& Rfc7677Credentials() {
  static const ScramCredentials* const kCredentials = [] {
    StatusOr<ScramCredentials> credentials =
        MakeScramSha256Credentials(kPassword, 4096, Rfc7677Salt());
    MAIL_CHECK(credentials.ok());
    return new ScramCredentials(std::move(credentials).value());
  }();
  return *kCredentials;
}

// A server that has accepted the RFC 7677 client-first and sent its server-first.
void StartRfc7677Server(ScramServer& server) {
  ASSERT_TRUE(server.HandleClientFirst(kClientFirst).ok());
  server.SetServerNonceForTesting(kServerNonce);
  ASSERT_TRUE(server.StartWithCredentials(Rfc7677Credentials()).ok());
}

// Independent client-side proof computation straight from RFC 5802 section 3, for GS2
// headers that ScramClient does not send ("y,,", "n,a=user,").
std::string ClientProof(std::string_view password, std::string_view salt, int iterations,
                        std::string_view auth_message) {
  unsigned char salted[32];
  EXPECT_EQ(PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                              reinterpret_cast<const unsigned char*>(salt.data()),
                              static_cast<int>(salt.size()), iterations, EVP_sha256(), 32, salted),
            1);
  unsigned char client_key[32];
  unsigned char stored_key[32];
  unsigned char signature[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), salted, 32, reinterpret_cast<const unsigned char*>("Client Key"), 10,
       client_key, &len);
  SHA256(client_key, 32, stored_key);
  HMAC(EVP_sha256(), stored_key, 32, reinterpret_cast<const unsigned char*>(auth_message.data()),
       auth_message.size(), signature, &len);
  std::string proof(32, '\0');
  for (int i = 0; i < 32; ++i) proof[i] = static_cast<char>(client_key[i] ^ signature[i]);
  return Base64Encode(proof);
}

// Runs a full exchange with a GS2 header of the test's choosing and returns the result of
// HandleClientFinal.
StatusOr<std::string> ExchangeWithHeader(const std::string& gs2_header, std::string_view password) {
  const std::string bare = std::string("n=user,r=") + kClientNonce;
  ScramServer server;
  StatusOr<std::string> user = server.HandleClientFirst(gs2_header + bare);
  if (!user.ok()) return user.status();
  server.SetServerNonceForTesting(kServerNonce);
  StatusOr<std::string> server_first = server.StartWithCredentials(Rfc7677Credentials());
  if (!server_first.ok()) return server_first.status();
  const std::string without_proof =
      "c=" + Base64Encode(gs2_header) + ",r=" + std::string(kFullNonce);
  const std::string auth_message = bare + "," + *server_first + "," + without_proof;
  return server.HandleClientFinal(without_proof +
                                  ",p=" + ClientProof(password, Rfc7677Salt(), 4096, auth_message));
}

// Runs ScramClient against ScramServer with random nonces.
struct ExchangeResult {
  Status server_status;
  Status client_status;
};

ExchangeResult Exchange(const std::string& user, const std::string& password,
                        const ScramCredentials& credentials) {
  ExchangeResult result;
  ScramClient client(user, password);
  ScramServer server;
  StatusOr<std::string> client_first = client.ClientFirst();
  EXPECT_TRUE(client_first.ok()) << client_first.status().ToString();
  StatusOr<std::string> parsed_user = server.HandleClientFirst(*client_first);
  EXPECT_TRUE(parsed_user.ok()) << parsed_user.status().ToString();
  EXPECT_EQ(server.username(), user);
  StatusOr<std::string> server_first = server.StartWithCredentials(credentials);
  EXPECT_TRUE(server_first.ok()) << server_first.status().ToString();
  StatusOr<std::string> client_final = client.HandleServerFirst(*server_first);
  EXPECT_TRUE(client_final.ok()) << client_final.status().ToString();
  StatusOr<std::string> server_final = server.HandleClientFinal(*client_final);
  result.server_status = server_final.status();
  if (server_final.ok()) {
    EXPECT_TRUE(server.authenticated());
    result.client_status = client.VerifyServerFinal(*server_final);
  } else {
    EXPECT_FALSE(server.authenticated());
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// RFC 7677 test vector.

TEST(ScramServerTest, Rfc7677Vector) {
  ScramServer server;
  StatusOr<std::string> user = server.HandleClientFirst(kClientFirst);
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(*user, kUser);
  EXPECT_EQ(server.username(), kUser);

  server.SetServerNonceForTesting(kServerNonce);
  StatusOr<std::string> server_first = server.StartWithCredentials(Rfc7677Credentials());
  ASSERT_TRUE(server_first.ok()) << server_first.status().ToString();
  EXPECT_EQ(*server_first, kServerFirst);
  EXPECT_FALSE(server.authenticated());

  StatusOr<std::string> server_final = server.HandleClientFinal(kClientFinal);
  ASSERT_TRUE(server_final.ok()) << server_final.status().ToString();
  EXPECT_EQ(*server_final, kServerFinal);
  EXPECT_TRUE(server.authenticated());
}

TEST(ScramClientTest, Rfc7677Vector) {
  ScramClient client(kUser, kPassword);
  client.SetClientNonceForTesting(kClientNonce);
  StatusOr<std::string> client_first = client.ClientFirst();
  ASSERT_TRUE(client_first.ok()) << client_first.status().ToString();
  EXPECT_EQ(*client_first, kClientFirst);

  StatusOr<std::string> client_final = client.HandleServerFirst(kServerFirst);
  ASSERT_TRUE(client_final.ok()) << client_final.status().ToString();
  EXPECT_EQ(*client_final, kClientFinal);

  EXPECT_FALSE(client.authenticated());
  Status verified = client.VerifyServerFinal(kServerFinal);
  EXPECT_TRUE(verified.ok()) << verified.ToString();
  EXPECT_TRUE(client.authenticated());
}

TEST(ScramClientTest, RejectsWrongServerSignature) {
  ScramClient client(kUser, kPassword);
  client.SetClientNonceForTesting(kClientNonce);
  ASSERT_TRUE(client.ClientFirst().ok());
  ASSERT_TRUE(client.HandleServerFirst(kServerFirst).ok());
  // A valid-length signature that is not the server's.
  Status verified = client.VerifyServerFinal("v=" + Base64Encode(std::string(32, 'x')));
  EXPECT_EQ(verified.code(), StatusCode::kUnauthenticated);
  EXPECT_FALSE(client.authenticated());
}

TEST(ScramClientTest, ServerErrorIsUnauthenticated) {
  ScramClient client(kUser, kPassword);
  client.SetClientNonceForTesting(kClientNonce);
  ASSERT_TRUE(client.ClientFirst().ok());
  ASSERT_TRUE(client.HandleServerFirst(kServerFirst).ok());
  EXPECT_EQ(client.VerifyServerFinal("e=invalid-proof").code(), StatusCode::kUnauthenticated);
  EXPECT_FALSE(client.authenticated());
}

TEST(ScramClientTest, RejectsMalformedServerFirst) {
  const std::string bad[] = {
      "",
      "garbage",
      // Nonce does not start with the client nonce.
      "r=XXXXNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
      // Nonce equals the client nonce (no server part).
      "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
      // Iteration count too low, zero, not a number, too large.
      "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1",
      "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",
      "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-4096",
      "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999999",
      // Bad or empty salt.
      "r=rOprNGfwEbeRWgbNEkqOabc,s=W22Z!J0SNY7soEsUEjb6gQ==,i=4096",
      "r=rOprNGfwEbeRWgbNEkqOabc,s=,i=4096",
      // Missing attributes, wrong order, mandatory extension.
      "r=rOprNGfwEbeRWgbNEkqOabc,i=4096",
      "s=W22ZaJ0SNY7soEsUEjb6gQ==,r=rOprNGfwEbeRWgbNEkqOabc,i=4096",
      "m=x,r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
      "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," + std::string(5000, 'x'),
  };
  for (const std::string& message : bad) {
    ScramClient client(kUser, kPassword);
    client.SetClientNonceForTesting(kClientNonce);
    ASSERT_TRUE(client.ClientFirst().ok());
    StatusOr<std::string> result = client.HandleServerFirst(message);
    EXPECT_FALSE(result.ok()) << message;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << message;
  }
}

TEST(ScramClientTest, RejectsBadPasswordAndOrder) {
  EXPECT_EQ(ScramClient(kUser, "").ClientFirst().status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ScramClient(kUser, "a\tb").ClientFirst().status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ScramClient("", kPassword).ClientFirst().status().code(), StatusCode::kInvalidArgument);
  ScramClient client(kUser, kPassword);
  EXPECT_EQ(client.HandleServerFirst(kServerFirst).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(client.VerifyServerFinal(kServerFinal).code(), StatusCode::kFailedPrecondition);
}

// ---------------------------------------------------------------------------------------------
// Full exchanges with random nonces.

TEST(ScramExchangeTest, CorrectPasswordSucceedsBothWays) {
  StatusOr<ScramCredentials> credentials = MakeScramSha256Credentials("correct horse");
  ASSERT_TRUE(credentials.ok());
  ExchangeResult result = Exchange("alice", "correct horse", *credentials);
  EXPECT_TRUE(result.server_status.ok()) << result.server_status.ToString();
  EXPECT_TRUE(result.client_status.ok()) << result.client_status.ToString();
}

TEST(ScramExchangeTest, WrongPasswordFailsAtProof) {
  ExchangeResult result = Exchange(kUser, "pencil2", Rfc7677Credentials());
  EXPECT_EQ(result.server_status.code(), StatusCode::kUnauthenticated);
}

TEST(ScramExchangeTest, UserNameWithCommaAndEquals) {
  StatusOr<ScramCredentials> credentials = MakeScramSha256Credentials("pw");
  ASSERT_TRUE(credentials.ok());
  ExchangeResult result = Exchange("a,b=c", "pw", *credentials);
  EXPECT_TRUE(result.server_status.ok()) << result.server_status.ToString();
  EXPECT_TRUE(result.client_status.ok());
}

TEST(ScramExchangeTest, Utf8UserAndPassword) {
  // "p<a-umlaut>sswort <euro sign> <key emoji>": 2-, 3- and 4-byte UTF-8 sequences.
  const std::string password = "p\xc3\xa4sswort \xe2\x82\xac \xf0\x9f\x94\x91";
  StatusOr<ScramCredentials> credentials = MakeScramSha256Credentials(password);
  ASSERT_TRUE(credentials.ok()) << credentials.status().ToString();
  ExchangeResult result = Exchange("j\xc3\xbcrgen", password, *credentials);
  EXPECT_TRUE(result.server_status.ok()) << result.server_status.ToString();
  EXPECT_TRUE(result.client_status.ok());
}

TEST(ScramExchangeTest, UnknownUserFailsOnlyAtProof) {
  const std::string secret(32, 's');
  // Every step up to the proof succeeds, as for a real user with a wrong password.
  ExchangeResult result = Exchange("nobody", "guess", FakeScramCredentials("nobody", secret));
  EXPECT_EQ(result.server_status.code(), StatusCode::kUnauthenticated);
}

TEST(ScramExchangeTest, YFlagUsesItsOwnChannelBinding) {
  StatusOr<std::string> result = ExchangeWithHeader("y,,", kPassword);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(Base64Encode("y,,"), "eSws");
  // The "n" flag's binding is not accepted for a "y" header.
  ScramServer server;
  ASSERT_TRUE(server.HandleClientFirst(std::string("y,,n=user,r=") + kClientNonce).ok());
  server.SetServerNonceForTesting(kServerNonce);
  ASSERT_TRUE(server.StartWithCredentials(Rfc7677Credentials()).ok());
  EXPECT_EQ(server.HandleClientFinal(kClientFinal).status().code(), StatusCode::kInvalidArgument);
}

TEST(ScramExchangeTest, AuthzidEqualToUserIsAccepted) {
  StatusOr<std::string> result = ExchangeWithHeader("n,a=user,", kPassword);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(ExchangeWithHeader("n,a=user,", "wrong").status().code(), StatusCode::kUnauthenticated);
}

TEST(ScramExchangeTest, EmptyAuthzidIsAccepted) {
  StatusOr<std::string> result = ExchangeWithHeader("n,a=,", kPassword);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
}

TEST(ScramExchangeTest, AuthzidOfAnotherUserIsRefused) {
  ScramServer server;
  StatusOr<std::string> result = server.HandleClientFirst("n,a=admin,n=user,r=abc");
  EXPECT_EQ(result.status().code(), StatusCode::kPermissionDenied);
}

// ---------------------------------------------------------------------------------------------
// Credentials.

TEST(ScramCredentialsTest, VerifyPlainPassword) {
  const ScramCredentials& credentials = Rfc7677Credentials();
  EXPECT_EQ(credentials.iterations, 4096u);
  EXPECT_EQ(credentials.salt, Rfc7677Salt());
  EXPECT_EQ(credentials.stored_key.size(), kScramKeySize);
  EXPECT_EQ(credentials.server_key.size(), kScramKeySize);
  EXPECT_TRUE(VerifyPlainPassword(credentials, "pencil"));
  EXPECT_FALSE(VerifyPlainPassword(credentials, "pencil2"));
  EXPECT_FALSE(VerifyPlainPassword(credentials, "Pencil"));
  EXPECT_FALSE(VerifyPlainPassword(credentials, ""));
  EXPECT_FALSE(VerifyPlainPassword(credentials, std::string("pencil\0", 7)));
  EXPECT_FALSE(VerifyPlainPassword(credentials, std::string(5000, 'a')));
}

TEST(ScramCredentialsTest, MalformedCredentialsNeverVerify) {
  const ScramCredentials& credentials = Rfc7677Credentials();
  ScramCredentials no_iterations = credentials;
  no_iterations.iterations = 0;
  EXPECT_FALSE(VerifyPlainPassword(no_iterations, "pencil"));
  ScramCredentials short_key = credentials;
  short_key.stored_key.resize(31);
  EXPECT_FALSE(VerifyPlainPassword(short_key, "pencil"));
  ScramCredentials no_salt = credentials;
  no_salt.salt.clear();
  EXPECT_FALSE(VerifyPlainPassword(no_salt, "pencil"));
  EXPECT_FALSE(VerifyPlainPassword(ScramCredentials{}, "pencil"));

  ScramServer server;
  ASSERT_TRUE(server.HandleClientFirst(kClientFirst).ok());
  EXPECT_EQ(server.StartWithCredentials(short_key).status().code(), StatusCode::kInvalidArgument);
}

TEST(ScramCredentialsTest, RandomSaltsDifferButBothVerify) {
  StatusOr<ScramCredentials> a = MakeScramSha256Credentials("secret");
  StatusOr<ScramCredentials> b = MakeScramSha256Credentials("secret");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->salt.size(), kScramSaltSize);
  EXPECT_EQ(a->iterations, kScramDefaultIterations);
  EXPECT_NE(a->salt, b->salt);
  EXPECT_NE(a->stored_key, b->stored_key);
  EXPECT_NE(a->server_key, b->server_key);
  EXPECT_TRUE(VerifyPlainPassword(*a, "secret"));
  EXPECT_TRUE(VerifyPlainPassword(*b, "secret"));
  EXPECT_FALSE(VerifyPlainPassword(*a, "Secret"));
}

TEST(ScramCredentialsTest, HigherIterationCount) {
  StatusOr<ScramCredentials> credentials = MakeScramSha256Credentials("secret", 10000);
  ASSERT_TRUE(credentials.ok());
  EXPECT_EQ(credentials->iterations, 10000u);
  EXPECT_TRUE(VerifyPlainPassword(*credentials, "secret"));
  ExchangeResult result = Exchange("bob", "secret", *credentials);
  EXPECT_TRUE(result.server_status.ok());
  EXPECT_TRUE(result.client_status.ok());
}

TEST(ScramCredentialsTest, RejectsBadPasswordsAndParameters) {
  const std::string bad_passwords[] = {
      "",
      std::string("a\0b", 3),  // NUL.
      "tab\there",             // C0 control.
      "line\nbreak",           // C0 control.
      "del\x7f",               // DEL.
      "nel\xc2\x85",           // C1 control U+0085.
      "\xff\xfe",              // Not UTF-8.
      "\xc0\xaf",              // Overlong '/'.
      "\xed\xa0\x80",          // UTF-16 surrogate.
      "\xf4\x90\x80\x80",      // Above U+10FFFF.
      "truncated\xe2\x82",     // Truncated sequence.
      std::string(kScramMaxPasswordSize + 1, 'a'),
  };
  for (const std::string& password : bad_passwords) {
    EXPECT_EQ(MakeScramSha256Credentials(password).status().code(), StatusCode::kInvalidArgument)
        << password;
  }
  EXPECT_EQ(MakeScramSha256Credentials("ok", 4095).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeScramSha256Credentials("ok", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeScramSha256Credentials("ok", kScramMaxIterations + 1).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeScramSha256Credentials("ok", 4096, std::string(kScramMaxSaltSize + 1, 's'))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  // Spaces and non-ASCII text pass through unchanged.
  EXPECT_TRUE(MakeScramSha256Credentials("a b\xc2\xa0\xe2\x80\x8d").ok());
}

TEST(ScramCredentialsTest, FakeCredentialsAreDeterministicPerUser) {
  const std::string secret = "0123456789abcdef0123456789abcdef";
  const ScramCredentials a1 = FakeScramCredentials("ghost", secret);
  const ScramCredentials a2 = FakeScramCredentials("ghost", secret);
  const ScramCredentials b = FakeScramCredentials("phantom", secret);
  const ScramCredentials other_secret = FakeScramCredentials("ghost", "another secret");
  EXPECT_EQ(a1.salt, a2.salt);
  EXPECT_EQ(a1.stored_key, a2.stored_key);
  EXPECT_EQ(a1.server_key, a2.server_key);
  EXPECT_EQ(a1.iterations, kScramDefaultIterations);
  EXPECT_EQ(a1.salt.size(), kScramSaltSize);
  EXPECT_EQ(a1.stored_key.size(), kScramKeySize);
  EXPECT_EQ(a1.server_key.size(), kScramKeySize);
  EXPECT_NE(a1.salt, b.salt);
  EXPECT_NE(a1.salt, other_secret.salt);
  EXPECT_NE(a1.stored_key, a1.server_key);
  EXPECT_EQ(FakeScramCredentials("ghost", secret, 8192).iterations, 8192u);
  // Looks like a real verifier to the server, and no password matches it.
  ScramServer server;
  ASSERT_TRUE(server.HandleClientFirst("n,,n=ghost,r=abc").ok());
  EXPECT_TRUE(server.StartWithCredentials(a1).ok());
  EXPECT_FALSE(VerifyPlainPassword(a1, ""));
  EXPECT_FALSE(VerifyPlainPassword(a1, "ghost"));
  EXPECT_FALSE(VerifyPlainPassword(a1, secret));
}

// ---------------------------------------------------------------------------------------------
// Malformed client messages.

TEST(ScramServerTest, UsernameDecoding) {
  ScramServer server;
  StatusOr<std::string> user = server.HandleClientFirst("n,,n=a=2Cb=3Dc,r=abc");
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(server.username(), "a,b=c");
}

TEST(ScramServerTest, IgnoresExtensions) {
  ScramServer server;
  EXPECT_TRUE(server.HandleClientFirst("n,,n=user,r=abc,x=whatever").ok());
}

TEST(ScramServerTest, RejectsMalformedClientFirst) {
  const std::string bad[] = {
      "",
      "garbage",
      "n",
      "n,",
      "n,,",
      "n,,n=user",           // Missing r=.
      "n,,r=abc",            // Missing n=.
      "n,,r=abc,n=user",     // Wrong order.
      "n,,n=user,r=",        // Empty nonce.
      "n,,n=user,r=a b",     // Space in nonce.
      "n,,n=user,r=ab\x7f",  // DEL in nonce.
      "n,,n=,r=abc",         // Empty user.
      "n,,n=us\x01"
      "er,r=abc",  // Control character in user.
      "n,,n=us\xff"
      "er,r=abc",                    // Not UTF-8.
      "n,,n=a=2X,r=abc",             // Bad escape.
      "n,,n=a=,r=abc",               // Truncated escape.
      "n,,n=a=2,r=abc",              // Truncated escape.
      "n,,n=user,r=abc,1=x",         // Bad extension.
      "n,,n=user,r=abc,",            // Trailing comma.
      "n,,m=ext,n=user,r=abc",       // Mandatory extension.
      "p=tls-unique,,n=user,r=abc",  // Channel binding.
      "p=tls-server-end-point,,n=user,r=abc",
      "x,,n=user,r=abc",  // Unknown GS2 flag.
      "nn,,n=user,r=abc",
      "n,n=user,r=abc",            // Missing authzid separator.
      "n,b=user,n=user,r=abc",     // Not an authzid.
      "n,a=us=ZZer,n=user,r=abc",  // Bad authzid escape.
      ",,n=user,r=abc",
      std::string("n,,n=user,r=abc\0", 16),
      "n,,n=user,r=" + std::string(kScramMaxMessageSize, 'a'),  // Oversized.
  };
  for (const std::string& message : bad) {
    ScramServer server;
    StatusOr<std::string> result = server.HandleClientFirst(message);
    EXPECT_FALSE(result.ok()) << message;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << message;
    EXPECT_TRUE(server.username().empty());
    // A failed exchange stays failed.
    EXPECT_EQ(server.HandleClientFirst(kClientFirst).status().code(),
              StatusCode::kFailedPrecondition);
  }
}

TEST(ScramServerTest, RejectsMalformedClientFinal) {
  const std::string nonce = kFullNonce;
  const std::string proof = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  const std::string bad[] = {
      "",
      "garbage",
      "c=biws,r=" + nonce,                                            // Missing proof.
      "c=biws," + proof,                                              // Missing nonce.
      "r=" + nonce + "," + proof,                                     // Missing channel binding.
      "r=" + nonce + ",c=biws," + proof,                              // Wrong order.
      "c=biws,r=" + nonce + "x," + proof,                             // Nonce mismatch (longer).
      "c=biws,r=" + nonce.substr(0, nonce.size() - 1) + "," + proof,  // Shorter.
      "c=biws,r=rOprNGfwEbeRWgbNEkqO," + proof,                       // Client nonce only.
      "c=biws,r=XOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," + proof,
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k1," + proof,  // Server part.
      "c=cD10bHMtdW5pcXVlLCw=,r=" + nonce + "," + proof,  // "p=tls-unique,," binding.
      "c=eSws,r=" + nonce + "," + proof,                  // "y,," binding for an "n" header.
      "c=biws=,r=" + nonce + "," + proof,                 // Bad base64 binding.
      "c=,r=" + nonce + "," + proof,
      "c=biws,r=" + nonce + ",p=!!!!",                                         // Bad base64 proof.
      "c=biws,r=" + nonce + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ",  // No padding.
      "c=biws,r=" + nonce + ",p=AAAA",                                         // Proof too short.
      "c=biws,r=" + nonce + ",p=" + Base64Encode(std::string(33, 'a')),        // Too long.
      "c=biws,r=" + nonce + ",p=",
      "c=biws,r=" + nonce + "," + proof + ",x=trailing",  // Proof not last.
      "c=biws,r=" + nonce + ",1=x," + proof,              // Bad extension.
      "c=biws,r=" + nonce + "," + proof + std::string(kScramMaxMessageSize, 'A'),  // Oversized.
  };
  for (const std::string& message : bad) {
    ScramServer server;
    StartRfc7677Server(server);
    StatusOr<std::string> result = server.HandleClientFinal(message);
    EXPECT_FALSE(result.ok()) << message;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << message;
    EXPECT_FALSE(server.authenticated());
    // The correct message is refused once the exchange has failed.
    EXPECT_EQ(server.HandleClientFinal(kClientFinal).status().code(),
              StatusCode::kFailedPrecondition);
  }
}

TEST(ScramServerTest, ReplayAgainstAnotherServerNonceFails) {
  // The genuine RFC client-final, replayed to a server that chose a different nonce.
  ScramServer server;
  ASSERT_TRUE(server.HandleClientFirst(kClientFirst).ok());
  server.SetServerNonceForTesting("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k1");
  ASSERT_TRUE(server.StartWithCredentials(Rfc7677Credentials()).ok());
  EXPECT_FALSE(server.HandleClientFinal(kClientFinal).ok());
  EXPECT_FALSE(server.authenticated());
}

TEST(ScramServerTest, WrongProofIsUnauthenticated) {
  ScramServer server;
  StartRfc7677Server(server);
  StatusOr<std::string> result = server.HandleClientFinal(
      "c=biws,r=" + std::string(kFullNonce) + ",p=" + Base64Encode(std::string(32, '\0')));
  EXPECT_EQ(result.status().code(), StatusCode::kUnauthenticated);
  EXPECT_FALSE(server.authenticated());
}

TEST(ScramServerTest, ExtensionInClientFinalIsCoveredByProof) {
  // The extension becomes part of AuthMessage, so the RFC proof no longer matches.
  ScramServer server;
  StartRfc7677Server(server);
  StatusOr<std::string> result =
      server.HandleClientFinal("c=biws,r=" + std::string(kFullNonce) +
                               ",x=ext,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  EXPECT_EQ(result.status().code(), StatusCode::kUnauthenticated);
}

TEST(ScramServerTest, CallsOutOfOrder) {
  {
    ScramServer server;
    EXPECT_EQ(server.StartWithCredentials(Rfc7677Credentials()).status().code(),
              StatusCode::kFailedPrecondition);
  }
  {
    ScramServer server;
    EXPECT_EQ(server.HandleClientFinal(kClientFinal).status().code(),
              StatusCode::kFailedPrecondition);
  }
  {
    ScramServer server;
    ASSERT_TRUE(server.HandleClientFirst(kClientFirst).ok());
    EXPECT_EQ(server.HandleClientFinal(kClientFinal).status().code(),
              StatusCode::kFailedPrecondition);
  }
  {
    ScramServer server;
    StartRfc7677Server(server);
    ASSERT_TRUE(server.HandleClientFinal(kClientFinal).ok());
    // No replay after success.
    EXPECT_EQ(server.HandleClientFinal(kClientFinal).status().code(),
              StatusCode::kFailedPrecondition);
  }
  {
    ScramServer server;
    ASSERT_TRUE(server.HandleClientFirst(kClientFirst).ok());
    server.SetServerNonceForTesting("bad,nonce");
    EXPECT_EQ(server.StartWithCredentials(Rfc7677Credentials()).status().code(),
              StatusCode::kFailedPrecondition);
  }
}

TEST(ScramServerTest, RandomServerNoncesDiffer) {
  ScramServer a;
  ScramServer b;
  ASSERT_TRUE(a.HandleClientFirst(kClientFirst).ok());
  ASSERT_TRUE(b.HandleClientFirst(kClientFirst).ok());
  StatusOr<std::string> first_a = a.StartWithCredentials(Rfc7677Credentials());
  StatusOr<std::string> first_b = b.StartWithCredentials(Rfc7677Credentials());
  ASSERT_TRUE(first_a.ok() && first_b.ok());
  EXPECT_NE(*first_a, *first_b);
  EXPECT_EQ(first_a->rfind(std::string("r=") + kClientNonce, 0), 0u);
}

// ---------------------------------------------------------------------------------------------
// Random input: no crash, and nothing but the genuine message authenticates.

std::string RandomBytes(std::mt19937& rng, size_t max_len) {
  std::string s(rng() % (max_len + 1), '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

std::string Mutate(std::mt19937& rng, std::string s) {
  const int edits = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < edits; ++i) {
    switch (rng() % 3) {
      case 0:  // Replace a byte.
        if (!s.empty()) s[rng() % s.size()] = static_cast<char>(rng() & 0xff);
        break;
      case 1:  // Delete a byte.
        if (!s.empty()) s.erase(rng() % s.size(), 1);
        break;
      default:  // Insert a byte, often a delimiter.
        const char delimiters[] = {',', '=', 'n', 'r', 'p', 'c', 'a', '\0'};
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(rng() % (s.size() + 1)),
                 delimiters[rng() % sizeof(delimiters)]);
        break;
    }
  }
  return s;
}

TEST(ScramFuzzTest, RandomClientFirstNeverCrashes) {
  std::mt19937 rng(12345);
  int accepted = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string input = i % 2 == 0 ? RandomBytes(rng, 200) : Mutate(rng, kClientFirst);
    ScramServer server;
    StatusOr<std::string> result = server.HandleClientFirst(input);
    if (result.ok()) {
      ++accepted;
      EXPECT_EQ(*result, server.username());
      EXPECT_FALSE(server.username().empty());
    } else {
      EXPECT_TRUE(server.username().empty());
    }
  }
  EXPECT_GT(accepted, 0);  // Some mutations stay valid, so the success path was exercised.
}

TEST(ScramFuzzTest, RandomClientFinalNeverAuthenticates) {
  std::mt19937 rng(54321);
  for (int i = 0; i < 2000; ++i) {
    const std::string input = i % 2 == 0 ? RandomBytes(rng, 200) : Mutate(rng, kClientFinal);
    ScramServer server;
    StartRfc7677Server(server);
    StatusOr<std::string> result = server.HandleClientFinal(input);
    // Strict base64 and exact attribute checks leave no other accepted spelling.
    EXPECT_EQ(result.ok(), input == kClientFinal) << input;
    EXPECT_EQ(server.authenticated(), input == kClientFinal);
  }
}

TEST(ScramFuzzTest, RandomServerMessagesNeverCrashClient) {
  std::mt19937 rng(777);
  int reached_final = 0;
  for (int i = 0; i < 500; ++i) {
    ScramClient client(kUser, kPassword);
    client.SetClientNonceForTesting(kClientNonce);
    ASSERT_TRUE(client.ClientFirst().ok());
    // Keep the iteration count intact in most mutations so that some inputs reach PBKDF2.
    const std::string first = i % 2 == 0 ? RandomBytes(rng, 200) : Mutate(rng, kServerFirst);
    if (!client.HandleServerFirst(first).ok()) continue;
    ++reached_final;
    const std::string final_message =
        i % 4 == 1 ? RandomBytes(rng, 100) : Mutate(rng, kServerFinal);
    if (client.VerifyServerFinal(final_message).ok()) {
      // Only the genuine pair of server messages proves the server knows the verifier.
      EXPECT_EQ(first, kServerFirst);
      EXPECT_EQ(final_message, kServerFinal);
    }
  }
  EXPECT_GT(reached_final, 0);  // Some mutated server-first messages reached key derivation.
}

}  // namespace
}  // namespace common
