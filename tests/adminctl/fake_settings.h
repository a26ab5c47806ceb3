// An in-process fake mail.v1.Settings server on 127.0.0.1:<picked port> for the server
// settings cmdlets: it holds Exchange's defaults, records every request, applies the named
// fields of UpdateProtocolSettings as the store does (all or nothing, version + 1), and
// refuses MaxCommandSize outside Exchange's range. The transport settings start with the
// store's three default receive connectors; UpdateReceiveConnector and UpdateTransportSettings
// follow the store's rules and texts (mailboxstore/core/rocks_settings.cc). Plus a fixture that
// runs command lines.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include <cctype>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "adminctl/cmdlet.h"
#include "adminctl/runner.h"
#include "control.grpc.pb.h"
#include "tests/adminctl/fake_directory.h"

namespace adminctl::test {

class FakeSettings final : public mail::v1::Settings::Service {
 public:
  FakeSettings() {
    settings.set_version(7);
    SetDefaults(settings.mutable_pop3(), 110, 995, "POP3", 512);
    SetDefaults(settings.mutable_imap4(), 143, 993, "IMAP4", 10240);
    settings.mutable_imap4()->set_max_message_size(36ull << 20);
    mail::v1::TransportSettings* t = settings.mutable_transport();
    *t->add_receive_connectors() = ClientConnector("Client Frontend", "587", false);
    *t->add_receive_connectors() = ClientConnector("Client TLS", "465", true);
    mail::v1::ReceiveConnector inbound;
    inbound.set_name("Default Frontend");
    inbound.add_bindings("[::]:25");
    inbound.add_bindings("0.0.0.0:25");
    inbound.add_auth_mechanism(mail::v1::AUTH_MECHANISM_TLS);
    inbound.set_enabled(true);
    *t->add_receive_connectors() = WithDefaults(inbound);
    t->set_message_expiration_seconds(172800);
  }

