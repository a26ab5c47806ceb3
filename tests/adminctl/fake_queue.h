// An in-process fake of transportd's queue admin service (mail.v1.Queue) on
// 127.0.0.1:<picked port>: it holds queued messages, summarises them per next hop as transportd
// does (identity "<node>\<next hop>", status Suspended / Retry / Ready), selects messages by
// next hop (also written "<node>\<hop>") and id with transportd's NOT_FOUND text, applies the
// actions, and records every request. Plus a fixture that runs command lines against it.
#pragma once

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "adminctl/cmdlet.h"
#include "adminctl/runner.h"
#include "tests/adminctl/fake_directory.h"
#include "transport.grpc.pb.h"

namespace adminctl::test {

class FakeQueue final : public mail::v1::Queue::Service {
 public:
  struct Action {
    std::string method;  // "RetryQueue", "SuspendQueue", "ResumeQueue", "RemoveMessage".
    mail::v1::QueueActionRequest request;
  };

  Status GetQueue(ServerContext* context, const mail::v1::GetQueueRequest*,
                  mail::v1::GetQueueResponse* response) override {
    std::lock_guard<std::mutex> lock(mu);
    Note(context);
    ++queue_gets;
    if (fail_with) return *fail_with;
    const int64_t now = Now();
    struct Hop {
      uint32_t count = 0;
      uint32_t suspended = 0;
      bool retry = false;
      std::string last_error;
      int64_t next_retry = 0;
    };
    std::map<std::string, Hop> hops;
    for (const auto& [id, m] : messages) {
      Hop& h = hops[m.next_hop()];
      ++h.count;
      if (m.suspended()) {
        ++h.suspended;
      } else {
        if (m.attempts() > 0 && m.next_attempt_unix() > now) h.retry = true;
        if (h.next_retry == 0 || m.next_attempt_unix() < h.next_retry) {
          h.next_retry = m.next_attempt_unix();
        }
      }
      if (!m.last_error().empty()) h.last_error = m.last_error();
    }
    for (const auto& [hop, h] : hops) {
      mail::v1::QueueSummary* s = response->add_queues();
      s->set_identity(node + "\\" + hop);
      const size_t colon = hop.rfind(':');
      s->set_next_hop_domain(colon == std::string::npos ? hop : hop.substr(0, colon));
      s->set_status(h.suspended == h.count ? "Suspended" : h.retry ? "Retry" : "Ready");
      s->set_message_count(h.count);
      s->set_last_error(h.last_error);
      s->set_next_retry_unix(h.next_retry);
    }
    return Status::OK;
  }

  Status GetMessages(ServerContext* context, const mail::v1::GetQueuedMessagesRequest* request,
                     mail::v1::GetQueuedMessagesResponse* response) override {
    std::lock_guard<std::mutex> lock(mu);
    Note(context);
    message_gets.push_back(*request);
    if (fail_with) return *fail_with;
    for (const mail::v1::QueuedMessage* m : Select(request->next_hop(), request->id())) {
      *response->add_messages() = *m;
    }
    if (request->id() != 0 && response->messages().empty()) return NotFound(request->id());
    return Status::OK;
  }

  Status RetryQueue(ServerContext* context, const mail::v1::QueueActionRequest* request,
                    mail::v1::QueueActionResponse* response) override {
    return Act(context, "RetryQueue", *request, response, [](mail::v1::QueuedMessage* m) {
      if (m->suspended()) return false;
      m->set_next_attempt_unix(Now());
      return true;
    });
  }

  Status SuspendQueue(ServerContext* context, const mail::v1::QueueActionRequest* request,
                      mail::v1::QueueActionResponse* response) override {
    return Act(context, "SuspendQueue", *request, response, [](mail::v1::QueuedMessage* m) {
      if (m->suspended()) return false;
      m->set_suspended(true);
      return true;
    });
  }

  Status ResumeQueue(ServerContext* context, const mail::v1::QueueActionRequest* request,
                     mail::v1::QueueActionResponse* response) override {
    return Act(context, "ResumeQueue", *request, response, [](mail::v1::QueuedMessage* m) {
      if (!m->suspended()) return false;
      m->set_suspended(false);
      return true;
    });
  }

