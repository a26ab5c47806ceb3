// store_bench: how fast the mailbox store makes 10 KB messages durable, compared with raw
// RocksDB synced writes on the same disk, and how long listing a large folder takes.
//
// A benchmark, not a test: built with the project, never registered with CTest. Every phase is
// bounded in time, works in a fresh temporary directory and removes it. See README.md here.
//
//   store_bench [--dir PARENT] [--seconds N] [--quick] [--messages N]

#include <grpcpp/grpcpp.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/statistics.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/logging.h"
#include "common/status.h"
#include "directory.grpc.pb.h"
#include "mailboxstore/service/store_server.h"
#include "store.grpc.pb.h"

namespace mailboxstore::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kConcurrency[] = {1, 8, 64};
constexpr size_t kMessageBytes = 10 * 1024;  // Body of every synced write.
constexpr size_t kIndexBytes = 32;           // The raw baseline's second, "index" value.
constexpr size_t kSmallMessageBytes = 600;   // Messages of the listing phase.
constexpr int kFillThreads = 8;
constexpr int kMaxFetchRepeats = 5;
constexpr char kPassword[] = "bench-password-1";

struct BenchFlags {
  std::string dir = "/var/tmp";   // Default: /var/tmp. Parent of the temporary directory.
  double seconds = 5;             // Default: 5 (--quick: 1). Length of one measurement.
  int listing_messages = 100000;  // Default: 100,000 (--quick: 20,000).
  bool listing_only = false;      // --listing-only: skip the append phases 1, 2 and 1b.
};

// ---------------------------------------------------------------------------------------
// Small tools.

volatile std::sig_atomic_t g_interrupted = 0;
void OnSignal(int) { g_interrupted = 1; }
bool Interrupted() { return g_interrupted != 0; }

// SplitMix64: fast, good enough for incompressible payloads.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  void Fill(std::string* out, size_t n) {
    out->resize(n);
    for (size_t i = 0; i < n; i += 8) {
      uint64_t v = Next();
      memcpy(out->data() + i, &v, std::min<size_t>(8, n - i));
    }
  }

 private:
  uint64_t state_;
};

// A fresh directory under `parent`, removed with everything in it when this goes away.
class TempDir {
 public:
  static common::StatusOr<std::unique_ptr<TempDir>> Create(const std::string& parent) {
    std::string tmpl = (std::filesystem::path(parent) / "store_bench.XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      return common::UnavailableError("cannot create a directory like " + tmpl + ": " +
                                      strerror(errno));
    }
    return std::unique_ptr<TempDir>(new TempDir(tmpl));
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }
  void RemoveSub(const std::string& name) const {
    std::error_code ec;
    std::filesystem::remove_all(Sub(name), ec);
  }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Figures collected for the final "bench: name=value unit" lines.
class Report {
 public:
  void Add(const std::string& name, double value, const std::string& unit) {
    figures_.push_back({name, value, unit});
  }
  void Print() const {
    for (const Figure& f : figures_) {
      std::printf("bench: %s=%.*f %s\n", f.name.c_str(), Decimals(f.value), f.value,
                  f.unit.c_str());
    }
  }

 private:
  struct Figure {
    std::string name;
    double value;
    std::string unit;
  };
  static int Decimals(double v) { return v >= 100 ? 0 : (v >= 1 ? 2 : 3); }
  std::vector<Figure> figures_;
};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
double Millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<float>* v, double p) {
  if (v->empty()) return 0;
  size_t k = std::min(v->size() - 1, static_cast<size_t>(p * static_cast<double>(v->size())));
  std::nth_element(v->begin(), v->begin() + static_cast<ptrdiff_t>(k), v->end());
  return (*v)[k];
}

// CPU time (user + system) of this whole process: benchmark clients and server together.
double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

// The 1-minute load average: other work on the machine skews every figure.
double LoadAverage() {
  double load = -1;
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = -1;
    std::fclose(f);
  }
  return load;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// ---------------------------------------------------------------------------------------
// Timed runs: `threads` threads each call `op` in a loop until the deadline.

struct RunResult {
  uint64_t ops = 0;
  uint64_t errors = 0;
  double seconds = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double cpu_cores = 0;  // Process CPU time / wall time: 2.0 = two cores busy.
  std::string first_error;
  double Rate() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
};

// Returns false (with `error` set) when the operation failed; that thread then stops.
using Op = std::function<bool(int thread, uint64_t seq, std::string* error)>;

