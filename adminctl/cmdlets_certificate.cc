// Get-ExchangeCertificate, New-ExchangeCertificate, Import-ExchangeCertificate,
// Enable-ExchangeCertificate and Remove-ExchangeCertificate over mail.v1.Settings: the TLS
// certificates the mailbox store holds for every node. A certificate enabled for IMAP, POP or
// SMTP serves the next TLS handshake of that service on every casd and transportd, chosen by
// the name the client asks for (SNI). Private keys go to the store and never come back.
#include <ctime>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "adminctl/cmdlet.h"
#include "adminctl/parser/strings.h"
#include "control.grpc.pb.h"

namespace adminctl {
namespace {

using mail::v1::Certificate;
using mail::v1::CertificateService;
using parser::BoundCommand;
using parser::ParamType;

// Largest certificate or key file read (a chain of a few certificates is a few KB).
constexpr size_t kMaxFileBytes = 1 << 20;

const View& CertificateView() {
  // Exchange's summary of Get-ExchangeCertificate.
  static const View* view = new View{View::Kind::kTable, {"Thumbprint", "Services", "Subject"}};
  return *view;
}

std::string ServicesText(const Certificate& c) {
  std::string out;
  for (int s : c.services()) {
    if (!out.empty()) out += ", ";
    switch (s) {
      case mail::v1::CERTIFICATE_SERVICE_IMAP:
        out += "IMAP";
        break;
      case mail::v1::CERTIFICATE_SERVICE_POP:
        out += "POP";
        break;
      case mail::v1::CERTIFICATE_SERVICE_SMTP:
        out += "SMTP";
        break;
      default:
        out += std::to_string(s);
    }
  }
  return out.empty() ? "None" : out;
}

Record CertificateRecord(const Certificate& c) {
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  Record r;
  r.Add("Thumbprint", c.thumbprint());
  r.Add("Services", ServicesText(c));
  r.Add("Subject", c.subject());
  r.Add("CertificateDomains",
        FormatMultiValue({c.certificate_domains().begin(), c.certificate_domains().end()}));
  r.Add("Issuer", c.issuer());
  r.Add("NotBefore", FormatDateTime(c.not_before_unix()));
  r.Add("NotAfter", FormatDateTime(c.not_after_unix()));
  r.Add("IsSelfSigned", FormatBool(c.self_signed()));
  // The store holds the key of every certificate (import refuses one without it).
  r.Add("HasPrivateKey", FormatBool(true));
  r.Add("Status",
        now >= c.not_before_unix() && now <= c.not_after_unix() ? "Valid" : "DateInvalid");
  r.Add("FriendlyName", c.friendly_name());
  r.Add("SerialNumber", c.serial_number());
  r.Add("PublicKey", c.public_key());
  return r;
}

CmdletStatus NotConnected() {
  return CmdletStatus::Error("Internal error: no connection to the settings service.");
}

CmdletStatus CallFailed(const grpc::Status& status, std::string_view identity,
                        const CmdletContext& context) {
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    return CmdletStatus::Error("The mailbox store at " + context.endpoint +
                               " does not hold certificates (mail.v1.Settings); upgrade it.");
  }
  if (status.error_code() == grpc::StatusCode::NOT_FOUND ||
      status.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
    return CmdletStatus::Error(status.error_message());
  }
  return StatusFromGrpc(status, identity, context);
}

// -Services IMAP,POP,SMTP (or None) -> the proto values; `*none` when None was given.
CmdletStatus ParseServices(const BoundCommand& args, std::vector<CertificateService>* out,
                           bool* none) {
  *none = false;
  const parser::BoundValue* v = args.Find("Services");
  if (v == nullptr) return CmdletStatus::Ok();
  if (v->is_null) {
    return CmdletStatus::Error(
        "Cannot validate argument on parameter 'Services'. The argument is null. Provide a "
        "valid value for the argument, and then try running the command again.");
  }
  if (v->list.is_delta) {
    return CmdletStatus::Error("Give -Services as a list, for example -Services IMAP,POP,SMTP.");
  }
  for (const std::string& raw : v->list.values) {
    const std::string s = parser::AsciiLower(raw);
    if (s == "imap" || s == "imap4") {
      out->push_back(mail::v1::CERTIFICATE_SERVICE_IMAP);
    } else if (s == "pop" || s == "pop3") {
      out->push_back(mail::v1::CERTIFICATE_SERVICE_POP);
    } else if (s == "smtp") {
      out->push_back(mail::v1::CERTIFICATE_SERVICE_SMTP);
    } else if (s == "none") {
      *none = true;
    } else if (s == "iis" || s == "um" || s == "umcallrouter" || s == "federation") {
      return CmdletStatus::Error("This server runs no " + raw +
                                 " service; the services are IMAP, POP and SMTP.");
    } else {
      return CmdletStatus::Error(
          "Cannot process argument transformation on parameter 'Services'. Cannot convert value "
          "\"" +
          raw +
          "\" to type \"Microsoft.Exchange.Data.AllowedServices\". Error: \"The "
          "valid values are None, IMAP, POP, SMTP.\"");
    }
  }
  if (*none && !out->empty()) {
    return CmdletStatus::Error("-Services None cannot be combined with other services.");
  }
  return CmdletStatus::Ok();
}

// Reads a whole PEM file given on the command line.
CmdletStatus ReadPemFile(const std::string& path, std::string* text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return CmdletStatus::Error("Could not find file '" + path + "'.");
  std::string data;
  char buf[8192];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > kMaxFileBytes) {
      return CmdletStatus::Error("The file '" + path +
                                 "' is larger than 1 MB; it is not a "
                                 "certificate.");
    }
  }
  if (data.find("-----BEGIN ") == std::string::npos) {
    return CmdletStatus::Error("The file '" + path +
                               "' is not in PEM format (-----BEGIN "
                               "CERTIFICATE-----); convert a PFX with openssl pkcs12 -nodes.");
  }
  *text = std::move(data);
  return CmdletStatus::Ok();
}

