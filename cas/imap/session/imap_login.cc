#include "cas/imap/session/imap_login.h"

#include "common/base64.h"
#include "common/logging.h"
#include "common/login_metrics.h"
#include "common/login_policy.h"
#include "common/sasl_plain.h"
#include "common/scram.h"

namespace cas::imap {
namespace {

constexpr std::string_view kAuthFailed = "Authentication failed.";
constexpr std::string_view kTlsRequired = "TLS required: use STARTTLS or port 993.";
constexpr std::string_view kDisabled = "IMAP access is disabled for this mailbox.";
constexpr std::string_view kStoreDown = "The mailbox store is unavailable; try again later.";

asio::awaitable<std::optional<ImapLoginOutcome>> Finish(
    ImapConnection& conn, const std::string& tag,
    const common::StatusOr<mail::v1::AuthenticateResponse>& r, const std::string& user) {
  common::CountLoginResult("imap4", r);
  std::string reply;
  if (!r.ok()) {
    MAIL_LOG(kWarning, "imap") << conn.session_id() << " store error during login: "
                               << r.status().ToString();
    reply = Tagged(tag, "NO", "UNAVAILABLE", kStoreDown);
  } else if (r->result() == mail::v1::AUTH_RESULT_OK) {
    conn.set_user(r->mailbox().name());
    conn.LogEvent("login " + r->mailbox().name());
    co_return ImapLoginOutcome{r->mailbox(), tag};
  } else if (r->result() == mail::v1::AUTH_RESULT_THROTTLED) {
    // The store's brute-force protection refused the attempt before checking the password.
    conn.LogEvent("login refused: too many failed logins (" + user + ")");
    MAIL_LOG(kInfo, "imap") << conn.session_id() << " " << conn.stream().remote_address()
                            << " login refused for " << user << ": too many failed logins";
    reply = Tagged(tag, "NO", "UNAVAILABLE",
                   "Too many failed logins; try again in " +
                       std::to_string(r->retry_after_seconds()) + " seconds.");
  } else if (r->result() == mail::v1::AUTH_RESULT_PROTOCOL_DISABLED) {
    conn.LogEvent("login refused: IMAP disabled for " + user);
    MAIL_LOG(kInfo, "imap") << conn.session_id() << " " << conn.stream().remote_address()
                            << " login refused for " << user << ": ImapEnabled is false";
    reply = Tagged(tag, "NO", "CONTACTADMIN", kDisabled);
  } else {
    conn.LogEvent("login failed for " + user);
    MAIL_LOG(kInfo, "imap") << conn.session_id() << " " << conn.stream().remote_address()
                            << " login failed for " << user
                            << (r->result() == mail::v1::AUTH_RESULT_ACCOUNT_DISABLED
                                    ? ": account disabled"
                                    : ": bad credentials");
    reply = Tagged(tag, "NO", "AUTHENTICATIONFAILED", kAuthFailed);
  }
  co_await conn.Send(reply);
  co_return std::nullopt;
}

// Before login, a line over the limit ends the connection as well as an unreadable literal:
// the rest of the line is not read (a client could otherwise keep the server reading an
// endless line).
bool EndsConnection(const ParseError& err) {
  return err.close_connection() || err.kind == ParseErrorKind::kLineTooLong;
}

// The error reply, then "* BYE", then the connection is closed.
asio::awaitable<void> SendErrorAndBye(ImapConnection& conn, const ParseError& err) {
  std::string reply = err.Reply() + UntaggedStatus("BYE", "", err.text);
  co_await conn.Send(reply, ParseErrorForLog(err));
  conn.LogEvent("closing: " + err.text);
  conn.Close();
}

// Sends a SASL challenge and returns the client's decoded answer; nullopt after replying to a
// cancel, a bad line or a dropped connection.
asio::awaitable<std::optional<std::string>> SaslStep(ImapConnection& conn, const std::string& tag,
                                                     std::string_view challenge) {
  std::string line = "+ " + common::Base64Encode(challenge) + "\r\n";
  if (!co_await conn.Send(line, "+ <challenge>")) co_return std::nullopt;
  conn.parser().ExpectSaslResponse();
  auto r = co_await conn.Next(
      std::chrono::seconds(conn.settings().pre_authenticated_connection_timeout_seconds()));
  if (!r) co_return std::nullopt;
  conn.LogClient("<sasl data>");
  if (auto* s = std::get_if<SaslResponse>(&*r)) {
    if (!s->cancelled) co_return std::move(s->data);
    std::string reply = Tagged(tag, "BAD", "", "Authentication cancelled.");
    co_await conn.Send(reply);
    co_return std::nullopt;
  }
  if (auto* err = std::get_if<ParseError>(&*r); err != nullptr && EndsConnection(*err)) {
    ParseError tagged = *err;
    tagged.tag = tag;
    co_await SendErrorAndBye(conn, tagged);
    co_return std::nullopt;
  }
  std::string reply = Tagged(tag, "BAD", "", "Invalid SASL response.");
  co_await conn.Send(reply);
  co_return std::nullopt;
}

asio::awaitable<std::optional<ImapLoginOutcome>> Authenticate(ImapConnection& conn,
                                                              mailboxstore::Authenticator& auth,
                                                              const std::string& tag,
                                                              const AuthenticateArgs& args) {
  common::LoginMechanism kind;
  if (!common::MechanismKind(args.mechanism, &kind) || args.mechanism == "LOGIN") {
    std::string reply = Tagged(tag, "NO", "CANNOT", "Unsupported authentication mechanism.");
    co_await conn.Send(reply);
    co_return std::nullopt;
  }
  if (!common::IsLoginAllowed(conn.settings().login_type(), conn.stream().tls_active(), kind)) {
    std::string reply = Tagged(tag, "NO", "PRIVACYREQUIRED", kTlsRequired);
    co_await conn.Send(reply);
    co_return std::nullopt;
  }
  std::string first;
  if (args.initial_response) {
    first = *args.initial_response;
  } else {
    auto step = co_await SaslStep(conn, tag, "");
    if (!step) co_return std::nullopt;
    first = std::move(*step);
  }
  std::string failed = Tagged(tag, "NO", "AUTHENTICATIONFAILED", kAuthFailed);
  if (kind == common::LoginMechanism::kCleartext) {
    std::optional<common::SaslPlain> plain = common::ParseSaslPlain(first);
    if (!plain || (!plain->authzid.empty() && plain->authzid != plain->authcid)) {
      co_await conn.Send(failed);
      co_return std::nullopt;
    }
    std::string user = plain->authcid;
    mail::v1::AuthenticatePlainRequest req;
    req.set_user(user);
    req.set_password(plain->password);
    req.set_protocol(mail::v1::PROTOCOL_IMAP4);
    req.set_client_address(conn.stream().remote_address());
    auto r = co_await auth.AuthenticatePlain(req);
    co_return co_await Finish(conn, tag, r, user);
  }
  common::ScramServer scram;
  auto user = scram.HandleClientFirst(first);
  if (!user.ok()) {
    co_await conn.Send(failed);
    co_return std::nullopt;
  }
  mail::v1::GetScramVerifierRequest vreq;
  vreq.set_user(*user);
  vreq.set_mechanism("SCRAM-SHA-256");
  vreq.set_protocol(mail::v1::PROTOCOL_IMAP4);
  vreq.set_client_address(conn.stream().remote_address());
  auto v = co_await auth.GetScramVerifier(vreq);
  if (!v.ok()) {
    std::string reply = Tagged(tag, "NO", "UNAVAILABLE", kStoreDown);
    co_await conn.Send(reply);
    co_return std::nullopt;
  }
  if (v->throttled()) {
    mail::v1::AuthenticateResponse throttled;
    throttled.set_result(mail::v1::AUTH_RESULT_THROTTLED);
    throttled.set_retry_after_seconds(v->retry_after_seconds());
    common::StatusOr<mail::v1::AuthenticateResponse> result(std::move(throttled));
    auto refused = co_await Finish(conn, tag, result, *user);
    co_return refused;
  }
  common::ScramCredentials creds{v->verifier().iterations(), v->verifier().salt(),
                                 v->verifier().stored_key(), v->verifier().server_key()};
  auto server_first = scram.StartWithCredentials(creds);
  if (!server_first.ok()) {
    co_await conn.Send(failed);
    co_return std::nullopt;
  }
  auto client_final = co_await SaslStep(conn, tag, *server_first);
  if (!client_final) co_return std::nullopt;
  auto server_final = scram.HandleClientFinal(*client_final);
  if (!server_final.ok()) {
    conn.LogEvent("login failed: bad SCRAM proof for " + *user);
    common::metrics::CountLogin("imap4", "failure");
    MAIL_LOG(kInfo, "imap") << conn.session_id() << " " << conn.stream().remote_address()
                            << " login failed for " << *user << ": bad credentials";
    mail::v1::ReportLoginFailureRequest report;
    report.set_user(*user);
    report.set_protocol(mail::v1::PROTOCOL_IMAP4);
    report.set_client_address(conn.stream().remote_address());
    auto reported = co_await auth.ReportLoginFailure(report);
    if (!reported.ok()) {
      MAIL_LOG(kWarning, "imap") << conn.session_id() << " cannot report the failed login: "
                                 << reported.status().ToString();
    }
    co_await conn.Send(failed);
    co_return std::nullopt;
  }
  auto ack = co_await SaslStep(conn, tag, *server_final);
  if (!ack) co_return std::nullopt;
  mail::v1::CompleteLoginRequest creq;
  creq.set_user(*user);
  creq.set_protocol(mail::v1::PROTOCOL_IMAP4);
  creq.set_client_address(conn.stream().remote_address());
  auto r = co_await auth.CompleteLogin(creq);
  co_return co_await Finish(conn, tag, r, *user);
}

}  // namespace

asio::awaitable<std::optional<ImapLoginOutcome>> RunImapLogin(ImapConnection& conn,
                                                              mailboxstore::Authenticator& auth) {
  int failures = 0;
  while (!conn.closed()) {
    auto r = co_await conn.Next(
        std::chrono::seconds(conn.settings().pre_authenticated_connection_timeout_seconds()));
    if (!r) co_return std::nullopt;
    if (auto* err = std::get_if<ParseError>(&*r)) {
      conn.LogClient("<unparsable command>");
      if (EndsConnection(*err)) {
        co_await SendErrorAndBye(conn, *err);
        co_return std::nullopt;
      }
      std::string reply = err->Reply();
      co_await conn.Send(reply, ParseErrorForLog(*err));
      continue;
    }
    if (!std::holds_alternative<Command>(*r)) continue;
    Command& cmd = std::get<Command>(*r);
    conn.LogClient(CommandForLog(cmd));
    std::string reply;
    if (std::holds_alternative<CapabilityArgs>(cmd.args)) {
      reply = Untagged("CAPABILITY " + conn.Capabilities(false)) +
              Tagged(cmd.tag, "OK", "", "CAPABILITY completed.");
    } else if (std::holds_alternative<NoopArgs>(cmd.args)) {
      reply = Tagged(cmd.tag, "OK", "", "NOOP completed.");
    } else if (std::holds_alternative<LogoutArgs>(cmd.args)) {
      reply = UntaggedStatus("BYE", "", "Logging out.") + Tagged(cmd.tag, "OK", "", "Logged out.");
      co_await conn.Send(reply);
      co_return std::nullopt;
    } else if (std::holds_alternative<IdArgs>(cmd.args)) {
      reply = Untagged("ID (\"name\" \"casmail\" \"version\" \"0.1\")") +
              Tagged(cmd.tag, "OK", "", "ID completed.");
    } else if (std::holds_alternative<StartTlsArgs>(cmd.args)) {
      if (conn.stream().tls_active()) {
        reply = Tagged(cmd.tag, "BAD", "", "TLS is already active.");
      } else if (!conn.stream().tls_available()) {
        reply = Tagged(cmd.tag, "NO", "", "TLS is not available.");
      } else {
        if (!co_await conn.StartTls(cmd.tag)) co_return std::nullopt;
        continue;
      }
    } else if (auto* login = std::get_if<LoginArgs>(&cmd.args)) {
      if (!common::IsLoginAllowed(conn.settings().login_type(), conn.stream().tls_active(),
                                  common::LoginMechanism::kCleartext)) {
        reply = Tagged(cmd.tag, "NO", "PRIVACYREQUIRED", kTlsRequired);
      } else {
        mail::v1::AuthenticatePlainRequest req;
        req.set_user(login->user);
        req.set_password(login->password);
        req.set_protocol(mail::v1::PROTOCOL_IMAP4);
        req.set_client_address(conn.stream().remote_address());
        auto res = co_await auth.AuthenticatePlain(req);
        auto outcome = co_await Finish(conn, cmd.tag, res, login->user);
        if (outcome) co_return outcome;
        ++failures;
      }
    } else if (auto* a = std::get_if<AuthenticateArgs>(&cmd.args)) {
      auto outcome = co_await Authenticate(conn, auth, cmd.tag, *a);
      if (outcome) co_return outcome;
      ++failures;
    } else {
      reply = Tagged(cmd.tag, "BAD", "", "Log in first.");
    }
    if (!reply.empty() && !co_await conn.Send(reply)) co_return std::nullopt;
    if (failures >= 10) {
      std::string bye = UntaggedStatus("BYE", "UNAVAILABLE", "Too many failed logins.");
      co_await conn.Send(bye);
      co_return std::nullopt;
    }
  }
  co_return std::nullopt;
}

}  // namespace cas::imap
