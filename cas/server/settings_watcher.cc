#include "cas/server/settings_watcher.h"

#include <chrono>

#include "common/logging.h"
#include "common/store_token.h"
#include "common/transport_settings.h"
#include "control.grpc.pb.h"

namespace cas {

mail::v1::ProtocolSettings MergeSettings(const mail::v1::ProtocolSettings& config,
                                         const mail::v1::ProtocolSettings& store,
                                         common::SettingsKind kind) {
  mail::v1::ProtocolSettings overlay = store;
  // Bindings: a node whose config file names listeners keeps them; otherwise the
  // organisation's (Set-ImapSettings -SSLBindings ...) apply, and a change re-opens them.
  if (!config.unencrypted_or_tls_bindings().empty() || !config.ssl_bindings().empty()) {
    overlay.clear_unencrypted_or_tls_bindings();
    overlay.clear_ssl_bindings();
  }
  mail::v1::ProtocolSettings out = config;
  // A list the administrator set replaces the configured one instead of adding to it.
  const auto* refl = overlay.GetReflection();
  const auto* desc = overlay.GetDescriptor();
  for (int i = 0; i < desc->field_count(); ++i) {
    const auto* f = desc->field(i);
    if (f->is_repeated() && refl->FieldSize(overlay, f) > 0) out.GetReflection()->ClearField(&out, f);
  }
  out.MergeFrom(overlay);
  return common::WithDefaults(out, kind);
}

SettingsWatcher::SettingsWatcher(std::string store_endpoint,
                                 mail::v1::ProtocolSettings pop3_config,
                                 mail::v1::ProtocolSettings imap4_config,
                                 common::SettingsHolder* pop3, common::SettingsHolder* imap4)
    : endpoint_(std::move(store_endpoint)),
      pop3_config_(std::move(pop3_config)),
      imap4_config_(std::move(imap4_config)),
      pop3_(pop3),
      imap4_(imap4) {}

SettingsWatcher::~SettingsWatcher() { Stop(); }

std::shared_ptr<const mail::v1::TransportSettings> SettingsWatcher::transport() const {
  std::lock_guard<std::mutex> lock(transport_mu_);
  return transport_;
}

std::shared_ptr<const mail::v1::ServerSettings> SettingsWatcher::certificates() const {
  std::lock_guard<std::mutex> lock(transport_mu_);
  return certificates_;
}

bool SettingsWatcher::WaitForFirstSnapshot(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(first_mu_);
  return first_cv_.wait_for(lock, timeout, [this] { return have_first_; });
}

void SettingsWatcher::SetOnChange(std::function<void()> on_change) {
  std::lock_guard<std::mutex> lock(on_change_mu_);
  on_change_ = std::move(on_change);
}

void SettingsWatcher::Start() { thread_ = std::thread([this] { Loop(); }); }

void SettingsWatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    if (ctx_ != nullptr) ctx_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

void SettingsWatcher::Loop() {
  auto channel = grpc::CreateChannel(endpoint_, grpc::InsecureChannelCredentials());
  auto stub = mail::v1::Settings::NewStub(channel);
  int backoff_ms = 100;
  while (!stop_) {
    grpc::ClientContext ctx;
    common::AttachStoreToken(&ctx);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
      ctx_ = &ctx;
    }
    auto reader = stub->WatchSettings(&ctx, mail::v1::GetSettingsRequest());
    mail::v1::ServerSettings s;
    while (reader->Read(&s)) {
      backoff_ms = 100;
      auto pop3 = MergeSettings(pop3_config_, s.pop3(), common::SettingsKind::kPop3);
      auto imap4 = MergeSettings(imap4_config_, s.imap4(), common::SettingsKind::kImap4);
      if (common::Validate(pop3, common::SettingsKind::kPop3).ok()) pop3_->Set(pop3);
      if (common::Validate(imap4, common::SettingsKind::kImap4).ok()) imap4_->Set(imap4);
      {
        auto certificates = std::make_shared<mail::v1::ServerSettings>();
        *certificates->mutable_certificates() = s.certificates();
        std::lock_guard<std::mutex> lock(transport_mu_);
        certificates_ = std::move(certificates);
      }
      {
        std::lock_guard<std::mutex> lock(on_change_mu_);
        if (on_change_) on_change_();
      }
      {
        std::lock_guard<std::mutex> lock(first_mu_);
        have_first_ = true;
      }
      first_cv_.notify_all();
      auto transport = std::make_shared<const mail::v1::TransportSettings>(
          common::TransportWithDefaults(s.transport()));
      {
        std::lock_guard<std::mutex> lock(transport_mu_);
        transport_ = std::move(transport);
      }
      if (s.version() != version_) {
        MAIL_LOG(kInfo, "casd") << "applied settings version " << s.version();
      }
      version_ = s.version();
    }
    (void)reader->Finish();
    {
      std::lock_guard<std::mutex> lock(mu_);
      ctx_ = nullptr;
    }
    if (stop_) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min(backoff_ms * 2, 2000);
  }
}

}  // namespace cas
