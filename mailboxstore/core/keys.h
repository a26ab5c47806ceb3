// Key encoding for the RocksDB column families. Integers are big-endian so that byte order
// is numeric order and prefix scans come out sorted (mailbox, folder, uid ascending).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mailboxstore::keys {

void PutU32(std::string* out, uint32_t v);
void PutU64(std::string* out, uint64_t v);
// Read a big-endian integer at `pos`; the caller checks the size.
uint32_t GetU32(std::string_view s, size_t pos);
uint64_t GetU64(std::string_view s, size_t pos);

// Little-endian signed counter used by the reference-count merge operator.
std::string EncodeCount(int64_t v);
int64_t DecodeCount(std::string_view s);

std::string MailboxKey(uint64_t mailbox_id);                       // mailbox, credential
std::string FolderKey(uint64_t mailbox_id, uint32_t folder_id);    // folder
std::string FolderNameKey(uint64_t mailbox_id, std::string_view name);  // folder_name
std::string MessageKey(uint64_t mailbox_id, uint32_t folder_id, uint32_t uid);  // message
std::string MessagePrefix(uint64_t mailbox_id, uint32_t folder_id);
std::string ChangeKey(uint64_t mailbox_id, uint64_t modseq, uint32_t index);  // changelog
std::string MailboxCountersKey(uint64_t mailbox_id);               // meta: "c" + id
std::string SubscriptionKey(uint64_t mailbox_id, std::string_view name);

// Decoders for keys produced above (no validation beyond sizes: keys are ours).
uint32_t MessageKeyUid(std::string_view key);
// A message's search summary (search_headers.h) in the meta column family: a prefix, then the
// message key (or any key of that layout, for the bounds of a range).
std::string SearchSummaryKey(std::string_view message_key);
uint32_t FolderKeyId(std::string_view key);
uint64_t ChangeKeyModseq(std::string_view key);

}  // namespace mailboxstore::keys
