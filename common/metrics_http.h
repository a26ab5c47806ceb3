// The /metrics endpoint: plain HTTP on the node's metrics_bindings, answering
// "GET /metrics" with the registry in the Prometheus text format, on its own I/O thread so
// that a slow scrape never competes with client sessions. Every other path is 404, every
// other method 405; one request per connection.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/asio.h"
#include "common/listener.h"
#include "common/metrics.h"
#include "common/status.h"

namespace common {

class MetricsServer {
 public:
  // Opens every binding ("127.0.0.1:9105", "[::1]:9105") or fails naming the first that
  // cannot be opened.
  static StatusOr<std::unique_ptr<MetricsServer>> Start(const std::vector<std::string>& bindings,
                                                        metrics::Registry* registry);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  // The ports bound, in the order of the bindings (useful with port 0).
  std::vector<int> ports() const;

 private:
  MetricsServer() = default;
  asio::io_context io_;
  std::vector<std::shared_ptr<Listener>> listeners_;
  std::thread thread_;
};

// The HTTP response (status line, headers, body) for one request's method and target.
std::string MetricsHttpResponse(std::string_view method, std::string_view target,
                                const metrics::Registry& registry);

}  // namespace common