RunResult RunTimed(int threads, double seconds, const Op& op) {
  std::vector<std::vector<float>> latencies_us(threads);
  std::vector<uint64_t> errors(threads, 0);
  std::vector<std::string> first_errors(threads);
  std::latch start(threads + 1);
  Clock::time_point t0;
  Clock::time_point deadline;
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::vector<float>& lat = latencies_us[t];
      lat.reserve(1 << 14);
      start.arrive_and_wait();
      for (uint64_t seq = 0; Clock::now() < deadline && !Interrupted(); ++seq) {
        Clock::time_point a = Clock::now();
        std::string error;
        if (!op(t, seq, &error)) {
          ++errors[t];
          first_errors[t] = error;
          break;
        }
        lat.push_back(std::chrono::duration<float, std::micro>(Clock::now() - a).count());
      }
    });
  }
  double cpu0 = ProcessCpuSeconds();
  t0 = Clock::now();
  deadline =
      t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  start.arrive_and_wait();
  for (std::thread& th : pool) th.join();

  RunResult r;
  r.seconds = Seconds(Clock::now() - t0);
  r.cpu_cores = (ProcessCpuSeconds() - cpu0) / r.seconds;
  std::vector<float> all;
  for (int t = 0; t < threads; ++t) {
    all.insert(all.end(), latencies_us[t].begin(), latencies_us[t].end());
    r.errors += errors[t];
    if (r.first_error.empty()) r.first_error = first_errors[t];
  }
  r.ops = all.size();
  r.p50_ms = Percentile(&all, 0.50) / 1000.0;
  r.p99_ms = Percentile(&all, 0.99) / 1000.0;
  return r;
}

void PrintErrors(const RunResult& r) {
  if (r.errors > 0) {
    std::printf("    !! %llu failed operations; first: %s\n",
                static_cast<unsigned long long>(r.errors), r.first_error.c_str());
  }
}

// ---------------------------------------------------------------------------------------
// Messages.

// Lines of a plain-text body, repeated to pad a message to its size.
constexpr const char* kBodyLines[] = {
    "Hello team,",
    "",
    "Please find below the minutes of this week's meeting. The storage migration is on",
    "track: the new cluster took over the first tenants on Monday and the old one will be",
    "switched off at the end of the month, once the last mailboxes have been moved.",
    "",
    "Action items: review the retention policy for Deleted Items and Junk, check the",
    "quota warnings sent last week, and confirm the maintenance window with the help desk.",
    "",
    "Open questions were deferred to the next meeting; reply to this message if you want",
    "something added to the agenda.",
    "",
};

// A realistic RFC 5322 message of exactly `size` octets (when `size` exceeds its header),
// unique through `unique` (in Message-ID, Subject and X-Bench-Seq), so that bodies are never
// deduplicated.
std::string MakeMessage(const std::string& to, const std::string& unique, size_t size) {
  std::string m;
  m.reserve(size + 128);
  m += "Return-Path: <reports@example.net>\r\n";
  m += "Received: from mx1.example.net (mx1.example.net [192.0.2.25])\r\n";
  m += "\tby store.bench.test with ESMTPS id " + unique + ";\r\n";
  m += "\tTue, 14 May 2024 09:30:12 +0200\r\n";
  m += "Date: Tue, 14 May 2024 09:30:11 +0200\r\n";
  m += "From: \"Weekly Reports\" <reports@example.net>\r\n";
  m += "To: " + to + "\r\n";
  m += "Subject: Minutes of the weekly meeting #" + unique + "\r\n";
  m += "Message-ID: <" + unique + ".minutes@example.net>\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=utf-8; format=flowed\r\n";
  m += "Content-Transfer-Encoding: 7bit\r\n";
  m += "X-Bench-Seq: " + unique + "\r\n";
  m += "\r\n";
  for (size_t i = 0; m.size() < size; ++i) {
    std::string line = kBodyLines[i % std::size(kBodyLines)];
    line += "\r\n";
    if (m.size() + line.size() > size) {
      // Last line: fill up to the exact size with a line of its own.
      size_t room = size - m.size();
      line = room >= 2 ? std::string(room - 2, '-') + "\r\n" : std::string(room, '\n');
    }
    m += line;
  }
  return m;
}

std::string Unique(int run, int client, uint64_t seq) {
  return "r" + std::to_string(run) + "c" + std::to_string(client) + "n" + std::to_string(seq);
}

// ---------------------------------------------------------------------------------------
// Phase 1: raw RocksDB.

struct RawResults {
  double rate[std::size(kConcurrency)] = {};
};

