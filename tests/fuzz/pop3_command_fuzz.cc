// libFuzzer target for the POP3 codec: the command parser (with a fake session that enters
// SASL mode after AUTH) and the DotStuffer / size / TOP functions, on the same bytes.
//
//   clang++ -std=c++20 -I. -fsanitize=fuzzer,address,undefined -o pop3_command_fuzz
//     tests/fuzz/pop3_command_fuzz.cc cas/pop3/codec/parser.cc cas/pop3/codec/response.cc
//     common/base64.cc common/status.cc
//   ./pop3_command_fuzz tests/fuzz/corpus/pop3_command
//
// Checks, besides "no crash": memory stays within the documented bound, every line gives one
// event, the events do not depend on how the input is split, and the stuffed output has no
// bare CR/LF, no early terminator and the size StuffedSize() predicts.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cas/pop3/codec/parser.h"
#include "cas/pop3/codec/response.h"

namespace {

using cas::pop3::Command;
using cas::pop3::CommandParser;
using cas::pop3::NeedMore;
using cas::pop3::ParseEvent;
using cas::pop3::ParserLimits;
using cas::pop3::Verb;

void Require(bool condition) {
  if (!condition) std::abort();
}

// Feeds `input` in pieces of `piece` octets (0: whole) like a session, entering SASL mode for
// one line after an AUTH with a mechanism and no initial response.
std::vector<ParseEvent> Run(std::string_view input, size_t piece, const ParserLimits& limits) {
  CommandParser parser(limits);
  std::vector<ParseEvent> events;
  const size_t bound =
      limits.max_pipelined_commands * limits.max_command_line + limits.max_sasl_line;
  auto drain = [&] {
    for (ParseEvent e = parser.Next(); !std::holds_alternative<NeedMore>(e); e = parser.Next()) {
      const auto* c = std::get_if<Command>(&e);
      if (c != nullptr && c->verb == Verb::kAuth && !c->text.empty() && !c->initial_response) {
        parser.ExpectSaslResponse();
      }
      events.push_back(std::move(e));
    }
  };
  for (size_t i = 0; i < input.size();) {
    const size_t n = piece == 0 ? input.size() - i : std::min(piece, input.size() - i);
    std::string_view chunk = input.substr(i, n);
    i += n;
    while (!chunk.empty()) {
      const size_t taken = parser.Feed(chunk);
      Require(taken <= chunk.size());
      Require(parser.BufferedBytes() <= bound);
      chunk.remove_prefix(taken);
      const size_t before = events.size();
      drain();
      Require(taken > 0 || events.size() > before);  // Never stuck.
    }
  }
  drain();
  return events;
}

void FuzzParser(std::string_view input) {
  // Equal limits: the SASL mode cannot change a line's limit, so splits must not matter.
  ParserLimits same;
  same.max_command_line = 64;
  same.max_sasl_line = 64;
  same.max_pipelined_commands = 3;
  const std::vector<ParseEvent> whole = Run(input, 0, same);
  Require(Run(input, 1, same) == whole);
  Require(Run(input, 7, same) == whole);
  size_t lines = 0;
  for (char c : input) lines += c == '\n';
  Require(whole.size() >= lines && whole.size() <= lines + 1);

  // Default limits: only the bounds and progress (checked inside Run).
  Run(input, 13, ParserLimits{});
}

void FuzzStuffer(std::string_view input) {
  const std::string wire = cas::pop3::DotStuff(input);
  Require(wire.size() == cas::pop3::StuffedSize(input) + cas::pop3::kMultiLineEnd.size());
  Require(cas::pop3::CrlfNormalizedSize(input) <= cas::pop3::StuffedSize(input));
  for (size_t i = 0; i < wire.size(); ++i) {
    if (wire[i] == '\r') Require(i + 1 < wire.size() && wire[i + 1] == '\n');
    if (wire[i] == '\n') Require(i > 0 && wire[i - 1] == '\r');
  }
  const size_t end = wire.find("\r\n.\r\n");
  Require(wire.size() == 3 ? end == std::string::npos : end == wire.size() - 5);

  // Chunked feeding gives the same bytes.
  cas::pop3::DotStuffer stuffer;
  std::string chunked;
  const size_t step = input.empty() ? 1 : 1 + static_cast<unsigned char>(input[0]) % 5;
  for (size_t i = 0; i < input.size(); i += step) stuffer.Feed(input.substr(i, step), &chunked);
  stuffer.Finish(&chunked);
  Require(chunked == wire);

  // TOP is a prefix that grows with the line count.
  size_t previous = 0;
  for (uint32_t n = 0; n < 4; ++n) {
    const std::string_view top = cas::pop3::TopOf(input, n);
    Require(top.data() == input.data() || top.empty());
    Require(top.size() >= previous && top.size() <= input.size());
    previous = top.size();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  FuzzParser(input);
  FuzzStuffer(input);
  return 0;
}
