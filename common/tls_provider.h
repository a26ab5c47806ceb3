// The TLS certificate a protocol service presents, changeable while it runs.
//
// Listeners hand every connection the provider's front context(), which never changes. The
// front context has no certificate of its own: during each handshake, when the ClientHello
// has arrived (OpenSSL's server-name callback, called with and without SNI), the provider
// moves the connection to the context of the certificate that serves it:
//   - certificates enabled for the service in the store (Enable-ExchangeCertificate), chosen
//     by the client's server name (exact SubjectAltName match first, then a wildcard), and the
//     most recent one for clients that send no name or a name none of them has;
//   - with none enabled, the node's own certificate file (certificate_file/private_key_file,
//     or the self-signed one made on first start). The files are checked at most once per
//     `file_check_interval` during handshakes; a replaced pair serves the next handshake, and
//     a half-written or invalid one keeps the previous certificate (and is logged once).
// Established connections keep the certificate they negotiated. A STARTTLS/STLS connection
// accepted before a change gets the new certificate, since it is chosen at its handshake.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/asio.h"
#include "common/status.h"

namespace common {

// A certificate from the store that the provider may serve.
struct ServedCertificate {
  std::string thumbprint;
  std::string chain_pem;
  std::string private_key_pem;
  std::vector<std::string> names;  // DNS names; "*.example.test" covers one label.
  int64_t not_before_unix = 0;
  int64_t added_unix = 0;  // Ties on not_before: the later import wins.
};

struct TlsProviderOptions {
  // The node's certificate chain and key (PEM files); used when no store certificate is
  // enabled for the service.
  std::string certificate_file;
  std::string private_key_file;
  std::string component;  // Labels log lines ("casd imap4").
  // How often handshakes look at the files' modification time. Default: 1 s.
  std::chrono::milliseconds file_check_interval{1000};
};

class TlsProvider : public std::enable_shared_from_this<TlsProvider> {
 public:
  // Fails when the node's files cannot be loaded (as a start with a bad certificate fails).
  static StatusOr<std::shared_ptr<TlsProvider>> Create(TlsProviderOptions options);
  ~TlsProvider();
  TlsProvider(const TlsProvider&) = delete;
  TlsProvider& operator=(const TlsProvider&) = delete;

  // The context to give every Stream; it keeps the provider alive.
  std::shared_ptr<asio::ssl::context> context();

  // Replaces the store certificates enabled for this service (empty: the node's file serves).
  // One that cannot be loaded is left out and logged. Nothing is rebuilt when the list (by
  // thumbprint) is the one already in force.
  void SetCertificates(const std::vector<ServedCertificate>& certificates);

  // Looks at the node's files now, whatever the interval (handshakes do it by themselves).
  void CheckFiles();

  // The thumbprint of the store certificate that would serve `server_name` ("" = no SNI), or
  // "" when the node's file would. For tests and logs.
  std::string Select(const std::string& server_name) const;

 private:
  struct Loaded {
    ServedCertificate certificate;  // Without the key, once loaded.
    std::shared_ptr<asio::ssl::context> context;
  };
  // What serves handshakes now; replaced as a whole, never changed in place.
  struct Snapshot {
    std::vector<Loaded> certificates;  // Newest first.
    std::shared_ptr<asio::ssl::context> file_context;
  };
  struct FileStamp {
    bool exists = false;
    int64_t mtime_ns = 0;
    int64_t size = 0;
    uint64_t inode = 0;
    bool operator==(const FileStamp&) const = default;
  };

  explicit TlsProvider(TlsProviderOptions options);
  static int ServerNameCallback(SSL* ssl, int* alert, void* arg);
  static FileStamp Stamp(const std::string& path);
  std::shared_ptr<const Snapshot> snapshot() const;
  void Publish(std::shared_ptr<const Snapshot> next);
  // Returns the context (not null) that serves `server_name`.
  static const Loaded* Choose(const Snapshot& s, const std::string& server_name);
  void MaybeCheckFiles();

  TlsProviderOptions options_;
  asio::ssl::context front_;
  mutable std::mutex snapshot_mu_;
  std::shared_ptr<const Snapshot> snapshot_;
  // Serialises SetCertificates and file reloads (each builds the next snapshot from the last).
  std::mutex update_mu_;
  std::vector<std::string> thumbprints_;  // Of the last SetCertificates, in its order.
  FileStamp cert_stamp_, key_stamp_;      // Of the files last tried.
  std::atomic<int64_t> last_file_check_ns_{0};
};

}  // namespace common
