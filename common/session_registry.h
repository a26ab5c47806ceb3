// The live sessions of one service on this node, so that Stop-Service can end them politely:
// each gets Stream::Stop(farewell) on its own executor and sends the farewell ("* BYE ...",
// "-ERR [SYS/TEMP] ...", "421 ...") at its next read.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "common/asio.h"
#include "common/stream.h"

namespace common {

class SessionRegistry {
 public:
  // Called when a session starts; the returned id goes to Remove() when it ends. `stream`
  // must stay valid until Remove(), and Remove() must run on `executor` (co_spawn's
  // completion handler does).
  uint64_t Add(Stream* stream, asio::any_io_executor executor) {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t id = ++next_id_;
    sessions_.emplace(id, Entry{stream, std::move(executor)});
    return id;
  }
  void Remove(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(id);
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sessions_.size();
  }
  // Ends every session: each sends `farewell` (a complete protocol line with CRLF) and closes.
  void StopAll(const std::string& farewell) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, entry] : sessions_) {
      Stream* stream = entry.stream;
      uint64_t session = id;
      asio::post(entry.executor, [this, session, stream, farewell] {
        {
          std::lock_guard<std::mutex> inner(mu_);
          if (sessions_.count(session) == 0) return;  // Ended meanwhile.
        }
        stream->Stop(farewell);
      });
    }
  }

 private:
  struct Entry {
    Stream* stream;
    asio::any_io_executor executor;
  };
  mutable std::mutex mu_;
  uint64_t next_id_ = 0;
  std::map<uint64_t, Entry> sessions_;
};

}  // namespace common
