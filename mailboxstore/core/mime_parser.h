// Parses a raw RFC 5322 message once, at delivery/APPEND, into the structure IMAP needs
// (ENVELOPE, BODYSTRUCTURE with byte offsets for every MIME part, decoded header fields for
// SEARCH). Never fails: malformed input is parsed as far as it goes and marked `malformed`.
#pragma once

#include <string_view>

#include "store.pb.h"

namespace mailboxstore {

// Bounds that keep a hostile message from costing unbounded time or memory.
struct MimeLimits {
  int max_depth = 50;         // Default: 50 nested multiparts/messages.
  int max_parts = 10000;      // Default: 10000 entities in one message.
  int max_header_fields = 5000;  // Default: 5000 decoded header fields kept.
};

mail::v1::MessageStructure ParseMessage(std::string_view raw, const MimeLimits& limits = {});

// Calls g_mime_init() once per process; safe to call from any thread, any number of times.
void InitMimeLibrary();

}  // namespace mailboxstore
