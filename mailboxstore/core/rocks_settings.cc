// The settings half of RocksMailboxStore: Set-PopSettings / Set-ImapSettings values, stored
// once for the whole organisation and watched by every frontend node.
#include <chrono>

#include <google/protobuf/descriptor.h>

#include "common/logging.h"
#include "common/protocol_settings.h"
#include "mailboxstore/core/rocks_mailbox_store.h"

namespace mailboxstore {

namespace {
constexpr const char* kSettingsKey = "settings";
}  // namespace

common::Status RocksMailboxStore::LoadSettings() {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(kMeta), kSettingsKey, &v);
  if (s.IsNotFound()) {
    settings_.set_version(1);
    return common::Status::Ok();
  }
  if (!s.ok()) return common::UnavailableError("read settings: " + s.ToString());
  if (!settings_.ParseFromString(v)) return common::InternalError("corrupt settings");
  return common::Status::Ok();
}

mail::v1::ServerSettings RocksMailboxStore::GetSettings(bool effective) {
  std::lock_guard<std::mutex> lock(settings_mu_);
  mail::v1::ServerSettings out = settings_;
  if (effective) {
    *out.mutable_pop3() = common::WithDefaults(out.pop3(), common::SettingsKind::kPop3);
    *out.mutable_imap4() = common::WithDefaults(out.imap4(), common::SettingsKind::kImap4);
  }
  return out;
}

common::StatusOr<mail::v1::ServerSettings> RocksMailboxStore::UpdateProtocolSettings(
    const mail::v1::UpdateProtocolSettingsRequest& req) {
  common::SettingsKind kind;
  if (req.protocol() == mail::v1::SETTINGS_PROTOCOL_POP3) {
    kind = common::SettingsKind::kPop3;
  } else if (req.protocol() == mail::v1::SETTINGS_PROTOCOL_IMAP4) {
    kind = common::SettingsKind::kImap4;
  } else {
    return common::InvalidArgumentError("protocol must be POP3 or IMAP4");
  }
  const auto* desc = mail::v1::ProtocolSettings::descriptor();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  for (const std::string& name : req.fields()) {
    const auto* f = desc->FindFieldByName(name);
    if (f == nullptr) return common::InvalidArgumentError("unknown setting: " + name);
    fields.push_back(f);
  }
  std::unique_lock<std::mutex> lock(settings_mu_);
  mail::v1::ServerSettings next = settings_;
  mail::v1::ProtocolSettings* target =
      kind == common::SettingsKind::kPop3 ? next.mutable_pop3() : next.mutable_imap4();
  mail::v1::ProtocolSettings source = req.settings();
  target->GetReflection()->SwapFields(target, &source, fields);
  MAIL_RETURN_IF_ERROR(common::Validate(common::WithDefaults(*target, kind), kind));
  next.set_version(settings_.version() + 1);
  PendingWrite w;
  w.Put(cf(kMeta), kSettingsKey, next.SerializeAsString());
  MAIL_RETURN_IF_ERROR(committer_->Commit(&w));
  settings_ = next;
  lock.unlock();
  settings_cv_.notify_all();
  MAIL_LOG(kInfo, "settings") << "settings version " << next.version() << ": "
                              << (kind == common::SettingsKind::kPop3 ? "POP3" : "IMAP4")
                              << " changed (" << req.fields_size() << " fields)";
  return GetSettings(true);
}

mail::v1::ServerSettings RocksMailboxStore::WaitForSettings(uint64_t seen, int timeout_ms) {
  std::unique_lock<std::mutex> lock(settings_mu_);
  settings_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                        [&] { return settings_.version() > seen || stopping_settings_; });
  return settings_;
}

}  // namespace mailboxstore
