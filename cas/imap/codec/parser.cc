#include "cas/imap/codec/parser.h"

#include <algorithm>
#include <utility>

#include "cas/imap/codec/grammar.h"
#include "cas/imap/codec/response.h"
#include "common/base64.h"
#include "common/status.h"

namespace cas::imap {
namespace {

// Enough trailing bytes of a skipped line to recognise "~{<20 digits>+}".
constexpr size_t kSkipTailBytes = 32;
// Consumed input is dropped from the front of the buffer once it is at least this large.
constexpr size_t kCompactBytes = 4096;
// Buffers keep at most this much capacity between commands, so that an idle connection holds
// no large buffer after one big command or read.
constexpr size_t kKeepLineCapacity = 1024;
constexpr size_t kKeepInputCapacity = 16 * 1024;

void ReleaseIfLarge(std::string* s, size_t keep) {
  if (s->capacity() > keep) std::string().swap(*s);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
    if (x != y) return false;
  }
  return true;
}

ParseError MakeError(std::optional<std::string> tag, ParseErrorKind kind, std::string text,
                     ErrorRecovery recovery) {
  ParseError e;
  e.tag = std::move(tag);
  e.kind = kind;
  e.text = std::move(text);
  e.recovery = recovery;
  return e;
}

}  // namespace

std::string ParseError::Reply() const { return Tagged(tag ? *tag : "*", status, code, text); }

CommandParser::CommandParser(ParserLimits limits, ParserOptions options)
    : limits_(limits), options_(options) {}

ParseResult CommandParser::Feed(std::string_view bytes) {
  if (state_ != State::kClosed) input_.append(bytes);
  return Next();
}

void CommandParser::ExpectIdleDone() {
  MAIL_CHECK(state_ == State::kClosed || (state_ == State::kLine && frame_.line.empty()));
  mode_ = LineMode::kIdleDone;
}

void CommandParser::ExpectSaslResponse() {
  MAIL_CHECK(state_ == State::kClosed || (state_ == State::kLine && frame_.line.empty()));
  mode_ = LineMode::kSasl;
}

size_t CommandParser::pending_command_bytes() const {
  size_t n = frame_.line.size();
  for (const internal::FrameLiteral& l : frame_.literals) n += l.data.size();
  return n;
}

size_t CommandParser::allocated_bytes() const {
  size_t n = input_.capacity() + frame_.line.capacity() + skip_tail_.capacity() +
             frame_.literals.capacity() * sizeof(internal::FrameLiteral);
  for (const internal::FrameLiteral& l : frame_.literals) n += l.data.capacity();
  return n;
}

std::string CommandParser::TakeBufferedInput() {
  std::string rest = input_.substr(input_pos_);
  ClearInput();
  return rest;
}

void CommandParser::ClearInput() {
  input_.clear();
  input_pos_ = 0;
  ReleaseIfLarge(&input_, kKeepInputCapacity);
}

void CommandParser::Compact() {
  if (input_pos_ >= input_.size()) {
    ClearInput();
  } else if (input_pos_ >= kCompactBytes && input_pos_ * 2 >= input_.size()) {
    input_.erase(0, input_pos_);
    input_pos_ = 0;
  }
}

void CommandParser::ResetCommand() {
  frame_.line.clear();
  ReleaseIfLarge(&frame_.line, kKeepLineCapacity);
  frame_.literals.clear();
  if (frame_.literals.capacity() > 4) frame_.literals.shrink_to_fit();
  segment_start_ = 0;
  line_bytes_ = 0;
  literal_bytes_ = 0;
  literal_remaining_ = 0;
  in_quote_ = false;
  quote_escape_ = false;
}

void CommandParser::TrackQuote(char c) {
  if (in_quote_) {
    if (quote_escape_) {
      quote_escape_ = false;
    } else if (c == '\\') {
      quote_escape_ = true;
    } else if (c == '"') {
      in_quote_ = false;
    }
  } else if (c == '"') {
    in_quote_ = true;
  }
}

