// Protocol log (ProtocolLogEnabled): one line per command and per response summary, with the
// session id, client address and user. Callers pass lines already redacted (LOGIN, PASS and
// AUTH arguments and SASL data never reach this file). Writing happens on the log's own
// thread: sessions only queue lines, so a slow disk never stalls a network thread.
#pragma once

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace common {

class ProtocolLog {
 public:
  // Lines go to <dir>/<prefix>_YYYYMMDD.log (UTC day).
  ProtocolLog(std::string dir, std::string prefix);
  ~ProtocolLog();
  ProtocolLog(const ProtocolLog&) = delete;
  ProtocolLog& operator=(const ProtocolLog&) = delete;

  // direction: '<' from the client, '>' to the client, '*' an event (connect, login, close).
  void Write(std::string_view session, std::string_view client, std::string_view user,
             char direction, std::string_view text);
  // Blocks until every queued line is written (tests, shutdown).
  void Flush();

 private:
  static constexpr size_t kMaxQueuedLines = 100000;  // Beyond that lines are dropped, counted.
  struct Line {
    std::string day;
    std::string text;
  };
  void Loop();

  std::string dir_;
  std::string prefix_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable flushed_;
  std::deque<Line> queue_;
  bool stopping_ = false;
  bool writing_ = false;
  uint64_t dropped_ = 0;
  std::string day_;
  FILE* file_ = nullptr;
  std::thread thread_;
};

}  // namespace common
