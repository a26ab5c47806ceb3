#include "transport/codec/reply.h"

#include "common/status.h"

namespace transport::smtp {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Appends `text` without CR and LF.
void AppendClean(std::string_view text, std::string* out) {
  for (char c : text) {
    if (c != '\r' && c != '\n') out->push_back(c);
  }
}

// Number of digits at the start of `s`, at most `max` + 1 (so callers can reject too many).
size_t Digits(std::string_view s, size_t max) {
  size_t n = 0;
  while (n < s.size() && n <= max && IsDigit(s[n])) ++n;
  return n;
}

void AppendLine(int code, char separator, std::string_view enhanced, std::string_view text,
                std::string* out) {
  out->append(std::to_string(code));
  std::string rest;
  AppendClean(enhanced, &rest);
  std::string clean_text;
  AppendClean(text, &clean_text);
  if (!rest.empty() && !clean_text.empty()) rest.push_back(' ');
  rest.append(clean_text);
  // "250\r\n" is a complete last line; a continuation line always has its dash.
  if (!rest.empty() || separator == '-') out->push_back(separator);
  out->append(rest);
  out->append("\r\n");
}

}  // namespace

std::string Reply::enhanced() const {
  if (lines.empty()) return "";
  std::string_view s = lines.front();
  if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') return "";
  size_t pos = 2;
  size_t subject = Digits(s.substr(pos), 3);
  if (subject == 0 || subject > 3) return "";
  pos += subject;
  if (pos >= s.size() || s[pos] != '.') return "";
  ++pos;
  size_t detail = Digits(s.substr(pos), 3);
  if (detail == 0 || detail > 3) return "";
  pos += detail;
  if (pos < s.size() && s[pos] != ' ') return "";
  return std::string(s.substr(0, pos));
}

std::string Reply::Text() const {
  std::string out;
  for (const std::string& line : lines) {
    if (!out.empty()) out.append("; ");
    out.append(line);
  }
  return out;
}

std::string FormatReply(int code, std::string_view enhanced, std::string_view text) {
  MAIL_CHECK(code >= 100 && code <= 599);
  std::string out;
  AppendLine(code, ' ', enhanced, text, &out);
  return out;
}

std::string FormatMultiline(int code, std::string_view enhanced,
                            const std::vector<std::string>& lines) {
  MAIL_CHECK(code >= 100 && code <= 599);
  if (lines.empty()) return FormatReply(code, enhanced, "");
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    AppendLine(code, i + 1 < lines.size() ? '-' : ' ', enhanced, lines[i], &out);
  }
  return out;
}

void ReplyParser::Feed(std::string_view bytes) {
  while (!failed_ && !bytes.empty()) {
    size_t lf = bytes.find('\n');
    std::string_view piece = bytes.substr(0, lf);
    // The line with its LF must fit in max_line; without the LF yet, it must leave room.
    if (partial_.size() + piece.size() + 1 > limits_.max_line) {
      Fail("reply line longer than " + std::to_string(limits_.max_line) + " octets");
      partial_.clear();
      return;
    }
    partial_.append(piece);
    if (lf == std::string_view::npos) return;
    bytes.remove_prefix(lf + 1);
    std::string line;
    line.swap(partial_);
    ParseLine(line);
  }
}

std::optional<Reply> ReplyParser::Next() {
  if (ready_.empty()) return std::nullopt;
  Reply r = std::move(ready_.front());
  ready_.pop_front();
  return r;
}

void ReplyParser::ParseLine(std::string_view raw) {
  std::string line;
  line.reserve(raw.size());
  AppendClean(raw, &line);
  if (line.size() < 3) {
    Fail("reply line too short");
    return;
  }
  if (!IsDigit(line[0]) || !IsDigit(line[1]) || !IsDigit(line[2])) {
    Fail("reply code is not three digits");
    return;
  }
  int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (code < 100 || code > 599) {
    Fail("reply code " + line.substr(0, 3) + " out of range");
    return;
  }
  bool last = true;
  if (line.size() > 3) {
    if (line[3] == '-') {
      last = false;
    } else if (line[3] != ' ') {
      Fail("no space or dash after the reply code");
      return;
    }
  }
  if (!current_.lines.empty() && code != current_.code) {
    Fail("reply code changed from " + std::to_string(current_.code) + " to " +
         std::to_string(code) + " within a multiline reply");
    return;
  }
  if (current_.lines.size() >= limits_.max_lines) {
    Fail("reply longer than " + std::to_string(limits_.max_lines) + " lines");
    return;
  }
  current_.code = code;
  current_.lines.push_back(line.size() > 4 ? line.substr(4) : std::string());
  if (last) {
    ready_.push_back(std::move(current_));
    current_ = Reply();
  }
}

void ReplyParser::Fail(std::string error) {
  failed_ = true;
  error_ = std::move(error);
  current_ = Reply();
}

}  // namespace transport::smtp
