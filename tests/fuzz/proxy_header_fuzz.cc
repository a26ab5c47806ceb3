// libFuzzer target for the PROXY protocol header parser (v1 and v2), fed the way the listener
// feeds it: never more than wanted() octets at a time.
//
//   clang++ -std=c++20 -g -O1 -I. -fsanitize=fuzzer,address,undefined -o proxy_header_fuzz
//     tests/fuzz/proxy_header_fuzz.cc common/proxy_protocol.cc common/status.cc
//   mkdir -p /tmp/proxy_header_corpus
//   ./proxy_header_fuzz /tmp/proxy_header_corpus tests/fuzz/corpus/proxy_header
//
// Checks, besides "no crash": the parser never reads past the end of the header (what follows
// stays for the protocol), never wants more than the largest header, always asks for at least
// one octet until it has decided, and decides the same way whatever the read sizes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/proxy_protocol.h"

namespace {

using common::ProxyHeaderLimits;
using common::ProxyHeaderParser;

void Require(bool condition) {
  if (!condition) std::abort();
}

struct Outcome {
  ProxyHeaderParser::Result result;
  size_t consumed;
  std::string source;
  uint16_t port;
  bool use_connection;
  bool operator==(const Outcome&) const = default;
};

Outcome Run(std::string_view input, size_t piece, const ProxyHeaderLimits& limits) {
  ProxyHeaderParser p(limits);
  size_t pos = 0;
  ProxyHeaderParser::Result r = ProxyHeaderParser::Result::kNeedMore;
  while (r == ProxyHeaderParser::Result::kNeedMore && pos < input.size()) {
    const size_t want = p.wanted();
    Require(want > 0 && want <= std::max<size_t>(limits.max_v2_length, 107));
    const size_t n = std::min({piece, want, input.size() - pos});
    size_t consumed = 0;
    r = p.Feed(input.substr(pos, n), &consumed);
    Require(consumed <= n);
    Require(consumed == n || r != ProxyHeaderParser::Result::kNeedMore);
    pos += consumed;
  }
  if (r != ProxyHeaderParser::Result::kNeedMore) Require(p.wanted() == 0);
  if (r == ProxyHeaderParser::Result::kError) Require(!p.error().empty());
  if (r == ProxyHeaderParser::Result::kDone) {
    const auto& h = p.header();
    Require(h.version == 1 || h.version == 2);
    Require(h.use_connection_address == h.source_address.empty());
    Require(pos <= (h.version == 1 ? 107 : limits.max_v2_length));
  }
  // Offered everything at once, it takes no more than the header either.
  ProxyHeaderParser whole(limits);
  size_t taken = 0;
  ProxyHeaderParser::Result w = whole.Feed(input, &taken);
  if (w == ProxyHeaderParser::Result::kDone) Require(r == w && taken == pos);
  return {r, pos, p.header().source_address, p.header().source_port,
          p.header().use_connection_address};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  ProxyHeaderLimits small;
  small.max_v2_length = 64;
  const Outcome one = Run(input, 1, ProxyHeaderLimits{});
  Require(Run(input, 7, ProxyHeaderLimits{}) == one);
  Require(Run(input, 4096, ProxyHeaderLimits{}) == one);
  Run(input, 1, small);
  Run(input, 3, small);
  return 0;
}
