#include "common/tls.h"


#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/certificate.h"
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

Status ApplyServerTlsPolicy(SSL_CTX* raw) {
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  SSL_CTX_set_options(raw, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  if (SSL_CTX_set_cipher_list(raw, kTls12Ciphers) != 1) {
    return InternalError("cipher list: " + OpenSslError());
  }
  return Status::Ok();
}

StatusOr<std::shared_ptr<asio::ssl::context>> MakeServerTlsContextFromPem(
    const std::string& chain_pem, const std::string& private_key_pem) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  MAIL_RETURN_IF_ERROR(ApplyServerTlsPolicy(ctx->native_handle()));
  boost::system::error_code ec;
  ctx->use_certificate_chain(asio::buffer(chain_pem), ec);
  if (ec) {
    ERR_clear_error();
    return InvalidArgumentError("cannot load the certificate: " + ec.message());
  }
  ctx->use_private_key(asio::buffer(private_key_pem), asio::ssl::context::pem, ec);
  if (ec) {
    ERR_clear_error();
    return InvalidArgumentError("cannot load the private key: " + ec.message());
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("private key does not match the certificate");
  }
  return ctx;
}

StatusOr<std::shared_ptr<asio::ssl::context>> MakeServerTlsContext(const TlsFiles& files) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* raw = ctx->native_handle();
  MAIL_RETURN_IF_ERROR(ApplyServerTlsPolicy(raw));
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
  MAIL_ASSIGN_OR_RETURN(CertificateAndKey made,
                        MakeSelfSignedCertificate("CN=" + host_name, {host_name}, 5 * 365));
  // Each file is written under a temporary name and renamed, so that a reader (or a crash)
  // never sees half of it; the key is 0600 from its creation.
  auto install = [](const std::string& path, const std::string& text, mode_t mask) {
    std::string tmp = path + ".tmp";
    {
      mode_t old = umask(mask);
      std::unique_ptr<FILE, FileCloser> f(std::fopen(tmp.c_str(), "w"));
      umask(old);
      if (!f) return UnavailableError("cannot write " + tmp);
      if (std::fwrite(text.data(), 1, text.size(), f.get()) != text.size()) {
        return UnavailableError("cannot write " + tmp);
      }
    }
    std::error_code rename_ec;
    std::filesystem::rename(tmp, path, rename_ec);
    if (rename_ec) return UnavailableError("cannot install " + path);
    return Status::Ok();
  };
  MAIL_RETURN_IF_ERROR(install(files.private_key, made.private_key_pem, 0177));
  MAIL_RETURN_IF_ERROR(install(files.certificate_chain, made.chain_pem, 0022));
  *created = true;
  return Status::Ok();
}

std::string TlsVersion(SSL* ssl) { return ssl != nullptr ? SSL_get_version(ssl) : ""; }

std::string TlsCipher(SSL* ssl) {
  if (ssl == nullptr) return "";
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl);
  return c != nullptr ? SSL_CIPHER_get_name(c) : "";
}

StatusOr<TlsFiles> ServerTlsFilesFor(const std::string& certificate_file,
                                     const std::string& private_key_file,
                                     const std::string& state_dir, const std::string& host_name,
                                     const std::string& component) {
  TlsFiles files;
  if (!certificate_file.empty() || !private_key_file.empty()) {
    files.certificate_chain = certificate_file;
    files.private_key = private_key_file;
    return files;
  }
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
  return files;
}

StatusOr<std::shared_ptr<asio::ssl::context>> ServerTlsContextFor(
    const std::string& certificate_file, const std::string& private_key_file,
    const std::string& state_dir, const std::string& host_name, const std::string& component) {
  MAIL_ASSIGN_OR_RETURN(TlsFiles files, ServerTlsFilesFor(certificate_file, private_key_file,
                                                          state_dir, host_name, component));
  return MakeServerTlsContext(files);
}

}  // namespace common
