// Test-ImapConnectivity, Test-PopConnectivity and Test-SmtpConnectivity through the runner,
// against in-process fake IMAP4, POP3 and SMTP servers (a thread with a listening socket on
// 127.0.0.1:0 that answers as scripted, with TLS from a throwaway self-signed certificate) and
// the fake mail.v1.Control and Directory servers: every step's row, STARTTLS before the
// password, a bad password, a service that is down or stopped, timeouts, the prompt for the
// password, the errors and the exit status. Also the endpoint parser of probe.h.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adminctl/cmdlet.h"
#include "adminctl/help.h"
#include "adminctl/probe.h"
#include "common/base64.h"
#include "common/tls.h"
#include "tests/adminctl/fake_control.h"
#include "tests/adminctl/fake_directory.h"

namespace adminctl {
namespace {

using test::Outcome;

constexpr char kPassword[] = "S3cret!pass";
constexpr char kCertHost[] = "mail.example.test";

// ---------------------------------------------------------------------------------------------
// The fake servers

// The server's TLS context: a self-signed certificate for mail.example.test, made once.
SSL_CTX* ServerTlsContext() {
  static SSL_CTX* ctx = [] {
    char dir_template[] = "/tmp/connectivity_test.XXXXXX";
    const std::string dir = mkdtemp(dir_template);
    common::TlsFiles files{dir + "/cert.pem", dir + "/key.pem"};
    bool created = false;
    common::Status s = common::EnsureSelfSignedCertificate(files, kCertHost, &created);
    EXPECT_TRUE(s.ok()) << s.message();
    SSL_CTX* c = SSL_CTX_new(TLS_server_method());
    EXPECT_EQ(SSL_CTX_use_certificate_chain_file(c, files.certificate_chain.c_str()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey_file(c, files.private_key.c_str(), SSL_FILETYPE_PEM), 1);
    std::filesystem::remove_all(dir);
    return c;
  }();
  return ctx;
}

// One accepted connection of a fake server: blocking line I/O, plain or TLS.
class FakeConn {
 public:
  explicit FakeConn(int fd) : fd_(fd) {
    timeval tv = {10, 0};  // A broken test ends instead of hanging.
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
  ~FakeConn() {
    if (ssl_ != nullptr) {
      SSL_shutdown(ssl_);
      SSL_free(ssl_);
    }
    close(fd_);
  }

  void Send(const std::string& line) { SendRaw(line + "\r\n"); }

  void SendRaw(const std::string& data) {
    if (ssl_ != nullptr) {
      SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
    } else {
      ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    }
  }

  std::optional<std::string> ReadLine() {
    for (;;) {
      size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
      }
      if (!Fill()) return std::nullopt;
    }
  }

  std::optional<std::string> ReadBytes(size_t n) {
    while (buffer_.size() < n) {
      if (!Fill()) return std::nullopt;
    }
    std::string data = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return data;
  }

  bool StartTls() {
    ssl_ = SSL_new(ServerTlsContext());
    SSL_set_fd(ssl_, fd_);
    if (SSL_accept(ssl_) != 1) {
      SSL_free(ssl_);
      ssl_ = nullptr;
      return false;
    }
    return true;
  }

  bool tls() const { return ssl_ != nullptr; }

 private:
  bool Fill() {
    char chunk[4096];
    int n = ssl_ != nullptr ? SSL_read(ssl_, chunk, sizeof(chunk))
                            : static_cast<int>(::recv(fd_, chunk, sizeof(chunk), 0));
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  SSL* ssl_ = nullptr;
  std::string buffer_;
};

// A listening socket on 127.0.0.1:<picked port> and a thread that serves each connection
// with `session`, one after the other. Every line the client sent is kept.
class FakeServer {
 public:
  using Session = std::function<void(FakeConn&, FakeServer&)>;

  explicit FakeServer(Session session) : session_(std::move(session)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(listen_fd_, 8), 0);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }

  ~FakeServer() {
    stop_ = true;
    thread_.join();
    close(listen_fd_);
  }

  uint16_t port() const { return port_; }

  void Record(const std::string& line) {
    std::lock_guard<std::mutex> lock(mu_);
    received_.push_back(line);
  }

  std::vector<std::string> received() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

  // Everything received, one line each.
  std::string Transcript() {
    std::string all;
    for (const std::string& l : received()) all += l + "\n";
    return all;
  }

  int connections() const { return connections_; }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p = {listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++connections_;
      FakeConn conn(fd);
      session_(conn, *this);
    }
  }

  Session session_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> received_;
};

// A port on 127.0.0.1 where nothing listens (it was free a moment ago).
uint16_t ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// How the fake servers behave; each test changes what it needs.
struct Script {
  bool implicit_tls = false;
  std::string user = "alice";
  std::string password = kPassword;
  bool offer_starttls = true;
  bool offer_auth = true;              // SMTP.
  bool greet = true;                   // Send a greeting at all.
  bool inject_after_starttls = false;  // Sends an extra line right after the STARTTLS reply.
  int messages = 3;
};

// "a1 LOGIN "alice" "pw"": the arguments after the command, quoted strings or literals.
std::vector<std::string> ImapArguments(FakeConn& c, std::string rest) {
  std::vector<std::string> args;
  size_t i = 0;
  while (i < rest.size()) {
    if (rest[i] == ' ') {
      ++i;
      continue;
    }
    if (rest[i] == '"') {
      std::string value;
      for (++i; i < rest.size() && rest[i] != '"'; ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
        value.push_back(rest[i]);
      }
      ++i;
      args.push_back(value);
    } else if (rest[i] == '{') {
      size_t close = rest.find('}', i);
      size_t n = std::stoul(rest.substr(i + 1, close - i - 1));
      c.Send("+ Ready for literal data");
      args.push_back(c.ReadBytes(n).value_or(""));
      rest = c.ReadLine().value_or("");
      i = 0;
    } else {
      size_t end = rest.find(' ', i);
      if (end == std::string::npos) end = rest.size();
      args.push_back(rest.substr(i, end - i));
      i = end;
    }
  }
  return args;
}

FakeServer::Session ImapServer(Script s) {
  return [s](FakeConn& c, FakeServer& server) {
    if (s.implicit_tls && !c.StartTls()) return;
    if (!s.greet) {
      c.ReadBytes(1 << 20);  // Says nothing until the client gives up.
      return;
    }
    c.Send("* OK [CAPABILITY IMAP4rev1] Fake IMAP4 ready.");
    while (std::optional<std::string> line = c.ReadLine()) {
      size_t space = line->find(' ');
      const std::string tag = line->substr(0, space);
      std::string rest = space == std::string::npos ? "" : line->substr(space + 1);
      size_t space2 = rest.find(' ');
      const std::string command = rest.substr(0, space2);
      rest = space2 == std::string::npos ? "" : rest.substr(space2 + 1);
      server.Record(command == "LOGIN" ? tag + " LOGIN (tls=" + (c.tls() ? "yes" : "no") + ")"
                                       : *line);
      if (command == "CAPABILITY") {
        c.Send(std::string("* CAPABILITY IMAP4rev1 IDLE") +
               (c.tls() ? " AUTH=PLAIN" : (s.offer_starttls ? " STARTTLS" : "")));
        c.Send(tag + " OK CAPABILITY completed.");
      } else if (command == "STARTTLS") {
        if (!s.offer_starttls) {
          c.Send(tag + " BAD STARTTLS not available.");
          continue;
        }
        // The injected line goes in the same segment, as an attacker's would.
        c.SendRaw(tag + " OK Begin TLS negotiation now.\r\n" +
                  (s.inject_after_starttls ? "* OK injected\r\n" : ""));
        if (!c.StartTls()) return;
      } else if (command == "LOGIN") {
        std::vector<std::string> args = ImapArguments(c, rest);
        server.Record("login args: " + std::to_string(args.size()) +
                      (args.size() == 2 && args[1] == s.password ? " password ok" : ""));
        if (args.size() == 2 && args[0] == s.user && args[1] == s.password) {
          c.Send(tag + " OK [CAPABILITY IMAP4rev1 IDLE] Logged in.");
        } else {
          c.Send(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.");
        }
      } else if (command == "EXAMINE" || command == "SELECT") {
        c.Send("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)");
        c.Send("* " + std::to_string(s.messages) + " EXISTS");
        c.Send("* 0 RECENT");
        c.Send("* OK [UIDVALIDITY 1] UIDs valid");
        c.Send(tag + " OK [READ-ONLY] EXAMINE completed.");
      } else if (command == "LOGOUT") {
        c.Send("* BYE Logging out.");
        c.Send(tag + " OK Logged out.");
        return;
      } else {
        c.Send(tag + " BAD Unknown command.");
      }
    }
  };
}

FakeServer::Session PopServer(Script s) {
  return [s](FakeConn& c, FakeServer& server) {
    if (s.implicit_tls && !c.StartTls()) return;
    if (!s.greet) {
      c.ReadBytes(1 << 20);  // Says nothing until the client gives up.
      return;
    }
    c.Send("+OK Fake POP3 ready.");
    bool user_ok = false;
    while (std::optional<std::string> line = c.ReadLine()) {
      const std::string command = line->substr(0, line->find(' '));
      const std::string arg = line->size() > command.size() ? line->substr(command.size() + 1) : "";
      server.Record(command == "PASS" ? std::string("PASS (tls=") + (c.tls() ? "yes" : "no") + ")"
                                      : *line);
      if (command == "CAPA") {
        c.Send("+OK Capability list follows");
        c.Send("TOP");
        c.Send("UIDL");
        c.Send("USER");
        if (!c.tls() && s.offer_starttls) c.Send("STLS");
        c.Send("SASL PLAIN");
        c.Send(".");
      } else if (command == "STLS") {
        if (!s.offer_starttls) {
          c.Send("-ERR STLS not available");
          continue;
        }
        c.Send("+OK Begin TLS negotiation");
        if (!c.StartTls()) return;
      } else if (command == "USER") {
        user_ok = arg == s.user;
        c.Send("+OK");
      } else if (command == "PASS") {
        if (user_ok && arg == s.password) {
          c.Send("+OK Logged in.");
        } else {
          c.Send("-ERR [AUTH] Authentication failed.");
        }
      } else if (command == "STAT") {
        c.Send("+OK " + std::to_string(s.messages) + " 1234");
      } else if (command == "QUIT") {
        c.Send("+OK Bye");
        return;
      } else {
        c.Send("-ERR Unknown command");
      }
    }
  };
}

FakeServer::Session SmtpServer(Script s) {
  return [s](FakeConn& c, FakeServer& server) {
    if (s.implicit_tls && !c.StartTls()) return;
    if (!s.greet) {
      c.ReadBytes(1 << 20);  // Says nothing until the client gives up.
      return;
    }
    c.Send("220 mail.example.test ESMTP ready");
    while (std::optional<std::string> line = c.ReadLine()) {
      const std::string command = line->substr(0, line->find(' '));
      server.Record(command == "AUTH" ? std::string("AUTH (tls=") + (c.tls() ? "yes" : "no") + ")"
                                      : *line);
      if (command == "EHLO") {
        c.Send("250-mail.example.test Hello");
        c.Send("250-PIPELINING");
        if (!c.tls() && s.offer_starttls) c.Send("250-STARTTLS");
        // AUTH after STARTTLS, or at once on a server that has no STARTTLS.
        if ((c.tls() || !s.offer_starttls) && s.offer_auth) {
          c.Send("250-AUTH SCRAM-SHA-256 PLAIN LOGIN");
        }
        c.Send("250 8BITMIME");
      } else if (command == "STARTTLS") {
        c.Send("220 2.0.0 Ready to start TLS");
        if (!c.StartTls()) return;
      } else if (command == "AUTH") {
        const std::string expected =
            common::Base64Encode(std::string(1, '\0') + s.user + std::string(1, '\0') + s.password);
        if (*line == "AUTH PLAIN " + expected) {
          c.Send("235 2.7.0 Authentication successful");
        } else {
          c.Send("535 5.7.8 Authentication credentials invalid");
        }
      } else if (command == "MAIL") {
        c.Send("250 2.1.0 Sender OK");
      } else if (command == "RCPT") {
        c.Send("250 2.1.5 Recipient OK");
      } else if (command == "RSET") {
        c.Send("250 2.0.0 OK");
      } else if (command == "DATA") {
        c.Send("354 End data with <CR><LF>.<CR><LF>");
        while (std::optional<std::string> data = c.ReadLine()) {
          server.Record("data: " + *data);
          if (*data == ".") break;
        }
        c.Send("250 2.0.0 Ok: queued as 42");
      } else if (command == "QUIT") {
        c.Send("221 2.0.0 Bye");
        return;
      } else {
        c.Send("502 5.5.2 Error: command not recognized");
      }
    }
  };
}

// ---------------------------------------------------------------------------------------------
// The fixture: fake Control (from fake_control.h) and Directory servers.

using Row = std::map<std::string, std::string>;

// The objects of Format-List output, each as property -> value.
std::vector<Row> ParseList(const std::string& text) {
  std::vector<Row> rows;
  std::istringstream in(text);
  Row row;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) {
      if (!row.empty()) rows.push_back(std::move(row));
      row.clear();
      continue;
    }
    size_t sep = line.find(" : ");
    if (sep == std::string::npos) {
      sep = line.find(" :");  // An empty value.
      if (sep == std::string::npos) continue;
    }
    std::string name = line.substr(0, sep);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    row[name] = sep + 3 <= line.size() ? line.substr(sep + 3) : "";
  }
  if (!row.empty()) rows.push_back(std::move(row));
  return rows;
}

// "Step Result" of each row, for comparing whole runs at a glance.
std::vector<std::string> StepsOf(const std::vector<Row>& rows) {
  std::vector<std::string> out;
  for (const Row& r : rows) out.push_back(r.at("Step") + " " + r.at("Result"));
  return out;
}

class ConnectivityTest : public test::ControlCmdletsTest {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);  // The fake servers write to clients that may have gone.
    ControlCmdletsTest::SetUp();
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&directory_);
    directory_server_ = builder.BuildAndStart();
    ASSERT_NE(directory_server_, nullptr);
    directory_stub_ = mail::v1::Directory::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
    context_.directory = directory_stub_.get();
    directory_.Add("alice");  // alice@example.test
    ASSERT_NE(ServerTlsContext(), nullptr);
  }

  void TearDown() override {
    directory_server_->Shutdown();
    ControlCmdletsTest::TearDown();
  }

  // Sets what `node` reports for `service`.
  void SetEndpoints(const std::string& node, mail::v1::ServiceName service,
                    const std::vector<std::string>& endpoints) {
    std::lock_guard<std::mutex> lock(fake_.mu);
    mail::v1::ServiceState* state = fake_.State(node, service);
    ASSERT_NE(state, nullptr);
    state->clear_endpoints();
    for (const std::string& e : endpoints) state->add_endpoints(e);
  }

  // Runs `line` | Format-List and returns the rows.
  std::vector<Row> Rows(const std::string& line, Outcome* outcome = nullptr) {
    Outcome o = Run(line + " | Format-List");
    if (outcome != nullptr) *outcome = o;
    return ParseList(o.out);
  }

  test::FakeDirectory directory_;
  std::unique_ptr<grpc::Server> directory_server_;
  std::unique_ptr<mail::v1::Directory::Stub> directory_stub_;
};

