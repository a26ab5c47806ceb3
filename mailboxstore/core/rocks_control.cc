// The control-plane half of RocksMailboxStore: the node registry (casd and transportd
// heartbeat every second) and the service states behind Get-Service, Start-Service,
// Stop-Service, Restart-Service and Set-Service. Desired states and registered nodes are
// stored; heartbeat times and reported statuses live in memory only.
#include <chrono>

#include "common/logging.h"
#include "mailboxstore/core/rocks_mailbox_store.h"

namespace mailboxstore {

namespace {

constexpr const char* kNodePrefix = "node:";
constexpr const char* kServicePrefix = "svc:";
// A node that has not been heard from for this long shows as Unreachable.
constexpr int64_t kUnreachableAfterSeconds = 5;
constexpr uint32_t kHeartbeatIntervalMs = 1000;

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ServiceKey(const std::string& node, mail::v1::ServiceName service) {
  return std::string(kServicePrefix) + std::to_string(static_cast<int>(service)) + ":" + node;
}

std::string ServiceLabel(mail::v1::ServiceName s) {
  switch (s) {
    case mail::v1::SERVICE_NAME_POP3:
      return "POP3";
    case mail::v1::SERVICE_NAME_IMAP4:
      return "IMAP4";
    case mail::v1::SERVICE_NAME_SMTP:
      return "SMTP";
    default:
      return "unknown";
  }
}

}  // namespace

common::Status RocksMailboxStore::LoadControl() {
  std::lock_guard<std::mutex> lock(control_mu_);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(kMeta)));
  for (it->Seek(kNodePrefix); it->Valid() && it->key().starts_with(kNodePrefix); it->Next()) {
    mail::v1::Node n;
    if (n.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      n.set_last_heartbeat_unix(0);  // Not heard from since this store started.
      nodes_[n.name()] = n;
    }
  }
  for (it->Seek(kServicePrefix); it->Valid() && it->key().starts_with(kServicePrefix); it->Next()) {
    mail::v1::ServiceState s;
    if (s.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      service_states_[{s.node(), static_cast<int>(s.service())}] = s;
    }
  }
  if (!it->status().ok()) return common::UnavailableError("read control state: " + it->status().ToString());
  return common::Status::Ok();
}

mail::v1::ServiceState RocksMailboxStore::EffectiveServiceLocked(const std::string& node,
                                                                 mail::v1::ServiceName service) {
  auto it = service_states_.find({node, static_cast<int>(service)});
  if (it == service_states_.end()) it = service_states_.find({"", static_cast<int>(service)});
  mail::v1::ServiceState s;
  if (it != service_states_.end()) {
    s = it->second;
  } else {
    s.set_startup_type(mail::v1::STARTUP_TYPE_AUTOMATIC);
    s.set_want_running(true);
  }
  s.set_node(node);
  s.set_service(service);
  s.clear_status();
  return s;
}

mail::v1::HeartbeatResponse RocksMailboxStore::Heartbeat(const mail::v1::HeartbeatRequest& req) {
  mail::v1::HeartbeatResponse resp;
  resp.set_interval_ms(kHeartbeatIntervalMs);
  const std::string& name = req.node().name();
  if (name.empty()) return resp;
  PendingWrite w;
  {
    std::lock_guard<std::mutex> lock(control_mu_);
    // casd and transportd on one host are one node: its services are the union of theirs.
    auto found = nodes_.find(name);
    bool changed = found == nodes_.end() || req.starting();
    mail::v1::Node& n = nodes_[name];
    n.set_name(name);
    n.set_version(req.node().version());
    n.set_settings_version(req.node().settings_version());
    // Only casd reports one; transportd's heartbeats must not clear it.
    if (!req.node().host_name().empty()) n.set_host_name(req.node().host_name());
    for (int svc : req.node().services()) {
      bool known = false;
      for (int have : n.services()) known = known || have == svc;
      if (!known) {
        n.add_services(static_cast<mail::v1::ServiceName>(svc));
        changed = true;
      }
    }
    for (const auto& e : req.node().endpoints()) {
      bool known = false;
      for (const auto& have : n.endpoints()) known = known || have == e;
      if (!known) n.add_endpoints(e);
    }
    const int64_t now = NowUnix();
    n.set_last_heartbeat_unix(now);
    if (changed) {
      mail::v1::Node stored = n;
      stored.clear_last_heartbeat_unix();
      w.Put(cf(kMeta), kNodePrefix + name, stored.SerializeAsString());
      MAIL_LOG(kInfo, "control") << "node " << name << (req.starting() ? ": process started" : " registered")
                                 << " (services:" << [&] {
                                      std::string list;
                                      for (int svc : req.node().services()) {
                                        list += " " + mail::v1::ServiceName_Name(
                                                          static_cast<mail::v1::ServiceName>(svc));
                                      }
                                      return list;
                                    }() << ")";
    }
    for (int svc : req.node().services()) {
      auto service = static_cast<mail::v1::ServiceName>(svc);
      mail::v1::ServiceState s = EffectiveServiceLocked(name, service);
      bool own = service_states_.count({name, svc}) != 0;
      if (req.starting() && s.want_running() &&
          (s.startup_type() == mail::v1::STARTUP_TYPE_MANUAL ||
           s.startup_type() == mail::v1::STARTUP_TYPE_DISABLED)) {
        // Manual services do not start with their process (Windows semantics).
        s.set_want_running(false);
        own = false;
      }
      if (!own) {
        mail::v1::ServiceState stored = s;
        service_states_[{name, svc}] = stored;
        w.Put(cf(kMeta), ServiceKey(name, service), stored.SerializeAsString());
      }
      mail::v1::ServiceState reported;
      reported.set_status(mail::v1::SERVICE_STATUS_STOPPED);
      for (const auto& r : req.node().states()) {
        if (r.service() == service) reported = r;
      }
      reported_[{name, svc}] = reported;
      reported_time_[{name, svc}] = now;
      *resp.add_desired() = s;
    }
  }
  if (!w.empty()) {
    common::Status s = committer_->Commit(&w);
    if (!s.ok()) {
      MAIL_LOG(kWarning, "control") << "cannot store node " << name << ": " << s.ToString();
    }
  }
  return resp;
}

