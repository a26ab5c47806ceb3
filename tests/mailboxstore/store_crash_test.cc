// Durability: the store process is killed with SIGKILL while clients append; after a restart
// every acknowledged append is there, intact, and UIDs keep increasing.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "directory.grpc.pb.h"
#include "store.grpc.pb.h"
#include "tests/mailboxstore/store_fixture.h"

namespace mailboxstore::testing {
namespace {

class StoreProcess {
 public:
  explicit StoreProcess(std::string dir) : dir_(std::move(dir)) {}
  ~StoreProcess() { Kill(SIGKILL); }

  void Start() {
    std::filesystem::remove(dir_ + "/port");
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      std::string log = dir_ + "/store.log";
      FILE* f = std::fopen(log.c_str(), "a");
      if (f != nullptr) {
        dup2(fileno(f), 1);
        dup2(fileno(f), 2);
      }
      execl(MAILBOXSTORED_PATH, "mailboxstored", "--data-dir", (dir_ + "/db").c_str(),
            "--listen", "127.0.0.1:0", "--admin-socket", (dir_ + "/admin.sock").c_str(),
            "--port-file", (dir_ + "/port").c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 200 && !std::filesystem::exists(dir_ + "/port"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::ifstream in(dir_ + "/port");
    in >> port_;
    ASSERT_GT(port_, 0) << "mailboxstored did not start";
  }

  void Kill(int sig) {
    if (pid_ <= 0) return;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  int port() const { return port_; }
  std::string admin() const { return "unix:" + dir_ + "/admin.sock"; }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

TEST(StoreCrashTest, AcknowledgedAppendsSurviveSigkill) {
  std::string dir = MakeTempDir("storecrash");
  StoreProcess proc(dir);
  proc.Start();
  uint64_t mailbox_id = 0;
  {
    auto dir_stub = mail::v1::Directory::NewStub(
        grpc::CreateChannel(proc.admin(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    mail::v1::CreateMailboxRequest req;
    req.set_name("crash");
    req.set_primary_smtp_address("crash@example.test");
    req.set_password("Secret-1");
    mail::v1::GetMailboxResponse resp;
    ASSERT_TRUE(dir_stub->CreateMailbox(&ctx, req, &resp).ok());
    mailbox_id = resp.mailbox().id();
  }

  std::mt19937 rng(20261126);
  std::map<uint32_t, std::string> acked;  // UID -> exact message bytes.
  std::map<std::string, int> sent;        // Every message ever sent (acknowledged or not).
  uint32_t highest_acked = 0;
  for (int round = 0; round < 3; ++round) {
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(proc.port()),
                                       grpc::InsecureChannelCredentials());
    std::mutex mu;
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < 4; ++c) {
      clients.emplace_back([&, c] {
        auto stub = mail::v1::MessageStore::NewStub(channel);
        for (int i = 0; !stop && i < 5000; ++i) {
          std::string msg = SimpleMessage(
              "r" + std::to_string(round) + "c" + std::to_string(c) + "n" + std::to_string(i),
              std::string(2000 + (i % 7) * 300, static_cast<char>('a' + c)));
          {
            std::lock_guard<std::mutex> lock(mu);
            sent[msg]++;
          }
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
          mail::v1::AppendRequest req;
          req.set_mailbox_id(mailbox_id);
          req.set_message(msg);
          mail::v1::AppendResponse resp;
          if (!stub->Append(&ctx, req, &resp).ok()) break;  // The store died.
          std::lock_guard<std::mutex> lock(mu);
          acked[resp.uid()] = msg;
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 500));
    proc.Kill(SIGKILL);
    stop = true;
    for (auto& t : clients) t.join();
    proc.Start();

    // Every acknowledged append is present and intact; nothing else appeared from nowhere.
    auto reopened = grpc::CreateChannel("127.0.0.1:" + std::to_string(proc.port()),
                                        grpc::InsecureChannelCredentials());
    auto stub = mail::v1::MessageStore::NewStub(reopened);
    grpc::ClientContext fctx;
    mail::v1::FetchRequest freq;
    freq.set_mailbox_id(mailbox_id);
    auto reader = stub->Fetch(&fctx, freq);
    std::vector<mail::v1::MessageRecord> records;
    mail::v1::FetchResponse chunk;
    while (reader->Read(&chunk)) {
      for (const auto& m : chunk.messages()) records.push_back(m);
    }
    ASSERT_TRUE(reader->Finish().ok());
    std::map<uint32_t, const mail::v1::MessageRecord*> by_uid;
    for (const auto& r : records) by_uid[r.uid()] = &r;
    for (const auto& [uid, msg] : acked) {
      ASSERT_TRUE(by_uid.count(uid)) << "acknowledged UID " << uid << " lost in round " << round;
      EXPECT_EQ(by_uid[uid]->size(), msg.size());
      highest_acked = std::max(highest_acked, uid);
    }
    for (const auto& r : records) {
      grpc::ClientContext bctx;
      mail::v1::GetBodyRequest breq;
      breq.set_mailbox_id(mailbox_id);
      breq.set_uid(r.uid());
      auto body_reader = stub->GetBody(&bctx, breq);
      std::string body;
      mail::v1::GetBodyResponse part;
      while (body_reader->Read(&part)) body += part.data();
      ASSERT_TRUE(body_reader->Finish().ok());
      EXPECT_EQ(body.size(), r.size());
      ASSERT_TRUE(sent.count(body)) << "UID " << r.uid() << " holds a message never sent";
      if (acked.count(r.uid())) {
        EXPECT_TRUE(acked[r.uid()] == body) << "UID " << r.uid() << " body differs";
      }
    }
    // The folder's counters agree with its records.
    grpc::ClientContext gctx;
    mail::v1::GetFolderRequest greq;
    greq.set_mailbox_id(mailbox_id);
    mail::v1::FolderResponse gresp;
    ASSERT_TRUE(stub->GetFolder(&gctx, greq, &gresp).ok());
    EXPECT_EQ(gresp.folder().messages(), records.size());
    // New appends continue above every UID handed out before the crash.
    grpc::ClientContext actx;
    mail::v1::AppendRequest areq;
    areq.set_mailbox_id(mailbox_id);
    areq.set_message(SimpleMessage("after-crash-" + std::to_string(round)));
    sent[areq.message()]++;
    mail::v1::AppendResponse aresp;
    ASSERT_TRUE(stub->Append(&actx, areq, &aresp).ok());
    EXPECT_GT(aresp.uid(), records.empty() ? 0 : records.back().uid());
    acked[aresp.uid()] = areq.message();
  }
  EXPECT_GT(acked.size(), 10u) << "the test should have acknowledged appends before each kill";
  std::printf("acknowledged appends across 3 SIGKILLs: %zu\n", acked.size());
  proc.Kill(SIGTERM);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace mailboxstore::testing
