// casd's autoconfiguration listeners: one HTTP/1.1 session per connection (TLS first on the
// TLS bindings), bounded in size, time and number of requests, answering from the live state.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "cas/autoconfig/autoconfig_http.h"
#include "cas/autoconfig/http_connection.h"
#include "common/asio.h"
#include "common/connection_limits.h"
#include "common/stream.h"

namespace cas::autoconfig {

struct AutoconfigOptions {
  HttpLimits http;
  // To receive a whole request, and to wait for the next one on a kept-alive connection.
  // Default: 30 s (then 408 if a request was under way).
  std::chrono::seconds request_timeout{30};
  // Connections at once, in all and from one address (more are closed at once).
  // Default: 1000 and 20.
  uint32_t max_connections = 1000;
  uint32_t max_connections_per_address = 20;
};

struct AutoconfigServices {
  SnapshotFn snapshot;  // Called on an I/O thread: must not block (snapshots and locks only).
  std::shared_ptr<common::ConnectionLimits> limits;
  AutoconfigOptions options;
};

// Serves one connection to its end.
asio::awaitable<void> ServeAutoconfig(std::unique_ptr<common::Stream> stream, bool implicit_tls,
                                      const AutoconfigServices* services);

}  // namespace cas::autoconfig
