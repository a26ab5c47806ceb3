#include "common/connection_limits.h"

namespace common {

ConnectionLimits::Ticket::~Ticket() { owner_->Release(key_, per_user_); }

std::unique_ptr<ConnectionLimits::Ticket> ConnectionLimits::AdmitConnection(
    const std::string& address, uint32_t max_total, uint32_t max_per_address) {
  std::lock_guard<std::mutex> lock(mu_);
  uint32_t& n = per_address_[address];
  if ((max_total != 0 && total_ >= max_total) || (max_per_address != 0 && n >= max_per_address)) {
    if (n == 0) per_address_.erase(address);
    return nullptr;
  }
  ++n;
  ++total_;
  return std::unique_ptr<Ticket>(new Ticket(shared_from_this(), address, false));
}

std::unique_ptr<ConnectionLimits::Ticket> ConnectionLimits::AdmitUser(const std::string& user,
                                                                      uint32_t max_per_user) {
  std::lock_guard<std::mutex> lock(mu_);
  uint32_t& n = per_user_[user];
  if (max_per_user != 0 && n >= max_per_user) {
    if (n == 0) per_user_.erase(user);
    return nullptr;
  }
  ++n;
  return std::unique_ptr<Ticket>(new Ticket(shared_from_this(), user, true));
}

uint32_t ConnectionLimits::total() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

void ConnectionLimits::Release(const std::string& key, bool per_user) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& map = per_user ? per_user_ : per_address_;
  auto it = map.find(key);
  if (it != map.end() && --it->second == 0) map.erase(it);
  if (!per_user) --total_;
}

}  // namespace common
