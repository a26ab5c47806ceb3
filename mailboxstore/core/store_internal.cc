#include "mailboxstore/core/store_internal.h"

#include <algorithm>
#include <chrono>

#include <openssl/evp.h>

namespace mailboxstore::internal {
namespace {

constexpr size_t kMaxFlags = 128;
constexpr size_t kMaxFlagBytes = 255;
constexpr const char* kSystemFlags[] = {"\\Answered", "\\Flagged", "\\Deleted", "\\Seen",
                                        "\\Draft"};

bool IsAtomChar(unsigned char c) {
  // RFC 3501 atom-char minus the ones that cannot appear in a flag keyword.
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '(': case ')': case '{': case '%': case '*': case '"': case '\\': case ']':
      return false;
    default:
      return true;
  }
}

}  // namespace

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

common::StatusOr<std::vector<std::string>> NormalizeFlags(
    const google::protobuf::RepeatedPtrField<std::string>& flags) {
  if (static_cast<size_t>(flags.size()) > kMaxFlags) {
    return common::InvalidArgumentError("too many flags");
  }
  std::map<std::string, std::string> by_lower;  // lower -> canonical
  for (const std::string& f : flags) {
    if (f.empty() || f.size() > kMaxFlagBytes) return common::InvalidArgumentError("invalid flag");
    std::string lower = Lower(f);
    if (f[0] == '\\') {
      if (lower == "\\recent") continue;
      const char* canonical = nullptr;
      for (const char* sys : kSystemFlags) {
        if (Lower(sys) == lower) canonical = sys;
      }
      if (canonical == nullptr) return common::InvalidArgumentError("unknown system flag " + f);
      by_lower.emplace(lower, canonical);
      continue;
    }
    for (unsigned char c : f) {
      if (!IsAtomChar(c)) return common::InvalidArgumentError("invalid flag keyword");
    }
    by_lower.emplace(lower, f);  // First spelling wins.
  }
  std::vector<std::string> out;
  out.reserve(by_lower.size());
  for (auto& [lower, canonical] : by_lower) out.push_back(canonical);
  std::sort(out.begin(), out.end());
  return out;
}

bool HasFlag(const mail::v1::MessageRecord& rec, std::string_view flag) {
  for (const std::string& f : rec.flags()) {
    if (f.size() == flag.size() && Lower(f) == Lower(flag)) return true;
  }
  return false;
}

common::StatusOr<std::vector<std::pair<uint32_t, uint32_t>>> NormalizeRanges(
    const google::protobuf::RepeatedPtrField<mail::v1::UidRange>& ranges) {
  if (static_cast<size_t>(ranges.size()) > kMaxUidRanges) {
    return common::InvalidArgumentError("too many UID ranges");
  }
  std::vector<std::pair<uint32_t, uint32_t>> v;
  v.reserve(ranges.size());
  for (const auto& r : ranges) {
    uint32_t a = r.first(), b = r.last();
    if (a > b) std::swap(a, b);
    if (a == 0) a = 1;
    if (b == 0) continue;
    v.emplace_back(a, b);
  }
  std::sort(v.begin(), v.end());
  std::vector<std::pair<uint32_t, uint32_t>> merged;
  for (auto& r : v) {
    if (!merged.empty() && static_cast<uint64_t>(merged.back().second) + 1 >= r.first) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

namespace {

bool IsMultipart(const mail::v1::BodyPart& p) { return p.type() == "multipart"; }
bool IsMessage(const mail::v1::BodyPart& p) {
  return p.type() == "message" && (p.subtype() == "rfc822" || p.subtype() == "global") &&
         p.children_size() > 0;
}

}  // namespace

common::StatusOr<std::pair<uint64_t, uint64_t>> ResolveSection(
    const mail::v1::MessageStructure& structure, const std::string& part,
    mail::v1::BodySection section) {
  const mail::v1::BodyPart& root = structure.body();
  if (part.empty()) {
    switch (section) {
      case mail::v1::BODY_SECTION_FULL:
      case mail::v1::BODY_SECTION_CONTENT:
        return std::make_pair(uint64_t{0}, structure.size());
      case mail::v1::BODY_SECTION_HEADER:
        return std::make_pair(root.header_offset(), root.header_size());
      case mail::v1::BODY_SECTION_TEXT:
        return std::make_pair(root.body_offset(), root.body_size());
      default:
        return common::InvalidArgumentError("MIME needs a part number");
    }
  }
  // Parse "1.2.3".
  std::vector<uint32_t> nums;
  uint64_t cur_num = 0;
  bool have_digit = false;
  for (char c : part) {
    if (c >= '0' && c <= '9') {
      cur_num = cur_num * 10 + static_cast<uint64_t>(c - '0');
      if (cur_num > 100000) return common::InvalidArgumentError("bad part number");
      have_digit = true;
    } else if (c == '.' && have_digit) {
      nums.push_back(static_cast<uint32_t>(cur_num));
      cur_num = 0;
      have_digit = false;
    } else {
      return common::InvalidArgumentError("bad part number");
    }
  }
  if (!have_digit) return common::InvalidArgumentError("bad part number");
  nums.push_back(static_cast<uint32_t>(cur_num));
  if (nums.size() > 100) return common::InvalidArgumentError("part number too deep");

  const mail::v1::BodyPart* cur = &root;
  bool message_context = true;
  for (size_t i = 0; i < nums.size(); ++i) {
    uint32_t n = nums[i];
    if (n == 0) return common::NotFoundError("no such part");
    if (IsMultipart(*cur)) {
      if (n > static_cast<uint32_t>(cur->children_size())) {
        return common::NotFoundError("no such part");
      }
      cur = &cur->children(static_cast<int>(n - 1));
    } else if (!(message_context && n == 1)) {
      return common::NotFoundError("no such part");
    }
    message_context = false;
    if (i + 1 < nums.size() && IsMessage(*cur)) {
      cur = &cur->children(0);
      message_context = true;
    }
  }
  switch (section) {
    case mail::v1::BODY_SECTION_CONTENT:
    case mail::v1::BODY_SECTION_FULL:
      return std::make_pair(cur->body_offset(), cur->body_size());
    case mail::v1::BODY_SECTION_MIME:
      return std::make_pair(cur->header_offset(), cur->header_size());
    case mail::v1::BODY_SECTION_HEADER:
    case mail::v1::BODY_SECTION_TEXT: {
      if (!IsMessage(*cur)) return common::InvalidArgumentError("part is not a message/rfc822");
      const mail::v1::BodyPart& inner = cur->children(0);
      if (section == mail::v1::BODY_SECTION_HEADER) {
        return std::make_pair(inner.header_offset(), inner.header_size());
      }
      return std::make_pair(inner.body_offset(), inner.body_size());
    }
    default:
      return common::InvalidArgumentError("bad section");
  }
}

std::string Sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

}  // namespace mailboxstore::internal
