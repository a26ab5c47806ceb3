#include "adminctl/queue_identity.h"

#include <limits>

namespace adminctl {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> ParseId(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (n > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    n = n * 10 + digit;
  }
  if (n == 0) return std::nullopt;
  return n;
}

}  // namespace

std::optional<QueueIdentity> ParseQueueIdentity(std::string_view text) {
  text = Trim(text);
  QueueIdentity out;
  const size_t slash = text.find('\\');
  if (slash == std::string_view::npos) {
    out.next_hop = std::string(text);
  } else {
    out.server = std::string(Trim(text.substr(0, slash)));
    out.next_hop = std::string(Trim(text.substr(slash + 1)));
    if (out.server.empty() || out.next_hop.find('\\') != std::string::npos) return std::nullopt;
  }
  if (out.next_hop.empty()) return std::nullopt;
  return out;
}

std::optional<MessageIdentity> ParseMessageIdentity(std::string_view text) {
  text = Trim(text);
  MessageIdentity out;
  const size_t slash = text.rfind('\\');
  std::optional<uint64_t> id =
      ParseId(Trim(slash == std::string_view::npos ? text : text.substr(slash + 1)));
  if (!id) return std::nullopt;
  out.id = *id;
  if (slash != std::string_view::npos) {
    std::optional<QueueIdentity> queue = ParseQueueIdentity(text.substr(0, slash));
    if (!queue) return std::nullopt;
    out.server = std::move(queue->server);
    out.next_hop = std::move(queue->next_hop);
  }
  return out;
}

}  // namespace adminctl