ParseResult CommandParser::Next() {
  while (true) {
    if (state_ == State::kClosed || input_pos_ >= input_.size()) {
      ClearInput();
      return NeedMoreInput{};
    }
    std::optional<ParseResult> result;
    const size_t available = input_.size() - input_pos_;
    switch (state_) {
      case State::kLine:
        result = ScanLine();
        break;
      case State::kLiteral: {
        const auto n = static_cast<size_t>(std::min<uint64_t>(literal_remaining_, available));
        frame_.literals.back().data.append(input_, input_pos_, n);
        input_pos_ += n;
        literal_remaining_ -= n;
        if (literal_remaining_ == 0) {
          state_ = State::kLine;
          segment_start_ = frame_.line.size();
        }
        break;
      }
      case State::kSkipLiteral: {
        const auto n = static_cast<size_t>(std::min<uint64_t>(skip_remaining_, available));
        input_pos_ += n;
        skip_remaining_ -= n;
        if (skip_remaining_ == 0) state_ = State::kSkipLine;
        break;
      }
      case State::kSkipLine:
        result = SkipLine();
        break;
      case State::kClosed:
        break;
    }
    if (result.has_value()) {
      Compact();
      return std::move(*result);
    }
  }
}

std::optional<ParseResult> CommandParser::ScanLine() {
  const size_t limit =
      mode_ == LineMode::kSasl ? limits_.max_sasl_line_bytes : limits_.max_line_bytes;
  while (input_pos_ < input_.size()) {
    const char c = input_[input_pos_++];
    if (c == '\n') {
      std::optional<ParseResult> result = OnLineEnd();
      if (result.has_value() || state_ != State::kLine) return result;
      continue;
    }
    if (line_bytes_ >= limit) {
      // Reject now rather than buffer the rest; keep the quote state and the end of the line
      // so that the skipper still sees a literal announced at its end.
      std::optional<std::string> tag;
      if (mode_ == LineMode::kCommand) tag = TagOfCurrentCommand();
      const bool command = mode_ == LineMode::kCommand;
      TrackQuote(c);
      const std::string_view segment = std::string_view(frame_.line).substr(segment_start_);
      std::string tail(segment.substr(segment.size() - std::min(segment.size(), kSkipTailBytes)));
      tail.push_back(c);
      StartSkipping(std::move(tail), command);
      return MakeError(std::move(tag), ParseErrorKind::kLineTooLong, "Command line too long",
                       ErrorRecovery::kSkipLine);
    }
    ++line_bytes_;
    frame_.line.push_back(c);
    if (mode_ == LineMode::kCommand) TrackQuote(c);
  }
  return std::nullopt;
}

void CommandParser::StartSkipping(std::string tail, bool detect_literals) {
  const bool in_quote = in_quote_;
  const bool quote_escape = quote_escape_;
  ResetCommand();
  in_quote_ = in_quote;
  quote_escape_ = quote_escape;
  skip_tail_ = std::move(tail);
  skip_detect_literals_ = detect_literals;
  mode_ = LineMode::kCommand;
  state_ = State::kSkipLine;
}

std::optional<ParseResult> CommandParser::SkipLine() {
  while (input_pos_ < input_.size()) {
    const char c = input_[input_pos_++];
    if (c != '\n') {
      TrackQuote(c);
      skip_tail_.push_back(c);
      if (skip_tail_.size() >= 2 * kSkipTailBytes) {
        skip_tail_.erase(0, skip_tail_.size() - kSkipTailBytes);
      }
      continue;
    }
    if (!skip_tail_.empty() && skip_tail_.back() == '\r') skip_tail_.pop_back();
    LiteralHeader header;
    const bool literal = skip_detect_literals_ && !in_quote_ &&
                         FindLiteralHeader(skip_tail_, /*truncated=*/true, &header) && !header.sync;
    in_quote_ = false;
    quote_escape_ = false;
    skip_tail_.clear();
    if (!literal) {
      // A synchronizing literal is never sent: the client saw our BAD before "+".
      ResetCommand();
      state_ = State::kLine;
      return std::nullopt;
    }
    if (header.size > limits_.max_discard_literal_bytes) {
      state_ = State::kClosed;
      ParseError e = MakeError(std::nullopt, ParseErrorKind::kLiteralTooLarge, "Literal too large",
                               ErrorRecovery::kCloseConnection);
      e.code = "TOOBIG";
      return e;
    }
    skip_remaining_ = header.size;
    state_ = header.size > 0 ? State::kSkipLiteral : State::kSkipLine;
    return std::nullopt;
  }
  return std::nullopt;
}