CmdletStatus GetExchangeCertificate(const BoundCommand& args, const std::vector<Record>&,
                                    CmdletContext& context, CmdletOutput* output) {
  if (context.settings == nullptr) return NotConnected();
  mail::v1::GetCertificatesRequest req;
  req.set_thumbprint(args.GetString("Thumbprint").value_or(""));
  req.set_domain_name(args.GetString("DomainName").value_or(""));
  mail::v1::GetCertificatesResponse resp;
  auto client = NewClientContext(context);
  grpc::Status status = context.settings->GetCertificates(client.get(), req, &resp);
  if (!status.ok()) return CallFailed(status, req.thumbprint(), context);
  if (!req.thumbprint().empty() && resp.certificates().empty()) {
    return CmdletStatus::Error("The certificate with thumbprint " + req.thumbprint() +
                               " was not found.");
  }
  for (const Certificate& c : resp.certificates()) {
    output->records.push_back(CertificateRecord(c));
  }
  return CmdletStatus::Ok();
}

CmdletStatus NewExchangeCertificate(const BoundCommand& args, const std::vector<Record>&,
                                    CmdletContext& context, CmdletOutput* output) {
  if (context.settings == nullptr) return NotConnected();
  mail::v1::NewCertificateRequest req;
  req.set_subject_name(args.GetString("SubjectName").value_or(""));
  if (auto domains = args.GetStringList("DomainName")) {
    for (const std::string& d : domains->values) req.add_domain_names(d);
  }
  if (req.subject_name().empty() && req.domain_names().empty()) {
    return CmdletStatus::Error(
        "Give the certificate's names: -SubjectName \"CN=mail.example.test\" and/or "
        "-DomainName mail.example.test,autodiscover.example.test.");
  }
  std::vector<CertificateService> services;
  bool none = false;
  if (CmdletStatus s = ParseServices(args, &services, &none); !s.ok()) return s;
  for (CertificateService s : services) req.add_services(s);
  req.set_friendly_name(args.GetString("FriendlyName").value_or(""));
  Certificate made;
  auto client = NewClientContext(context);
  grpc::Status status = context.settings->NewCertificate(client.get(), req, &made);
  if (!status.ok()) return CallFailed(status, req.subject_name(), context);
  output->records.push_back(CertificateRecord(made));
  return CmdletStatus::Ok();
}

CmdletStatus ImportExchangeCertificate(const BoundCommand& args, const std::vector<Record>&,
                                       CmdletContext& context, CmdletOutput* output) {
  if (context.settings == nullptr) return NotConnected();
  mail::v1::ImportCertificateRequest req;
  std::string chain;
  if (CmdletStatus s = ReadPemFile(args.GetString("FileName").value_or(""), &chain); !s.ok()) {
    return s;
  }
  req.set_chain_pem(std::move(chain));
  if (auto key_file = args.GetString("PrivateKeyFile")) {
    std::string key;
    if (CmdletStatus s = ReadPemFile(*key_file, &key); !s.ok()) return s;
    req.set_private_key_pem(std::move(key));
  }
  req.set_friendly_name(args.GetString("FriendlyName").value_or(""));
  Certificate imported;
  auto client = NewClientContext(context);
  grpc::Status status = context.settings->ImportCertificate(client.get(), req, &imported);
  if (!status.ok()) return CallFailed(status, args.GetString("FileName").value_or(""), context);
  output->records.push_back(CertificateRecord(imported));
  return CmdletStatus::Ok();
}

