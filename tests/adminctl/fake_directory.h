// The test double the cmdlet tests share: an in-process fake mail.v1.Directory server on
// 127.0.0.1:<picked port> that records every request and applies updates with the store's
// rules, a scripted terminal, and a fixture that runs command lines through the Runner.
#pragma once

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "adminctl/cmdlet.h"
#include "adminctl/runner.h"
#include "directory.grpc.pb.h"

namespace adminctl::test {

using grpc::ServerContext;
using grpc::Status;
using grpc::StatusCode;
using mail::v1::Mailbox;

inline constexpr int64_t kCreated = 1732599372;  // 11/26/2024 5:36:12 AM UTC.
inline constexpr int64_t kNow = 1735732800;      // 1/1/2025 12:00:00 PM UTC.

class FakeDirectory final : public mail::v1::Directory::Service {
 public:
  Status CreateMailbox(ServerContext* context, const mail::v1::CreateMailboxRequest* request,
                       mail::v1::GetMailboxResponse* response) override {
    std::lock_guard<std::mutex> lock(mu);
    Note(context);
    creates.push_back(*request);
    if (fail_with) return *fail_with;
    for (const auto& [name, m] : mailboxes) {
      if (m.primary_smtp_address() == request->primary_smtp_address()) {
        return Status(StatusCode::ALREADY_EXISTS,
                      "The proxy address \"SMTP:" + request->primary_smtp_address() +
                          "\" is already being used by \"" + name + "\".");
      }
    }
    if (mailboxes.count(request->name())) {
      return Status(StatusCode::ALREADY_EXISTS,
                    "The name \"" + request->name() + "\" is already being used.");
    }
    Mailbox m;
    m.set_id(mailboxes.size() + 1);
    m.set_guid("00000000-0000-0000-0000-00000000000" + std::to_string(m.id()));
    m.set_name(request->name());
    m.set_display_name(request->display_name());
    m.set_primary_smtp_address(request->primary_smtp_address());
    m.set_created_unix(kCreated);
    SetClientAccessDefaults(&m);
    *m.mutable_quota() = request->quota();
    mailboxes[m.name()] = m;
    *response->mutable_mailbox() = m;
    return Status::OK;
  }

  Status GetMailbox(ServerContext* context, const mail::v1::MailboxIdentity* request,
                    mail::v1::GetMailboxResponse* response) override {
    std::lock_guard<std::mutex> lock(mu);
    Note(context);
    gets.push_back(request->identity());
    if (fail_with) return *fail_with;
    Mailbox* m = Lookup(request->identity());
    if (m == nullptr) return Status(StatusCode::NOT_FOUND, "no such mailbox");
    *response->mutable_mailbox() = *m;
    return Status::OK;
  }

  // The mailbox as GetMailbox shows it, with the folders set in `folders[name]`.
  Status GetMailboxStatistics(ServerContext* context, const mail::v1::MailboxIdentity* request,
                              mail::v1::MailboxStatisticsResponse* response) override {
    std::lock_guard<std::mutex> lock(mu);
    Note(context);
    gets.push_back(request->identity());
    if (fail_with) return *fail_with;
    Mailbox* m = Lookup(request->identity());
    if (m == nullptr) return Status(StatusCode::NOT_FOUND, "no such mailbox");
    *response->mutable_mailbox() = *m;
    for (const auto& f : folders[m->name()]) *response->add_folders() = f;
    return Status::OK;
  }

  Status ListMailboxes(ServerContext* context, const mail::v1::ListMailboxesRequest* request,
                       mail::v1::ListMailboxesResponse* response) override {
    std::lock_guard<std::mutex> lock(mu);
    Note(context);
    lists.push_back(*request);
    if (fail_with) return *fail_with;
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    uint32_t limit = request->result_size();
    if (max_page != 0 && (limit == 0 || limit > max_page)) limit = max_page;
    for (auto it = mailboxes.upper_bound(request->after_name()); it != mailboxes.end(); ++it) {
      if (limit != 0 && static_cast<uint32_t>(response->mailboxes_size()) >= limit) break;
      *response->add_mailboxes() = it->second;
    }
    return Status::OK;
  }

