// Pieces shared by the engine's source files (not part of the engine's interface).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store.pb.h"

namespace mailboxstore::internal {

int64_t NowUnix();

// Canonical flag list: system flags in canonical case, keywords deduplicated
// case-insensitively, sorted; \Recent is dropped (not storable). Rejects invalid flags.
common::StatusOr<std::vector<std::string>> NormalizeFlags(
    const google::protobuf::RepeatedPtrField<std::string>& flags);
bool HasFlag(const mail::v1::MessageRecord& rec, std::string_view flag);

// Sorted, merged ranges; at most kMaxUidRanges.
inline constexpr size_t kMaxUidRanges = 100000;
common::StatusOr<std::vector<std::pair<uint32_t, uint32_t>>> NormalizeRanges(
    const google::protobuf::RepeatedPtrField<mail::v1::UidRange>& ranges);

// Byte range of a BODY[part.section] within the raw message.
common::StatusOr<std::pair<uint64_t, uint64_t>> ResolveSection(
    const mail::v1::MessageStructure& structure, const std::string& part,
    mail::v1::BodySection section);

std::string Sha256(std::string_view data);
std::string Lower(std::string_view s);

}  // namespace mailboxstore::internal
