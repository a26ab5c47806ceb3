// mail_load: a protocol load generator for IMAP4, POP3 and SMTP submission. Many client
// connections per thread (Boost.Asio coroutines), N threads, bounded by --seconds and
// --clients; prints operations per second, latency percentiles and errors. The imap-idle
// workload instead holds --clients connections in IDLE and measures how fast deliveries,
// announced on standard input, are pushed to them (see RunIdle()).
//
// A benchmark, not a test: built with the project, never registered with CTest. It talks
// to any server (ours or a peer such as Dovecot or Postfix), so it uses nothing of the
// server code but the shared TLS client context and base64. See README.md here.
//
//   mail_load --workload imap-mixed|imap-login|pop3|smtp|imap-idle --port N [--host H]
//             [--tls|--starttls] [--clients 50] [--threads 1] [--seconds 10] [--warmup 2]
//             [--users 100] [--password P] ...   (--help lists everything)

#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/asio.h"
#include "common/base64.h"
#include "common/tls.h"

namespace bench {
namespace {

using Clock = std::chrono::steady_clock;
using boost::system::error_code;
using tcp = asio::ip::tcp;

// ---------------------------------------------------------------------------------------
// Flags.

enum class Workload { kImapMixed, kImapLogin, kPop3, kSmtp, kImapIdle };
enum class Security { kPlain, kStartTls, kTls };

struct Flags {
  Workload workload = Workload::kImapMixed;
  std::string host = "127.0.0.1";        // Default: 127.0.0.1.
  int port = 0;                          // Required.
  Security security = Security::kPlain;  // Default: plain (--tls, --starttls).
  int clients = 50;                      // Default: 50 concurrent connections.
  int threads = 1;                       // Default: 1 (the server under test shares the machine).
  double seconds = 10;                   // Default: 10. Measured time, after the warm-up.
  double warmup = 2;                     // Default: 2. Operations in the warm-up are not counted.
  int users = 100;                       // Default: 100 (user0001..user0100).
  int first_user = 1;                    // Default: 1.
  std::string user_prefix = "user";      // Default: "user".
  int user_digits = 4;                   // Default: 4 (zero-padded: user0001).
  std::string password = "bench-password-1";  // Default: bench-password-1.
  std::string domain = "example.test";        // Default: example.test (SMTP addresses).
  int imap_rounds = 5;           // Default: 5 rounds of ENVELOPE/BODY/STORE/SEARCH a session.
  size_t message_size = 10240;   // Default: 10 KB (SMTP).
  int recipients = 1;            // Default: 1 local recipient per SMTP message.
  int messages_per_session = 1;  // Default: 1 SMTP message per connection.
  double timeout = 30;           // Default: 30 s for any one read or write.
  // Connection i binds to 127.0.0.(1 + i mod N) before connecting; 0: the kernel chooses
  // (one source address, so at most ~28,000 connections to one server port).
  int source_addresses = 0;  // Default: 0.
  // imap-idle only.
  int connect_concurrency = 100;  // Default: 100 connections in set-up at once.
  double setup_seconds = 600;     // Default: 600 s for every connection to reach IDLE.
  double idle_seconds = 3600;     // Default: 3600 s of waiting for deliveries on stdin.
  double push_wait = 30;          // Default: 30 s for the pushes after the input ends.
};

const char* WorkloadName(Workload w) {
  switch (w) {
    case Workload::kImapMixed:
      return "imap-mixed";
    case Workload::kImapLogin:
      return "imap-login";
    case Workload::kPop3:
      return "pop3";
    case Workload::kSmtp:
      return "smtp";
    case Workload::kImapIdle:
      return "imap-idle";
  }
  return "?";
}

const char* SecurityName(Security s) {
  switch (s) {
    case Security::kPlain:
      return "plain";
    case Security::kStartTls:
      return "starttls";
    case Security::kTls:
      return "tls";
  }
  return "?";
}

// What one operation is, per workload (printed next to the rate).
const char* OpUnit(Workload w) {
  switch (w) {
    case Workload::kImapMixed:
      return "IMAP commands (LOGIN and LOGOUT included)";
    case Workload::kImapLogin:
      return "logins (connect, TLS, greeting, LOGIN, LOGOUT)";
    case Workload::kPop3:
      return "POP3 commands (USER, PASS and QUIT included)";
    case Workload::kSmtp:
      return "messages accepted (MAIL FROM to the 250 after DATA)";
    case Workload::kImapIdle:
      return "pushed EXISTS (delivery acknowledged to the untagged EXISTS)";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------
// Small tools.

volatile std::sig_atomic_t g_interrupted = 0;
void OnSignal(int) { g_interrupted = 1; }

// SplitMix64.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint32_t Below(uint32_t n) { return n == 0 ? 0 : static_cast<uint32_t>(Next() % n); }

 private:
  uint64_t state_;
};

double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

double LoadAverage() {
  double load = -1;
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = -1;
    std::fclose(f);
  }
  return load;
}

Clock::duration FromSeconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

std::string UserName(const Flags& f, int index) {  // index 0 .. users-1
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%0*d", f.user_digits, f.first_user + index);
  return f.user_prefix + buf;
}

// An IMAP quoted string (RFC 3501 quoted: backslash and double quote escaped).
std::string ImapQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

// ---------------------------------------------------------------------------------------
// Outcomes and statistics.

enum class ErrorKind { kConnect, kTls, kTimeout, kConnection, kProtocol, kCount };

const char* ErrorKindName(ErrorKind k) {
  switch (k) {
    case ErrorKind::kConnect:
      return "connect";
    case ErrorKind::kTls:
      return "tls";
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kConnection:
      return "connection";
    case ErrorKind::kProtocol:
      return "protocol";
    case ErrorKind::kCount:
      break;
  }
  return "?";
}

// How a session ended: completed, stopped at the deadline, or failed.
struct Outcome {
  enum class Type { kOk, kStopped, kFailed };
  Type type = Type::kOk;
  ErrorKind kind = ErrorKind::kProtocol;
  std::string detail;

