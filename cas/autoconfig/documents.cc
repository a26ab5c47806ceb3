#include "cas/autoconfig/documents.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <vector>

namespace cas::autoconfig {
namespace {

constexpr std::string_view kXmlDeclaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

std::string SocketType(Security s) { return s == Security::kImplicitTls ? "SSL" : "STARTTLS"; }

void AppendElement(std::string* out, std::string_view indent, std::string_view name,
                   std::string_view value) {
  out->append(indent).append("<").append(name).append(">");
  out->append(XmlEscape(value));
  out->append("</").append(name).append(">\n");
}

void AppendThunderbirdServer(std::string* out, std::string_view element, std::string_view type,
                             const std::string& host, const ServerEndpoint& e) {
  out->append("    <").append(element).append(" type=\"").append(type).append("\">\n");
  AppendElement(out, "      ", "hostname", host);
  AppendElement(out, "      ", "port", std::to_string(e.port));
  AppendElement(out, "      ", "socketType", SocketType(e.security));
  AppendElement(out, "      ", "authentication", "password-cleartext");
  AppendElement(out, "      ", "username", "%EMAILADDRESS%");
  out->append("    </").append(element).append(">\n");
}

void AppendAutodiscoverProtocol(std::string* out, std::string_view type, const std::string& host,
                                const ServerEndpoint& e, const std::string& login) {
  const std::string_view in = "      ";
  out->append("      <Protocol>\n");
  AppendElement(out, "        ", "Type", type);
  AppendElement(out, "        ", "Server", host);
  AppendElement(out, "        ", "Port", std::to_string(e.port));
  AppendElement(out, "        ", "DomainRequired", "off");
  AppendElement(out, "        ", "LoginName", login);
  AppendElement(out, "        ", "SPA", "off");
  // Outlook reads Encryption when present (SSL: implicit TLS, TLS: STARTTLS); SSL "on" for
  // older clients that only know that element.
  AppendElement(out, "        ", "SSL", "on");
  AppendElement(out, "        ", "Encryption",
                e.security == Security::kImplicitTls ? "SSL" : "TLS");
  if (e.protocol == Protocol::kSmtp) {
    AppendElement(out, "        ", "AuthRequired", "on");
    AppendElement(out, "        ", "UsePOPAuth", "on");
  }
  out->append(in).append("</Protocol>\n");
}

void PlistKey(std::string* out, std::string_view indent, std::string_view key) {
  out->append(indent).append("<key>").append(XmlEscape(key)).append("</key>\n");
}
void PlistString(std::string* out, std::string_view indent, std::string_view key,
                 std::string_view value) {
  PlistKey(out, indent, key);
  out->append(indent).append("<string>").append(XmlEscape(value)).append("</string>\n");
}
void PlistInteger(std::string* out, std::string_view indent, std::string_view key, int64_t value) {
  PlistKey(out, indent, key);
  out->append(indent).append("<integer>").append(std::to_string(value)).append("</integer>\n");
}
void PlistBool(std::string* out, std::string_view indent, std::string_view key, bool value) {
  PlistKey(out, indent, key);
  out->append(indent).append(value ? "<true/>\n" : "<false/>\n");
}

// "mail.example.test" -> "test.example.mail": the reverse-DNS style Apple identifiers use.
std::string ReverseDns(std::string_view host) {
  std::vector<std::string_view> labels;
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    labels.push_back(
        host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  std::string out;
  for (auto it = labels.rbegin(); it != labels.rend(); ++it) {
    if (it->empty()) continue;
    if (!out.empty()) out.push_back('.');
    out.append(*it);
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Decodes the five predefined entities and character references to ASCII characters; nullopt
// for anything else (addresses and schema URLs are ASCII).
std::optional<std::string> DecodeXmlText(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out.push_back(text[i]);
      continue;
    }
    size_t semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) return std::nullopt;
    std::string_view ref = text.substr(i + 1, semi - i - 1);
    i = semi;
    if (ref == "amp") {
      out.push_back('&');
    } else if (ref == "lt") {
      out.push_back('<');
    } else if (ref == "gt") {
      out.push_back('>');
    } else if (ref == "quot") {
      out.push_back('"');
    } else if (ref == "apos") {
      out.push_back('\'');
    } else if (ref.size() >= 2 && ref[0] == '#') {
      bool hex = ref[1] == 'x' || ref[1] == 'X';
      std::string_view digits = ref.substr(hex ? 2 : 1);
      if (digits.empty()) return std::nullopt;
      unsigned value = 0;
      for (char c : digits) {
        int d;
        if (c >= '0' && c <= '9') {
          d = c - '0';
        } else if (hex && c >= 'a' && c <= 'f') {
          d = c - 'a' + 10;
        } else if (hex && c >= 'A' && c <= 'F') {
          d = c - 'A' + 10;
        } else {
          return std::nullopt;
        }
        value = value * (hex ? 16 : 10) + static_cast<unsigned>(d);
        if (value > 0x7f) return std::nullopt;
      }
      if (value == 0) return std::nullopt;
      out.push_back(static_cast<char>(value));
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The end of the tag that starts at `lt` ('>' outside quoted attribute values), or npos.
size_t TagEnd(std::string_view doc, size_t lt) {
  char quote = 0;
  for (size_t i = lt + 1; i < doc.size(); ++i) {
    char c = doc[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      return i;
    }
  }
  return std::string_view::npos;
}

struct FoundText {
  bool found = false;
  std::string text;
};

// The text of the first element whose local name is `local_name` (namespace prefixes are
// ignored). Only plain text content is read; CDATA sections are taken as they are.
std::optional<FoundText> ElementText(std::string_view doc, std::string_view local_name) {
  size_t i = 0;
  while ((i = doc.find('<', i)) != std::string_view::npos) {
    if (doc.substr(i, 4) == "<!--") {
      size_t end = doc.find("-->", i + 4);
      if (end == std::string_view::npos) return std::nullopt;
      i = end + 3;
      continue;
    }
    size_t gt = TagEnd(doc, i);
    if (gt == std::string_view::npos) return std::nullopt;
    if (i + 1 < doc.size() && (doc[i + 1] == '/' || doc[i + 1] == '?' || doc[i + 1] == '!')) {
      i = gt + 1;
      continue;
    }
    size_t name_end = i + 1;
    while (name_end < gt && !std::isspace(static_cast<unsigned char>(doc[name_end])) &&
           doc[name_end] != '/') {
      ++name_end;
    }
    std::string_view name = doc.substr(i + 1, name_end - i - 1);
    size_t colon = name.find(':');
    if (colon != std::string_view::npos) name = name.substr(colon + 1);
    if (name != local_name) {
      i = gt + 1;
      continue;
    }
    if (doc[gt - 1] == '/') return FoundText{true, ""};
    std::string_view rest = doc.substr(gt + 1);
    std::string text;
    if (rest.substr(0, 9) == "<![CDATA[") {
      size_t end = rest.find("]]>");
      if (end == std::string_view::npos) return std::nullopt;
      return FoundText{true, std::string(Trim(rest.substr(9, end - 9)))};
    }
    size_t end = rest.find('<');
    if (end == std::string_view::npos) return std::nullopt;
    auto decoded = DecodeXmlText(Trim(rest.substr(0, end)));
    if (!decoded) return std::nullopt;
    return FoundText{true, std::string(Trim(*decoded))};
  }
  return FoundText{};
}

}  // namespace

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') break;
        out.push_back(c);
    }
  }
  return out;
}

std::string ThunderbirdConfig(const ClientSettings& settings, std::string_view domain) {
  std::string out(kXmlDeclaration);
  out += "<clientConfig version=\"1.1\">\n";
  out += "  <emailProvider id=\"" + XmlEscape(domain) + "\">\n";
  AppendElement(&out, "    ", "domain", domain);
  AppendElement(&out, "    ", "displayName", domain);
  AppendElement(&out, "    ", "displayShortName", domain);
  for (const ServerEndpoint& e : settings.imap4) {
    AppendThunderbirdServer(&out, "incomingServer", "imap", settings.host_name, e);
  }
  for (const ServerEndpoint& e : settings.pop3) {
    AppendThunderbirdServer(&out, "incomingServer", "pop3", settings.host_name, e);
  }
  for (const ServerEndpoint& e : settings.smtp) {
    AppendThunderbirdServer(&out, "outgoingServer", "smtp", settings.host_name, e);
  }
  out += "  </emailProvider>\n";
  out += "</clientConfig>\n";
  return out;
}

std::string AutodiscoverResponse(const ClientSettings& settings, const MailAddress& address) {
  const std::string login = address.ToString();
  std::string out(kXmlDeclaration);
  out += "<Autodiscover xmlns=\"" + std::string(kAutodiscoverResponseNamespace) + "\">\n";
  out += "  <Response xmlns=\"" + std::string(kOutlookResponseSchema) + "\">\n";
  out += "    <Account>\n";
  AppendElement(&out, "      ", "AccountType", "email");
  AppendElement(&out, "      ", "Action", "settings");
  if (!settings.imap4.empty()) {
    AppendAutodiscoverProtocol(&out, "IMAP", settings.host_name, settings.imap4.front(), login);
  }
  if (!settings.pop3.empty()) {
    AppendAutodiscoverProtocol(&out, "POP3", settings.host_name, settings.pop3.front(), login);
  }
  if (!settings.smtp.empty()) {
    AppendAutodiscoverProtocol(&out, "SMTP", settings.host_name, settings.smtp.front(), login);
  }
  out += "    </Account>\n";
  out += "  </Response>\n";
  out += "</Autodiscover>\n";
  return out;
}

std::string AutodiscoverError(int code, std::string_view message) {
  std::string out(kXmlDeclaration);
  out += "<Autodiscover xmlns=\"" + std::string(kAutodiscoverResponseNamespace) + "\">\n";
  out += "  <Response>\n";
  out += "    <Error>\n";
  AppendElement(&out, "      ", "ErrorCode", std::to_string(code));
  AppendElement(&out, "      ", "Message", message);
  out += "      <DebugData />\n";
  out += "    </Error>\n";
  out += "  </Response>\n";
  out += "</Autodiscover>\n";
  return out;
}

std::optional<AutodiscoverRequest> ParseAutodiscoverRequest(std::string_view body) {
  auto email = ElementText(body, "EMailAddress");
  if (!email) return std::nullopt;
  auto schema = ElementText(body, "AcceptableResponseSchema");
  if (!schema) return std::nullopt;
  AutodiscoverRequest out;
  out.email_address = std::move(email->text);
  out.acceptable_response_schema = std::move(schema->text);
  return out;
}

std::string AppleProfile(const ClientSettings& settings, const MailAddress& address) {
  const std::string email = address.ToString();
  const bool imap = !settings.imap4.empty();
  const ServerEndpoint& incoming = imap ? settings.imap4.front() : settings.pop3.front();
  const std::string key = "mailto:" + Lower(address.local_part) + "@" + address.domain +
                          "?host=" + Lower(settings.host_name);
  const std::string profile_uuid = NameBasedUuid(key + "&payload=profile");
  const std::string mail_uuid = NameBasedUuid(key + "&payload=mail");
  const std::string identifier = ReverseDns(Lower(settings.host_name)) + ".mailprofile";

  std::string out(kXmlDeclaration);
  out +=
      "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
      "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n";
  out += "<plist version=\"1.0\">\n";
  out += "<dict>\n";
  PlistKey(&out, "  ", "PayloadContent");
  out += "  <array>\n";
  out += "    <dict>\n";
  const std::string_view in = "      ";
  PlistString(&out, in, "EmailAccountDescription", email);
  PlistString(&out, in, "EmailAccountType", imap ? "EmailTypeIMAP" : "EmailTypePOP");
  PlistString(&out, in, "EmailAddress", email);
  PlistString(&out, in, "IncomingMailServerAuthentication", "EmailAuthPassword");
  PlistString(&out, in, "IncomingMailServerHostName", settings.host_name);
  PlistInteger(&out, in, "IncomingMailServerPortNumber", incoming.port);
  PlistBool(&out, in, "IncomingMailServerUseSSL", true);
  PlistString(&out, in, "IncomingMailServerUsername", email);
  if (!settings.smtp.empty()) {
    const ServerEndpoint& outgoing = settings.smtp.front();
    PlistString(&out, in, "OutgoingMailServerAuthentication", "EmailAuthPassword");
    PlistString(&out, in, "OutgoingMailServerHostName", settings.host_name);
    PlistInteger(&out, in, "OutgoingMailServerPortNumber", outgoing.port);
    PlistBool(&out, in, "OutgoingMailServerUseSSL", true);
    PlistString(&out, in, "OutgoingMailServerUsername", email);
    PlistBool(&out, in, "OutgoingPasswordSameAsIncomingPassword", true);
  }
  PlistString(&out, in, "PayloadDescription", "Mail account " + email);
  PlistString(&out, in, "PayloadDisplayName", email);
  PlistString(&out, in, "PayloadIdentifier", identifier + "." + mail_uuid + ".mail");
  PlistString(&out, in, "PayloadType", "com.apple.mail.managed");
  PlistString(&out, in, "PayloadUUID", mail_uuid);
  PlistInteger(&out, in, "PayloadVersion", 1);
  out += "    </dict>\n";
  out += "  </array>\n";
  PlistString(&out, "  ", "PayloadDescription",
              "Sets up the mail account " + email + " on " + settings.host_name + ".");
  PlistString(&out, "  ", "PayloadDisplayName", "Mail (" + email + ")");
  PlistString(&out, "  ", "PayloadIdentifier", identifier + "." + profile_uuid);
  PlistBool(&out, "  ", "PayloadRemovalDisallowed", false);
  PlistString(&out, "  ", "PayloadType", "Configuration");
  PlistString(&out, "  ", "PayloadUUID", profile_uuid);
  PlistInteger(&out, "  ", "PayloadVersion", 1);
  out += "</dict>\n";
  out += "</plist>\n";
  return out;
}

std::string NameBasedUuid(std::string_view name) {
  // RFC 4122 section 4.3 with the URL namespace 6ba7b811-9dad-11d1-80b4-00c04fd430c8.
  static constexpr unsigned char kUrlNamespace[16] = {0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad,
                                                      0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0,
                                                      0x4f, 0xd4, 0x30, 0xc8};
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr);
  EVP_DigestUpdate(ctx, kUrlNamespace, sizeof(kUrlNamespace));
  EVP_DigestUpdate(ctx, name.data(), name.size());
  EVP_DigestFinal_ex(ctx, digest, &length);
  EVP_MD_CTX_free(ctx);
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x50);  // Version 5.
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);  // RFC 4122 variant.
  std::string out;
  char hex[3];
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    std::snprintf(hex, sizeof(hex), "%02X", digest[i]);
    out.append(hex);
  }
  return out;
}

}  // namespace cas::autoconfig
