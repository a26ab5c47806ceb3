// A mailboxstored running in-process on 127.0.0.1:0 with a temporary database, reached over
// real gRPC channels: the admin endpoint on a unix socket and the frontend endpoint on TCP.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "directory.grpc.pb.h"
#include "mailboxstore/service/store_server.h"
#include "store.grpc.pb.h"

namespace mailboxstore::testing {

inline std::string MakeTempDir(const char* tag) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (std::string(tag) + ".XXXXXX"));
  char* p = mkdtemp(tmpl.data());
  EXPECT_NE(p, nullptr);
  return tmpl;
}

class StoreFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("storetest");
    Start();
  }
  void TearDown() override {
    Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  virtual void Customize(StoreServerOptions*) {}

  void Start() {
    StoreServerOptions o;
    o.store.data_dir = dir_ + "/db";
    o.store.retention_interval_seconds = 0;
    o.listen = "127.0.0.1:0";
    o.admin_socket = dir_ + "/admin.sock";
    Customize(&o);
    auto s = StoreServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(100 << 20);
    args.SetMaxSendMessageSize(100 << 20);
    admin_channel_ = grpc::CreateCustomChannel("unix:" + o.admin_socket,
                                               grpc::InsecureChannelCredentials(), args);
    frontend_channel_ = grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials(), args);
    directory_ = mail::v1::Directory::NewStub(admin_channel_);
    maintenance_ = mail::v1::Maintenance::NewStub(admin_channel_);
    access_ = mail::v1::Access::NewStub(frontend_channel_);
    store_ = mail::v1::MessageStore::NewStub(frontend_channel_);
  }

  void Stop() {
    directory_.reset();
    maintenance_.reset();
    access_.reset();
    store_.reset();
    admin_channel_.reset();
    frontend_channel_.reset();
    server_.reset();
  }

  void Restart() {
    Stop();
    Start();
  }

  // Creates a mailbox and returns it (fails the test on error).
  mail::v1::Mailbox NewMailbox(const std::string& name, const std::string& password = "Secret-1") {
    grpc::ClientContext ctx;
    mail::v1::CreateMailboxRequest req;
    req.set_name(name);
    req.set_primary_smtp_address(name + "@example.test");
    req.set_password(password);
    mail::v1::GetMailboxResponse resp;
    grpc::Status s = directory_->CreateMailbox(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.mailbox();
  }

  mail::v1::AppendResponse AppendMessage(uint64_t mailbox, const std::string& folder,
                                         const std::string& message,
                                         std::vector<std::string> flags = {}) {
    grpc::ClientContext ctx;
    mail::v1::AppendRequest req;
    req.set_mailbox_id(mailbox);
    req.mutable_folder()->set_name(folder);
    req.set_message(message);
    for (auto& f : flags) req.add_flags(f);
    mail::v1::AppendResponse resp;
    grpc::Status s = store_->Append(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  std::vector<mail::v1::MessageRecord> FetchAll(uint64_t mailbox, const std::string& folder,
                                                bool with_structure = false) {
    grpc::ClientContext ctx;
    mail::v1::FetchRequest req;
    req.set_mailbox_id(mailbox);
    req.mutable_folder()->set_name(folder);
    req.set_with_structure(with_structure);
    auto reader = store_->Fetch(&ctx, req);
    std::vector<mail::v1::MessageRecord> out;
    mail::v1::FetchResponse chunk;
    while (reader->Read(&chunk)) {
      for (auto& m : chunk.messages()) out.push_back(m);
    }
    grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  std::string GetBody(uint64_t mailbox, const std::string& folder, uint32_t uid,
                      const std::string& part = "",
                      mail::v1::BodySection section = mail::v1::BODY_SECTION_FULL,
                      uint64_t offset = 0, uint64_t length = 0, grpc::Status* status = nullptr) {
    grpc::ClientContext ctx;
    mail::v1::GetBodyRequest req;
    req.set_mailbox_id(mailbox);
    req.mutable_folder()->set_name(folder);
    req.set_uid(uid);
    req.set_part(part);
    req.set_section(section);
    req.set_offset(offset);
    req.set_length(length);
    auto reader = store_->GetBody(&ctx, req);
    std::string out;
    mail::v1::GetBodyResponse chunk;
    while (reader->Read(&chunk)) out += chunk.data();
    grpc::Status s = reader->Finish();
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    return out;
  }

  mail::v1::Folder Folder(uint64_t mailbox, const std::string& name) {
    grpc::ClientContext ctx;
    mail::v1::GetFolderRequest req;
    req.set_mailbox_id(mailbox);
    req.mutable_folder()->set_name(name);
    mail::v1::FolderResponse resp;
    grpc::Status s = store_->GetFolder(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << name << ": " << s.error_message();
    return resp.folder();
  }

  std::string dir_;
  std::unique_ptr<StoreServer> server_;
  std::shared_ptr<grpc::Channel> admin_channel_, frontend_channel_;
  std::unique_ptr<mail::v1::Directory::Stub> directory_;
  std::unique_ptr<mail::v1::Maintenance::Stub> maintenance_;
  std::unique_ptr<mail::v1::Access::Stub> access_;
  std::unique_ptr<mail::v1::MessageStore::Stub> store_;
};

inline std::string SimpleMessage(const std::string& subject, const std::string& body = "Hello") {
  return "From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: " + subject +
         "\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <" + subject +
         "@example.test>\r\n\r\n" + body + "\r\n";
}

}  // namespace mailboxstore::testing
