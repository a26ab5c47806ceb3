// Stream: plain reads and writes, STARTTLS-style upgrade, read deadlines; RunBlocking.
#include "common/stream.h"

#include <atomic>
#include <filesystem>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "common/blocking_pool.h"
#include "common/tls.h"

namespace common {
namespace {

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("streamtest." + std::to_string(::getpid()) + "." +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    files_.certificate_chain = (dir_ / "cert.pem").string();
    files_.private_key = (dir_ / "key.pem").string();
    bool created = false;
    ASSERT_TRUE(EnsureSelfSignedCertificate(files_, "mail.example.test", &created).ok());
    ASSERT_TRUE(created);
    auto ctx = MakeServerTlsContext(files_);
    ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
    server_tls_ = *ctx;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  TlsFiles files_;
  std::shared_ptr<asio::ssl::context> server_tls_;
};

TEST_F(StreamTest, SelfSignedCertificateIsMadeOnceWithPrivateKey) {
  bool created = true;
  ASSERT_TRUE(EnsureSelfSignedCertificate(files_, "mail.example.test", &created).ok());
  EXPECT_FALSE(created);  // Already there: kept.
  auto perms = std::filesystem::status(files_.private_key).permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(StreamTest, PlainThenStartTlsThenTimeout) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  int port = acceptor.local_endpoint().port();
  std::string got_plain, got_tls, version;
  bool timed_out = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto sock = co_await acceptor.async_accept(asio::use_awaitable);
        Stream s(std::move(sock), server_tls_);
        EXPECT_EQ(s.remote_address(), "127.0.0.1");
        boost::system::error_code ec;
        char buf[64];
        size_t n = co_await s.ReadSome(buf, sizeof(buf), std::chrono::seconds(5), ec);
        got_plain.assign(buf, n);
        co_await s.WriteAll("GO\r\n", std::chrono::seconds(5), ec);
        co_await s.Handshake(std::chrono::seconds(5), ec);
        EXPECT_FALSE(ec) << ec.message();
        version = s.tls_version();
        n = co_await s.ReadSome(buf, sizeof(buf), std::chrono::seconds(5), ec);
        got_tls.assign(buf, n);
        co_await s.WriteAll("BYE\r\n", std::chrono::seconds(5), ec);
        // The client now sends nothing: the read ends at the deadline.
        n = co_await s.ReadSome(buf, sizeof(buf), std::chrono::milliseconds(200), ec);
        timed_out = (ec == asio::error::timed_out) && n == 0;
      },
      asio::detached);
  std::thread server([&] { io.run(); });

  asio::io_context cio;
  asio::ip::tcp::socket sock(cio);
  sock.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  asio::write(sock, asio::buffer(std::string("STARTTLS\r\n")));
  char buf[16];
  size_t n = sock.read_some(asio::buffer(buf));
  EXPECT_EQ(std::string(buf, n), "GO\r\n");
  auto client_ctx = MakeClientTlsContext(false);
  asio::ssl::stream<asio::ip::tcp::socket&> tls(sock, *client_ctx);
  tls.handshake(asio::ssl::stream_base::client);
  asio::write(tls, asio::buffer(std::string("secret\r\n")));
  n = tls.read_some(asio::buffer(buf));
  EXPECT_EQ(std::string(buf, n), "BYE\r\n");
  server.join();
  EXPECT_EQ(got_plain, "STARTTLS\r\n");
  EXPECT_EQ(got_tls, "secret\r\n");
  EXPECT_TRUE(version == "TLSv1.3" || version == "TLSv1.2") << version;
  EXPECT_TRUE(timed_out);
}