std::string Url(const std::string& scheme, uint16_t port) {
  return scheme + "://127.0.0.1:" + std::to_string(port);
}

const std::vector<std::string> kAllSuccess = {"TCP Success",         "TLS Success",
                                              "Certificate Warning", "Capability Success",
                                              "Login Success",       "Read Success"};

// ---------------------------------------------------------------------------------------------
// IMAP4

TEST_F(ConnectivityTest, ImapSucceedsOnImapsAndStartTls) {
  FakeServer imaps(ImapServer({.implicit_tls = true}));
  FakeServer imap(ImapServer({}));
  SetEndpoints("cas01", mail::v1::SERVICE_NAME_IMAP4,
               {Url("imaps", imaps.port()), Url("imap", imap.port())});
  Outcome o;
  std::vector<Row> rows =
      Rows("Test-ImapConnectivity -Server cas01 -MailboxCredential alice -Password '" +
               std::string(kPassword) + "'",
           &o);
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "");
  ASSERT_EQ(rows.size(), 12u) << o.out;
  std::vector<std::string> want = kAllSuccess;
  want.insert(want.end(), kAllSuccess.begin(), kAllSuccess.end());
  EXPECT_EQ(StepsOf(rows), want) << o.out;

  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    EXPECT_EQ(r.at("Server"), "cas01");
    EXPECT_EQ(r.at("Service"), "IMAP4");
    EXPECT_EQ(r.at("Endpoint"), i < 6 ? Url("imaps", imaps.port()) : Url("imap", imap.port()));
    EXPECT_EQ(r.at("UserName"), "alice");
    EXPECT_TRUE(r.at("Latency").ends_with(" ms")) << r.at("Latency");
  }
  EXPECT_EQ(rows[0].at("Detail"), "connected to 127.0.0.1:" + std::to_string(imaps.port()));
  EXPECT_EQ(rows[0].at("Address"), "127.0.0.1:" + std::to_string(imaps.port()));
  EXPECT_TRUE(rows[1].at("Detail").starts_with("TLSv1.3 TLS_")) << rows[1].at("Detail");
  EXPECT_TRUE(rows[2].at("Detail").starts_with(
      "certificate not trusted: self-signed for mail.example.test, expires 20"))
      << rows[2].at("Detail");
  EXPECT_EQ(rows[3].at("Detail"), "IMAP4rev1 IDLE AUTH=PLAIN");
  EXPECT_EQ(rows[4].at("Detail"), "logged in as alice");
  EXPECT_EQ(rows[5].at("Detail"), "INBOX: 3 messages");
  EXPECT_TRUE(rows[7].at("Detail").starts_with("STARTTLS, TLSv1.3 ")) << rows[7].at("Detail");

  // STARTTLS came before the password, which went over TLS only; then EXAMINE and LOGOUT.
  EXPECT_EQ(imap.Transcript(),
            "a1 STARTTLS\n"
            "a2 CAPABILITY\n"
            "a3 LOGIN (tls=yes)\n"
            "login args: 2 password ok\n"
            "a4 EXAMINE INBOX\n"
            "a5 LOGOUT\n");
  EXPECT_EQ(o.out.find(kPassword), std::string::npos);
}

