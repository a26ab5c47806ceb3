// The certificates half of RocksMailboxStore (Exchange's *-ExchangeCertificate cmdlets). The
// certificates live in the server settings: a change is a new settings version, and every
// frontend node gets the enabled ones, keys included, through WatchSettings. Nothing here
// returns a private key.
#include <algorithm>
#include <chrono>

#include "common/certificate.h"
#include "common/logging.h"
#include "mailboxstore/core/rocks_mailbox_store.h"

namespace mailboxstore {

namespace {

// Certificates an organisation may hold; each is a few KB in the settings record.
constexpr int kMaxCertificates = 100;

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

mail::v1::Certificate WithoutSecrets(mail::v1::Certificate c) {
  c.clear_private_key_pem();
  c.clear_chain_pem();
  return c;
}

mail::v1::Certificate ToProto(const common::CertificateAndKey& ck) {
  mail::v1::Certificate c;
  c.set_thumbprint(ck.info.thumbprint);
  c.set_subject(ck.info.subject);
  for (const auto& d : ck.info.domains) c.add_certificate_domains(d);
  c.set_issuer(ck.info.issuer);
  c.set_not_before_unix(ck.info.not_before_unix);
  c.set_not_after_unix(ck.info.not_after_unix);
  c.set_self_signed(ck.info.self_signed);
  c.set_serial_number(ck.info.serial_number);
  c.set_public_key(ck.info.public_key);
  c.set_chain_pem(ck.chain_pem);
  c.set_private_key_pem(ck.private_key_pem);
  c.set_added_unix(NowUnix());
  return c;
}

const char* ServiceText(int s) {
  switch (s) {
    case mail::v1::CERTIFICATE_SERVICE_IMAP:
      return "IMAP";
    case mail::v1::CERTIFICATE_SERVICE_POP:
      return "POP";
    case mail::v1::CERTIFICATE_SERVICE_SMTP:
      return "SMTP";
    default:
      return "?";
  }
}

std::string ServicesText(const mail::v1::Certificate& c) {
  std::string out;
  for (int s : c.services()) {
    if (!out.empty()) out += ", ";
    out += ServiceText(s);
  }
  return out.empty() ? "None" : out;
}

common::Status CheckServices(const google::protobuf::RepeatedField<int>& services) {
  for (int s : services) {
    if (s != mail::v1::CERTIFICATE_SERVICE_IMAP && s != mail::v1::CERTIFICATE_SERVICE_POP &&
        s != mail::v1::CERTIFICATE_SERVICE_SMTP) {
      return common::InvalidArgumentError("unknown certificate service " + std::to_string(s));
    }
  }
  return common::Status::Ok();
}

// Adds `services` to `c`, keeping IMAP, POP, SMTP order and no duplicates.
void AddServices(mail::v1::Certificate* c, const google::protobuf::RepeatedField<int>& services) {
  std::vector<int> all(c->services().begin(), c->services().end());
  for (int s : services) {
    if (std::find(all.begin(), all.end(), s) == all.end()) all.push_back(s);
  }
  std::sort(all.begin(), all.end());
  c->clear_services();
  for (int s : all) c->add_services(static_cast<mail::v1::CertificateService>(s));
}

bool MatchesDomain(const mail::v1::Certificate& c, const std::string& domain) {
  for (const auto& d : c.certificate_domains()) {
    if (common::CertificateNameMatches(d, domain)) return true;
  }
  return false;
}

}  // namespace

std::vector<mail::v1::Certificate> RocksMailboxStore::ListCertificates(
    const mail::v1::GetCertificatesRequest& req) {
  const std::string thumbprint = common::NormalizeThumbprint(req.thumbprint());
  std::vector<mail::v1::Certificate> out;
  {
    std::lock_guard<std::mutex> lock(settings_mu_);
    for (const auto& c : settings_.certificates()) {
      if (!thumbprint.empty() && c.thumbprint() != thumbprint) continue;
      if (!req.domain_name().empty() && !MatchesDomain(c, req.domain_name())) continue;
      out.push_back(WithoutSecrets(c));
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.added_unix() > b.added_unix(); });
  return out;
}

common::StatusOr<mail::v1::Certificate> RocksMailboxStore::NewCertificate(
    const mail::v1::NewCertificateRequest& req) {
  MAIL_RETURN_IF_ERROR(CheckServices(req.services()));
  std::vector<std::string> domains(req.domain_names().begin(), req.domain_names().end());
  std::string subject = req.subject_name();
  if (domains.empty()) {
    // Exchange takes the names from the subject when -DomainName is not given.
    const std::string prefix = "CN=";
    if (subject.size() > prefix.size() && subject.compare(0, 3, prefix) == 0) {
      domains.push_back(subject.substr(
          3, subject.find(',') == std::string::npos ? std::string::npos : subject.find(',') - 3));
    }
  }
  if (domains.empty()) {
    return common::InvalidArgumentError(
        "give the certificate's names with -DomainName (or -SubjectName \"CN=host\")");
  }
  if (subject.empty()) subject = "CN=" + domains.front();
  MAIL_ASSIGN_OR_RETURN(
      common::CertificateAndKey made,
      common::MakeSelfSignedCertificate(subject, domains,
                                        req.validity_days() == 0 ? 1825 : req.validity_days()));
  mail::v1::Certificate c = ToProto(made);
  c.set_friendly_name(req.friendly_name().empty() ? "Microsoft Exchange" : req.friendly_name());
  AddServices(&c, req.services());
  std::unique_lock<std::mutex> lock(settings_mu_);
  if (settings_.certificates_size() >= kMaxCertificates) {
    return common::ResourceExhaustedError("there are already " + std::to_string(kMaxCertificates) +
                                          " certificates; remove some first");
  }
  mail::v1::ServerSettings next = settings_;
  *next.add_certificates() = c;
  MAIL_RETURN_IF_ERROR(CommitSettingsLocked(
      std::move(next), "certificate " + c.thumbprint() + " made for " + subject));
  return WithoutSecrets(std::move(c));
}

common::StatusOr<mail::v1::Certificate> RocksMailboxStore::ImportCertificate(
    const mail::v1::ImportCertificateRequest& req) {
  MAIL_ASSIGN_OR_RETURN(
      common::CertificateAndKey read,
      common::ReadCertificateAndKey(req.chain_pem(), req.private_key_pem(), NowUnix()));
  mail::v1::Certificate c = ToProto(read);
  c.set_friendly_name(req.friendly_name());
  std::unique_lock<std::mutex> lock(settings_mu_);
  for (const auto& existing : settings_.certificates()) {
    if (existing.thumbprint() == c.thumbprint()) {
      return common::AlreadyExistsError("The certificate with thumbprint " + c.thumbprint() +
                                        " already exists.");
    }
  }
  if (settings_.certificates_size() >= kMaxCertificates) {
    return common::ResourceExhaustedError("there are already " + std::to_string(kMaxCertificates) +
                                          " certificates; remove some first");
  }
  mail::v1::ServerSettings next = settings_;
  *next.add_certificates() = c;
  MAIL_RETURN_IF_ERROR(CommitSettingsLocked(
      std::move(next), "certificate " + c.thumbprint() + " imported (" + c.subject() + ")"));
  return WithoutSecrets(std::move(c));
}

common::StatusOr<mail::v1::Certificate> RocksMailboxStore::EnableCertificate(
    const mail::v1::EnableCertificateRequest& req) {
  MAIL_RETURN_IF_ERROR(CheckServices(req.services()));
  if (req.services().empty() && !req.clear()) {
    return common::InvalidArgumentError("name the services: IMAP, POP, SMTP (or None)");
  }
  const std::string thumbprint = common::NormalizeThumbprint(req.thumbprint());
  std::unique_lock<std::mutex> lock(settings_mu_);
  mail::v1::ServerSettings next = settings_;
  mail::v1::Certificate* target = nullptr;
  for (auto& c : *next.mutable_certificates()) {
    if (c.thumbprint() == thumbprint) target = &c;
  }
  if (target == nullptr) {
    return common::NotFoundError("The certificate with thumbprint " + thumbprint +
                                 " was not found.");
  }
  const std::string before = ServicesText(*target);
  if (req.clear()) target->clear_services();
  AddServices(target, req.services());
  mail::v1::Certificate result = *target;
  if (ServicesText(result) != before) {
    MAIL_RETURN_IF_ERROR(CommitSettingsLocked(
        std::move(next),
        "certificate " + thumbprint + " services " + before + " -> " + ServicesText(result)));
  }
  return WithoutSecrets(std::move(result));
}

common::StatusOr<mail::v1::Certificate> RocksMailboxStore::RemoveCertificate(
    const mail::v1::RemoveCertificateRequest& req) {
  const std::string thumbprint = common::NormalizeThumbprint(req.thumbprint());
  std::unique_lock<std::mutex> lock(settings_mu_);
  mail::v1::ServerSettings next = settings_;
  auto* list = next.mutable_certificates();
  auto it = std::find_if(list->begin(), list->end(),
                         [&](const auto& c) { return c.thumbprint() == thumbprint; });
  if (it == list->end()) {
    return common::NotFoundError("The certificate with thumbprint " + thumbprint +
                                 " was not found.");
  }
  mail::v1::Certificate removed = *it;
  if (!removed.services().empty() && !req.force()) {
    return common::FailedPreconditionError(
        "The certificate with thumbprint " + thumbprint + " is enabled for " +
        ServicesText(removed) +
        ". Enable another certificate for these services first, or use -Force to remove it "
        "anyway (those services then fall back to the next enabled certificate or to the "
        "node's own certificate).");
  }
  list->erase(it);
  MAIL_RETURN_IF_ERROR(
      CommitSettingsLocked(std::move(next), "certificate " + thumbprint + " removed"));
  return WithoutSecrets(std::move(removed));
}

}  // namespace mailboxstore
