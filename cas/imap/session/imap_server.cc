#include "cas/imap/session/imap_server.h"

#include "cas/imap/session/imap_connection.h"
#include "cas/imap/session/imap_login.h"
#include "cas/imap/session/imap_session.h"
#include "common/logging.h"
#include "common/metrics.h"

namespace cas::imap {

asio::awaitable<void> ServeImap(std::unique_ptr<common::Stream> stream, bool implicit_tls,
                                ImapServices* svc) {
  auto settings = svc->settings->Get();
  std::string address = stream->remote_address();
  auto ticket = svc->limits->AdmitConnection("imap:" + address, settings->max_connections(),
                                             settings->max_connection_from_single_ip());
  common::metrics::GaugeHold open_gauge(&common::metrics::Connections("imap4", "open"));
  std::string id = "imap-" + std::to_string(svc->session_counter->fetch_add(1) + 1);
  ImapConnection conn(std::move(stream), settings, id, svc->log);
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
      conn.Close();
      co_return;
    }
    conn.LogEvent("TLS " + conn.stream().tls_version() + " " + conn.stream().tls_cipher());
  }
  if (!ticket) {
    MAIL_LOG(kWarning, "imap") << id << " " << address << " refused: connection limit reached";
    std::string bye = UntaggedStatus("BYE", "UNAVAILABLE", "Too many connections; try later.");
    co_await conn.Send(bye);
    conn.Close();
    co_return;
  }
  std::string greeting =
      UntaggedStatus("OK", "CAPABILITY " + conn.Capabilities(false), settings->banner());
  if (!co_await conn.Send(greeting)) co_return;
  auto login = co_await RunImapLogin(conn, *svc->auth);
  conn.set_login_deadline(std::nullopt);
  if (login) {
    const mail::v1::Mailbox& mb = login->mailbox;
    auto user_ticket = svc->limits->AdmitUser("imap:" + mb.name(),
                                              settings->max_connections_per_user());
    if (!user_ticket) {
      MAIL_LOG(kWarning, "imap") << id << " " << mb.name() << ": UserConnectionLimitReached";
      std::string no = Tagged(login->tag, "NO", "LIMIT",
                              "Too many connections for this mailbox; try later.");
      co_await conn.Send(no);
    } else {
      MAIL_LOG(kInfo, "imap") << id << " " << address << " logged in as " << mb.name();
      common::metrics::GaugeHold authenticated_gauge(
          &common::metrics::Connections("imap4", "authenticated"));
      co_await RunImapSession(conn, *svc->store, *svc->router, mb, login->tag,
                              svc->message_cache, svc->folder_snapshots, svc->folder_lists);
    }
  }
  conn.LogEvent("close");
  conn.Close();
}

}  // namespace cas::imap
