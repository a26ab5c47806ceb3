// libFuzzer target for the SMTP DATA and BDAT readers: the input is the client's bytes after
// a 354 (DATA) or after a BDAT command, compared with a plain reference implementation.
//
//   clang++ -std=c++20 -g -O1 -I. -fsanitize=fuzzer,address,undefined -o smtp_data_fuzz
//     tests/fuzz/smtp_data_fuzz.cc transport/codec/parser.cc common/status.cc
//   mkdir -p /tmp/smtp_data_corpus
//   ./smtp_data_fuzz /tmp/smtp_data_corpus tests/fuzz/corpus/smtp_data
//
// DATA: the message ends exactly at the first CRLF "." CRLF (or a "." CRLF at the start), the
// content is dot-unstuffed line by line, a bare CR or LF is flagged, the size limit holds, and
// what follows is read as commands, exactly as by a fresh parser. BDAT: the chunk is exactly
// the announced octets, and HasBareLineEnding() agrees with the reference. Both whatever the
// Feed() split.
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
using transport::smtp::ParseEvent;
using transport::smtp::Parser;
using transport::smtp::ParserLimits;
using transport::smtp::Verb;

void Require(bool condition) {
  if (!condition) std::abort();
}

// Feeds `input` in pieces of `piece` octets (0: whole) and collects the events. No session
// reactions (no BeginData(), no SASL): the tail after a message is plain command lines.
void Offer(Parser& parser, std::string_view input, size_t piece, std::vector<ParseEvent>* events) {
  auto drain = [&] {
    for (ParseEvent e = parser.Next(); !std::holds_alternative<NeedMore>(e); e = parser.Next()) {
      events->push_back(std::move(e));
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
      const size_t before = events->size();
      drain();
      Require(taken > 0 || events->size() > before);
    }
  }
  drain();
}

std::vector<ParseEvent> Commands(std::string_view input, const ParserLimits& limits) {
  Parser parser(limits);
  std::vector<ParseEvent> events;
  Offer(parser, input, 0, &events);
  return events;
}

void FuzzData(std::string_view input, size_t piece, const ParserLimits& limits) {
  Parser parser(limits);
  Require(parser.Feed("DATA\r\n") == 6);
  Require(std::get<Command>(parser.Next()).verb == Verb::kData);
  parser.BeginData();
  std::vector<ParseEvent> events;
  Offer(parser, input, piece, &events);

  // The reference: find the end, unstuff, look for bare line ends.
  size_t content_end = 0;
  size_t consumed = 0;
  if (input.substr(0, 3) == ".\r\n") {
    consumed = 3;
  } else if (const size_t end = input.find("\r\n.\r\n"); end != std::string_view::npos) {
    content_end = end + 2;
    consumed = end + 5;
  } else {
    Require(events.empty());
    Require(parser.buffered() == input.size());
    return;
  }
  const std::string_view raw = input.substr(0, content_end);
  std::string message;
  bool bare = false;
  for (size_t i = 0; i < raw.size(); ++i) {
    const bool line_start = i == 0 || (i >= 2 && raw[i - 2] == '\r' && raw[i - 1] == '\n');
    if (raw[i] == '\r' && (i + 1 == raw.size() || raw[i + 1] != '\n')) bare = true;
    if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r')) bare = true;
    if (line_start && raw[i] == '.') continue;
    message.push_back(raw[i]);
  }
  Require(!events.empty());
  const DataDone& done = std::get<DataDone>(events.front());
  Require(done.octets == message.size());
  Require(done.bare_line_ending == bare);
  Require(done.too_big == (message.size() > limits.max_message_size));
  Require(done.too_big ? done.message.empty() : done.message == message);

  const std::vector<ParseEvent> tail(events.begin() + 1, events.end());
  Require(tail == Commands(input.substr(consumed), limits));
}

void FuzzBdat(std::string_view input, size_t piece, const ParserLimits& limits) {
  const uint64_t size =
      input.empty() ? 0 : static_cast<unsigned char>(input[0]) % (input.size() + 8);
  const bool last = !input.empty() && (static_cast<unsigned char>(input[0]) & 1) != 0;
  const std::string command = "BDAT " + std::to_string(size) + (last ? " LAST" : "") + "\r\n";
  Parser parser(limits);
  std::vector<ParseEvent> events;
  Offer(parser, command + std::string(input), piece, &events);
  Require(!events.empty());
  const Command& bdat = std::get<Command>(events.front());
  Require(bdat.verb == Verb::kBdat && bdat.bdat_size == size && bdat.bdat_last == last);
  if (size > input.size()) {
    Require(events.size() == 1);
    Require(parser.buffered() == input.size());
    return;
  }
  Require(events.size() >= 2);
  const ChunkDone& chunk = std::get<ChunkDone>(events[1]);
  Require(chunk.size == size && chunk.last == last);
  Require(chunk.too_big == (size > limits.max_message_size));
  Require(chunk.too_big ? chunk.bytes.empty() : chunk.bytes == input.substr(0, size));
  // The session's bare line end check on BDAT content, against the plain reference.
  const std::string_view content = input.substr(0, size);
  bool bare = false;
  for (size_t i = 0; i < content.size(); ++i) {
    if (content[i] == '\r' && (i + 1 == content.size() || content[i + 1] != '\n')) bare = true;
    if (content[i] == '\n' && (i == 0 || content[i - 1] != '\r')) bare = true;
  }
  Require(transport::smtp::HasBareLineEnding(content) == bare);
  const std::vector<ParseEvent> tail(events.begin() + 2, events.end());
  Require(tail == Commands(input.substr(size), limits));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  ParserLimits small;
  small.max_message_size = 16;
  small.max_pipelined_commands = 2;
  for (size_t piece : {0, 1, 3, 64}) {
    FuzzData(input, piece, ParserLimits{});
    FuzzData(input, piece, small);
    FuzzBdat(input, piece, ParserLimits{});
    FuzzBdat(input, piece, small);
  }
  return 0;
}
