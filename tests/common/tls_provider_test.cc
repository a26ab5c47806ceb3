// TlsProvider: which certificate a real TLS client gets (SNI: exact, wildcard, newest as the
// fallback), store certificates replacing the node's file and going back to it, the file
// replaced on disk, and a broken replacement that keeps the previous certificate. Also the
// certificate reading that Import-ExchangeCertificate relies on.
#include "common/tls_provider.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/certificate.h"
#include "common/stream.h"
#include "common/tls.h"

namespace common {
namespace {

std::string Sha1Hex(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(cert, EVP_sha1(), md, &len);
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kDigits[md[i] >> 4]);
    out.push_back(kDigits[md[i] & 15]);
  }
  return out;
}

// Connects a TLS client that asks for `server_name` (none when empty) to a server using
// `server_tls`, and returns the thumbprint of the certificate it was shown.
std::string ServedThumbprint(const std::shared_ptr<asio::ssl::context>& server_tls,
                             const std::string& server_name) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = static_cast<unsigned short>(acceptor.local_endpoint().port());
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto sock = co_await acceptor.async_accept(asio::use_awaitable);
        Stream s(std::move(sock), server_tls);
        boost::system::error_code ec;
        co_await s.Handshake(std::chrono::seconds(5), ec);
      },
      asio::detached);
  std::thread server([&] { io.run(); });
  auto client_ctx = MakeClientTlsContext(false);
  asio::io_context cio;
  asio::ssl::stream<asio::ip::tcp::socket> tls(cio, *client_ctx);
  tls.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
  if (!server_name.empty()) SSL_set_tlsext_host_name(tls.native_handle(), server_name.c_str());
  boost::system::error_code ec;
  tls.handshake(asio::ssl::stream_base::client, ec);
  std::string thumbprint;
  if (!ec) {
    X509* peer = SSL_get1_peer_certificate(tls.native_handle());
    if (peer != nullptr) {
      thumbprint = Sha1Hex(peer);
      X509_free(peer);
    }
  }
  server.join();
  return thumbprint;
}

class TlsProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tlsprovidertest." + std::to_string(::getpid()) + "." +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    files_.certificate_chain = (dir_ / "cert.pem").string();
    files_.private_key = (dir_ / "key.pem").string();
    bool created = false;
    ASSERT_TRUE(EnsureSelfSignedCertificate(files_, "node.example.test", &created).ok());
    auto info = InspectCertificate(Read(files_.certificate_chain));
    ASSERT_TRUE(info.ok());
    file_thumbprint_ = info->thumbprint;
    auto p = TlsProvider::Create({files_.certificate_chain, files_.private_key, "test"});
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    provider_ = *p;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // Writes in place (same inode) and dates the file a second after the last write, as a
  // later edit would be: the file system's clock ticks too coarsely for writes this close.
  void Write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
    std::filesystem::last_write_time(
        path, std::filesystem::file_time_type::clock::now() + std::chrono::seconds(++writes_));
  }

  static ServedCertificate Make(const std::vector<std::string>& names, int64_t not_before) {
    auto made = MakeSelfSignedCertificate("CN=" + names.front(), names, 30);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    ServedCertificate c;
    c.thumbprint = made->info.thumbprint;
    c.chain_pem = made->chain_pem;
    c.private_key_pem = made->private_key_pem;
    c.names = made->info.domains;
    c.not_before_unix = not_before;
    return c;
  }

  std::filesystem::path dir_;
  TlsFiles files_;
  std::string file_thumbprint_;
  std::shared_ptr<TlsProvider> provider_;
  int writes_ = 0;
};

TEST_F(TlsProviderTest, ServesTheNodeFileUntilStoreCertificatesAreEnabled) {
  EXPECT_EQ(ServedThumbprint(provider_->context(), ""), file_thumbprint_);
  EXPECT_EQ(ServedThumbprint(provider_->context(), "mail.example.test"), file_thumbprint_);
  ServedCertificate a = Make({"mail.example.test"}, 1000);
  provider_->SetCertificates({a});
  EXPECT_EQ(ServedThumbprint(provider_->context(), "mail.example.test"), a.thumbprint);
  // A client that names another host, or none, gets the only enabled certificate.
  EXPECT_EQ(ServedThumbprint(provider_->context(), "other.example.test"), a.thumbprint);
  EXPECT_EQ(ServedThumbprint(provider_->context(), ""), a.thumbprint);
  provider_->SetCertificates({});
  EXPECT_EQ(ServedThumbprint(provider_->context(), "mail.example.test"), file_thumbprint_);
}

