#include "common/logging.h"

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <vector>

namespace common {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::mutex g_mu;
FILE* g_file = nullptr;  // nullptr = stderr.

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarning: return "WARN";
    case LogLevel::kError: return "ERROR";
  }
  return "INFO";
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level = level; }
LogLevel GetLogLevel() { return g_level; }

void SetLogFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_file != nullptr) std::fclose(g_file);
  g_file = path.empty() ? nullptr : std::fopen(path.c_str(), "a");
}

void LogLine(LogLevel level, std::string_view component, std::string_view message) {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  std::lock_guard<std::mutex> lock(g_mu);
  FILE* out = g_file != nullptr ? g_file : stderr;
  std::fprintf(out, "%s.%03dZ %s [%.*s] %.*s\n", stamp, static_cast<int>(ms.count()),
               LevelName(level), static_cast<int>(component.size()), component.data(),
               static_cast<int>(message.size()), message.data());
  std::fflush(out);
}

std::string RedactSecrets(std::string_view line) {
  // Split into words; find the command word (skipping an IMAP tag) and keep only what may be
  // shown.
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  if (words.empty()) return std::string(line);
  auto redact_from = [&](size_t keep) {
    std::string out;
    for (size_t k = 0; k < words.size() && k < keep; ++k) {
      if (!out.empty()) out += ' ';
      out += words[k];
    }
    if (words.size() > keep) out += " ***";
    return out;
  };
  for (size_t cmd = 0; cmd < 2 && cmd < words.size(); ++cmd) {
    std::string w = Upper(words[cmd]);
    if (w == "PASS") return redact_from(cmd + 1);
    if (w == "LOGIN") return redact_from(cmd + 2);  // Keep the user name.
    if (w == "AUTH" || w == "AUTHENTICATE") return redact_from(cmd + 2);  // Keep mechanism.
  }
  return std::string(line);
}

}  // namespace common
