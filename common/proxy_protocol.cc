#include "common/proxy_protocol.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace common {
namespace {

constexpr std::string_view kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);
constexpr std::string_view kV1Prefix = "PROXY ";
// The longest v1 line, CRLF included ("PROXY TCP6 " + two full IPv6 addresses + two ports).
constexpr size_t kV1MaxLine = 107;
// The shortest v1 line: "PROXY UNKNOWN\r\n". Both versions are at least this long, so the
// first read may take this many octets without looking.
constexpr size_t kMinHeader = 15;
constexpr size_t kV2Fixed = 16;

bool IsPrefixOf(std::string_view head, std::string_view whole) {
  return head.size() <= whole.size() && whole.substr(0, head.size()) == head;
}

// Decimal port, 1 to 5 digits, at most 65535.
bool ParsePort(std::string_view text, uint16_t* port) {
  if (text.empty() || text.size() > 5) return false;
  uint32_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) return false;
  *port = static_cast<uint16_t>(v);
  return true;
}

// Parses `text` as an address of `family` and returns its canonical text ("" when it is not).
std::string CanonicalOf(int family, std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return "";
  char in[INET6_ADDRSTRLEN] = {};
  std::memcpy(in, text.data(), text.size());
  uint8_t bytes[16];
  if (inet_pton(family, in, bytes) != 1) return "";
  char out[INET6_ADDRSTRLEN];
  if (inet_ntop(family, bytes, out, sizeof(out)) == nullptr) return "";
  return out;
}

// Canonical text of a binary address; IPv4-mapped IPv6 becomes IPv4, as the listeners report
// peers.
std::string TextOf(int family, const uint8_t* bytes) {
  char out[INET6_ADDRSTRLEN];
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (family == AF_INET6 && std::memcmp(bytes, kMapped, sizeof(kMapped)) == 0) {
    family = AF_INET;
    bytes += 12;
  }
  if (inet_ntop(family, bytes, out, sizeof(out)) == nullptr) return "";
  return out;
}

std::vector<std::string_view> SplitSpaces(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= line.size()) {
    size_t space = line.find(' ', start);
    if (space == std::string_view::npos) space = line.size();
    out.push_back(line.substr(start, space - start));
    start = space + 1;
  }
  return out;
}

}  // namespace

size_t ProxyHeaderParser::wanted() const {
  switch (state_) {
    case State::kDetect:
      return kMinHeader - buffer_.size();
    case State::kV1:
      // The line ends at an unknown place: one octet at a time past the shortest line.
      return buffer_.size() < kMinHeader ? kMinHeader - buffer_.size() : 1;
    case State::kV2:
      if (buffer_.size() < kV2Fixed) return kV2Fixed - buffer_.size();
      return v2_total_ - buffer_.size();
    case State::kDone:
    case State::kError:
      return 0;
  }
  return 0;
}

ProxyHeaderParser::Result ProxyHeaderParser::Fail(std::string why) {
  state_ = State::kError;
  error_ = std::move(why);
  buffer_.clear();
  return Result::kError;
}

ProxyHeaderParser::Result ProxyHeaderParser::Feed(std::string_view data, size_t* consumed) {
  *consumed = 0;
  while (!data.empty()) {
    switch (state_) {
      case State::kDone:
        return Result::kDone;
      case State::kError:
        return Result::kError;
      case State::kDetect: {
        buffer_.push_back(data.front());
        data.remove_prefix(1);
        ++*consumed;
        const bool v2 = IsPrefixOf(buffer_, kV2Signature);
        const bool v1 = IsPrefixOf(buffer_, kV1Prefix);
        if (!v1 && !v2) return Fail("connection does not start with a PROXY protocol header");
        if (v2 && buffer_.size() == kV2Signature.size()) state_ = State::kV2;
        if (v1 && buffer_.size() == kV1Prefix.size()) state_ = State::kV1;
        break;
      }
      case State::kV1: {
        // Up to and including the first LF, within the longest line.
        const size_t room = kV1MaxLine - buffer_.size();
        const size_t lf = data.substr(0, room).find('\n');
        const size_t take = lf == std::string_view::npos ? std::min(room, data.size()) : lf + 1;
        buffer_.append(data.substr(0, take));
        data.remove_prefix(take);
        *consumed += take;
        if (lf != std::string_view::npos) return FinishV1();
        if (buffer_.size() >= kV1MaxLine) return Fail("PROXY v1 header line too long");
        break;
      }
      case State::kV2: {
        const size_t want = wanted();
        const size_t take = std::min(want, data.size());
        buffer_.append(data.substr(0, take));
        data.remove_prefix(take);
        *consumed += take;
        if (v2_total_ == 0 && buffer_.size() == kV2Fixed) {
          const auto ver_cmd = static_cast<uint8_t>(buffer_[12]);
          if ((ver_cmd >> 4) != 2) return Fail("PROXY v2 header with an unknown version");
          if ((ver_cmd & 0x0f) > 1) return Fail("PROXY v2 header with an unknown command");
          const size_t length = (static_cast<size_t>(static_cast<uint8_t>(buffer_[14])) << 8) |
                                static_cast<uint8_t>(buffer_[15]);
          if (kV2Fixed + length > limits_.max_v2_length) {
            return Fail("PROXY v2 header longer than " + std::to_string(limits_.max_v2_length) +
                        " octets");
          }
          v2_total_ = kV2Fixed + length;
        }
        if (v2_total_ != 0 && buffer_.size() == v2_total_) return FinishV2();
        break;
      }
    }
  }
  if (state_ == State::kDone) return Result::kDone;
  if (state_ == State::kError) return Result::kError;
  return Result::kNeedMore;
}