// Runs every concurrency level, or with `recheck` only the highest one again (to see whether
// the disk or the machine changed while the store was measured).
common::StatusOr<RawResults> RunRawRocksDb(const BenchFlags& flags, const std::string& path,
                                           bool recheck, Report* report) {
  if (recheck) {
    std::printf("\n== 1b. Raw RocksDB again, highest concurrency (drift check) ==\n");
  } else {
    std::printf(
        "\n== 1. Raw RocksDB: synced WriteBatch (10 KB random value + %zu-byte index "
        "entry), one db->Write per thread ==\n",
        kIndexBytes);
  }
  std::printf("   directory: %s, load average %.2f\n", path.c_str(), LoadAverage());
  rocksdb::Options options;
  options.create_if_missing = true;
  options.max_background_jobs = 2;  // As the store.
  options.statistics = rocksdb::CreateDBStatistics();
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, &raw_db);
  if (!s.ok()) return common::UnavailableError("cannot open RocksDB: " + s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw_db);

  std::printf("   %8s %11s %9s %9s %9s %13s %6s\n", "threads", "writes/s", "MB/s", "p50 ms",
              "p99 ms", "writes/fsync", "CPU");
  RawResults out;
  for (size_t level = recheck ? std::size(kConcurrency) - 1 : 0; level < std::size(kConcurrency);
       ++level) {
    if (Interrupted()) break;
    int threads = kConcurrency[level];
    std::vector<Rng> rngs;
    for (int t = 0; t < threads; ++t) rngs.emplace_back(0x5eed0000ull + level * 1000 + t);
    std::vector<std::string> values(threads);
    uint64_t syncs_before = options.statistics->getTickerCount(rocksdb::WAL_FILE_SYNCED);
    RunResult r = RunTimed(threads, flags.seconds, [&](int t, uint64_t seq, std::string* error) {
      char key[48];
      char index_key[48];
      std::snprintf(key, sizeof(key), "msg/%zu/%03d/%012llu", level, t,
                    static_cast<unsigned long long>(seq));
      std::snprintf(index_key, sizeof(index_key), "idx/%zu/%03d/%012llu", level, t,
                    static_cast<unsigned long long>(seq));
      rngs[t].Fill(&values[t], kMessageBytes);
      std::string index(kIndexBytes, '\0');
      uint64_t id = (static_cast<uint64_t>(t) << 40) | seq;
      memcpy(index.data(), &id, sizeof(id));
      rocksdb::WriteBatch batch;
      batch.Put(key, values[t]);
      batch.Put(index_key, index);
      rocksdb::WriteOptions wo;
      wo.sync = true;
      rocksdb::Status ws = db->Write(wo, &batch);
      if (!ws.ok()) *error = ws.ToString();
      return ws.ok();
    });
    uint64_t syncs = options.statistics->getTickerCount(rocksdb::WAL_FILE_SYNCED) - syncs_before;
    double mbps = r.Rate() * static_cast<double>(kMessageBytes + kIndexBytes) / 1e6;
    double per_sync = syncs > 0 ? static_cast<double>(r.ops) / static_cast<double>(syncs) : 0;
    std::printf("   %8d %11.0f %9.1f %9.2f %9.2f %13.1f %6.2f\n", threads, r.Rate(), mbps, r.p50_ms,
                r.p99_ms, per_sync, r.cpu_cores);
    PrintErrors(r);
    std::string prefix = std::string(recheck ? "raw_rocksdb_recheck_t" : "raw_rocksdb_t") +
                         std::to_string(threads) + "_";
    report->Add(prefix + "writes_per_s", r.Rate(), "writes/s");
    report->Add(prefix + "mb_per_s", mbps, "MB/s");
    report->Add(prefix + "p50_ms", r.p50_ms, "ms");
    report->Add(prefix + "p99_ms", r.p99_ms, "ms");
    report->Add(prefix + "writes_per_fsync", per_sync, "writes/fsync");
    report->Add(prefix + "cpu_cores", r.cpu_cores, "cores");
    out.rate[level] = r.Rate();
  }
  s = db->Close();
  if (!s.ok()) return common::UnavailableError("cannot close RocksDB: " + s.ToString());
  return out;
}

// ---------------------------------------------------------------------------------------
// The store over gRPC.

std::shared_ptr<grpc::Channel> NewChannel(const std::string& target, bool own_connection) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  // Channels with equal arguments share one connection through the global subchannel pool;
  // a local pool gives this channel a TCP connection of its own.
  if (own_connection) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

bool WaitConnected(const std::shared_ptr<grpc::Channel>& channel) {
  return channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10));
}

std::string GrpcError(const grpc::Status& s) {
  return "gRPC code " + std::to_string(s.error_code()) + ": " + s.error_message();
}

// A StoreServer on 127.0.0.1:0 with its admin socket inside `dir`, plus the clients' targets.
struct RunningStore {
  std::unique_ptr<StoreServer> server;
  std::string frontend;  // "127.0.0.1:<port>"
  std::string admin;     // "unix:<dir>/admin.sock"
};

common::StatusOr<RunningStore> StartStore(const std::string& dir, bool sync_writes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return common::UnavailableError("cannot create " + dir + ": " + ec.message());
  StoreServerOptions o;
  o.store.data_dir = dir + "/db";
  o.store.sync_writes = sync_writes;
  o.store.retention_interval_seconds = 0;  // No background purge in the middle of a figure.
  o.listen = "127.0.0.1:0";
  o.admin_socket = dir + "/admin.sock";
  RunningStore rs;
  MAIL_ASSIGN_OR_RETURN(rs.server, StoreServer::Start(o));
  rs.frontend = "127.0.0.1:" + std::to_string(rs.server->port());
  rs.admin = "unix:" + o.admin_socket;
  return rs;
}

