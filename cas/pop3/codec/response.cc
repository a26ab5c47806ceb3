#include "cas/pop3/codec/response.h"

#include "common/base64.h"

namespace cas::pop3 {
namespace {

constexpr std::string_view kCrlf = "\r\n";

bool IsLineBreakOrNul(char c) { return c == '\r' || c == '\n' || c == '\0'; }

void AppendSanitized(std::string_view text, std::string* out) {
  for (char c : text) out->push_back(IsLineBreakOrNul(c) ? ' ' : c);
}

// "<status>[ <text>]\r\n", cut to kMaxStatusLine octets.
std::string StatusLine(std::string_view status, std::string_view text) {
  std::string out(status);
  if (!text.empty()) {
    out.push_back(' ');
    const size_t budget = kMaxStatusLine - kCrlf.size() - out.size();
    if (text.size() > budget) {
      size_t cut = budget;
      // Do not end inside a UTF-8 sequence: back up over continuation bytes.
      while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
      text = text.substr(0, cut);
    }
    AppendSanitized(text, &out);
  }
  out.append(kCrlf);
  return out;
}

// Position just after the line end that starts at `pos` (CRLF, LF or a bare CR).
size_t SkipLineEnd(std::string_view s, size_t pos) {
  if (s[pos] == '\r' && pos + 1 < s.size() && s[pos + 1] == '\n') return pos + 2;
  return pos + 1;
}

// Position just after the first line end at or after `pos`, or npos if there is none.
size_t NextLineStart(std::string_view s, size_t pos) {
  const size_t end = s.find_first_of("\r\n", pos);
  return end == std::string_view::npos ? end : SkipLineEnd(s, end);
}

}  // namespace

std::string_view ResponseCodeText(ResponseCode code) {
  switch (code) {
    case ResponseCode::kInUse:
      return "IN-USE";
    case ResponseCode::kLoginDelay:
      return "LOGIN-DELAY";
    case ResponseCode::kSysTemp:
      return "SYS/TEMP";
    case ResponseCode::kSysPerm:
      return "SYS/PERM";
    case ResponseCode::kAuth:
      return "AUTH";
  }
  return "SYS/TEMP";
}

std::string OkResponse(std::string_view text) { return StatusLine("+OK", text); }

std::string ErrResponse(std::string_view text) { return StatusLine("-ERR", text); }

std::string ErrResponse(ResponseCode code, std::string_view text) {
  std::string status = "-ERR [";
  status.append(ResponseCodeText(code));
  status.push_back(']');
  return StatusLine(status, text);
}

std::string SaslChallenge(std::string_view challenge) {
  std::string out = "+ ";
  out += common::Base64Encode(challenge);
  out.append(kCrlf);
  return out;
}

std::string MultiLineResponse(std::string_view text, std::span<const std::string> lines) {
  std::string out = OkResponse(text);
  for (const std::string& line : lines) {
    if (!line.empty() && line.front() == '.') out.push_back('.');
    AppendSanitized(line, &out);
    out.append(kCrlf);
  }
  out.append(kMultiLineEnd);
  return out;
}

std::string StatResponse(uint64_t count, uint64_t octets) {
  return OkResponse(std::to_string(count) + " " + std::to_string(octets));
}

std::string ScanListing(uint32_t message, uint64_t octets) {
  return std::to_string(message) + " " + std::to_string(octets);
}

std::string UniqueIdListing(uint32_t message, std::string_view unique_id) {
  std::string out = std::to_string(message);
  out.push_back(' ');
  AppendSanitized(unique_id, &out);
  return out;
}

bool IsValidUniqueId(std::string_view unique_id) {
  if (unique_id.empty() || unique_id.size() > 70) return false;
  for (char c : unique_id) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e) return false;
  }
  return true;
}

void DotStuffer::Feed(std::string_view chunk, std::string* out) {
  size_t i = 0;
  while (i < chunk.size()) {
    const char c = chunk[i];
    if (c == '\n') {
      if (!skip_lf_) out->append(kCrlf);  // A bare LF; after a CR it was already sent.
      skip_lf_ = false;
      at_line_start_ = true;
      ++i;
      continue;
    }
    skip_lf_ = false;
    if (c == '\r') {
      out->append(kCrlf);
      skip_lf_ = true;
      at_line_start_ = true;
      ++i;
      continue;
    }
    if (at_line_start_ && c == '.') out->push_back('.');
    at_line_start_ = false;
    size_t end = chunk.find_first_of("\r\n", i);
    if (end == std::string_view::npos) end = chunk.size();
    out->append(chunk.substr(i, end - i));
    i = end;
  }
}

void DotStuffer::Finish(std::string* out) {
  if (!at_line_start_) out->append(kCrlf);
  out->append(kMultiLineEnd);
  at_line_start_ = true;
  skip_lf_ = false;
}

std::string DotStuff(std::string_view message) {
  std::string out;
  out.reserve(StuffedSize(message) + kMultiLineEnd.size());
  DotStuffer stuffer;
  stuffer.Feed(message, &out);
  stuffer.Finish(&out);
  return out;
}

uint64_t CrlfNormalizedSize(std::string_view message) {
  uint64_t size = 0;
  size_t pos = 0;
  while (pos < message.size()) {
    const size_t end = message.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) return size + (message.size() - pos);
    size += (end - pos) + kCrlf.size();
    pos = SkipLineEnd(message, end);
  }
  return size;
}

uint64_t StuffedSize(std::string_view message) {
  uint64_t size = CrlfNormalizedSize(message);
  size_t pos = 0;
  while (pos < message.size()) {
    if (message[pos] == '.') ++size;
    pos = NextLineStart(message, pos);
  }
  // The stuffer ends an unterminated last line with CRLF.
  if (!message.empty() && message.back() != '\r' && message.back() != '\n') {
    size += kCrlf.size();
  }
  return size;
}

std::string_view TopOf(std::string_view message, uint32_t lines) {
  // The header ends with the first empty line.
  size_t pos = 0;
  while (pos < message.size() && message[pos] != '\r' && message[pos] != '\n') {
    pos = NextLineStart(message, pos);
  }
  if (pos >= message.size()) return message;  // No blank line: all header.
  pos = SkipLineEnd(message, pos);
  for (uint32_t i = 0; i < lines && pos < message.size(); ++i) {
    pos = NextLineStart(message, pos);
  }
  return pos >= message.size() ? message : message.substr(0, pos);
}

}  // namespace cas::pop3
