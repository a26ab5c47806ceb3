// The frontends' store client: calls from coroutines, the change stream, and a store outage
// that ends in an error within the deadline instead of a hang.
#include "mailboxstore/client/grpc_store_client.h"

#include <thread>

#include <gtest/gtest.h>

#include "tests/mailboxstore/store_fixture.h"

namespace mailboxstore::testing {
namespace {

class GrpcStoreClientTest : public StoreFixture {};

template <typename F>
void RunCoroutine(F f) {
  asio::io_context io;
  asio::co_spawn(io, f, asio::detached);
  io.run();
}

TEST_F(GrpcStoreClientTest, CallsFromACoroutine) {
  uint64_t id = NewMailbox("alice", "Pass-word-1").id();
  GrpcStoreClientOptions o;
  o.endpoint = "127.0.0.1:" + std::to_string(server_->port());
  GrpcStoreClient client(o);
  bool done = false;
  RunCoroutine([&]() -> asio::awaitable<void> {
    mail::v1::AuthenticatePlainRequest auth;
    auth.set_user("alice");
    auth.set_password("Pass-word-1");
    auth.set_protocol(mail::v1::PROTOCOL_IMAP4);
    auto r = co_await client.AuthenticatePlain(auth);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->result(), mail::v1::AUTH_RESULT_OK);
    EXPECT_EQ(r->mailbox().id(), id);

    mail::v1::AppendRequest append;
    append.set_mailbox_id(id);
    append.set_message(SimpleMessage("via client"));
    auto a = co_await client.Append(append);
    EXPECT_TRUE(a.ok());
    mail::v1::FetchRequest fetch;
    fetch.set_mailbox_id(id);
    fetch.set_with_structure(true);
    auto f = co_await client.Fetch(fetch);
    EXPECT_TRUE(f.ok());
    EXPECT_EQ(f->messages_size(), 1);
    EXPECT_EQ(f->messages(0).structure().envelope().subject(), "via client");
    mail::v1::GetBodyRequest body;
    body.set_mailbox_id(id);
    body.set_uid(a->uid());
    auto b = co_await client.GetBody(body);
    EXPECT_TRUE(b.ok());
    EXPECT_EQ(*b, SimpleMessage("via client"));
    mail::v1::GetFolderRequest missing;
    missing.set_mailbox_id(id);
    missing.mutable_folder()->set_name("Nope");
    auto m = co_await client.GetFolder(missing);
    EXPECT_EQ(m.status().code(), common::StatusCode::kNotFound);
    done = true;
  });
  EXPECT_TRUE(done);
}

TEST_F(GrpcStoreClientTest, WatchDeliversEvents) {
  uint64_t id = NewMailbox("alice").id();
  GrpcStoreClientOptions o;
  o.endpoint = "127.0.0.1:" + std::to_string(server_->port());
  GrpcStoreClient client(o);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<mail::v1::ChangeEvent> events;
  int resyncs = 0;
  client.StartWatching(
      [&](const mail::v1::ChangeEvent& e) {
        std::lock_guard<std::mutex> lock(mu);
        events.push_back(e);
        cv.notify_all();
      },
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        ++resyncs;
        cv.notify_all();
      });
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return resyncs == 1; }));
  }
  AppendMessage(id, "INBOX", SimpleMessage("one"));
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return events.size() == 1; }));
    EXPECT_EQ(events[0].kind(), mail::v1::CHANGE_KIND_APPEND);
    EXPECT_EQ(events[0].mailbox_id(), id);
  }
  client.StopWatching();
}

TEST_F(GrpcStoreClientTest, StoreDownGivesUnavailableWithinTheDeadline) {
  GrpcStoreClientOptions o;
  o.endpoint = "127.0.0.1:" + std::to_string(server_->port());
  o.deadline = std::chrono::milliseconds(1500);
  Stop();  // The store goes away.
  GrpcStoreClient client(o);
  auto start = std::chrono::steady_clock::now();
  common::StatusCode code = common::StatusCode::kOk;
  RunCoroutine([&]() -> asio::awaitable<void> {
    mail::v1::AuthenticatePlainRequest auth;
    auth.set_user("alice");
    auth.set_password("x");
    auto r = co_await client.AuthenticatePlain(auth);
    code = r.status().code();
  });
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(code == common::StatusCode::kUnavailable ||
              code == common::StatusCode::kDeadlineExceeded)
      << static_cast<int>(code);
  EXPECT_LT(elapsed, std::chrono::seconds(10));
  Start();
}

}  // namespace
}  // namespace mailboxstore::testing
