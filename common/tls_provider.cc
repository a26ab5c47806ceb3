#include "common/tls_provider.h"

#include <algorithm>

#include "common/certificate.h"
#include "common/logging.h"
#include "common/tls.h"

namespace common {

StatusOr<std::shared_ptr<TlsProvider>> TlsProvider::Create(TlsProviderOptions options) {
  std::shared_ptr<TlsProvider> p(new TlsProvider(std::move(options)));
  MAIL_RETURN_IF_ERROR(ApplyServerTlsPolicy(p->front_.native_handle()));
  SSL_CTX* front = p->front_.native_handle();
  SSL_CTX_set_tlsext_servername_callback(front, &TlsProvider::ServerNameCallback);
  SSL_CTX_set_tlsext_servername_arg(front, p.get());
  p->cert_stamp_ = Stamp(p->options_.certificate_file);
  p->key_stamp_ = Stamp(p->options_.private_key_file);
  const TlsFiles files{p->options_.certificate_file, p->options_.private_key_file};
  MAIL_ASSIGN_OR_RETURN(auto file_context, MakeServerTlsContext(files));
  auto first = std::make_shared<Snapshot>();
  first->file_context = std::move(file_context);
  p->snapshot_ = std::move(first);
  p->last_file_check_ns_ = std::chrono::steady_clock::now().time_since_epoch().count();
  return p;
}

TlsProvider::TlsProvider(TlsProviderOptions options)
    : options_(std::move(options)), front_(asio::ssl::context::tls_server) {}

TlsProvider::~TlsProvider() = default;

std::shared_ptr<asio::ssl::context> TlsProvider::context() {
  // Aliasing: whoever holds the front context holds the provider that its callback uses.
  return std::shared_ptr<asio::ssl::context>(shared_from_this(), &front_);
}

std::shared_ptr<const TlsProvider::Snapshot> TlsProvider::snapshot() const {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  return snapshot_;
}

void TlsProvider::Publish(std::shared_ptr<const Snapshot> next) {
  std::shared_ptr<const Snapshot> old;
  {
    std::lock_guard<std::mutex> lock(snapshot_mu_);
    old = std::move(snapshot_);
    snapshot_ = std::move(next);
  }
  // `old` is released here, outside the lock; handshakes that moved to one of its contexts
  // hold their own reference to it (SSL_set_SSL_CTX).
}

TlsProvider::FileStamp TlsProvider::Stamp(const std::string& path) {
  FileStamp s;
  struct stat st;
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return s;
  s.exists = true;
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  s.size = static_cast<int64_t>(st.st_size);
  s.inode = static_cast<uint64_t>(st.st_ino);
  return s;
}

void TlsProvider::SetCertificates(const std::vector<ServedCertificate>& certificates) {
  std::vector<std::string> thumbprints;
  for (const auto& c : certificates) thumbprints.push_back(c.thumbprint);
  std::lock_guard<std::mutex> lock(update_mu_);
  if (thumbprints == thumbprints_) return;
  thumbprints_ = thumbprints;
  auto next = std::make_shared<Snapshot>();
  next->file_context = snapshot()->file_context;
  // Backwards, so that among certificates alike in age the one added last comes first.
  for (auto it = certificates.rbegin(); it != certificates.rend(); ++it) {
    const ServedCertificate& c = *it;
    auto ctx = MakeServerTlsContextFromPem(c.chain_pem, c.private_key_pem);
    if (!ctx.ok()) {
      MAIL_LOG(kError, options_.component)
          << "certificate " << c.thumbprint << " cannot be used: " << ctx.status().message();
      continue;
    }
    Loaded l;
    l.certificate = c;
    l.certificate.private_key_pem.clear();
    l.context = *ctx;
    next->certificates.push_back(std::move(l));
  }
  std::stable_sort(next->certificates.begin(), next->certificates.end(),
                   [](const Loaded& a, const Loaded& b) {
                     if (a.certificate.not_before_unix != b.certificate.not_before_unix) {
                       return a.certificate.not_before_unix > b.certificate.not_before_unix;
                     }
                     return a.certificate.added_unix > b.certificate.added_unix;
                   });
  if (next->certificates.empty()) {
    MAIL_LOG(kInfo, options_.component)
        << "no certificate enabled in the store: serving " << options_.certificate_file;
  } else {
    std::string list;
    for (const Loaded& l : next->certificates) {
      if (!list.empty()) list += ", ";
      list += l.certificate.thumbprint;
      if (!l.certificate.names.empty()) list += " (" + l.certificate.names.front() + ")";
    }
    MAIL_LOG(kInfo, options_.component) << "serving certificates " << list;
  }
  Publish(std::move(next));
}

void TlsProvider::CheckFiles() {
  std::lock_guard<std::mutex> lock(update_mu_);
  FileStamp cert = Stamp(options_.certificate_file);
  FileStamp key = Stamp(options_.private_key_file);
  if (cert == cert_stamp_ && key == key_stamp_) return;
  // Remember what was tried, so that a bad pair is reported once, not at every handshake;
  // the next change to either file is tried again.
  cert_stamp_ = cert;
  key_stamp_ = key;
  auto ctx = MakeServerTlsContext({options_.certificate_file, options_.private_key_file});
  if (!ctx.ok()) {
    MAIL_LOG(kError, options_.component)
        << "the certificate files changed but cannot be used; keeping the previous certificate: "
        << ctx.status().message();
    return;
  }
  auto next = std::make_shared<Snapshot>(*snapshot());
  next->file_context = *ctx;
  Publish(std::move(next));
  MAIL_LOG(kInfo, options_.component)
      << "reloaded the certificate " << options_.certificate_file << " (changed on disk)";
}

void TlsProvider::MaybeCheckFiles() {
  const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
  int64_t last = last_file_check_ns_.load();
  const int64_t interval =
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(options_.file_check_interval)
          .count();
  if (now - last < interval) return;
  // One handshake per interval does the stat() calls; the others go on at once.
  if (!last_file_check_ns_.compare_exchange_strong(last, now)) return;
  CheckFiles();
}

const TlsProvider::Loaded* TlsProvider::Choose(const Snapshot& s, const std::string& server_name) {
  if (s.certificates.empty()) return nullptr;
  if (!server_name.empty()) {
    for (bool wildcard : {false, true}) {
      for (const Loaded& l : s.certificates) {
        for (const std::string& n : l.certificate.names) {
          if ((n.rfind("*.", 0) == 0) == wildcard && CertificateNameMatches(n, server_name)) {
            return &l;
          }
        }
      }
    }
  }
  return &s.certificates.front();
}

std::string TlsProvider::Select(const std::string& server_name) const {
  auto s = snapshot();
  const Loaded* l = Choose(*s, server_name);
  return l == nullptr ? "" : l->certificate.thumbprint;
}

int TlsProvider::ServerNameCallback(SSL* ssl, int* alert, void* arg) {
  auto* self = static_cast<TlsProvider*>(arg);
  self->MaybeCheckFiles();
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  std::shared_ptr<const Snapshot> s = self->snapshot();
  const Loaded* l = Choose(*s, name != nullptr ? name : "");
  SSL_CTX* target = l != nullptr ? l->context->native_handle() : s->file_context->native_handle();
  // The connection takes its own reference to `target`, so a later swap cannot free it.
  if (SSL_set_SSL_CTX(ssl, target) == nullptr) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace common
