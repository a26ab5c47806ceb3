#include "cas/pop3/codec/parser.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "common/base64.h"

namespace cas::pop3 {
namespace {

struct VerbEntry {
  std::string_view name;
  Verb verb;
};

constexpr std::array<VerbEntry, 15> kVerbs = {{
    {"USER", Verb::kUser},
    {"PASS", Verb::kPass},
    {"APOP", Verb::kApop},
    {"STAT", Verb::kStat},
    {"LIST", Verb::kList},
    {"RETR", Verb::kRetr},
    {"DELE", Verb::kDele},
    {"NOOP", Verb::kNoop},
    {"RSET", Verb::kRset},
    {"QUIT", Verb::kQuit},
    {"TOP", Verb::kTop},
    {"UIDL", Verb::kUidl},
    {"CAPA", Verb::kCapa},
    {"STLS", Verb::kStls},
    {"AUTH", Verb::kAuth},
}};

// RFC 4422 section 3.1: sasl-mech = 1*20mech-char.
constexpr size_t kMaxMechanismLength = 20;
// RFC 1939 APOP: the MD5 digest as 32 hex digits.
constexpr size_t kApopDigestLength = 32;
// The most arguments any command takes; one more is collected to report "too many".
constexpr size_t kMaxArguments = 2;

char AsciiUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsControl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

bool HasControl(std::string_view s) { return std::any_of(s.begin(), s.end(), IsControl); }

std::optional<Verb> LookupVerb(std::string_view keyword) {
  for (const VerbEntry& entry : kVerbs) {
    if (entry.name.size() != keyword.size()) continue;
    bool same = true;
    for (size_t i = 0; i < keyword.size() && same; ++i) {
      same = AsciiUpper(keyword[i]) == entry.name[i];
    }
    if (same) return entry.verb;
  }
  return std::nullopt;
}

// Plain decimal digits only (no sign, no '+', no spaces), value in [min, kMaxMessageNumber].
// Leading zeros are accepted, as Dovecot does.
std::optional<uint32_t> ParseNumber(std::string_view s, uint32_t min) {
  if (s.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
    if (value > kMaxMessageNumber) return std::nullopt;
  }
  if (value < min) return std::nullopt;
  return static_cast<uint32_t>(value);
}

std::optional<std::string> ParseMechanism(std::string_view s) {
  if (s.empty() || s.size() > kMaxMechanismLength) return std::nullopt;
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const char u = AsciiUpper(c);
    const bool ok = (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-' || u == '_';
    if (!ok) return std::nullopt;
    out.push_back(u);
  }
  return out;
}

std::optional<std::string> ParseDigest(std::string_view s) {
  if (s.size() != kApopDigestLength) return std::nullopt;
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const char l = AsciiLower(c);
    if (!((l >= '0' && l <= '9') || (l >= 'a' && l <= 'f'))) return std::nullopt;
    out.push_back(l);
  }
  return out;
}

// Splits on runs of spaces (tolerated, as Dovecot does); leading and trailing spaces make no
// empty arguments. Collects at most kMaxArguments + 1 arguments.
struct Arguments {
  std::array<std::string_view, kMaxArguments + 1> items;
  size_t count = 0;
};

Arguments SplitArguments(std::string_view rest) {
  Arguments args;
  size_t i = 0;
  while (i < rest.size() && args.count < args.items.size()) {
    while (i < rest.size() && rest[i] == ' ') ++i;
    if (i == rest.size()) break;
    size_t end = rest.find(' ', i);
    if (end == std::string_view::npos) end = rest.size();
    args.items[args.count++] = rest.substr(i, end - i);
    i = end;
  }
  return args;
}

ParseEvent Error(ParseErrorCode code, std::optional<Verb> verb) { return ParseError{code, verb}; }

// Checks the argument count against [min, max]; nullopt when it fits.
std::optional<ParseEvent> CheckCount(const Arguments& args, size_t min, size_t max, Verb verb) {
  if (args.count < min) return Error(ParseErrorCode::kMissingArgument, verb);
  if (args.count > max) return Error(ParseErrorCode::kTooManyArguments, verb);
  return std::nullopt;
}

ParseEvent ParseCommandLine(std::string_view line) {
  const size_t space = line.find(' ');
  const std::string_view keyword = line.substr(0, space);
  const std::string_view rest =
      space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  if (HasControl(keyword)) return Error(ParseErrorCode::kInvalidCharacter, std::nullopt);
  const std::optional<Verb> found = LookupVerb(keyword);
  if (!found) return Error(ParseErrorCode::kUnknownCommand, std::nullopt);
  const Verb verb = *found;

  Command command;
  command.verb = verb;

  if (verb == Verb::kPass) {
    // RFC 1939 section 7: the server may treat spaces in the argument as part of the
    // password. Everything after the first space is the password, verbatim.
    if (rest.empty()) return Error(ParseErrorCode::kMissingArgument, verb);
    if (rest.find('\r') != std::string_view::npos) {
      return Error(ParseErrorCode::kInvalidCharacter, verb);
    }
    command.text = std::string(rest);
    return command;
  }

  if (HasControl(rest)) return Error(ParseErrorCode::kInvalidCharacter, verb);
  const Arguments args = SplitArguments(rest);

  switch (verb) {
    case Verb::kUser:
      if (auto e = CheckCount(args, 1, 1, verb)) return *std::move(e);
      command.text = std::string(args.items[0]);
      return command;

    case Verb::kApop: {
      if (auto e = CheckCount(args, 2, 2, verb)) return *std::move(e);
      std::optional<std::string> digest = ParseDigest(args.items[1]);
      if (!digest) return Error(ParseErrorCode::kInvalidArgument, verb);
      command.text = std::string(args.items[0]);
      command.digest = *std::move(digest);
      return command;
    }

    case Verb::kStat:
    case Verb::kNoop:
    case Verb::kRset:
    case Verb::kQuit:
    case Verb::kCapa:
    case Verb::kStls:
      if (auto e = CheckCount(args, 0, 0, verb)) return *std::move(e);
      return command;

    case Verb::kList:
    case Verb::kUidl:
    case Verb::kRetr:
    case Verb::kDele: {
      const bool optional = verb == Verb::kList || verb == Verb::kUidl;
      if (auto e = CheckCount(args, optional ? 0 : 1, 1, verb)) return *std::move(e);
      if (args.count == 1) {
        command.message = ParseNumber(args.items[0], 1);
        if (!command.message) return Error(ParseErrorCode::kInvalidNumber, verb);
      }
      return command;
    }

    case Verb::kTop: {
      if (auto e = CheckCount(args, 2, 2, verb)) return *std::move(e);
      command.message = ParseNumber(args.items[0], 1);
      const std::optional<uint32_t> lines = ParseNumber(args.items[1], 0);
      if (!command.message || !lines) return Error(ParseErrorCode::kInvalidNumber, verb);
      command.lines = *lines;
      return command;
    }

    case Verb::kAuth: {
      if (auto e = CheckCount(args, 0, 2, verb)) return *std::move(e);
      if (args.count == 0) return command;
      std::optional<std::string> mechanism = ParseMechanism(args.items[0]);
      if (!mechanism) return Error(ParseErrorCode::kInvalidMechanism, verb);
      command.text = *std::move(mechanism);
      if (args.count == 2) {
        // RFC 5034 section 4: "=" is an empty initial response.
        if (args.items[1] == "=") {
          command.initial_response.emplace();
        } else {
          command.initial_response = common::Base64Decode(args.items[1]);
          if (!command.initial_response) return Error(ParseErrorCode::kInvalidBase64, verb);
        }
      }
      return command;
    }

    case Verb::kPass:
      break;  // Handled above.
  }
  return Error(ParseErrorCode::kUnknownCommand, std::nullopt);
}

ParseEvent ParseSaslLine(std::string_view line) {
  if (line == "*") return SaslCancel{};
  std::optional<std::string> data = common::Base64Decode(line);
  if (!data) return Error(ParseErrorCode::kInvalidBase64, Verb::kAuth);
  return SaslResponse{*std::move(data)};
}

}  // namespace

