// QueueStore: envelope and body storage, id assignment, the schedule index behind Due and
// NextDue, Get-Queue summaries, and durability (a SIGKILLed writer loses nothing it
// acknowledged).
#include "transport/queue/queue_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace transport::queue {
namespace {

using mail::v1::QueuedMessage;
using mail::v1::QueueSummary;

class QueueStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "queuetest.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void Reopen() {
    store_.reset();
    auto s = QueueStore::Open(dir_ + "/queue");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }

  static QueuedMessage Envelope(const std::string& next_hop, int64_t next_attempt,
                                std::vector<std::string> rcpts = {"bob@example.org"}) {
    QueuedMessage m;
    m.set_sender("alice@example.test");
    for (const auto& r : rcpts) m.add_recipients()->set_address(r);
    m.set_received_unix(1000);
    m.set_next_attempt_unix(next_attempt);
    m.set_expires_unix(1000 + 5 * 86400);
    m.set_next_hop(next_hop);
    m.set_subject("Hello");
    return m;
  }

  uint64_t Add(const QueuedMessage& m, std::string_view body = "Subject: x\r\n\r\nbody\r\n") {
    auto id = store_->Enqueue(m, body);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }

  static std::vector<uint64_t> Ids(const std::vector<QueuedMessage>& ms) {
    std::vector<uint64_t> ids;
    for (const auto& m : ms) ids.push_back(m.id());
    return ids;
  }

  std::string dir_;
  std::unique_ptr<QueueStore> store_;
};

TEST_F(QueueStoreTest, EnqueueGetUpdateRemove) {
  QueuedMessage in = Envelope("example.org", 0, {"bob@example.org", "carol@example.org"});
  in.set_envid("ENV1");
  in.mutable_recipients(0)->set_orcpt("rfc822;bob@example.org");
  std::string body = "Subject: Hello\r\n\r\nHi Bob\r\n";
  uint64_t id = Add(in, body);
  ASSERT_GT(id, 0u);

  auto got = store_->Get(id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->id(), id);
  EXPECT_EQ(got->size(), body.size());
  EXPECT_EQ(got->sender(), "alice@example.test");
  ASSERT_EQ(got->recipients_size(), 2);
  EXPECT_EQ(got->recipients(0).orcpt(), "rfc822;bob@example.org");
  EXPECT_EQ(got->recipients(1).state(), mail::v1::RECIPIENT_STATE_PENDING);
  EXPECT_EQ(got->envid(), "ENV1");
  EXPECT_EQ(got->received_unix(), 1000);
  auto got_body = store_->GetBody(id);
  ASSERT_TRUE(got_body.ok());
  EXPECT_EQ(*got_body, body);

  QueuedMessage changed = *got;
  changed.mutable_recipients(0)->set_state(mail::v1::RECIPIENT_STATE_DELIVERED);
  changed.mutable_recipients(1)->set_attempts(1);
  changed.mutable_recipients(1)->set_last_response("451 4.3.0 try later");
  changed.set_last_error("451 4.3.0 try later");
  changed.set_next_attempt_unix(2000);
  ASSERT_TRUE(store_->Update(changed).ok());
  got = store_->Get(id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->recipients(0).state(), mail::v1::RECIPIENT_STATE_DELIVERED);
  EXPECT_EQ(got->recipients(1).last_response(), "451 4.3.0 try later");
  EXPECT_EQ(got->next_attempt_unix(), 2000);
  EXPECT_EQ(*store_->GetBody(id), body);  // Update leaves the body alone.

  ASSERT_TRUE(store_->Remove(id).ok());
  EXPECT_EQ(store_->Get(id).status().code(), common::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetBody(id).status().code(), common::StatusCode::kNotFound);
  EXPECT_TRUE(store_->List().empty());
  EXPECT_FALSE(store_->NextDue().has_value());
}

