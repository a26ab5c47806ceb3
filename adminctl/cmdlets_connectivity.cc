// Test-ImapConnectivity, Test-PopConnectivity and Test-SmtpConnectivity: for every endpoint
// that a node reports for the service (Control.GetServices), do what a mail client does,
// step by step, and show one row per step: TCP, TLS, Certificate, Capability, Login, and Read
// (IMAP4, POP3) or Send (SMTP). A failed step skips the rest of its endpoint; the cmdlet then
// reports a non-terminating error per failed endpoint, so that the line fails (exit status 1)
// while every row is still shown. The password is sent only over TLS and never printed.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adminctl/cmdlet.h"
#include "adminctl/parser/strings.h"
#include "adminctl/probe.h"
#include "common/base64.h"

namespace adminctl {
namespace {

using Clock = ProbeConnection::Clock;
using parser::BoundCommand;
using parser::BoundValue;
using parser::ParamType;

enum class Protocol { kImap, kPop, kSmtp };

struct ProtocolInfo {
  Protocol protocol;
  std::string_view cmdlet;
  mail::v1::ServiceName service;
  std::string_view service_name;  // As Get-Service names it.
  std::string_view process;       // The program that runs it.
  std::string_view plain_scheme;  // STARTTLS endpoints.
  std::string_view tls_scheme;    // Implicit TLS endpoints.
};

constexpr ProtocolInfo kImap = {.protocol = Protocol::kImap,
                                .cmdlet = "Test-ImapConnectivity",
                                .service = mail::v1::SERVICE_NAME_IMAP4,
                                .service_name = "IMAP4",
                                .process = "casd",
                                .plain_scheme = "imap",
                                .tls_scheme = "imaps"};
constexpr ProtocolInfo kPop = {.protocol = Protocol::kPop,
                               .cmdlet = "Test-PopConnectivity",
                               .service = mail::v1::SERVICE_NAME_POP3,
                               .service_name = "POP3",
                               .process = "casd",
                               .plain_scheme = "pop3",
                               .tls_scheme = "pop3s"};
constexpr ProtocolInfo kSmtp = {.protocol = Protocol::kSmtp,
                                .cmdlet = "Test-SmtpConnectivity",
                                .service = mail::v1::SERVICE_NAME_SMTP,
                                .service_name = "SMTP",
                                .process = "transportd",
                                .plain_scheme = "smtp",
                                .tls_scheme = "smtps"};

// Default: -Timeout 10 (seconds, each step).
constexpr int64_t kDefaultTimeoutSeconds = 10;
constexpr int64_t kMaxTimeoutSeconds = 3600;
// LOGOUT / QUIT at the end are polite, not a step: they get at most this long.
constexpr std::chrono::milliseconds kGoodbyeTimeout{2000};
// A server's reply may be this long (IMAP untagged data) or have this many lines (POP3 and
// SMTP multi-line replies); a longer one fails the step.
constexpr size_t kMaxReply = 4 * 1024 * 1024;
constexpr size_t kMaxReplyLines = 1000;

// ---------------------------------------------------------------------------------------------
// Steps

enum class Result { kSuccess, kFailure, kWarning, kSkipped };

std::string_view ResultText(Result r) {
  switch (r) {
    case Result::kSuccess:
      return "Success";
    case Result::kFailure:
      return "Failure";
    case Result::kWarning:
      return "Warning";
    case Result::kSkipped:
      return "Skipped";
  }
  return "";
}

struct Outcome {
  Result result;
  std::string detail;
};

Outcome Success(std::string detail) { return {Result::kSuccess, std::move(detail)}; }
Outcome Failure(std::string detail) { return {Result::kFailure, std::move(detail)}; }
Outcome Warning(std::string detail) { return {Result::kWarning, std::move(detail)}; }
Outcome Skipped(std::string detail) { return {Result::kSkipped, std::move(detail)}; }

struct StepRow {
  std::string step;
  Result result = Result::kSkipped;
  std::optional<int64_t> latency_ms;  // Not set for steps that did not run.
  std::string detail;
};

// Runs an endpoint's steps in order and keeps their rows; once a step fails, the later ones
// are not run and show as Skipped.
class StepRunner {
 public:
  void Run(std::string_view step, const std::function<Outcome()>& body) {
    if (!failed_step_.empty()) {
      rows_.push_back({std::string(step), Result::kSkipped, std::nullopt,
                       "not run: the " + failed_step_ + " step failed"});
      return;
    }
    const Clock::time_point start = Clock::now();
    Outcome o = body();
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    const bool ran = o.result != Result::kSkipped;
    rows_.push_back({std::string(step), o.result, ran ? std::optional<int64_t>(ms) : std::nullopt,
                     std::move(o.detail)});
    if (o.result == Result::kFailure) failed_step_ = std::string(step);
  }

  bool failed() const { return !failed_step_.empty(); }
  std::vector<StepRow>& rows() { return rows_; }