TEST_F(StreamTest, OldTlsVersionsAreRefused) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  int port = acceptor.local_endpoint().port();
  boost::system::error_code server_ec;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto sock = co_await acceptor.async_accept(asio::use_awaitable);
        Stream s(std::move(sock), server_tls_);
        co_await s.Handshake(std::chrono::seconds(5), server_ec);
      },
      asio::detached);
  std::thread server([&] { io.run(); });
  asio::io_context cio;
  asio::ssl::context old_ctx(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(old_ctx.native_handle(), TLS1_VERSION);
  SSL_CTX_set_max_proto_version(old_ctx.native_handle(), TLS1_1_VERSION);
  SSL_CTX_set_security_level(old_ctx.native_handle(), 0);
  asio::ssl::stream<asio::ip::tcp::socket> tls(cio, old_ctx);
  tls.next_layer().connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  boost::system::error_code ec;
  tls.handshake(asio::ssl::stream_base::client, ec);
  EXPECT_TRUE(ec);
  server.join();
  EXPECT_TRUE(server_ec);
}

// A TLS client on its own thread against one server-side Stream run by `serve`.
template <typename Serve>
void WithTlsClient(std::shared_ptr<asio::ssl::context> server_tls, Serve serve,
                   const std::function<void(asio::ssl::stream<asio::ip::tcp::socket>&)>& client) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto sock = co_await acceptor.async_accept(asio::use_awaitable);
        auto s = std::make_shared<Stream>(std::move(sock), server_tls);
        boost::system::error_code ec;
        co_await s->Handshake(std::chrono::seconds(5), ec);
        EXPECT_FALSE(ec) << ec.message();
        co_await serve(s);
      },
      asio::detached);
  std::thread server([&] { io.run(); });
  asio::io_context cio;
  auto client_ctx = MakeClientTlsContext(false);
  asio::ssl::stream<asio::ip::tcp::socket> tls(cio, *client_ctx);
  tls.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
  tls.handshake(asio::ssl::stream_base::client);
  client(tls);
  server.join();
}

// IMAP IDLE: the session writes updates while a read waits for DONE. A 4 MiB write (many
// records, socket buffers full) goes through whole while the read is pending, and the read
// then gets the client's line.
TEST_F(StreamTest, TlsWriteWhileReadIsPendingKeepsBothDirectionsWhole) {
  std::string payload;
  for (int i = 0; payload.size() < (4u << 20); ++i) payload += "* " + std::to_string(i) + " EXISTS\r\n";
  std::string got_line;
  boost::system::error_code read_ec, write_ec;
  WithTlsClient(
      server_tls_,
      [&](std::shared_ptr<Stream> s) -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        bool read_done = false;
        asio::co_spawn(
            ex,
            [&, s]() -> asio::awaitable<void> {
              char buf[64];
              const size_t n = co_await s->ReadSome(buf, sizeof(buf), std::chrono::seconds(20),
                                                    read_ec);
              got_line.assign(buf, n);
              read_done = true;
            },
            asio::detached);
        co_await s->WriteAll(payload, std::chrono::seconds(20), write_ec);
        asio::steady_timer t(ex);
        for (int i = 0; i < 400 && !read_done; ++i) {
          t.expires_after(std::chrono::milliseconds(50));
          co_await t.async_wait(asio::use_awaitable);
        }
      },
      [&](asio::ssl::stream<asio::ip::tcp::socket>& tls) {
        std::string got(payload.size(), '\0');
        asio::read(tls, asio::buffer(got));
        EXPECT_TRUE(got == payload) << "the written bytes differ from what arrived";
        asio::write(tls, asio::buffer(std::string("DONE\r\n")));
      });
  EXPECT_FALSE(write_ec) << write_ec.message();
  EXPECT_FALSE(read_ec) << read_ec.message();
  EXPECT_EQ(got_line, "DONE\r\n");
}