  Status RemoveMessage(ServerContext* context, const mail::v1::QueueActionRequest* request,
                       mail::v1::QueueActionResponse* response) override {
    std::lock_guard<std::mutex> lock(mu);
    Note(context);
    actions.push_back({"RemoveMessage", *request});
    if (fail_with) return *fail_with;
    std::vector<const mail::v1::QueuedMessage*> selected =
        Select(request->next_hop(), request->id());
    if (request->id() != 0 && selected.empty()) return NotFound(request->id());
    std::vector<uint64_t> ids;
    for (const mail::v1::QueuedMessage* m : selected) ids.push_back(m->id());
    for (uint64_t id : ids) messages.erase(id);
    response->set_messages_affected(static_cast<uint32_t>(ids.size()));
    return Status::OK;
  }

  void Add(const mail::v1::QueuedMessage& m) {
    std::lock_guard<std::mutex> lock(mu);
    messages[m.id()] = m;
  }

  std::mutex mu;
  std::string node = "mbx01";
  std::map<uint64_t, mail::v1::QueuedMessage> messages;
  std::optional<Status> fail_with;  // Every call fails with this when set.

  int queue_gets = 0;
  std::vector<mail::v1::GetQueuedMessagesRequest> message_gets;
  std::vector<Action> actions;
  std::vector<std::string> authorization;  // The authorization header of each call.

 private:
  static int64_t Now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  static std::string Lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  static Status NotFound(uint64_t id) {
    return Status(StatusCode::NOT_FOUND, "The message " + std::to_string(id) + " wasn't found.");
  }

  // transportd's selection: a next hop ("" = all, "<node>\" dropped) and an id (0 = all).
  std::vector<const mail::v1::QueuedMessage*> Select(std::string hop, uint64_t id) const {
    if (size_t slash = hop.find('\\'); slash != std::string::npos) hop = hop.substr(slash + 1);
    std::vector<const mail::v1::QueuedMessage*> out;
    for (const auto& [key, m] : messages) {
      if (id != 0 && key != id) continue;
      if (!hop.empty() && Lower(m.next_hop()) != Lower(hop)) continue;
      out.push_back(&m);
    }
    return out;
  }

  template <typename F>
  Status Act(ServerContext* context, const char* method,
             const mail::v1::QueueActionRequest& request, mail::v1::QueueActionResponse* response,
             F change) {
    std::lock_guard<std::mutex> lock(mu);
    Note(context);
    actions.push_back({method, request});
    if (fail_with) return *fail_with;
    std::vector<const mail::v1::QueuedMessage*> selected = Select(request.next_hop(), request.id());
    if (request.id() != 0 && selected.empty()) return NotFound(request.id());
    uint32_t n = 0;
    for (const mail::v1::QueuedMessage* m : selected) {
      if (change(&messages[m->id()])) ++n;
    }
    response->set_messages_affected(n);
    return Status::OK;
  }

  void Note(ServerContext* context) {
    auto it = context->client_metadata().find("authorization");
    authorization.push_back(it == context->client_metadata().end()
                                ? ""
                                : std::string(it->second.data(), it->second.size()));
  }
};

class QueueCmdletsTest : public ::testing::Test {
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
    stub_ = mail::v1::Queue::NewStub(
        grpc::CreateChannel(endpoint_, grpc::InsecureChannelCredentials()));
    context_.queue = stub_.get();
    context_.transport_endpoint = endpoint_;
    context_.endpoint = "unix:/run/casmail/admin.sock";
    context_.token = "s3cret-token";
    context_.server_name = "mbx01";
    context_.terminal = &terminal_;
  }

  void TearDown() override { server_->Shutdown(); }

  Outcome Run(std::string_view line) { return RunCmdletLine(registry_, context_, line); }

  std::vector<FakeQueue::Action> Actions() {
    std::lock_guard<std::mutex> lock(fake_.mu);
    return fake_.actions;
  }

  FakeQueue fake_;
  int port_ = 0;
  std::string endpoint_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<mail::v1::Queue::Stub> stub_;
  FakeTerminal terminal_;
  CmdletContext context_;
  CmdletRegistry registry_ = DefaultRegistry();
};

}  // namespace adminctl::test