TEST_F(TlsProviderTest, SniPicksExactThenWildcardThenNewest) {
  ServedCertificate imap = Make({"imap.example.test"}, 1000);
  ServedCertificate wild = Make({"*.example.test"}, 3000);
  ServedCertificate pop = Make({"pop.example.test", "pop3.example.test"}, 2000);
  provider_->SetCertificates({imap, wild, pop});
  // An exact name beats a newer wildcard.
  EXPECT_EQ(ServedThumbprint(provider_->context(), "imap.example.test"), imap.thumbprint);
  EXPECT_EQ(ServedThumbprint(provider_->context(), "POP3.Example.Test"), pop.thumbprint);
  EXPECT_EQ(provider_->Select("pop.example.test"), pop.thumbprint);
  // The wildcard covers one label only.
  EXPECT_EQ(ServedThumbprint(provider_->context(), "smtp.example.test"), wild.thumbprint);
  EXPECT_EQ(provider_->Select("a.b.example.test"), wild.thumbprint);  // Newest: fallback.
  // No name or an unknown name: the most recent (latest NotBefore).
  EXPECT_EQ(ServedThumbprint(provider_->context(), ""), wild.thumbprint);
  provider_->SetCertificates({imap, pop});
  EXPECT_EQ(ServedThumbprint(provider_->context(), "unknown.test"), pop.thumbprint);
  EXPECT_EQ(provider_->Select(""), pop.thumbprint);
  // Alike in age: the one the store added last.
  ServedCertificate first = Make({"first.example.test"}, 5000);
  ServedCertificate second = Make({"second.example.test"}, 5000);
  provider_->SetCertificates({first, second});
  EXPECT_EQ(provider_->Select(""), second.thumbprint);
  EXPECT_EQ(provider_->Select("first.example.test"), first.thumbprint);
}

TEST_F(TlsProviderTest, ABrokenStoreCertificateIsLeftOut) {
  ServedCertificate good = Make({"mail.example.test"}, 1000);
  ServedCertificate other = Make({"other.example.test"}, 2000);
  ServedCertificate broken = other;
  broken.private_key_pem = good.private_key_pem;  // Not its key.
  provider_->SetCertificates({good, broken});
  EXPECT_EQ(ServedThumbprint(provider_->context(), "other.example.test"), good.thumbprint);
}

TEST_F(TlsProviderTest, FileReplacedOnDiskServesTheNextHandshake) {
  TlsFiles next{(dir_ / "next-cert.pem").string(), (dir_ / "next-key.pem").string()};
  bool created = false;
  ASSERT_TRUE(EnsureSelfSignedCertificate(next, "node2.example.test", &created).ok());
  const std::string next_thumbprint = InspectCertificate(Read(next.certificate_chain))->thumbprint;
  ASSERT_NE(next_thumbprint, file_thumbprint_);
  const std::string old_cert = Read(files_.certificate_chain);
  const std::string old_key = Read(files_.private_key);

  // Half-written: the new certificate with the old key is refused, the old pair keeps serving.
  Write(files_.certificate_chain, Read(next.certificate_chain));
  provider_->CheckFiles();
  EXPECT_EQ(ServedThumbprint(provider_->context(), ""), file_thumbprint_);
  // Then the key arrives: the new pair serves.
  Write(files_.private_key, Read(next.private_key));
  provider_->CheckFiles();
  EXPECT_EQ(ServedThumbprint(provider_->context(), ""), next_thumbprint);

  // A file that is not a certificate at all keeps the last good one.
  Write(files_.certificate_chain, "-----BEGIN CERTIFICATE-----\ngarbage\n");
  provider_->CheckFiles();
  EXPECT_EQ(ServedThumbprint(provider_->context(), ""), next_thumbprint);
  // Putting the first pair back (rename over the file, as editors and certbot do) works.
  Write(files_.private_key, old_key);
  Write(files_.certificate_chain + ".new", old_cert);
  std::filesystem::rename(files_.certificate_chain + ".new", files_.certificate_chain);
  provider_->CheckFiles();
  EXPECT_EQ(ServedThumbprint(provider_->context(), ""), file_thumbprint_);
}

