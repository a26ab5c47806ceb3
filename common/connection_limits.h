// Connection counting for MaxConnections / MaxConnectionFromSingleIP / MaxConnectionsPerUser.
// A Ticket holds one slot and gives it back when destroyed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace common {

class ConnectionLimits : public std::enable_shared_from_this<ConnectionLimits> {
 public:
  class Ticket {
   public:
    ~Ticket();
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;

   private:
    friend class ConnectionLimits;
    Ticket(std::shared_ptr<ConnectionLimits> owner, std::string key, bool per_user)
        : owner_(std::move(owner)), key_(std::move(key)), per_user_(per_user) {}
    std::shared_ptr<ConnectionLimits> owner_;
    std::string key_;
    bool per_user_;
  };

  static std::shared_ptr<ConnectionLimits> Create() {
    return std::shared_ptr<ConnectionLimits>(new ConnectionLimits());
  }

  // A slot for a new connection from `address`, or nullptr when a limit is reached.
  std::unique_ptr<Ticket> AdmitConnection(const std::string& address, uint32_t max_total,
                                          uint32_t max_per_address);
  // A slot for a logged-in session of `user`, or nullptr at MaxConnectionsPerUser.
  std::unique_ptr<Ticket> AdmitUser(const std::string& user, uint32_t max_per_user);

  uint32_t total() const;

 private:
  ConnectionLimits() = default;
  void Release(const std::string& key, bool per_user);
  mutable std::mutex mu_;
  uint32_t total_ = 0;
  std::map<std::string, uint32_t> per_address_;
  std::map<std::string, uint32_t> per_user_;
};

}  // namespace common