CmdletStatus EnableExchangeCertificate(const BoundCommand& args, const std::vector<Record>&,
                                       CmdletContext& context, CmdletOutput*) {
  if (context.settings == nullptr) return NotConnected();
  mail::v1::EnableCertificateRequest req;
  req.set_thumbprint(args.GetString("Thumbprint").value_or(""));
  std::vector<CertificateService> services;
  bool none = false;
  if (CmdletStatus s = ParseServices(args, &services, &none); !s.ok()) return s;
  if (services.empty() && !none) {
    return CmdletStatus::Error("Give the services: -Services IMAP,POP,SMTP (or None).");
  }
  for (CertificateService s : services) req.add_services(s);
  req.set_clear(none);
  Certificate changed;
  auto client = NewClientContext(context);
  grpc::Status status = context.settings->EnableCertificate(client.get(), req, &changed);
  if (!status.ok()) return CallFailed(status, req.thumbprint(), context);
  return CmdletStatus::Ok();
}

CmdletStatus RemoveExchangeCertificate(const BoundCommand& args, const std::vector<Record>&,
                                       CmdletContext& context, CmdletOutput*) {
  if (context.settings == nullptr) return NotConnected();
  const std::string thumbprint = args.GetString("Thumbprint").value_or("");
  const std::string what = "Remove certificate with thumbprint " + thumbprint + "?";
  bool proceed = false;
  if (CmdletStatus s = ConfirmAction(
          args, context, what,
          "Removing certificate " + thumbprint +
              " needs confirmation, but standard input is "
              "not a terminal, so adminctl cannot ask. Add -Confirm:$false to do it without a "
              "prompt.",
          &proceed);
      !s.ok() || !proceed) {
    return s;
  }
  mail::v1::RemoveCertificateRequest req;
  req.set_thumbprint(thumbprint);
  req.set_force(args.GetSwitch("Force"));
  Certificate removed;
  auto client = NewClientContext(context);
  grpc::Status status = context.settings->RemoveCertificate(client.get(), req, &removed);
  if (!status.ok()) return CallFailed(status, thumbprint, context);
  if (!removed.services().empty()) {
    Warn(context, "The removed certificate was enabled for " + ServicesText(removed) +
                      "; those services now use the next enabled certificate or the node's "
                      "own certificate.");
  }
  return CmdletStatus::Ok();
}

parser::ParameterSpec ServicesSpec(bool mandatory) {
  return {.name = "Services",
          .type = ParamType::kStringList,
          .mandatory = mandatory,
          .enum_values = {"None", "IMAP", "POP", "SMTP"},
          .type_name = "Microsoft.Exchange.Data.AllowedServices"};
}

}  // namespace

void RegisterCertificateCmdlets(CmdletRegistry* registry) {
  registry->Add(Cmdlet{
      .schema = {"Get-ExchangeCertificate",
                 {
                     {.name = "Thumbprint", .position = 0, .aliases = {"Identity"}},
                     {.name = "DomainName"},
                 }},
      .handler = GetExchangeCertificate,
      .default_view = CertificateView(),
  });
  registry->Add(Cmdlet{
      .schema = {"New-ExchangeCertificate",
                 {
                     {.name = "SubjectName"},
                     {.name = "DomainName", .type = ParamType::kStringList},
                     ServicesSpec(/*mandatory=*/false),
                     {.name = "FriendlyName"},
                 }},
      .handler = NewExchangeCertificate,
      .default_view = CertificateView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Import-ExchangeCertificate",
                 {
                     {.name = "FileName", .mandatory = true, .position = 0},
                     {.name = "PrivateKeyFile"},
                     {.name = "FriendlyName"},
                 }},
      .handler = ImportExchangeCertificate,
      .default_view = CertificateView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Enable-ExchangeCertificate",
                 {
                     {.name = "Thumbprint",
                      .mandatory = true,
                      .position = 0,
                      .aliases = {"Identity"},
                      .from_pipeline = true},
                     ServicesSpec(/*mandatory=*/true),
                 }},
      .handler = EnableExchangeCertificate,
      .default_view = CertificateView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Remove-ExchangeCertificate",
                 {
                     {.name = "Thumbprint",
                      .mandatory = true,
                      .position = 0,
                      .aliases = {"Identity"},
                      .from_pipeline = true},
                     {.name = "Force", .type = ParamType::kSwitch},
                     {.name = "Confirm", .type = ParamType::kSwitch},
                 }},
      .handler = RemoveExchangeCertificate,
      .default_view = CertificateView(),
  });
}

}  // namespace adminctl
