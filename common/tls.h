// TLS for the protocol listeners: server contexts with TLS 1.2+ and modern ciphers, and the
// self-signed certificate made on first start when none is configured (as Exchange does).
#pragma once

#include <memory>
#include <string>

#include "common/asio.h"
#include "common/status.h"

namespace common {

struct TlsFiles {
  std::string certificate_chain;  // PEM: the certificate, then intermediates.
  std::string private_key;        // PEM.
};

// TLS 1.2 and 1.3 only; AEAD ciphers with forward secrecy; server cipher preference; no
// compression, no renegotiation, no session tickets across restarts.
StatusOr<std::shared_ptr<asio::ssl::context>> MakeServerTlsContext(const TlsFiles& files);
// The same from a PEM chain and key in memory (certificates held by the store).
StatusOr<std::shared_ptr<asio::ssl::context>> MakeServerTlsContextFromPem(
    const std::string& chain_pem, const std::string& private_key_pem);
// The protocol and cipher policy above, for a context made elsewhere.
Status ApplyServerTlsPolicy(SSL_CTX* ctx);

// A client context for tests and connectivity checks. `verify` off accepts any certificate.
std::shared_ptr<asio::ssl::context> MakeClientTlsContext(bool verify);

// Writes a self-signed certificate (ECDSA P-256, SHA-256, SubjectAltName DNS:<host_name>,
// valid 5 years) and its key (mode 0600) unless both files already exist. Returns true in
// `*created` when it made them.
Status EnsureSelfSignedCertificate(const TlsFiles& files, const std::string& host_name,
                                   bool* created);

// A server's TLS context: the configured certificate chain and key, or, when both are empty,
// a self-signed certificate for `host_name` kept under `state_dir`/tls (made on first start,
// with a warning in the log naming `component`).
StatusOr<std::shared_ptr<asio::ssl::context>> ServerTlsContextFor(
    const std::string& certificate_file, const std::string& private_key_file,
    const std::string& state_dir, const std::string& host_name, const std::string& component);
// The files of that certificate (made first when needed), for a TlsProvider.
StatusOr<TlsFiles> ServerTlsFilesFor(const std::string& certificate_file,
                                     const std::string& private_key_file,
                                     const std::string& state_dir, const std::string& host_name,
                                     const std::string& component);

// "TLSv1.3" / "TLS_AES_256_GCM_SHA384" of an established connection (for logs and Received).
std::string TlsVersion(SSL* ssl);
std::string TlsCipher(SSL* ssl);

}  // namespace common
