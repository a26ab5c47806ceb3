// Get-Service, Start-Service, Stop-Service, Restart-Service and Set-Service over
// mail.v1.Control: the protocol services (POP3 and IMAP4 in casd, SMTP in transportd) on every
// node that has registered with the mailbox store. One row per (node, service). A change is a
// desired state stored by the mailbox store; each node applies it at its next heartbeat.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adminctl/cmdlet.h"
#include "adminctl/parser/strings.h"

namespace adminctl {
namespace {

using mail::v1::ServiceState;
using parser::BoundCommand;
using parser::BoundValue;
using parser::ParamType;

// A service as it is named on the command line and shown.
struct ServiceInfo {
  mail::v1::ServiceName value;
  std::string_view name;          // The Name column.
  std::string_view display_name;  // The DisplayName column: the service and its process.
  std::string_view aliases[2];    // Exchange's service names (empty entries unused).
};

constexpr ServiceInfo kServices[] = {
    {mail::v1::SERVICE_NAME_POP3, "POP3", "POP3 (casd)", {"MSExchangePOP3", {}}},
    {mail::v1::SERVICE_NAME_IMAP4, "IMAP4", "IMAP4 (casd)", {"MSExchangeIMAP4", {}}},
    {mail::v1::SERVICE_NAME_SMTP,
     "SMTP",
     "SMTP (transportd)",
     {"MSExchangeTransport", "MSExchangeFrontEndTransport"}},
};

constexpr std::string_view kNamesHint =
    "The services are POP3, IMAP4 and SMTP (MSExchangePOP3, MSExchangeIMAP4, "
    "MSExchangeTransport and MSExchangeFrontEndTransport name them too).";

// By name or alias, case-insensitive; nullptr when unknown.
const ServiceInfo* FindService(std::string_view typed) {
  for (const ServiceInfo& s : kServices) {
    if (parser::EqualsIgnoreCase(typed, s.name)) return &s;
    for (std::string_view alias : s.aliases) {
      if (!alias.empty() && parser::EqualsIgnoreCase(typed, alias)) return &s;
    }
  }
  return nullptr;
}

const ServiceInfo* ServiceOf(mail::v1::ServiceName value) {
  for (const ServiceInfo& s : kServices) {
    if (s.value == value) return &s;
  }
  return nullptr;
}

// True when the wildcard `pattern` matches the name or an alias of `s`.
bool PatternMatches(std::string_view pattern, const ServiceInfo& s) {
  if (parser::WildcardMatch(pattern, s.name)) return true;
  for (std::string_view alias : s.aliases) {
    if (!alias.empty() && parser::WildcardMatch(pattern, alias)) return true;
  }
  return false;
}

std::vector<std::string> ServiceNames() {
  std::vector<std::string> names;
  for (const ServiceInfo& s : kServices) names.emplace_back(s.name);
  return names;
}

// Set-Service -StartupType, in the mail.v1.StartupType order.
struct StartupTypeName {
  std::string_view name;
  mail::v1::StartupType value;
};

constexpr StartupTypeName kStartupTypes[] = {
    {"Automatic", mail::v1::STARTUP_TYPE_AUTOMATIC},
    {"Manual", mail::v1::STARTUP_TYPE_MANUAL},
    {"Disabled", mail::v1::STARTUP_TYPE_DISABLED},
};

std::vector<std::string> StartupTypeNames() {
  std::vector<std::string> names;
  for (const StartupTypeName& t : kStartupTypes) names.emplace_back(t.name);
  return names;
}

std::string StartupTypeText(mail::v1::StartupType value) {
  for (const StartupTypeName& t : kStartupTypes) {
    if (t.value == value) return std::string(t.name);
  }
  return std::to_string(static_cast<int>(value));  // A newer server's value.
}

std::string StatusText(mail::v1::ServiceStatus status) {
  switch (status) {
    case mail::v1::SERVICE_STATUS_RUNNING:
      return "Running";
    case mail::v1::SERVICE_STATUS_STOPPED:
      return "Stopped";
    case mail::v1::SERVICE_STATUS_UNREACHABLE:
      return "Unreachable";
    case mail::v1::SERVICE_STATUS_UNSPECIFIED:
      return "Unknown";  // The node has not reported this service yet.
    default:
      return std::to_string(static_cast<int>(status));
  }
}

const View& ServiceView() {
  // Windows' Status, Name and DisplayName, plus the node and the startup type.
  static const View* view =
      new View{View::Kind::kTable, {"Status", "Name", "DisplayName", "MachineName", "StartType"}};
  return *view;
}

const mail::v1::Node* FindNode(const mail::v1::GetServicesResponse& response,
                               std::string_view name) {
  for (const mail::v1::Node& node : response.nodes()) {
    if (parser::EqualsIgnoreCase(node.name(), name)) return &node;
  }
  return nullptr;
}

// One Get-Service row. `node` is the row's entry in the node list, if there is one.
Record ServiceRecord(const ServiceState& state, const mail::v1::Node* node) {
  const ServiceInfo* info = ServiceOf(state.service());
  Record r;
  r.Add("Name", info != nullptr ? std::string(info->name)
                                : std::to_string(static_cast<int>(state.service())));
  r.Add("DisplayName", info != nullptr ? std::string(info->display_name) : "");
  r.Add("Status", StatusText(state.status()));
  // What Start-/Stop-Service asked for; Status catches up at the node's next heartbeat.
  r.Add("DesiredStatus", state.want_running() ? "Running" : "Stopped");
  r.Add("StartType", StartupTypeText(state.startup_type()));
  r.Add("MachineName", state.node());
  uint64_t version = state.settings_version();
  if (version == 0 && node != nullptr) version = node->settings_version();
  r.Add("SettingsVersion", std::to_string(version));
  r.Add("LastHeartbeat", node != nullptr ? FormatDateTime(node->last_heartbeat_unix()) : "");
  std::string endpoints;
  for (const auto& e : state.endpoints()) endpoints += (endpoints.empty() ? "" : ", ") + e;
  r.Add("Endpoints", endpoints);
  return r;
}

// The rows of `response` for the services `wanted` says yes to and the nodes `node_matches`
// says yes to, ordered by node and then name.
template <typename ServiceFilter, typename NodeFilter>
std::vector<Record> Rows(const mail::v1::GetServicesResponse& response,
                         ServiceFilter service_wanted, NodeFilter node_wanted) {
  std::vector<const ServiceState*> states;
  for (const ServiceState& state : response.services()) {
    if (service_wanted(state.service()) && node_wanted(state.node())) states.push_back(&state);
  }
  auto key = [](const ServiceState* s) {
    const ServiceInfo* info = ServiceOf(s->service());
    return std::make_pair(parser::AsciiLower(s->node()),
                          info != nullptr ? std::string(info->name)
                                          : "~" + std::to_string(static_cast<int>(s->service())));
  };
  std::stable_sort(states.begin(), states.end(),
                   [&](const ServiceState* a, const ServiceState* b) { return key(a) < key(b); });
  std::vector<Record> rows;
  for (const ServiceState* state : states) {
    rows.push_back(ServiceRecord(*state, FindNode(response, state->node())));
  }
  return rows;
}

CmdletStatus NotConnected() {
  return CmdletStatus::Error("Internal error: no connection to the service control endpoint.");
}

// PowerShell's text for ValidateNotNullOrEmpty.
CmdletStatus NullOrEmpty(std::string_view parameter) {
  return CmdletStatus::Error("Cannot validate argument on parameter '" + std::string(parameter) +
                             "'. The argument is null or empty. Provide an argument that is not "
                             "null or empty, and then try the command again.");
}

CmdletStatus CannotFindService(std::string_view typed) {
  return CmdletStatus::Error("Cannot find any service with service name '" + std::string(typed) +
                             "'. " + std::string(kNamesHint));
}

CmdletStatus CannotFindNode(std::string_view node, const CmdletContext& context) {
  return CmdletStatus::Error("Cannot find node '" + std::string(node) +
                             "': no such node has registered with the mailbox store at " +
                             context.endpoint + ". Get-Service without -Server lists the nodes.");
}

// `text` with a final period unless it already ends a sentence.
std::string Sentence(std::string text) {
  if (text.empty() || text.ends_with('.') || text.ends_with('!') || text.ends_with('?') ||
      text.ends_with(".)")) {
    return text;
  }
  return text + ".";
}

// The store has no Control service, or the call failed in a way every cmdlet shares.
CmdletStatus ControlCallFailed(const grpc::Status& status, std::string_view identity,
                               const CmdletContext& context) {
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    return CmdletStatus::Error("The mailbox store at " + context.endpoint +
                               " does not serve service control (mail.v1.Control); upgrade it.");
  }
  return StatusFromGrpc(status, identity, context);
}

// The -Server value, empty when absent; $null and '' are refused.
CmdletStatus ServerArgument(const BoundCommand& args, std::string* server) {
  server->clear();
  const BoundValue* v = args.Find("Server");
  if (v == nullptr) return CmdletStatus::Ok();
  if (v->is_null || v->text.empty()) return NullOrEmpty("Server");
  *server = v->text;
  return CmdletStatus::Ok();
}

// ---------------------------------------------------------------------------------------------
// Get-Service

CmdletStatus GetService(const BoundCommand& args, const std::vector<Record>&,
                        CmdletContext& context, CmdletOutput* output) {
  std::vector<std::string> patterns;
  if (const BoundValue* v = args.Find("Name")) {
    if (v->is_null) return NullOrEmpty("Name");
    if (v->list.is_delta) {
      return CmdletStatus::Error(
          "-Name takes service names or wildcards such as POP3,IMAP4 or MSExchange*, not "
          "@{...}.");
    }
    patterns = v->list.values;
    if (patterns.empty()) return NullOrEmpty("Name");
    for (const std::string& p : patterns) {
      if (p.empty()) return NullOrEmpty("Name");
    }
  }
  std::string server;
  if (CmdletStatus s = ServerArgument(args, &server); !s.ok()) return s;

  // Names without wildcards must be services; they are reported when no node has them.
  bool any_wildcard = patterns.empty();
  bool show_unknown = patterns.empty();  // Services this adminctl has no name for.
  std::vector<std::pair<std::string, const ServiceInfo*>> named;
  for (const std::string& p : patterns) {
    if (parser::HasWildcard(p)) {
      any_wildcard = true;
      show_unknown = show_unknown || p == "*";
      continue;
    }
    const ServiceInfo* info = FindService(p);
    if (info == nullptr) return CannotFindService(p);
    named.emplace_back(p, info);
  }
  auto service_wanted = [&](mail::v1::ServiceName value) {
    const ServiceInfo* info = ServiceOf(value);
    if (info == nullptr) return show_unknown;
    if (patterns.empty()) return true;
    for (const std::string& p : patterns) {
      if (parser::HasWildcard(p) ? PatternMatches(p, *info) : FindService(p) == info) return true;
    }
    return false;
  };
  const bool server_wildcard = parser::HasWildcard(server);
  auto node_wanted = [&](const std::string& node) {
    if (server.empty()) return true;
    return server_wildcard ? parser::WildcardMatch(server, node)
                           : parser::EqualsIgnoreCase(server, node);
  };

  mail::v1::GetServicesRequest request;
  if (!server.empty() && !server_wildcard) request.set_node(server);
  bool one_service = !any_wildcard && !named.empty();
  for (const auto& [typed, info] : named) one_service = one_service && info == named[0].second;
  if (one_service) request.set_service(named[0].second->value);

  if (context.control == nullptr) return NotConnected();
  mail::v1::GetServicesResponse response;
  auto client = NewClientContext(context);
  grpc::Status status = context.control->GetServices(client.get(), request, &response);
  if (!status.ok()) {
    if (status.error_code() == grpc::StatusCode::NOT_FOUND && !request.node().empty()) {
      return CannotFindNode(request.node(), context);
    }
    return ControlCallFailed(status, request.node().empty() ? "Get-Service" : request.node(),
                             context);
  }

  std::vector<Record> rows = Rows(response, service_wanted, node_wanted);
  if (rows.empty() && !request.node().empty() && FindNode(response, request.node()) == nullptr) {
    return CannotFindNode(request.node(), context);
  }
  // A service named without wildcards that no node has.
  std::vector<std::string> missing;
  for (const auto& [typed, info] : named) {
    bool found = false;
    for (const ServiceState& state : response.services()) {
      found = found || (state.service() == info->value && node_wanted(state.node()));
    }
    if (!found) missing.push_back(typed);
  }
  const std::string where = server.empty() ? "" : " on node '" + server + "'";
  if (rows.empty() && !missing.empty()) {
    std::string text = "Cannot find any service with service name '" + missing[0] + "'" + where;
    if (server.empty()) {
      text += ": no node that runs it has registered with the mailbox store at " + context.endpoint;
    }
    return CmdletStatus::Error(text + ".");
  }
  for (const std::string& typed : missing) {
    Warn(context, "Cannot find any service with service name '" + typed + "'" + where + ".");
  }
  if (rows.empty() && server.empty() && response.nodes().empty()) {
    Warn(context, "No casd or transportd node has registered with the mailbox store at " +
                      context.endpoint + "; a node registers when it starts.");
  }
  for (Record& row : rows) output->records.push_back(std::move(row));
  return CmdletStatus::Ok();
}

// ---------------------------------------------------------------------------------------------
// Start-Service, Stop-Service, Restart-Service, Set-Service

struct Operation {
  mail::v1::ServiceAction action;
  std::string_view cmdlet;
  std::string_view done;  // "Service '...' cannot be <done> due to the following error".
};

constexpr Operation kStart = {mail::v1::SERVICE_ACTION_START, "Start-Service", "started"};
constexpr Operation kStop = {mail::v1::SERVICE_ACTION_STOP, "Stop-Service", "stopped"};
constexpr Operation kRestart = {mail::v1::SERVICE_ACTION_RESTART, "Restart-Service", "restarted"};
constexpr Operation kSet = {mail::v1::SERVICE_ACTION_SET_STARTUP_TYPE, "Set-Service", "configured"};

constexpr std::string_view kStartModeType = "System.ServiceProcess.ServiceStartMode";

CmdletStatus ParseStartupType(const BoundCommand& args, mail::v1::StartupType* type) {
  const BoundValue* v = args.Find("StartupType");
  if (v == nullptr || v->is_null || v->text.empty()) return NullOrEmpty("StartupType");
  for (const StartupTypeName& t : kStartupTypes) {
    if (parser::EqualsIgnoreCase(v->text, t.name)) {
      *type = t.value;
      return CmdletStatus::Ok();
    }
  }
  return CmdletStatus::Error(
      "Cannot bind parameter 'StartupType'. Cannot convert value \"" + v->text + "\" to type \"" +
      std::string(kStartModeType) + "\". Error: \"Unable to match the identifier name " + v->text +
      " to a valid enumerator name. Specify one of the following enumerator names and try "
      "again: Automatic, Manual, Disabled\"");
}

// The call was refused: PowerShell's "Service 'X (y)' cannot be ..." with the store's reason.
CmdletStatus OperationFailed(const Operation& op, const grpc::Status& status,
                             const ServiceInfo& service, const std::string& node,
                             const CmdletContext& context) {
  const std::string identity =
      std::string(service.display_name) + " (" + std::string(service.name) + ")";
  const std::string on_node = node.empty() ? "" : " on node '" + node + "'";
  switch (status.error_code()) {
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::INVALID_ARGUMENT: {
      const std::string reason = status.error_message().empty()
                                     ? "the mailbox store refused the request."
                                     : Sentence(status.error_message());
      return CmdletStatus::Error("Service '" + identity + "' cannot be " + std::string(op.done) +
                                 on_node + " due to the following error: " + reason);
    }
    case grpc::StatusCode::NOT_FOUND: {
      if (node.empty()) {
        return CmdletStatus::Error(
            "Cannot find any service with service name '" + std::string(service.name) + "'" +
            (status.error_message().empty() ? std::string(".")
                                            : ": " + Sentence(status.error_message())));
      }
      return CannotFindNode(node, context);
    }
    default:
      return ControlCallFailed(status, identity, context);
  }
}

CmdletStatus RunOperation(const Operation& op, const BoundCommand& args,
                          const std::vector<Record>& input, CmdletContext& context,
                          CmdletOutput* output) {
  const BoundValue* name = args.Find("Name");
  if (name == nullptr || name->is_null || name->text.empty()) return NullOrEmpty("Name");
  if (parser::HasWildcard(name->text)) {
    return CmdletStatus::Error(
        "Wildcard characters are not allowed in -Name: " + std::string(op.cmdlet) +
        " acts on one service, POP3, IMAP4 or SMTP. To act on several, "
        "pipe them in: Get-Service '" +
        name->text + "' | " + std::string(op.cmdlet) + ".");
  }
  const ServiceInfo* service = FindService(name->text);
  if (service == nullptr) return CannotFindService(name->text);

  std::string node;
  if (CmdletStatus s = ServerArgument(args, &node); !s.ok()) return s;
  if (parser::HasWildcard(node)) {
    return CmdletStatus::Error(
        "Wildcard characters are not allowed in -Server: give one node name, or none for "
        "every node.");
  }
  if (!args.Has("Server") && input.size() == 1) {
    // A Get-Service row piped in: act on that row's node only.
    const std::string* piped_name = input[0].Find("Name");
    const std::string* machine = input[0].Find("MachineName");
    if (piped_name != nullptr && machine != nullptr && FindService(*piped_name) == service) {
      node = *machine;
    }
  }

  mail::v1::SetServiceRequest request;
  request.set_service(service->value);
  request.set_node(node);
  request.set_action(op.action);
  if (op.action == mail::v1::SERVICE_ACTION_SET_STARTUP_TYPE) {
    mail::v1::StartupType type = mail::v1::STARTUP_TYPE_AUTOMATIC;
    if (CmdletStatus s = ParseStartupType(args, &type); !s.ok()) return s;
    request.set_startup_type(type);
  }

  if (args.GetSwitch("WhatIf")) {
    output->text += "What if: Performing the operation \"" + std::string(op.cmdlet) +
                    "\" on target \"" + std::string(service->display_name) + " (" +
                    std::string(service->name) + ")" + (node.empty() ? "" : " on node " + node) +
                    "\".\n";
    return CmdletStatus::Ok();
  }
  if (context.control == nullptr) return NotConnected();
  mail::v1::GetServicesResponse response;
  auto client = NewClientContext(context);
  grpc::Status status = context.control->SetService(client.get(), request, &response);
  if (!status.ok()) return OperationFailed(op, status, *service, node, context);

  auto service_wanted = [&](mail::v1::ServiceName value) { return value == service->value; };
  auto node_wanted = [&](const std::string& n) {
    return node.empty() || parser::EqualsIgnoreCase(n, node);
  };
  std::vector<std::string> unreachable;
  std::vector<std::string> still_running;
  for (const ServiceState& state : response.services()) {
    if (!service_wanted(state.service()) || !node_wanted(state.node())) continue;
    if (state.status() == mail::v1::SERVICE_STATUS_UNREACHABLE) unreachable.push_back(state.node());
    if (state.startup_type() == mail::v1::STARTUP_TYPE_DISABLED && state.want_running()) {
      still_running.push_back(state.node());
    }
  }
  if (op.action == mail::v1::SERVICE_ACTION_SET_STARTUP_TYPE) {
    if (request.startup_type() == mail::v1::STARTUP_TYPE_DISABLED && !still_running.empty()) {
      Warn(context, std::string(service->name) +
                        " is Disabled but still running; Disabled only keeps it from being "
                        "started. To stop it too: Stop-Service " +
                        std::string(service->name) + (node.empty() ? "" : " -Server " + node) +
                        ".");
    }
  } else {
    for (const std::string& n : unreachable) {
      Warn(context, "Node '" + n + "' is Unreachable (it has missed its heartbeats); " +
                        std::string(service->name) +
                        " there changes when the node heartbeats again.");
    }
  }
  if (args.GetSwitch("PassThru")) {
    for (Record& row : Rows(response, service_wanted, node_wanted)) {
      output->records.push_back(std::move(row));
    }
  }
  return CmdletStatus::Ok();
}

template <const Operation& Op>
CmdletStatus OperationHandler(const BoundCommand& args, const std::vector<Record>& input,
                              CmdletContext& context, CmdletOutput* output) {
  return RunOperation(Op, args, input, context, output);
}

parser::CommandSchema OperationSchema(const Operation& op) {
  parser::CommandSchema schema{std::string(op.cmdlet),
                               {
                                   {.name = "Name",
                                    .mandatory = true,
                                    .position = 0,
                                    .aliases = {"ServiceName"},
                                    .enum_values = ServiceNames(),
                                    .from_pipeline = true},
                               }};
  if (op.action == mail::v1::SERVICE_ACTION_SET_STARTUP_TYPE) {
    schema.parameters.push_back({.name = "StartupType",
                                 .mandatory = true,
                                 .aliases = {"StartMode", "StartType"},
                                 .enum_values = StartupTypeNames(),
                                 .type_name = std::string(kStartModeType)});
  }
  schema.parameters.push_back({.name = "Server", .aliases = {"ComputerName"}});
  schema.parameters.push_back({.name = "PassThru", .type = ParamType::kSwitch});
  schema.parameters.push_back({.name = "WhatIf", .type = ParamType::kSwitch});
  return schema;
}

}  // namespace