// A client that stops reading is cut off at the write deadline instead of holding the
// session forever.
TEST_F(StreamTest, TlsWriteToAClientThatStopsReadingTimesOut) {
  boost::system::error_code write_ec;
  std::atomic<bool> server_done{false};
  WithTlsClient(
      server_tls_,
      [&](std::shared_ptr<Stream> s) -> asio::awaitable<void> {
        co_await s->WriteAll(std::string(64u << 20, 'x'), std::chrono::milliseconds(300),
                             write_ec);
        server_done = true;
      },
      [&](asio::ssl::stream<asio::ip::tcp::socket>&) {
        for (int i = 0; i < 200 && !server_done; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      });
  EXPECT_EQ(write_ec, asio::error::timed_out) << write_ec.message();
}

// A client that goes away without a TLS close_notify (most do) ends the read as end of file.
TEST_F(StreamTest, TlsClientThatJustClosesEndsTheRead) {
  boost::system::error_code read_ec;
  std::atomic<bool> server_done{false};
  std::string first;
  WithTlsClient(
      server_tls_,
      [&](std::shared_ptr<Stream> s) -> asio::awaitable<void> {
        char buf[64];
        size_t n = co_await s->ReadSome(buf, sizeof(buf), std::chrono::seconds(5), read_ec);
        first.assign(buf, n);
        n = co_await s->ReadSome(buf, sizeof(buf), std::chrono::seconds(5), read_ec);
        EXPECT_EQ(n, 0u);
        server_done = true;
      },
      [&](asio::ssl::stream<asio::ip::tcp::socket>& tls) {
        asio::write(tls, asio::buffer(std::string("a1 LOGOUT\r\n")));
        // TCP FIN without a TLS close_notify. (A close() with the server's session tickets
        // still unread would make the kernel send a reset instead: a different case.)
        tls.next_layer().shutdown(asio::ip::tcp::socket::shutdown_send);
        for (int i = 0; i < 200 && !server_done; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      });
  EXPECT_TRUE(server_done);
  EXPECT_EQ(first, "a1 LOGOUT\r\n");
  EXPECT_EQ(read_ec, asio::error::eof) << read_ec.message();
}

// Stop-Service while a TLS read waits: the client gets the farewell, encrypted, and the read
// ends with shut_down.
TEST_F(StreamTest, StopDuringATlsReadSendsTheFarewell) {
  boost::system::error_code read_ec;
  WithTlsClient(
      server_tls_,
      [&](std::shared_ptr<Stream> s) -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        asio::steady_timer t(ex, std::chrono::milliseconds(200));
        t.async_wait([s](const boost::system::error_code&) { s->Stop("* BYE stopping\r\n"); });
        char buf[64];
        co_await s->ReadSome(buf, sizeof(buf), std::chrono::seconds(10), read_ec);
        s->Close();
      },
      [&](asio::ssl::stream<asio::ip::tcp::socket>& tls) {
        asio::streambuf in;
        boost::system::error_code ec;
        asio::read_until(tls, in, "\r\n", ec);
        EXPECT_FALSE(ec) << ec.message();
        std::string line(asio::buffers_begin(in.data()), asio::buffers_end(in.data()));
        EXPECT_EQ(line, "* BYE stopping\r\n");
      });
  EXPECT_EQ(read_ec, asio::error::shut_down) << read_ec.message();
}

TEST(BlockingPoolTest, ResultComesBackOnTheCoroutinesThread) {
  BlockingPool pool(2);
  asio::io_context io;
  std::thread::id io_thread, worker_thread, resumed_thread;
  std::string result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        io_thread = std::this_thread::get_id();
        std::string arg = "payload-" + std::string(100, 'x');
        // Pointers only, as RunBlocking asks: GCC 12 destroys a lambda temporary of a
        // co_await expression twice, and a captured std::string's buffer with it
        // (AddressSanitizer reported the double free when this test captured `arg` by value).
        const std::string* argp = &arg;
        result = co_await RunBlocking(&pool, [&worker_thread, argp]() {
          worker_thread = std::this_thread::get_id();
          return *argp + "!";
        });
        resumed_thread = std::this_thread::get_id();
      },
      asio::detached);
  io.run();
  EXPECT_EQ(result, "payload-" + std::string(100, 'x') + "!");
  EXPECT_NE(worker_thread, io_thread);
  EXPECT_EQ(resumed_thread, io_thread);
}

}  // namespace
}  // namespace common
