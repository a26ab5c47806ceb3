#include "mailboxstore/core/search_headers.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/mail_text.h"

namespace mailboxstore {
namespace {

constexpr char kVersion = 1;
constexpr char kTooLargeVersion = 2;

// The codes are stored: never renumber, only add.
constexpr std::array<std::string_view, 6> kFields = {"from", "to",      "cc",
                                                     "bcc",  "subject", "message-id"};

bool EqualsAsciiNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

void PutVarint(size_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Reads a varint at `*pos`; false when it runs past the end or is longer than a size.
bool GetVarint(std::string_view in, size_t* pos, size_t* v) {
  *v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (*pos >= in.size()) return false;
    auto byte = static_cast<unsigned char>(in[(*pos)++]);
    *v |= static_cast<size_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

int SearchHeaderCode(std::string_view field_name) {
  for (size_t i = 0; i < kFields.size(); ++i) {
    if (EqualsAsciiNoCase(field_name, kFields[i])) return static_cast<int>(i) + 1;
  }
  return 0;
}

std::string EncodeSearchHeaders(
    const google::protobuf::RepeatedPtrField<mail::v1::HeaderField>& decoded_headers) {
  std::string out(1, kVersion);
  std::string folded;
  for (const mail::v1::HeaderField& h : decoded_headers) {
    int code = SearchHeaderCode(h.name());
    if (code == 0) continue;
    folded.clear();
    common::AppendFoldCase(h.decoded(), &folded);
    out.push_back(static_cast<char>(code));
    PutVarint(folded.size(), &out);
    out += folded;
    if (out.size() > kMaxSearchHeadersBytes) return std::string(1, kTooLargeVersion);
  }
  return out;
}

SearchHeadersMatch SearchHeadersContain(std::string_view summary, int code,
                                        std::string_view folded_needle) {
  if (summary.empty() || summary[0] != kVersion || code <= 0 ||
      code > static_cast<int>(kFields.size())) {
    return SearchHeadersMatch::kUnknown;
  }
  size_t pos = 1;
  bool found = false;
  while (pos < summary.size()) {
    int field = static_cast<unsigned char>(summary[pos++]);
    size_t len = 0;
    if (!GetVarint(summary, &pos, &len) || len > summary.size() - pos) {
      return SearchHeadersMatch::kUnknown;
    }
    if (!found && field == code &&
        (folded_needle.empty() ||
         summary.substr(pos, len).find(folded_needle) != std::string_view::npos)) {
      // Keep walking: a malformed tail makes the whole summary unknown, not a partial yes.
      found = true;
    }
    pos += len;
  }
  return found ? SearchHeadersMatch::kYes : SearchHeadersMatch::kNo;
}

}  // namespace mailboxstore
