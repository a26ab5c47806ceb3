#include "cas/server/protocol_log.h"

#include <chrono>
#include <ctime>
#include <filesystem>

namespace cas {

ProtocolLog::~ProtocolLog() {
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
  // Keep one line per event: control characters in client text become spaces.
  std::string clean(text.substr(0, 2048));
  for (char& c : clean) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (day_ != day || file_ == nullptr) {
    if (file_ != nullptr) std::fclose(file_);
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    file_ = std::fopen((dir_ + "/" + prefix_ + "_" + day + ".log").c_str(), "a");
    day_ = day;
    if (file_ == nullptr) return;
  }
  std::fprintf(file_, "%s.%03dZ,%.*s,%.*s,%.*s,%c,%s\n", stamp, ms,
               static_cast<int>(session.size()), session.data(), static_cast<int>(client.size()),
               client.data(), static_cast<int>(user.size()), user.data(), direction,
               clean.c_str());
  std::fflush(file_);
}

}  // namespace cas