TEST_F(ConnectivityTest, DefaultViewIsATable) {
  FakeServer imaps(ImapServer({.implicit_tls = true, .messages = 1}));
  Outcome o = Run("Test-ImapConnectivity -User alice -Password '" + std::string(kPassword) +
                  "' -Endpoint " + Url("imaps", imaps.port()));
  EXPECT_TRUE(o.ok) << o.err;
  std::istringstream in(o.out);
  std::string blank, header, dashes;
  std::getline(in, blank);
  std::getline(in, header);
  std::getline(in, dashes);
  EXPECT_EQ(blank, "");
  EXPECT_TRUE(header.starts_with("Server Endpoint")) << header;
  std::istringstream words(header);
  std::vector<std::string> columns;
  for (std::string w; words >> w;) columns.push_back(w);
  EXPECT_EQ(columns, (std::vector<std::string>{"Server", "Endpoint", "Step", "Result", "Latency",
                                               "Detail"}));
  EXPECT_NE(o.out.find("INBOX: 1 message\n"), std::string::npos) << o.out;
}

TEST_F(ConnectivityTest, ImapBadPasswordIsALoginFailureWithTheServersText) {
  FakeServer imaps(ImapServer({.implicit_tls = true}));
  SetEndpoints("cas01", mail::v1::SERVICE_NAME_IMAP4, {Url("imaps", imaps.port())});
  Outcome o;
  std::vector<Row> rows =
      Rows("Test-ImapConnectivity -Server cas01 -MailboxCredential alice -Password wrong", &o);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(StepsOf(rows),
            (std::vector<std::string>{"TCP Success", "TLS Success", "Certificate Warning",
                                      "Capability Success", "Login Failure", "Read Skipped"}));
  EXPECT_EQ(rows[4].at("Detail"), "NO [AUTHENTICATIONFAILED] Authentication failed.");
  EXPECT_EQ(rows[5].at("Detail"), "not run: the Login step failed");
  EXPECT_EQ(rows[5].at("Latency"), "");
  EXPECT_EQ(o.err, "Test-ImapConnectivity: " + Url("imaps", imaps.port()) +
                       " on cas01: the Login step failed: NO [AUTHENTICATIONFAILED] "
                       "Authentication failed.\n");
  EXPECT_EQ(imaps.Transcript().find("EXAMINE"), std::string::npos);
}

