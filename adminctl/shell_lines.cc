#include "adminctl/shell_lines.h"

#include "adminctl/parser/strings.h"

namespace adminctl {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

std::string ShellPrompt(std::string_view endpoint) {
  if (endpoint.empty() || endpoint.starts_with("unix:") || endpoint.starts_with("unix-abstract:")) {
    return "[PS] casmail> ";
  }
  std::string_view target = endpoint;
  for (std::string_view scheme : {"dns:", "ipv4:", "ipv6:"}) {
    if (target.starts_with(scheme)) {
      target.remove_prefix(scheme.size());
      break;
    }
  }
  // dns://authority/host:port names a DNS server first; the target follows the last '/'.
  const size_t slash = target.rfind('/');
  if (slash != std::string_view::npos) target.remove_prefix(slash + 1);
  // Several comma-separated addresses (ipv4:a:1,b:2): the first one.
  target = target.substr(0, target.find(','));
  std::string_view host = target;
  if (target.starts_with('[')) {
    const size_t close = target.find(']');
    host = close == std::string_view::npos ? target : target.substr(0, close + 1);
  } else if (target.find(':') == target.rfind(':') && target.find(':') != std::string_view::npos) {
    host = target.substr(0, target.find(':'));
  }
  if (host.empty()) return "[PS] casmail> ";
  return "[PS] casmail@" + std::string(host) + "> ";
}

bool IsExitCommand(std::string_view line) {
  std::string_view s = Trim(line);
  if (s.ends_with(';')) s = Trim(s.substr(0, s.size() - 1));
  return parser::EqualsIgnoreCase(s, "exit") || parser::EqualsIgnoreCase(s, "quit");
}

bool KeepInHistory(std::string_view line) {
  if (Trim(line).empty()) return false;
  const std::string lower = parser::AsciiLower(line);
  if (lower.find("securestring") != std::string::npos) return false;
  // -Password and its abbreviations down to -Pa, which the binder accepts when unique. The
  // dash may be a typographic one (U+2013..U+2015), as the lexer accepts those too.
  constexpr std::string_view kPassword = "password";
  for (size_t i = 0; i < lower.size(); ++i) {
    size_t name_start = 0;
    if (lower[i] == '-') {
      name_start = i + 1;
    } else if (static_cast<unsigned char>(lower[i]) == 0xE2 && i + 2 < lower.size() &&
               static_cast<unsigned char>(lower[i + 1]) == 0x80 &&
               static_cast<unsigned char>(lower[i + 2]) >= 0x93 &&
               static_cast<unsigned char>(lower[i + 2]) <= 0x95) {
      name_start = i + 3;
    } else {
      continue;
    }
    size_t end = name_start;
    while (end < lower.size() && IsLetter(lower[end])) ++end;
    const std::string_view name = std::string_view(lower).substr(name_start, end - name_start);
    if (name.size() >= 2 && kPassword.starts_with(name)) return false;
  }
  return true;
}

std::string HistoryFilePath(const std::function<const char*(const char*)>& getenv) {
  const char* home = getenv("HOME");
  if (home == nullptr || *home == '\0') return "";
  std::string path(home);
  if (!path.ends_with('/')) path += '/';
  return path + kHistoryFileName;
}

}  // namespace adminctl
