// The outbound SMTP client against a scripted fake server on 127.0.0.1:0. Client and server
// are coroutines on one io_context; every test is bounded by io_context::run_for and by the
// client's own (short) timeouts.
#include "transport/client/smtp_client.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/tls.h"

namespace transport::client {
namespace {

using tcp = asio::ip::tcp;

// How long any one test may run before it counts as hung.
constexpr std::chrono::seconds kTestBound{30};

// What the fake server answers.
struct Script {
  std::string greeting = "220 fake.test ESMTP\r\n";
  std::string ehlo = "250-fake.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
  std::string mail = "250 2.1.0 Sender OK\r\n";
  // RCPT replies by address; "250 2.1.5 OK" for the others.
  std::map<std::string, std::string> rcpt;
  std::string data = "354 End data with <CR><LF>.<CR><LF>\r\n";
  std::string final_reply = "250 2.0.0 Queued as 1234\r\n";
  // Send nothing at all, not even the greeting.
  bool silent = false;
  // Close the connection once the first line of the message has arrived.
  bool close_mid_data = false;
  // Every reply goes out one byte per write, with a pause in between.
  bool byte_by_byte = false;
  // Answer STARTTLS with 220 and a handshake with this context.
  std::shared_ptr<asio::ssl::context> tls;
  // Answer STARTTLS with 220, then plain garbage instead of a handshake, then close.
  bool broken_tls = false;
};

// What the fake server saw.
struct Recorded {
  int connections = 0;
  std::vector<std::string> commands;  // Command lines without CRLF, all connections.
  std::string data;                   // The message as it came, up to and with ".\r\n".
  bool tls = false;                   // A TLS handshake succeeded.
};

class FakeSmtpServer {
 public:
  FakeSmtpServer(asio::io_context& io, Script script, int connections = 1)
      : io_(io),
        acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}),
        socket_(io),
        script_(std::move(script)) {
    asio::co_spawn(
        io, [this, connections]() -> asio::awaitable<void> { co_await Serve(connections); },
        asio::detached);
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  const Recorded& recorded() const { return recorded_; }

 private:
  asio::awaitable<void> Serve(int connections) {
    for (int i = 0; i < connections; ++i) {
      boost::system::error_code ec;
      co_await acceptor_.async_accept(socket_, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      ++recorded_.connections;
      co_await Session();
      tls_.reset();
      socket_.close(ec);
      buffer_.clear();
    }
  }

  asio::awaitable<void> Session() {
    if (script_.silent) {
      co_await ReadLine();  // Until the client gives up and closes.
      co_return;
    }
    if (!co_await Write(script_.greeting)) co_return;
    while (true) {
      std::optional<std::string> line = co_await ReadLine();
      if (!line) co_return;
      recorded_.commands.push_back(*line);
      std::string verb = line->substr(0, 4);
      for (char& c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      std::string reply;
      if (verb == "EHLO") {
        reply = script_.ehlo;
        if (tls_) reply = "250-fake.test\r\n250 PIPELINING\r\n";  // STARTTLS no more.
      } else if (verb == "HELO") {
        reply = "250 fake.test\r\n";
      } else if (verb == "STAR") {
        if (!co_await Write("220 2.0.0 Ready to start TLS\r\n")) co_return;
        if (script_.broken_tls) {
          co_await Write("this is not a TLS record\r\n");
          co_return;
        }
        tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *script_.tls);
        boost::system::error_code ec;
        co_await tls_->async_handshake(asio::ssl::stream_base::server,
                                       asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
        recorded_.tls = true;
        continue;
      } else if (verb == "MAIL") {
        reply = script_.mail;
      } else if (verb == "RCPT") {
        size_t open = line->find('<');
        size_t close = line->find('>');
        std::string address = open != std::string::npos && close != std::string::npos
                                  ? line->substr(open + 1, close - open - 1)
                                  : "";
        auto it = script_.rcpt.find(address);
        reply = it != script_.rcpt.end() ? it->second : "250 2.1.5 OK\r\n";
      } else if (verb == "DATA") {
        if (!co_await Write(script_.data)) co_return;
        if (script_.data.substr(0, 3) != "354") continue;
        while (true) {
          std::optional<std::string> data_line = co_await ReadLine();
          if (!data_line) co_return;
          recorded_.data += *data_line + "\r\n";
          if (script_.close_mid_data) co_return;
          if (*data_line == ".") break;
        }
        reply = script_.final_reply;
      } else if (verb == "QUIT") {
        co_await Write("221 2.0.0 Bye\r\n");
        co_return;
      } else {
        reply = "500 5.5.2 Unknown command\r\n";
      }
      if (!co_await Write(reply)) co_return;
    }
  }

  asio::awaitable<bool> Write(std::string_view data) {
    boost::system::error_code ec;
    if (!script_.byte_by_byte) {
      co_await WriteRaw(data, ec);
      co_return !ec;
    }
    asio::steady_timer pause(io_);
    for (size_t i = 0; i < data.size() && !ec; ++i) {
      co_await WriteRaw(data.substr(i, 1), ec);
      pause.expires_after(std::chrono::milliseconds(1));
      co_await pause.async_wait(asio::use_awaitable);
    }
    co_return !ec;
  }

  asio::awaitable<void> WriteRaw(std::string_view data, boost::system::error_code& ec) {
    if (tls_) {
      co_await asio::async_write(*tls_, asio::buffer(data.data(), data.size()),
                                 asio::redirect_error(asio::use_awaitable, ec));
    } else {
      co_await asio::async_write(socket_, asio::buffer(data.data(), data.size()),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  // One line without its CRLF; nullopt when the client closed.
  asio::awaitable<std::optional<std::string>> ReadLine() {
    while (true) {
      size_t end = buffer_.find("\r\n");
      if (end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        co_return line;
      }
      char chunk[4096];
      boost::system::error_code ec;
      size_t n;
      if (tls_) {
        n = co_await tls_->async_read_some(asio::buffer(chunk),
                                           asio::redirect_error(asio::use_awaitable, ec));
      } else {
        n = co_await socket_.async_read_some(asio::buffer(chunk),
                                             asio::redirect_error(asio::use_awaitable, ec));
      }
      if (ec) co_return std::nullopt;
      buffer_.append(chunk, n);
    }
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  tcp::socket socket_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
  std::string buffer_;
  Script script_;
  Recorded recorded_;
};

class SmtpClientTest : public ::testing::Test {
 protected:
  SmtpClientTest() {
    options_.helo_name = "client.example.test";
    options_.connect_timeout = std::chrono::seconds(10);
    options_.command_timeout = std::chrono::seconds(10);
    options_.data_timeout = std::chrono::seconds(10);
    envelope_.sender = "alice@example.test";
    envelope_.recipients = {"bob@fake.test"};
  }

  // Runs SendMessage to 127.0.0.1:port (or `host`) until it and the fake server are done.
  SendOutcome Send(uint16_t port, const std::string& host = "127.0.0.1") {
    std::optional<SendOutcome> result;
    asio::co_spawn(io_, SendMessage(host, port, envelope_, &body_, &options_),
                   [&result](std::exception_ptr e, SendOutcome outcome) {
                     if (!e) result = std::move(outcome);
                   });
    io_.run_for(kTestBound);
    EXPECT_TRUE(result.has_value()) << "SendMessage did not finish";
    return result.value_or(SendOutcome());
  }

  // A self-signed certificate for `host_name` in a fresh directory, and a server context.
  std::shared_ptr<asio::ssl::context> ServerTls(const std::string& host_name) {
    dir_ = std::filesystem::temp_directory_path() /
           ("smtpclienttest." + std::to_string(::getpid()) + "." +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    files_.certificate_chain = (dir_ / "cert.pem").string();
    files_.private_key = (dir_ / "key.pem").string();
    bool created = false;
    common::Status st = common::EnsureSelfSignedCertificate(files_, host_name, &created);
    EXPECT_TRUE(st.ok()) << st.ToString();
    auto ctx = common::MakeServerTlsContext(files_);
    EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
    return ctx.ok() ? *ctx : nullptr;
  }

  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  static bool HasCommand(const Recorded& r, std::string_view prefix) {
    for (const std::string& c : r.commands) {
      if (c.starts_with(prefix)) return true;
    }
    return false;
  }

  asio::io_context io_;
  ClientOptions options_;
  Envelope envelope_;
  std::string body_ = "Subject: test\r\n\r\nHello\r\n";
  std::filesystem::path dir_;
  common::TlsFiles files_;
};

TEST_F(SmtpClientTest, SendsAndDotStuffs) {
  FakeSmtpServer server(io_, Script());
  body_ = "Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nend\r\n";
  SendOutcome out = Send(server.port());
  EXPECT_TRUE(out.connected);
  EXPECT_EQ(out.session_reply.code, 0);
  ASSERT_EQ(out.recipients.size(), 1u);
  EXPECT_EQ(out.recipients[0].address, "bob@fake.test");
  EXPECT_EQ(out.recipients[0].reply.code, 250);
  EXPECT_EQ(out.recipients[0].reply.enhanced(), "2.0.0");
  EXPECT_EQ(out.recipients[0].reply.Text(), "2.0.0 Queued as 1234");
  EXPECT_EQ(out.tls_version, "");
  EXPECT_EQ(server.recorded().data,
            "Subject: dots\r\n\r\n..leading dot\r\n...two dots\r\n..\r\nend\r\n.\r\n");
  EXPECT_EQ(server.recorded().commands,
            (std::vector<std::string>{"EHLO client.example.test", "MAIL FROM:<alice@example.test>",
                                      "RCPT TO:<bob@fake.test>", "DATA", "QUIT"}));
}

TEST_F(SmtpClientTest, BareLineEndsBecomeCrlf) {
  FakeSmtpServer server(io_, Script());
  body_ = "Subject: lf\n\nline one\n.\nbare\rcr\r\n.x\nno final line end";
  SendOutcome out = Send(server.port());
  ASSERT_EQ(out.recipients.size(), 1u);
  EXPECT_EQ(out.recipients[0].reply.code, 250);
  EXPECT_EQ(server.recorded().data,
            "Subject: lf\r\n\r\nline one\r\n..\r\nbare\r\ncr\r\n..x\r\nno final line end\r\n"
            ".\r\n");
}

TEST_F(SmtpClientTest, OneRecipientRefusedAnotherAccepted) {
  Script script;
  script.rcpt["nobody@fake.test"] = "550 5.1.1 <nobody@fake.test>: User unknown\r\n";
  FakeSmtpServer server(io_, script);
  envelope_.recipients = {"nobody@fake.test", "bob@fake.test"};
  SendOutcome out = Send(server.port());
  EXPECT_TRUE(out.connected);
  EXPECT_EQ(out.session_reply.code, 0);
  ASSERT_EQ(out.recipients.size(), 2u);
  EXPECT_EQ(out.recipients[0].address, "nobody@fake.test");
  EXPECT_EQ(out.recipients[0].reply.code, 550);
  EXPECT_TRUE(out.recipients[0].reply.permanent());
  EXPECT_EQ(out.recipients[0].reply.enhanced(), "5.1.1");
  EXPECT_EQ(out.recipients[1].address, "bob@fake.test");
  EXPECT_EQ(out.recipients[1].reply.code, 250);
  EXPECT_TRUE(HasCommand(server.recorded(), "DATA"));
}

TEST_F(SmtpClientTest, NoDataWhenEveryRecipientIsRefused) {
  Script script;
  script.rcpt["bob@fake.test"] = "450 4.2.0 Mailbox busy\r\n";
  FakeSmtpServer server(io_, script);
  SendOutcome out = Send(server.port());
  EXPECT_TRUE(out.connected);
  ASSERT_EQ(out.recipients.size(), 1u);
  EXPECT_EQ(out.recipients[0].reply.code, 450);
  EXPECT_TRUE(out.recipients[0].reply.transient());
  EXPECT_FALSE(HasCommand(server.recorded(), "DATA"));
  EXPECT_TRUE(HasCommand(server.recorded(), "QUIT"));
}

TEST_F(SmtpClientTest, Greeting554FailsEveryRecipientPermanently) {
  Script script;
  script.greeting = "554 5.7.1 No service for you\r\n";
  FakeSmtpServer server(io_, script);
  envelope_.recipients = {"a@fake.test", "b@fake.test"};
  SendOutcome out = Send(server.port());
  EXPECT_FALSE(out.connected);
  EXPECT_EQ(out.session_reply.code, 554);
  EXPECT_TRUE(out.session_reply.permanent());
  ASSERT_EQ(out.recipients.size(), 2u);
  for (const RecipientOutcome& r : out.recipients) EXPECT_EQ(r.reply.code, 554);
  EXPECT_EQ(server.recorded().commands, std::vector<std::string>{"QUIT"});
}

TEST_F(SmtpClientTest, ConnectionClosedMidDataIsTransient) {
  Script script;
  script.close_mid_data = true;
  script.rcpt["nobody@fake.test"] = "550 5.1.1 User unknown\r\n";
  FakeSmtpServer server(io_, script);
  envelope_.recipients = {"bob@fake.test", "nobody@fake.test", "carol@fake.test"};
  body_ = "Subject: cut\r\n\r\n" + std::string(100, 'x') + "\r\n";
  SendOutcome out = Send(server.port());
  EXPECT_TRUE(out.connected);
  EXPECT_EQ(out.session_reply.code, 451);
  EXPECT_EQ(out.session_reply.enhanced(), "4.4.2");
  ASSERT_EQ(out.recipients.size(), 3u);
  EXPECT_EQ(out.recipients[0].reply.code, 451);
  EXPECT_EQ(out.recipients[0].reply.enhanced(), "4.4.2");
  EXPECT_EQ(out.recipients[1].reply.code, 550);  // Its RCPT reply was already final.
  EXPECT_EQ(out.recipients[2].reply.code, 451);
  EXPECT_FALSE(server.recorded().data.empty());
}

TEST_F(SmtpClientTest, ClosedPortIsTransient441) {
  uint16_t port;
  {
    tcp::acceptor probe(io_, {asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }  // Closed again: nothing listens there now.
  SendOutcome out = Send(port);
  EXPECT_FALSE(out.connected);
  EXPECT_EQ(out.session_reply.code, 451);
  EXPECT_EQ(out.session_reply.enhanced(), "4.4.1");
  EXPECT_EQ(out.session_reply.Text(),
            "4.4.1 Connection refused by 127.0.0.1:" + std::to_string(port));
  ASSERT_EQ(out.recipients.size(), 1u);
  EXPECT_EQ(out.recipients[0].reply.code, 451);
}

TEST_F(SmtpClientTest, SilentServerTimesOutWaitingForTheGreeting) {
  Script script;
  script.silent = true;
  FakeSmtpServer server(io_, script);
  options_.command_timeout = std::chrono::seconds(1);
  SendOutcome out = Send(server.port());
  EXPECT_FALSE(out.connected);
  EXPECT_EQ(out.session_reply.code, 451);
  EXPECT_EQ(out.session_reply.enhanced(), "4.4.2");
  EXPECT_NE(out.session_reply.Text().find("Timed out waiting for the greeting from 127.0.0.1:"),
            std::string::npos)
      << out.session_reply.Text();
}

TEST_F(SmtpClientTest, StartTlsWithSelfSignedCertificate) {
  Script script;
  script.tls = ServerTls("fake.test");
  ASSERT_TRUE(script.tls);
  script.ehlo = "250-fake.test\r\n250-STARTTLS\r\n250 8BITMIME\r\n";
  FakeSmtpServer server(io_, script);
  SendOutcome out = Send(server.port());
  EXPECT_EQ(out.session_reply.code, 0) << out.session_reply.Text();
  ASSERT_EQ(out.recipients.size(), 1u);
  EXPECT_EQ(out.recipients[0].reply.code, 250);
  EXPECT_TRUE(server.recorded().tls);
  EXPECT_TRUE(out.tls_version == "TLSv1.3" || out.tls_version == "TLSv1.2") << out.tls_version;
  EXPECT_FALSE(out.tls_cipher.empty());
  EXPECT_EQ(server.recorded().commands,
            (std::vector<std::string>{"EHLO client.example.test", "STARTTLS",
                                      "EHLO client.example.test", "MAIL FROM:<alice@example.test>",
                                      "RCPT TO:<bob@fake.test>", "DATA", "QUIT"}));
  EXPECT_EQ(server.recorded().data, "Subject: test\r\n\r\nHello\r\n.\r\n");
}

TEST_F(SmtpClientTest, VerifiedStartTlsWithTrustedCaFile) {
  Script script;
  script.tls = ServerTls("localhost");
  ASSERT_TRUE(script.tls);
  script.ehlo = "250-fake.test\r\n250 STARTTLS\r\n";
  FakeSmtpServer server(io_, script);
  options_.verify_certificate = true;
  options_.require_tls = true;
  options_.ca_file = files_.certificate_chain;
  // "localhost" may resolve to ::1 first, where nothing listens: the next address is tried.
  SendOutcome out = Send(server.port(), "localhost");
  EXPECT_EQ(out.session_reply.code, 0) << out.session_reply.Text();
  ASSERT_EQ(out.recipients.size(), 1u);
  EXPECT_EQ(out.recipients[0].reply.code, 250);
  EXPECT_TRUE(server.recorded().tls);
}

TEST_F(SmtpClientTest, UnverifiableCertificateIsTransientAndNotRetriedInTheClear) {
  Script script;
  script.tls = ServerTls("fake.test");
  ASSERT_TRUE(script.tls);
  script.ehlo = "250-fake.test\r\n250 STARTTLS\r\n";
  // One connection served: a retry would wait for a greeting that never comes and end with
  // 4.4.2 instead of 4.7.5.
  FakeSmtpServer server(io_, script);
  options_.verify_certificate = true;  // Against the system store: a self-signed one fails.
  SendOutcome out = Send(server.port());
  EXPECT_EQ(out.session_reply.code, 451);
  EXPECT_EQ(out.session_reply.enhanced(), "4.7.5");
  EXPECT_EQ(out.recipients[0].reply.code, 451);
  EXPECT_EQ(server.recorded().connections, 1);
  EXPECT_FALSE(HasCommand(server.recorded(), "MAIL"));
}

TEST_F(SmtpClientTest, FailedHandshakeFallsBackToPlainText) {
  Script script;
  script.broken_tls = true;
  script.ehlo = "250-fake.test\r\n250-STARTTLS\r\n250 PIPELINING\r\n";
  FakeSmtpServer server(io_, script, /*connections=*/2);
  SendOutcome out = Send(server.port());
  EXPECT_EQ(out.session_reply.code, 0) << out.session_reply.Text();
  EXPECT_EQ(out.recipients[0].reply.code, 250);
  EXPECT_EQ(out.tls_version, "");
  EXPECT_EQ(server.recorded().connections, 2);
  EXPECT_EQ(server.recorded().commands,
            (std::vector<std::string>{"EHLO client.example.test", "STARTTLS",
                                      "EHLO client.example.test", "MAIL FROM:<alice@example.test>",
                                      "RCPT TO:<bob@fake.test>", "DATA", "QUIT"}));
}

TEST_F(SmtpClientTest, RequireTlsWithoutStartTls) {
  FakeSmtpServer server(io_, Script());
  options_.require_tls = true;
  SendOutcome out = Send(server.port());
  EXPECT_FALSE(out.connected);
  EXPECT_EQ(out.session_reply.code, 451);
  EXPECT_EQ(out.session_reply.enhanced(), "4.7.4");
  EXPECT_NE(out.session_reply.Text().find("TLS required but not offered by 127.0.0.1:"),
            std::string::npos);
  EXPECT_EQ(out.recipients[0].reply.code, 451);
  EXPECT_EQ(server.recorded().commands,
            (std::vector<std::string>{"EHLO client.example.test", "QUIT"}));
}

TEST_F(SmtpClientTest, MessageOverTheAdvertisedSize) {
  Script script;
  script.ehlo = "250-fake.test\r\n250 SIZE 100\r\n";
  FakeSmtpServer server(io_, script);
  body_ = "Subject: big\r\n\r\n" + std::string(200, 'x') + "\r\n";
  SendOutcome out = Send(server.port());
  EXPECT_FALSE(out.connected);
  EXPECT_EQ(out.session_reply.code, 552);
  EXPECT_EQ(out.session_reply.enhanced(), "5.3.4");
  EXPECT_TRUE(out.recipients[0].reply.permanent());
  EXPECT_FALSE(HasCommand(server.recorded(), "MAIL"));
}

TEST_F(SmtpClientTest, MailParametersFollowTheExtensions) {
  Script script;
  script.ehlo = "250-fake.test\r\n250-SIZE 1000000\r\n250-8BITMIME\r\n250-DSN\r\n250 SMTPUTF8\r\n";
  FakeSmtpServer server(io_, script);
  envelope_.eight_bit = true;
  envelope_.smtputf8 = true;
  envelope_.envid = "id+1=2 x";
  body_ = "Subject: x\n\nbody\n";
  SendOutcome out = Send(server.port());
  EXPECT_EQ(out.recipients[0].reply.code, 250);
  ASSERT_GE(server.recorded().commands.size(), 2u);
  EXPECT_EQ(server.recorded().commands[1],
            "MAIL FROM:<alice@example.test> SIZE=" + std::to_string(MessageSize(body_)) +
                " BODY=8BITMIME SMTPUTF8 ENVID=id+2B1+3D2+20x");
}

TEST_F(SmtpClientTest, DsnParametersGoToANextHopThatOffersDsn) {
  Script script;
  script.ehlo = "250-fake.test\r\n250-PIPELINING\r\n250 DSN\r\n";
  FakeSmtpServer server(io_, script);
  envelope_.recipients = {"bob@fake.test", "carol@fake.test", "dave@fake.test"};
  envelope_.ret = "HDRS";
  envelope_.envid = "e1";
  envelope_.recipient_dsn = {{"SUCCESS,FAILURE", "rfc822;bob+x=y@fake.test"}, {"NEVER", ""}};
  SendOutcome out = Send(server.port());
  EXPECT_TRUE(out.dsn_offered);
  ASSERT_EQ(out.recipients.size(), 3u);
  EXPECT_EQ(
      server.recorded().commands,
      (std::vector<std::string>{
          "EHLO client.example.test", "MAIL FROM:<alice@example.test> RET=HDRS ENVID=e1",
          "RCPT TO:<bob@fake.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob+2Bx+3Dy@fake.test",
          "RCPT TO:<carol@fake.test> NOTIFY=NEVER", "RCPT TO:<dave@fake.test>", "DATA", "QUIT"}));
}

TEST_F(SmtpClientTest, NoDsnParametersWithoutDsn) {
  FakeSmtpServer server(io_, Script());
  envelope_.ret = "HDRS";
  envelope_.envid = "e1";
  envelope_.recipient_dsn = {{"SUCCESS", "rfc822;bob@fake.test"}};
  SendOutcome out = Send(server.port());
  // The sender's NOTIFY=SUCCESS is then ours to answer, with a "relayed" report.
  EXPECT_FALSE(out.dsn_offered);
  EXPECT_EQ(server.recorded().commands,
            (std::vector<std::string>{"EHLO client.example.test", "MAIL FROM:<alice@example.test>",
                                      "RCPT TO:<bob@fake.test>", "DATA", "QUIT"}));
}

TEST_F(SmtpClientTest, SmtpUtf8NeededButNotOffered) {
  FakeSmtpServer server(io_, Script());
  envelope_.recipients = {"j\xC3\xBCrgen@fake.test"};
  SendOutcome out = Send(server.port());
  EXPECT_EQ(out.session_reply.code, 553);
  EXPECT_EQ(out.session_reply.enhanced(), "5.6.7");
  EXPECT_EQ(out.recipients[0].reply.code, 553);
  EXPECT_FALSE(HasCommand(server.recorded(), "MAIL"));
}

TEST_F(SmtpClientTest, HeloWhenEhloIsUnknown) {
  Script script;
  script.ehlo = "502 5.5.1 Command not implemented\r\n";
  FakeSmtpServer server(io_, script);
  SendOutcome out = Send(server.port());
  EXPECT_EQ(out.recipients[0].reply.code, 250);
  EXPECT_EQ(server.recorded().commands,
            (std::vector<std::string>{"EHLO client.example.test", "HELO client.example.test",
                                      "MAIL FROM:<alice@example.test>", "RCPT TO:<bob@fake.test>",
                                      "DATA", "QUIT"}));
}

TEST_F(SmtpClientTest, RepliesSplitIntoSingleBytes) {
  Script script;
  script.byte_by_byte = true;
  script.ehlo = "250-fake.test\r\n250-PIPELINING\r\n250 SIZE 100000\r\n";
  script.rcpt["nobody@fake.test"] = "550-5.1.1 No such user\r\n550 5.1.1 Really\r\n";
  FakeSmtpServer server(io_, script);
  envelope_.recipients = {"bob@fake.test", "nobody@fake.test"};
  SendOutcome out = Send(server.port());
  EXPECT_EQ(out.session_reply.code, 0) << out.session_reply.Text();
  ASSERT_EQ(out.recipients.size(), 2u);
  EXPECT_EQ(out.recipients[0].reply.code, 250);
  EXPECT_EQ(out.recipients[1].reply.code, 550);
  EXPECT_EQ(out.recipients[1].reply.Text(), "5.1.1 No such user; 5.1.1 Really");
}

TEST_F(SmtpClientTest, MalformedReplyIsTransient) {
  Script script;
  script.ehlo = "250-fake.test\r\n251 mixed codes\r\n";
  FakeSmtpServer server(io_, script);
  SendOutcome out = Send(server.port());
  EXPECT_EQ(out.session_reply.code, 451);
  EXPECT_EQ(out.session_reply.enhanced(), "4.5.0");
  EXPECT_EQ(out.recipients[0].reply.code, 451);
}

TEST_F(SmtpClientTest, DataRefusedKeepsRcptReplies) {
  Script script;
  script.data = "554 5.5.1 No valid recipients\r\n";
  script.rcpt["nobody@fake.test"] = "550 5.1.1 User unknown\r\n";
  FakeSmtpServer server(io_, script);
  envelope_.recipients = {"bob@fake.test", "nobody@fake.test"};
  SendOutcome out = Send(server.port());
  EXPECT_TRUE(out.connected);
  EXPECT_EQ(out.session_reply.code, 554);
  EXPECT_EQ(out.recipients[0].reply.code, 554);
  EXPECT_EQ(out.recipients[1].reply.code, 550);
}

TEST_F(SmtpClientTest, InvalidAddressesNeverReachTheWire) {
  FakeSmtpServer server(io_, Script());
  envelope_.recipients = {"evil@fake.test>\r\nRSET", "bob@fake.test"};
  SendOutcome out = Send(server.port());
  ASSERT_EQ(out.recipients.size(), 2u);
  EXPECT_EQ(out.recipients[0].reply.code, 553);
  EXPECT_EQ(out.recipients[1].reply.code, 250);
  EXPECT_FALSE(HasCommand(server.recorded(), "RSET"));
}

TEST_F(SmtpClientTest, LargeMessageGoesOutInChunks) {
  FakeSmtpServer server(io_, Script());
  // Lines of 64 octets starting with '.', so that stuffing happens across every chunk edge.
  std::string line = "." + std::string(62, 'y') + "\n";
  std::string expected_line = "." + line.substr(0, 63) + "\r\n";
  body_ = "Subject: big\n\n";
  std::string expected = "Subject: big\r\n\r\n";
  for (int i = 0; i < 40000; ++i) {  // About 2.5 MB.
    body_ += line;
    expected += expected_line;
  }
  expected += ".\r\n";
  SendOutcome out = Send(server.port());
  EXPECT_EQ(out.recipients[0].reply.code, 250) << out.recipients[0].reply.Text();
  EXPECT_TRUE(server.recorded().data == expected);  // Not EXPECT_EQ: no 2.5 MB diff output.
  EXPECT_EQ(server.recorded().data.size(), expected.size());
}

TEST_F(SmtpClientTest, ManyRecipientsArePipelinedInBatches) {
  Script script;
  script.rcpt["r7@fake.test"] = "550 5.1.1 User unknown\r\n";
  script.rcpt["r149@fake.test"] = "452 4.5.3 Too many recipients\r\n";
  FakeSmtpServer server(io_, script);
  envelope_.recipients.clear();
  for (int i = 0; i < 250; ++i)
    envelope_.recipients.push_back("r" + std::to_string(i) + "@fake.test");
  SendOutcome out = Send(server.port());
  EXPECT_EQ(out.session_reply.code, 0);
  ASSERT_EQ(out.recipients.size(), 250u);
  for (int i = 0; i < 250; ++i) {
    EXPECT_EQ(out.recipients[i].address, "r" + std::to_string(i) + "@fake.test");
    int expected = i == 7 ? 550 : i == 149 ? 452 : 250;
    EXPECT_EQ(out.recipients[i].reply.code, expected) << i;
  }
  const std::vector<std::string>& commands = server.recorded().commands;
  ASSERT_EQ(commands.size(), 1u + 1u + 250u + 2u);  // EHLO, MAIL, RCPT x 250, DATA, QUIT.
  EXPECT_EQ(commands[2], "RCPT TO:<r0@fake.test>");
  EXPECT_EQ(commands[251], "RCPT TO:<r249@fake.test>");
}

TEST(DataEncoderTest, SplitAnywhereGivesTheSameWireForm) {
  const std::string body = "a\r\n.b\r\r\n\n.\rc\n.";
  const std::string expected = "a\r\n..b\r\n\r\n\r\n..\r\nc\r\n..\r\n.\r\n";
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    DataEncoder encoder;
    std::string out;
    encoder.Feed(std::string_view(body).substr(0, cut), &out);
    encoder.Feed(std::string_view(body).substr(cut), &out);
    encoder.Finish(&out);
    EXPECT_EQ(out, expected) << cut;
  }
  DataEncoder empty;
  std::string out;
  empty.Finish(&out);
  EXPECT_EQ(out, ".\r\n");
}

TEST(DataEncoderTest, MessageSizeCountsCrlfWithoutStuffing) {
  EXPECT_EQ(MessageSize(""), 0u);
  EXPECT_EQ(MessageSize("ab\r\n"), 4u);
  EXPECT_EQ(MessageSize("ab\n"), 4u);
  EXPECT_EQ(MessageSize("ab"), 4u);
  EXPECT_EQ(MessageSize(".a\r\r\n"), 6u);
  const std::string body = "x\n.y\rz";
  DataEncoder encoder;
  std::string wire;
  encoder.Feed(body, &wire);
  encoder.Finish(&wire);
  // The wire form is the normalized size, plus one stuffed dot, plus ".\r\n".
  EXPECT_EQ(wire.size(), MessageSize(body) + 1 + 3);
}

}  // namespace
}  // namespace transport::client
