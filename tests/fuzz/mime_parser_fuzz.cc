// libFuzzer target for the MIME entry point: every input parses, every part lies inside its
// parent and the message, and the result survives a protobuf round trip (it crosses gRPC).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mailboxstore/core/mime_parser.h"
using mail::v1::BodyPart;
static void Check(const BodyPart& p, uint64_t begin, uint64_t end, uint64_t size, int level) {
  uint64_t be = p.body_offset() + p.body_size();
  if (p.header_offset() < begin || p.header_offset() + p.header_size() != p.body_offset() ||
      be > end || be > size || level > 90)
    abort();
  if (p.type() == "multipart" && p.children_size() < 1) abort();
  if (p.type() == "message" && p.subtype() == "rfc822" && p.children_size() != 1) abort();
  uint64_t cur = p.body_offset();
  for (const auto& c : p.children()) {
    Check(c, cur, be, size, level + 1);
    cur = c.body_offset() + c.body_size();
  }
}
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  for (int v = 0; v < 2; ++v) {
    mailboxstore::MimeLimits limits;
    if (v == 1) {
      limits.max_depth = 3;
      limits.max_parts = 5;
      limits.max_header_fields = 3;
    }
    auto s = mailboxstore::ParseMessage(raw, limits);
    if (s.size() != size) abort();
    Check(s.body(), 0, size, size, 0);
    mail::v1::MessageStructure copy;
    if (!copy.ParseFromString(s.SerializeAsString())) abort();
  }
  return 0;
}