  static Outcome Ok() { return {}; }
  static Outcome Stopped() { return {Type::kStopped, ErrorKind::kProtocol, {}}; }
  static Outcome Fail(ErrorKind kind, std::string detail) {
    return {Type::kFailed, kind, std::move(detail)};
  }
  bool ok() const { return type == Type::kOk; }
};

// Per-thread figures; only that thread's io_context touches them.
struct ThreadStats {
  uint64_t ops = 0;
  uint64_t sessions = 0;
  uint64_t bytes_in = 0;
  uint64_t errors[static_cast<int>(ErrorKind::kCount)] = {};
  std::string first_error[static_cast<int>(ErrorKind::kCount)];
  std::vector<float> latency_us;
};

// The measurement window: operations that end inside [measure_from, end) are counted.
struct Window {
  Clock::time_point measure_from;
  Clock::time_point end;
  bool Counts(Clock::time_point t) const { return t >= measure_from && t < end; }
};

// ---------------------------------------------------------------------------------------
// A client connection: plain TCP that can turn into TLS (STARTTLS) or start as TLS, with a
// timeout on every read and write (a timer that closes the socket), and buffered line reads.

class Connection;

// Open connections of one thread, closed all at once at the end of the run.
using Registry = std::unordered_set<Connection*>;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `read_chunk`: the read buffer's initial size; it grows for longer replies.
  Connection(asio::io_context& io, asio::ssl::context& tls, Clock::duration timeout,
             Registry* registry, size_t read_chunk = kReadChunk)
      : ssl_(io, tls), timer_(io), timeout_(timeout), registry_(registry), read_chunk_(read_chunk) {
    registry_->insert(this);
    in_.resize(read_chunk_);
  }
  ~Connection() {
    registry_->erase(this);
    Close();
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // With a `source` address, binds to it first (port chosen at connect time, so each source
  // address has its own range of ephemeral ports towards the server).
  asio::awaitable<void> Connect(const tcp::endpoint& ep, const asio::ip::address* source,
                                error_code& ec) {
    if (source != nullptr) {
      Tcp().open(ep.protocol(), ec);
      if (ec) co_return;
#ifdef IP_BIND_ADDRESS_NO_PORT
      int one = 1;
      ::setsockopt(Tcp().native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
#endif
      Tcp().bind(tcp::endpoint(*source, 0), ec);
      if (ec) co_return;
    }
    Arm();
    co_await Tcp().async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
    Finish(ec);
    if (!ec) Tcp().set_option(tcp::no_delay(true), ec);
  }

  asio::awaitable<void> Handshake(error_code& ec) {
    Arm();
    co_await ssl_.async_handshake(asio::ssl::stream_base::client,
                                  asio::redirect_error(asio::use_awaitable, ec));
    Finish(ec);
    if (!ec) tls_ = true;
  }

  asio::awaitable<void> Write(std::string_view data, error_code& ec) {
    Arm();
    if (tls_) {
      co_await asio::async_write(ssl_, asio::buffer(data.data(), data.size()),
                                 asio::redirect_error(asio::use_awaitable, ec));
    } else {
      co_await asio::async_write(Tcp(), asio::buffer(data.data(), data.size()),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    Finish(ec);
  }

  // The next line without its CRLF (a bare LF ends a line too). The view stays valid until
  // the next read.
  asio::awaitable<std::string_view> ReadLine(error_code& ec) {
    for (;;) {
      std::string_view avail(in_.data() + begin_, end_ - begin_);
      size_t lf = avail.find('\n');
      if (lf != std::string_view::npos) {
        std::string_view line = avail.substr(0, lf);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        begin_ += lf + 1;
        co_return line;
      }
      if (end_ - begin_ > kMaxLine) {
        ec = asio::error::message_size;
        co_return std::string_view();
      }
      co_await Fill(ec);
      if (ec) co_return std::string_view();
    }
  }

  // Reads and drops exactly `n` octets (an IMAP literal).
  asio::awaitable<void> Skip(size_t n, error_code& ec) {
    while (n > 0) {
      size_t have = std::min(n, end_ - begin_);
      begin_ += have;
      n -= have;
      if (n == 0) break;
      co_await Fill(ec);
      if (ec) co_return;
    }
  }

  void Close() {
    timer_.cancel();
    error_code ignored;
    Tcp().close(ignored);
  }
  bool timed_out() const { return timed_out_; }
  uint64_t bytes_in() const { return bytes_in_; }
  void set_timeout(Clock::duration timeout) { timeout_ = timeout; }

 private:
  static constexpr size_t kReadChunk = 64 * 1024;
  static constexpr size_t kMaxLine = 1 << 20;

  tcp::socket& Tcp() { return ssl_.next_layer(); }

  // Every read and write is bounded: when the timer fires, the socket is closed and the
  // pending operation fails; Finish() turns that into asio::error::timed_out.
  void Arm() {
    timer_.expires_after(timeout_);
    timer_.async_wait([weak = weak_from_this()](error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) {
        self->timed_out_ = true;
        error_code ignored;
        self->Tcp().close(ignored);
      }
    });
  }
  void Finish(error_code& ec) {
    timer_.cancel();
    if (timed_out_) ec = asio::error::timed_out;
  }

  // Reads more into the buffer (compacting it first).
  asio::awaitable<void> Fill(error_code& ec) {
    if (begin_ > 0) {
      std::memmove(in_.data(), in_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (in_.size() - end_ < read_chunk_ / 2) in_.resize(in_.size() * 2);
    Arm();
    size_t n = 0;
    if (tls_) {
      n = co_await ssl_.async_read_some(asio::buffer(in_.data() + end_, in_.size() - end_),
                                        asio::redirect_error(asio::use_awaitable, ec));
    } else {
      n = co_await Tcp().async_read_some(asio::buffer(in_.data() + end_, in_.size() - end_),
                                         asio::redirect_error(asio::use_awaitable, ec));
    }
    Finish(ec);
    end_ += n;
    bytes_in_ += n;
  }

  asio::ssl::stream<tcp::socket> ssl_;
  asio::steady_timer timer_;
  Clock::duration timeout_;
  Registry* registry_;
  size_t read_chunk_;
  bool tls_ = false;
  bool timed_out_ = false;
  std::string in_;
  size_t begin_ = 0;
  size_t end_ = 0;
  uint64_t bytes_in_ = 0;
};

Outcome IoFailure(const Connection& c, const char* what, const error_code& ec) {
  ErrorKind kind =
      c.timed_out() || ec == asio::error::timed_out ? ErrorKind::kTimeout : ErrorKind::kConnection;
  return Outcome::Fail(kind, std::string(what) + ": " + ec.message());
}

// ---------------------------------------------------------------------------------------
// One client: runs sessions of its workload back to back until the end of the run.

// imap-idle: one slot per connection, written by the connection's thread and read by the
// main thread while the run goes on (hence atomics).
struct IdleSlot {
  std::atomic<bool> idle{false};
  // CLOCK_REALTIME (ns) when the first "* N EXISTS" with N above SELECT's count arrived; 0:
  // none yet. Real time, not steady time, because the deliveries are timed by another process.
  std::atomic<int64_t> push_ns{0};
};

struct IdleRun {
  explicit IdleRun(int clients) : slots(new IdleSlot[static_cast<size_t>(clients)]) {}
  std::unique_ptr<IdleSlot[]> slots;
  std::atomic<int> idle{0};
  std::atomic<int> failed{0};
  std::atomic<int> pushed{0};
  std::atomic<bool> setup_over{false};  // No new connection is started after this.
  std::atomic<bool> stopping{false};    // Connections closing from here on are not errors.
};

int64_t RealtimeNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct RunContext {
  const Flags* flags;
  tcp::endpoint endpoint;
  asio::ssl::context* tls;
  Window window;
  const std::string* message_body;                // SMTP: the body every message carries.
  const std::vector<asio::ip::address>* sources;  // --source-addresses; empty: none.
  IdleRun* idle;                                  // imap-idle only.
};

class Client {
 public:
  Client(asio::io_context& io, const RunContext& run, ThreadStats* stats, Registry* registry,
         int id)
      : io_(io),
        run_(run),
        f_(*run.flags),
        stats_(stats),
        registry_(registry),
        id_(id),
        rng_(0x6d61696c6c6f6164ull ^ (static_cast<uint64_t>(id) * 0x100000001b3ull)),
        user_(UserName(f_, id % f_.users)) {}

  asio::awaitable<void> Run() {
    asio::steady_timer pause(io_);
    while (Clock::now() < run_.window.end && g_interrupted == 0) {
      Outcome o;
      switch (f_.workload) {
        case Workload::kImapMixed:
          o = co_await ImapMixed();
          break;
        case Workload::kImapLogin:
          o = co_await ImapLogin();
          break;
        case Workload::kPop3:
          o = co_await Pop3();
          break;
        case Workload::kSmtp:
          o = co_await Smtp();
          break;
        case Workload::kImapIdle:  // RunIdle() drives its clients itself.
          co_return;
      }
      if (o.type == Outcome::Type::kFailed && Clock::now() < run_.window.end) {
        RecordError(o);
        // Do not spin on a server that refuses: wait a little before the next session.
        pause.expires_after(std::chrono::milliseconds(20));
        error_code ignored;
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
      }
    }
  }

  // imap-idle: connect, LOGIN, SELECT INBOX, IDLE; then hands the connection to IdleWatch(),
  // which runs until the end of the run. Failures are recorded and counted.
  asio::awaitable<void> IdleSetup() {
    IdleRun* idle = run_.idle;
    tag_ = 0;
    // An idle connection reads a few short lines: a small buffer, so that 10,000 of them do
    // not make the load generator itself the biggest process on the machine.
    std::shared_ptr<Connection> c = NewConnection(4096);
    uint32_t exists = 0;
    Outcome o = co_await IdleEnter(*c, &exists);
    if (!o.ok()) {
      if (!idle->stopping.load()) RecordError(o);
      idle->failed.fetch_add(1);
      co_return;
    }
    idle->slots[id_].idle.store(true);
    idle->idle.fetch_add(1);
    asio::co_spawn(io_, IdleWatch(c, exists), asio::detached);
  }

 private:
  bool Stopping() const { return Clock::now() >= run_.window.end || g_interrupted != 0; }

  asio::awaitable<Outcome> IdleEnter(Connection& c, uint32_t* exists) {
    Outcome o = co_await ImapOpen(c);
    if (!o.ok()) co_return o;
    ImapReply r;
    const std::string login = ImapLoginCommand();
    o = co_await ImapCommand(c, login, &r);
    if (!o.ok()) co_return o;
    ImapReply selected;
    o = co_await ImapCommand(c, "SELECT INBOX", &selected);
    if (!o.ok()) co_return o;
    *exists = selected.exists;
    const std::string tag = "a" + std::to_string(++tag_);
    const std::string command = tag + " IDLE\r\n";
    error_code ec;
    co_await c.Write(command, ec);
    if (ec) co_return IoFailure(c, "IMAP write", ec);
    for (;;) {
      std::string_view line = co_await c.ReadLine(ec);
      if (ec) co_return IoFailure(c, "IDLE", ec);
      if (StartsWith(line, "+")) co_return Outcome::Ok();
      if (StartsWith(line, tag + " ")) {
        co_return Outcome::Fail(ErrorKind::kProtocol, "IDLE: " + std::string(line));
      }
      uint32_t n = 0;
      if (ExistsCount(line, &n)) *exists = n;  // Mail that arrived since SELECT.
    }
  }

  // "* N EXISTS" -> N.
  static bool ExistsCount(std::string_view line, uint32_t* n) {
    if (!StartsWith(line, "* ")) return false;
    std::string_view rest = line.substr(2);
    size_t sp = rest.find(' ');
    if (sp == std::string_view::npos || sp == 0 || sp > 10 || rest.substr(sp + 1) != "EXISTS") {
      return false;
    }
    uint64_t v = 0;
    for (char ch : rest.substr(0, sp)) {
      if (ch < '0' || ch > '9') return false;
      v = v * 10 + static_cast<uint64_t>(ch - '0');
    }
    *n = static_cast<uint32_t>(v);
    return true;
  }

  // Reads what the server sends during IDLE until the connection is closed (by the main
  // thread at the end of the run, or by the server: an error). The first EXISTS above the
  // count seen at SELECT is the push; its arrival time is recorded.
  asio::awaitable<void> IdleWatch(std::shared_ptr<Connection> c, uint32_t exists) {
    IdleSlot& slot = run_.idle->slots[id_];
    // Reads wait as long as the run may last; the per-read timeout would end IDLE otherwise.
    c->set_timeout(FromSeconds(f_.setup_seconds + f_.idle_seconds + f_.push_wait + 120));
    error_code ec;
    for (;;) {
      std::string_view line = co_await c->ReadLine(ec);
      if (ec) break;
      uint32_t n = 0;
      if (!ExistsCount(line, &n) || n <= exists) continue;
      if (slot.push_ns.load(std::memory_order_relaxed) == 0) {
        slot.push_ns.store(RealtimeNs());
        run_.idle->pushed.fetch_add(1);
      }
      exists = n;
    }
    if (!run_.idle->stopping.load()) {
      RecordError(IoFailure(*c, "connection ended during IDLE", ec));
    }
  }

  void RecordOp(Clock::time_point start) {
    Clock::time_point now = Clock::now();
    if (!run_.window.Counts(now)) return;
    ++stats_->ops;
    stats_->latency_us.push_back(std::chrono::duration<float, std::micro>(now - start).count());
  }
  void RecordSession(const Connection& c) {
    if (!run_.window.Counts(Clock::now())) return;
    ++stats_->sessions;
    stats_->bytes_in += c.bytes_in();
  }
  void RecordError(const Outcome& o) {
    if (!run_.window.Counts(Clock::now())) return;
    int k = static_cast<int>(o.kind);
    if (stats_->errors[k]++ == 0) stats_->first_error[k] = user_ + ": " + o.detail;
  }

  // Connects and, for --tls, makes the TLS handshake.
  asio::awaitable<Outcome> Open(Connection& c) {
    error_code ec;
    const asio::ip::address* source =
        run_.sources->empty() ? nullptr
                              : &(*run_.sources)[static_cast<size_t>(id_) % run_.sources->size()];
    co_await c.Connect(run_.endpoint, source, ec);
    if (ec) co_return Outcome::Fail(ErrorKind::kConnect, "connect: " + ec.message());
    if (f_.security == Security::kTls) {
      co_await c.Handshake(ec);
      if (ec) co_return Outcome::Fail(ErrorKind::kTls, "TLS handshake: " + ec.message());
    }
    co_return Outcome::Ok();
  }

  std::shared_ptr<Connection> NewConnection(size_t read_chunk = 64 * 1024) {
    return std::make_shared<Connection>(io_, *run_.tls, FromSeconds(f_.timeout), registry_,
                                        read_chunk);
  }

  // ---- IMAP ----------------------------------------------------------------------------

  struct ImapReply {
    uint32_t exists = 0;        // From "* N EXISTS".
    size_t untagged = 0;        // Untagged lines.
    size_t literal_octets = 0;  // Octets of literals ({N} ...).
  };

  // Reads the greeting ("* OK ...").
  asio::awaitable<Outcome> ImapGreeting(Connection& c) {
    error_code ec;
    std::string_view line = co_await c.ReadLine(ec);
    if (ec) co_return IoFailure(c, "IMAP greeting", ec);
    if (!StartsWith(line, "* OK")) {
      co_return Outcome::Fail(ErrorKind::kProtocol, "greeting: " + std::string(line));
    }
    co_return Outcome::Ok();
  }

  // Sends "<tag> <command>" and reads until the tagged reply, which must be OK.
  asio::awaitable<Outcome> ImapCommand(Connection& c, std::string_view command, ImapReply* reply) {
    std::string tag = "a" + std::to_string(++tag_);
    std::string out = tag + " " + std::string(command) + "\r\n";
    error_code ec;
    co_await c.Write(out, ec);
    if (ec) co_return IoFailure(c, "IMAP write", ec);
    for (;;) {
      std::string_view line = co_await c.ReadLine(ec);
      if (ec) co_return IoFailure(c, "IMAP read", ec);
      // A line may end in a literal ("{123}"), followed by its octets and more of the line.
      for (;;) {
        size_t n = 0;
        if (!LiteralSize(line, &n)) break;
        if (line[0] == '*') ++reply->untagged;
        reply->literal_octets += n;
        co_await c.Skip(n, ec);
        if (ec) co_return IoFailure(c, "IMAP literal", ec);
        line = co_await c.ReadLine(ec);
        if (ec) co_return IoFailure(c, "IMAP read", ec);
      }
      if (StartsWith(line, "* ")) {
        ++reply->untagged;
        std::string_view rest = line.substr(2);
        size_t sp = rest.find(' ');
        if (sp != std::string_view::npos && rest.substr(sp + 1) == "EXISTS") {
          reply->exists = static_cast<uint32_t>(
              std::strtoul(std::string(rest.substr(0, sp)).c_str(), nullptr, 10));
        }
        continue;
      }
      if (StartsWith(line, "+")) {
        co_return Outcome::Fail(ErrorKind::kProtocol,
                                "unexpected continuation: " + std::string(line));
      }
      if (StartsWith(line, tag) && line.size() > tag.size() && line[tag.size()] == ' ') {
        std::string_view status = line.substr(tag.size() + 1);
        if (StartsWith(status, "OK")) co_return Outcome::Ok();
        std::string cmd(command.substr(0, command.find(' ')));
        if (StartsWith(command, "LOGIN")) cmd = "LOGIN";  // Never echo the password.
        co_return Outcome::Fail(ErrorKind::kProtocol, cmd + ": " + std::string(status));
      }
      // Another tag or garbage: ignore (cannot happen with one command in flight).
    }
  }

  static bool LiteralSize(std::string_view line, size_t* n) {
    if (line.empty() || line.back() != '}') return false;
    size_t open = line.rfind('{');
    if (open == std::string_view::npos) return false;
    std::string_view digits = line.substr(open + 1, line.size() - open - 2);
    if (!digits.empty() && digits.back() == '+') digits.remove_suffix(1);
    if (digits.empty() || digits.size() > 12) return false;
    size_t v = 0;
    for (char ch : digits) {
      if (ch < '0' || ch > '9') return false;
      v = v * 10 + static_cast<size_t>(ch - '0');
    }
    *n = v;
    return true;
  }

  // Connect, TLS or STARTTLS, greeting. Not an operation of its own.
  asio::awaitable<Outcome> ImapOpen(Connection& c) {
    Outcome o = co_await Open(c);
    if (!o.ok()) co_return o;
    o = co_await ImapGreeting(c);
    if (!o.ok()) co_return o;
    if (f_.security == Security::kStartTls) {
      ImapReply r;
      o = co_await ImapCommand(c, "STARTTLS", &r);
      if (!o.ok()) co_return o;
      error_code ec;
      co_await c.Handshake(ec);
      if (ec) co_return Outcome::Fail(ErrorKind::kTls, "TLS handshake: " + ec.message());
    }
    co_return Outcome::Ok();
  }

  std::string ImapLoginCommand() const {
    return "LOGIN " + ImapQuote(user_) + " " + ImapQuote(f_.password);
  }

  // One timed command (an operation); Stopped when the run ended before it could start.
  asio::awaitable<Outcome> TimedImap(Connection& c, std::string_view command, ImapReply* r) {
    if (Stopping()) co_return Outcome::Stopped();
    Clock::time_point t = Clock::now();
    Outcome o = co_await ImapCommand(c, command, r);
    if (o.ok()) RecordOp(t);
    co_return o;
  }

  // login; SELECT INBOX; FETCH 1:* (FLAGS); rounds of FETCH n (ENVELOPE), FETCH n
  // BODY.PEEK[], STORE n +FLAGS (\Seen), UID SEARCH UNSEEN; LOGOUT.
  asio::awaitable<Outcome> ImapMixed() {
    tag_ = 0;
    std::shared_ptr<Connection> c = NewConnection();
    Outcome o = co_await ImapOpen(*c);
    if (!o.ok()) co_return o;
    ImapReply r;
    const std::string login = ImapLoginCommand();
    o = co_await TimedImap(*c, login, &r);
    if (!o.ok()) co_return o;
    ImapReply selected;
    o = co_await TimedImap(*c, "SELECT INBOX", &selected);
    if (!o.ok()) co_return o;
    uint32_t exists = selected.exists;
    if (exists > 0) {
      o = co_await TimedImap(*c, "FETCH 1:* (FLAGS)", &r);
      if (!o.ok()) co_return o;
    }
    for (int round = 0; round < f_.imap_rounds && exists > 0; ++round) {
      // Named strings, not temporaries, in co_await expressions (GCC 12 coroutines).
      const std::string n = std::to_string(1 + rng_.Below(exists));
      const std::string envelope = "FETCH " + n + " (ENVELOPE)";
      const std::string peek = "FETCH " + n + " BODY.PEEK[]";
      const std::string store = "STORE " + n + " +FLAGS (\\Seen)";
      o = co_await TimedImap(*c, envelope, &r);
      if (!o.ok()) co_return o;
      ImapReply body;
      o = co_await TimedImap(*c, peek, &body);
      if (!o.ok()) co_return o;
      if (body.literal_octets == 0) {
        co_return Outcome::Fail(ErrorKind::kProtocol, "FETCH BODY.PEEK[] returned no literal");
      }
      o = co_await TimedImap(*c, store, &r);
      if (!o.ok()) co_return o;
      o = co_await TimedImap(*c, "UID SEARCH UNSEEN", &r);
      if (!o.ok()) co_return o;
    }
    o = co_await TimedImap(*c, "LOGOUT", &r);
    if (!o.ok()) co_return o;
    RecordSession(*c);
    co_return Outcome::Ok();
  }

  // The whole session is the operation: connect, TLS, greeting, LOGIN, LOGOUT.
  asio::awaitable<Outcome> ImapLogin() {
    tag_ = 0;
    if (Stopping()) co_return Outcome::Stopped();
    Clock::time_point t = Clock::now();
    std::shared_ptr<Connection> c = NewConnection();
    Outcome o = co_await ImapOpen(*c);
    if (!o.ok()) co_return o;
    ImapReply r;
    const std::string login = ImapLoginCommand();
    o = co_await ImapCommand(*c, login, &r);
    if (!o.ok()) co_return o;
    o = co_await ImapCommand(*c, "LOGOUT", &r);
    if (!o.ok()) co_return o;
    RecordOp(t);
    RecordSession(*c);
    co_return Outcome::Ok();
  }

  // ---- POP3 ----------------------------------------------------------------------------

  // Sends a command (unless empty) and reads a "+OK" line; with `multi`, then reads the
  // dot-terminated listing. Returns the first line in `*first`.
  asio::awaitable<Outcome> Pop3Command(Connection& c, std::string_view command, bool multi,
                                       std::string* first) {
    error_code ec;
    if (!command.empty()) {
      std::string out = std::string(command) + "\r\n";
      co_await c.Write(out, ec);
      if (ec) co_return IoFailure(c, "POP3 write", ec);
    }
    std::string_view line = co_await c.ReadLine(ec);
    if (ec) co_return IoFailure(c, "POP3 read", ec);
    if (!StartsWith(line, "+OK")) {
      std::string cmd(command.substr(0, command.find(' ')));
      if (cmd.empty()) cmd = "greeting";
      co_return Outcome::Fail(ErrorKind::kProtocol, cmd + ": " + std::string(line));
    }
    if (first != nullptr) *first = std::string(line);
    if (!multi) co_return Outcome::Ok();
    for (;;) {
      line = co_await c.ReadLine(ec);
      if (ec) co_return IoFailure(c, "POP3 listing", ec);
      if (line == ".") co_return Outcome::Ok();
    }
  }

  asio::awaitable<Outcome> TimedPop3(Connection& c, std::string_view command, bool multi,
                                     std::string* first) {
    if (Stopping()) co_return Outcome::Stopped();
    Clock::time_point t = Clock::now();
    Outcome o = co_await Pop3Command(c, command, multi, first);
    if (o.ok()) RecordOp(t);
    co_return o;
  }

  // USER, PASS, STAT, LIST, UIDL, RETR of every message, QUIT (no DELE).
  asio::awaitable<Outcome> Pop3() {
    std::shared_ptr<Connection> c = NewConnection();
    Outcome o = co_await Open(*c);
    if (!o.ok()) co_return o;
    o = co_await Pop3Command(*c, "", false, nullptr);
    if (!o.ok()) co_return o;
    if (f_.security == Security::kStartTls) {
      o = co_await Pop3Command(*c, "STLS", false, nullptr);
      if (!o.ok()) co_return o;
      error_code ec;
      co_await c->Handshake(ec);
      if (ec) co_return Outcome::Fail(ErrorKind::kTls, "TLS handshake: " + ec.message());
    }
    const std::string user = "USER " + user_;
    o = co_await TimedPop3(*c, user, false, nullptr);
    if (!o.ok()) co_return o;
    if (Stopping()) co_return Outcome::Stopped();
    {
      const std::string pass = "PASS " + f_.password;
      Clock::time_point t = Clock::now();
      o = co_await Pop3Command(*c, pass, false, nullptr);
      if (!o.ok()) co_return Outcome::Fail(o.kind, "PASS refused or failed");
      RecordOp(t);
    }
    std::string stat;
    o = co_await TimedPop3(*c, "STAT", false, &stat);
    if (!o.ok()) co_return o;
    unsigned long count = 0;
    if (std::sscanf(stat.c_str(), "+OK %lu", &count) != 1) {
      co_return Outcome::Fail(ErrorKind::kProtocol, "STAT: " + stat);
    }
    o = co_await TimedPop3(*c, "LIST", true, nullptr);
    if (!o.ok()) co_return o;
    o = co_await TimedPop3(*c, "UIDL", true, nullptr);
    if (!o.ok()) co_return o;
    for (unsigned long i = 1; i <= count; ++i) {
      const std::string retr = "RETR " + std::to_string(i);
      o = co_await TimedPop3(*c, retr, true, nullptr);
      if (!o.ok()) co_return o;
    }
    o = co_await TimedPop3(*c, "QUIT", false, nullptr);
    if (!o.ok()) co_return o;
    RecordSession(*c);
    co_return Outcome::Ok();
  }

  // ---- SMTP ----------------------------------------------------------------------------

  // Sends `data` (unless empty) and reads a (multi-line) reply, which must have the code
  // `want`. `label` names the command in error messages.
  asio::awaitable<Outcome> SmtpCommand(Connection& c, std::string_view data, int want,
                                       std::string_view label) {
    error_code ec;
    if (!data.empty()) {
      co_await c.Write(data, ec);
      if (ec) co_return IoFailure(c, "SMTP write", ec);
    }
    for (;;) {
      std::string_view line = co_await c.ReadLine(ec);
      if (ec) co_return IoFailure(c, "SMTP read", ec);
      if (line.size() < 3) {
        co_return Outcome::Fail(ErrorKind::kProtocol, "short reply: " + std::string(line));
      }
      if (line.size() > 3 && line[3] == '-') continue;
      int code = std::atoi(std::string(line.substr(0, 3)).c_str());
      if (code == want) co_return Outcome::Ok();
      co_return Outcome::Fail(ErrorKind::kProtocol, std::string(label) + ": " + std::string(line));
    }
  }

  std::string Address(int user_index) const { return UserName(f_, user_index) + "@" + f_.domain; }

  // EHLO, STARTTLS + EHLO (or implicit TLS), AUTH PLAIN, messages, QUIT.
  asio::awaitable<Outcome> Smtp() {
    std::shared_ptr<Connection> c = NewConnection();
    Outcome o = co_await Open(*c);
    if (!o.ok()) co_return o;
    o = co_await SmtpCommand(*c, "", 220, "greeting");
    if (!o.ok()) co_return o;
    const std::string ehlo = "EHLO load" + std::to_string(id_) + ".bench.test\r\n";
    o = co_await SmtpCommand(*c, ehlo, 250, "EHLO");
    if (!o.ok()) co_return o;
    if (f_.security == Security::kStartTls) {
      o = co_await SmtpCommand(*c, "STARTTLS\r\n", 220, "STARTTLS");
      if (!o.ok()) co_return o;
      error_code ec;
      co_await c->Handshake(ec);
      if (ec) co_return Outcome::Fail(ErrorKind::kTls, "TLS handshake: " + ec.message());
      o = co_await SmtpCommand(*c, ehlo, 250, "EHLO");
      if (!o.ok()) co_return o;
    }
    std::string credentials;
    credentials.push_back('\0');
    credentials += user_;
    credentials.push_back('\0');
    credentials += f_.password;
    const std::string auth = "AUTH PLAIN " + common::Base64Encode(credentials) + "\r\n";
    o = co_await SmtpCommand(*c, auth, 235, "AUTH PLAIN");
    if (!o.ok()) co_return o;
    const std::string from = Address(id_ % f_.users);
    const std::string mail_from = "MAIL FROM:<" + from + ">\r\n";
    for (int m = 0; m < f_.messages_per_session; ++m) {
      if (Stopping()) co_return Outcome::Stopped();
      Clock::time_point t = Clock::now();
      o = co_await SmtpCommand(*c, mail_from, 250, "MAIL FROM");
      if (!o.ok()) co_return o;
      std::string to_header;
      for (int r = 0; r < f_.recipients; ++r) {
        const std::string to =
            Address(static_cast<int>(rng_.Below(static_cast<uint32_t>(f_.users))));
        const std::string rcpt = "RCPT TO:<" + to + ">\r\n";
        o = co_await SmtpCommand(*c, rcpt, 250, "RCPT TO");
        if (!o.ok()) co_return o;
        if (r > 0) to_header += ", ";
        to_header += "<" + to + ">";
      }
      o = co_await SmtpCommand(*c, "DATA\r\n", 354, "DATA");
      if (!o.ok()) co_return o;
      std::string message = MessageHeader(from, to_header, ++sent_);
      message += *run_.message_body;
      message += ".\r\n";
      o = co_await SmtpCommand(*c, message, 250, "end of DATA");
      if (!o.ok()) co_return o;
      RecordOp(t);
    }
    o = co_await SmtpCommand(*c, "QUIT\r\n", 221, "QUIT");
    if (!o.ok()) co_return o;
    RecordSession(*c);
    co_return Outcome::Ok();
  }

  std::string MessageHeader(const std::string& from, const std::string& to, uint64_t seq) {
    std::string unique = "c" + std::to_string(id_) + "n" + std::to_string(seq) + "r" +
                         std::to_string(rng_.Next() % 1000000007ull);
    std::string h;
    h.reserve(512);
    h += "Date: Tue, 14 May 2024 09:30:11 +0200\r\n";
    h += "From: <" + from + ">\r\n";
    h += "To: " + to + "\r\n";
    h += "Subject: Load test message " + unique + "\r\n";
    h += "Message-ID: <" + unique + "@load.bench.test>\r\n";
    h += "MIME-Version: 1.0\r\n";
    h += "Content-Type: text/plain; charset=utf-8\r\n";
    h += "Content-Transfer-Encoding: 7bit\r\n";
    h += "\r\n";
    return h;
  }

  asio::io_context& io_;
  const RunContext& run_;
  const Flags& f_;
  ThreadStats* stats_;
  Registry* registry_;
  int id_;
  Rng rng_;
  std::string user_;
  uint64_t tag_ = 0;
  uint64_t sent_ = 0;
};

// A text body of about `size` octets minus a typical header, in CRLF lines that never start
// with '.', so it needs no dot-stuffing; ends with CRLF.
std::string MakeBody(size_t size) {
  static constexpr const char* kLines[] = {
      "Hello team,",
      "",
      "Please find below the minutes of this week's meeting. The storage migration is on",
      "track: the new cluster took over the first tenants on Monday and the old one will be",
      "switched off at the end of the month, once the last mailboxes have been moved.",
      "",
      "Action items: review the retention policy for Deleted Items and Junk, check the",
      "quota warnings sent last week, and confirm the maintenance window with the help desk.",
      "",
  };
  constexpr size_t kHeaderEstimate = 330;
  size_t target = size > kHeaderEstimate ? size - kHeaderEstimate : 2;
  std::string body;
  body.reserve(target + 128);
  for (size_t i = 0; body.size() < target; ++i) {
    body += kLines[i % std::size(kLines)];
    body += "\r\n";
  }
  return body;
}

// ---------------------------------------------------------------------------------------
// Flags parsing and the run.

void Usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s --workload W --port N [options]\n"
               "  --workload W        imap-mixed | imap-login | pop3 | smtp | imap-idle\n"
               "  --host H            server address (default 127.0.0.1)\n"
               "  --port N            server port (required)\n"
               "  --tls               implicit TLS (993, 995, 465)\n"
               "  --starttls          plain connect, then STARTTLS / STLS (143, 110, 587)\n"
               "  --clients N         concurrent connections (default 50)\n"
               "  --threads N         client threads, each with its own event loop (default 1)\n"
               "  --seconds S         measured time (default 10)\n"
               "  --warmup S          time before measuring; not counted (default 2)\n"
               "  --users N           users user0001..userN; client i logs in as user (i mod N)+1\n"
               "                      (default 100)\n"
               "  --first-user N      number of the first user (default 1)\n"
               "  --user-prefix P     user name prefix (default user)\n"
               "  --user-digits N     zero-padded width of the number (default 4)\n"
               "  --password P        the one password of every user (default bench-password-1)\n"
               "  --domain D          SMTP address domain (default example.test)\n"
               "  --imap-rounds N     imap-mixed: ENVELOPE/BODY/STORE/SEARCH rounds a session (5)\n"
               "  --message-size N    smtp: message size in octets (default 10240)\n"
               "  --recipients N      smtp: local recipients per message (default 1)\n"
               "  --messages-per-session N  smtp: messages per connection (default 1)\n"
               "  --timeout S         limit on any one read or write (default 30)\n"
               "  --source-addresses N  connection i binds to 127.0.0.(1 + i mod N) (default: no\n"
               "                      bind; for more than ~28,000 connections to one port)\n"
               "imap-idle (--clients connections in IDLE; deliveries announced on stdin):\n"
               "  --connect-concurrency N  connections in set-up at once (default 100)\n"
               "  --setup-seconds S   limit for every connection to reach IDLE (default 600)\n"
               "  --idle-seconds S    limit on reading stdin after \"idle: ready\" (default 3600)\n"
               "  --push-wait S       wait for pushes after the end of stdin (default 30)\n"
               "  stdin lines: \"ack USER [UNIX_NS]\" (delivery to USER acknowledged at that\n"
               "  CLOCK_REALTIME time; default: when read), \"all [UNIX_NS]\" (every user),\n"
               "  \"end\" or end of file\n",
               argv0);
}

bool ParseInt(const std::string& s, long lo, long hi, int* out) {
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v < lo || v > hi) return false;
  *out = static_cast<int>(v);
  return true;
}

bool ParseSeconds(const std::string& s, double lo, double* out) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v >= lo) || v > 86400) return false;
  *out = v;
  return true;
}

