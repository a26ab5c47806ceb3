#include "mailboxstore/core/keys.h"

namespace mailboxstore::keys {

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}

void PutU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}

uint32_t GetU32(std::string_view s, size_t pos) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[pos + i]);
  return v;
}

uint64_t GetU64(std::string_view s, size_t pos) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[pos + i]);
  return v;
}

std::string EncodeCount(int64_t v) {
  std::string out(8, '\0');
  uint64_t u = static_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((u >> (8 * i)) & 0xff);
  return out;
}

int64_t DecodeCount(std::string_view s) {
  if (s.size() != 8) return 0;
  uint64_t u = 0;
  for (int i = 7; i >= 0; --i) u = (u << 8) | static_cast<unsigned char>(s[i]);
  return static_cast<int64_t>(u);
}

std::string MailboxKey(uint64_t mailbox_id) {
  std::string k;
  PutU64(&k, mailbox_id);
  return k;
}

std::string FolderKey(uint64_t mailbox_id, uint32_t folder_id) {
  std::string k;
  PutU64(&k, mailbox_id);
  PutU32(&k, folder_id);
  return k;
}

std::string FolderNameKey(uint64_t mailbox_id, std::string_view name) {
  std::string k;
  PutU64(&k, mailbox_id);
  k.append(name);
  return k;
}

std::string MessageKey(uint64_t mailbox_id, uint32_t folder_id, uint32_t uid) {
  std::string k;
  PutU64(&k, mailbox_id);
  PutU32(&k, folder_id);
  PutU32(&k, uid);
  return k;
}

std::string MessagePrefix(uint64_t mailbox_id, uint32_t folder_id) {
  return FolderKey(mailbox_id, folder_id);
}

std::string ChangeKey(uint64_t mailbox_id, uint64_t modseq, uint32_t index) {
  std::string k;
  PutU64(&k, mailbox_id);
  PutU64(&k, modseq);
  PutU32(&k, index);
  return k;
}

std::string MailboxCountersKey(uint64_t mailbox_id) {
  std::string k = "c";
  PutU64(&k, mailbox_id);
  return k;
}

std::string SubscriptionKey(uint64_t mailbox_id, std::string_view name) {
  return FolderNameKey(mailbox_id, name);
}

uint32_t MessageKeyUid(std::string_view key) { return GetU32(key, 12); }

std::string SearchSummaryKey(std::string_view message_key) {
  std::string k = "search:";
  k += message_key;
  return k;
}
uint32_t FolderKeyId(std::string_view key) { return GetU32(key, 8); }
uint64_t ChangeKeyModseq(std::string_view key) { return GetU64(key, 8); }

}  // namespace mailboxstore::keys