TEST_F(ConnectivityTest, PasswordThatNeedsALiteral) {
  const std::string password = "p\xc3\xa4ss \"w\\rd\"";
  FakeServer imap(ImapServer({.password = password}));
  Outcome o;
  std::vector<Row> rows = Rows("Test-ImapConnectivity -User alice -Password '" + password +
                                   "' -Endpoint " + Url("imap", imap.port()),
                               &o);
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(StepsOf(rows), kAllSuccess);
  EXPECT_NE(imap.Transcript().find("login args: 2 password ok"), std::string::npos)
      << imap.Transcript();
}

TEST_F(ConnectivityTest, ServiceDownIsATcpFailureAndTheRestIsSkipped) {
  const uint16_t port = ClosedPort();
  SetEndpoints("cas01", mail::v1::SERVICE_NAME_IMAP4, {Url("imaps", port)});
  Outcome o;
  std::vector<Row> rows = Rows(
      "Test-ImapConnectivity cas01 -User alice -Password '" + std::string(kPassword) + "'", &o);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(StepsOf(rows),
            (std::vector<std::string>{"TCP Failure", "TLS Skipped", "Certificate Skipped",
                                      "Capability Skipped", "Login Skipped", "Read Skipped"}));
  EXPECT_EQ(rows[0].at("Detail"), "127.0.0.1:" + std::to_string(port) + ": Connection refused");
  EXPECT_EQ(rows[1].at("Detail"), "not run: the TCP step failed");
  EXPECT_EQ(o.err, "Test-ImapConnectivity: " + Url("imaps", port) +
                       " on cas01: the TCP step failed: 127.0.0.1:" + std::to_string(port) +
                       ": Connection refused.\n");
}