bool ParseFlags(int argc, char** argv, Flags* f) {
  bool have_workload = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string v;
    auto value = [&]() {
      if (i + 1 >= argc) return false;
      v = argv[++i];
      return true;
    };
    int n = 0;
    if (arg == "--tls") {
      f->security = Security::kTls;
    } else if (arg == "--starttls") {
      f->security = Security::kStartTls;
    } else if (arg == "--workload" && value()) {
      have_workload = true;
      if (v == "imap-mixed") {
        f->workload = Workload::kImapMixed;
      } else if (v == "imap-login") {
        f->workload = Workload::kImapLogin;
      } else if (v == "pop3") {
        f->workload = Workload::kPop3;
      } else if (v == "smtp") {
        f->workload = Workload::kSmtp;
      } else if (v == "imap-idle") {
        f->workload = Workload::kImapIdle;
      } else {
        return false;
      }
    } else if (arg == "--host" && value()) {
      f->host = v;
    } else if (arg == "--port" && value()) {
      if (!ParseInt(v, 1, 65535, &f->port)) return false;
    } else if (arg == "--clients" && value()) {
      if (!ParseInt(v, 1, 100000, &f->clients)) return false;
    } else if (arg == "--threads" && value()) {
      if (!ParseInt(v, 1, 256, &f->threads)) return false;
    } else if (arg == "--seconds" && value()) {
      if (!ParseSeconds(v, 0.1, &f->seconds)) return false;
    } else if (arg == "--warmup" && value()) {
      if (!ParseSeconds(v, 0, &f->warmup)) return false;
    } else if (arg == "--users" && value()) {
      if (!ParseInt(v, 1, 10000000, &f->users)) return false;
    } else if (arg == "--first-user" && value()) {
      if (!ParseInt(v, 0, 100000000, &f->first_user)) return false;
    } else if (arg == "--user-prefix" && value()) {
      f->user_prefix = v;
    } else if (arg == "--user-digits" && value()) {
      if (!ParseInt(v, 1, 12, &f->user_digits)) return false;
    } else if (arg == "--password" && value()) {
      f->password = v;
    } else if (arg == "--domain" && value()) {
      f->domain = v;
    } else if (arg == "--imap-rounds" && value()) {
      if (!ParseInt(v, 0, 100000, &f->imap_rounds)) return false;
    } else if (arg == "--message-size" && value()) {
      if (!ParseInt(v, 100, 100 << 20, &n)) return false;
      f->message_size = static_cast<size_t>(n);
    } else if (arg == "--recipients" && value()) {
      if (!ParseInt(v, 1, 1000, &f->recipients)) return false;
    } else if (arg == "--messages-per-session" && value()) {
      if (!ParseInt(v, 1, 1000000, &f->messages_per_session)) return false;
    } else if (arg == "--timeout" && value()) {
      if (!ParseSeconds(v, 0.1, &f->timeout)) return false;
    } else if (arg == "--source-addresses" && value()) {
      if (!ParseInt(v, 0, 254, &f->source_addresses)) return false;
    } else if (arg == "--connect-concurrency" && value()) {
      if (!ParseInt(v, 1, 100000, &f->connect_concurrency)) return false;
    } else if (arg == "--setup-seconds" && value()) {
      if (!ParseSeconds(v, 1, &f->setup_seconds)) return false;
    } else if (arg == "--idle-seconds" && value()) {
      if (!ParseSeconds(v, 0, &f->idle_seconds)) return false;
    } else if (arg == "--push-wait" && value()) {
      if (!ParseSeconds(v, 0, &f->push_wait)) return false;
    } else {
      return false;
    }
  }
  return have_workload && f->port != 0 && f->threads <= f->clients;
}

