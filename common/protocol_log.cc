#include "common/protocol_log.h"

#include <chrono>
#include <ctime>
#include <filesystem>

namespace common {

ProtocolLog::ProtocolLog(std::string dir, std::string prefix)
    : dir_(std::move(dir)), prefix_(std::move(prefix)), thread_([this] { Loop(); }) {}

ProtocolLog::~ProtocolLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (file_ != nullptr) std::fclose(file_);
}

void ProtocolLog::Write(std::string_view session, std::string_view client, std::string_view user,
                        char direction, std::string_view text) {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  int ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
      1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char day[16], stamp[32];
  std::strftime(day, sizeof(day), "%Y%m%d", &tm);
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  Line line;
  line.day = day;
  line.text.reserve(64 + text.size());
  char ms_text[8];
  std::snprintf(ms_text, sizeof(ms_text), ".%03dZ", ms);
  line.text.append(stamp).append(ms_text).append(",");
  line.text.append(session).append(",").append(client).append(",").append(user).append(",");
  line.text.push_back(direction);
  line.text.push_back(',');
  // One line per event: control characters in client text become spaces.
  for (char c : text.substr(0, 2048)) {
    line.text.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  }
  line.text.push_back('\n');
  std::lock_guard<std::mutex> lock(mu_);
  if (queue_.size() >= kMaxQueuedLines) {
    ++dropped_;
    return;
  }
  queue_.push_back(std::move(line));
  cv_.notify_one();
}

void ProtocolLog::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  flushed_.wait(lock, [&] { return queue_.empty() && !writing_; });
}

void ProtocolLog::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() && stopping_) break;
    std::deque<Line> batch;
    batch.swap(queue_);
    uint64_t dropped = dropped_;
    dropped_ = 0;
    writing_ = true;
    lock.unlock();
    for (const Line& l : batch) {
      if (l.day != day_ || file_ == nullptr) {
        if (file_ != nullptr) std::fclose(file_);
        std::error_code ec;
        std::filesystem::create_directories(dir_, ec);
        file_ = std::fopen((dir_ + "/" + prefix_ + "_" + l.day + ".log").c_str(), "a");
        day_ = l.day;
      }
      if (file_ != nullptr) std::fputs(l.text.c_str(), file_);
    }
    if (file_ != nullptr) {
      if (dropped > 0) std::fprintf(file_, "# %llu lines dropped (log queue full)\n",
                                    static_cast<unsigned long long>(dropped));
      std::fflush(file_);
    }
    lock.lock();
    writing_ = false;
    flushed_.notify_all();
  }
}

}  // namespace common
