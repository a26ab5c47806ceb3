// Internal to the codec: one command as the framer collected it, before the grammar parses it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace cas::imap::internal {

struct FrameLiteral {
  size_t offset = 0;  // Position in Frame::line just after the literal header's "}".
  std::string data;
  bool binary = false;  // literal8 "~{n}"
};

// The lines of one command without their CRLFs, joined, and its literals. A literal header
// "{n}" stays in `line`; the literal's bytes are in `literals`, at the header's end offset.
struct Frame {
  std::string line;
  std::vector<FrameLiteral> literals;
};

}  // namespace cas::imap::internal
