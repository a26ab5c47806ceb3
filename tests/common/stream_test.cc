// Stream: plain reads and writes, STARTTLS-style upgrade, read deadlines; RunBlocking.
#include "common/stream.h"

#include <filesystem>
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
        result = co_await RunBlocking(&pool, [&worker_thread, arg]() {
          worker_thread = std::this_thread::get_id();
          return arg + "!";
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
