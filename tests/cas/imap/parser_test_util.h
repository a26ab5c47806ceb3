// Helpers shared by the IMAP codec tests: run a CommandParser over an input fed in different
// chunkings and describe the events as text.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cas/imap/codec/parser.h"

namespace cas::imap::testing {

inline std::string_view RecoveryName(ErrorRecovery r) {
  switch (r) {
    case ErrorRecovery::kNone:
      return "";
    case ErrorRecovery::kSkipLine:
      return " {skip-line}";
    case ErrorRecovery::kDiscardLiteral:
      return " {discard-literal}";
    case ErrorRecovery::kCloseConnection:
      return " {close}";
  }
  return "";
}

// One event as text:
//   Command             the FormatCommand() text
//   ContinuationNeeded  "+ <size>"
//   ParseError          the reply line without CRLF plus the recovery: "A1 BAD Unknown command"
//   IdleDone            "DONE"
//   SaslResponse        "SASL <data>" or "SASL *"
inline std::string Describe(const ParseResult& result) {
  if (const auto* c = std::get_if<Command>(&result)) return FormatCommand(*c);
  if (const auto* c = std::get_if<ContinuationNeeded>(&result)) {
    return "+ " + std::to_string(c->literal_size);
  }
  if (const auto* e = std::get_if<ParseError>(&result)) {
    std::string reply = e->Reply();
    reply.resize(reply.size() - 2);  // CRLF
    return reply + std::string(RecoveryName(e->recovery));
  }
  if (std::holds_alternative<IdleDone>(result)) return "DONE";
  if (const auto* s = std::get_if<SaslResponse>(&result)) {
    return s->cancelled ? "SASL *" : "SASL " + s->data;
  }
  return "NEED-MORE";
}

// Reacts to an event like a session would. The default one arms the IDLE and AUTHENTICATE
// continuation modes.
using SessionHook = std::function<void(CommandParser&, const ParseResult&)>;

inline void DefaultHook(CommandParser& parser, const ParseResult& result) {
  if (const auto* c = std::get_if<Command>(&result)) {
    if (std::holds_alternative<IdleArgs>(c->args)) parser.ExpectIdleDone();
    if (const auto* a = std::get_if<AuthenticateArgs>(&c->args)) {
      if (!a->initial_response.has_value()) parser.ExpectSaslResponse();
    }
  }
  // A SASL exchange goes on until the client sends "*" or "last".
  if (const auto* s = std::get_if<SaslResponse>(&result)) {
    if (!s->cancelled && s->data != "last") parser.ExpectSaslResponse();
  }
}

struct RunOptions {
  ParserLimits limits;
  ParserOptions options;
  SessionHook hook = DefaultHook;
};

// Feeds `chunks` one after another, draining every event after each, and returns the events.
inline std::vector<std::string> RunChunks(const std::vector<std::string_view>& chunks,
                                          const RunOptions& run = {}) {
  CommandParser parser(run.limits, run.options);
  std::vector<std::string> events;
  for (std::string_view chunk : chunks) {
    ParseResult r = parser.Feed(chunk);
    while (!std::holds_alternative<NeedMoreInput>(r)) {
      events.push_back(Describe(r));
      if (run.hook) run.hook(parser, r);
      r = parser.Next();
    }
  }
  return events;
}

inline std::vector<std::string> RunWhole(std::string_view input, const RunOptions& run = {}) {
  return RunChunks({input}, run);
}

inline std::vector<std::string> RunByteAtATime(std::string_view input, const RunOptions& run = {}) {
  std::vector<std::string_view> chunks;
  for (size_t i = 0; i < input.size(); ++i) chunks.push_back(input.substr(i, 1));
  return RunChunks(chunks, run);
}

// Runs `input` whole, one byte at a time and split in two at every position; expects the same
// events every time and returns them.
inline std::vector<std::string> RunAllSplits(std::string_view input, const RunOptions& run = {}) {
  const std::vector<std::string> whole = RunWhole(input, run);
  EXPECT_EQ(RunByteAtATime(input, run), whole) << "byte at a time: " << input;
  for (size_t i = 1; i < input.size(); ++i) {
    const std::vector<std::string> split = RunChunks({input.substr(0, i), input.substr(i)}, run);
    EXPECT_EQ(split, whole) << "split at " << i << ": " << input;
    if (split != whole) break;  // One failure per input is enough.
  }
  return whole;
}

}  // namespace cas::imap::testing