TEST_F(ConnectivityTest, NoGreetingTimesOut) {
  FakeServer silent(ImapServer({.greet = false}));
  Outcome o;
  std::vector<Row> rows = Rows(
      "Test-ImapConnectivity -User alice -Password x -Timeout 1 "
      "-Endpoint " +
          Url("imap", silent.port()),
      &o);
  EXPECT_FALSE(o.ok);
  ASSERT_EQ(rows.size(), 6u) << o.out;
  EXPECT_EQ(rows[0].at("Result"), "Failure");
  EXPECT_EQ(rows[0].at("Detail"), "timed out after 1 s waiting for the greeting");
}

TEST_F(ConnectivityTest, TlsHandshakeTimesOut) {
  FakeServer no_tls(ImapServer({.greet = false}));  // Plain TCP behind an imaps:// endpoint.
  Outcome o;
  std::vector<Row> rows =
      Rows("Test-ImapConnectivity -User alice -Password x -Timeout 1 -Endpoint " +
               Url("imaps", no_tls.port()),
           &o);
  EXPECT_FALSE(o.ok);
  ASSERT_EQ(rows.size(), 6u) << o.out;
  EXPECT_EQ(rows[0].at("Result"), "Success");
  EXPECT_EQ(rows[1].at("Result"), "Failure");
  EXPECT_EQ(rows[1].at("Detail"), "the TLS handshake did not finish within 1 s");
}

TEST_F(ConnectivityTest, StartTlsRefusedFailsBeforeThePasswordIsSent) {
  FakeServer imap(ImapServer({.offer_starttls = false}));
  Outcome o;
  std::vector<Row> rows =
      Rows("Test-ImapConnectivity -User alice -Password '" + std::string(kPassword) +
               "' -Endpoint " + Url("imap", imap.port()),
           &o);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(StepsOf(rows)[1], "TLS Failure");
  EXPECT_EQ(rows[1].at("Detail"), "STARTTLS refused: BAD STARTTLS not available.");
  EXPECT_EQ(imap.Transcript().find("LOGIN"), std::string::npos);
}

TEST_F(ConnectivityTest, DataAfterTheStartTlsReplyIsRefused) {
  FakeServer imap(ImapServer({.inject_after_starttls = true}));
  Outcome o;
  std::vector<Row> rows =
      Rows("Test-ImapConnectivity -User alice -Password '" + std::string(kPassword) +
               "' -Endpoint " + Url("imap", imap.port()),
           &o);
  EXPECT_FALSE(o.ok);
  ASSERT_GE(rows.size(), 2u);
  EXPECT_EQ(rows[1].at("Result"), "Failure");
  EXPECT_TRUE(rows[1].at("Detail").starts_with("the server sent more data right before TLS"))
      << rows[1].at("Detail");
}

TEST_F(ConnectivityTest, LightModeAndTrustAnyCertificate) {
  FakeServer imaps(ImapServer({.implicit_tls = true}));
  Outcome o;
  std::vector<Row> rows =
      Rows("Test-ImapConnectivity -User alice -Password '" + std::string(kPassword) +
               "' -LightMode -TrustAnySSLCertificate "
               "-Endpoint " +
               Url("imaps", imaps.port()),
           &o);
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(StepsOf(rows),
            (std::vector<std::string>{"TCP Success", "TLS Success", "Certificate Success",
                                      "Capability Success", "Login Success", "Read Skipped"}));
  EXPECT_TRUE(rows[2].at("Detail").starts_with("CN=mail.example.test, expires 20"))
      << rows[2].at("Detail");
  EXPECT_TRUE(
      rows[2].at("Detail").ends_with("; accepted without verification (-TrustAnyCertificate)"));
  EXPECT_EQ(rows[5].at("Detail"), "not run: -LightMode");
  EXPECT_EQ(imaps.Transcript().find("EXAMINE"), std::string::npos);
  // An -Endpoint that no node reports is tested all the same, with no Server.
  EXPECT_EQ(rows[0].at("Server"), "");
}

