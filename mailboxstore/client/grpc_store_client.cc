#include "mailboxstore/client/grpc_store_client.h"

#include "common/logging.h"
#include "common/metrics.h"
#include "common/store_token.h"

namespace mailboxstore {

common::Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return common::Status::Ok();
  return common::Status(static_cast<common::StatusCode>(s.error_code()), s.error_message());
}

GrpcStoreClient::GrpcStoreClient(const GrpcStoreClientOptions& options)
    : options_(options), pool_(options.worker_threads) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(100 << 20);
  args.SetMaxSendMessageSize(100 << 20);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  channel_ = grpc::CreateCustomChannel(options.endpoint, grpc::InsecureChannelCredentials(), args);
  access_ = mail::v1::Access::NewStub(channel_);
  store_ = mail::v1::MessageStore::NewStub(channel_);
}

GrpcStoreClient::~GrpcStoreClient() { StopWatching(); }

namespace {

// The latency metric is the call itself, as this node sees it (not the wait for a worker).
void Observe(std::string_view method, const grpc::Status& s,
             std::chrono::steady_clock::time_point started) {
  common::metrics::ObserveStoreRpc(
      method, s.ok(),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

}  // namespace

std::unique_ptr<grpc::ClientContext> GrpcStoreClient::NewContext(
    std::optional<std::chrono::milliseconds> deadline) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + deadline.value_or(options_.deadline));
  common::AttachStoreToken(ctx.get());
  return ctx;
}

