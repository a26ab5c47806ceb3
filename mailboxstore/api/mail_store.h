// The mailbox store as the post-login sessions see it: one call per client command. Implemented
// over gRPC by GrpcStoreClient and in memory by test fakes.
#pragma once

#include <string>
#include <vector>

#include "common/asio.h"
#include "common/status.h"
#include "directory.pb.h"
#include "store.pb.h"

namespace mailboxstore {

class MailStore {
 public:
  template <typename T>
  using Result = asio::awaitable<common::StatusOr<T>>;

  virtual ~MailStore() = default;
  virtual Result<mail::v1::ListFoldersResponse> ListFolders(
      const mail::v1::ListFoldersRequest& req) = 0;
  virtual Result<mail::v1::FolderResponse> GetFolder(const mail::v1::GetFolderRequest& req) = 0;
  virtual Result<mail::v1::FolderResponse> CreateFolder(
      const mail::v1::CreateFolderRequest& req) = 0;
  virtual Result<mail::v1::DeleteFolderResponse> DeleteFolder(
      const mail::v1::DeleteFolderRequest& req) = 0;
  virtual Result<mail::v1::RenameFolderResponse> RenameFolder(
      const mail::v1::RenameFolderRequest& req) = 0;
  virtual Result<mail::v1::FolderResponse> SubscribeFolder(
      const mail::v1::SubscribeFolderRequest& req) = 0;
  virtual Result<mail::v1::AppendResponse> Append(const mail::v1::AppendRequest& req) = 0;
  virtual Result<mail::v1::DeliverResponse> Deliver(const mail::v1::DeliverRequest& req) = 0;
  // All matching records of one folder (a streamed RPC collected into one reply).
  virtual Result<mail::v1::FetchResponse> Fetch(const mail::v1::FetchRequest& req) = 0;
  // The requested section (or its partial range) as bytes.
  virtual Result<std::string> GetBody(const mail::v1::GetBodyRequest& req) = 0;
  // Whole messages of one folder in one call (POP3 read-ahead), in the order asked; a message
  // expunged meanwhile comes back with found=false. The default asks GetBody for each.
  virtual Result<std::vector<mail::v1::GetBodiesResponse>> GetBodies(
      const mail::v1::GetBodiesRequest& req);
  virtual Result<mail::v1::StoreFlagsResponse> StoreFlags(
      const mail::v1::StoreFlagsRequest& req) = 0;
  virtual Result<mail::v1::ExpungeResponse> Expunge(const mail::v1::ExpungeRequest& req) = 0;
  virtual Result<mail::v1::CopyResponse> Copy(const mail::v1::CopyRequest& req) = 0;
  // SEARCH BODY/TEXT: the UIDs matching each text criterion, searched in the store.
  virtual Result<mail::v1::SearchTextResponse> SearchText(
      const mail::v1::SearchTextRequest& req) = 0;
  virtual Result<mail::v1::GetChangesResponse> GetChanges(
      const mail::v1::GetChangesRequest& req) = 0;
  virtual Result<mail::v1::MailboxStatsResponse> MailboxStats(
      const mail::v1::MailboxStatsRequest& req) = 0;
  virtual Result<mail::v1::ResolveAddressResponse> ResolveAddress(
      const mail::v1::ResolveAddressRequest& req) = 0;
};

inline MailStore::Result<std::vector<mail::v1::GetBodiesResponse>> MailStore::GetBodies(
    const mail::v1::GetBodiesRequest& req) {
  std::vector<mail::v1::GetBodiesResponse> out;
  for (uint32_t uid : req.uids()) {
    mail::v1::GetBodyRequest one;
    one.set_mailbox_id(req.mailbox_id());
    *one.mutable_folder() = req.folder();
    one.set_uid(uid);
    auto body = co_await GetBody(one);
    if (!body.ok() && body.status().code() != common::StatusCode::kNotFound) {
      co_return body.status();
    }
    mail::v1::GetBodiesResponse r;
    r.set_uid(uid);
    r.set_found(body.ok());
    if (body.ok()) r.set_data(std::move(*body));
    out.push_back(std::move(r));
  }
  co_return out;
}

}  // namespace mailboxstore