// Creates mailboxes `prefix`0 .. `prefix`<n-1> through the Directory service; returns ids.
common::StatusOr<std::vector<uint64_t>> CreateMailboxes(const std::string& admin_target,
                                                        const std::string& prefix, int n) {
  auto channel = NewChannel(admin_target, false);
  if (!WaitConnected(channel)) return common::UnavailableError("admin socket unreachable");
  auto directory = mail::v1::Directory::NewStub(channel);
  std::vector<uint64_t> ids;
  for (int i = 0; i < n; ++i) {
    mail::v1::CreateMailboxRequest req;
    req.set_name(prefix + std::to_string(i));
    req.set_primary_smtp_address(req.name() + "@bench.test");
    req.set_password(kPassword);
    mail::v1::GetMailboxResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Status s = directory->CreateMailbox(&ctx, req, &resp);
    if (!s.ok()) return common::UnavailableError("CreateMailbox: " + GrpcError(s));
    ids.push_back(resp.mailbox().id());
  }
  return ids;
}

// How a benchmark client reaches the store.
enum class Client {
  kOwnChannel = 0,     // gRPC, one channel (and TCP connection) per client thread.
  kSharedChannel = 1,  // gRPC, one channel shared by all client threads.
  kEngine = 2,         // RocksMailboxStore::Append called directly: no gRPC, for reference.
};

struct CommitterCounts {
  uint64_t groups = 0;
  uint64_t writes = 0;
};

CommitterCounts ReadCommitter(StoreServer* server) {
  const GroupCommitter& c = server->store()->committer();
  return {c.groups_written(), c.writes_committed()};
}

