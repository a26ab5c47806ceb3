// libFuzzer target for the SMTP command parser, driven by a fake session that answers DATA
// with BeginData() and runs a one-line SASL exchange after an AUTH without initial response.
//
//   clang++ -std=c++20 -g -O1 -I. -fsanitize=fuzzer,address,undefined -o smtp_command_fuzz
//     tests/fuzz/smtp_command_fuzz.cc transport/codec/parser.cc common/status.cc
//   mkdir -p /tmp/smtp_command_corpus
//   ./smtp_command_fuzz /tmp/smtp_command_corpus tests/fuzz/corpus/smtp_command
//
// Checks, besides "no crash": the parser never gets stuck, the events do not depend on how the
// input is split into Feed() calls, one Feed() never queues more than the pipelining window
// allows, every payload stays within its limit, errors are one-line 5xx replies, and after
// STARTTLS plus Reset() nothing from before the handshake survives.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "transport/codec/parser.h"

namespace {

using transport::smtp::ChunkDone;
using transport::smtp::Command;
using transport::smtp::DataDone;
using transport::smtp::NeedMore;
using transport::smtp::ParseError;
using transport::smtp::ParseEvent;
using transport::smtp::Parser;
using transport::smtp::ParserLimits;
using transport::smtp::SaslResponse;
using transport::smtp::Verb;

void Require(bool condition) {
  if (!condition) std::abort();
}

void CheckEvent(const ParseEvent& e, const ParserLimits& limits) {
  const size_t longest_line = std::max(limits.max_command_line, limits.max_sasl_line);
  if (const auto* error = std::get_if<ParseError>(&e)) {
    Require(error->code == 500 || error->code == 501 || error->code == 555);
    Require(error->enhanced.size() == 5 && error->enhanced[0] == '5');
    Require(!error->text.empty() && error->text.find_first_of("\r\n") == std::string::npos);
  } else if (const auto* c = std::get_if<Command>(&e)) {
    Require(c->argument.size() < longest_line);
    Require(c->path.size() <= 254);
    Require(c->verb == Verb::kMail || c->path.empty() == (c->verb != Verb::kRcpt));
    Require(c->mail.envid.size() <= 100);
  } else if (const auto* s = std::get_if<SaslResponse>(&e)) {
    Require(s->line.size() < limits.max_sasl_line);
    Require(s->line.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos);
  } else if (const auto* d = std::get_if<DataDone>(&e)) {
    Require(d->message.size() <= limits.max_message_size);
    Require(d->too_big ? d->message.empty() : d->message.size() == d->octets);
    Require(d->too_big == (d->octets > limits.max_message_size));
  } else if (const auto* k = std::get_if<ChunkDone>(&e)) {
    Require(k->too_big ? k->bytes.empty() : k->bytes.size() == k->size);
    Require(k->too_big == (k->size > limits.max_message_size));
  }
}

// Feeds `input` in pieces of `piece` octets (0: whole) like a session. With `tls`, a STARTTLS
// command resets the parser and drops the rest of the piece being offered, as a session does
// before the handshake (that makes the events depend on the split, so they are not compared).
std::vector<ParseEvent> Run(std::string_view input, size_t piece, const ParserLimits& limits,
                            bool tls = false) {
  Parser parser(limits);
  std::vector<ParseEvent> events;
  int sasl_lines = 0;
  bool reset = false;
  auto drain = [&] {
    for (ParseEvent e = parser.Next(); !std::holds_alternative<NeedMore>(e); e = parser.Next()) {
      CheckEvent(e, limits);
      const auto* c = std::get_if<Command>(&e);
      if (c != nullptr && c->verb == Verb::kData) parser.BeginData();
      if (c != nullptr && c->verb == Verb::kAuth) {
        sasl_lines = c->argument.find(' ') == std::string::npos ? 1 : 0;
      } else if (std::holds_alternative<SaslResponse>(e)) {
        --sasl_lines;
      } else {
        sasl_lines = 0;
      }
      if (sasl_lines > 0) parser.ExpectSaslResponse();
      events.push_back(std::move(e));
      if (tls && c != nullptr && c->verb == Verb::kStartTls) {
        parser.Reset();
        Require(parser.buffered() == 0);
        Require(std::holds_alternative<NeedMore>(parser.Next()));
        sasl_lines = 0;
        reset = true;
        return;
      }
    }
  };
  for (size_t i = 0; i < input.size();) {
    const size_t n = piece == 0 ? input.size() - i : std::min(piece, input.size() - i);
    std::string_view chunk = input.substr(i, n);
    i += n;
    while (!chunk.empty()) {
      const size_t taken = parser.Feed(chunk);
      Require(taken <= chunk.size());
      chunk.remove_prefix(taken);
      const size_t before = events.size();
      drain();
      // A BDAT line can bring its chunk in the same Feed().
      Require(events.size() - before <= limits.max_pipelined_commands + 1);
      Require(taken > 0 || events.size() > before);  // Never stuck.
      if (std::exchange(reset, false)) chunk = {};
    }
  }
  drain();
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  ParserLimits small;
  small.max_pipelined_commands = 3;
  small.max_message_size = 64;
  const std::vector<ParseEvent> whole = Run(input, 0, small);
  Require(Run(input, 1, small) == whole);
  Require(Run(input, 7, small) == whole);
  Require(Run(input, 512, small) == whole);
  Run(input, 5, small, /*tls=*/true);
  Run(input, 13, ParserLimits{});
  return 0;
}
