// The PROXY protocol (HAProxy, versions 1 and 2): the header a TCP load balancer puts in front
// of a connection to tell the server who the client really is. Pure code over bytes: no
// sockets; the listener reads the header (common/listener.cc) and replaces the connection's
// peer address with the one it carries.
//
// The parser never asks for more octets than the header can still have (wanted()), so a reader
// that reads at most wanted() octets at a time leaves everything after the header (a TLS
// ClientHello, an early SMTP command) in the socket for the protocol.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace common {

struct ProxyHeaderLimits {
  // Largest v2 header accepted (16-octet fixed part plus addresses and TLVs). HAProxy's
  // send-proxy-v2 without TLV options sends 28 (IPv4) or 52 (IPv6) octets. Default: 1024.
  size_t max_v2_length = 1024;
};

struct ProxyHeader {
  int version = 0;  // 1 or 2.
  // The proxy speaks for itself (v2 LOCAL: health checks), or the header carries no usable
  // address (v1 UNKNOWN, v2 UNSPEC or AF_UNIX): the connection's own peer is the client.
  bool use_connection_address = false;
  // Canonical text ("192.0.2.7", "2001:db8::1"); empty with use_connection_address.
  std::string source_address;
  uint16_t source_port = 0;
  std::string destination_address;
  uint16_t destination_port = 0;
};

class ProxyHeaderParser {
 public:
  enum class Result { kNeedMore, kDone, kError };

  explicit ProxyHeaderParser(ProxyHeaderLimits limits = {}) : limits_(limits) {}

  // How many octets the header can still take for sure: a reader must not read more than this
  // from the connection at once. 0 once done or failed.
  size_t wanted() const;
  // Takes octets from the front of `data` up to the end of the header at most; `*consumed`
  // says how many. After kDone the header is in header(); after kError, error() says why.
  Result Feed(std::string_view data, size_t* consumed);
  const ProxyHeader& header() const { return header_; }
  const std::string& error() const { return error_; }

 private:
  enum class State { kDetect, kV1, kV2, kDone, kError };
  Result Fail(std::string why);
  Result FinishV1();
  Result FinishV2();

  ProxyHeaderLimits limits_;
  State state_ = State::kDetect;
  std::string buffer_;
  size_t v2_total_ = 0;  // 16 + the length field, once known.
  ProxyHeader header_;
  std::string error_;
};

// The networks whose connections must start with a PROXY header (the load balancers):
// "192.0.2.0/24", "2001:db8::/32", "192.0.2.7", "::1". IPv4 matches IPv4-mapped IPv6 as well.
class TrustedNetworks {
 public:
  // The error names the first entry that is not an address or a CIDR network.
  static StatusOr<TrustedNetworks> Parse(const std::vector<std::string>& networks);
  bool Contains(std::string_view address) const;
  bool empty() const { return networks_.empty(); }

 private:
  struct Network {
    uint8_t bytes[16] = {};
    int prefix_bits = 128;
  };
  std::vector<Network> networks_;
};

}  // namespace common
