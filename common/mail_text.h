// The text of a stored message as searches see it: transfer decoding, charset conversion to
// UTF-8 and case folding. Shared by the IMAP SEARCH evaluator in casd (header keys) and the
// store's text search in mailboxstored (BODY and TEXT, evaluated next to the bodies so that a
// SEARCH is one store call, never one call per message). Pure functions over bytes and the
// stored MessageStructure: no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store.pb.h"

namespace common {

// Content-Transfer-Encoding decoding (RFC 2045; BINARY[section] of RFC 3516 too). `encoding`
// is matched ignoring case: 7BIT, 8BIT, BINARY and "" return `content` unchanged; BASE64
// ignores line breaks and white space and fails with kInvalidArgument on any other character
// outside the alphabet, on misplaced padding or on a dangling single character (data after the
// final padding is ignored, RFC 2045 6.8); QUOTED-PRINTABLE decodes "=XX" (either case) and
// soft line breaks, drops trailing white space before line breaks and passes malformed "="
// sequences through unchanged (it never fails). Any other encoding fails with kUnimplemented.
StatusOr<std::string> DecodeTransferEncoding(std::string_view content, std::string_view encoding);

// Simple Unicode case folding (CaseFolding.txt status C and S) for the scripts mail is mostly
// written in: ASCII, Latin-1, Latin Extended-A/-B and Additional, Greek, Cyrillic, Armenian,
// fullwidth Latin. Bytes that are not valid UTF-8 are copied unchanged; no other
// normalisation (accents and white space stay significant).
std::string FoldCase(std::string_view utf8);
void AppendFoldCase(std::string_view utf8, std::string* out);

// The folded UTF-8 text of every text/* leaf part of `root` (encapsulated messages' parts
// included) in MIME order, after transfer decoding (a damaged base64 body yields what its
// alphabet characters decode to) and conversion of the part's charset to UTF-8 (unknown or
// mislabelled text is read as windows-1252). Each part is followed by a NUL byte, so that no
// match spans two parts (IMAP strings cannot carry NUL, so no search string contains it).
// At most `max_text_bytes` of text in all; the rest is not searched.
std::string FoldedBodyText(std::string_view raw, const mail::v1::BodyPart& root,
                           size_t max_text_bytes);

// The folded decoded header block for SEARCH TEXT: one "name: value" line per top-level field
// (RFC 2047 decoded, unfolded), in message order.
std::string FoldedHeaderBlock(const mail::v1::MessageStructure& structure);

// SEARCH FROM/TO/CC/BCC/SUBJECT/HEADER: true if a top-level header field named `name` (ASCII
// case ignored) has a decoded value that contains `folded_needle` (already FoldCase'd); with an
// empty needle, true if the field is there at all.
bool HeaderFieldContains(const google::protobuf::RepeatedPtrField<mail::v1::HeaderField>& headers,
                         std::string_view name, std::string_view folded_needle);

}  // namespace common