double Percentile(std::vector<float>* v, double p) {
  if (v->empty()) return 0;
  size_t k = std::min(v->size() - 1, static_cast<size_t>(p * static_cast<double>(v->size())));
  std::nth_element(v->begin(), v->begin() + static_cast<ptrdiff_t>(k), v->end());
  return (*v)[k];
}

// ---------------------------------------------------------------------------------------
// imap-idle.
//
// 1. Set-up: --connect-concurrency coroutines (spread over the threads) take the clients one
//    after the other: connect (+TLS or STARTTLS), LOGIN, SELECT INBOX, IDLE. A bounded number
//    in flight, so that the servers' listen backlogs never overflow (a dropped SYN costs a
//    1 s retransmission) and every connection is set up within --timeout per step.
// 2. "idle: ready N failed M pending P" on stdout once every client is in IDLE or failed (or
//    at --setup-seconds). The connections then stay idle: whoever drives the run measures
//    the servers' memory now.
// 3. Deliveries are announced on stdin, one line each: "ack USER UNIX_NS" when the delivery
//    of a message to USER's INBOX was acknowledged (SMTP/LMTP 250) at CLOCK_REALTIME UNIX_NS.
//    A connection's push latency is the arrival of its first new "* N EXISTS" minus the ack
//    of its user. The deliverer stamps the ack itself, so neither the pipe nor this process
//    being busy adds to the figure, and a push may arrive before its ack line is read (the
//    times are compared at the end). A push that arrives before the ack (the server
//    notified before the deliverer read its 250) counts as 0 ms ("early").
// 4. At "end" or end of file, waits until every idle connection whose user got an ack has its
//    push, at most --push-wait seconds; then closes everything and prints the figures.
int RunIdle(const Flags& f, const tcp::endpoint& endpoint, asio::ssl::context* tls,
            const std::vector<asio::ip::address>* sources) {
  std::printf(
      "mail_load: imap-idle against %s:%d (%s), %d connections on %d thread%s, %d in "
      "set-up at once, %d source address%s\n",
      f.host.c_str(), f.port, SecurityName(f.security), f.clients, f.threads,
      f.threads == 1 ? "" : "s", f.connect_concurrency,
      sources->empty() ? 1 : static_cast<int>(sources->size()), sources->size() > 1 ? "es" : "");
  std::printf("  users %s..%s, %u CPUs, 1-minute load average before: %.2f\n",
              UserName(f, 0).c_str(), UserName(f, std::min(f.users, f.clients) - 1).c_str(),
              std::thread::hardware_concurrency(), LoadAverage());
  std::fflush(stdout);

  const Clock::time_point t0 = Clock::now();
  IdleRun idle(f.clients);
  RunContext run{&f, endpoint, tls, {}, nullptr, sources, &idle};
  run.window.measure_from = t0;
  run.window.end = t0 + FromSeconds(f.setup_seconds + f.idle_seconds + f.push_wait + 600);

  struct PerThread {
    asio::io_context io{1};
    ThreadStats stats;
    Registry registry;
    std::vector<std::unique_ptr<Client>> clients;
    size_t next = 0;  // The next client to set up.
  };
  std::vector<std::unique_ptr<PerThread>> threads;
  for (int t = 0; t < f.threads; ++t) threads.push_back(std::make_unique<PerThread>());
  for (int c = 0; c < f.clients; ++c) {
    PerThread& pt = *threads[static_cast<size_t>(c % f.threads)];
    pt.clients.push_back(std::make_unique<Client>(pt.io, run, &pt.stats, &pt.registry, c));
  }
  const int workers_per_thread = std::max(1, f.connect_concurrency / f.threads);
  const double cpu0 = ProcessCpuSeconds();
  std::vector<std::thread> pool;
  for (auto& pt_ptr : threads) {
    PerThread* pt = pt_ptr.get();
    IdleRun* shared = &idle;
    pool.emplace_back([pt, shared, workers_per_thread] {
      for (int w = 0; w < workers_per_thread; ++w) {
        asio::co_spawn(
            pt->io,
            [pt, shared]() -> asio::awaitable<void> {
              while (pt->next < pt->clients.size() && !shared->setup_over.load() &&
                     g_interrupted == 0) {
                Client* client = pt->clients[pt->next++].get();
                co_await client->IdleSetup();
              }
            },
            asio::detached);
      }
      pt->io.run();
    });
  }
  auto close_all = [&threads] {
    for (auto& pt_ptr : threads) {
      PerThread* pt = pt_ptr.get();
      asio::post(pt->io, [pt] {
        std::vector<Connection*> open(pt->registry.begin(), pt->registry.end());
        for (Connection* c : open) c->Close();
      });
    }
  };

  // 1-2: wait for the set-up.
  const Clock::time_point setup_end = t0 + FromSeconds(f.setup_seconds);
  Clock::time_point last_progress = t0;
  while (idle.idle.load() + idle.failed.load() < f.clients && Clock::now() < setup_end &&
         g_interrupted == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (Clock::now() - last_progress >= std::chrono::seconds(10)) {
      last_progress = Clock::now();
      std::printf("idle: progress %d idle, %d failed, %.0f s\n", idle.idle.load(),
                  idle.failed.load(), std::chrono::duration<double>(last_progress - t0).count());
      std::fflush(stdout);
    }
  }
  idle.setup_over.store(true);
  const double setup_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const int ready = idle.idle.load();
  const int failed = idle.failed.load();
  std::printf("idle: ready %d failed %d pending %d setup_s %.1f\n", ready, failed,
              f.clients - ready - failed, setup_s);
  std::fflush(stdout);

  // 3: acks on stdin.
  std::unordered_map<std::string, int> user_index;
  for (int u = 0; u < f.users; ++u) user_index.emplace(UserName(f, u), u);
  std::vector<int64_t> ack_ns(static_cast<size_t>(f.users), 0);
  int64_t acks = 0, bad_lines = 0;
  std::string input;
  bool input_open = g_interrupted == 0;
  const Clock::time_point idle_end = Clock::now() + FromSeconds(f.idle_seconds);
  auto handle_line = [&](std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string word, name;
    size_t sp = line.find(' ');
    word = std::string(line.substr(0, sp));
    std::string_view rest = sp == std::string_view::npos ? "" : line.substr(sp + 1);
    if (word == "end") {
      input_open = false;
      return;
    }
    if (word == "ack") {
      sp = rest.find(' ');
      name = std::string(rest.substr(0, sp));
      rest = sp == std::string_view::npos ? "" : rest.substr(sp + 1);
    } else if (word != "all") {
      if (bad_lines++ == 0) {
        std::fprintf(stderr, "mail_load: bad input line: %.*s\n", static_cast<int>(line.size()),
                     line.data());
      }
      return;
    }
    int64_t when = RealtimeNs();
    if (!rest.empty()) {
      char* end = nullptr;
      std::string digits(rest);
      long long v = std::strtoll(digits.c_str(), &end, 10);
      if (*end != '\0' || v <= 0) {
        ++bad_lines;
        return;
      }
      when = v;
    }
    if (word == "all") {
      for (int64_t& a : ack_ns) {
        if (a == 0) a = when;
      }
      ++acks;
      return;
    }
    auto it = user_index.find(name);
    if (it == user_index.end()) {
      ++bad_lines;
      return;
    }
    int64_t& a = ack_ns[static_cast<size_t>(it->second)];
    if (a == 0) a = when;  // Only the first delivery to a mailbox is measured.
    ++acks;
  };
  while (input_open && g_interrupted == 0 && Clock::now() < idle_end) {
    pollfd pfd{0, POLLIN, 0};
    int r = ::poll(&pfd, 1, 100);
    if (r <= 0) continue;
    char buf[65536];
    ssize_t n = ::read(0, buf, sizeof(buf));
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      input_open = false;
      break;
    }
    input.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t lf; input_open && (lf = input.find('\n', start)) != std::string::npos;
         start = lf + 1) {
      handle_line(std::string_view(input).substr(start, lf - start));
    }
    input.erase(0, start);
  }

  // 4: wait for the pushes.
  auto expected_pushes_done = [&] {
    for (int c = 0; c < f.clients; ++c) {
      const IdleSlot& slot = idle.slots[static_cast<size_t>(c)];
      if (slot.idle.load() && ack_ns[static_cast<size_t>(c % f.users)] != 0 &&
          slot.push_ns.load() == 0) {
        return false;
      }
    }
    return true;
  };
  const Clock::time_point push_end = Clock::now() + FromSeconds(f.push_wait);
  while (!expected_pushes_done() && Clock::now() < push_end && g_interrupted == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  idle.stopping.store(true);
  close_all();
  for (std::thread& th : pool) th.join();
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = ProcessCpuSeconds() - cpu0;

  // Figures.
  std::vector<float> latency_us;
  int acked = 0, pushed = 0, missing = 0, early = 0, late = 0, unasked = 0;
  for (int c = 0; c < f.clients; ++c) {
    const IdleSlot& slot = idle.slots[static_cast<size_t>(c)];
    if (!slot.idle.load()) continue;
    const int64_t ack = ack_ns[static_cast<size_t>(c % f.users)];
    const int64_t push = slot.push_ns.load();
    if (ack == 0) {
      if (push != 0) ++unasked;
      continue;
    }
    ++acked;
    if (push == 0) {
      ++missing;
      continue;
    }
    int64_t d = push - ack;
    if (d < 0) {
      ++early;
      d = 0;
    }
    if (static_cast<double>(d) > f.push_wait * 1e9) {
      ++late;
      continue;
    }
    ++pushed;
    latency_us.push_back(static_cast<float>(static_cast<double>(d) / 1e3));
  }
  uint64_t errors = 0;
  uint64_t by_kind[static_cast<int>(ErrorKind::kCount)] = {};
  std::string first[static_cast<int>(ErrorKind::kCount)];
  for (auto& pt : threads) {
    for (int k = 0; k < static_cast<int>(ErrorKind::kCount); ++k) {
      by_kind[k] += pt->stats.errors[k];
      errors += pt->stats.errors[k];
      if (first[k].empty()) first[k] = pt->stats.first_error[k];
    }
  }
  const double p50 = Percentile(&latency_us, 0.50) / 1000.0;
  const double p99 = Percentile(&latency_us, 0.99) / 1000.0;
  const double max =
      latency_us.empty() ? 0 : *std::max_element(latency_us.begin(), latency_us.end()) / 1000.0;
  std::printf(
      "\n  idle        %10d  connections in IDLE (%d failed, %d not set up), set-up %.1f s\n",
      ready, failed, f.clients - ready - failed, setup_s);
  std::printf("  acks        %10lld  delivery acks read (%lld bad input lines)\n",
              static_cast<long long>(acks), static_cast<long long>(bad_lines));
  std::printf(
      "  pushed      %10d  of %d idle connections whose mailbox got a delivery, within "
      "%.0f s (%d later, %d never, %d before the ack)\n",
      pushed, acked, f.push_wait, late, missing, early);
  if (unasked > 0) std::printf("  unasked     %10d  pushes to mailboxes without an ack\n", unasked);
  std::printf("  push latency p50 %.3f ms   p99 %.3f ms   max %.3f ms (ack to EXISTS)\n", p50, p99,
              max);
  std::printf("  errors      %10llu\n", static_cast<unsigned long long>(errors));
  for (int k = 0; k < static_cast<int>(ErrorKind::kCount); ++k) {
    if (by_kind[k] == 0) continue;
    std::printf("    %-10s %8llu   first: %s\n", ErrorKindName(static_cast<ErrorKind>(k)),
                static_cast<unsigned long long>(by_kind[k]), first[k].c_str());
  }
  std::printf("  client cpu  %.2f cores (this load generator, whole run)\n",
              wall > 0 ? cpu / wall : 0);
  std::printf(
      "result: workload=imap-idle clients=%d idle=%d failed=%d setup_s=%.1f acked=%d pushed=%d "
      "late=%d missing=%d early=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%llu\n",
      f.clients, ready, failed, setup_s, acked, pushed, late, missing, early, p50, p99, max,
      static_cast<unsigned long long>(errors));
  std::fflush(stdout);
  if (g_interrupted != 0) return 130;
  return ready > 0 && (acked == 0 || pushed > 0) ? 0 : 1;
}