  grpc::Status UpdateReceiveConnector(grpc::ServerContext*,
                                      const mail::v1::UpdateReceiveConnectorRequest* request,
                                      mail::v1::ServerSettings* response) override {
    std::lock_guard<std::mutex> lock(mu);
    connector_updates.push_back(*request);
    if (fail_with) return *fail_with;
    mail::v1::TransportSettings next = settings.transport();
    auto* list = next.mutable_receive_connectors();
    auto find = [&](const std::string& name) {
      for (int i = 0; i < list->size(); ++i) {
        if (Lower(list->Get(i).name()) == Lower(name)) return i;
      }
      return -1;
    };
    using Request = mail::v1::UpdateReceiveConnectorRequest;
    if (request->action() == Request::ACTION_NEW) {
      mail::v1::ReceiveConnector c = WithDefaults(request->connector());
      if (find(c.name()) >= 0) {
        return grpc::Status(grpc::StatusCode::ALREADY_EXISTS,
                            "A receive connector named '" + c.name() + "' already exists.");
      }
      if (c.bindings().empty()) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "a new receive connector needs Bindings");
      }
      *list->Add() = std::move(c);
    } else {
      const int i = find(request->identity());
      if (i < 0) {
        return grpc::Status(grpc::StatusCode::NOT_FOUND,
                            "The receive connector '" + request->identity() + "' wasn't found.");
      }
      if (request->action() == Request::ACTION_REMOVE) {
        list->DeleteSubrange(i, 1);
      } else {
        std::vector<const google::protobuf::FieldDescriptor*> fields;
        for (const std::string& name : request->fields()) {
          const auto* f = mail::v1::ReceiveConnector::descriptor()->FindFieldByName(name);
          if (f == nullptr) {
            return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "unknown setting: " + name);
          }
          fields.push_back(f);
        }
        mail::v1::ReceiveConnector* c = list->Mutable(i);
        mail::v1::ReceiveConnector source = request->connector();
        c->GetReflection()->SwapFields(c, &source, fields);
        *c = WithDefaults(*c);
        if (c->max_message_size() < 65536 || c->max_message_size() > (2ull << 30)) {
          return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              "MaxMessageSize must be between 64 KB and 2 GB");
        }
      }
    }
    *settings.mutable_transport() = std::move(next);
    settings.set_version(settings.version() + 1);
    *response = settings;
    return grpc::Status::OK;
  }

  grpc::Status UpdateTransportSettings(grpc::ServerContext*,
                                       const mail::v1::UpdateTransportSettingsRequest* request,
                                       mail::v1::ServerSettings* response) override {
    std::lock_guard<std::mutex> lock(mu);
    transport_updates.push_back(*request);
    if (fail_with) return *fail_with;
    std::vector<const google::protobuf::FieldDescriptor*> fields;
    for (const std::string& name : request->fields()) {
      const auto* f = mail::v1::TransportSettings::descriptor()->FindFieldByName(name);
      if (f == nullptr || name == "receive_connectors") {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "unknown setting: " + name);
      }
      fields.push_back(f);
    }
    if (request->settings().message_expiration_seconds() != 0 &&
        request->settings().message_expiration_seconds() < 60) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "MessageExpirationTimeout must be at least 00:01:00");
    }
    mail::v1::TransportSettings source = request->settings();
    mail::v1::TransportSettings* t = settings.mutable_transport();
    t->GetReflection()->SwapFields(t, &source, fields);
    settings.set_version(settings.version() + 1);
    *response = settings;
    return grpc::Status::OK;
  }

  grpc::Status GetSettings(grpc::ServerContext*, const mail::v1::GetSettingsRequest*,
                           mail::v1::ServerSettings* response) override {
    std::lock_guard<std::mutex> lock(mu);
    ++gets;
    if (fail_with) return *fail_with;
    *response = settings;
    return grpc::Status::OK;
  }

  grpc::Status UpdateProtocolSettings(grpc::ServerContext*,
                                      const mail::v1::UpdateProtocolSettingsRequest* request,
                                      mail::v1::ServerSettings* response) override {
    std::lock_guard<std::mutex> lock(mu);
    updates.push_back(*request);
    if (fail_with) return *fail_with;
    const bool pop = request->protocol() == mail::v1::SETTINGS_PROTOCOL_POP3;
    if (!pop && request->protocol() != mail::v1::SETTINGS_PROTOCOL_IMAP4) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "protocol is not set");
    }
    mail::v1::ProtocolSettings next = pop ? settings.pop3() : settings.imap4();
    for (const std::string& name : request->fields()) {
      if (!CopyField(name, request->settings(), &next)) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "unknown field '" + name + "'");
      }
    }
    const uint32_t min = pop ? 40 : 1024;
    const uint32_t max = pop ? 1024 : 16384;
    if (next.max_command_size() < min || next.max_command_size() > max) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "MaxCommandSize must be between " +
                                                                  std::to_string(min) + " and " +
                                                                  std::to_string(max) + " bytes.");
    }
    *(pop ? settings.mutable_pop3() : settings.mutable_imap4()) = next;
    settings.set_version(settings.version() + 1);
    *response = settings;
    return grpc::Status::OK;
  }

  std::mutex mu;
  mail::v1::ServerSettings settings;
  std::optional<grpc::Status> fail_with;  // Every call fails with this when set.
  int gets = 0;
  std::vector<mail::v1::UpdateProtocolSettingsRequest> updates;
  std::vector<mail::v1::UpdateReceiveConnectorRequest> connector_updates;
  std::vector<mail::v1::UpdateTransportSettingsRequest> transport_updates;

 private:
  static std::string Lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  // The store's limits for a connector that has none (common/transport_settings.cc).
  static mail::v1::ReceiveConnector WithDefaults(mail::v1::ReceiveConnector c) {
    if (c.max_message_size() == 0) c.set_max_message_size(36ull << 20);
    if (c.max_recipients_per_message() == 0) c.set_max_recipients_per_message(200);
    if (c.max_inbound_connection() == 0) c.set_max_inbound_connection(5000);
    if (c.max_inbound_connection_per_source() == 0) c.set_max_inbound_connection_per_source(20);
    if (c.connection_timeout_seconds() == 0) c.set_connection_timeout_seconds(600);
    if (c.banner().empty()) c.set_banner("ESMTP service ready");
    return c;
  }

  static mail::v1::ReceiveConnector ClientConnector(const std::string& name,
                                                    const std::string& port, bool tls) {
    mail::v1::ReceiveConnector c;
    c.set_name(name);
    c.add_bindings("[::]:" + port);
    c.add_bindings("0.0.0.0:" + port);
    c.set_implicit_tls(tls);
    c.add_auth_mechanism(mail::v1::AUTH_MECHANISM_TLS);
    c.add_auth_mechanism(mail::v1::AUTH_MECHANISM_BASIC_AUTH);
    c.add_auth_mechanism(mail::v1::AUTH_MECHANISM_BASIC_AUTH_REQUIRE_TLS);
    c.set_require_auth(true);
    c.set_allow_relay_authenticated(true);
    c.set_enabled(true);
    return WithDefaults(c);
  }

  static void SetDefaults(mail::v1::ProtocolSettings* s, int port, int tls_port,
                          std::string_view name, uint32_t max_command_size) {
    s->set_login_type(mail::v1::LOGIN_TYPE_SECURE_LOGIN);
    s->add_unencrypted_or_tls_bindings("[::]:" + std::to_string(port));
    s->add_unencrypted_or_tls_bindings("0.0.0.0:" + std::to_string(port));
    s->add_ssl_bindings("[::]:" + std::to_string(tls_port));
    s->add_ssl_bindings("0.0.0.0:" + std::to_string(tls_port));
    s->add_internal_connection_settings("mail.example.test:" + std::to_string(tls_port) + ":SSL");
    s->add_internal_connection_settings("mail.example.test:" + std::to_string(port) + ":TLS");
    s->set_banner("The " + std::string(name) + " service is ready.");
    s->set_max_connections(2147483647);
    s->set_max_connection_from_single_ip(2147483647);
    s->set_max_connections_per_user(16);
    s->set_max_command_size(max_command_size);
    s->set_pre_authenticated_connection_timeout_seconds(60);
    s->set_authenticated_connection_timeout_seconds(1800);
    s->set_log_file_location("/var/log/casmail/" + std::string(name));
  }

  static bool CopyField(const std::string& name, const mail::v1::ProtocolSettings& from,
                        mail::v1::ProtocolSettings* to) {
    using google::protobuf::FieldDescriptor;
    const FieldDescriptor* f = mail::v1::ProtocolSettings::descriptor()->FindFieldByName(name);
    if (f == nullptr) return false;
    const google::protobuf::Reflection* r = from.GetReflection();
    if (f->is_repeated()) {
      r->ClearField(to, f);
      for (int i = 0; i < r->FieldSize(from, f); ++i) {
        r->AddString(to, f, r->GetRepeatedString(from, f, i));
      }
      return true;
    }
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_UINT32:
        r->SetUInt32(to, f, r->GetUInt32(from, f));
        return true;
      case FieldDescriptor::CPPTYPE_UINT64:
        r->SetUInt64(to, f, r->GetUInt64(from, f));
        return true;
      case FieldDescriptor::CPPTYPE_BOOL:
        r->SetBool(to, f, r->GetBool(from, f));
        return true;
      case FieldDescriptor::CPPTYPE_ENUM:
        r->SetEnumValue(to, f, r->GetEnumValue(from, f));
        return true;
      case FieldDescriptor::CPPTYPE_STRING:
        r->SetString(to, f, r->GetString(from, f));
        return true;
      default:
        return false;
    }
  }
};

class SettingsCmdletsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&fake_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port_, 0);
    endpoint_ = "127.0.0.1:" + std::to_string(port_);
    stub_ = mail::v1::Settings::NewStub(
        grpc::CreateChannel(endpoint_, grpc::InsecureChannelCredentials()));
    context_.settings = stub_.get();
    context_.endpoint = endpoint_;
    context_.server_name = "mbx01";
    context_.terminal = &terminal_;
  }

  void TearDown() override { server_->Shutdown(); }

  Outcome Run(std::string_view line) {
    std::ostringstream out, err;
    context_.warnings = nullptr;
    Runner runner(registry_, context_, out, err);
    Outcome o;
    o.ok = runner.RunLine(line);
    o.out = out.str();
    o.err = err.str();
    return o;
  }

  // The one update sent so far.
  mail::v1::UpdateProtocolSettingsRequest OnlyUpdate() {
    std::lock_guard<std::mutex> lock(fake_.mu);
    EXPECT_EQ(fake_.updates.size(), 1u);
    if (fake_.updates.empty()) return {};
    return fake_.updates.back();
  }

  void ClearUpdates() {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.updates.clear();
  }

  size_t UpdateCount() {
    std::lock_guard<std::mutex> lock(fake_.mu);
    return fake_.updates.size();
  }

  FakeSettings fake_;
  int port_ = 0;
  std::string endpoint_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<mail::v1::Settings::Stub> stub_;
  FakeTerminal terminal_;
  CmdletContext context_;
  CmdletRegistry registry_ = DefaultRegistry();
};

}  // namespace adminctl::test