TEST_F(ConnectivityTest, WildcardAddressesAndHost) {
  FakeServer imaps(ImapServer({.implicit_tls = true}));
  const std::string reported = "imaps://0.0.0.0:" + std::to_string(imaps.port());
  SetEndpoints("cas01", mail::v1::SERVICE_NAME_IMAP4, {reported});
  std::vector<Row> rows = Rows("Test-ImapConnectivity cas01 -User alice -Password x -LightMode");
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0].at("Endpoint"), reported);
  EXPECT_EQ(rows[0].at("Address"), "127.0.0.1:" + std::to_string(imaps.port()));
  EXPECT_EQ(rows[0].at("Result"), "Success");

  // -Host replaces the wildcard; the certificate is then checked against the name too.
  rows = Rows(
      "Test-ImapConnectivity cas01 -User alice -Password x -LightMode -Host localhost "
      "-Endpoint " +
      reported);
  ASSERT_GE(rows.size(), 3u);
  EXPECT_EQ(rows[0].at("Server"), "cas01");  // The node that reports it.
  EXPECT_EQ(rows[0].at("Address"), "localhost:" + std::to_string(imaps.port()));
  EXPECT_EQ(rows[2].at("Result"), "Warning");
}

// ---------------------------------------------------------------------------------------------
// POP3

TEST_F(ConnectivityTest, PopSucceedsOnPop3sAndStls) {
  FakeServer pop3s(PopServer({.implicit_tls = true}));
  FakeServer pop3(PopServer({}));
  SetEndpoints("cas01", mail::v1::SERVICE_NAME_POP3,
               {Url("pop3s", pop3s.port()), Url("pop3", pop3.port())});
  Outcome o;
  std::vector<Row> rows = Rows(
      "Test-PopConnectivity -Server cas01 -MailboxCredential alice "
      "-Password '" +
          std::string(kPassword) + "'",
      &o);
  EXPECT_TRUE(o.ok) << o.err;
  std::vector<std::string> want = kAllSuccess;
  want.insert(want.end(), kAllSuccess.begin(), kAllSuccess.end());
  EXPECT_EQ(StepsOf(rows), want) << o.out;
  EXPECT_EQ(rows[3].at("Detail"), "TOP UIDL USER SASL PLAIN");
  EXPECT_EQ(rows[4].at("Detail"), "logged in as alice");
  EXPECT_EQ(rows[5].at("Detail"), "maildrop: 3 messages (1,234 bytes)");
  EXPECT_TRUE(rows[7].at("Detail").starts_with("STLS, TLSv1.3 ")) << rows[7].at("Detail");
  EXPECT_EQ(pop3.Transcript(),
            "STLS\n"
            "CAPA\n"
            "USER alice\n"
            "PASS (tls=yes)\n"
            "STAT\n"
            "QUIT\n");
}

TEST_F(ConnectivityTest, PopBadPassword) {
  FakeServer pop3(PopServer({}));
  Outcome o;
  std::vector<Row> rows = Rows(
      "Test-PopConnectivity -User alice -Password wrong -Endpoint " + Url("pop3", pop3.port()), &o);
  EXPECT_FALSE(o.ok);
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[4].at("Result"), "Failure");
  EXPECT_EQ(rows[4].at("Detail"), "-ERR [AUTH] Authentication failed.");
  EXPECT_EQ(rows[5].at("Result"), "Skipped");
  EXPECT_NE(o.err.find("the Login step failed: -ERR [AUTH] Authentication failed."),
            std::string::npos)
      << o.err;
}

TEST_F(ConnectivityTest, StoppedServiceHasNoEndpointsToTest) {
  // cas02 stopped POP3 (fake_control.h): it reports no endpoint.
  Outcome o;
  std::vector<Row> rows = Rows("Test-PopConnectivity -Server cas02 -User alice -Password x", &o);
  EXPECT_FALSE(o.ok);
  ASSERT_EQ(rows.size(), 1u) << o.out;
  EXPECT_EQ(rows[0].at("Server"), "cas02");
  EXPECT_EQ(rows[0].at("Step"), "Service");
  EXPECT_EQ(rows[0].at("Result"), "Failure");
  EXPECT_EQ(rows[0].at("Detail"),
            "POP3 is stopped on cas02, so there is no endpoint to test (Start-Service POP3 "
            "-Server cas02 starts it)");
  EXPECT_EQ(o.err,
            "Test-PopConnectivity: POP3 on cas02: POP3 is stopped on cas02, so there is no "
            "endpoint to test (Start-Service POP3 -Server cas02 starts it).\n");
}

// ---------------------------------------------------------------------------------------------
// SMTP