// The Exchange service names (MSExchangePOP3, ...) are accepted wherever a service is named,
// so that scripts written for Exchange run unchanged.
void RegisterServiceCmdlets(CmdletRegistry* registry) {
  registry->Add(Cmdlet{
      .schema = {"Get-Service",
                 {
                     {.name = "Name",
                      .type = ParamType::kStringList,
                      .position = 0,
                      .aliases = {"ServiceName"},
                      .enum_values = ServiceNames()},
                     {.name = "Server", .aliases = {"ComputerName"}},
                 }},
      .aliases = {"gsv"},
      .handler = GetService,
      .default_view = ServiceView(),
  });
  registry->Add(Cmdlet{
      .schema = OperationSchema(kStart),
      .aliases = {"sasv"},
      .handler = OperationHandler<kStart>,
      .default_view = ServiceView(),
  });
  registry->Add(Cmdlet{
      .schema = OperationSchema(kStop),
      .aliases = {"spsv"},
      .handler = OperationHandler<kStop>,
      .default_view = ServiceView(),
  });
  registry->Add(Cmdlet{
      .schema = OperationSchema(kRestart),
      .handler = OperationHandler<kRestart>,
      .default_view = ServiceView(),
  });
  registry->Add(Cmdlet{
      .schema = OperationSchema(kSet),
      .handler = OperationHandler<kSet>,
      .default_view = ServiceView(),
  });
}

}  // namespace adminctl
