// One HTTP/1.1 connection without I/O: bytes in, bytes to send out. Requests are parsed with
// Beast's incremental parser under fixed limits, answered by a handler in order (pipelined
// requests too), and the connection is kept alive for a bounded number of requests. Anything
// malformed or over a limit gets a clear 4xx and the connection closes.
#pragma once

#include <boost/beast/http.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/asio.h"  // Before Beast: Asio is included only through common/asio.h.

namespace cas::autoconfig {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

struct HttpLimits {
  // Request line and header fields together. Default: 16 KiB (more: 431).
  uint32_t header_limit = 16 * 1024;
  // Request body, with Content-Length or chunked. Default: 64 KiB (more: 413).
  uint64_t body_limit = 64 * 1024;
  // Requests answered on one connection before it closes. Default: 100.
  int max_requests = 100;
};

// A short text/plain response with `Connection: close` left to the caller.
HttpResponse TextResponse(boost::beast::http::status status, std::string_view text);

class HttpConnection {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  HttpConnection(HttpLimits limits, Handler handler);

  // Takes bytes received from the client and appends what to send to `*out`: interim
  // "100 Continue" replies and complete responses. Bytes after the connection decided to close
  // are ignored.
  void Feed(std::string_view data, std::string* out);
  // The client took too long: a request that was under way gets 408; the connection closes.
  void TimedOut(std::string* out);

  // True once nothing more will be answered: close after sending what Feed() returned.
  bool closing() const { return closing_; }
  // True while part of a request has arrived and is not answered yet.
  bool mid_request() const;
  // Requests answered so far (error replies included).
  int answered() const { return answered_; }

 private:
  void StartRequest();
  void Fail(boost::beast::http::status status, std::string_view text, std::string* out);
  void Send(HttpResponse response, bool head, bool keep_alive, std::string* out);

  HttpLimits limits_;
  Handler handler_;
  std::string buffer_;  // Received and not yet consumed by the parser.
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  bool continue_sent_ = false;
  bool closing_ = false;
  int answered_ = 0;
};

}  // namespace cas::autoconfig