ProxyHeaderParser::Result ProxyHeaderParser::FinishV1() {
  std::string_view line(buffer_);
  if (line.size() < 2 || line[line.size() - 2] != '\r') {
    return Fail("PROXY v1 header line does not end with CRLF");
  }
  line.remove_suffix(2);
  line.remove_prefix(kV1Prefix.size());
  header_ = ProxyHeader{};
  header_.version = 1;
  if (line == "UNKNOWN" || line.substr(0, 8) == "UNKNOWN ") {
    header_.use_connection_address = true;
  } else {
    std::vector<std::string_view> f = SplitSpaces(line);
    if (f.size() != 5 || (f[0] != "TCP4" && f[0] != "TCP6")) {
      return Fail("malformed PROXY v1 header");
    }
    const int family = f[0] == "TCP4" ? AF_INET : AF_INET6;
    header_.source_address = CanonicalOf(family, f[1]);
    header_.destination_address = CanonicalOf(family, f[2]);
    if (header_.source_address.empty() || header_.destination_address.empty()) {
      return Fail("PROXY v1 header with a bad address");
    }
    if (!ParsePort(f[3], &header_.source_port) || !ParsePort(f[4], &header_.destination_port)) {
      return Fail("PROXY v1 header with a bad port");
    }
  }
  state_ = State::kDone;
  buffer_.clear();
  return Result::kDone;
}

ProxyHeaderParser::Result ProxyHeaderParser::FinishV2() {
  const auto* b = reinterpret_cast<const uint8_t*>(buffer_.data());
  const bool local = (b[12] & 0x0f) == 0;
  const uint8_t family = b[13] >> 4;
  const uint8_t transport = b[13] & 0x0f;
  const size_t length = buffer_.size() - kV2Fixed;
  header_ = ProxyHeader{};
  header_.version = 2;
  if (local) {
    // Health checks: whatever the address block says is to be ignored.
    header_.use_connection_address = true;
  } else if (family == 0 || family == 3) {
    // UNSPEC or a unix socket on the proxy's side: nothing we can use as a client address.
    header_.use_connection_address = true;
  } else if (family == 1 || family == 2) {
    if (transport != 1) return Fail("PROXY v2 header for a transport other than TCP");
    const size_t addr_len = family == 1 ? 4 : 16;
    if (length < 2 * addr_len + 4) return Fail("PROXY v2 header too short for its addresses");
    const int af = family == 1 ? AF_INET : AF_INET6;
    const uint8_t* p = b + kV2Fixed;
    header_.source_address = TextOf(af, p);
    header_.destination_address = TextOf(af, p + addr_len);
    header_.source_port = static_cast<uint16_t>((p[2 * addr_len] << 8) | p[2 * addr_len + 1]);
    header_.destination_port =
        static_cast<uint16_t>((p[2 * addr_len + 2] << 8) | p[2 * addr_len + 3]);
    if (header_.source_address.empty()) return Fail("PROXY v2 header with a bad address");
  } else {
    return Fail("PROXY v2 header with an unknown address family");
  }
  // TLVs after the addresses (ALPN, authority, CRC32C, SSL...) are not used.
  state_ = State::kDone;
  buffer_.clear();
  return Result::kDone;
}

StatusOr<TrustedNetworks> TrustedNetworks::Parse(const std::vector<std::string>& networks) {
  TrustedNetworks out;
  for (const std::string& text : networks) {
    std::string_view addr = text;
    int bits = -1;
    if (size_t slash = addr.find('/'); slash != std::string_view::npos) {
      std::string_view len = addr.substr(slash + 1);
      addr = addr.substr(0, slash);
      bits = 0;
      if (len.empty() || len.size() > 3) bits = 999;
      for (char c : len) bits = (c >= '0' && c <= '9') ? bits * 10 + (c - '0') : 999;
    }
    const bool v4 = addr.find(':') == std::string_view::npos;
    Network n;
    std::string canonical = CanonicalOf(v4 ? AF_INET : AF_INET6, addr);
    const int max_bits = v4 ? 32 : 128;
    if (canonical.empty() || bits > max_bits) {
      return InvalidArgumentError("proxy_protocol_trusted_networks: '" + text +
                                  "' is not an address or a CIDR network");
    }
    char in[INET6_ADDRSTRLEN] = {};
    std::memcpy(in, addr.data(), addr.size());
    if (v4) {
      n.bytes[10] = n.bytes[11] = 0xff;
      inet_pton(AF_INET, in, n.bytes + 12);
      n.prefix_bits = bits < 0 ? 128 : 96 + bits;
    } else {
      inet_pton(AF_INET6, in, n.bytes);
      n.prefix_bits = bits < 0 ? 128 : bits;
    }
    out.networks_.push_back(n);
  }
  return out;
}

bool TrustedNetworks::Contains(std::string_view address) const {
  if (address.empty() || address.size() >= INET6_ADDRSTRLEN) return false;
  char in[INET6_ADDRSTRLEN] = {};
  std::memcpy(in, address.data(), address.size());
  uint8_t bytes[16] = {};
  if (inet_pton(AF_INET, in, bytes + 12) == 1) {
    bytes[10] = bytes[11] = 0xff;
  } else if (inet_pton(AF_INET6, in, bytes) != 1) {
    return false;
  }
  for (const Network& n : networks_) {
    const int full = n.prefix_bits / 8;
    const int rest = n.prefix_bits % 8;
    if (std::memcmp(bytes, n.bytes, full) != 0) continue;
    if (rest != 0) {
      const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
      if ((bytes[full] & mask) != (n.bytes[full] & mask)) continue;
    }
    return true;
  }
  return false;
}

}  // namespace common