bool CommandParser::FindLiteralHeader(std::string_view line, bool truncated,
                                      LiteralHeader* header) const {
  if (line.empty() || line.back() != '}') return false;
  size_t end = line.size() - 1;  // The "}".
  header->sync = true;
  if (end > 0 && line[end - 1] == '+') {
    header->sync = false;
    --end;
  }
  size_t begin = end;
  while (begin > 0 && line[begin - 1] >= '0' && line[begin - 1] <= '9') --begin;
  if (begin == end) return false;
  if (begin == 0) {
    // Digits reach the start of a truncated skip tail: an absurdly long count.
    if (!truncated || line.size() < kSkipTailBytes) return false;
    header->size = UINT64_MAX;
    header->binary = false;
    return true;
  }
  if (line[begin - 1] != '{') return false;
  header->binary = begin >= 2 && line[begin - 2] == '~';
  uint64_t size = 0;
  for (size_t i = begin; i < end; ++i) {
    const auto d = static_cast<uint64_t>(line[i] - '0');
    if (size > (UINT64_MAX - d) / 10) {
      size = UINT64_MAX;
      break;
    }
    size = size * 10 + d;
  }
  header->size = size;
  return true;
}

std::optional<std::string> CommandParser::TagOfCurrentCommand() const {
  const std::string_view line = frame_.line;
  size_t i = 0;
  while (i < line.size() && internal::IsTagChar(line[i])) ++i;
  if (i == 0 || i >= line.size() || line[i] != ' ') return std::nullopt;
  return std::string(line.substr(0, i));
}

std::optional<ParseResult> CommandParser::OnLineEnd() {
  if (frame_.line.size() > segment_start_ && frame_.line.back() == '\r') frame_.line.pop_back();

  if (mode_ == LineMode::kIdleDone) {
    const bool done = EqualsIgnoreCase(frame_.line, "DONE");
    ResetCommand();
    mode_ = LineMode::kCommand;
    if (done) return IdleDone{};
    return MakeError(std::nullopt, ParseErrorKind::kExpectedDone, "Expected DONE",
                     ErrorRecovery::kNone);
  }
  if (mode_ == LineMode::kSasl) {
    const std::string line = std::move(frame_.line);
    ResetCommand();
    mode_ = LineMode::kCommand;
    SaslResponse response;
    if (line == "*") {
      response.cancelled = true;
      return response;
    }
    std::optional<std::string> decoded = common::Base64Decode(line);
    if (!decoded.has_value()) {
      return MakeError(std::nullopt, ParseErrorKind::kInvalidBase64, "Invalid base64 data",
                       ErrorRecovery::kNone);
    }
    response.data = std::move(*decoded);
    return response;
  }

  if (frame_.line.empty() && frame_.literals.empty()) {
    ResetCommand();  // Empty lines between commands are ignored.
    return std::nullopt;
  }
  LiteralHeader header;
  if (!in_quote_ && FindLiteralHeader(std::string_view(frame_.line).substr(segment_start_),
                                      /*truncated=*/false, &header)) {
    return OnLiteralHeader(header);
  }
  std::variant<Command, ParseError> parsed = internal::ParseFrame(frame_, limits_, options_);
  ResetCommand();
  if (Command* command = std::get_if<Command>(&parsed)) return ParseResult(std::move(*command));
  return ParseResult(std::move(std::get<ParseError>(parsed)));
}