TEST_F(ConnectivityTest, SmtpOnEveryConnector) {
  FakeServer client_tls(SmtpServer({.implicit_tls = true}));
  FakeServer client_frontend(SmtpServer({}));
  FakeServer default_frontend(SmtpServer({.offer_auth = false}));
  SetEndpoints("edge01", mail::v1::SERVICE_NAME_SMTP,
               {Url("smtps", client_tls.port()) + " Client TLS",
                Url("smtp", client_frontend.port()) + " Client Frontend",
                Url("smtp", default_frontend.port()) + " Default Frontend"});
  Outcome o;
  std::vector<Row> rows = Rows(
      "Test-SmtpConnectivity -MailboxCredential alice -Password '" + std::string(kPassword) + "'",
      &o);
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "");
  ASSERT_EQ(rows.size(), 18u) << o.out;
  EXPECT_EQ(rows[0].at("Server"), "edge01");
  EXPECT_EQ(rows[0].at("Endpoint"), Url("smtps", client_tls.port()) + " Client TLS");
  const std::vector<std::string> with_auth = {"TCP Success",         "TLS Success",
                                              "Certificate Warning", "Capability Success",
                                              "Login Success",       "Send Success"};
  std::vector<std::string> want = with_auth;
  want.insert(want.end(), with_auth.begin(), with_auth.end());
  want.insert(want.end(), {"TCP Success", "TLS Success", "Certificate Warning",
                           "Capability Success", "Login Skipped", "Send Success"});
  EXPECT_EQ(StepsOf(rows), want) << o.out;
  EXPECT_EQ(rows[3].at("Detail"), "PIPELINING AUTH SCRAM-SHA-256 PLAIN LOGIN 8BITMIME");
  EXPECT_EQ(rows[4].at("Detail"), "authenticated as alice");
  // The mailbox's primary address, from the directory.
  EXPECT_EQ(rows[5].at("Detail"),
            "MAIL FROM and RCPT TO <alice@example.test> accepted; RSET, no message sent");
  EXPECT_TRUE(rows[7].at("Detail").starts_with("STARTTLS, TLSv1.3 ")) << rows[7].at("Detail");
  EXPECT_EQ(rows[16].at("Detail"), "AUTH not offered: this connector takes mail without a login");
  EXPECT_EQ(rows[17].at("Detail"),
            "RCPT TO <alice@example.test> accepted (no login, null sender); RSET, no message "
            "sent");
  EXPECT_NE(default_frontend.Transcript().find("MAIL FROM:<>\nRCPT TO:<alice@example.test>\n"),
            std::string::npos)
      << default_frontend.Transcript();
  EXPECT_EQ(client_frontend.Transcript(),
            "EHLO mbx01\n"
            "STARTTLS\n"
            "EHLO mbx01\n"
            "AUTH (tls=yes)\n"
            "MAIL FROM:<alice@example.test>\n"
            "RCPT TO:<alice@example.test>\n"
            "RSET\n"
            "QUIT\n");
  EXPECT_EQ(default_frontend.Transcript().find("AUTH"), std::string::npos);
}

TEST_F(ConnectivityTest, SmtpBadPasswordAndSendTestMessage) {
  FakeServer smtps(SmtpServer({.implicit_tls = true}));
  Outcome o;
  std::vector<Row> rows = Rows(
      "Test-SmtpConnectivity -User alice -Password wrong -Endpoint " + Url("smtps", smtps.port()),
      &o);
  EXPECT_FALSE(o.ok);
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[4].at("Result"), "Failure");
  EXPECT_EQ(rows[4].at("Detail"), "535 5.7.8 Authentication credentials invalid");
  EXPECT_EQ(rows[5].at("Result"), "Skipped");

  rows = Rows("Test-SmtpConnectivity -User alice -Password '" + std::string(kPassword) +
                  "' -SendTestMessage -Endpoint " + Url("smtps", smtps.port()),
              &o);
  EXPECT_TRUE(o.ok) << o.err;
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[5].at("Detail"),
            "test message to <alice@example.test> accepted: 250 2.0.0 Ok: queued as 42");
  const std::string transcript = smtps.Transcript();
  EXPECT_NE(transcript.find("data: To: <alice@example.test>\n"), std::string::npos) << transcript;
  EXPECT_NE(
      transcript.find("data: Subject: Test-SmtpConnectivity through " + Url("smtps", smtps.port())),
      std::string::npos)
      << transcript;
  EXPECT_EQ(transcript.find("RSET"), std::string::npos);
}

TEST_F(ConnectivityTest, SmtpWithoutStartTlsKeepsThePassword) {
  FakeServer plain(SmtpServer({.offer_starttls = false}));
  Outcome o;
  std::vector<Row> rows = Rows(
      "Test-SmtpConnectivity -User bob@example.org -Password x "
      "-Endpoint " +
          Url("smtp", plain.port()),
      &o);
  EXPECT_TRUE(o.ok) << o.err;  // Warnings and Skipped steps are not failures.
  EXPECT_EQ(StepsOf(rows),
            (std::vector<std::string>{"TCP Success", "TLS Warning", "Certificate Skipped",
                                      "Capability Success", "Login Skipped", "Send Success"}));
  EXPECT_EQ(rows[1].at("Detail"), "STARTTLS not offered: the session is not encrypted");
  EXPECT_EQ(rows[3].at("Detail"), "PIPELINING AUTH SCRAM-SHA-256 PLAIN LOGIN 8BITMIME");
  EXPECT_EQ(rows[4].at("Detail"), "AUTH offered without TLS: the password is not sent unencrypted");
  EXPECT_EQ(plain.Transcript().find("AUTH"), std::string::npos);
  // bob is not in the directory: his user name is his address.
  EXPECT_NE(rows[5].at("Detail").find("<bob@example.org>"), std::string::npos);
}

TEST_F(ConnectivityTest, SmtpWithoutAnAddressSkipsSend) {
  FakeServer smtps(SmtpServer({.implicit_tls = true, .user = "carol"}));
  std::vector<Row> rows =
      Rows("Test-SmtpConnectivity -User carol -Password '" + std::string(kPassword) +
           "' -Endpoint " + Url("smtps", smtps.port()));
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[5].at("Result"), "Skipped");
  EXPECT_EQ(rows[5].at("Detail"),
            "not run: no address to send from and to: the mailbox store does not know carol; "
            "give -MailboxCredential as an email address");
}

// ---------------------------------------------------------------------------------------------
// Arguments, prompts and errors