TEST_F(TlsProviderTest, HandshakesLookAtTheFilesAtMostOncePerInterval) {
  auto p = TlsProvider::Create(
      {files_.certificate_chain, files_.private_key, "test", std::chrono::milliseconds(200)});
  ASSERT_TRUE(p.ok());
  TlsFiles next{(dir_ / "next-cert.pem").string(), (dir_ / "next-key.pem").string()};
  bool created = false;
  ASSERT_TRUE(EnsureSelfSignedCertificate(next, "node2.example.test", &created).ok());
  const std::string next_thumbprint = InspectCertificate(Read(next.certificate_chain))->thumbprint;
  std::filesystem::copy_file(next.private_key, files_.private_key,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(next.certificate_chain, files_.certificate_chain,
                             std::filesystem::copy_options::overwrite_existing);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_EQ(ServedThumbprint((*p)->context(), ""), next_thumbprint);
}

TEST_F(TlsProviderTest, ContextKeepsTheProviderAlive) {
  std::shared_ptr<asio::ssl::context> ctx = provider_->context();
  provider_->SetCertificates({Make({"mail.example.test"}, 1000)});
  const std::string expected = provider_->Select("");
  provider_.reset();
  EXPECT_EQ(ServedThumbprint(ctx, "mail.example.test"), expected);
}

TEST(CertificateTest, NameMatching) {
  EXPECT_TRUE(CertificateNameMatches("mail.example.test", "MAIL.example.test"));
  EXPECT_TRUE(CertificateNameMatches("mail.example.test", "mail.example.test."));
  EXPECT_TRUE(CertificateNameMatches("*.example.test", "imap.example.test"));
  EXPECT_FALSE(CertificateNameMatches("*.example.test", "example.test"));
  EXPECT_FALSE(CertificateNameMatches("*.example.test", "a.b.example.test"));
  EXPECT_FALSE(CertificateNameMatches("*.example.test", "imap.example.testing"));
  EXPECT_FALSE(CertificateNameMatches("mail.example.test", "mail2.example.test"));
  EXPECT_FALSE(CertificateNameMatches("", "mail.example.test"));
  EXPECT_TRUE(IsValidCertificateDomain("*.example.test"));
  EXPECT_FALSE(IsValidCertificateDomain("a..test"));
  EXPECT_FALSE(IsValidCertificateDomain("bad name.test"));
  EXPECT_EQ(NormalizeThumbprint("ab:cd ef"), "ABCDEF");
}

TEST(CertificateTest, ReadRefusesAWrongKeyAnExpiredCertificateAndNoKey) {
  auto a = MakeSelfSignedCertificate("CN=a.example.test, O=Example", {"a.example.test"}, 30);
  auto b = MakeSelfSignedCertificate("CN=b.example.test", {"b.example.test"}, 30);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->info.subject, "CN=a.example.test, O=Example");
  EXPECT_TRUE(a->info.self_signed);
  EXPECT_EQ(a->info.public_key, "ECDSA P-256");
  EXPECT_EQ(a->info.thumbprint.size(), 40u);
  const int64_t now = static_cast<int64_t>(std::time(nullptr));

  auto ok = ReadCertificateAndKey(a->chain_pem, a->private_key_pem, now);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->info.thumbprint, a->info.thumbprint);
  EXPECT_EQ(ok->info.domains, std::vector<std::string>{"a.example.test"});
  // Both in one file.
  EXPECT_TRUE(ReadCertificateAndKey(a->chain_pem + a->private_key_pem, "", now).ok());

  auto wrong = ReadCertificateAndKey(a->chain_pem, b->private_key_pem, now);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(), "the private key does not match the certificate");
  auto none = ReadCertificateAndKey(a->chain_pem, "", now);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no private key"), std::string::npos);
  auto expired = ReadCertificateAndKey(a->chain_pem, a->private_key_pem, now + 31 * 86400);
  ASSERT_FALSE(expired.ok());
  EXPECT_NE(expired.status().message().find("expired"), std::string::npos);
  auto garbage = ReadCertificateAndKey("hello", "", now);
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.status().message().find("no PEM certificate"), std::string::npos);
}

}  // namespace
}  // namespace common