common::Status RunStoreAppends(const BenchFlags& flags, const std::string& dir,
                               const RawResults& raw, Report* report) {
  std::printf(
      "\n== 2. The store over gRPC: synced MessageStore.Append of unique 10 KB "
      "RFC 5322 messages ==\n");
  std::printf("   directory: %s (in-process StoreServer, sync_writes=true), load average %.2f\n",
              dir.c_str(), LoadAverage());
  MAIL_ASSIGN_OR_RETURN(RunningStore rs, StartStore(dir, /*sync_writes=*/true));
  constexpr int kMaxClients = kConcurrency[std::size(kConcurrency) - 1];
  MAIL_ASSIGN_OR_RETURN(std::vector<uint64_t> shared_box, CreateMailboxes(rs.admin, "shared", 1));
  MAIL_ASSIGN_OR_RETURN(std::vector<uint64_t> own_boxes,
                        CreateMailboxes(rs.admin, "user", kMaxClients));

  // One channel with its own connection per client, and one channel shared by all.
  std::vector<std::unique_ptr<mail::v1::MessageStore::Stub>> own_stubs;
  std::vector<std::shared_ptr<grpc::Channel>> own_channels;
  for (int i = 0; i < kMaxClients; ++i) {
    own_channels.push_back(NewChannel(rs.frontend, true));
    if (!WaitConnected(own_channels.back())) {
      return common::UnavailableError("frontend unreachable");
    }
    own_stubs.push_back(mail::v1::MessageStore::NewStub(own_channels.back()));
  }
  auto shared_channel = NewChannel(rs.frontend, false);
  if (!WaitConnected(shared_channel)) return common::UnavailableError("frontend unreachable");
  auto shared_stub = mail::v1::MessageStore::NewStub(shared_channel);

  std::printf("   %-12s %-7s %7s %10s %6s %8s %8s %7s %12s %5s\n", "target", "channel", "clients",
              "appends/s", "MB/s", "p50 ms", "p99 ms", "vs raw", "writers/sync", "CPU");
  int run = 0;
  for (bool same_mailbox : {true, false}) {
    for (Client client : {Client::kOwnChannel, Client::kSharedChannel, Client::kEngine}) {
      for (size_t level = 0; level < std::size(kConcurrency); ++level) {
        if (Interrupted()) break;
        int clients = kConcurrency[level];
        ++run;
        CommitterCounts before = ReadCommitter(rs.server.get());
        RunResult r =
            RunTimed(clients, flags.seconds, [&](int c, uint64_t seq, std::string* error) {
              mail::v1::AppendRequest req;
              req.set_mailbox_id(same_mailbox ? shared_box[0] : own_boxes[c]);
              req.mutable_folder()->set_name("INBOX");
              req.set_message(MakeMessage("<user" + std::to_string(c) + "@bench.test>",
                                          Unique(run, c, seq), kMessageBytes));
              if (client == Client::kEngine) {
                auto appended = rs.server->store()->Append(req);
                if (!appended.ok()) *error = appended.status().ToString();
                return appended.ok();
              }
              mail::v1::AppendResponse resp;
              grpc::ClientContext ctx;
              ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
              auto* stub = client == Client::kOwnChannel ? own_stubs[c].get() : shared_stub.get();
              grpc::Status s = stub->Append(&ctx, req, &resp);
              if (!s.ok()) *error = GrpcError(s);
              return s.ok();
            });
        CommitterCounts after = ReadCommitter(rs.server.get());
        uint64_t groups = after.groups - before.groups;
        uint64_t writes = after.writes - before.writes;
        double per_sync =
            groups > 0 ? static_cast<double>(writes) / static_cast<double>(groups) : 0;
        double ratio = raw.rate[level] > 0 ? r.Rate() / raw.rate[level] : 0;
        double mbps = r.Rate() * static_cast<double>(kMessageBytes) / 1e6;
        const char* target = same_mailbox ? "same INBOX" : "own mailbox";  // Padded to 12.
        static constexpr const char* kClientNames[] = {"own", "shared", "engine"};
        static constexpr const char* kClientKeys[] = {"ownchan", "sharedchan", "engine"};
        std::printf("   %-12s %-7s %7d %10.0f %6.1f %8.2f %8.2f %6.0f%% %12.1f %5.2f\n", target,
                    kClientNames[static_cast<int>(client)], clients, r.Rate(), mbps, r.p50_ms,
                    r.p99_ms, ratio * 100, per_sync, r.cpu_cores);
        PrintErrors(r);
        std::string prefix = std::string("store_") + (same_mailbox ? "same" : "own") + "_" +
                             kClientKeys[static_cast<int>(client)] + "_c" +
                             std::to_string(clients) + "_";
        report->Add(prefix + "appends_per_s", r.Rate(), "appends/s");
        report->Add(prefix + "p50_ms", r.p50_ms, "ms");
        report->Add(prefix + "p99_ms", r.p99_ms, "ms");
        report->Add(prefix + "ratio_to_raw", ratio, "x");
        report->Add(prefix + "writers_per_fsync", per_sync, "writes/group");
        report->Add(prefix + "cpu_cores", r.cpu_cores, "cores");
      }
    }
  }
  CommitterCounts total = ReadCommitter(rs.server.get());
  std::printf(
      "   committer totals: groups_written=%llu writes_committed=%llu (%.1f writers per "
      "WAL sync overall, setup included)\n",
      static_cast<unsigned long long>(total.groups), static_cast<unsigned long long>(total.writes),
      total.groups > 0 ? static_cast<double>(total.writes) / total.groups : 0.0);
  own_stubs.clear();
  own_channels.clear();
  shared_stub.reset();
  shared_channel.reset();
  rs.server->Shutdown();
  return common::Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Phase 3: listing a large folder.

// Times one streamed Fetch of the whole folder; checks that every record arrived in order.
struct FetchTiming {
  double ms = 0;
  int chunks = 0;  // Stream messages of the one RPC.
};

common::StatusOr<FetchTiming> TimeFetch(mail::v1::MessageStore::Stub* stub, uint64_t mailbox_id,
                                        bool with_structure, int expected) {
  mail::v1::FetchRequest req;
  req.set_mailbox_id(mailbox_id);
  req.mutable_folder()->set_name("INBOX");
  req.set_with_structure(with_structure);
  Clock::time_point t0 = Clock::now();
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  std::unique_ptr<grpc::ClientReader<mail::v1::FetchResponse>> reader = stub->Fetch(&ctx, req);
  mail::v1::FetchResponse chunk;
  int records = 0;
  int chunks = 0;
  uint32_t last_uid = 0;
  bool ordered = true;
  bool structured = true;
  while (reader->Read(&chunk)) {
    for (const mail::v1::MessageRecord& m : chunk.messages()) {
      ordered = ordered && m.uid() > last_uid;
      structured = structured && (!with_structure || m.structure().size() > 0);
      last_uid = m.uid();
    }
    records += chunk.messages_size();
    ++chunks;
  }
  grpc::Status s = reader->Finish();
  double ms = Millis(Clock::now() - t0);
  if (!s.ok()) return common::UnavailableError("Fetch: " + GrpcError(s));
  if (records != expected || !ordered || !structured) {
    return common::InternalError("Fetch returned " + std::to_string(records) + " records of " +
                                 std::to_string(expected) + (ordered ? "" : ", out of order") +
                                 (structured ? "" : ", without structure"));
  }
  return FetchTiming{ms, chunks};
}

// Times one SearchText of the whole folder on one header field (SEARCH FROM x); returns how
// many UIDs matched in `matched`.
common::StatusOr<double> TimeHeaderSearch(mail::v1::MessageStore::Stub* stub, uint64_t mailbox_id,
                                          const std::string& field, const std::string& needle,
                                          int* matched) {
  mail::v1::SearchTextRequest req;
  req.set_mailbox_id(mailbox_id);
  req.mutable_folder()->set_name("INBOX");
  mail::v1::TextCriterion* c = req.add_criteria();
  c->set_header(field);
  c->set_text(needle);
  mail::v1::SearchTextResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  Clock::time_point t0 = Clock::now();
  grpc::Status s = stub->SearchText(&ctx, req, &resp);
  double ms = Millis(Clock::now() - t0);
  if (!s.ok()) return common::UnavailableError("SearchText: " + GrpcError(s));
  if (resp.matches_size() != 1) return common::InternalError("SearchText: no match list");
  *matched = resp.matches(0).uids_size();
  return ms;
}

struct GetFolderTiming {
  uint32_t messages = 0;
  double p50_us = 0;
  double p99_us = 0;
};

// GetFolder round trips on `folders`, alternating between them `rounds` times so that every
// folder sees the same conditions (warm-up, scheduling); latencies in microseconds.
common::StatusOr<std::vector<GetFolderTiming>> TimeGetFolders(
    mail::v1::MessageStore::Stub* stub, uint64_t mailbox_id,
    const std::vector<std::string>& folders, int rounds) {
  std::vector<std::vector<float>> us(folders.size());
  std::vector<GetFolderTiming> out(folders.size());
  for (int i = 0; i < rounds; ++i) {
    for (size_t f = 0; f < folders.size(); ++f) {
      mail::v1::GetFolderRequest req;
      req.set_mailbox_id(mailbox_id);
      req.mutable_folder()->set_name(folders[f]);
      mail::v1::FolderResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      Clock::time_point t0 = Clock::now();
      grpc::Status s = stub->GetFolder(&ctx, req, &resp);
      float t = std::chrono::duration<float, std::micro>(Clock::now() - t0).count();
      if (!s.ok()) return common::UnavailableError("GetFolder: " + GrpcError(s));
      out[f].messages = resp.folder().messages();
      us[f].push_back(t);
    }
  }
  for (size_t f = 0; f < folders.size(); ++f) {
    out[f].p50_us = Percentile(&us[f], 0.50);
    out[f].p99_us = Percentile(&us[f], 0.99);
  }
  return out;
}

common::Status RunListing(const BenchFlags& flags, const std::string& dir, Report* report) {
  const int n = flags.listing_messages;
  std::printf(
      "\n== 3. Listing a %d-message folder (Fetch of UID + flags, one streamed RPC) "
      "==\n",
      n);
  std::printf("   directory: %s, load average %.2f\n", dir.c_str(), LoadAverage());
  uint64_t box = 0;
  {
    // Fill through the engine from several threads with an unsynced store: listing only
    // reads, so how the rows reached the disk does not matter.
    MAIL_ASSIGN_OR_RETURN(RunningStore rs, StartStore(dir, /*sync_writes=*/false));
    MAIL_ASSIGN_OR_RETURN(std::vector<uint64_t> ids, CreateMailboxes(rs.admin, "big", 1));
    box = ids[0];
    std::atomic<int> next{0};
    std::atomic<int> failures{0};
    std::string first_error;
    std::mutex error_mu;
    Clock::time_point t0 = Clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < kFillThreads; ++t) {
      pool.emplace_back([&] {
        for (int i = next++; i < n && !Interrupted(); i = next++) {
          mail::v1::AppendRequest req;
          req.set_mailbox_id(box);
          req.mutable_folder()->set_name("INBOX");
          if (i % 3 != 0) req.add_flags("\\Seen");
          if (i % 17 == 0) req.add_flags("\\Flagged");
          if (i % 50 == 0) req.add_flags("$Work");
          req.set_message(MakeMessage("<big0@bench.test>", Unique(0, 0, i), kSmallMessageBytes));
          auto r = rs.server->store()->Append(req);
          if (!r.ok()) {
            std::lock_guard<std::mutex> lock(error_mu);
            if (failures++ == 0) first_error = r.status().ToString();
          }
        }
      });
    }
    for (std::thread& th : pool) th.join();
    if (Interrupted()) return common::Status(common::StatusCode::kCancelled, "interrupted");
    if (failures > 0) {
      return common::InternalError(std::to_string(failures.load()) +
                                   " appends failed while filling; first: " + first_error);
    }
    double fill_s = Seconds(Clock::now() - t0);
    CommitterCounts c = ReadCommitter(rs.server.get());
    std::printf(
        "   filled with %d unique %zu-byte messages in %.1f s (%.0f appends/s; engine "
        "Append from %d threads, sync_writes=false, %.1f writes per group)\n",
        n, kSmallMessageBytes, fill_s, n / fill_s, kFillThreads,
        c.groups > 0 ? static_cast<double>(c.writes) / c.groups : 0.0);
    report->Add("listing_fill_unsynced_appends_per_s", n / fill_s, "appends/s");
    rs.server->Shutdown();
  }

  // Reopen (synced, as in production): the rows come from disk and the caches start cold.
  MAIL_ASSIGN_OR_RETURN(RunningStore rs, StartStore(dir, /*sync_writes=*/true));
  auto channel = NewChannel(rs.frontend, true);
  if (!WaitConnected(channel)) return common::UnavailableError("frontend unreachable");
  auto stub = mail::v1::MessageStore::NewStub(channel);
  std::printf("   server restarted on the filled database (sync_writes=true, cold caches)\n");

  // SELECT-equivalent: the first call after the restart loads the mailbox state; then the
  // 100,000-message INBOX against the empty Drafts of the same mailbox, interleaved.
  MAIL_ASSIGN_OR_RETURN(auto first, TimeGetFolders(stub.get(), box, {"INBOX"}, 1));
  if (first[0].messages != static_cast<uint32_t>(n)) {
    return common::InternalError("GetFolder reports " + std::to_string(first[0].messages) +
                                 " messages, expected " + std::to_string(n));
  }
  constexpr int kGetFolderWarmup = 100;
  constexpr int kGetFolderRounds = 1000;
  MAIL_RETURN_IF_ERROR(
      TimeGetFolders(stub.get(), box, {"INBOX", "Drafts"}, kGetFolderWarmup).status());
  MAIL_ASSIGN_OR_RETURN(auto folders,
                        TimeGetFolders(stub.get(), box, {"INBOX", "Drafts"}, kGetFolderRounds));
  std::printf("   GetFolder (SELECT) first call after restart: %.0f us (loads the mailbox state)\n",
              first[0].p50_us);
  std::printf("   %-34s %10s %10s\n", "GetFolder over gRPC (1000 calls)", "p50 us", "p99 us");
  for (size_t f = 0; f < folders.size(); ++f) {
    std::string what =
        (f == 0 ? "INBOX, " : "Drafts, ") + std::to_string(folders[f].messages) + " messages";
    std::printf("   %-34s %10.0f %10.0f\n", what.c_str(), folders[f].p50_us, folders[f].p99_us);
  }
  report->Add("getfolder_first_after_restart_us", first[0].p50_us, "us");
  report->Add("getfolder_full_p50_us", folders[0].p50_us, "us");
  report->Add("getfolder_full_p99_us", folders[0].p99_us, "us");
  report->Add("getfolder_empty_p50_us", folders[1].p50_us, "us");
  report->Add("getfolder_empty_p99_us", folders[1].p99_us, "us");

  std::printf("   %-22s %9s %9s %11s %7s %9s %5s\n", "Fetch, one RPC", "cold ms", "warm ms",
              "records/s", "chunks", "warm runs", "CPU");
  for (bool with_structure : {false, true}) {
    if (Interrupted()) break;
    MAIL_ASSIGN_OR_RETURN(FetchTiming cold, TimeFetch(stub.get(), box, with_structure, n));
    std::vector<double> warm;
    Clock::time_point start = Clock::now();
    double cpu0 = ProcessCpuSeconds();
    while (static_cast<int>(warm.size()) < kMaxFetchRepeats &&
           (warm.empty() || Seconds(Clock::now() - start) < flags.seconds) && !Interrupted()) {
      MAIL_ASSIGN_OR_RETURN(FetchTiming t, TimeFetch(stub.get(), box, with_structure, n));
      warm.push_back(t.ms);
    }
    double cpu_cores = (ProcessCpuSeconds() - cpu0) / Seconds(Clock::now() - start);
    double warm_ms = Median(warm);
    double rate = warm_ms > 0 ? n / (warm_ms / 1000.0) : 0;
    const char* what = with_structure ? "UID+flags+structure" : "UID+flags";
    std::printf("   %-22s %9.1f %9.1f %11.0f %7d %9zu %5.2f\n", what, cold.ms, warm_ms, rate,
                cold.chunks, warm.size(), cpu_cores);
    std::string prefix = with_structure ? "listing_fetch_structure_" : "listing_fetch_flags_";
    report->Add(prefix + "cold_ms", cold.ms, "ms");
    report->Add(prefix + "ms", warm_ms, "ms");
    report->Add(prefix + "records_per_s", rate, "records/s");
    report->Add(prefix + "cpu_cores", cpu_cores, "cores");
  }

  // SEARCH FROM / SUBJECT as casd sends them: one SearchText on a header field. Every message
  // is from "Weekly Reports"; one subject in the folder holds "#<n/2>.".
  struct HeaderSearch {
    const char* what;
    const char* field;
    std::string needle;
    int expected;
    const char* key;
  };
  const HeaderSearch searches[] = {
      {"FROM weekly (all match)", "from", "weekly", n, "search_from_all_"},
      {"FROM nobody (none)", "from", "nobody", 0, "search_from_none_"},
      {"SUBJECT (one match)", "subject", "#" + Unique(0, 0, n / 2), 1,
       "search_subject_one_"},
  };
  std::printf("   %-26s %9s %9s %9s %9s %5s\n", "SearchText on a header", "cold ms", "warm ms",
              "matched", "warm runs", "CPU");
  for (const HeaderSearch& hs : searches) {
    if (Interrupted()) break;
    const std::string& needle = hs.needle;
    int matched = 0;
    MAIL_ASSIGN_OR_RETURN(double cold, TimeHeaderSearch(stub.get(), box, hs.field, needle, &matched));
    std::vector<double> warm;
    Clock::time_point start = Clock::now();
    double cpu0 = ProcessCpuSeconds();
    while (static_cast<int>(warm.size()) < kMaxFetchRepeats &&
           (warm.empty() || Seconds(Clock::now() - start) < flags.seconds) && !Interrupted()) {
      MAIL_ASSIGN_OR_RETURN(double ms,
                            TimeHeaderSearch(stub.get(), box, hs.field, needle, &matched));
      warm.push_back(ms);
    }
    double cpu_cores = (ProcessCpuSeconds() - cpu0) / Seconds(Clock::now() - start);
    if (matched < hs.expected || (hs.expected == 0 && matched != 0)) {
      return common::InternalError(std::string("SearchText ") + hs.what + " matched " +
                                   std::to_string(matched) + ", expected " +
                                   std::to_string(hs.expected));
    }
    double warm_ms = Median(warm);
    std::printf("   %-26s %9.1f %9.1f %9d %9zu %5.2f\n", hs.what, cold, warm_ms, matched,
                warm.size(), cpu_cores);
    report->Add(std::string(hs.key) + "cold_ms", cold, "ms");
    report->Add(std::string(hs.key) + "ms", warm_ms, "ms");
  }
  stub.reset();
  channel.reset();
  rs.server->Shutdown();
  return common::Status::Ok();
}

