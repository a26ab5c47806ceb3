#include "common/listener.h"

#include <algorithm>

#include "common/logging.h"

namespace common {

common::StatusOr<asio::ip::tcp::endpoint> ParseBinding(const std::string& binding) {
  size_t colon = binding.rfind(':');
  if (colon == std::string::npos || colon + 1 >= binding.size()) {
    return common::InvalidArgumentError("binding must be address:port: " + binding);
  }
  std::string host = binding.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  for (char c : binding.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535) {
      return common::InvalidArgumentError("bad port in binding " + binding);
    }
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return common::InvalidArgumentError("bad port in binding " + binding);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return common::InvalidArgumentError("bad address in binding " + binding);
  return asio::ip::tcp::endpoint(addr, static_cast<unsigned short>(port));
}

StatusOr<std::shared_ptr<const ProxyProtocolOptions>> MakeProxyProtocolOptions(
    const std::vector<std::string>& trusted_networks) {
  if (trusted_networks.empty()) return std::shared_ptr<const ProxyProtocolOptions>();
  MAIL_ASSIGN_OR_RETURN(TrustedNetworks trusted, TrustedNetworks::Parse(trusted_networks));
  auto options = std::make_shared<ProxyProtocolOptions>();
  options->trusted = std::move(trusted);
  return std::shared_ptr<const ProxyProtocolOptions>(std::move(options));
}

Listener::Listener(asio::io_context& io, std::string binding,
                   std::shared_ptr<asio::ssl::context> tls, SessionStarter start)
    : io_(io), binding_(std::move(binding)), tls_(std::move(tls)), start_(std::move(start)),
      acceptor_(io) {}

common::Status Listener::Open() {
  MAIL_ASSIGN_OR_RETURN(auto ep, ParseBinding(binding_));
  boost::system::error_code ec;
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec && ep.address().is_v6()) acceptor_.set_option(asio::ip::v6_only(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.close(ec);
    return common::UnavailableError("cannot listen on " + binding_ + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint(ec).port();
  asio::co_spawn(io_, [self = shared_from_this()] { return self->AcceptLoop(); }, asio::detached);
  return common::Status::Ok();
}

void Listener::Close() {
  boost::system::error_code ec;
  acceptor_.cancel(ec);
  acceptor_.close(ec);
}

asio::awaitable<void> Listener::AcceptLoop() {
  while (acceptor_.is_open()) {
    boost::system::error_code ec;
    asio::ip::tcp::socket sock(io_);
    co_await acceptor_.async_accept(sock, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
      // Out of descriptors and the like: wait a little instead of spinning.
      MAIL_LOG(kWarning, "listener") << binding_ << ": accept failed: " << ec.message();
      asio::steady_timer t(io_, std::chrono::milliseconds(100));
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    auto stream = std::make_unique<common::Stream>(std::move(sock), tls_);
    if (proxy_ != nullptr && proxy_->trusted.Contains(stream->remote_address())) {
      asio::co_spawn(asio::make_strand(io_),
                     ReadProxyHeaderThenStart(shared_from_this(), std::move(stream)),
                     asio::detached);
      continue;
    }
    start_(std::move(stream));
  }
}

asio::awaitable<void> Listener::ReadProxyHeaderThenStart(std::shared_ptr<Listener> self,
                                                         std::unique_ptr<Stream> stream) {
  const ProxyProtocolOptions& options = *self->proxy_;
  ProxyHeaderParser parser(options.limits);
  const auto deadline = Stream::Clock::now() + options.header_timeout;
  std::string why;
  char buf[256];
  ProxyHeaderParser::Result result = ProxyHeaderParser::Result::kNeedMore;
  while (result == ProxyHeaderParser::Result::kNeedMore) {
    const auto left = deadline - Stream::Clock::now();
    if (left <= Stream::Clock::duration::zero()) {
      why = "no PROXY protocol header in time";
      break;
    }
    // Never more than the header can still hold: what follows it (a TLS ClientHello, an
    // early command) stays in the socket for the session.
    const size_t want = std::min(parser.wanted(), sizeof(buf));
    boost::system::error_code ec;
    const size_t n = co_await stream->ReadSome(buf, want, left, ec);
    if (ec) {
      why = ec == asio::error::timed_out
                ? "no PROXY protocol header in time"
                : "closed before the PROXY protocol header: " + ec.message();
      break;
    }
    size_t consumed = 0;
    result = parser.Feed(std::string_view(buf, n), &consumed);
  }
  if (result != ProxyHeaderParser::Result::kDone) {
    if (result == ProxyHeaderParser::Result::kError) why = parser.error();
    MAIL_LOG(kWarning, "listener") << self->binding_ << ": connection from trusted proxy "
                                   << stream->remote_address() << " closed: " << why;
    stream->Close();
    co_return;
  }
  const ProxyHeader& header = parser.header();
  if (!header.use_connection_address) stream->set_remote_address(header.source_address);
  self->start_(std::move(stream));
}

}  // namespace common
