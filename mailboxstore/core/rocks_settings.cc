// The settings half of RocksMailboxStore: Set-PopSettings / Set-ImapSettings values, stored
// once for the whole organisation and watched by every frontend node.
#include <algorithm>
#include <chrono>
#include <iterator>

#include <google/protobuf/descriptor.h>

#include "common/logging.h"
#include "common/protocol_settings.h"
#include "common/transport_settings.h"
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
    *out.mutable_transport() = common::TransportWithDefaults(out.transport());
    // Admin replies show what a certificate is, never its key (nor the whole PEM).
    for (auto& c : *out.mutable_certificates()) {
      c.clear_private_key_pem();
      c.clear_chain_pem();
    }
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
  MAIL_RETURN_IF_ERROR(CommitSettingsLocked(
      std::move(next), std::string(kind == common::SettingsKind::kPop3 ? "POP3" : "IMAP4") +
                           " changed (" + std::to_string(req.fields_size()) + " fields)"));
  lock.unlock();
  return GetSettings(true);
}

common::Status RocksMailboxStore::CommitSettingsLocked(mail::v1::ServerSettings next,
                                                       const std::string& what) {
  next.set_version(settings_.version() + 1);
  PendingWrite w;
  w.Put(cf(kMeta), kSettingsKey, next.SerializeAsString());
  MAIL_RETURN_IF_ERROR(committer_->Commit(&w));
  settings_ = std::move(next);
  settings_cv_.notify_all();
  MAIL_LOG(kInfo, "settings") << "settings version " << settings_.version() << ": " << what;
  return common::Status::Ok();
}

common::StatusOr<mail::v1::ServerSettings> RocksMailboxStore::UpdateReceiveConnector(
    const mail::v1::UpdateReceiveConnectorRequest& req) {
  std::unique_lock<std::mutex> lock(settings_mu_);
  mail::v1::ServerSettings next = settings_;
  mail::v1::TransportSettings* t = next.mutable_transport();
  if (!t->receive_connectors_customized()) {
    // The first change turns the defaults into explicit connectors.
    t->clear_receive_connectors();
    for (auto& c : common::DefaultReceiveConnectors()) *t->add_receive_connectors() = std::move(c);
    t->set_receive_connectors_customized(true);
  }
  auto* list = t->mutable_receive_connectors();
  auto find = [&](const std::string& name) {
    return std::find_if(list->begin(), list->end(), [&](const mail::v1::ReceiveConnector& c) {
      return common::SameConnectorName(c.name(), name);
    });
  };
  std::string what;
  switch (req.action()) {
    case mail::v1::UpdateReceiveConnectorRequest::ACTION_NEW: {
      mail::v1::ReceiveConnector c = common::ConnectorWithDefaults(req.connector());
      if (find(c.name()) != list->end()) {
        return common::AlreadyExistsError("A receive connector named '" + c.name() +
                                          "' already exists.");
      }
      if (c.bindings().empty()) {
        return common::InvalidArgumentError("a new receive connector needs Bindings");
      }
      MAIL_RETURN_IF_ERROR(common::ValidateConnector(c));
      what = "receive connector '" + c.name() + "' created";
      *list->Add() = std::move(c);
      break;
    }
    case mail::v1::UpdateReceiveConnectorRequest::ACTION_REMOVE: {
      auto it = find(req.identity());
      if (it == list->end()) {
        return common::NotFoundError("The receive connector '" + req.identity() +
                                     "' wasn't found.");
      }
      what = "receive connector '" + it->name() + "' removed";
      list->erase(it);
      break;
    }
    default: {
      auto it = find(req.identity());
      if (it == list->end()) {
        return common::NotFoundError("The receive connector '" + req.identity() +
                                     "' wasn't found.");
      }
      const auto* desc = mail::v1::ReceiveConnector::descriptor();
      std::vector<const google::protobuf::FieldDescriptor*> fields;
      for (const std::string& name : req.fields()) {
        const auto* f = desc->FindFieldByName(name);
        if (f == nullptr) return common::InvalidArgumentError("unknown setting: " + name);
        fields.push_back(f);
      }
      mail::v1::ReceiveConnector source = req.connector();
      it->GetReflection()->SwapFields(&*it, &source, fields);
      *it = common::ConnectorWithDefaults(*it);
      MAIL_RETURN_IF_ERROR(common::ValidateConnector(*it));
      for (auto other = list->begin(); other != list->end(); ++other) {
        if (other != it && common::SameConnectorName(other->name(), it->name())) {
          return common::AlreadyExistsError("A receive connector named '" + it->name() +
                                            "' already exists.");
        }
      }
      what = "receive connector '" + it->name() + "' changed (" +
             std::to_string(req.fields_size()) + " fields)";
      break;
    }
  }
  MAIL_RETURN_IF_ERROR(CommitSettingsLocked(std::move(next), what));
  lock.unlock();
  return GetSettings(true);
}

common::StatusOr<mail::v1::ServerSettings> RocksMailboxStore::UpdateTransportSettings(
    const mail::v1::UpdateTransportSettingsRequest& req) {
  static const char* const kAllowed[] = {"smart_hosts", "message_expiration_seconds",
                                         "postmaster_address",
                                         "smtp_client_authentication_disabled"};
  const auto* desc = mail::v1::TransportSettings::descriptor();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  for (const std::string& name : req.fields()) {
    bool allowed = std::find(std::begin(kAllowed), std::end(kAllowed), name) != std::end(kAllowed);
    const auto* f = desc->FindFieldByName(name);
    if (!allowed || f == nullptr) return common::InvalidArgumentError("unknown setting: " + name);
    fields.push_back(f);
  }
  for (const auto& h : req.settings().smart_hosts()) {
    if (h.host().empty() || h.port() > 65535) {
      return common::InvalidArgumentError("SmartHosts: a host name and a port up to 65535");
    }
  }
  if (req.settings().message_expiration_seconds() != 0 &&
      req.settings().message_expiration_seconds() < 60) {
    return common::InvalidArgumentError("MessageExpirationTimeout must be at least 00:01:00");
  }
  std::unique_lock<std::mutex> lock(settings_mu_);
  mail::v1::ServerSettings next = settings_;
  mail::v1::TransportSettings source = req.settings();
  next.mutable_transport()->GetReflection()->SwapFields(next.mutable_transport(), &source, fields);
  MAIL_RETURN_IF_ERROR(CommitSettingsLocked(
      std::move(next), "transport settings changed (" + std::to_string(req.fields_size()) +
                           " fields)"));
  lock.unlock();
  return GetSettings(true);
}

mail::v1::ServerSettings RocksMailboxStore::WaitForSettings(uint64_t seen, int timeout_ms) {
  std::unique_lock<std::mutex> lock(settings_mu_);
  settings_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                        [&] { return settings_.version() > seen || stopping_settings_; });
  return settings_;
}

}  // namespace mailboxstore
