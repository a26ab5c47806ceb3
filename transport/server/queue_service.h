// The queue admin service (Get-Queue, Get-Message, Retry-Queue, Suspend-Queue, Resume-Queue,
// Remove-Message), served by transportd on its admin unix socket.
#pragma once

#include <string>

#include "transport.grpc.pb.h"
#include "transport/queue/queue_store.h"
#include "transport/server/delivery.h"

namespace transport {

class QueueService final : public mail::v1::Queue::Service {
 public:
  QueueService(queue::QueueStore* queue, DeliveryAgent* agent, std::string node)
      : queue_(queue), agent_(agent), node_(std::move(node)) {}

  grpc::Status GetQueue(grpc::ServerContext*, const mail::v1::GetQueueRequest*,
                        mail::v1::GetQueueResponse* resp) override;
  grpc::Status GetMessages(grpc::ServerContext*, const mail::v1::GetQueuedMessagesRequest* req,
                           mail::v1::GetQueuedMessagesResponse* resp) override;
  grpc::Status RetryQueue(grpc::ServerContext*, const mail::v1::QueueActionRequest* req,
                          mail::v1::QueueActionResponse* resp) override;
  grpc::Status SuspendQueue(grpc::ServerContext*, const mail::v1::QueueActionRequest* req,
                            mail::v1::QueueActionResponse* resp) override;
  grpc::Status ResumeQueue(grpc::ServerContext*, const mail::v1::QueueActionRequest* req,
                           mail::v1::QueueActionResponse* resp) override;
  grpc::Status RemoveMessage(grpc::ServerContext*, const mail::v1::QueueActionRequest* req,
                             mail::v1::QueueActionResponse* resp) override;

 private:
  // Messages a request names: one id, or every message of a next hop ("" = all). The next hop
  // may be written as Get-Queue prints it ("node\hop").
  std::vector<mail::v1::QueuedMessage> Select(const mail::v1::QueueActionRequest& req) const;
  grpc::Status ForEach(const mail::v1::QueueActionRequest& req, mail::v1::QueueActionResponse* resp,
                       const std::function<bool(mail::v1::QueuedMessage*)>& change);

  queue::QueueStore* queue_;
  DeliveryAgent* agent_;
  std::string node_;
};

}  // namespace transport