TEST_F(QueueStoreTest, MissingMessagesAreNotFound) {
  EXPECT_EQ(store_->Get(42).status().code(), common::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetBody(42).status().code(), common::StatusCode::kNotFound);
  QueuedMessage m = Envelope("example.org", 0);
  m.set_id(42);
  EXPECT_EQ(store_->Update(m).code(), common::StatusCode::kNotFound);
  EXPECT_EQ(store_->Remove(42).code(), common::StatusCode::kNotFound);
  // An Update after a Remove does not bring the envelope back.
  uint64_t id = Add(Envelope("example.org", 0));
  ASSERT_TRUE(store_->Remove(id).ok());
  m.set_id(id);
  EXPECT_EQ(store_->Update(m).code(), common::StatusCode::kNotFound);
  EXPECT_EQ(store_->Get(id).status().code(), common::StatusCode::kNotFound);
}

TEST_F(QueueStoreTest, RejectsEnvelopeWithoutRecipients) {
  QueuedMessage m = Envelope("example.org", 0, {});
  EXPECT_EQ(store_->Enqueue(m, "x").status().code(), common::StatusCode::kInvalidArgument);
}

TEST_F(QueueStoreTest, EnqueueFillsSizeAndReceivedTime) {
  QueuedMessage m = Envelope("example.org", 0);
  m.set_received_unix(0);
  m.set_size(999999);
  m.set_id(777);  // Ignored: the store assigns ids.
  int64_t before = time(nullptr);
  uint64_t id = Add(m, "12345");
  auto got = store_->Get(id);
  ASSERT_TRUE(got.ok());
  EXPECT_NE(id, 777u);
  EXPECT_EQ(got->size(), 5u);
  EXPECT_GE(got->received_unix(), before);
}

TEST_F(QueueStoreTest, IdsIncreaseAndAreNeverReusedAcrossReopen) {
  uint64_t a = Add(Envelope("example.org", 0));
  uint64_t b = Add(Envelope("example.org", 0));
  uint64_t c = Add(Envelope("example.org", 0));
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  // Removing the newest must not let its id come back after a restart.
  ASSERT_TRUE(store_->Remove(c).ok());
  ASSERT_TRUE(store_->Remove(b).ok());
  Reopen();
  uint64_t d = Add(Envelope("example.org", 0));
  EXPECT_GT(d, c);
  // Even with an empty queue.
  ASSERT_TRUE(store_->Remove(a).ok());
  ASSERT_TRUE(store_->Remove(d).ok());
  Reopen();
  EXPECT_GT(Add(Envelope("example.org", 0)), d);
}

TEST_F(QueueStoreTest, EverythingSurvivesReopen) {
  std::map<uint64_t, std::string> bodies;
  for (int i = 0; i < 20; ++i) {
    std::string body = "Subject: " + std::to_string(i) + "\r\n\r\n" +
                       std::string(static_cast<size_t>(i) * 1000, static_cast<char>('a' + i));
    bodies[Add(Envelope("hop" + std::to_string(i % 3), 100 + i), body)] = body;
  }
  // A large body (kept in blob files) and an update and a removal before the restart.
  std::string big(3 << 20, 'z');
  uint64_t big_id = Add(Envelope("hop0", 50), big);
  bodies[big_id] = big;
  uint64_t first = bodies.begin()->first;
  auto m = store_->Get(first);
  ASSERT_TRUE(m.ok());
  m->set_suspended(true);
  m->set_last_error("suspended by admin");
  ASSERT_TRUE(store_->Update(*m).ok());
  uint64_t removed = std::next(bodies.begin())->first;
  ASSERT_TRUE(store_->Remove(removed).ok());
  bodies.erase(removed);
  std::vector<QueuedMessage> before = store_->List();
  auto due_before = Ids(store_->Due(1000, 100));
  auto next_before = store_->NextDue();

  Reopen();
  std::vector<QueuedMessage> after = store_->List();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].SerializeAsString(), before[i].SerializeAsString()) << i;
  }
  for (const auto& [id, body] : bodies) {
    auto b = store_->GetBody(id);
    ASSERT_TRUE(b.ok()) << id;
    EXPECT_EQ(*b, body) << id;
  }
  EXPECT_TRUE(store_->Get(first)->suspended());
  EXPECT_EQ(Ids(store_->Due(1000, 100)), due_before);
  EXPECT_EQ(store_->NextDue(), next_before);
  EXPECT_EQ(store_->NextDue(), 50);
}

