// Get-ClientAccessDnsRecords (alias Get-MailDnsRecords): the DNS records to publish so that
// mail clients find the servers by themselves: RFC 6186 SRV records (with RFC 8314's
// implicit-TLS names), the autoconfig/autodiscover names and MX, for every accepted domain,
// from what the nodes run and listen on now.
#include <string>
#include <vector>

#include "adminctl/client_access.h"
#include "adminctl/cmdlet.h"
#include "adminctl/parser/strings.h"

namespace adminctl {
namespace {

using parser::BoundCommand;
using parser::ParamType;

// Records are printed as zone-file lines: the table's columns are a zone file's fields.
const View& DnsRecordsView() {
  static const View* view = new View{View::Kind::kTable, {"Name", "TTL", "Class", "Type", "Data"}};
  return *view;
}

constexpr int kTtlSeconds = 3600;

// One SRV name per protocol and security. The priorities make clients that follow RFC 6186
// section 3.4 prefer IMAP4 to POP3 and implicit TLS to STARTTLS (RFC 8314 section 5.1).
struct SrvService {
  const char* label;
  common::ClientProtocol protocol;
  common::ClientSecurity security;
  int priority;
};

constexpr SrvService kSrvServices[] = {
    {"_imaps._tcp", common::ClientProtocol::kImap4, common::ClientSecurity::kImplicitTls, 0},
    {"_imap._tcp", common::ClientProtocol::kImap4, common::ClientSecurity::kStartTls, 10},
    {"_pop3s._tcp", common::ClientProtocol::kPop3, common::ClientSecurity::kImplicitTls, 20},
    {"_pop3._tcp", common::ClientProtocol::kPop3, common::ClientSecurity::kStartTls, 30},
    {"_submissions._tcp", common::ClientProtocol::kSmtp, common::ClientSecurity::kImplicitTls, 0},
    {"_submission._tcp", common::ClientProtocol::kSmtp, common::ClientSecurity::kStartTls, 10},
};

Record DnsRecord(const std::string& domain, const std::string& name, const std::string& type,
                 const std::string& data, bool offered, const std::string& comment) {
  Record r;
  r.Add("Domain", domain);
  r.Add("Name", name);
  r.Add("TTL", std::to_string(kTtlSeconds));
  r.Add("Class", "IN");
  r.Add("Type", type);
  r.Add("Data", data);
  r.Add("Offered", FormatBool(offered));
  r.Add("Comment", comment);
  return r;
}

void AddDomainRecords(const std::string& domain, const common::ClientSettings& servers,
                      std::vector<Record>* out) {
  const std::string zone = domain + ".";
  const std::string target = servers.host_name + ".";
  out->push_back(DnsRecord(
      domain, zone, "MX", "10 " + target, true,
      "Mail for " + domain + " is delivered to " + servers.host_name + " (SMTP, port 25)."));
  for (const SrvService& srv : kSrvServices) {
    const std::vector<common::ServerEndpoint>& list =
        srv.protocol == common::ClientProtocol::kImap4  ? servers.imap4
        : srv.protocol == common::ClientProtocol::kPop3 ? servers.pop3
                                                        : servers.smtp;
    const std::string name = std::string(srv.label) + "." + zone;
    const std::string what = ProtocolName(srv.protocol) + " with " + ClientEncryption(srv.security);
    bool any = false;
    for (const common::ServerEndpoint& e : list) {
      if (e.security != srv.security) continue;
      any = true;
      out->push_back(
          DnsRecord(domain, name, "SRV",
                    std::to_string(srv.priority) + " 1 " + std::to_string(e.port) + " " + target,
                    true, what + " on port " + std::to_string(e.port) + "."));
    }
    if (!any) {
      // RFC 6186 section 3.4: the target "." says the service is not offered.
      out->push_back(DnsRecord(domain, name, "SRV", "0 0 0 .", false,
                               what + " is not offered now (stopped, no listener, or not "
                                      "allowed by the settings)."));
    }
  }
  // Thunderbird asks http(s)://autoconfig.<domain>/mail/config-v1.1.xml, Outlook
  // https://autodiscover.<domain>/autodiscover/autodiscover.xml; casd answers both on its
  // autoconfig bindings.
  for (const char* label : {"autoconfig", "autodiscover"}) {
    out->push_back(
        DnsRecord(domain, std::string(label) + "." + zone, "CNAME", target, true,
                  std::string(label == std::string("autoconfig") ? "Thunderbird autoconfiguration"
                                                                 : "Outlook Autodiscover") +
                      ": point it at the host that runs casd's autoconfig "
                      "listener (or give it an A/AAAA record)."));
  }
}

CmdletStatus GetClientAccessDnsRecords(const BoundCommand& args, const std::vector<Record>&,
                                       CmdletContext& context, CmdletOutput* output) {
  std::vector<std::string> domains;
  {
    mail::v1::ListAcceptedDomainsResponse response;
    auto client = NewClientContext(context);
    grpc::Status status = context.directory->ListAcceptedDomains(
        client.get(), mail::v1::ListAcceptedDomainsRequest(), &response);
    if (!status.ok()) return StatusFromGrpc(status, "accepted domains", context);
    for (const mail::v1::AcceptedDomain& d : response.domains()) domains.push_back(d.domain_name());
  }
  if (std::optional<std::string> only = args.GetString("DomainName")) {
    std::vector<std::string> chosen;
    for (const std::string& d : domains) {
      if (parser::WildcardMatch(*only, d)) chosen.push_back(d);
    }
    if (chosen.empty()) {
      return CmdletStatus::Error("The operation couldn't be performed because accepted domain '" +
                                 *only + "' couldn't be found.");
    }
    domains = std::move(chosen);
  }
  if (domains.empty()) {
    return CmdletStatus::Error(
        "There is no accepted domain to publish records for yet: the domain of the first "
        "mailbox's address becomes one (New-Mailbox).");
  }
  ClientAccess access;
  if (CmdletStatus s = GetClientAccess(context, &access); !s.ok()) return s;
  if (access.servers.host_name.empty()) {
    return CmdletStatus::Error(
        "No casd node has registered with the control plane, so there is no server name to "
        "publish. Start casd (see Get-Service).");
  }
  for (const std::string& d : domains) AddDomainRecords(d, access.servers, &output->records);
  return CmdletStatus::Ok();
}

}  // namespace

void RegisterClientAccessCmdlets(CmdletRegistry* registry) {
  registry->Add(Cmdlet{
      .schema = {"Get-ClientAccessDnsRecords",
                 {
                     {.name = "DomainName", .position = 0},
                 }},
      .aliases = {"Get-MailDnsRecords"},
      .handler = GetClientAccessDnsRecords,
      .default_view = DnsRecordsView(),
  });
}

}  // namespace adminctl
