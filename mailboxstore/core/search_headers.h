// The per-message search summary: the header fields clients search most (FROM, TO, CC, BCC,
// SUBJECT, Message-ID), already decoded and case-folded, kept with each message record (in the
// meta column family under keys::SearchSummaryKey of the record's key, so in the same order).
// SEARCH FROM x on a large folder then reads one short value per message in key order instead
// of looking up and parsing each message's structure by content hash.
//
// Encoding (bytes): a version byte, then per field occurrence in message order
// [field code][varint length][folded value]. A message whose fields do not fit in
// kMaxSearchHeadersBytes gets the version byte alone with kSearchHeadersTooLarge: the search
// reads its structure instead, so nothing is ever truncated out of a match.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <google/protobuf/repeated_ptr_field.h>

#include "store.pb.h"

namespace mailboxstore {

inline constexpr size_t kMaxSearchHeadersBytes = 16 * 1024;

// 0 when the field (ASCII case ignored) is not in the summary.
int SearchHeaderCode(std::string_view field_name);

// The summary of a message's top-level decoded header fields.
std::string EncodeSearchHeaders(
    const google::protobuf::RepeatedPtrField<mail::v1::HeaderField>& decoded_headers);

enum class SearchHeadersMatch { kNo, kYes, kUnknown };

// Whether a field with code `code` contains `folded_needle` (FoldCase'd; empty: the field is
// there), as common::HeaderFieldContains answers on the message's structure. kUnknown when
// the summary cannot say (too large, another version, malformed): read the structure.
SearchHeadersMatch SearchHeadersContain(std::string_view summary, int code,
                                        std::string_view folded_needle);

}  // namespace mailboxstore