// Each call copies its request into the job that runs on the pool (see RunBlocking).
#define MAIL_UNARY_WITHIN(Stub, Method, Req, Resp, Deadline)                            \
  common::RunBlocking(&pool_, [this, req = Req(req)]() -> common::StatusOr<Resp> {   \
    auto ctx = NewContext(Deadline);                                                   \
    Resp resp;                                                                         \
    const auto started = std::chrono::steady_clock::now();                             \
    grpc::Status s = Stub->Method(ctx.get(), req, &resp);                              \
    Observe(#Method, s, started);                                                      \
    if (!s.ok()) return FromGrpc(s);                                                   \
    return resp;                                                                       \
  })
#define MAIL_UNARY(Stub, Method, Req, Resp) MAIL_UNARY_WITHIN(Stub, Method, Req, Resp, std::nullopt)

asio::awaitable<common::StatusOr<mail::v1::AuthenticateResponse>>
GrpcStoreClient::AuthenticatePlain(const mail::v1::AuthenticatePlainRequest& req) {
  return MAIL_UNARY(access_, AuthenticatePlain, mail::v1::AuthenticatePlainRequest,
                    mail::v1::AuthenticateResponse);
}

asio::awaitable<common::StatusOr<mail::v1::GetScramVerifierResponse>>
GrpcStoreClient::GetScramVerifier(const mail::v1::GetScramVerifierRequest& req) {
  return MAIL_UNARY(access_, GetScramVerifier, mail::v1::GetScramVerifierRequest,
                    mail::v1::GetScramVerifierResponse);
}

asio::awaitable<common::StatusOr<mail::v1::AuthenticateResponse>> GrpcStoreClient::CompleteLogin(
    const mail::v1::CompleteLoginRequest& req) {
  return MAIL_UNARY(access_, CompleteLogin, mail::v1::CompleteLoginRequest,
                    mail::v1::AuthenticateResponse);
}

asio::awaitable<common::StatusOr<mail::v1::ReportLoginFailureResponse>>
GrpcStoreClient::ReportLoginFailure(const mail::v1::ReportLoginFailureRequest& req) {
  return MAIL_UNARY(access_, ReportLoginFailure, mail::v1::ReportLoginFailureRequest,
                    mail::v1::ReportLoginFailureResponse);
}

MailStore::Result<mail::v1::ResolveAddressResponse> GrpcStoreClient::ResolveAddress(
    const mail::v1::ResolveAddressRequest& req) {
  return MAIL_UNARY(access_, ResolveAddress, mail::v1::ResolveAddressRequest,
                    mail::v1::ResolveAddressResponse);
}

MailStore::Result<mail::v1::ListFoldersResponse> GrpcStoreClient::ListFolders(
    const mail::v1::ListFoldersRequest& req) {
  return MAIL_UNARY(store_, ListFolders, mail::v1::ListFoldersRequest,
                    mail::v1::ListFoldersResponse);
}

MailStore::Result<mail::v1::FolderResponse> GrpcStoreClient::GetFolder(
    const mail::v1::GetFolderRequest& req) {
  return MAIL_UNARY(store_, GetFolder, mail::v1::GetFolderRequest, mail::v1::FolderResponse);
}

MailStore::Result<mail::v1::FolderResponse> GrpcStoreClient::CreateFolder(
    const mail::v1::CreateFolderRequest& req) {
  return MAIL_UNARY(store_, CreateFolder, mail::v1::CreateFolderRequest,
                    mail::v1::FolderResponse);
}

MailStore::Result<mail::v1::DeleteFolderResponse> GrpcStoreClient::DeleteFolder(
    const mail::v1::DeleteFolderRequest& req) {
  return MAIL_UNARY(store_, DeleteFolder, mail::v1::DeleteFolderRequest,
                    mail::v1::DeleteFolderResponse);
}

MailStore::Result<mail::v1::RenameFolderResponse> GrpcStoreClient::RenameFolder(
    const mail::v1::RenameFolderRequest& req) {
  return MAIL_UNARY(store_, RenameFolder, mail::v1::RenameFolderRequest,
                    mail::v1::RenameFolderResponse);
}

MailStore::Result<mail::v1::FolderResponse> GrpcStoreClient::SubscribeFolder(
    const mail::v1::SubscribeFolderRequest& req) {
  return MAIL_UNARY(store_, SubscribeFolder, mail::v1::SubscribeFolderRequest,
                    mail::v1::FolderResponse);
}

MailStore::Result<mail::v1::AppendResponse> GrpcStoreClient::Append(
    const mail::v1::AppendRequest& req) {
  return MAIL_UNARY_WITHIN(store_, Append, mail::v1::AppendRequest, mail::v1::AppendResponse,
                           options_.long_deadline);
}

MailStore::Result<mail::v1::DeliverResponse> GrpcStoreClient::Deliver(
    const mail::v1::DeliverRequest& req) {
  return MAIL_UNARY_WITHIN(store_, Deliver, mail::v1::DeliverRequest, mail::v1::DeliverResponse,
                           options_.long_deadline);
}

MailStore::Result<mail::v1::StoreFlagsResponse> GrpcStoreClient::StoreFlags(
    const mail::v1::StoreFlagsRequest& req) {
  return MAIL_UNARY(store_, StoreFlags, mail::v1::StoreFlagsRequest,
                    mail::v1::StoreFlagsResponse);
}

MailStore::Result<mail::v1::ExpungeResponse> GrpcStoreClient::Expunge(
    const mail::v1::ExpungeRequest& req) {
  return MAIL_UNARY(store_, Expunge, mail::v1::ExpungeRequest, mail::v1::ExpungeResponse);
}

MailStore::Result<mail::v1::CopyResponse> GrpcStoreClient::Copy(const mail::v1::CopyRequest& req) {
  return MAIL_UNARY(store_, Copy, mail::v1::CopyRequest, mail::v1::CopyResponse);
}

MailStore::Result<mail::v1::SearchTextResponse> GrpcStoreClient::SearchText(
    const mail::v1::SearchTextRequest& req) {
  return MAIL_UNARY_WITHIN(store_, SearchText, mail::v1::SearchTextRequest,
                           mail::v1::SearchTextResponse, options_.long_deadline);
}

MailStore::Result<mail::v1::GetChangesResponse> GrpcStoreClient::GetChanges(
    const mail::v1::GetChangesRequest& req) {
  return MAIL_UNARY(store_, GetChanges, mail::v1::GetChangesRequest,
                    mail::v1::GetChangesResponse);
}

MailStore::Result<mail::v1::MailboxStatsResponse> GrpcStoreClient::MailboxStats(
    const mail::v1::MailboxStatsRequest& req) {
  return MAIL_UNARY(store_, MailboxStats, mail::v1::MailboxStatsRequest,
                    mail::v1::MailboxStatsResponse);
}

MailStore::Result<mail::v1::FetchResponse> GrpcStoreClient::Fetch(
    const mail::v1::FetchRequest& req) {
  return common::RunBlocking(
      &pool_, [this, req = mail::v1::FetchRequest(req)]() -> common::StatusOr<mail::v1::FetchResponse> {
        auto ctx = NewContext(req.with_structure() ? std::optional(options_.long_deadline)
                                                   : std::nullopt);
        const auto started = std::chrono::steady_clock::now();
        auto reader = store_->Fetch(ctx.get(), req);
        mail::v1::FetchResponse all, chunk;
        while (reader->Read(&chunk)) {
          all.set_uidvalidity(chunk.uidvalidity());
          all.set_highest_modseq(chunk.highest_modseq());
          for (auto& m : *chunk.mutable_messages()) *all.add_messages() = std::move(m);
        }
        grpc::Status s = reader->Finish();
        Observe("Fetch", s, started);
        if (!s.ok()) return FromGrpc(s);
        return all;
      });
}

MailStore::Result<std::string> GrpcStoreClient::GetBody(const mail::v1::GetBodyRequest& req) {
  return common::RunBlocking(
      &pool_, [this, req = mail::v1::GetBodyRequest(req)]() -> common::StatusOr<std::string> {
        auto ctx = NewContext();
        const auto started = std::chrono::steady_clock::now();
        auto reader = store_->GetBody(ctx.get(), req);
        std::string out;
        mail::v1::GetBodyResponse chunk;
        while (reader->Read(&chunk)) {
          if (out.empty() && chunk.section_size() > 0) out.reserve(chunk.section_size());
          out += chunk.data();
        }
        grpc::Status s = reader->Finish();
        Observe("GetBody", s, started);
        if (!s.ok()) return FromGrpc(s);
        return out;
      });
}

MailStore::Result<std::vector<mail::v1::GetBodiesResponse>> GrpcStoreClient::GetBodies(
    const mail::v1::GetBodiesRequest& req) {
  using Bodies = std::vector<mail::v1::GetBodiesResponse>;
  return common::RunBlocking(
      &pool_, [this, req = mail::v1::GetBodiesRequest(req)]() -> common::StatusOr<Bodies> {
        auto ctx = NewContext();
        const auto started = std::chrono::steady_clock::now();
        auto reader = store_->GetBodies(ctx.get(), req);
        Bodies out;
        mail::v1::GetBodiesResponse one;
        while (reader->Read(&one)) out.push_back(std::move(one));
        grpc::Status s = reader->Finish();
        Observe("GetBodies", s, started);
        if (!s.ok()) return FromGrpc(s);
        return out;
      });
}

#undef MAIL_UNARY
#undef MAIL_UNARY_WITHIN

void GrpcStoreClient::StartWatching(std::function<void(const mail::v1::ChangeEvent&)> on_event,
                                    std::function<void()> on_resync) {
  stop_watching_ = false;
  watcher_ = std::thread([this, on_event = std::move(on_event),
                          on_resync = std::move(on_resync)]() {
    int backoff_ms = 100;
    while (!stop_watching_) {
      grpc::ClientContext ctx;
      common::AttachStoreToken(&ctx);
      {
        std::lock_guard<std::mutex> lock(watch_mu_);
        if (stop_watching_) break;
        watch_ctx_ = &ctx;
      }
      mail::v1::WatchRequest req;
      req.set_all_mailboxes(true);
      auto reader = store_->Watch(&ctx, req);
      mail::v1::ChangeEvent e;
      bool live = false;
      while (reader->Read(&e)) {
        if (e.kind() == mail::v1::CHANGE_KIND_SYNC) {
          live = true;
          backoff_ms = 100;
          on_resync();
          continue;
        }
        on_event(e);
      }
      grpc::Status s = reader->Finish();
      {
        std::lock_guard<std::mutex> lock(watch_mu_);
        watch_ctx_ = nullptr;
      }
      if (stop_watching_) break;
      if (live) {
        MAIL_LOG(kWarning, "store-client")
            << "change stream ended (" << s.error_message() << "); reconnecting";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
      backoff_ms = std::min(backoff_ms * 2, 2000);
    }
  });
}

void GrpcStoreClient::StopWatching() {
  {
    std::lock_guard<std::mutex> lock(watch_mu_);
    stop_watching_ = true;
    if (watch_ctx_ != nullptr) watch_ctx_->TryCancel();
  }
  if (watcher_.joinable()) watcher_.join();
}

}  // namespace mailboxstore
