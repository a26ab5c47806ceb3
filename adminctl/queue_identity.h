// Queue and message identities as Exchange prints them: a queue is "<server>\<next hop>"
// (mbx01\relay.example.net:25, mbx01\Mailbox Delivery), a message "<server>\<next hop>\<id>".
// The queue cmdlets also accept "<next hop>" for a queue, and "<next hop>\<id>" or the bare id
// for a message. Pure: no gRPC.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace adminctl {

struct QueueIdentity {
  std::string server;    // Empty when not written.
  std::string next_hop;  // Never empty.
};

struct MessageIdentity {
  std::string server;    // Empty when not written.
  std::string next_hop;  // Empty when not written.
  uint64_t id = 0;       // Never 0.
};

// nullopt when `text` is empty, has an empty part or more than two parts.
std::optional<QueueIdentity> ParseQueueIdentity(std::string_view text);

// nullopt when the last part is not a whole number from 1 to 2^64-1, or the parts before it
// are not a queue identity.
std::optional<MessageIdentity> ParseMessageIdentity(std::string_view text);

}  // namespace adminctl
