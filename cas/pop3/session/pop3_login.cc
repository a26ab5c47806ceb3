#include "cas/pop3/session/pop3_login.h"

#include "common/login_policy.h"
#include "common/logging.h"
#include "common/login_metrics.h"
#include "common/sasl_plain.h"
#include "common/scram.h"

namespace cas::pop3 {
namespace {

constexpr std::string_view kAuthFailed = "Authentication failed.";
constexpr std::string_view kTlsRequired = "TLS required: use STLS or port 995.";
constexpr std::string_view kDisabled = "POP3 access is disabled for this mailbox.";
constexpr std::string_view kStoreDown = "The mailbox store is unavailable; try again later.";

mail::v1::LoginType LoginTypeOf(const Pop3Connection& conn) { return conn.settings().login_type(); }

// The store's brute-force protection refused the attempt before checking the password.
std::string ThrottledText(uint32_t retry_after_seconds) {
  return "Too many failed logins; try again in " + std::to_string(retry_after_seconds) +
         " seconds.";
}

bool Allowed(const Pop3Connection& conn, common::LoginMechanism m) {
  return common::IsLoginAllowed(LoginTypeOf(conn), conn.stream().tls_active(), m);
}

// Turns an authentication reply into the client's answer; returns the mailbox on success.
asio::awaitable<std::optional<LoginOutcome>> Finish(
    Pop3Connection& conn, const common::StatusOr<mail::v1::AuthenticateResponse>& r,
    const std::string& user) {
  common::CountLoginResult("pop3", r);
  if (!r.ok()) {
    MAIL_LOG(kWarning, "pop3") << conn.session_id() << " store error during login: "
                               << r.status().ToString();
    co_await conn.Send(ErrResponse(ResponseCode::kSysTemp, kStoreDown));
    co_return std::nullopt;
  }
  switch (r->result()) {
    case mail::v1::AUTH_RESULT_OK: {
      conn.set_user(r->mailbox().name());
      conn.LogEvent("login " + r->mailbox().name());
      co_return LoginOutcome{r->mailbox()};
    }
    case mail::v1::AUTH_RESULT_PROTOCOL_DISABLED:
      conn.LogEvent("login refused: POP3 disabled for " + user);
      MAIL_LOG(kInfo, "pop3") << conn.session_id() << " " << conn.stream().remote_address()
                              << " login refused for " << user << ": PopEnabled is false";
      co_await conn.Send(ErrResponse(ResponseCode::kSysPerm, kDisabled));
      co_return std::nullopt;
    case mail::v1::AUTH_RESULT_THROTTLED: {
      conn.LogEvent("login refused: too many failed logins (" + user + ")");
      MAIL_LOG(kInfo, "pop3") << conn.session_id() << " " << conn.stream().remote_address()
                              << " login refused for " << user << ": too many failed logins";
      std::string reply =
          ErrResponse(ResponseCode::kLoginDelay, ThrottledText(r->retry_after_seconds()));
      co_await conn.Send(reply);
      co_return std::nullopt;
    }
    case mail::v1::AUTH_RESULT_ACCOUNT_DISABLED:
      conn.LogEvent("login refused: account disabled: " + user);
      MAIL_LOG(kInfo, "pop3") << conn.session_id() << " login refused for " << user
                              << ": account disabled";
      co_await conn.Send(ErrResponse(ResponseCode::kAuth, kAuthFailed));
      co_return std::nullopt;
    default:
      conn.LogEvent("login failed: bad credentials for " + user);
      MAIL_LOG(kInfo, "pop3") << conn.session_id() << " " << conn.stream().remote_address()
                              << " login failed for " << user << ": bad credentials";
      co_await conn.Send(ErrResponse(ResponseCode::kAuth, kAuthFailed));
      co_return std::nullopt;
  }
}

bool IsLineTooLong(const ParseEvent& e) {
  auto* err = std::get_if<ParseError>(&e);
  return err != nullptr && err->code == ParseErrorCode::kLineTooLong;
}

// Before login, a line over the limit ends the connection: the rest of it is not read (a
// client could otherwise keep the server reading an endless line).
asio::awaitable<void> CloseForLongLine(Pop3Connection& conn) {
  co_await conn.Send(ErrResponse(ParseErrorText(ParseErrorCode::kLineTooLong)));
  conn.LogEvent("closing: line too long before login");
  conn.Close();
}

// The next SASL line after a challenge; nullopt when the client cancelled or left.
asio::awaitable<std::optional<std::string>> SaslStep(Pop3Connection& conn,
                                                     std::string_view challenge) {
  if (!co_await conn.Send(SaslChallenge(challenge), "+ <challenge>")) co_return std::nullopt;
  conn.parser().ExpectSaslResponse();
  auto e = co_await conn.NextEvent(std::chrono::seconds(
      conn.settings().pre_authenticated_connection_timeout_seconds()));
  if (!e) co_return std::nullopt;
  conn.LogClient("<sasl data>");
  if (auto* r = std::get_if<SaslResponse>(&*e)) co_return std::move(r->data);
  if (std::holds_alternative<SaslCancel>(*e)) {
    co_await conn.Send(ErrResponse("Authentication cancelled."));
  } else if (IsLineTooLong(*e)) {
    co_await CloseForLongLine(conn);
  } else {
    co_await conn.Send(ErrResponse(ResponseCode::kAuth, kAuthFailed));
  }
  co_return std::nullopt;
}

asio::awaitable<std::optional<LoginOutcome>> AuthPlain(Pop3Connection& conn,
                                                       mailboxstore::Authenticator& auth,
                                                       std::optional<std::string> initial) {
  std::string data;
  if (initial) {
    data = std::move(*initial);
  } else {
    auto step = co_await SaslStep(conn, "");
    if (!step) co_return std::nullopt;
    data = std::move(*step);
  }
  // authzid NUL authcid NUL password
  std::optional<common::SaslPlain> plain = common::ParseSaslPlain(data);
  if (!plain) {
    co_await conn.Send(ErrResponse(ResponseCode::kAuth, kAuthFailed));
    co_return std::nullopt;
  }
  std::string authzid = plain->authzid, user = plain->authcid;
  std::string password = plain->password;
  if (!authzid.empty() && authzid != user) {
    co_await conn.Send(ErrResponse(ResponseCode::kAuth, kAuthFailed));
    co_return std::nullopt;
  }
  mail::v1::AuthenticatePlainRequest req;
  req.set_user(user);
  req.set_password(password);
  req.set_protocol(mail::v1::PROTOCOL_POP3);
  req.set_client_address(conn.stream().remote_address());
  auto r = co_await auth.AuthenticatePlain(req);
  co_return co_await Finish(conn, r, user);
}

asio::awaitable<std::optional<LoginOutcome>> AuthScram(Pop3Connection& conn,
                                                       mailboxstore::Authenticator& auth,
                                                       std::optional<std::string> initial) {
  std::string first;
  if (initial) {
    first = std::move(*initial);
  } else {
    auto step = co_await SaslStep(conn, "");
    if (!step) co_return std::nullopt;
    first = std::move(*step);
  }
  common::ScramServer scram;
  auto user = scram.HandleClientFirst(first);
  if (!user.ok()) {
    co_await conn.Send(ErrResponse(ResponseCode::kAuth, kAuthFailed));
    co_return std::nullopt;
  }
  mail::v1::GetScramVerifierRequest vreq;
  vreq.set_user(*user);
  vreq.set_mechanism("SCRAM-SHA-256");
  vreq.set_protocol(mail::v1::PROTOCOL_POP3);
  vreq.set_client_address(conn.stream().remote_address());
  auto verifier = co_await auth.GetScramVerifier(vreq);
  if (!verifier.ok()) {
    co_await conn.Send(ErrResponse(ResponseCode::kSysTemp, kStoreDown));
    co_return std::nullopt;
  }
  if (verifier->throttled()) {
    mail::v1::AuthenticateResponse throttled;
    throttled.set_result(mail::v1::AUTH_RESULT_THROTTLED);
    throttled.set_retry_after_seconds(verifier->retry_after_seconds());
    common::StatusOr<mail::v1::AuthenticateResponse> result(std::move(throttled));
    auto refused = co_await Finish(conn, result, *user);
    co_return refused;
  }
  const auto& v = verifier->verifier();
  common::ScramCredentials creds{v.iterations(), v.salt(), v.stored_key(), v.server_key()};
  auto server_first = scram.StartWithCredentials(creds);
  if (!server_first.ok()) {
    co_await conn.Send(ErrResponse(ResponseCode::kAuth, kAuthFailed));
    co_return std::nullopt;
  }
  auto final_msg = co_await SaslStep(conn, *server_first);
  if (!final_msg) co_return std::nullopt;
  auto server_final = scram.HandleClientFinal(*final_msg);
  if (!server_final.ok()) {
    conn.LogEvent("login failed: bad SCRAM proof for " + *user);
    common::metrics::CountLogin("pop3", "failure");
    MAIL_LOG(kInfo, "pop3") << conn.session_id() << " " << conn.stream().remote_address()
                            << " login failed for " << *user << ": bad credentials";
    mail::v1::ReportLoginFailureRequest report;
    report.set_user(*user);
    report.set_protocol(mail::v1::PROTOCOL_POP3);
    report.set_client_address(conn.stream().remote_address());
    auto reported = co_await auth.ReportLoginFailure(report);
    if (!reported.ok()) {
      MAIL_LOG(kWarning, "pop3") << conn.session_id() << " cannot report the failed login: "
                                 << reported.status().ToString();
    }
    co_await conn.Send(ErrResponse(ResponseCode::kAuth, kAuthFailed));
    co_return std::nullopt;
  }
  // RFC 5034: the server's final message goes as a challenge; the client answers empty.
  auto ack = co_await SaslStep(conn, *server_final);
  if (!ack) co_return std::nullopt;
  mail::v1::CompleteLoginRequest creq;
  creq.set_user(*user);
  creq.set_protocol(mail::v1::PROTOCOL_POP3);
  creq.set_client_address(conn.stream().remote_address());
  auto r = co_await auth.CompleteLogin(creq);
  co_return co_await Finish(conn, r, *user);
}

}  // namespace

std::vector<std::string> Capabilities(const Pop3Connection& conn, bool authenticated) {
  std::vector<std::string> caps = {"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING",
                                   "EXPIRE NEVER", "LOGIN-DELAY 0"};
  if (!authenticated) {
    if (Allowed(conn, common::LoginMechanism::kCleartext)) caps.push_back("USER");
    auto mechs = common::AdvertisedMechanisms(LoginTypeOf(conn), conn.stream().tls_active());
    if (!mechs.empty()) {
      std::string sasl = "SASL";
      for (const auto& m : mechs) sasl += " " + m;
      caps.push_back(sasl);
    }
    if (!conn.stream().tls_active() && conn.stream().tls_available()) caps.push_back("STLS");
  }
  caps.push_back("IMPLEMENTATION casmail");
  return caps;
}

asio::awaitable<std::optional<LoginOutcome>> RunLogin(Pop3Connection& conn,
                                                      mailboxstore::Authenticator& auth) {
  std::optional<std::string> user;  // From USER, waiting for PASS.
  int failures = 0;
  while (!conn.closed()) {
    auto e = co_await conn.NextEvent(std::chrono::seconds(
        conn.settings().pre_authenticated_connection_timeout_seconds()));
    if (!e) co_return std::nullopt;
    if (auto* err = std::get_if<ParseError>(&*e)) {
      conn.LogClient("<unparsable command>");
      if (err->code == ParseErrorCode::kLineTooLong) {
        co_await CloseForLongLine(conn);
        co_return std::nullopt;
      }
      co_await conn.Send(ErrResponse(ParseErrorText(err->code)));
      continue;
    }
    if (!std::holds_alternative<Command>(*e)) {
      co_await conn.Send(ErrResponse("Unexpected SASL data."));
      continue;
    }
    Command& cmd = std::get<Command>(*e);
    conn.LogClient(CommandForLog(cmd));
    switch (cmd.verb) {
      case Verb::kCapa:
        co_await conn.Send(MultiLineResponse("Capability list follows",
                                             Capabilities(conn, /*authenticated=*/false)));
        break;
      case Verb::kNoop:
        co_await conn.Send(OkResponse(""));
        break;
      case Verb::kQuit:
        co_await conn.Send(OkResponse("Logging out."));
        co_return std::nullopt;
      case Verb::kStls:
        if (conn.stream().tls_active()) {
          co_await conn.Send(ErrResponse("TLS is already active."));
        } else if (!conn.stream().tls_available()) {
          co_await conn.Send(ErrResponse("TLS is not available."));
        } else if (!co_await conn.StartTls()) {
          co_return std::nullopt;
        }
        user.reset();
        break;
      case Verb::kUser:
        if (!Allowed(conn, common::LoginMechanism::kCleartext)) {
          co_await conn.Send(ErrResponse(ResponseCode::kAuth, kTlsRequired));
          break;
        }
        user = cmd.text;
        co_await conn.Send(OkResponse(""));
        break;
      case Verb::kPass: {
        if (!Allowed(conn, common::LoginMechanism::kCleartext)) {
          co_await conn.Send(ErrResponse(ResponseCode::kAuth, kTlsRequired));
          break;
        }
        if (!user) {
          co_await conn.Send(ErrResponse("USER first."));
          break;
        }
        mail::v1::AuthenticatePlainRequest req;
        req.set_user(*user);
        req.set_password(cmd.text);
        req.set_protocol(mail::v1::PROTOCOL_POP3);
        req.set_client_address(conn.stream().remote_address());
        auto r = co_await auth.AuthenticatePlain(req);
        auto outcome = co_await Finish(conn, r, *user);
        if (outcome) co_return outcome;
        user.reset();
        ++failures;
        break;
      }
      case Verb::kAuth: {
        if (cmd.text.empty()) {  // List the mechanisms (RFC 5034 does not define it; Dovecot does).
          std::vector<std::string> mechs =
              common::AdvertisedMechanisms(LoginTypeOf(conn), conn.stream().tls_active());
          co_await conn.Send(MultiLineResponse("", mechs));
          break;
        }
        common::LoginMechanism kind;
        if (!common::MechanismKind(cmd.text, &kind) || cmd.text == "LOGIN") {
          co_await conn.Send(ErrResponse("Unsupported authentication mechanism."));
          break;
        }
        if (!Allowed(conn, kind)) {
          co_await conn.Send(ErrResponse(ResponseCode::kAuth, kTlsRequired));
          break;
        }
        std::optional<LoginOutcome> outcome;
        if (kind == common::LoginMechanism::kScram) {
          outcome = co_await AuthScram(conn, auth, cmd.initial_response);
        } else {
          outcome = co_await AuthPlain(conn, auth, cmd.initial_response);
        }
        if (outcome) co_return outcome;
        ++failures;
        break;
      }
      case Verb::kApop:
        co_await conn.Send(ErrResponse("APOP is not supported; use STLS and USER/PASS or AUTH."));
        break;
      default:
        co_await conn.Send(ErrResponse("Not allowed before login."));
        break;
    }
    if (failures >= 10) {
      co_await conn.Send(ErrResponse(ResponseCode::kSysTemp, "Too many failed logins."));
      co_return std::nullopt;
    }
  }
  co_return std::nullopt;
}

}  // namespace cas::pop3
