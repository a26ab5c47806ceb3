// X.509 certificates as the administrator handles them (Import-/New-/Get-ExchangeCertificate):
// reading a PEM chain and its key, checking that they belong together, the fields Exchange
// shows (thumbprint, subject, domains, validity), making a self-signed certificate, and the
// host-name match that picks a certificate for a TLS client's server name (SNI).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace common {

struct CertificateInfo {
  std::string thumbprint;  // SHA-1 of the DER certificate, upper-case hex (Exchange's form).
  std::string subject;     // "CN=mail.example.test, O=Example" (RFC 2253 order).
  std::string issuer;
  std::vector<std::string> domains;  // SubjectAltName DNS names; the CN when there are none.
  int64_t not_before_unix = 0;
  int64_t not_after_unix = 0;
  bool self_signed = false;
  std::string serial_number;  // Upper-case hex.
  std::string public_key;     // "ECDSA P-256", "RSA 2048".
};

// A certificate chain with its private key, both normalised to PEM (the certificate first,
// then intermediates; the key as unencrypted PKCS#8).
struct CertificateAndKey {
  std::string chain_pem;
  std::string private_key_pem;
  CertificateInfo info;
};

// Largest PEM input accepted (a chain of a few certificates is a few KB).
inline constexpr size_t kMaxCertificatePemBytes = 1 << 20;

// The first certificate of `chain_pem`.
StatusOr<CertificateInfo> InspectCertificate(std::string_view chain_pem);

// Reads a chain and its key: the key from `private_key_pem`, or from `chain_pem` when that is
// empty. Fails with a message an administrator can act on when there is no certificate, no
// key, an encrypted key, a key of another certificate, or a certificate that expired before
// `now_unix`.
StatusOr<CertificateAndKey> ReadCertificateAndKey(std::string_view chain_pem,
                                                  std::string_view private_key_pem,
                                                  int64_t now_unix);

// A self-signed certificate (ECDSA P-256, SHA-256, serverAuth) for `subject` ("CN=host" or
// "CN=host, O=Org, C=US") with `dns_names` as SubjectAltName, valid from an hour ago for
// `validity_days`.
StatusOr<CertificateAndKey> MakeSelfSignedCertificate(const std::string& subject,
                                                      const std::vector<std::string>& dns_names,
                                                      uint32_t validity_days);

// A host name as a certificate may name it: letters, digits, '-', '.', and a leading "*."
// label. Not empty, at most 253 characters.
bool IsValidCertificateDomain(std::string_view name);

// Whether certificate name `pattern` covers `host` (case-insensitive): the same name, or a
// wildcard "*.example.test" that stands for exactly one leftmost label of `host`.
bool CertificateNameMatches(std::string_view pattern, std::string_view host);

// "A1B2 c3:d4" -> "A1B2C3D4": thumbprints as people paste them.
std::string NormalizeThumbprint(std::string_view text);

}  // namespace common