// ---------------------------------------------------------------------------------------

void Usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--dir PARENT] [--seconds N] [--quick] [--messages N] [--listing-only]\n"
               "  --dir PARENT  parent of the temporary directory (default /var/tmp)\n"
               "  --seconds N   length of each measurement (default 5; --quick: 1)\n"
               "  --quick       1 s per measurement and a 20,000-message listing folder\n"
               "  --messages N  messages in the listing folder (default 100000)\n"
               "  --listing-only  only phase 3 (listing and searching the large folder)\n",
               argv0);
}

bool ParseFlags(int argc, char** argv, BenchFlags* flags) {
  bool seconds_set = false;
  bool messages_set = false;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--listing-only") {
      flags->listing_only = true;
    } else if (arg == "--dir" && value(&v)) {
      flags->dir = v;
    } else if (arg == "--seconds" && value(&v)) {
      char* end = nullptr;
      flags->seconds = std::strtod(v.c_str(), &end);
      if (*end != '\0' || !(flags->seconds > 0)) return false;
      seconds_set = true;
    } else if (arg == "--messages" && value(&v)) {
      char* end = nullptr;
      long m = std::strtol(v.c_str(), &end, 10);
      if (*end != '\0' || m < 1 || m > 10000000) return false;
      flags->listing_messages = static_cast<int>(m);
      messages_set = true;
    } else {
      return false;
    }
  }
  if (quick) {
    if (!seconds_set) flags->seconds = 1;
    if (!messages_set) flags->listing_messages = 20000;
  }
  return true;
}

