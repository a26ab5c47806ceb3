// An in-process fake mail.v1.Control server on 127.0.0.1:<picked port> for the service
// cmdlets: a node registry with per-node service states, GetServices filtered as the store
// filters it, and SetService with the store's rules (an unknown node is NOT_FOUND, starting a
// Disabled service is FAILED_PRECONDITION, a change stores the desired state and leaves the
// reported status alone). Every request is recorded. Plus a fixture that runs command lines.
#pragma once

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "adminctl/cmdlet.h"
#include "adminctl/parser/strings.h"
#include "adminctl/runner.h"
#include "control.grpc.pb.h"
#include "tests/adminctl/fake_directory.h"

namespace adminctl::test {

inline constexpr int64_t kHeartbeat = 1735732800;  // 1/1/2025 12:00:00 PM UTC.

class FakeControl final : public mail::v1::Control::Service {
 public:
  // cas01 and cas02 run casd (POP3, IMAP4), edge01 runs transportd (SMTP). On cas02 POP3 was
  // stopped and set to Manual; edge01 missed its heartbeats.
  FakeControl() {
    AddNode("cas01", {mail::v1::SERVICE_NAME_POP3, mail::v1::SERVICE_NAME_IMAP4}, kHeartbeat, 12);
    AddNode("cas02", {mail::v1::SERVICE_NAME_POP3, mail::v1::SERVICE_NAME_IMAP4}, kHeartbeat + 1,
            12);
    AddNode("edge01", {mail::v1::SERVICE_NAME_SMTP}, kHeartbeat - 3600, 11);
    mail::v1::ServiceState* pop = State("cas02", mail::v1::SERVICE_NAME_POP3);
    pop->set_want_running(false);
    pop->set_status(mail::v1::SERVICE_STATUS_STOPPED);
    pop->set_startup_type(mail::v1::STARTUP_TYPE_MANUAL);
    State("edge01", mail::v1::SERVICE_NAME_SMTP)->set_status(mail::v1::SERVICE_STATUS_UNREACHABLE);
  }

  grpc::Status GetServices(grpc::ServerContext*, const mail::v1::GetServicesRequest* request,
                           mail::v1::GetServicesResponse* response) override {
    std::lock_guard<std::mutex> lock(mu);
    gets.push_back(*request);
    if (fail_with) return *fail_with;
    Fill(request->node(), request->service(), response);
    return grpc::Status::OK;
  }

