#include "common/certificate.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>

namespace common {
namespace {

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

BioPtr ReadBio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), BIO_free);
}

// Refuses to prompt for a passphrase: OpenSSL's default asks on the terminal.
int NoPassphrase(char*, int, int, void*) { return -1; }

std::string Hex(const unsigned char* data, size_t size) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 15]);
  }
  return out;
}

std::string NameText(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  // RFC 2253 order (CN first) with ", " between parts, as Exchange shows subjects.
  unsigned long flags = (XN_FLAG_RFC2253 & ~XN_FLAG_SEP_MASK) | XN_FLAG_SEP_CPLUS_SPC;
  X509_NAME_print_ex(bio.get(), name, 0, flags);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

int64_t UnixTime(const ASN1_TIME* t) {
  struct tm tm = {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

std::string PublicKeyText(EVP_PKEY* key) {
  if (key == nullptr) return "";
  int bits = EVP_PKEY_get_bits(key);
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      return "RSA " + std::to_string(bits);
    case EVP_PKEY_EC: {
      char group[80] = {0};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof(group), &len) == 1) {
        std::string g(group, len);
        if (g == "prime256v1") g = "P-256";
        if (g == "secp384r1") g = "P-384";
        if (g == "secp521r1") g = "P-521";
        return "ECDSA " + g;
      }
      return "ECDSA " + std::to_string(bits);
    }
    case EVP_PKEY_ED25519:
      return "Ed25519";
    default:
      return std::to_string(bits) + "-bit key";
  }
}

CertificateInfo InfoOf(X509* cert) {
  CertificateInfo info;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(cert, EVP_sha1(), md, &md_len) == 1) info.thumbprint = Hex(md, md_len);
  info.subject = NameText(X509_get_subject_name(cert));
  info.issuer = NameText(X509_get_issuer_name(cert));
  info.not_before_unix = UnixTime(X509_get0_notBefore(cert));
  info.not_after_unix = UnixTime(X509_get0_notAfter(cert));
  info.self_signed = (X509_get_extension_flags(cert) & EXFLAG_SS) != 0;
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      info.serial_number = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  info.public_key = PublicKeyText(X509_get0_pubkey(cert));
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
      if (gn->type != GEN_DNS) continue;
      const unsigned char* data = ASN1_STRING_get0_data(gn->d.dNSName);
      int len = ASN1_STRING_length(gn->d.dNSName);
      if (data != nullptr && len > 0) {
        info.domains.emplace_back(reinterpret_cast<const char*>(data), static_cast<size_t>(len));
      }
    }
    GENERAL_NAMES_free(names);
  }
  if (info.domains.empty()) {
    // No SubjectAltName: clients fall back to the CN, so the CN is the certificate's name.
    X509_NAME* subject = X509_get_subject_name(cert);
    int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (idx >= 0) {
      ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
      const unsigned char* data = ASN1_STRING_get0_data(cn);
      int len = ASN1_STRING_length(cn);
      if (data != nullptr && len > 0) {
        info.domains.emplace_back(reinterpret_cast<const char*>(data), static_cast<size_t>(len));
      }
    }
  }
  return info;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

// "CN=host, O=Org, C=US" -> X509_NAME. The text is in display order (RFC 2253, as Exchange
// and .NET write names), which is the reverse of the order in the certificate.
Status ParseSubject(const std::string& subject, X509_NAME* name) {
  std::vector<std::pair<std::string, std::string>> parts;
  size_t start = 0;
  while (start <= subject.size()) {
    size_t comma = subject.find(',', start);
    std::string part = Trim(std::string_view(subject).substr(
        start, comma == std::string::npos ? std::string::npos : comma - start));
    start = comma == std::string::npos ? subject.size() + 1 : comma + 1;
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 >= part.size()) {
      return InvalidArgumentError(
          "the subject name must be written as \"CN=mail.example.test\" "
          "(parts such as O=, OU=, C= separated by commas); got \"" +
          subject + "\"");
    }
    std::string field = Trim(part.substr(0, eq));
    if (field == "S" || field == "s") field = "ST";  // Exchange's name for the state.
    parts.emplace_back(field, Trim(part.substr(eq + 1)));
  }
  if (parts.empty()) return InvalidArgumentError("the subject name is empty");
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    const auto& [field, value] = *it;
    if (X509_NAME_add_entry_by_txt(name, field.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                   0) != 1) {
      ERR_clear_error();
      return InvalidArgumentError("the subject name part \"" + field + "=" + value +
                                  "\" is not valid (use CN, O, OU, L, ST or C)");
    }
  }
  return Status::Ok();
}

std::string FormatUtc(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm = {};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

}  // namespace

StatusOr<CertificateInfo> InspectCertificate(std::string_view chain_pem) {
  BioPtr bio = ReadBio(chain_pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr), X509_free);
  ERR_clear_error();
  if (!cert) return InvalidArgumentError("no PEM certificate (-----BEGIN CERTIFICATE-----) found");
  return InfoOf(cert.get());
}

