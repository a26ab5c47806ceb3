// Listener with PROXY protocol over real loopback sockets: the header is read before the
// session starts, never past its end, within the header timeout, and only from trusted peers.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "common/listener.h"

namespace common {
namespace {

struct Started {
  std::string address;
  std::string first_bytes;
};

std::string V2Header(const std::string& src, uint16_t sport, bool local = false) {
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h.push_back(static_cast<char>(local ? 0x20 : 0x21));
  h.push_back(0x11);
  h.push_back(0);
  h.push_back(12);
  auto src_addr = asio::ip::make_address_v4(src).to_bytes();
  h.append(reinterpret_cast<const char*>(src_addr.data()), 4);
  h.append("\x7f\x00\x00\x01", 4);
  h.push_back(static_cast<char>(sport >> 8));
  h.push_back(static_cast<char>(sport & 0xff));
  h.append("\x00\x8f", 2);
  return h;
}

class ListenerProxyTest : public ::testing::Test {
 protected:
  // Starts a listener whose sessions read up to 5 octets and report what they saw.
  void Start(std::vector<std::string> trusted, std::chrono::milliseconds timeout) {
    auto options = MakeProxyProtocolOptions(trusted);
    ASSERT_TRUE(options.ok()) << options.status().message();
    std::shared_ptr<const ProxyProtocolOptions> opts = *options;
    if (opts != nullptr) {
      auto copy = std::make_shared<ProxyProtocolOptions>(*opts);
      copy->header_timeout = timeout;
      opts = copy;
    }
    listener_ = std::make_shared<Listener>(
        io_, "127.0.0.1:0", nullptr, [this](std::unique_ptr<Stream> stream) {
          asio::co_spawn(io_, Session(std::move(stream)), asio::detached);
        });
    listener_->SetProxyProtocol(opts);
    ASSERT_TRUE(listener_->Open().ok());
    thread_ = std::thread([this] {
      auto work = asio::make_work_guard(io_);
      io_.run();
    });
  }
  void TearDown() override {
    if (listener_) asio::post(io_, [l = listener_] { l->Close(); });
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }
  asio::awaitable<void> Session(std::unique_ptr<Stream> stream) {
    Started s;
    s.address = stream->remote_address();
    char buf[5];
    size_t got = 0;
    while (got < sizeof(buf)) {
      boost::system::error_code ec;
      size_t n =
          co_await stream->ReadSome(buf + got, sizeof(buf) - got, std::chrono::seconds(5), ec);
      if (ec) break;
      got += n;
    }
    s.first_bytes.assign(buf, got);
    std::lock_guard<std::mutex> lock(mu_);
    started_.set_value(s);
  }
  asio::ip::tcp::socket Connect() {
    asio::ip::tcp::socket sock(client_io_);
    sock.connect(
        {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(listener_->port())});
    return sock;
  }
  // Whether the server closed the connection (EOF) within `within`.
  static bool ClosedWithin(asio::ip::tcp::socket& sock, std::chrono::milliseconds within) {
    timeval tv{static_cast<time_t>(within.count() / 1000),
               static_cast<suseconds_t>((within.count() % 1000) * 1000)};
    setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char c;
    ssize_t n = ::recv(sock.native_handle(), &c, 1, 0);
    return n == 0;
  }

  asio::io_context io_;
  asio::io_context client_io_;
  std::shared_ptr<Listener> listener_;
  std::thread thread_;
  std::mutex mu_;
  std::promise<Started> started_;
};

TEST_F(ListenerProxyTest, HeaderInPiecesThenDataIsLeftForTheSession) {
  Start({"127.0.0.0/8"}, std::chrono::seconds(5));
  auto sock = Connect();
  const std::string header = V2Header("192.0.2.7", 50000);
  asio::write(sock, asio::buffer(header.substr(0, 10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // The rest of the header and the protocol's first octets in one segment.
  asio::write(sock, asio::buffer(header.substr(10) + "HELLO"));
  auto f = started_.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  Started s = f.get();
  EXPECT_EQ(s.address, "192.0.2.7");
  EXPECT_EQ(s.first_bytes, "HELLO");
}

TEST_F(ListenerProxyTest, V1Header) {
  Start({"127.0.0.1"}, std::chrono::seconds(5));
  auto sock = Connect();
  asio::write(sock, asio::buffer(std::string("PROXY TCP6 2001:db8::5 ::1 1 2\r\nHELLO")));
  auto f = started_.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  Started s = f.get();
  EXPECT_EQ(s.address, "2001:db8::5");
  EXPECT_EQ(s.first_bytes, "HELLO");
}

TEST_F(ListenerProxyTest, LocalKeepsTheConnectionAddress) {
  Start({"127.0.0.1"}, std::chrono::seconds(5));
  auto sock = Connect();
  asio::write(sock, asio::buffer(V2Header("192.0.2.7", 1, /*local=*/true) + "HELLO"));
  auto f = started_.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(f.get().address, "127.0.0.1");
}

TEST_F(ListenerProxyTest, MissingHeaderIsClosedAtTheTimeout) {
  Start({"127.0.0.1"}, std::chrono::milliseconds(300));
  auto sock = Connect();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(ClosedWithin(sock, std::chrono::seconds(3)));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(250));
  auto f = started_.get_future();
  EXPECT_EQ(f.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
}

TEST_F(ListenerProxyTest, BadHeaderIsClosedAtOnce) {
  Start({"127.0.0.1"}, std::chrono::seconds(5));
  auto sock = Connect();
  asio::write(sock, asio::buffer(std::string("EHLO client.example\r\n")));
  EXPECT_TRUE(ClosedWithin(sock, std::chrono::seconds(2)));
  auto f = started_.get_future();
  EXPECT_EQ(f.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
}

TEST_F(ListenerProxyTest, UntrustedPeersAreServedAsTheyCome) {
  Start({"10.0.0.0/8"}, std::chrono::seconds(5));
  auto sock = Connect();
  asio::write(sock, asio::buffer(std::string("PROXY TCP4 192.0.2.7 127.0.0.1 1 2\r\n")));
  auto f = started_.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  Started s = f.get();
  EXPECT_EQ(s.address, "127.0.0.1");  // The header is not honoured...
  EXPECT_EQ(s.first_bytes, "PROXY");  // ...it is the protocol's data.
}

TEST(ProxyProtocolOptionsTest, EmptyListIsOffAndBadEntriesAreNamed) {
  auto off = MakeProxyProtocolOptions({});
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(*off, nullptr);
  auto bad = MakeProxyProtocolOptions({"10.0.0.0/8", "haproxy.internal"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("haproxy.internal"), std::string::npos);
}

}  // namespace
}  // namespace common
