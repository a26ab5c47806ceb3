// Internal to the codec: the IMAP4 command grammar over one complete Frame.
#pragma once

#include <string_view>
#include <variant>

#include "cas/imap/codec/command.h"
#include "cas/imap/codec/frame.h"
#include "cas/imap/codec/parser.h"

namespace cas::imap::internal {

// Parses one complete command (all its lines and literals). APPEND message literals are moved
// out of `frame`. Errors carry ErrorRecovery::kNone and the tag when it was valid.
std::variant<Command, ParseError> ParseFrame(Frame& frame, const ParserLimits& limits,
                                             const ParserOptions& options);

// True if `name` (any case) names a command, after "UID" when `uid`. *takes_arguments tells
// whether anything may follow the name.
bool LookupCommand(std::string_view name, bool uid, bool* takes_arguments);

// tag = 1*<any ASTRING-CHAR except "+">
bool IsTagChar(char c);
// ATOM-CHAR (RFC 3501 formal syntax).
bool IsAtomChar(char c);

}  // namespace cas::imap::internal
