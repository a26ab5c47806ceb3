#include "mailboxstore/core/folder_names.h"

#include <vector>

namespace mailboxstore {
namespace {

bool EqualsIgnoreCaseAscii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
    if (x != y) return false;
  }
  return true;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

std::string NormalizeFolderName(std::string_view name) {
  size_t slash = name.find(kFolderDelimiter);
  std::string_view first = name.substr(0, slash);
  if (EqualsIgnoreCaseAscii(first, "INBOX")) {
    std::string out = "INBOX";
    if (slash != std::string_view::npos) out.append(name.substr(slash));
    return out;
  }
  return std::string(name);
}

common::Status ValidateFolderName(std::string_view name) {
  if (name.empty()) return common::InvalidArgumentError("folder name is empty");
  if (name.size() > kMaxFolderNameBytes) {
    return common::InvalidArgumentError("folder name is too long");
  }
  if (!IsValidUtf8(name)) return common::InvalidArgumentError("folder name is not valid UTF-8");
  int depth = 0;
  size_t start = 0;
  while (true) {
    size_t end = name.find(kFolderDelimiter, start);
    std::string_view comp =
        name.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (comp.empty()) {
      return common::InvalidArgumentError("folder name has an empty level");
    }
    if (comp.size() > kMaxFolderComponentBytes) {
      return common::InvalidArgumentError("folder name level is too long");
    }
    for (unsigned char c : comp) {
      if (c < 0x20 || c == 0x7f) {
        return common::InvalidArgumentError("folder name has a control character");
      }
    }
    if (++depth > kMaxFolderDepth) return common::InvalidArgumentError("folder is nested too deep");
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return common::Status::Ok();
}

bool MatchFolderPattern(std::string_view pattern, std::string_view name) {
  // Iterative wildcard match with backtracking to the last star; "%" backtracking is bounded
  // by the delimiter. Patterns with several wildcards stay O(n*m) at worst.
  size_t n = name.size(), m = pattern.size();
  // Dynamic programming over (pattern position, name position): small inputs (<=1 KiB).
  std::vector<char> prev(n + 1, 0), cur(n + 1, 0);
  prev[0] = 1;
  for (size_t j = 1; j <= n; ++j) prev[j] = 0;
  for (size_t i = 1; i <= m; ++i) {
    char p = pattern[i - 1];
    cur.assign(n + 1, 0);
    if (p == '*') {
      cur[0] = prev[0];
      for (size_t j = 1; j <= n; ++j) cur[j] = prev[j] || cur[j - 1];
    } else if (p == '%') {
      cur[0] = prev[0];
      for (size_t j = 1; j <= n; ++j) {
        cur[j] = prev[j] || (cur[j - 1] && name[j - 1] != kFolderDelimiter);
      }
    } else {
      for (size_t j = 1; j <= n; ++j) cur[j] = prev[j - 1] && name[j - 1] == p;
    }
    prev.swap(cur);
  }
  return prev[n] != 0;
}

std::string CombineListPattern(std::string_view reference, std::string_view pattern) {
  // RFC 3501 leaves the combination to the server; like Dovecot, a pattern starting with the
  // delimiter ignores the reference, otherwise the two are concatenated.
  if (!pattern.empty() && pattern.front() == kFolderDelimiter) {
    return std::string(pattern.substr(1));
  }
  std::string out(reference);
  out.append(pattern);
  return out;
}

bool IsDescendant(std::string_view name, std::string_view parent) {
  return name.size() > parent.size() + 1 && name.substr(0, parent.size()) == parent &&
         name[parent.size()] == kFolderDelimiter;
}

}  // namespace mailboxstore
