#include "cas/autoconfig/http_connection.h"

#include <time.h>

#include <sstream>

namespace cas::autoconfig {

namespace http = boost::beast::http;

namespace {

// RFC 9110 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string HttpDate() {
  time_t now = time(nullptr);
  struct tm tm;
  gmtime_r(&now, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

}  // namespace

HttpResponse TextResponse(http::status status, std::string_view text) {
  HttpResponse res{status, 11};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.body() = std::string(text) + "\n";
  res.prepare_payload();
  return res;
}

HttpConnection::HttpConnection(HttpLimits limits, Handler handler)
    : limits_(limits), handler_(std::move(handler)) {
  StartRequest();
}

void HttpConnection::StartRequest() {
  parser_.emplace();
  parser_->header_limit(limits_.header_limit);
  parser_->body_limit(limits_.body_limit);
  parser_->eager(true);
  continue_sent_ = false;
}

bool HttpConnection::mid_request() const {
  return !closing_ && (!buffer_.empty() || parser_->got_some());
}

void HttpConnection::Feed(std::string_view data, std::string* out) {
  if (closing_) return;
  buffer_.append(data);
  while (!closing_ && !buffer_.empty()) {
    boost::system::error_code ec;
    size_t used = parser_->put(boost::asio::buffer(buffer_.data(), buffer_.size()), ec);
    buffer_.erase(0, used);
    if (ec == http::error::need_more) {
      ec = {};
      if (!parser_->is_header_done() || parser_->is_done()) break;
    }
    if (ec == http::error::header_limit) {
      Fail(http::status::request_header_fields_too_large, "Request header fields too large", out);
      return;
    }
    if (ec == http::error::body_limit) {
      Fail(http::status::payload_too_large, "Request body too large", out);
      return;
    }
    if (ec) {
      Fail(http::status::bad_request, "Bad request", out);
      return;
    }
    if (!parser_->is_done()) {
      // RFC 9110 10.1.1: a client that waits for "100 Continue" before sending its body.
      if (parser_->is_header_done() && !continue_sent_) {
        const auto& req = parser_->get();
        auto expect = req.find(http::field::expect);
        if (expect != req.end() && boost::beast::iequals(expect->value(), "100-continue") &&
            req.version() >= 11) {
          out->append("HTTP/1.1 100 Continue\r\n\r\n");
        }
        continue_sent_ = true;
      }
      if (used == 0) break;
      continue;
    }
    HttpRequest req = parser_->release();
    bool head = req.method() == http::verb::head;
    HttpResponse res = handler_(req);
    res.version(req.version() == 10 ? 10 : 11);
    bool keep_alive = req.keep_alive() && answered_ + 1 < limits_.max_requests;
    Send(std::move(res), head, keep_alive, out);
    if (!closing_) StartRequest();
  }
}

void HttpConnection::TimedOut(std::string* out) {
  if (closing_) return;
  if (mid_request()) {
    Fail(http::status::request_timeout, "Request timeout", out);
  } else {
    closing_ = true;
  }
}

void HttpConnection::Fail(http::status status, std::string_view text, std::string* out) {
  Send(TextResponse(status, text), false, false, out);
}

void HttpConnection::Send(HttpResponse res, bool head, bool keep_alive, std::string* out) {
  res.set(http::field::date, HttpDate());
  res.keep_alive(keep_alive);
  if (head) {
    // The headers a GET would get, without the body.
    size_t length = res.body().size();
    res.body().clear();
    res.content_length(length);
  }
  std::ostringstream text;
  text << res;
  out->append(text.str());
  ++answered_;
  if (!keep_alive) {
    closing_ = true;
    buffer_.clear();
  }
}

}  // namespace cas::autoconfig