int Main(int argc, char** argv) {
  Flags f;
  if (!ParseFlags(argc, argv, &f)) {
    Usage(argv[0]);
    return 2;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);

  tcp::endpoint endpoint;
  {
    asio::io_context resolve_io;
    tcp::resolver resolver(resolve_io);
    error_code ec;
    auto results = resolver.resolve(f.host, std::to_string(f.port), ec);
    if (ec || results.empty()) {
      std::fprintf(stderr, "mail_load: cannot resolve %s: %s\n", f.host.c_str(),
                   ec.message().c_str());
      return 2;
    }
    endpoint = results.begin()->endpoint();
  }
  // No certificate check (the servers use throwaway self-signed certificates) and no session
  // resumption: every connection makes a full handshake, as a new client does.
  std::shared_ptr<asio::ssl::context> tls = common::MakeClientTlsContext(/*verify=*/false);
  SSL_CTX_set_session_cache_mode(tls->native_handle(), SSL_SESS_CACHE_OFF);
  std::vector<asio::ip::address> sources;
  for (int i = 0; i < f.source_addresses; ++i) {
    sources.push_back(asio::ip::make_address_v4(0x7f000001u + static_cast<uint32_t>(i)));
  }
  if (f.workload == Workload::kImapIdle) return RunIdle(f, endpoint, tls.get(), &sources);
  const std::string body = MakeBody(f.message_size);

  std::printf(
      "mail_load: %s against %s:%d (%s), %d clients on %d thread%s, %.1f s warm-up + "
      "%.1f s measured\n",
      WorkloadName(f.workload), f.host.c_str(), f.port, SecurityName(f.security), f.clients,
      f.threads, f.threads == 1 ? "" : "s", f.warmup, f.seconds);
  std::printf("  users %s..%s, %u CPUs, 1-minute load average before: %.2f\n",
              UserName(f, 0).c_str(), UserName(f, f.users - 1).c_str(),
              std::thread::hardware_concurrency(), LoadAverage());
  std::fflush(stdout);

  const Clock::time_point t0 = Clock::now();
  RunContext run{&f, endpoint, tls.get(), {}, &body, &sources, nullptr};
  run.window.measure_from = t0 + FromSeconds(f.warmup);
  run.window.end = run.window.measure_from + FromSeconds(f.seconds);

  struct PerThread {
    asio::io_context io{1};
    ThreadStats stats;
    Registry registry;
    std::vector<std::unique_ptr<Client>> clients;
  };
  std::vector<std::unique_ptr<PerThread>> threads;
  for (int t = 0; t < f.threads; ++t) threads.push_back(std::make_unique<PerThread>());
  for (int c = 0; c < f.clients; ++c) {
    PerThread& pt = *threads[c % f.threads];
    pt.clients.push_back(std::make_unique<Client>(pt.io, run, &pt.stats, &pt.registry, c));
  }
  const double cpu0 = ProcessCpuSeconds();
  std::vector<std::thread> pool;
  for (auto& pt_ptr : threads) {
    PerThread* pt = pt_ptr.get();
    pool.emplace_back([pt, &run] {
      pt->stats.latency_us.reserve(1 << 16);
      for (auto& client : pt->clients) {
        asio::co_spawn(pt->io, client->Run(), asio::detached);
      }
      // At the end of the run, close every connection: what is in flight then is not counted,
      // and each client's loop ends.
      asio::steady_timer end(pt->io);
      end.expires_at(run.window.end);
      end.async_wait([pt](error_code) {
        std::vector<Connection*> open(pt->registry.begin(), pt->registry.end());
        for (Connection* c : open) c->Close();
      });
      // Ctrl-C: check every 100 ms, then close everything the same way.
      asio::steady_timer poll(pt->io);
      std::function<void(error_code)> check = [&](error_code ec) {
        if (ec) return;
        if (g_interrupted != 0) {
          end.cancel();
          std::vector<Connection*> open(pt->registry.begin(), pt->registry.end());
          for (Connection* c : open) c->Close();
          return;
        }
        if (Clock::now() >= run.window.end) return;
        poll.expires_after(std::chrono::milliseconds(100));
        poll.async_wait(check);
      };
      poll.expires_after(std::chrono::milliseconds(100));
      poll.async_wait(check);
      pt->io.run();
    });
  }
  for (std::thread& th : pool) th.join();
  const Clock::time_point t1 = Clock::now();
  const double cpu = ProcessCpuSeconds() - cpu0;

  uint64_t ops = 0, sessions = 0, bytes_in = 0, errors = 0;
  uint64_t by_kind[static_cast<int>(ErrorKind::kCount)] = {};
  std::string first[static_cast<int>(ErrorKind::kCount)];
  std::vector<float> latency;
  for (auto& pt : threads) {
    ops += pt->stats.ops;
    sessions += pt->stats.sessions;
    bytes_in += pt->stats.bytes_in;
    latency.insert(latency.end(), pt->stats.latency_us.begin(), pt->stats.latency_us.end());
    for (int k = 0; k < static_cast<int>(ErrorKind::kCount); ++k) {
      by_kind[k] += pt->stats.errors[k];
      errors += pt->stats.errors[k];
      if (first[k].empty()) first[k] = pt->stats.first_error[k];
    }
  }
  // If interrupted, the measured time is what actually ran.
  double measured = f.seconds;
  if (g_interrupted != 0) {
    measured = std::chrono::duration<double>(t1 - run.window.measure_from).count();
    if (measured <= 0) measured = 0;
  }
  const double wall = std::chrono::duration<double>(t1 - t0).count();
  const double rate = measured > 0 ? static_cast<double>(ops) / measured : 0;
  const double session_rate = measured > 0 ? static_cast<double>(sessions) / measured : 0;
  const double p50 = Percentile(&latency, 0.50) / 1000.0;
  const double p99 = Percentile(&latency, 0.99) / 1000.0;
  const double max =
      latency.empty() ? 0 : *std::max_element(latency.begin(), latency.end()) / 1000.0;
  const double client_cores = wall > 0 ? cpu / wall : 0;

  std::printf("\n  operations  %10llu  %10.1f/s   %s\n", static_cast<unsigned long long>(ops), rate,
              OpUnit(f.workload));
  std::printf("  sessions    %10llu  %10.1f/s   completed connections\n",
              static_cast<unsigned long long>(sessions), session_rate);
  std::printf("  latency     p50 %.3f ms   p99 %.3f ms   max %.3f ms\n", p50, p99, max);
  std::printf("  received    %.1f MB in completed sessions\n", static_cast<double>(bytes_in) / 1e6);
  std::printf("  errors      %10llu\n", static_cast<unsigned long long>(errors));
  for (int k = 0; k < static_cast<int>(ErrorKind::kCount); ++k) {
    if (by_kind[k] == 0) continue;
    std::printf("    %-10s %8llu   first: %s\n", ErrorKindName(static_cast<ErrorKind>(k)),
                static_cast<unsigned long long>(by_kind[k]), first[k].c_str());
  }
  std::printf("  client cpu  %.2f cores (this load generator, warm-up included)\n", client_cores);
  std::printf("  1-minute load average after: %.2f (includes this run)\n", LoadAverage());
  if (g_interrupted != 0) std::printf("  interrupted: figures cover %.1f s\n", measured);
  std::printf(
      "result: workload=%s clients=%d seconds=%.1f ops=%llu ops_per_s=%.1f sessions=%llu "
      "sessions_per_s=%.1f p50_ms=%.3f p99_ms=%.3f errors=%llu client_cores=%.2f\n",
      WorkloadName(f.workload), f.clients, measured, static_cast<unsigned long long>(ops), rate,
      static_cast<unsigned long long>(sessions), session_rate, p50, p99,
      static_cast<unsigned long long>(errors), client_cores);
  std::fflush(stdout);
  if (g_interrupted != 0) return 130;
  return ops > 0 ? 0 : 1;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) { return bench::Main(argc, argv); }