TEST_F(QueueStoreTest, DueOrderingAndExclusions) {
  uint64_t late = Add(Envelope("a", 300));
  uint64_t early = Add(Envelope("a", 100));
  uint64_t middle = Add(Envelope("b", 200));
  uint64_t tie = Add(Envelope("b", 200));
  uint64_t future = Add(Envelope("a", 5000));
  QueuedMessage s = Envelope("a", 50);
  s.set_suspended(true);
  Add(s);
  QueuedMessage done = Envelope("a", 10, {"x@a", "y@a"});
  done.mutable_recipients(0)->set_state(mail::v1::RECIPIENT_STATE_DELIVERED);
  done.mutable_recipients(1)->set_state(mail::v1::RECIPIENT_STATE_FAILED);
  Add(done);
  QueuedMessage partly = Envelope("a", 250, {"x@a", "y@a"});
  partly.mutable_recipients(0)->set_state(mail::v1::RECIPIENT_STATE_DELIVERED);
  uint64_t partly_id = Add(partly);

  EXPECT_EQ(Ids(store_->Due(1000, 100)),
            (std::vector<uint64_t>{early, middle, tie, partly_id, late}));
  EXPECT_EQ(Ids(store_->Due(1000, 2)), (std::vector<uint64_t>{early, middle}));
  EXPECT_EQ(Ids(store_->Due(200, 100)), (std::vector<uint64_t>{early, middle, tie}));
  EXPECT_TRUE(store_->Due(99, 100).empty());
  EXPECT_TRUE(store_->Due(1000, 0).empty());
  EXPECT_EQ(store_->NextDue(), 100);

  // Rescheduling and suspending move messages in and out.
  auto m = store_->Get(early);
  ASSERT_TRUE(m.ok());
  m->set_next_attempt_unix(400);
  ASSERT_TRUE(store_->Update(*m).ok());
  EXPECT_EQ(store_->NextDue(), 200);
  EXPECT_EQ(Ids(store_->Due(1000, 100)),
            (std::vector<uint64_t>{middle, tie, partly_id, late, early}));
  m = store_->Get(middle);
  m->set_suspended(true);
  ASSERT_TRUE(store_->Update(*m).ok());
  m = store_->Get(tie);
  m->mutable_recipients(0)->set_state(mail::v1::RECIPIENT_STATE_DELIVERED);
  ASSERT_TRUE(store_->Update(*m).ok());
  EXPECT_EQ(Ids(store_->Due(1000, 100)), (std::vector<uint64_t>{partly_id, late, early}));
  EXPECT_EQ(store_->NextDue(), 250);
  ASSERT_TRUE(store_->Remove(partly_id).ok());
  ASSERT_TRUE(store_->Remove(late).ok());
  ASSERT_TRUE(store_->Remove(early).ok());
  EXPECT_EQ(store_->NextDue(), 5000);
  EXPECT_EQ(Ids(store_->Due(5000, 100)), (std::vector<uint64_t>{future}));
  ASSERT_TRUE(store_->Remove(future).ok());
  EXPECT_FALSE(store_->NextDue().has_value());
}

