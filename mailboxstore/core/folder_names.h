// Folder names: validation, INBOX normalisation and IMAP LIST pattern matching. Names are
// UTF-8 paths with "/" as the hierarchy delimiter.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace mailboxstore {

inline constexpr char kFolderDelimiter = '/';
inline constexpr size_t kMaxFolderNameBytes = 1024;  // Whole path.
inline constexpr size_t kMaxFolderComponentBytes = 255;
inline constexpr int kMaxFolderDepth = 32;

// "inbox", "Inbox/x" -> "INBOX", "INBOX/x" (INBOX is case-insensitive, RFC 3501 5.1).
std::string NormalizeFolderName(std::string_view name);

// Valid UTF-8, no control characters, no empty component (so no leading, trailing or doubled
// "/"), within the size and depth bounds. `name` must already be normalised.
common::Status ValidateFolderName(std::string_view name);

// IMAP LIST matching: "*" matches anything, "%" anything but the delimiter.
bool MatchFolderPattern(std::string_view pattern, std::string_view name);

// The pattern LIST uses for a reference and a mailbox argument (RFC 3501 6.3.8).
std::string CombineListPattern(std::string_view reference, std::string_view pattern);

// True if `name` is a strict descendant of `parent` ("a/b" of "a").
bool IsDescendant(std::string_view name, std::string_view parent);

bool IsValidUtf8(std::string_view s);

}  // namespace mailboxstore