common::Status ValidateParserLimits(const ParserLimits& limits) {
  if (limits.max_command_line < 40) {
    return common::InvalidArgumentError("POP3 max_command_line must be at least 40");
  }
  if (limits.max_sasl_line < limits.max_command_line) {
    return common::InvalidArgumentError("POP3 max_sasl_line must be >= max_command_line");
  }
  if (limits.max_pipelined_commands < 1) {
    return common::InvalidArgumentError("POP3 max_pipelined_commands must be at least 1");
  }
  return common::Status::Ok();
}

std::string_view VerbName(Verb verb) {
  for (const VerbEntry& entry : kVerbs) {
    if (entry.verb == verb) return entry.name;
  }
  return "?";
}

std::string CommandForLog(const Command& command) {
  std::string out(VerbName(command.verb));
  switch (command.verb) {
    case Verb::kPass:
      out += " <hidden>";
      break;
    case Verb::kApop:
      out += " " + command.text + " <hidden>";
      break;
    case Verb::kUser:
      out += " " + command.text;
      break;
    case Verb::kAuth:
      if (!command.text.empty()) out += " " + command.text;
      if (command.initial_response) out += " <hidden>";
      break;
    case Verb::kTop:
      out +=
          " " + std::to_string(command.message.value_or(0)) + " " + std::to_string(command.lines);
      break;
    default:
      if (command.message) out += " " + std::to_string(*command.message);
      break;
  }
  return out;
}