TEST_F(QueueStoreTest, SummariesGroupByNextHop) {
  const int64_t now = 10000;
  // smarthost: two messages, one failed recently and waits for its retry.
  Add(Envelope("smart.example:25", now - 10));
  QueuedMessage failing = Envelope("smart.example:25", now + 300);
  failing.mutable_recipients(0)->set_attempts(2);
  failing.mutable_recipients(0)->set_last_response("451 4.4.1 connection timed out");
  failing.set_last_error("451 4.4.1 connection timed out");
  Add(failing);
  QueuedMessage older = Envelope("smart.example:25", now + 3000);
  older.mutable_recipients(0)->set_attempts(7);
  older.set_last_error("421 4.3.2 old failure");
  Add(older);
  // example.org: ready, never tried.
  Add(Envelope("example.org", now - 5));
  Add(Envelope("example.org", now + 50));
  // held.example: all suspended.
  QueuedMessage held = Envelope("held.example", now);
  held.set_suspended(true);
  Add(held);
  Add(held);
  // mixed.example: one suspended with an error, one ready.
  QueuedMessage held_err = Envelope("mixed.example", now + 100);
  held_err.set_suspended(true);
  held_err.mutable_recipients(0)->set_attempts(1);
  held_err.set_last_error("550 5.0.0 x");
  Add(held_err);
  Add(Envelope("mixed.example", now - 1));
  // A failure whose retry time has come is Ready again.
  QueuedMessage ripe = Envelope("ripe.example", now - 1);
  ripe.mutable_recipients(0)->set_attempts(1);
  ripe.set_last_error("451 4.7.1 greylisted");
  Add(ripe);

  std::vector<QueueSummary> sums = store_->Summaries("node1", now);
  ASSERT_EQ(sums.size(), 5u);
  std::map<std::string, QueueSummary> by_id;
  for (const auto& s : sums) by_id[s.identity()] = s;

  const QueueSummary& smart = by_id["node1\\smart.example:25"];
  EXPECT_EQ(smart.status(), "Retry");
  EXPECT_EQ(smart.message_count(), 3u);
  EXPECT_EQ(smart.next_hop_domain(), "smart.example");
  EXPECT_EQ(smart.last_error(), "451 4.4.1 connection timed out");
  EXPECT_EQ(smart.next_retry_unix(), now - 10);

  const QueueSummary& org = by_id["node1\\example.org"];
  EXPECT_EQ(org.status(), "Ready");
  EXPECT_EQ(org.message_count(), 2u);
  EXPECT_EQ(org.next_hop_domain(), "example.org");
  EXPECT_EQ(org.last_error(), "");
  EXPECT_EQ(org.next_retry_unix(), now - 5);

  const QueueSummary& h = by_id["node1\\held.example"];
  EXPECT_EQ(h.status(), "Suspended");
  EXPECT_EQ(h.message_count(), 2u);

  const QueueSummary& mixed = by_id["node1\\mixed.example"];
  EXPECT_EQ(mixed.status(), "Ready");
  EXPECT_EQ(mixed.message_count(), 2u);
  EXPECT_EQ(mixed.next_retry_unix(), now - 1);

  const QueueSummary& ripe_sum = by_id["node1\\ripe.example"];
  EXPECT_EQ(ripe_sum.status(), "Ready");
  EXPECT_EQ(ripe_sum.last_error(), "451 4.7.1 greylisted");

  EXPECT_TRUE(store_->Summaries("node1", now).size() == sums.size());
}

TEST(RetryDelayTest, Sequence) {
  EXPECT_EQ(RetryDelaySeconds(0), 0);
  EXPECT_EQ(RetryDelaySeconds(1), 60);
  EXPECT_EQ(RetryDelaySeconds(2), 300);
  EXPECT_EQ(RetryDelaySeconds(3), 600);
  EXPECT_EQ(RetryDelaySeconds(4), 1200);
  EXPECT_EQ(RetryDelaySeconds(5), 2400);
  EXPECT_EQ(RetryDelaySeconds(6), 3600);
  EXPECT_EQ(RetryDelaySeconds(7), 3600);
  EXPECT_EQ(RetryDelaySeconds(1000), 3600);
  EXPECT_EQ(RetryDelaySeconds(UINT32_MAX), 3600);
}

TEST(RetryDelayTest, Scale) {
  EXPECT_EQ(RetryDelaySeconds(1, 0.5), 30);
  EXPECT_EQ(RetryDelaySeconds(6, 0.01), 36);
  EXPECT_EQ(RetryDelaySeconds(1, 0.001), 1);  // Never a busy loop.
  EXPECT_EQ(RetryDelaySeconds(3, 0.0), 0);
  EXPECT_EQ(RetryDelaySeconds(3, 2.0), 1200);
}