  Status UpdateMailbox(ServerContext* context, const mail::v1::UpdateMailboxRequest* request,
                       mail::v1::GetMailboxResponse* response) override {
    std::lock_guard<std::mutex> lock(mu);
    Note(context);
    updates.push_back(*request);
    if (fail_with) return *fail_with;
    Mailbox* m = Lookup(request->identity());
    if (m == nullptr || gone_on_update.count(request->identity())) {
      return Status(StatusCode::NOT_FOUND, "no such mailbox");
    }
    const mail::v1::MailboxUpdate& u = request->update();
    if (u.has_primary_smtp_address() && u.primary_smtp_address().find('@') == std::string::npos) {
      return Status(StatusCode::INVALID_ARGUMENT,
                    "'" + u.primary_smtp_address() + "' is not a valid SMTP address.");
    }
    if (u.has_pop_folders() && u.pop_folders().empty()) {
      return Status(StatusCode::INVALID_ARGUMENT, "PopFolders cannot be empty");
    }
    if (u.has_display_name()) m->set_display_name(u.display_name());
    if (u.has_prohibit_send_quota()) {
      m->mutable_quota()->set_prohibit_send_quota(u.prohibit_send_quota());
    }
    // Client access, with the store's rules (mailboxstore/core/rocks_directory.cc).
    if (u.has_pop_enabled()) {
      if (u.pop_enabled() && !m->pop_enabled()) m->set_pop_enabled_since_unix(now_unix);
      m->set_pop_enabled(u.pop_enabled());
    }
    if (u.has_imap_enabled()) m->set_imap_enabled(u.imap_enabled());
    if (u.has_mailbox_disabled()) m->set_mailbox_disabled(u.mailbox_disabled());
    if (u.has_smtp_client_authentication_disabled()) {
      m->set_smtp_client_authentication_disabled(u.smtp_client_authentication_disabled());
    }
    if (u.has_pop_download_scope()) m->set_pop_download_scope(u.pop_download_scope());
    if (u.has_pop_retrieval_action()) m->set_pop_retrieval_action(u.pop_retrieval_action());
    if (u.has_pop_folders()) *m->mutable_pop_folders() = u.pop_folders();
    // Send As, lower-cased and without repeats, as the store keeps it.
    for (const std::string& a : u.add_send_as()) {
      const std::string l = Lower(a);
      if (std::find(m->send_as().begin(), m->send_as().end(), l) == m->send_as().end()) {
        m->add_send_as(l);
      }
    }
    for (const std::string& a : u.remove_send_as()) {
      auto* list = m->mutable_send_as();
      list->erase(std::remove(list->begin(), list->end(), Lower(a)), list->end());
    }
    *response->mutable_mailbox() = *m;
    return Status::OK;
  }

  Status SetPassword(ServerContext* context, const mail::v1::SetPasswordRequest* request,
                     mail::v1::GetMailboxResponse* response) override {
    std::lock_guard<std::mutex> lock(mu);
    Note(context);
    passwords.push_back(*request);
    if (fail_with) return *fail_with;
    Mailbox* m = Lookup(request->identity());
    if (m == nullptr) return Status(StatusCode::NOT_FOUND, "no such mailbox");
    *response->mutable_mailbox() = *m;
    return Status::OK;
  }

  Status DeleteMailbox(ServerContext* context, const mail::v1::DeleteMailboxRequest* request,
                       mail::v1::DeleteMailboxResponse* response) override {
    std::lock_guard<std::mutex> lock(mu);
    Note(context);
    deletes.push_back(request->identity());
    if (fail_with) return *fail_with;
    Mailbox* m = Lookup(request->identity());
    if (m == nullptr) return Status(StatusCode::NOT_FOUND, "no such mailbox");
    *response->mutable_mailbox() = *m;
    mailboxes.erase(m->name());
    return Status::OK;
  }

  Status ListAcceptedDomains(ServerContext* context, const mail::v1::ListAcceptedDomainsRequest*,
                             mail::v1::ListAcceptedDomainsResponse* response) override {
    std::lock_guard<std::mutex> lock(mu);
    Note(context);
    ++domain_lists;
    if (fail_with) return *fail_with;
    for (const mail::v1::AcceptedDomain& d : domains) *response->add_domains() = d;
    return Status::OK;
  }

