// Minimal structured logging: one line per event, "time level [component] message".
// Secrets never reach the log: callers pass protocol arguments through RedactSecrets().
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace common {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Where log lines go; default stderr. An empty path restores stderr.
void SetLogFile(const std::string& path);
void LogLine(LogLevel level, std::string_view component, std::string_view message);

// For protocol logs: "a1 LOGIN alice secret" -> "a1 LOGIN alice ***"; likewise PASS, AUTH
// and AUTHENTICATE payloads.
std::string RedactSecrets(std::string_view line);

class LogMessage {
 public:
  LogMessage(LogLevel level, std::string_view component) : level_(level), component_(component) {}
  ~LogMessage() { LogLine(level_, component_, stream_.str()); }
  std::ostringstream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::string_view component_;
  std::ostringstream stream_;
};

}  // namespace common

#define MAIL_LOG(level, component)                                    \
  if (::common::LogLevel::level < ::common::GetLogLevel()) {          \
  } else                                                              \
    ::common::LogMessage(::common::LogLevel::level, component).stream()