int Main(int argc, char** argv) {
  BenchFlags flags;
  if (!ParseFlags(argc, argv, &flags)) {
    Usage(argv[0]);
    return 2;
  }
  common::SetLogLevel(common::LogLevel::kWarning);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  auto dir = TempDir::Create(flags.dir);
  if (!dir.ok()) {
    std::fprintf(stderr, "store_bench: %s\n", dir.status().ToString().c_str());
    return 1;
  }
  std::printf("store_bench: %u CPUs, %.1f s per measurement, listing folder of %d messages\n",
              std::thread::hardware_concurrency(), flags.seconds, flags.listing_messages);
  std::printf("temporary directory: %s (removed at exit)\n", (*dir)->path().c_str());
  std::printf("1-minute load average before the run: %.2f (anything above ~0.2 skews figures)\n",
              LoadAverage());
  std::fflush(stdout);

  Report report;
  int rc = 0;
  auto fail = [&](const char* phase, const common::Status& s) {
    std::fprintf(stderr, "store_bench: %s: %s\n", phase, s.ToString().c_str());
    rc = 1;
  };
  common::StatusOr<RawResults> raw = common::Status(common::StatusCode::kCancelled, "skipped");
  if (!flags.listing_only) {
    raw = RunRawRocksDb(flags, (*dir)->Sub("raw"), /*recheck=*/false, &report);
    (*dir)->RemoveSub("raw");
    std::fflush(stdout);
  }
  if (flags.listing_only) {
  } else if (!raw.ok()) {
    fail("raw RocksDB", raw.status());
  } else if (!Interrupted()) {
    common::Status s = RunStoreAppends(flags, (*dir)->Sub("store"), *raw, &report);
    (*dir)->RemoveSub("store");
    std::fflush(stdout);
    if (!s.ok()) fail("store appends", s);
  }
  if (rc == 0 && !Interrupted() && !flags.listing_only) {
    auto again = RunRawRocksDb(flags, (*dir)->Sub("raw2"), /*recheck=*/true, &report);
    (*dir)->RemoveSub("raw2");
    std::fflush(stdout);
    if (!again.ok()) fail("raw RocksDB re-check", again.status());
  }
  if (rc == 0 && !Interrupted()) {
    common::Status s = RunListing(flags, (*dir)->Sub("listing"), &report);
    (*dir)->RemoveSub("listing");
    if (!s.ok()) fail("listing", s);
  }
  if (Interrupted()) {
    std::fprintf(stderr, "store_bench: interrupted; figures are partial\n");
    rc = 130;
  }
  std::printf("\n1-minute load average after the run: %.2f (includes this benchmark)\n\n",
              LoadAverage());
  report.Print();
  return rc;
}

}  // namespace
}  // namespace mailboxstore::bench

int main(int argc, char** argv) { return mailboxstore::bench::Main(argc, argv); }
