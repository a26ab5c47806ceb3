#include "cas/autoconfig/autoconfig_http.h"

#include <cctype>
#include <string>
#include <string_view>

#include "cas/autoconfig/documents.h"
#include "cas/autoconfig/mail_address.h"

namespace cas::autoconfig {

namespace http = boost::beast::http;

namespace {

enum class Resource { kNone, kThunderbird, kAutodiscover, kApple };

std::string_view View(boost::beast::string_view s) { return {s.data(), s.size()}; }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

Resource Match(std::string_view path) {
  if (path == "/.well-known/autoconfig/mail/config-v1.1.xml" || path == "/mail/config-v1.1.xml") {
    return Resource::kThunderbird;
  }
  if (EqualsNoCase(path, "/autodiscover/autodiscover.xml")) return Resource::kAutodiscover;
  if (path == "/apple/mail.mobileconfig") return Resource::kApple;
  return Resource::kNone;
}

HttpResponse Document(std::string body, const char* content_type) {
  HttpResponse res{http::status::ok, 11};
  res.set(http::field::content_type, content_type);
  // Computed from the live settings and often for one address: never cached.
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

HttpResponse NoIncomingService() {
  HttpResponse res = TextResponse(http::status::service_unavailable,
                                  "No IMAP4 or POP3 service is running on this server");
  res.set(http::field::retry_after, "60");
  return res;
}

HttpResponse BadAddress() {
  return TextResponse(http::status::bad_request, "Not a valid email address");
}

// The domain a request without ?emailaddress= is about: the Host it was sent to, without the
// "autoconfig." Thunderbird puts in front and without the port; else the server's own name.
std::string DomainFromHost(const HttpRequest& req, const std::string& fallback) {
  auto host = req.find(http::field::host);
  if (host == req.end()) return fallback;
  std::string_view value = View(host->value());
  size_t colon = value.rfind(':');
  if (colon != std::string_view::npos) value = value.substr(0, colon);
  std::string lower;
  for (char c : value) {
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (lower.rfind("autoconfig.", 0) == 0) lower.erase(0, 11);
  return IsHostName(lower) ? lower : fallback;
}

}  // namespace

HttpResponse HandleAutoconfigRequest(const HttpRequest& req, const SnapshotFn& snapshot) {
  std::string_view target = View(req.target());
  // Absolute form ("http://host/path"), which servers must accept (RFC 9112 3.2.2).
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() >= scheme.size() && EqualsNoCase(target.substr(0, scheme.size()), scheme)) {
      size_t slash = target.find('/', scheme.size());
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
      break;
    }
  }
  if (target.empty() || target.front() != '/') {
    return TextResponse(http::status::bad_request, "Bad request target");
  }
  if (req.version() >= 11 && req.find(http::field::host) == req.end()) {
    return TextResponse(http::status::bad_request, "Host header required");
  }
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);

  Resource resource = Match(path);
  if (resource == Resource::kNone) return TextResponse(http::status::not_found, "Not found");
  const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
  const bool post = req.method() == http::verb::post;
  if ((resource == Resource::kAutodiscover && !post) ||
      (resource != Resource::kAutodiscover && !get)) {
    HttpResponse res = TextResponse(http::status::method_not_allowed, "Method not allowed");
    res.set(http::field::allow, resource == Resource::kAutodiscover ? "POST" : "GET, HEAD");
    return res;
  }

  std::optional<MailAddress> address;
  if (resource == Resource::kAutodiscover) {
    auto request = ParseAutodiscoverRequest(req.body());
    if (!request || request->email_address.empty()) {
      return TextResponse(http::status::bad_request, "No EMailAddress in the request");
    }
    address = ParseMailAddress(request->email_address);
    if (!address) return BadAddress();
    if (!request->acceptable_response_schema.empty() &&
        request->acceptable_response_schema != kOutlookResponseSchema) {
      // ActiveSync (mobilesync) and other providers are not served here.
      return Document(AutodiscoverError(601, "Provider is not available"),
                      "text/xml; charset=utf-8");
    }
  } else {
    bool malformed = false;
    auto value = QueryParameter(query, "emailaddress", &malformed);
    if (malformed) return BadAddress();
    if (value) {
      address = ParseMailAddress(*value);
      if (!address) return BadAddress();
    } else if (resource == Resource::kApple) {
      return TextResponse(http::status::bad_request, "emailaddress is required");
    }
  }

  ClientSettings settings = ComputeClientSettings(snapshot());
  if (!settings.has_incoming()) return NoIncomingService();
  switch (resource) {
    case Resource::kThunderbird: {
      std::string domain = address ? address->domain : DomainFromHost(req, settings.host_name);
      return Document(ThunderbirdConfig(settings, domain), "application/xml; charset=utf-8");
    }
    case Resource::kAutodiscover:
      return Document(AutodiscoverResponse(settings, *address), "text/xml; charset=utf-8");
    case Resource::kApple: {
      HttpResponse res =
          Document(AppleProfile(settings, *address), "application/x-apple-aspen-config");
      res.set(http::field::content_disposition, "attachment; filename=\"mail.mobileconfig\"");
      return res;
    }
    case Resource::kNone:
      break;
  }
  return TextResponse(http::status::not_found, "Not found");
}

}  // namespace cas::autoconfig