TEST_F(ConnectivityTest, PromptsForThePasswordOnATerminal) {
  FakeServer imaps(ImapServer({.implicit_tls = true}));
  terminal_.interactive = true;
  terminal_.answers.push_back(kPassword);
  Outcome o = Run("Test-ImapConnectivity -User alice -LightMode -Endpoint " +
                  Url("imaps", imaps.port()) + " | Format-Table Step,Result");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(terminal_.secret_prompts, (std::vector<std::string>{"Password for alice: "}));
  EXPECT_NE(o.out.find("Login       Success"), std::string::npos) << o.out;

  terminal_.interactive = false;
  o = Run("Test-ImapConnectivity -User alice -Endpoint " + Url("imaps", imaps.port()));
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Test-ImapConnectivity: A value for parameter 'Password' is required, and standard "
            "input is not a terminal, so adminctl cannot prompt for it. Give -Password "
            "'<password>'.\n");
}

TEST_F(ConnectivityTest, RefusedArguments) {
  Outcome o = Run("Test-PopConnectivity -User alice -Password x -Endpoint imaps://h:993");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Test-PopConnectivity: 'imaps://h:993' is not a POP3 endpoint: give "
            "pop3://host:port (STARTTLS) or pop3s://host:port (TLS).\n");
  o = Run("Test-PopConnectivity -User alice -Password x -Endpoint pop3s://h:99999");
  EXPECT_EQ(o.err,
            "Test-PopConnectivity: 'pop3s://h:99999' is not an endpoint: the port must be a "
            "number from 1 to 65535.\n");
  o = Run("Test-PopConnectivity -User alice -Password x -Timeout 0");
  EXPECT_NE(o.err.find("The 0 argument is less than the minimum allowed range of 1"),
            std::string::npos)
      << o.err;
  o = Run("Test-ImapConnectivity -Password x");
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.err.find("MailboxCredential"), std::string::npos) << o.err;
  o = Run("Test-ImapConnectivity -Server edge01 -User alice -Password x");
  EXPECT_EQ(o.err,
            "Test-ImapConnectivity: No node named 'edge01' runs IMAP4 (casd runs it). "
            "Get-Service IMAP4 lists the nodes that do.\n");
  EXPECT_EQ(o.out, "");
}

TEST_F(ConnectivityTest, StoreUnavailable) {
  {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.fail_with = grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection refused");
  }
  Outcome o = Run("Test-SmtpConnectivity -User alice -Password x");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Test-SmtpConnectivity: Cannot connect to the mailbox store at " + endpoint_ +
                       ": connection refused\n");
}

TEST_F(ConnectivityTest, HelpDescribesEveryParameter) {
  const CmdletRegistry registry = DefaultRegistry();
  for (const char* name :
       {"Test-ImapConnectivity", "Test-PopConnectivity", "Test-SmtpConnectivity"}) {
    const Cmdlet* cmdlet = registry.Find(name);
    ASSERT_NE(cmdlet, nullptr) << name;
    const CmdletHelp* help = FindCmdletHelp(name);
    ASSERT_NE(help, nullptr) << name;
    for (const parser::ParameterSpec& spec : cmdlet->schema.parameters) {
      EXPECT_NE(help->FindParameter(spec.name), nullptr) << name << " -" << spec.name;
    }
    std::istringstream page(RenderHelp(*cmdlet, true));
    for (std::string line; std::getline(page, line);) {
      if (line.rfind("    [PS] casmail> ", 0) == 0) continue;
      EXPECT_LE(line.size(), kHelpWidth) << name << ": " << line;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// probe.h

TEST(ProbeEndpointTest, ParsesWhatNodesReport) {
  auto e = ParseProbeEndpoint("smtp://[::]:587 Client Frontend");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->scheme, "smtp");
  EXPECT_EQ(e->host, "::");
  EXPECT_EQ(e->port, 587);
  EXPECT_EQ(e->label, "Client Frontend");
  EXPECT_FALSE(e->implicit_tls);
  EXPECT_EQ(e->Url(), "smtp://[::]:587");

  e = ParseProbeEndpoint("IMAPS://127.0.0.1:993");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->scheme, "imaps");
  EXPECT_TRUE(e->implicit_tls);
  EXPECT_EQ(e->label, "");

  e = ParseProbeEndpoint("pop3s://mail.example.test");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->port, 995);

  for (const char* bad :
       {"127.0.0.1:993", "http://h:80", "imap://::1:143", "imap://h:", "imap://:143", "imap://[::1",
        "imap://h:0", "imap://h:12ab", "imap://user@h:143"}) {
    EXPECT_FALSE(ParseProbeEndpoint(bad).ok()) << bad;
  }
}

TEST(ProbeEndpointTest, WildcardsBecomeLoopbackOrHost) {
  EXPECT_EQ(ConnectHost("0.0.0.0", ""), "127.0.0.1");
  EXPECT_EQ(ConnectHost("::", ""), "::1");
  EXPECT_EQ(ConnectHost("0.0.0.0", "cas01.example.test"), "cas01.example.test");
  EXPECT_EQ(ConnectHost("192.0.2.7", "cas01.example.test"), "192.0.2.7");
  EXPECT_TRUE(IsIpLiteral("::1"));
  EXPECT_TRUE(IsIpLiteral("127.0.0.1"));
  EXPECT_FALSE(IsIpLiteral("localhost"));
}

}  // namespace
}  // namespace adminctl
