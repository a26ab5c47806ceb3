// Modified UTF-7 (RFC 3501 section 5.1.3), the encoding of mailbox names on the wire unless
// the client enabled UTF8=ACCEPT. Pure functions over bytes; untrusted input never crashes.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace cas::imap {

// True if `s` is well-formed UTF-8: no overlong forms, no UTF-16 surrogates, nothing above
// U+10FFFF.
bool IsValidUtf8(std::string_view s);

// Encodes a UTF-8 mailbox name as modified UTF-7: printable US-ASCII except "&" stands for
// itself, "&" becomes "&-", and every run of other characters becomes "&" + modified base64 of
// its UTF-16 + "-". Fails on invalid UTF-8 and on U+0000.
common::StatusOr<std::string> Utf8ToMutf7(std::string_view utf8);

// Decodes modified UTF-7 to UTF-8, accepting only the canonical encoding: bytes outside
// printable US-ASCII, an unterminated or empty shift, characters outside the modified base64
// alphabet, non-zero or excess padding bits, a lone or reversed UTF-16 surrogate, an encoded
// printable US-ASCII character, U+0000 and two adjacent encoded runs are all rejected.
common::StatusOr<std::string> Mutf7ToUtf8(std::string_view mutf7);

}  // namespace cas::imap
