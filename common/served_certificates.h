// The store's certificates (ServerSettings.certificates, as WatchSettings sends them: enabled
// ones with their keys) that a frontend's TlsProvider serves for one service.
#pragma once

#include <vector>

#include "common/tls_provider.h"
#include "settings.pb.h"

namespace common {

inline std::vector<ServedCertificate> ServedCertificatesFor(
    const mail::v1::ServerSettings& settings, mail::v1::CertificateService service) {
  std::vector<ServedCertificate> out;
  for (const mail::v1::Certificate& c : settings.certificates()) {
    if (c.private_key_pem().empty()) continue;
    bool enabled = false;
    for (int s : c.services()) enabled = enabled || s == service;
    if (!enabled) continue;
    ServedCertificate sc;
    sc.thumbprint = c.thumbprint();
    sc.chain_pem = c.chain_pem();
    sc.private_key_pem = c.private_key_pem();
    sc.names.assign(c.certificate_domains().begin(), c.certificate_domains().end());
    sc.not_before_unix = c.not_before_unix();
    sc.added_unix = c.added_unix();
    out.push_back(std::move(sc));
  }
  return out;
}

}  // namespace common
