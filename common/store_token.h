// The node token: the shared secret casd and transportd present on every call to
// mailboxstored's frontend endpoint (their store_token_file; node_token_file in the store's
// config), as "authorization: Bearer <token>" metadata. Set once at start, before any thread
// makes a call; empty means none is sent.
#pragma once

#include <grpcpp/client_context.h>

#include <string>
#include <utility>

namespace common {

inline std::string& StoreTokenStorage() {
  static std::string token;
  return token;
}

inline void SetStoreToken(std::string token) { StoreTokenStorage() = std::move(token); }

inline void AttachStoreToken(grpc::ClientContext* ctx) {
  const std::string& token = StoreTokenStorage();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
}

}  // namespace common
