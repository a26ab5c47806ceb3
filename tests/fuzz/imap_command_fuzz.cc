// libFuzzer target for the IMAP4 command parser (cas/imap/codec).
//
// Input layout: byte 0 picks the chunk size the stream is fed in (0: one byte at a time,
// otherwise 1..32 bytes), byte 1 the parser options (bit 0 LITERAL+, bit 1 UTF8=ACCEPT), and
// the rest is what a client sent. Besides "no crash", the target checks three properties and
// aborts when one breaks:
//   - the events are the same whether the stream arrives whole or in chunks;
//   - the parser never holds more than its limits allow;
//   - every command survives a FormatCommand() round trip.
//
// Build by hand (clang, from the source root):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. -o imap_command_fuzz
//       tests/fuzz/imap_command_fuzz.cc cas/imap/codec/*.cc common/base64.cc common/status.cc
// Run: ./imap_command_fuzz tests/fuzz/corpus/imap_command/
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cas/imap/codec/command.h"
#include "cas/imap/codec/parser.h"

namespace {

using cas::imap::AuthenticateArgs;
using cas::imap::Command;
using cas::imap::CommandParser;
using cas::imap::ContinuationNeeded;
using cas::imap::IdleArgs;
using cas::imap::IdleDone;
using cas::imap::NeedMoreInput;
using cas::imap::ParseError;
using cas::imap::ParseResult;
using cas::imap::ParserLimits;
using cas::imap::ParserOptions;
using cas::imap::SaslResponse;

// Small limits so that the fuzzer reaches them.
ParserLimits FuzzLimits() {
  ParserLimits limits;
  limits.max_line_bytes = 512;
  limits.max_literal_bytes = 128;
  limits.max_append_literal_bytes = 1024;
  limits.max_command_literal_bytes = 2048;
  limits.max_items = 64;
  limits.max_depth = 8;
  limits.max_sequence_ranges = 16;
  limits.max_sasl_line_bytes = 256;
  limits.max_discard_literal_bytes = 512;
  return limits;
}

std::string Describe(const ParseResult& result) {
  if (const auto* c = std::get_if<Command>(&result)) return "C " + cas::imap::FormatCommand(*c);
  if (const auto* c = std::get_if<ContinuationNeeded>(&result)) {
    return "+ " + std::to_string(c->literal_size);
  }
  if (const auto* e = std::get_if<ParseError>(&result)) {
    return "E " + e->Reply() + std::to_string(static_cast<int>(e->recovery));
  }
  if (std::holds_alternative<IdleDone>(result)) return "DONE";
  if (const auto* s = std::get_if<SaslResponse>(&result)) {
    return s->cancelled ? "S *" : "S " + s->data;
  }
  return "?";
}

void CheckRoundTrip(const Command& command) {
  const std::string text = cas::imap::FormatCommand(command) + "\r\n";
  ParserOptions options;
  options.utf8_accept = true;  // FormatCommand writes mailbox names as UTF-8.
  CommandParser parser({}, options);
  ParseResult r = parser.Feed(text);
  while (std::holds_alternative<ContinuationNeeded>(r)) r = parser.Next();
  const auto* again = std::get_if<Command>(&r);
  if (again == nullptr || !(*again == command)) std::abort();
}

std::vector<std::string> Run(std::string_view input, size_t chunk, const ParserOptions& options,
                             bool check_commands) {
  const ParserLimits limits = FuzzLimits();
  CommandParser parser(limits, options);
  std::vector<std::string> events;
  for (size_t pos = 0; pos < input.size(); pos += chunk) {
    ParseResult r = parser.Feed(input.substr(pos, chunk));
    while (!std::holds_alternative<NeedMoreInput>(r)) {
      events.push_back(Describe(r));
      if (const auto* c = std::get_if<Command>(&r)) {
        // Act like a session: arm the IDLE and SASL continuation modes.
        if (std::holds_alternative<IdleArgs>(c->args)) parser.ExpectIdleDone();
        const auto* auth = std::get_if<AuthenticateArgs>(&c->args);
        if (auth != nullptr && !auth->initial_response.has_value()) parser.ExpectSaslResponse();
        if (check_commands) CheckRoundTrip(*c);
      } else if (const auto* s = std::get_if<SaslResponse>(&r)) {
        if (!s->cancelled && !s->data.empty()) parser.ExpectSaslResponse();
      }
      r = parser.Next();
    }
    if (parser.pending_command_bytes() > limits.max_line_bytes + limits.max_command_literal_bytes ||
        parser.buffered_input_bytes() != 0) {
      std::abort();
    }
  }
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t chunk = data[0] % 33 == 0 ? 1 : data[0] % 33;
  ParserOptions options;
  options.literal_plus = (data[1] & 1) != 0;
  options.utf8_accept = (data[1] & 2) != 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);
  const std::vector<std::string> whole =
      Run(input, input.empty() ? 1 : input.size(), options, /*check_commands=*/true);
  if (Run(input, chunk, options, /*check_commands=*/false) != whole) std::abort();
  return 0;
}