 private:
  std::vector<StepRow> rows_;
  std::string failed_step_;
};

struct CheckOptions {
  std::string user;
  std::string password;
  // SMTP: MAIL FROM and RCPT TO. Empty when unknown; `address_missing` then says why.
  std::string address;
  std::string address_missing;
  std::string host_override;  // -Host.
  std::string ehlo_name;      // SMTP EHLO argument.
  std::string node;           // For the test message's text.
  bool light_mode = false;
  bool trust_any_certificate = false;
  bool send_test_message = false;
  std::chrono::milliseconds timeout{kDefaultTimeoutSeconds * 1000};
};

std::string Seconds(std::chrono::milliseconds timeout) {
  const int64_t ms = timeout.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

// A failed network operation as a Detail: "timed out after 10 s waiting for the greeting",
// "the server closed the connection (waiting for the greeting)".
std::string Describe(const common::Status& status, std::string_view waiting_for,
                     const CheckOptions& options) {
  if (status.code() == common::StatusCode::kDeadlineExceeded) {
    return "timed out after " + Seconds(options.timeout) + " waiting for " +
           std::string(waiting_for);
  }
  return status.message() + " (waiting for " + std::string(waiting_for) + ")";
}

std::string Date(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm = {};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d", &tm);
  return text;
}

std::string Plural(uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// The Certificate step: a trusted certificate is a Success; an untrusted one (self-signed is
// the default) or one for another name is a Warning, since clients can be told to accept it.
Outcome CertificateOutcome(const ProbeConnection& conn, const std::string& host,
                           const CheckOptions& options) {
  const PeerCertificate& c = conn.certificate();
  if (!c.present) return Failure("the server sent no certificate");
  const std::string subject = c.subject.empty() ? "(no subject)" : c.subject;
  const std::string expires = c.not_after_unix != 0 ? ", expires " + Date(c.not_after_unix) : "";
  if (options.trust_any_certificate) {
    const bool doubtful = !c.trusted || c.expired || (c.name_checked && !c.name_matches);
    return Success(subject + expires +
                   (doubtful ? "; accepted without verification (-TrustAnyCertificate)" : ""));
  }
  if (c.expired) {
    return Warning("certificate expired on " + Date(c.not_after_unix) + ": " + subject);
  }
  if (!c.trusted) {
    if (c.self_signed) {
      return Warning("certificate not trusted: self-signed for " +
                     (c.common_name.empty() ? subject : c.common_name) + expires);
    }
    return Warning("certificate not trusted: " + c.untrusted_reason + " (" + subject +
                   ", issued by " + c.issuer + ")");
  }
  if (c.name_checked && !c.name_matches) {
    std::string names;
    for (const std::string& n : c.dns_names) names += (names.empty() ? "" : ", ") + n;
    return Warning("certificate not valid for " + host + ": it is for " +
                   (names.empty() ? subject : names));
  }
  return Success(subject + expires);
}

std::string TlsText(const ProbeConnection& conn) {
  return conn.tls_version() + " " + conn.tls_cipher();
}

bool HasLineBreak(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// What every protocol does the same way: connect, the TLS handshake and the certificate.
class Probe {
 public:
  Probe(const ProbeEndpoint& endpoint, const CheckOptions& options)
      : endpoint_(endpoint),
        options_(options),
        host_(ConnectHost(endpoint.host, options.host_override)) {}

  Clock::time_point Deadline() const { return Clock::now() + options_.timeout; }

  Outcome Connect() {
    common::Status s = conn_.Connect(host_, endpoint_.port, Deadline());
    if (!s.ok()) {
      if (s.code() == common::StatusCode::kDeadlineExceeded) {
        return Failure(s.message() + " within " + Seconds(options_.timeout));
      }
      return Failure(s.message());
    }
    return Success("connected to " + conn_.peer_address());
  }

  // The handshake; `how` prefixes the detail ("STARTTLS, ").
  Outcome Handshake(std::string_view how) {
    common::Status s = conn_.StartTls(host_, Deadline());
    if (!s.ok()) {
      if (s.code() == common::StatusCode::kDeadlineExceeded) {
        return Failure(s.message() + " within " + Seconds(options_.timeout));
      }
      return Failure(s.message());
    }
    return Success(std::string(how) + TlsText(conn_));
  }

  Outcome Certificate() {
    if (!conn_.tls_active()) return Skipped("no TLS");
    return CertificateOutcome(conn_, host_, options_);
  }

  ProbeConnection& conn() { return conn_; }
  const CheckOptions& options() const { return options_; }

 private:
  const ProbeEndpoint& endpoint_;
  const CheckOptions& options_;
  std::string host_;
  ProbeConnection conn_;
};

// ---------------------------------------------------------------------------------------------
// IMAP4

struct ImapResponse {
  std::string status;  // OK, NO or BAD.
  std::string text;    // The tagged line without its tag: "NO [AUTHENTICATIONFAILED] ...".
  std::vector<std::string> untagged;  // Without "* ".
};

// The "{123}" or "{123+}" at the end of `line`, or nullopt.
std::optional<size_t> LiteralSize(std::string_view line) {
  if (!line.ends_with('}')) return std::nullopt;
  size_t open = line.rfind('{');
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view digits = line.substr(open + 1, line.size() - open - 2);
  if (digits.ends_with('+')) digits.remove_suffix(1);
  if (digits.empty() || digits.size() > 9) return std::nullopt;
  size_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  return n;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// "123" as a number; nullopt for anything else.
std::optional<uint64_t> Number(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

bool StartsWithWord(std::string_view line, std::string_view word) {
  return line.size() >= word.size() &&
         parser::EqualsIgnoreCase(line.substr(0, word.size()), word) &&
         (line.size() == word.size() || line[word.size()] == ' ');
}

class ImapClient {
 public:
  explicit ImapClient(Probe& probe) : probe_(probe) {}

  std::string NextTag() { return "a" + std::to_string(++tag_); }

  // Reads one whole response line (with the literals it announces).
  common::StatusOr<std::string> ReadResponseLine(Clock::time_point deadline) {
    auto line = probe_.conn().ReadLine(deadline);
    if (!line.ok()) return line.status();
    std::string whole = std::move(*line);
    while (std::optional<size_t> n = LiteralSize(whole)) {
      auto data = probe_.conn().ReadExactly(*n, deadline);
      if (!data.ok()) return data.status();
      auto more = probe_.conn().ReadLine(deadline);
      if (!more.ok()) return more.status();
      whole += "\r\n" + *data + *more;
    }
    return whole;
  }

  // Reads until the tagged reply to `tag`.
  common::StatusOr<ImapResponse> ReadResponse(const std::string& tag, Clock::time_point deadline) {
    ImapResponse r;
    std::string bye;
    size_t untagged_bytes = 0;
    for (;;) {
      auto line = ReadResponseLine(deadline);
      if (!line.ok()) {
        if (!bye.empty()) return common::Status(common::StatusCode::kUnavailable, bye);
        return line.status();
      }
      if (line->starts_with(tag + " ")) {
        r.text = line->substr(tag.size() + 1);
        size_t space = r.text.find(' ');
        r.status = Upper(r.text.substr(0, space));
        return r;
      }
      untagged_bytes += line->size();
      if (untagged_bytes > kMaxReply) {
        return common::Status(common::StatusCode::kOutOfRange,
                              "the server's reply is longer than 4 MiB");
      }
      if (line->starts_with("* ")) {
        std::string untagged = line->substr(2);
        if (StartsWithWord(untagged, "BYE")) bye = "* " + untagged;
        r.untagged.push_back(std::move(untagged));
      }
      // "+ " continuation requests are not expected here and are ignored.
    }
  }

  common::StatusOr<ImapResponse> Command(std::string_view command, Clock::time_point deadline) {
    const std::string tag = NextTag();
    common::Status s = probe_.conn().Write(tag + " " + std::string(command) + "\r\n", deadline);
    if (!s.ok()) return s;
    return ReadResponse(tag, deadline);
  }

  // LOGIN with both strings quoted, or sent as literals when they hold characters a quoted
  // string cannot (line breaks, 8-bit).
  common::StatusOr<ImapResponse> Login(const std::string& user, const std::string& password,
                                       Clock::time_point deadline) {
    const std::string tag = NextTag();
    std::string pending = tag + " LOGIN";
    for (const std::string* s : {&user, &password}) {
      pending += " ";
      if (!NeedsLiteral(*s)) {
        pending += Quote(*s);
        continue;
      }
      pending += "{" + std::to_string(s->size()) + "}\r\n";
      common::Status w = probe_.conn().Write(pending, deadline);
      if (!w.ok()) return w;
      pending.clear();
      for (;;) {
        auto line = ReadResponseLine(deadline);
        if (!line.ok()) return line.status();
        if (line->starts_with("+")) break;
        if (line->starts_with(tag + " ")) {
          ImapResponse r;
          r.text = line->substr(tag.size() + 1);
          r.status = "NO";
          return r;
        }
      }
      pending = *s;
    }
    common::Status w = probe_.conn().Write(pending + "\r\n", deadline);
    if (!w.ok()) return w;
    return ReadResponse(tag, deadline);
  }

 private:
  static bool NeedsLiteral(std::string_view s) {
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u >= 0x7f) return true;
    }
    return s.size() > 1000;
  }

  static std::string Quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    return out + "\"";
  }

  Probe& probe_;
  int tag_ = 0;
};

// The greeting: "* OK ..." (or PREAUTH); "* BYE ..." and anything else fail.
Outcome ImapGreeting(Probe& probe, ImapClient& imap) {
  auto line = imap.ReadResponseLine(probe.Deadline());
  if (!line.ok()) return Failure(Describe(line.status(), "the greeting", probe.options()));
  if (line->starts_with("* OK") || line->starts_with("* PREAUTH")) return Success(*line);
  return Failure("server greeting: " + *line);
}

std::vector<StepRow> CheckImap(const ProbeEndpoint& endpoint, const CheckOptions& options) {
  Probe probe(endpoint, options);
  ImapClient imap(probe);
  StepRunner steps;
  steps.Run("TCP", [&] {
    Outcome o = probe.Connect();
    if (o.result == Result::kFailure || endpoint.implicit_tls) return o;
    Outcome greeting = ImapGreeting(probe, imap);
    return greeting.result == Result::kFailure ? greeting : o;
  });
  steps.Run("TLS", [&] {
    if (endpoint.implicit_tls) return probe.Handshake("");
    auto r = imap.Command("STARTTLS", probe.Deadline());
    if (!r.ok()) return Failure(Describe(r.status(), "the STARTTLS reply", options));
    if (r->status != "OK") return Failure("STARTTLS refused: " + r->text);
    return probe.Handshake("STARTTLS, ");
  });
  steps.Run("Certificate", [&] { return probe.Certificate(); });
  steps.Run("Capability", [&] {
    if (endpoint.implicit_tls) {
      Outcome greeting = ImapGreeting(probe, imap);
      if (greeting.result == Result::kFailure) return greeting;
    }
    auto r = imap.Command("CAPABILITY", probe.Deadline());
    if (!r.ok()) return Failure(Describe(r.status(), "the CAPABILITY reply", options));
    if (r->status != "OK") return Failure("CAPABILITY failed: " + r->text);
    for (const std::string& u : r->untagged) {
      if (StartsWithWord(u, "CAPABILITY")) return Success(u.substr(11));
    }
    return Warning("the server listed no capabilities");
  });
  steps.Run("Login", [&] {
    auto r = imap.Login(options.user, options.password, probe.Deadline());
    if (!r.ok()) return Failure(Describe(r.status(), "the LOGIN reply", options));
    if (r->status != "OK") return Failure(r->text);
    return Success("logged in as " + options.user);
  });
  steps.Run("Read", [&] {
    if (options.light_mode) return Skipped("not run: -LightMode");
    auto r = imap.Command("EXAMINE INBOX", probe.Deadline());
    if (!r.ok()) return Failure(Describe(r.status(), "the EXAMINE reply", options));
    if (r->status != "OK") return Failure("EXAMINE INBOX failed: " + r->text);
    for (const std::string& u : r->untagged) {
      size_t space = u.find(' ');
      if (space == std::string::npos) continue;
      std::optional<uint64_t> n = Number(std::string_view(u).substr(0, space));
      if (n && parser::EqualsIgnoreCase(std::string_view(u).substr(space + 1), "EXISTS")) {
        return Success("INBOX: " + Plural(*n, "message", "messages"));
      }
    }
    return Warning("INBOX opened, but the server did not say how many messages it holds");
  });
  if (probe.conn().connected() && !steps.failed()) {
    auto r = imap.Command("LOGOUT", Clock::now() + std::min(options.timeout, kGoodbyeTimeout));
    (void)r;
  }
  return std::move(steps.rows());
}

// ---------------------------------------------------------------------------------------------
// POP3

class PopClient {
 public:
  explicit PopClient(Probe& probe) : probe_(probe) {}

  common::StatusOr<std::string> ReadLine(Clock::time_point deadline) {
    return probe_.conn().ReadLine(deadline);
  }

  // One command and its one-line reply, returned as the server sent it.
  common::StatusOr<std::string> Command(std::string_view command, Clock::time_point deadline) {
    common::Status s = probe_.conn().Write(std::string(command) + "\r\n", deadline);
    if (!s.ok()) return s;
    return ReadLine(deadline);
  }

  // The lines of a multi-line reply after "+OK", dot-unstuffed, without the final ".".
  common::StatusOr<std::vector<std::string>> ReadMultiLine(Clock::time_point deadline) {
    std::vector<std::string> lines;
    for (;;) {
      auto line = ReadLine(deadline);
      if (!line.ok()) return line.status();
      if (*line == ".") return lines;
      if (lines.size() >= kMaxReplyLines) {
        return common::Status(common::StatusCode::kOutOfRange,
                              "the server's reply has more than 1000 lines");
      }
      lines.push_back(line->starts_with("..") ? line->substr(1) : std::move(*line));
    }
  }

 private:
  Probe& probe_;
};

bool PopOk(std::string_view reply) { return reply == "+OK" || reply.starts_with("+OK "); }

Outcome PopGreeting(Probe& probe, PopClient& pop) {
  auto line = pop.ReadLine(probe.Deadline());
  if (!line.ok()) return Failure(Describe(line.status(), "the greeting", probe.options()));
  if (PopOk(*line)) return Success(*line);
  return Failure("server greeting: " + *line);
}

std::vector<StepRow> CheckPop(const ProbeEndpoint& endpoint, const CheckOptions& options) {
  Probe probe(endpoint, options);
  PopClient pop(probe);
  StepRunner steps;
  steps.Run("TCP", [&] {
    Outcome o = probe.Connect();
    if (o.result == Result::kFailure || endpoint.implicit_tls) return o;
    Outcome greeting = PopGreeting(probe, pop);
    return greeting.result == Result::kFailure ? greeting : o;
  });
  steps.Run("TLS", [&] {
    if (endpoint.implicit_tls) return probe.Handshake("");
    auto r = pop.Command("STLS", probe.Deadline());
    if (!r.ok()) return Failure(Describe(r.status(), "the STLS reply", options));
    if (!PopOk(*r)) return Failure("STLS refused: " + *r);
    return probe.Handshake("STLS, ");
  });
  steps.Run("Certificate", [&] { return probe.Certificate(); });
  steps.Run("Capability", [&] {
    if (endpoint.implicit_tls) {
      Outcome greeting = PopGreeting(probe, pop);
      if (greeting.result == Result::kFailure) return greeting;
    }
    auto r = pop.Command("CAPA", probe.Deadline());
    if (!r.ok()) return Failure(Describe(r.status(), "the CAPA reply", options));
    if (!PopOk(*r)) return Warning("CAPA not supported: " + *r);
    auto lines = pop.ReadMultiLine(probe.Deadline());
    if (!lines.ok()) return Failure(Describe(lines.status(), "the CAPA list", options));
    std::string caps;
    for (const std::string& l : *lines) caps += (caps.empty() ? "" : " ") + l;
    return Success(caps);
  });
  steps.Run("Login", [&] {
    if (HasLineBreak(options.user) || options.user.find(' ') != std::string::npos) {
      return Failure("a POP3 user name cannot contain spaces or line breaks");
    }
    if (HasLineBreak(options.password)) {
      return Failure("a password with a line break cannot be sent with POP3 PASS");
    }
    auto r = pop.Command("USER " + options.user, probe.Deadline());
    if (!r.ok()) return Failure(Describe(r.status(), "the USER reply", options));
    if (!PopOk(*r)) return Failure(*r);
    r = pop.Command("PASS " + options.password, probe.Deadline());
    if (!r.ok()) return Failure(Describe(r.status(), "the PASS reply", options));
    if (!PopOk(*r)) return Failure(*r);
    return Success("logged in as " + options.user);
  });
  steps.Run("Read", [&] {
    if (options.light_mode) return Skipped("not run: -LightMode");
    auto r = pop.Command("STAT", probe.Deadline());
    if (!r.ok()) return Failure(Describe(r.status(), "the STAT reply", options));
    if (!PopOk(*r)) return Failure("STAT failed: " + *r);
    unsigned long long count = 0, size = 0;
    if (std::sscanf(r->c_str(), "+OK %llu %llu", &count, &size) != 2) {
      return Warning("unexpected STAT reply: " + *r);
    }
    return Success("maildrop: " + Plural(count, "message", "messages") + " (" +
                   FormatThousands(size) + " bytes)");
  });
  if (probe.conn().connected() && !steps.failed()) {
    auto r = pop.Command("QUIT", Clock::now() + std::min(options.timeout, kGoodbyeTimeout));
    (void)r;
  }
  return std::move(steps.rows());
}

// ---------------------------------------------------------------------------------------------
// SMTP

struct SmtpReply {
  int code = 0;
  std::vector<std::string> lines;  // The text of each line, without "250-".

  // "535 5.7.8 Authentication credentials invalid" (several lines joined with " ").
  std::string Text() const {
    std::string text = std::to_string(code);
    for (const std::string& l : lines) {
      if (!l.empty()) text += " " + l;
    }
    return text;
  }
};

class SmtpClient {
 public:
  explicit SmtpClient(Probe& probe) : probe_(probe) {}

  common::StatusOr<SmtpReply> ReadReply(Clock::time_point deadline) {
    SmtpReply reply;
    for (size_t i = 0; i < kMaxReplyLines; ++i) {
      auto line = probe_.conn().ReadLine(deadline);
      if (!line.ok()) return line.status();
      const std::string& l = *line;
      if (l.size() < 3 || l[0] < '1' || l[0] > '5' || l[1] < '0' || l[1] > '9' || l[2] < '0' ||
          l[2] > '9' || (l.size() > 3 && l[3] != ' ' && l[3] != '-')) {
        return common::Status(common::StatusCode::kDataLoss, "not an SMTP reply: " + l);
      }
      reply.code = std::stoi(l.substr(0, 3));
      reply.lines.push_back(l.size() > 4 ? l.substr(4) : "");
      if (l.size() == 3 || l[3] == ' ') return reply;
    }
    return common::Status(common::StatusCode::kDataLoss, "the reply has too many lines");
  }

  common::StatusOr<SmtpReply> Command(std::string_view command, Clock::time_point deadline) {
    common::Status s = probe_.conn().Write(std::string(command) + "\r\n", deadline);
    if (!s.ok()) return s;
    return ReadReply(deadline);
  }

 private:
  Probe& probe_;
};

// The EHLO keywords ("SIZE 36700160", "STARTTLS", "AUTH PLAIN LOGIN", ...): every line but
// the first (the server's name).
std::vector<std::string> EhloKeywords(const SmtpReply& reply) {
  return std::vector<std::string>(reply.lines.begin() + (reply.lines.empty() ? 0 : 1),
                                  reply.lines.end());
}

// The keyword's line ("AUTH PLAIN LOGIN" for "AUTH"), or nullopt when not offered.
std::optional<std::string> FindKeyword(const std::vector<std::string>& keywords,
                                       std::string_view keyword) {
  for (const std::string& k : keywords) {
    if (StartsWithWord(k, keyword) ||
        (k.size() > keyword.size() && k[keyword.size()] == '=' &&
         parser::EqualsIgnoreCase(k.substr(0, keyword.size()), keyword))) {
      return k;
    }
  }
  return std::nullopt;
}

bool OffersMechanism(const std::string& auth_line, std::string_view mechanism) {
  size_t start = 5;  // After "AUTH " or "AUTH=".
  while (start < auth_line.size()) {
    size_t end = auth_line.find(' ', start);
    if (end == std::string::npos) end = auth_line.size();
    if (parser::EqualsIgnoreCase(std::string_view(auth_line).substr(start, end - start),
                                 mechanism)) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

std::string TestMessage(const ProbeEndpoint& endpoint, const CheckOptions& options) {
  const std::time_t now = std::time(nullptr);
  std::tm tm = {};
  gmtime_r(&now, &tm);
  char date[64];
  std::strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
  const auto nonce = Clock::now().time_since_epoch().count();
  const std::string where = endpoint.Url() + (options.node.empty() ? "" : " on " + options.node);
  return "Date: " + std::string(date) + "\r\n" +                                       //
         "From: <" + options.address + ">\r\n" +                                       //
         "To: <" + options.address + ">\r\n" +                                         //
         "Subject: Test-SmtpConnectivity through " + where + "\r\n" +                  //
         "Message-ID: <" + std::to_string(nonce) + "." + std::to_string(::getpid()) +  //
         ".connectivity@" + options.ehlo_name + ">\r\n" +                              //
         "MIME-Version: 1.0\r\n" +                                                     //
         "Content-Type: text/plain; charset=us-ascii\r\n" +                            //
         "\r\n" +                                                                      //
         "Test-SmtpConnectivity sent this message through " + where + "\r\n" +         //
         "to check mail submission. It can be deleted.\r\n" +                          //
         ".\r\n";
}

std::vector<StepRow> CheckSmtp(const ProbeEndpoint& endpoint, const CheckOptions& options) {
  Probe probe(endpoint, options);
  SmtpClient smtp(probe);
  StepRunner steps;
  std::vector<std::string> keywords;  // Of the latest EHLO.
  bool authenticated = false;

  auto greeting = [&]() -> Outcome {
    auto r = smtp.ReadReply(probe.Deadline());
    if (!r.ok()) return Failure(Describe(r.status(), "the greeting", options));
    if (r->code != 220) return Failure("server greeting: " + r->Text());
    return Success(r->Text());
  };
  auto ehlo = [&]() -> Outcome {
    auto r = smtp.Command("EHLO " + options.ehlo_name, probe.Deadline());
    if (!r.ok()) return Failure(Describe(r.status(), "the EHLO reply", options));
    if (r->code != 250) return Failure("EHLO refused: " + r->Text());
    keywords = EhloKeywords(*r);
    return Success("");
  };

  steps.Run("TCP", [&] {
    Outcome o = probe.Connect();
    if (o.result == Result::kFailure || endpoint.implicit_tls) return o;
    Outcome g = greeting();
    return g.result == Result::kFailure ? g : o;
  });
  steps.Run("TLS", [&] {
    if (endpoint.implicit_tls) return probe.Handshake("");
    Outcome e = ehlo();
    if (e.result == Result::kFailure) return e;
    if (!FindKeyword(keywords, "STARTTLS")) {
      return Warning("STARTTLS not offered: the session is not encrypted");
    }
    auto r = smtp.Command("STARTTLS", probe.Deadline());
    if (!r.ok()) return Failure(Describe(r.status(), "the STARTTLS reply", options));
    if (r->code != 220) return Failure("STARTTLS refused: " + r->Text());
    keywords.clear();
    return probe.Handshake("STARTTLS, ");
  });
  steps.Run("Certificate", [&] { return probe.Certificate(); });
  steps.Run("Capability", [&] {
    if (endpoint.implicit_tls) {
      Outcome g = greeting();
      if (g.result == Result::kFailure) return g;
    }
    if (probe.conn().tls_active()) {  // A new EHLO after TLS; without TLS the first one holds.
      Outcome e = ehlo();
      if (e.result == Result::kFailure) return e;
    }
    std::string text;
    for (const std::string& k : keywords) text += (text.empty() ? "" : " ") + k;
    return Success(text.empty() ? "no extensions" : text);
  });
  steps.Run("Login", [&] {
    std::optional<std::string> auth = FindKeyword(keywords, "AUTH");
    if (!auth) return Skipped("AUTH not offered: this connector takes mail without a login");
    if (!probe.conn().tls_active()) {
      return Skipped("AUTH offered without TLS: the password is not sent unencrypted");
    }
    if (!OffersMechanism(*auth, "PLAIN")) return Skipped("AUTH PLAIN not offered (" + *auth + ")");
    const std::string response = common::Base64Encode(std::string(1, '\0') + options.user +
                                                      std::string(1, '\0') + options.password);
    auto r = smtp.Command("AUTH PLAIN " + response, probe.Deadline());
    if (r.ok() && r->code == 334) r = smtp.Command(response, probe.Deadline());
    if (!r.ok()) return Failure(Describe(r.status(), "the AUTH reply", options));
    if (r->code != 235) return Failure(r->Text());
    authenticated = true;
    return Success("authenticated as " + options.user);
  });
  steps.Run("Send", [&] {
    if (options.light_mode) return Skipped("not run: -LightMode");
    if (options.address.empty()) return Skipped("not run: " + options.address_missing);
    const std::string path = "<" + options.address + ">";
    // Without a login the server takes no sender address of its own domains (as any other
    // server sending to it): the null reverse-path, which also never draws a bounce.
    const std::string sender = authenticated ? path : "<>";
    auto r = smtp.Command("MAIL FROM:" + sender, probe.Deadline());
    if (!r.ok()) return Failure(Describe(r.status(), "the MAIL FROM reply", options));
    if (r->code != 250) return Failure("MAIL FROM refused: " + r->Text());
    r = smtp.Command("RCPT TO:" + path, probe.Deadline());
    if (!r.ok()) return Failure(Describe(r.status(), "the RCPT TO reply", options));
    if (r->code != 250 && r->code != 251) return Failure("RCPT TO refused: " + r->Text());
    const std::string as = authenticated ? "" : " (no login, null sender)";
    if (!options.send_test_message) {
      r = smtp.Command("RSET", probe.Deadline());
      if (!r.ok()) return Failure(Describe(r.status(), "the RSET reply", options));
      return Success((authenticated ? "MAIL FROM and RCPT TO " : "RCPT TO ") + path +
                     " accepted" + as + "; RSET, no message sent");
    }
    r = smtp.Command("DATA", probe.Deadline());
    if (!r.ok()) return Failure(Describe(r.status(), "the DATA reply", options));
    if (r->code != 354) return Failure("DATA refused: " + r->Text());
    common::Status w = probe.conn().Write(TestMessage(endpoint, options), probe.Deadline());
    if (!w.ok()) return Failure(w.message());
    r = smtp.ReadReply(probe.Deadline());
    if (!r.ok()) return Failure(Describe(r.status(), "the reply to the message", options));
    if (r->code != 250) return Failure("message refused: " + r->Text());
    return Success("test message to " + path + " accepted" + as + ": " + r->Text());
  });
  if (probe.conn().connected() && !steps.failed()) {
    auto r = smtp.Command("QUIT", Clock::now() + std::min(options.timeout, kGoodbyeTimeout));
    (void)r;
  }
  return std::move(steps.rows());
}

std::vector<StepRow> Check(Protocol protocol, const ProbeEndpoint& endpoint,
                           const CheckOptions& options) {
  switch (protocol) {
    case Protocol::kImap:
      return CheckImap(endpoint, options);
    case Protocol::kPop:
      return CheckPop(endpoint, options);
    case Protocol::kSmtp:
      return CheckSmtp(endpoint, options);
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// The cmdlets

const View& ConnectivityView() {
  static const View* view =
      new View{View::Kind::kTable, {"Server", "Endpoint", "Step", "Result", "Latency", "Detail"}};
  return *view;
}

// One endpoint to test: where it came from and how to reach it.
struct Target {
  std::string node;      // The Server column; empty for an -Endpoint no node reports.
  std::string endpoint;  // As reported (with an SMTP connector's name) or as given.
  ProbeEndpoint parsed;
};

// PowerShell's text for ValidateNotNullOrEmpty.
CmdletStatus NullOrEmpty(std::string_view parameter) {
  return CmdletStatus::Error("Cannot validate argument on parameter '" + std::string(parameter) +
                             "'. The argument is null or empty. Provide an argument that is not "
                             "null or empty, and then try the command again.");
}

// -Password as given, or asked once without echo on a terminal.
CmdletStatus ResolvePassword(const BoundCommand& args, CmdletContext& context,
                             const std::string& user, std::string* password) {
  const BoundValue* v = args.Find("Password");
  if (v != nullptr && !v->value_omitted) {
    if (v->is_null || v->text.empty()) {
      return CmdletStatus::Error(
          "Cannot bind argument to parameter 'Password' because it is an empty string.");
    }
    *password = v->text;
    return CmdletStatus::Ok();
  }
  if (context.terminal == nullptr || !context.terminal->IsInteractive()) {
    return CmdletStatus::Error(
        "A value for parameter 'Password' is required, and standard input is not a terminal, "
        "so adminctl cannot prompt for it. Give -Password '<password>'.");
  }
  std::optional<std::string> answer = context.terminal->ReadSecret("Password for " + user + ": ");
  if (!answer || answer->empty()) return CmdletStatus::Error("No password was entered.");
  *password = std::move(*answer);
  return CmdletStatus::Ok();
}

CmdletStatus TimeoutArgument(const BoundCommand& args, std::chrono::milliseconds* timeout) {
  const int64_t seconds = args.GetInt("Timeout").value_or(kDefaultTimeoutSeconds);
  if (seconds < 1) {
    return CmdletStatus::Error("Cannot validate argument on parameter 'Timeout'. The " +
                               std::to_string(seconds) +
                               " argument is less than the minimum allowed range of 1. Supply an "
                               "argument that is greater than or equal to 1 and then try the "
                               "command again.");
  }
  if (seconds > kMaxTimeoutSeconds) {
    return CmdletStatus::Error(
        "Cannot validate argument on parameter 'Timeout'. The " + std::to_string(seconds) +
        " argument is greater than the maximum allowed range of " +
        std::to_string(kMaxTimeoutSeconds) + ". Supply an argument that is less than or equal to " +
        std::to_string(kMaxTimeoutSeconds) + " and then try the command again.");
  }
  *timeout = std::chrono::milliseconds(seconds * 1000);
  return CmdletStatus::Ok();
}

// The URL part of a reported endpoint, for comparing with -Endpoint.
std::optional<std::string> UrlOf(std::string_view reported) {
  auto parsed = ParseProbeEndpoint(reported);
  if (!parsed.ok()) return std::nullopt;
  return parser::AsciiLower(parsed->Url());
}

std::string NoEndpointText(const ProtocolInfo& p, const mail::v1::ServiceState& state) {
  const std::string service(p.service_name);
  const std::string& node = state.node();
  switch (state.status()) {
    case mail::v1::SERVICE_STATUS_STOPPED:
      return service + " is stopped on " + node + ", so there is no endpoint to test " +
             "(Start-Service " + service + " -Server " + node + " starts it)";
    case mail::v1::SERVICE_STATUS_UNREACHABLE:
      return node + " is Unreachable (it has missed its heartbeats; is " + std::string(p.process) +
             " running?) and reports no " + service + " endpoint";
    case mail::v1::SERVICE_STATUS_RUNNING:
      return service + " runs on " + node +
             " but listens nowhere: the node reports no endpoint (check its bindings, or give "
             "-Endpoint)";
    default:
      return node + " has not reported " + service + " yet";
  }
}

// Server text as it may be shown: control characters (a hostile server's terminal escapes)
// as '?', and at most 1000 bytes.
std::string Printable(std::string_view text) {
  constexpr size_t kMax = 1000;
  std::string out;
  for (char c : text.substr(0, kMax)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  if (text.size() > kMax) out += "...";
  return out;
}

Record StepRecord(const ProtocolInfo& p, const std::string& node, const std::string& endpoint,
                  const std::string& address, const std::string& user, const StepRow& row) {
  Record r;
  r.Add("Server", node);
  r.Add("Service", std::string(p.service_name));
  r.Add("Endpoint", endpoint);
  r.Add("Step", row.step);
  r.Add("Result", std::string(ResultText(row.result)));
  r.Add("Latency", row.latency_ms ? std::to_string(*row.latency_ms) + " ms" : "");
  r.Add("Detail", Printable(row.detail));
  r.Add("Address", address);
  r.Add("UserName", user);
  return r;
}

// The address MAIL FROM and RCPT TO use: the mailbox's primary address when the store knows
// the user, else the user name when it is an address.
void FindAddress(CmdletContext& context, const std::string& user, CheckOptions* options) {
  if (context.directory != nullptr) {
    mail::v1::MailboxIdentity request;
    request.set_identity(user);
    mail::v1::GetMailboxResponse response;
    auto client = NewClientContext(context);
    grpc::Status status = context.directory->GetMailbox(client.get(), request, &response);
    if (status.ok() && !response.mailbox().primary_smtp_address().empty()) {
      options->address = response.mailbox().primary_smtp_address();
      return;
    }
  }
  if (user.find('@') != std::string::npos && !HasLineBreak(user)) {
    options->address = user;
    return;
  }
  options->address_missing = "no address to send from and to: the mailbox store does not know " +
                             user + "; give -MailboxCredential as an email address";
}

CmdletStatus TestConnectivity(const ProtocolInfo& p, const BoundCommand& args,
                              const std::vector<Record>&, CmdletContext& context,
                              CmdletOutput* output) {
  CheckOptions options;
  options.user = args.GetString("MailboxCredential").value_or("");
  if (options.user.empty()) return NullOrEmpty("MailboxCredential");
  if (CmdletStatus s = TimeoutArgument(args, &options.timeout); !s.ok()) return s;
  options.host_override = args.GetString("Host").value_or("");
  if (args.Has("Host") && (options.host_override.empty() ||
                           options.host_override.find_first_of(" \t/") != std::string::npos)) {
    return CmdletStatus::Error(
        "Cannot validate argument on parameter 'Host': give a host name or "
        "an IP address, such as mail.example.test or 127.0.0.1.");
  }
  if (options.host_override.starts_with('[') && options.host_override.ends_with(']')) {
    options.host_override = options.host_override.substr(1, options.host_override.size() - 2);
  }
  options.light_mode = args.GetSwitch("LightMode");
  options.trust_any_certificate = args.GetSwitch("TrustAnyCertificate");
  options.send_test_message = args.GetSwitch("SendTestMessage");
  options.ehlo_name = context.server_name.empty() ? "localhost" : context.server_name;

  std::optional<ProbeEndpoint> only;
  std::string only_text;
  if (args.Has("Endpoint")) {
    only_text = args.GetString("Endpoint").value_or("");
    if (only_text.empty()) return NullOrEmpty("Endpoint");
    auto parsed = ParseProbeEndpoint(only_text);
    if (!parsed.ok()) return CmdletStatus::Error(parsed.status().message() + ".");
    if (parsed->scheme != p.plain_scheme && parsed->scheme != p.tls_scheme) {
      return CmdletStatus::Error(
          "'" + only_text + "' is not " + (p.protocol == Protocol::kPop ? "a " : "an ") +
          std::string(p.service_name) + " endpoint: give " + std::string(p.plain_scheme) +
          "://host:port (STARTTLS) or " + std::string(p.tls_scheme) + "://host:port (TLS).");
    }
    only = std::move(*parsed);
  }

  std::string server = args.GetString("Server").value_or("");
  if (args.Has("Server") && server.empty()) return NullOrEmpty("Server");
  const bool server_wildcard = parser::HasWildcard(server);
  auto node_wanted = [&](const std::string& node) {
    if (server.empty()) return true;
    return server_wildcard ? parser::WildcardMatch(server, node)
                           : parser::EqualsIgnoreCase(server, node);
  };

  mail::v1::GetServicesRequest request;
  if (!server.empty() && !server_wildcard) request.set_node(server);
  request.set_service(p.service);
  mail::v1::GetServicesResponse response;
  grpc::Status status = grpc::Status(grpc::StatusCode::INTERNAL, "no control endpoint");
  if (context.control != nullptr) {
    auto client = NewClientContext(context);
    status = context.control->GetServices(client.get(), request, &response);
  }

  std::vector<const mail::v1::ServiceState*> states;
  if (status.ok()) {
    for (const mail::v1::ServiceState& state : response.services()) {
      if (state.service() == p.service && node_wanted(state.node())) states.push_back(&state);
    }
    std::stable_sort(states.begin(), states.end(), [](const auto* a, const auto* b) {
      return parser::AsciiLower(a->node()) < parser::AsciiLower(b->node());
    });
  }

  std::vector<Target> targets;
  std::vector<Record> rows;
  std::vector<std::string> errors;
  if (only) {
    // The one endpoint, tested even when no node reports it (a name behind a load balancer,
    // an address the store does not know): the Server column then shows -Server, if given.
    Target t{server_wildcard ? "" : server, only_text, *only};
    const std::string url = parser::AsciiLower(only->Url());
    for (const mail::v1::ServiceState* state : states) {
      for (const std::string& e : state->endpoints()) {
        if (UrlOf(e) == url) {
          t.node = state->node();
          t.endpoint = e;
        }
      }
    }
    targets.push_back(std::move(t));
  } else {
    if (context.control == nullptr) {
      return CmdletStatus::Error("Internal error: no connection to the service control endpoint.");
    }
    if (!status.ok()) {
      if (status.error_code() == grpc::StatusCode::NOT_FOUND && !request.node().empty()) {
        return CmdletStatus::Error("Cannot find node '" + request.node() +
                                   "': no such node has registered with the mailbox store at " +
                                   context.endpoint + ". Get-Service lists the nodes.");
      }
      return StatusFromGrpc(status, p.service_name, context);
    }
    if (states.empty()) {
      if (!server.empty()) {
        return CmdletStatus::Error("No node named '" + server + "' runs " +
                                   std::string(p.service_name) + " (" + std::string(p.process) +
                                   " runs it). Get-Service " + std::string(p.service_name) +
                                   " lists the nodes that do.");
      }
      return CmdletStatus::Error("No node runs " + std::string(p.service_name) + ": no " +
                                 std::string(p.process) +
                                 " node has registered with the mailbox store at " +
                                 context.endpoint + "; a node registers when it starts.");
    }
    for (const mail::v1::ServiceState* state : states) {
      if (state->endpoints().empty()) {
        StepRow row{"Service", Result::kFailure, std::nullopt, NoEndpointText(p, *state)};
        rows.push_back(StepRecord(p, state->node(), "", "", options.user, row));
        errors.push_back(std::string(p.service_name) + " on " + state->node() + ": " + row.detail +
                         ".");
        continue;
      }
      for (const std::string& e : state->endpoints()) {
        auto parsed = ParseProbeEndpoint(e);
        if (!parsed.ok()) {
          StepRow row{"TCP", Result::kFailure, std::nullopt, parsed.status().message()};
          rows.push_back(StepRecord(p, state->node(), e, "", options.user, row));
          errors.push_back(e + " on " + state->node() + ": " + row.detail + ".");
          continue;
        }
        targets.push_back(Target{state->node(), e, std::move(*parsed)});
      }
    }
  }

  std::string password;
  if (CmdletStatus s = ResolvePassword(args, context, options.user, &password); !s.ok()) return s;
  options.password = std::move(password);
  if (p.protocol == Protocol::kSmtp) FindAddress(context, options.user, &options);

  for (const Target& t : targets) {
    options.node = t.node;
    const std::string host = ConnectHost(t.parsed.host, options.host_override);
    const std::string address = (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                                ":" + std::to_string(t.parsed.port);
    std::vector<StepRow> steps = Check(p.protocol, t.parsed, options);
    for (const StepRow& row : steps) {
      rows.push_back(StepRecord(p, t.node, t.endpoint, address, options.user, row));
      if (row.result == Result::kFailure) {
        errors.push_back(t.endpoint + (t.node.empty() ? "" : " on " + t.node) + ": the " +
                         row.step + " step failed: " + Printable(row.detail) +
                         (row.detail.ends_with('.') ? "" : "."));
      }
    }
  }
  options.password.assign(options.password.size(), '\0');

  for (Record& r : rows) output->records.push_back(std::move(r));
  for (std::string& e : errors) output->errors.push_back(std::move(e));
  return CmdletStatus::Ok();
}

template <const ProtocolInfo& P>
CmdletStatus Handler(const BoundCommand& args, const std::vector<Record>& input,
                     CmdletContext& context, CmdletOutput* output) {
  return TestConnectivity(P, args, input, context, output);
}

parser::CommandSchema Schema(const ProtocolInfo& p) {
  parser::CommandSchema schema{
      std::string(p.cmdlet),
      {
          {.name = "Server", .position = 0, .aliases = {"ClientAccessServer", "ComputerName"}},
          {.name = "MailboxCredential", .mandatory = true, .aliases = {"User", "UserName"}},
          {.name = "Password", .type = ParamType::kSecureString, .mandatory = true},
          {.name = "Endpoint"},
          {.name = "Host"},
          {.name = "LightMode", .type = ParamType::kSwitch},
          {.name = "TrustAnyCertificate",
           .type = ParamType::kSwitch,
           .aliases = {"TrustAnySSLCertificate"}},
          {.name = "Timeout", .type = ParamType::kInt, .aliases = {"PerConnectionTimeout"}},
      }};
  if (p.protocol == Protocol::kSmtp) {
    schema.parameters.push_back({.name = "SendTestMessage", .type = ParamType::kSwitch});
  }
  return schema;
}

}  // namespace

void RegisterConnectivityCmdlets(CmdletRegistry* registry) {
  registry->Add(Cmdlet{
      .schema = Schema(kImap), .handler = Handler<kImap>, .default_view = ConnectivityView()});
  registry->Add(
      Cmdlet{.schema = Schema(kPop), .handler = Handler<kPop>, .default_view = ConnectivityView()});
  registry->Add(Cmdlet{
      .schema = Schema(kSmtp), .handler = Handler<kSmtp>, .default_view = ConnectivityView()});
}

}  // namespace adminctl