TEST_F(QueueStoreTest, ConcurrentEnqueuesGetDistinctIds) {
  store_.reset();
  auto s = QueueStore::Open(dir_ + "/queue", /*sync=*/false);
  ASSERT_TRUE(s.ok());
  store_ = std::move(s).value();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::vector<uint64_t>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        QueuedMessage m = Envelope("hop" + std::to_string(t), i);
        auto id = store_->Enqueue(m, "body " + std::to_string(t) + "/" + std::to_string(i));
        if (id.ok()) ids[t].push_back(*id);
        if (i % 10 == 0) (void)store_->Due(i, 5);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<uint64_t> all;
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(ids[t].size(), static_cast<size_t>(kPerThread));
    for (size_t i = 1; i < ids[t].size(); ++i) EXPECT_LT(ids[t][i - 1], ids[t][i]);
    all.insert(ids[t].begin(), ids[t].end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  Reopen();
  EXPECT_EQ(store_->List().size(), all.size());
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(*store_->GetBody(ids[t][7]), "body " + std::to_string(t) + "/7");
  }
  EXPECT_GT(Add(Envelope("x", 0)), *all.rbegin());
}

// The child process enqueues as fast as it can and reports every acknowledged id through a
// pipe; the parent kills it with SIGKILL after the first one, mid-write, and reopens.
TEST_F(QueueStoreTest, AcknowledgedEnqueueSurvivesSigkill) {
  store_.reset();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::string db = dir_ + "/queue";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    auto s = QueueStore::Open(db);
    if (!s.ok()) _exit(2);
    for (uint64_t i = 0;; ++i) {
      QueuedMessage m = Envelope("crash.example", 0);
      m.set_subject("crash " + std::to_string(i));
      auto id = (*s)->Enqueue(
          m, "Subject: crash " + std::to_string(i) + "\r\n\r\n" + std::string(5000, 'c'));
      if (!id.ok()) _exit(3);
      uint64_t pair[2] = {*id, i};
      if (write(fds[1], pair, sizeof(pair)) != static_cast<ssize_t>(sizeof(pair))) _exit(4);
    }
  }
  close(fds[1]);
  std::vector<std::pair<uint64_t, uint64_t>> acked;
  uint64_t pair[2];
  ssize_t n;
  do {
    n = read(fds[0], pair, sizeof(pair));
  } while (n < 0 && errno == EINTR);
  ASSERT_EQ(n, static_cast<ssize_t>(sizeof(pair)));
  kill(pid, SIGKILL);
  acked.emplace_back(pair[0], pair[1]);
  // Whatever else the child acknowledged before it died counts too.
  while (read(fds[0], pair, sizeof(pair)) == static_cast<ssize_t>(sizeof(pair))) {
    acked.emplace_back(pair[0], pair[1]);
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);

  Reopen();
  uint64_t highest = 0;
  for (const auto& [id, i] : acked) {
    auto m = store_->Get(id);
    ASSERT_TRUE(m.ok()) << "acknowledged message " << id << " lost: " << m.status().ToString();
    EXPECT_EQ(m->subject(), "crash " + std::to_string(i));
    auto body = store_->GetBody(id);
    ASSERT_TRUE(body.ok()) << id;
    EXPECT_EQ(*body, "Subject: crash " + std::to_string(i) + "\r\n\r\n" + std::string(5000, 'c'));
    highest = std::max(highest, id);
  }
  // Every envelope that made it has its body, and new ids continue above all of them.
  uint64_t stored_highest = 0;
  for (const auto& m : store_->List()) {
    EXPECT_TRUE(store_->GetBody(m.id()).ok()) << m.id();
    stored_highest = std::max(stored_highest, m.id());
  }
  EXPECT_GE(stored_highest, highest);
  EXPECT_GT(Add(Envelope("x", 0)), stored_highest);
}

}  // namespace
}  // namespace transport::queue