  grpc::Status SetService(grpc::ServerContext*, const mail::v1::SetServiceRequest* request,
                          mail::v1::GetServicesResponse* response) override {
    std::lock_guard<std::mutex> lock(mu);
    sets.push_back(*request);
    if (fail_with) return *fail_with;
    if (request->service() == mail::v1::SERVICE_NAME_UNSPECIFIED) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "service is not set");
    }
    if (!request->node().empty() && FindNode(request->node()) == nullptr) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no node named " + request->node());
    }
    std::vector<mail::v1::ServiceState*> targets;
    for (mail::v1::Node& node : nodes) {
      if (!request->node().empty() && !parser::EqualsIgnoreCase(node.name(), request->node())) {
        continue;
      }
      for (mail::v1::ServiceState& state : *node.mutable_states()) {
        if (state.service() == request->service()) targets.push_back(&state);
      }
    }
    const bool starts = request->action() == mail::v1::SERVICE_ACTION_START ||
                        request->action() == mail::v1::SERVICE_ACTION_RESTART;
    for (const mail::v1::ServiceState* state : targets) {
      if (starts && state->startup_type() == mail::v1::STARTUP_TYPE_DISABLED) {
        return grpc::Status(
            grpc::StatusCode::FAILED_PRECONDITION,
            disabled_message.value_or("the service is disabled (Set-Service -StartupType)."));
      }
    }
    for (mail::v1::ServiceState* state : targets) {
      switch (request->action()) {
        case mail::v1::SERVICE_ACTION_START:
          state->set_want_running(true);
          break;
        case mail::v1::SERVICE_ACTION_STOP:
          state->set_want_running(false);
          break;
        case mail::v1::SERVICE_ACTION_RESTART:
          state->set_want_running(true);
          state->set_restart_generation(state->restart_generation() + 1);
          break;
        case mail::v1::SERVICE_ACTION_SET_STARTUP_TYPE:
          state->set_startup_type(request->startup_type());
          break;
        default:
          return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "action is not set");
      }
    }
    // Like the store: every row of the service, on every node.
    Fill("", request->service(), response);
    return grpc::Status::OK;
  }

  mail::v1::ServiceState* State(std::string_view node, mail::v1::ServiceName service) {
    mail::v1::Node* n = FindNode(node);
    if (n == nullptr) return nullptr;
    for (mail::v1::ServiceState& state : *n->mutable_states()) {
      if (state.service() == service) return &state;
    }
    return nullptr;
  }

  std::mutex mu;
  std::vector<mail::v1::Node> nodes;            // Each with its states.
  std::optional<grpc::Status> fail_with;        // Every call fails with this when set.
  std::optional<std::string> disabled_message;  // Replaces the FAILED_PRECONDITION text.
  std::vector<mail::v1::GetServicesRequest> gets;
  std::vector<mail::v1::SetServiceRequest> sets;

 private:
  void AddNode(const std::string& name, const std::vector<mail::v1::ServiceName>& services,
               int64_t heartbeat, uint64_t settings_version) {
    mail::v1::Node node;
    node.set_name(name);
    node.set_version("0.1.0");
    node.set_last_heartbeat_unix(heartbeat);
    node.set_settings_version(settings_version);
    for (mail::v1::ServiceName service : services) {
      node.add_services(service);
      mail::v1::ServiceState* state = node.add_states();
      state->set_node(name);
      state->set_service(service);
      state->set_startup_type(mail::v1::STARTUP_TYPE_AUTOMATIC);
      state->set_want_running(true);
      state->set_status(mail::v1::SERVICE_STATUS_RUNNING);
      state->set_settings_version(settings_version);
    }
    nodes.push_back(std::move(node));
  }

  mail::v1::Node* FindNode(std::string_view name) {
    for (mail::v1::Node& node : nodes) {
      if (parser::EqualsIgnoreCase(node.name(), name)) return &node;
    }
    return nullptr;
  }

  // The rows (in the store's own order: service, then node) and nodes that match.
  void Fill(const std::string& node, mail::v1::ServiceName service,
            mail::v1::GetServicesResponse* response) {
    for (int s = mail::v1::SERVICE_NAME_SMTP; s >= mail::v1::SERVICE_NAME_POP3; --s) {
      if (service != mail::v1::SERVICE_NAME_UNSPECIFIED && service != s) continue;
      for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
        if (!node.empty() && !parser::EqualsIgnoreCase(it->name(), node)) continue;
        for (const mail::v1::ServiceState& state : it->states()) {
          if (state.service() == s) *response->add_services() = state;
        }
      }
    }
    for (const mail::v1::Node& n : nodes) {
      if (!node.empty() && !parser::EqualsIgnoreCase(n.name(), node)) continue;
      mail::v1::Node* copy = response->add_nodes();
      *copy = n;
      copy->clear_states();
    }
  }
};

class ControlCmdletsTest : public ::testing::Test {
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
    stub_ = mail::v1::Control::NewStub(
        grpc::CreateChannel(endpoint_, grpc::InsecureChannelCredentials()));
    context_.control = stub_.get();
    context_.endpoint = endpoint_;
    context_.server_name = "mbx01";
    context_.terminal = &terminal_;
  }

  void TearDown() override { server_->Shutdown(); }

  Outcome Run(std::string_view line) { return RunCmdletLine(registry_, context_, line); }

  std::vector<mail::v1::SetServiceRequest> Sets() {
    std::lock_guard<std::mutex> lock(fake_.mu);
    return fake_.sets;
  }

  std::vector<mail::v1::GetServicesRequest> Gets() {
    std::lock_guard<std::mutex> lock(fake_.mu);
    return fake_.gets;
  }

  void ClearRequests() {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.sets.clear();
    fake_.gets.clear();
  }

  FakeControl fake_;
  int port_ = 0;
  std::string endpoint_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<mail::v1::Control::Stub> stub_;
  FakeTerminal terminal_;
  CmdletContext context_;
  CmdletRegistry registry_ = DefaultRegistry();
};

}  // namespace adminctl::test