  void Add(const std::string& name, uint64_t prohibit_send_quota = 0) {
    std::lock_guard<std::mutex> lock(mu);
    Mailbox m;
    m.set_id(mailboxes.size() + 100);
    m.set_guid("6f1c2a9e-0000-4000-8000-" + std::to_string(100000000000 + m.id()));
    m.set_name(name);
    m.set_display_name(name);
    m.set_primary_smtp_address(name + "@example.test");
    m.set_created_unix(kCreated);
    SetClientAccessDefaults(&m);
    m.mutable_quota()->set_prohibit_send_quota(prohibit_send_quota);
    mailboxes[name] = m;
  }

  std::mutex mu;
  std::map<std::string, Mailbox> mailboxes;  // By name, so listing is name-ordered.
  std::vector<mail::v1::AcceptedDomain> domains;
  std::optional<Status> fail_with;  // Every call fails with this when set.
  uint32_t max_page = 0;            // Caps ListMailboxes pages when not 0.
  std::chrono::milliseconds delay{0};
  int64_t now_unix = kNow;  // The store's clock: PopEnabledSince when POP is re-enabled.
  // Updates of these identities fail with NotFound, as if deleted after being listed.
  std::set<std::string> gone_on_update;

  std::vector<std::string> authorization;  // The authorization header of each call.
  std::map<std::string, std::vector<mail::v1::FolderStatistics>> folders;  // By mailbox name.
  std::vector<mail::v1::CreateMailboxRequest> creates;
  std::vector<std::string> gets;
  std::vector<mail::v1::ListMailboxesRequest> lists;
  std::vector<mail::v1::UpdateMailboxRequest> updates;
  std::vector<mail::v1::SetPasswordRequest> passwords;
  std::vector<std::string> deletes;
  int domain_lists = 0;

 private:
  // What the store sets on a new mailbox.
  static void SetClientAccessDefaults(Mailbox* m) {
    m->set_pop_enabled(true);
    m->set_imap_enabled(true);
    m->add_pop_folders("Inbox");
    m->set_pop_enabled_since_unix(m->created_unix());
  }

  void Note(ServerContext* context) {
    auto it = context->client_metadata().find("authorization");
    authorization.push_back(it == context->client_metadata().end()
                                ? ""
                                : std::string(it->second.data(), it->second.size()));
  }

  static std::string Lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  Mailbox* Lookup(const std::string& identity) {
    for (auto& [name, m] : mailboxes) {
      if (name == identity || m.primary_smtp_address() == identity) return &m;
      for (const std::string& a : m.email_addresses()) {
        if (a == identity) return &m;
      }
    }
    return nullptr;
  }
};

class FakeTerminal : public Terminal {
 public:
  bool IsInteractive() const override { return interactive; }
  std::optional<std::string> ReadLine(std::string_view prompt) override {
    prompts.emplace_back(prompt);
    return Next();
  }
  std::optional<std::string> ReadSecret(std::string_view prompt) override {
    secret_prompts.emplace_back(prompt);
    return Next();
  }

  bool interactive = false;
  std::deque<std::string> answers;
  std::vector<std::string> prompts;
  std::vector<std::string> secret_prompts;

 private:
  std::optional<std::string> Next() {
    if (answers.empty()) return std::nullopt;
    std::string a = answers.front();
    answers.pop_front();
    return a;
  }
};

struct Outcome {
  bool ok = false;
  std::string out;
  std::string err;
};

// Runs one shell line the way adminctl does and captures what it printed.
inline Outcome RunCmdletLine(const CmdletRegistry& registry, CmdletContext& context,
                             std::string_view line) {
  std::ostringstream out, err;
  context.warnings = nullptr;
  Runner runner(registry, context, out, err);
  Outcome o;
  o.ok = runner.RunLine(line);
  o.out = out.str();
  o.err = err.str();
  return o;
}

class DirectoryCmdletsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&fake_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port_, 0);
    endpoint_ = "127.0.0.1:" + std::to_string(port_);
    stub_ = mail::v1::Directory::NewStub(
        grpc::CreateChannel(endpoint_, grpc::InsecureChannelCredentials()));
    context_.directory = stub_.get();
    context_.endpoint = endpoint_;
    context_.token = "s3cret-token";
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

  FakeDirectory fake_;
  int port_ = 0;
  std::string endpoint_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<mail::v1::Directory::Stub> stub_;
  FakeTerminal terminal_;
  CmdletContext context_;
  CmdletRegistry registry_ = DefaultRegistry();
};

}  // namespace adminctl::test
