#include "cas/pop3/session/pop3_server.h"

#include "cas/pop3/session/pop3_login.h"
#include "cas/pop3/session/pop3_transaction.h"
#include "common/logging.h"
#include "common/metrics.h"

namespace cas::pop3 {

asio::awaitable<void> ServePop3(std::unique_ptr<common::Stream> stream, bool implicit_tls,
                                Pop3Services* svc) {
  auto settings = svc->settings->Get();
  std::string address = stream->remote_address();
  auto ticket = svc->limits->AdmitConnection(address, settings->max_connections(),
                                             settings->max_connection_from_single_ip());
  common::metrics::GaugeHold open_gauge(&common::metrics::Connections("pop3", "open"));
  std::string id = "pop3-" + std::to_string(svc->session_counter->fetch_add(1) + 1);
  Pop3Connection conn(std::move(stream), settings, id, svc->log);
  conn.LogEvent("connect " + address + " port " + std::to_string(conn.stream().local_port()));
  // Measured from connect to a successful login (as Exchange and Dovecot do), not per read.
  conn.set_login_deadline(
      std::chrono::steady_clock::now() +
      std::chrono::seconds(settings->pre_authenticated_connection_timeout_seconds()));
  if (implicit_tls) {
    boost::system::error_code ec;
    co_await conn.stream().Handshake(conn.BoundedTimeout(std::chrono::seconds(30)), ec);
    if (ec) {
      conn.LogEvent("TLS handshake failed: " + ec.message());
      conn.stream().Close();
      co_return;
    }
    conn.LogEvent("TLS " + conn.stream().tls_version() + " " + conn.stream().tls_cipher());
  }
  if (!ticket) {
    MAIL_LOG(kWarning, "pop3") << id << " " << address << " refused: connection limit reached";
    co_await conn.Send(ErrResponse(ResponseCode::kSysTemp, "Too many connections; try later."));
    conn.stream().Close();
    co_return;
  }
  if (!co_await conn.Send(OkResponse(settings->banner()))) co_return;
  auto login = co_await RunLogin(conn, *svc->auth);
  conn.set_login_deadline(std::nullopt);
  if (login) {
    const mail::v1::Mailbox& mb = login->mailbox;
    auto user_ticket = svc->limits->AdmitUser("pop3:" + mb.name(),
                                              settings->max_connections_per_user());
    if (!user_ticket) {
      MAIL_LOG(kWarning, "pop3") << id << " " << mb.name() << ": UserConnectionLimitReached";
      co_await conn.Send(ErrResponse(ResponseCode::kSysTemp,
                                     "Too many connections for this mailbox; try later."));
    } else if (!svc->locks->TryLock(mb.id())) {
      co_await conn.Send(ErrResponse(ResponseCode::kInUse,
                                     "The mailbox is in use by another POP3 session."));
    } else {
      MAIL_LOG(kInfo, "pop3") << id << " " << address << " logged in as " << mb.name();
      common::metrics::GaugeHold authenticated_gauge(
          &common::metrics::Connections("pop3", "authenticated"));
      co_await RunTransaction(conn, *svc->store, mb);
      svc->locks->Unlock(mb.id());
    }
  }
  conn.LogEvent("close");
  conn.stream().Close();
}

}  // namespace cas::pop3