StatusOr<CertificateAndKey> ReadCertificateAndKey(std::string_view chain_pem,
                                                  std::string_view private_key_pem,
                                                  int64_t now_unix) {
  if (chain_pem.size() > kMaxCertificatePemBytes ||
      private_key_pem.size() > kMaxCertificatePemBytes) {
    return InvalidArgumentError("the certificate file is larger than 1 MB");
  }
  std::vector<X509Ptr> chain;
  {
    BioPtr bio = ReadBio(chain_pem);
    while (true) {
      X509* c = PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr);
      if (c == nullptr) break;
      chain.emplace_back(c, X509_free);
    }
    ERR_clear_error();
  }
  if (chain.empty()) {
    return InvalidArgumentError(
        "no PEM certificate (-----BEGIN CERTIFICATE-----) found in the certificate file");
  }
  std::string_view key_text = private_key_pem.empty() ? chain_pem : private_key_pem;
  KeyPtr key(nullptr, EVP_PKEY_free);
  {
    BioPtr bio = ReadBio(key_text);
    key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
    ERR_clear_error();
    if (!key) {
      if (key_text.find("ENCRYPTED") != std::string_view::npos) {
        return InvalidArgumentError(
            "the private key is encrypted; give it unencrypted (openssl pkey -in key.pem -out "
            "plain.pem)");
      }
      return InvalidArgumentError(
          private_key_pem.empty()
              ? "no private key found: give it with -PrivateKeyFile or in the same PEM file"
              : "no PEM private key (-----BEGIN PRIVATE KEY-----) found in the key file");
    }
  }
  if (X509_check_private_key(chain.front().get(), key.get()) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("the private key does not match the certificate");
  }
  CertificateAndKey out;
  out.info = InfoOf(chain.front().get());
  if (out.info.not_after_unix != 0 && out.info.not_after_unix < now_unix) {
    return FailedPreconditionError("the certificate expired on " +
                                   FormatUtc(out.info.not_after_unix) +
                                   "; import a certificate that is still valid");
  }
  BioPtr mem(BIO_new(BIO_s_mem()), BIO_free);
  for (const auto& c : chain) {
    if (PEM_write_bio_X509(mem.get(), c.get()) != 1) {
      return InternalError("cannot write the certificate: " + OpenSslError());
    }
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(mem.get(), &data);
  out.chain_pem.assign(data, static_cast<size_t>(n));
  BioPtr key_mem(BIO_new(BIO_s_mem()), BIO_free);
  if (PEM_write_bio_PrivateKey(key_mem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
      1) {
    return InternalError("cannot write the private key: " + OpenSslError());
  }
  n = BIO_get_mem_data(key_mem.get(), &data);
  out.private_key_pem.assign(data, static_cast<size_t>(n));
  return out;
}

StatusOr<CertificateAndKey> MakeSelfSignedCertificate(const std::string& subject,
                                                      const std::vector<std::string>& dns_names,
                                                      uint32_t validity_days) {
  if (dns_names.empty()) return InvalidArgumentError("a certificate needs at least one name");
  for (const std::string& n : dns_names) {
    if (!IsValidCertificateDomain(n)) {
      return InvalidArgumentError("\"" + n + "\" is not a valid domain name for a certificate");
    }
  }
  if (validity_days == 0 || validity_days > 3650) {
    return InvalidArgumentError("the validity must be 1 to 3650 days");
  }
  KeyPtr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) return InternalError("key generation failed: " + OpenSslError());
  X509Ptr cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(validity_days) * 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  MAIL_RETURN_IF_ERROR(ParseSubject(subject, name));
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  std::string san;
  for (const std::string& n : dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + n;
  for (const auto& [nid, value] : {std::pair<int, std::string>{NID_subject_alt_name, san},
                                   {NID_basic_constraints, "critical,CA:FALSE"},
                                   {NID_key_usage, "critical,digitalSignature"},
                                   {NID_ext_key_usage, "serverAuth"},
                                   {NID_subject_key_identifier, "hash"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    if (ext == nullptr) return InternalError("certificate extension: " + OpenSslError());
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return InternalError("certificate signing failed: " + OpenSslError());
  }
  BioPtr mem(BIO_new(BIO_s_mem()), BIO_free);
  BioPtr key_mem(BIO_new(BIO_s_mem()), BIO_free);
  if (PEM_write_bio_X509(mem.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_mem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1) {
    return InternalError("cannot write the certificate: " + OpenSslError());
  }
  CertificateAndKey out;
  char* data = nullptr;
  long n = BIO_get_mem_data(mem.get(), &data);
  out.chain_pem.assign(data, static_cast<size_t>(n));
  n = BIO_get_mem_data(key_mem.get(), &data);
  out.private_key_pem.assign(data, static_cast<size_t>(n));
  out.info = InfoOf(cert.get());
  return out;
}

bool IsValidCertificateDomain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::string_view rest = name;
  if (rest.substr(0, 2) == "*.") rest.remove_prefix(2);
  if (rest.empty() || rest.front() == '.' || rest.back() == '.') return false;
  size_t label = 0;
  for (char c : rest) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || ++label > 63) return false;
  }
  return true;
}

bool CertificateNameMatches(std::string_view pattern, std::string_view host) {
  if (pattern.empty() || host.empty()) return false;
  std::string p = Lower(pattern);
  std::string h = Lower(host);
  if (!h.empty() && h.back() == '.') h.pop_back();
  if (p == h) return true;
  if (p.size() < 3 || p.compare(0, 2, "*.") != 0) return false;
  // "*.example.test" covers "mail.example.test", not "example.test" or "a.b.example.test".
  size_t dot = h.find('.');
  if (dot == std::string::npos || dot == 0) return false;
  return h.compare(dot, std::string::npos, p, 1, std::string::npos) == 0;
}

std::string NormalizeThumbprint(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == ' ' || c == ':' || c == '\t') continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    out.push_back(c);
  }
  return out;
}

}  // namespace common
