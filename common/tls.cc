#include "common/tls.h"


#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/logging.h"

namespace common {
namespace {

// TLS 1.2 suites: ECDHE with AEAD only. TLS 1.3 suites are OpenSSL's defaults (all AEAD).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

struct FileCloser {
  void operator()(FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};

}  // namespace

StatusOr<std::shared_ptr<asio::ssl::context>> MakeServerTlsContext(const TlsFiles& files) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* raw = ctx->native_handle();
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  SSL_CTX_set_options(raw, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  if (SSL_CTX_set_cipher_list(raw, kTls12Ciphers) != 1) {
    return InternalError("cipher list: " + OpenSslError());
  }
  if (SSL_CTX_use_certificate_chain_file(raw, files.certificate_chain.c_str()) != 1) {
    return InvalidArgumentError("cannot load certificate " + files.certificate_chain + ": " +
                                OpenSslError());
  }
  if (SSL_CTX_use_PrivateKey_file(raw, files.private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return InvalidArgumentError("cannot load private key " + files.private_key + ": " +
                                OpenSslError());
  }
  if (SSL_CTX_check_private_key(raw) != 1) {
    return InvalidArgumentError("private key does not match the certificate");
  }
  return ctx;
}

std::shared_ptr<asio::ssl::context> MakeClientTlsContext(bool verify) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  if (verify) {
    ctx->set_default_verify_paths();
    ctx->set_verify_mode(asio::ssl::verify_peer);
  } else {
    ctx->set_verify_mode(asio::ssl::verify_none);
  }
  return ctx;
}

Status EnsureSelfSignedCertificate(const TlsFiles& files, const std::string& host_name,
                                   bool* created) {
  *created = false;
  std::error_code ec;
  if (std::filesystem::exists(files.certificate_chain, ec) &&
      std::filesystem::exists(files.private_key, ec)) {
    return Status::Ok();
  }
  for (const std::string& p : {files.certificate_chain, files.private_key}) {
    auto parent = std::filesystem::path(p).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  }
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) return InternalError("key generation failed: " + OpenSslError());
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 5L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(host_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  std::string san = "DNS:" + host_name;
  for (auto [nid, value] : {std::pair<int, std::string>{NID_subject_alt_name, san},
                            {NID_basic_constraints, "critical,CA:FALSE"},
                            {NID_key_usage, "critical,digitalSignature"},
                            {NID_ext_key_usage, "serverAuth"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    if (ext == nullptr) return InternalError("certificate extension: " + OpenSslError());
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return InternalError("certificate signing failed: " + OpenSslError());
  }
  std::string key_tmp = files.private_key + ".tmp";
  {
    mode_t old = umask(0177);
    std::unique_ptr<FILE, FileCloser> f(std::fopen(key_tmp.c_str(), "w"));
    umask(old);
    if (!f) return UnavailableError("cannot write " + key_tmp);
    if (PEM_write_PrivateKey(f.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
      return InternalError("cannot write key: " + OpenSslError());
    }
  }
  std::string cert_tmp = files.certificate_chain + ".tmp";
  {
    std::unique_ptr<FILE, FileCloser> f(std::fopen(cert_tmp.c_str(), "w"));
    if (!f) return UnavailableError("cannot write " + cert_tmp);
    if (PEM_write_X509(f.get(), cert.get()) != 1) {
      return InternalError("cannot write certificate: " + OpenSslError());
    }
  }
  std::filesystem::rename(key_tmp, files.private_key, ec);
  if (ec) return UnavailableError("cannot install " + files.private_key);
  std::filesystem::rename(cert_tmp, files.certificate_chain, ec);
  if (ec) return UnavailableError("cannot install " + files.certificate_chain);
  *created = true;
  return Status::Ok();
}

std::string TlsVersion(SSL* ssl) { return ssl != nullptr ? SSL_get_version(ssl) : ""; }

std::string TlsCipher(SSL* ssl) {
  if (ssl == nullptr) return "";
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl);
  return c != nullptr ? SSL_CIPHER_get_name(c) : "";
}

StatusOr<std::shared_ptr<asio::ssl::context>> ServerTlsContextFor(
    const std::string& certificate_file, const std::string& private_key_file,
    const std::string& state_dir, const std::string& host_name, const std::string& component) {
  TlsFiles files;
  if (!certificate_file.empty() || !private_key_file.empty()) {
    files.certificate_chain = certificate_file;
    files.private_key = private_key_file;
  } else {
    files.certificate_chain = state_dir + "/tls/cert.pem";
    files.private_key = state_dir + "/tls/key.pem";
    bool created = false;
    Status s = EnsureSelfSignedCertificate(files, host_name, &created);
    if (!s.ok()) {
      return Status(s.code(), "cannot make a self-signed certificate: " + s.message());
    }
    if (created) {
      MAIL_LOG(kWarning, component)
          << "no certificate configured: made a self-signed certificate for " << host_name
          << " in " << files.certificate_chain
          << " (clients will ask to trust it; import a real one)";
    }
  }
  return MakeServerTlsContext(files);
}

}  // namespace common