std::string_view ParseErrorText(ParseErrorCode code) {
  switch (code) {
    case ParseErrorCode::kLineTooLong:
      return "Command line too long.";
    case ParseErrorCode::kNulByte:
      return "NUL character in command.";
    case ParseErrorCode::kInvalidCharacter:
      return "Invalid character in command.";
    case ParseErrorCode::kUnknownCommand:
      return "Unknown command.";
    case ParseErrorCode::kMissingArgument:
      return "Missing argument.";
    case ParseErrorCode::kTooManyArguments:
      return "Too many arguments.";
    case ParseErrorCode::kInvalidNumber:
      return "Invalid message number.";
    case ParseErrorCode::kInvalidArgument:
      return "Invalid argument.";
    case ParseErrorCode::kInvalidMechanism:
      return "Invalid authentication mechanism name.";
    case ParseErrorCode::kInvalidBase64:
      return "Invalid base64 data.";
  }
  return "Invalid command.";
}

CommandParser::CommandParser(const ParserLimits& limits) : limits_(limits) {
  MAIL_CHECK(ValidateParserLimits(limits_).ok());
}

size_t CommandParser::PartialLineLimit() const {
  return (queue_.empty() && sasl_expected_) ? limits_.max_sasl_line : limits_.max_command_line;
}

void CommandParser::Enqueue(Line line) {
  queued_bytes_ += line.text.size();
  queue_.push_back(std::move(line));
}

size_t CommandParser::Feed(std::string_view data) {
  size_t taken = 0;
  while (taken < data.size()) {
    // Skipping the rest of a too-long line stores nothing, so it goes on even when the
    // window is full; anything else waits for Next() to make room.
    if (!skipping_ && queue_.size() >= limits_.max_pipelined_commands) break;
    const std::string_view rest = data.substr(taken);
    const size_t lf = rest.find('\n');
    const std::string_view segment = rest.substr(0, lf);  // Bytes before the LF, if any.
    taken += lf == std::string_view::npos ? rest.size() : lf + 1;

    if (skipping_) {
      if (lf != std::string_view::npos) skipping_ = false;
      continue;
    }
    // The line with its LF would pass the limit: report it now, keep none of it, and skip
    // to its end.
    if (partial_.size() + segment.size() + 1 > PartialLineLimit()) {
      partial_.clear();
      partial_.shrink_to_fit();
      Enqueue(Line{std::string(), /*too_long=*/true});
      skipping_ = lf == std::string_view::npos;
      continue;
    }
    partial_.append(segment);
    if (lf == std::string_view::npos) continue;
    if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
    Enqueue(Line{std::move(partial_), /*too_long=*/false});
    partial_ = std::string();
  }
  return taken;
}

ParseEvent CommandParser::Next() {
  if (queue_.empty()) return NeedMore{};
  Line line = std::move(queue_.front());
  queue_.pop_front();
  queued_bytes_ -= line.text.size();
  const bool sasl = std::exchange(sasl_expected_, false);
  const std::optional<Verb> verb = sasl ? std::optional<Verb>(Verb::kAuth) : std::nullopt;

  if (line.too_long) return Error(ParseErrorCode::kLineTooLong, verb);
  if (line.text.find('\0') != std::string::npos) return Error(ParseErrorCode::kNulByte, verb);
  if (line.text.find('\r') != std::string::npos && sasl) {
    return Error(ParseErrorCode::kInvalidCharacter, verb);
  }
  return sasl ? ParseSaslLine(line.text) : ParseCommandLine(line.text);
}

void CommandParser::Reset() {
  queue_.clear();
  queued_bytes_ = 0;
  partial_ = std::string();
  skipping_ = false;
  sasl_expected_ = false;
}

}  // namespace cas::pop3