std::optional<ParseError> CommandParser::CheckCommandPrefix(bool* is_append) const {
  const std::string_view line = frame_.line;
  std::optional<std::string> tag = TagOfCurrentCommand();
  if (!tag.has_value()) {
    return MakeError(std::nullopt, ParseErrorKind::kSyntax, "Invalid tag", ErrorRecovery::kNone);
  }
  size_t pos = tag->size() + 1;
  auto word = [&]() {
    const size_t start = pos;
    while (pos < line.size() && internal::IsAtomChar(line[pos])) ++pos;
    return line.substr(start, pos - start);
  };
  std::string_view name = word();
  bool uid = false;
  if (EqualsIgnoreCase(name, "UID") && pos < line.size() && line[pos] == ' ') {
    uid = true;
    ++pos;
    name = word();
  }
  bool takes_arguments = false;
  if (!internal::LookupCommand(name, uid, &takes_arguments)) {
    return MakeError(tag, ParseErrorKind::kUnknownCommand, "Unknown command", ErrorRecovery::kNone);
  }
  if (!takes_arguments || pos >= line.size() || line[pos] != ' ') {
    return MakeError(tag, ParseErrorKind::kSyntax, "Invalid arguments", ErrorRecovery::kNone);
  }
  *is_append = EqualsIgnoreCase(name, "APPEND");
  return std::nullopt;
}

std::optional<ParseResult> CommandParser::OnLiteralHeader(const LiteralHeader& header) {
  bool is_append = false;
  std::optional<ParseError> error = CheckCommandPrefix(&is_append);
  if (!error.has_value()) {
    const uint64_t max = is_append ? limits_.max_append_literal_bytes : limits_.max_literal_bytes;
    if (!header.sync && !options_.literal_plus && header.size > kLiteralMinusMax) {
      error = MakeError(TagOfCurrentCommand(), ParseErrorKind::kNonSyncLiteralTooLarge,
                        "Non-synchronizing literal too large", ErrorRecovery::kNone);
      error->code = "TOOBIG";
    } else if (header.size > max ||
               header.size > limits_.max_command_literal_bytes - literal_bytes_) {
      error =
          MakeError(TagOfCurrentCommand(), ParseErrorKind::kLiteralTooLarge,
                    is_append ? "Message too large" : "Literal too large", ErrorRecovery::kNone);
      error->code = "TOOBIG";
      // RFC 7889: an APPEND over the APPENDLIMIT is refused with NO [TOOBIG].
      if (is_append && header.sync) error->status = "NO";
    }
  }
  if (error.has_value()) {
    ResetCommand();
    if (header.sync) {
      // No "+" goes out, so the client does not send the literal: the next line is a new
      // command.
      error->recovery = ErrorRecovery::kNone;
    } else if (header.size <= limits_.max_discard_literal_bytes) {
      error->recovery = ErrorRecovery::kDiscardLiteral;
      skip_remaining_ = header.size;
      skip_tail_.clear();
      skip_detect_literals_ = true;
      state_ = header.size > 0 ? State::kSkipLiteral : State::kSkipLine;
    } else {
      error->recovery = ErrorRecovery::kCloseConnection;
      state_ = State::kClosed;
    }
    return ParseResult(std::move(*error));
  }

  internal::FrameLiteral literal;
  literal.offset = frame_.line.size();
  literal.binary = header.binary;
  frame_.literals.push_back(std::move(literal));
  literal_bytes_ += header.size;
  literal_remaining_ = header.size;
  if (header.size > 0) {
    state_ = State::kLiteral;
  } else {
    segment_start_ = frame_.line.size();
  }
  if (header.sync) return ContinuationNeeded{TagOfCurrentCommand(), header.size};
  return std::nullopt;
}

}  // namespace cas::imap
