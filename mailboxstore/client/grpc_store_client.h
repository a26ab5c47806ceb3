// GrpcStoreClient: the frontends' connection to mailboxstored. Calls run as synchronous gRPC
// calls with a deadline on a bounded worker pool, so coroutines on network threads never block;
// gRPC reconnects by itself when the store comes back. A store that is down or slow gives
// kUnavailable / kDeadlineExceeded within the deadline, never a hang.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "common/blocking_pool.h"
#include "directory.grpc.pb.h"
#include "mailboxstore/api/authenticator.h"
#include "mailboxstore/api/mail_store.h"
#include "store.grpc.pb.h"

namespace mailboxstore {

struct GrpcStoreClientOptions {
  std::string endpoint = "127.0.0.1:7400";      // Default: 127.0.0.1:7400.
  std::chrono::milliseconds deadline{10000};    // Default: 10 s per call.
  // Calls whose work grows with the data: SEARCH's reads of every message of a folder
  // (SearchText, Fetch with structure; tens of seconds on 100,000 messages) and Append/Deliver
  // of a large message (parsed and synced before the reply). Default: 120 s.
  std::chrono::milliseconds long_deadline{120000};
  size_t worker_threads = 32;                   // Default: 32 calls in flight.
};

class GrpcStoreClient final : public Authenticator, public MailStore {
 public:
  explicit GrpcStoreClient(const GrpcStoreClientOptions& options);
  ~GrpcStoreClient() override;

  // Authenticator.
  asio::awaitable<common::StatusOr<mail::v1::AuthenticateResponse>> AuthenticatePlain(
      const mail::v1::AuthenticatePlainRequest& req) override;
  asio::awaitable<common::StatusOr<mail::v1::GetScramVerifierResponse>> GetScramVerifier(
      const mail::v1::GetScramVerifierRequest& req) override;
  asio::awaitable<common::StatusOr<mail::v1::AuthenticateResponse>> CompleteLogin(
      const mail::v1::CompleteLoginRequest& req) override;
  asio::awaitable<common::StatusOr<mail::v1::ReportLoginFailureResponse>> ReportLoginFailure(
      const mail::v1::ReportLoginFailureRequest& req) override;

  // MailStore.
  Result<mail::v1::ListFoldersResponse> ListFolders(const mail::v1::ListFoldersRequest&) override;
  Result<mail::v1::FolderResponse> GetFolder(const mail::v1::GetFolderRequest&) override;
  Result<mail::v1::FolderResponse> CreateFolder(const mail::v1::CreateFolderRequest&) override;
  Result<mail::v1::DeleteFolderResponse> DeleteFolder(
      const mail::v1::DeleteFolderRequest&) override;
  Result<mail::v1::RenameFolderResponse> RenameFolder(
      const mail::v1::RenameFolderRequest&) override;
  Result<mail::v1::FolderResponse> SubscribeFolder(
      const mail::v1::SubscribeFolderRequest&) override;
  Result<mail::v1::AppendResponse> Append(const mail::v1::AppendRequest&) override;
  Result<mail::v1::DeliverResponse> Deliver(const mail::v1::DeliverRequest&) override;
  Result<mail::v1::FetchResponse> Fetch(const mail::v1::FetchRequest&) override;
  Result<std::string> GetBody(const mail::v1::GetBodyRequest&) override;
  Result<std::vector<mail::v1::GetBodiesResponse>> GetBodies(
      const mail::v1::GetBodiesRequest&) override;
  Result<mail::v1::StoreFlagsResponse> StoreFlags(const mail::v1::StoreFlagsRequest&) override;
  Result<mail::v1::ExpungeResponse> Expunge(const mail::v1::ExpungeRequest&) override;
  Result<mail::v1::CopyResponse> Copy(const mail::v1::CopyRequest&) override;
  Result<mail::v1::SearchTextResponse> SearchText(const mail::v1::SearchTextRequest&) override;
  Result<mail::v1::GetChangesResponse> GetChanges(const mail::v1::GetChangesRequest&) override;
  Result<mail::v1::MailboxStatsResponse> MailboxStats(
      const mail::v1::MailboxStatsRequest&) override;
  Result<mail::v1::ResolveAddressResponse> ResolveAddress(
      const mail::v1::ResolveAddressRequest&) override;

  // One change stream for this whole process (all mailboxes), re-opened after any failure.
  // `on_event` runs on the watcher thread; `on_resync` after a (re)connect, when sessions must
  // re-read their folder state because events may have been missed.
  void StartWatching(std::function<void(const mail::v1::ChangeEvent&)> on_event,
                     std::function<void()> on_resync);
  void StopWatching();

 private:
  std::unique_ptr<grpc::ClientContext> NewContext(
      std::optional<std::chrono::milliseconds> deadline = std::nullopt) const;
  GrpcStoreClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<mail::v1::Access::Stub> access_;
  std::unique_ptr<mail::v1::MessageStore::Stub> store_;
  common::BlockingPool pool_;
  std::thread watcher_;
  std::atomic<bool> stop_watching_{false};
  std::mutex watch_mu_;
  grpc::ClientContext* watch_ctx_ = nullptr;
};

// Maps gRPC status codes onto ours (the numbering is the same).
common::Status FromGrpc(const grpc::Status& s);

}  // namespace mailboxstore