mail::v1::GetServicesResponse RocksMailboxStore::GetServices(const mail::v1::GetServicesRequest& req) {
  mail::v1::GetServicesResponse resp;
  const int64_t now = NowUnix();
  std::lock_guard<std::mutex> lock(control_mu_);
  for (const auto& [name, node] : nodes_) {
    if (!req.node().empty() && name != req.node()) continue;
    *resp.add_nodes() = node;
    for (int svc : node.services()) {
      if (req.service() != mail::v1::SERVICE_NAME_UNSPECIFIED && svc != req.service()) continue;
      mail::v1::ServiceState s = EffectiveServiceLocked(name, static_cast<mail::v1::ServiceName>(svc));
      auto r = reported_.find({name, svc});
      auto t = reported_time_.find({name, svc});
      if (r == reported_.end() || t == reported_time_.end() ||
          now - t->second > kUnreachableAfterSeconds) {
        s.set_status(mail::v1::SERVICE_STATUS_UNREACHABLE);
      } else {
        s.set_status(r->second.status());
        s.set_settings_version(r->second.settings_version());
        *s.mutable_endpoints() = r->second.endpoints();
      }
      *resp.add_services() = s;
    }
  }
  return resp;
}

common::StatusOr<mail::v1::GetServicesResponse> RocksMailboxStore::SetService(
    const mail::v1::SetServiceRequest& req) {
  if (req.service() == mail::v1::SERVICE_NAME_UNSPECIFIED ||
      !mail::v1::ServiceName_IsValid(req.service())) {
    return common::InvalidArgumentError("a service name is required: POP3, IMAP4 or SMTP");
  }
  const std::string label = ServiceLabel(req.service());
  PendingWrite w;
  {
    std::lock_guard<std::mutex> lock(control_mu_);
    std::vector<std::string> targets;
    if (!req.node().empty()) {
      auto it = nodes_.find(req.node());
      bool hosts = false;
      if (it != nodes_.end()) {
        for (int s : it->second.services()) hosts = hosts || s == req.service();
      }
      if (!hosts) {
        return common::NotFoundError("Cannot find any service with service name '" + label +
                                     "' on server '" + req.node() + "'.");
      }
      targets.push_back(req.node());
    } else {
      targets.push_back("");  // The default for nodes that register later.
      for (const auto& [name, node] : nodes_) {
        for (int s : node.services()) {
          if (s == req.service()) targets.push_back(name);
        }
      }
    }
    std::vector<mail::v1::ServiceState> next;
    for (const std::string& node : targets) {
      mail::v1::ServiceState s = EffectiveServiceLocked(node, req.service());
      switch (req.action()) {
        case mail::v1::SERVICE_ACTION_START:
        case mail::v1::SERVICE_ACTION_RESTART:
          if (s.startup_type() == mail::v1::STARTUP_TYPE_DISABLED) {
            return common::FailedPreconditionError(
                "Service '" + label + "' cannot be started" +
                (node.empty() ? std::string() : " on server '" + node + "'") +
                ": the service is disabled (Set-Service -StartupType Manual or Automatic first).");
          }
          s.set_want_running(true);
          if (req.action() == mail::v1::SERVICE_ACTION_RESTART) {
            s.set_restart_generation(s.restart_generation() + 1);
          }
          break;
        case mail::v1::SERVICE_ACTION_STOP:
          s.set_want_running(false);
          break;
        case mail::v1::SERVICE_ACTION_SET_STARTUP_TYPE:
          s.set_startup_type(req.startup_type());
          break;
        default:
          return common::InvalidArgumentError("unknown service action");
      }
      next.push_back(std::move(s));
    }
    for (auto& s : next) {
      w.Put(cf(kMeta), ServiceKey(s.node(), s.service()), s.SerializeAsString());
      service_states_[{s.node(), static_cast<int>(s.service())}] = s;
    }
  }
  MAIL_RETURN_IF_ERROR(committer_->Commit(&w));
  MAIL_LOG(kInfo, "control") << label << " on " << (req.node().empty() ? "every node" : req.node())
                             << ": " << mail::v1::ServiceAction_Name(req.action())
                             << (req.action() == mail::v1::SERVICE_ACTION_SET_STARTUP_TYPE
                                     ? " " + mail::v1::StartupType_Name(req.startup_type())
                                     : std::string());
  mail::v1::GetServicesRequest get;
  get.set_node(req.node());
  get.set_service(req.service());
  return GetServices(get);
}

}  // namespace mailboxstore
