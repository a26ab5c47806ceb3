// Get-, New-, Set- and Remove-ReceiveConnector, Get-/Set-SendConnector, Get-/Set-TransportService
// and Get-/Set-TransportConfig over mail.v1.Settings: the organisation-wide SMTP settings
// (TransportSettings) that every transportd follows. One table (kConnectorProperties) names each
// receive connector property, its ReceiveConnector field and how it is typed and shown; the
// New-/Set-ReceiveConnector schemas, the update requests and the displayed objects all come from
// it, so the field names sent in UpdateReceiveConnectorRequest.fields are checked against the
// proto.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adminctl/cmdlet.h"
#include "adminctl/parser/strings.h"
#include "control.grpc.pb.h"

namespace adminctl {
namespace {

using google::protobuf::FieldDescriptor;
using mail::v1::ReceiveConnector;
using mail::v1::SmartHost;
using mail::v1::TransportSettings;
using parser::BoundCommand;
using parser::BoundValue;
using parser::ParamType;

// ---------------------------------------------------------------------------------------------
// Shared by the family

// PowerShell's texts for arguments its validation attributes refuse.
CmdletStatus NullArgument(std::string_view parameter) {
  return CmdletStatus::Error("Cannot validate argument on parameter '" + std::string(parameter) +
                             "'. The argument is null. Provide a valid value for the argument, "
                             "and then try running the command again.");
}

CmdletStatus CannotConvert(std::string_view parameter, std::string_view value,
                           std::string_view type, std::string_view error) {
  return CmdletStatus::Error("Cannot process argument transformation on parameter '" +
                             std::string(parameter) + "'. Cannot convert value \"" +
                             std::string(value) + "\" to type \"" + std::string(type) +
                             "\". Error: \"" + std::string(error) + "\"");
}

CmdletStatus OutOfRange(std::string_view parameter, int64_t value, int64_t min, int64_t max) {
  if (value < min) {
    return CmdletStatus::Error(
        "Cannot validate argument on parameter '" + std::string(parameter) + "'. The " +
        std::to_string(value) + " argument is less than the minimum allowed range of " +
        std::to_string(min) + ". Supply an argument that is greater than or equal to " +
        std::to_string(min) + " and then try the command again.");
  }
  return CmdletStatus::Error(
      "Cannot validate argument on parameter '" + std::string(parameter) + "'. The " +
      std::to_string(value) + " argument is greater than the maximum allowed range of " +
      std::to_string(max) + ". Supply an argument that is less than or equal to " +
      std::to_string(max) + " and then try the command again.");
}

constexpr std::string_view kTimeSpanType = "Microsoft.Exchange.Data.EnhancedTimeSpan";
constexpr std::string_view kTimeSpanHint =
    "Give a time span as hh:mm:ss or d.hh:mm:ss, for example 00:10:00.";

CmdletStatus NotConnected() {
  return CmdletStatus::Error("Internal error: no connection to the settings service.");
}

// A failed Settings call. The store names the connector it does not know or the name already in
// use ("The receive connector 'x' wasn't found."): that text is passed through.
CmdletStatus SettingsCallFailed(const grpc::Status& status, std::string_view identity,
                                const CmdletContext& context) {
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    return CmdletStatus::Error("The mailbox store at " + context.endpoint +
                               " does not serve transport settings (mail.v1.Settings); "
                               "upgrade it.");
  }
  if ((status.error_code() == grpc::StatusCode::NOT_FOUND ||
       status.error_code() == grpc::StatusCode::ALREADY_EXISTS) &&
      !status.error_message().empty()) {
    return CmdletStatus::Error(status.error_message());
  }
  return StatusFromGrpc(status, identity, context);
}

// The effective transport settings: what is stored, with every default filled in.
CmdletStatus FetchTransport(CmdletContext& context, std::string_view identity,
                            TransportSettings* out) {
  if (context.settings == nullptr) return NotConnected();
  mail::v1::ServerSettings response;
  auto client = NewClientContext(context);
  grpc::Status status =
      context.settings->GetSettings(client.get(), mail::v1::GetSettingsRequest(), &response);
  if (!status.ok()) return SettingsCallFailed(status, identity, context);
  *out = std::move(*response.mutable_transport());
  return CmdletStatus::Ok();
}

CmdletStatus SendTransportUpdate(CmdletContext& context, std::string_view identity,
                                 const mail::v1::UpdateTransportSettingsRequest& request) {
  if (context.settings == nullptr) return NotConnected();
  mail::v1::ServerSettings response;
  auto client = NewClientContext(context);
  grpc::Status status = context.settings->UpdateTransportSettings(client.get(), request, &response);
  if (!status.ok()) return SettingsCallFailed(status, identity, context);
  return CmdletStatus::Ok();
}

// "What if: Performing the operation "Set-X" on target "Y" with the changes: A=1, B=2".
std::string WhatIfLine(std::string_view cmdlet, std::string_view target, std::string_view changes) {
  std::string line = "What if: Performing the operation \"" + std::string(cmdlet) + "\"";
  if (!target.empty()) line += " on target \"" + std::string(target) + "\"";
  if (changes.empty()) return line + ".\n";
  return line + " with the changes: " + std::string(changes) + "\n";
}

void AddChange(std::string* changes, std::string_view property, std::string_view value) {
  *changes += (changes->empty() ? "" : ", ") + std::string(property) + "=" + std::string(value);
}

void WarnNothingChanged(const CmdletContext& context, std::string_view identity) {
  Warn(context, "The command completed successfully but no settings of '" + std::string(identity) +
                    "' have been modified.");
}

// "MBX01\Client Frontend" names "Client Frontend": transport settings belong to the whole
// organisation, so the server part Exchange writes is accepted and dropped.
std::string_view WithoutServer(std::string_view identity) {
  const size_t slash = identity.rfind('\\');
  return slash == std::string_view::npos ? identity : identity.substr(slash + 1);
}

CmdletStatus ObjectNotFound(std::string_view identity) {
  return CmdletStatus::Error("The operation couldn't be performed because object '" +
                             std::string(identity) + "' couldn't be found.");
}

// ---------------------------------------------------------------------------------------------
// Receive connectors

// AuthMechanism values as Exchange names them, in its display order (the flag values).
struct AuthName {
  std::string_view name;
  mail::v1::AuthMechanism value;
};

constexpr AuthName kAuthMechanisms[] = {
    {"None", mail::v1::AUTH_MECHANISM_NONE},
    {"Tls", mail::v1::AUTH_MECHANISM_TLS},
    {"Integrated", mail::v1::AUTH_MECHANISM_INTEGRATED},
    {"BasicAuth", mail::v1::AUTH_MECHANISM_BASIC_AUTH},
    {"BasicAuthRequireTLS", mail::v1::AUTH_MECHANISM_BASIC_AUTH_REQUIRE_TLS},
    {"ExternalAuthoritative", mail::v1::AUTH_MECHANISM_EXTERNAL_AUTHORITATIVE},
};

constexpr std::string_view kAuthMechanismsType =
    "Microsoft.Exchange.Data.Directory.SystemConfiguration.AuthMechanisms";

enum class Kind {
  kName,      // Not empty.
  kString,    // $null clears.
  kBindings,  // Repeated string; the whole list.
  kBool,
  kCount,          // uint32 from 1 to ConnectorProperty::max.
  kSize,           // uint64 bytes, written 36MB, shown "36 MB (37,748,736 bytes)".
  kTimeSpan,       // uint32 seconds, written and shown as [d.]hh:mm:ss.
  kAuthMechanism,  // Repeated AuthMechanism, written Tls,BasicAuth; None is the empty list.
  kLoggingLevel,   // Bool, written and shown None / Verbose.
};

struct ConnectorProperty {
  std::string_view property;  // The Exchange property and parameter name.
  std::string_view field;     // The ReceiveConnector field.
  Kind kind;
  uint32_t max = 0;  // kCount: Exchange's upper limit.
};

// In the order Get-ReceiveConnector | Format-List shows them.
constexpr ConnectorProperty kConnectorProperties[] = {
    {"Name", "name", Kind::kName},
    {"Bindings", "bindings", Kind::kBindings},
    {"Enabled", "enabled", Kind::kBool},
    {"Banner", "banner", Kind::kString},
    {"Fqdn", "fqdn", Kind::kString},
    {"TlsCertificateName", "tls_certificate_name", Kind::kString},
    {"MaxMessageSize", "max_message_size", Kind::kSize},
    {"MaxRecipientsPerMessage", "max_recipients_per_message", Kind::kCount, 512000},
    {"MaxInboundConnection", "max_inbound_connection", Kind::kCount, 2147483647},
    {"MaxInboundConnectionPerSource", "max_inbound_connection_per_source", Kind::kCount, 10000},
    {"ConnectionTimeout", "connection_timeout_seconds", Kind::kTimeSpan},
    {"AuthMechanism", "auth_mechanism", Kind::kAuthMechanism},
    {"RequireTLS", "require_tls", Kind::kBool},
    {"AuthRequired", "require_auth", Kind::kBool},
    {"RelayAllowed", "allow_relay_authenticated", Kind::kBool},
    {"ImplicitTls", "implicit_tls", Kind::kBool},
    {"ProtocolLoggingLevel", "protocol_log_enabled", Kind::kLoggingLevel},
};

// Index = the bool protocol_log_enabled.
const std::vector<std::string>& LoggingLevelNames() {
  static const auto* names = new std::vector<std::string>{"None", "Verbose"};
  return *names;
}

// -Usage of New-ReceiveConnector: the defaults a new connector starts from.
const std::vector<std::string>& UsageNames() {
  static const auto* names = new std::vector<std::string>{"Custom", "Client", "Internet"};
  return *names;
}
constexpr int64_t kUsageClient = 1;

// The field of `p`, or nullptr when the proto has no such field of the expected type.
const FieldDescriptor* FieldOf(const ConnectorProperty& p) {
  const FieldDescriptor* f = ReceiveConnector::descriptor()->FindFieldByName(std::string(p.field));
  if (f == nullptr) return nullptr;
  FieldDescriptor::CppType want = FieldDescriptor::CPPTYPE_STRING;
  bool repeated = false;
  switch (p.kind) {
    case Kind::kName:
    case Kind::kString:
      break;
    case Kind::kBindings:
      repeated = true;
      break;
    case Kind::kBool:
    case Kind::kLoggingLevel:
      want = FieldDescriptor::CPPTYPE_BOOL;
      break;
    case Kind::kCount:
    case Kind::kTimeSpan:
      want = FieldDescriptor::CPPTYPE_UINT32;
      break;
    case Kind::kSize:
      want = FieldDescriptor::CPPTYPE_UINT64;
      break;
    case Kind::kAuthMechanism:
      want = FieldDescriptor::CPPTYPE_ENUM;
      repeated = true;
      break;
  }
  if (f->cpp_type() != want || f->is_repeated() != repeated) return nullptr;
  return f;
}

CmdletStatus NoSuchField(const ConnectorProperty& p) {
  return CmdletStatus::Error("Internal error: mail.v1.ReceiveConnector has no field '" +
                             std::string(p.field) + "' for " + std::string(p.property) + ".");
}

std::string AuthMechanismText(const ReceiveConnector& c) {
  std::string text;
  for (const AuthName& a : kAuthMechanisms) {
    if (a.value == mail::v1::AUTH_MECHANISM_NONE) continue;
    for (int m : c.auth_mechanism()) {
      if (m == a.value) {
        text += (text.empty() ? "" : ", ") + std::string(a.name);
        break;
      }
    }
  }
  // A value a newer server knows and this one does not.
  for (int m : c.auth_mechanism()) {
    bool known = false;
    for (const AuthName& a : kAuthMechanisms) known = known || a.value == m;
    if (!known) text += (text.empty() ? "" : ", ") + std::to_string(m);
  }
  return text.empty() ? "None" : text;
}

// How `p` is shown in Get-ReceiveConnector and in "What if:" lines.
std::string Display(const ReceiveConnector& c, const ConnectorProperty& p,
                    const FieldDescriptor* f) {
  const google::protobuf::Reflection* r = c.GetReflection();
  switch (p.kind) {
    case Kind::kName:
    case Kind::kString:
      return r->GetString(c, f);
    case Kind::kBindings: {
      std::vector<std::string> values;
      for (int i = 0; i < r->FieldSize(c, f); ++i) values.push_back(r->GetRepeatedString(c, f, i));
      return FormatMultiValue(values);
    }
    case Kind::kBool:
      return FormatBool(r->GetBool(c, f));
    case Kind::kCount:
      return std::to_string(r->GetUInt32(c, f));
    case Kind::kSize:
      return FormatByteQuantity(r->GetUInt64(c, f));
    case Kind::kTimeSpan:
      return FormatTimeSpan(r->GetUInt32(c, f));
    case Kind::kAuthMechanism:
      return AuthMechanismText(c);
    case Kind::kLoggingLevel:
      return LoggingLevelNames()[r->GetBool(c, f) ? 1 : 0];
  }
  return {};
}

CmdletStatus ConnectorRecord(const ReceiveConnector& c, Record* record) {
  for (const ConnectorProperty& p : kConnectorProperties) {
    const FieldDescriptor* f = FieldOf(p);
    if (f == nullptr) return NoSuchField(p);
    record->Add(std::string(p.property), Display(c, p, f));
  }
  record->Add("Identity", c.name());  // What Set-/Remove-ReceiveConnector bind to when piped.
  return CmdletStatus::Ok();
}

// -AuthMechanism Tls,BasicAuth (or 'Tls, BasicAuth' as one word, as Exchange's flags accept):
// Exchange's rules for combining the values, then the values in display order.
CmdletStatus ParseAuthMechanisms(const BoundValue& v, std::vector<mail::v1::AuthMechanism>* out) {
  if (v.is_null) return NullArgument("AuthMechanism");
  if (v.list.is_delta) {
    return CmdletStatus::Error(
        "-AuthMechanism takes the whole list, for example -AuthMechanism Tls,BasicAuth; "
        "@{Add=...; Remove=...} is not supported.");
  }
  bool seen[std::size(kAuthMechanisms)] = {};
  size_t count = 0;
  for (const std::string& value : v.list.values) {
    size_t start = 0;
    while (start <= value.size()) {
      size_t end = value.find(',', start);
      if (end == std::string::npos) end = value.size();
      std::string_view item = std::string_view(value).substr(start, end - start);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      bool found = false;
      for (size_t i = 0; i < std::size(kAuthMechanisms); ++i) {
        if (parser::EqualsIgnoreCase(item, kAuthMechanisms[i].name)) {
          if (!seen[i]) ++count;
          seen[i] = true;
          found = true;
        }
      }
      if (!found) {
        std::string names;
        for (const AuthName& a : kAuthMechanisms) {
          names += (names.empty() ? "" : ", ") + std::string(a.name);
        }
        return CmdletStatus::Error(
            "Cannot bind parameter 'AuthMechanism'. Cannot convert value \"" + std::string(item) +
            "\" to type \"" + std::string(kAuthMechanismsType) +
            "\". Error: \"Unable to match the identifier name " + std::string(item) +
            " to a valid enumerator name. Specify one of the following enumerator names and try "
            "again: " +
            names + "\"");
      }
      start = end + 1;
    }
  }
  auto has = [&](mail::v1::AuthMechanism m) {
    for (size_t i = 0; i < std::size(kAuthMechanisms); ++i) {
      if (kAuthMechanisms[i].value == m) return seen[i];
    }
    return false;
  };
  if (has(mail::v1::AUTH_MECHANISM_NONE) && count > 1) {
    return CmdletStatus::Error("AuthMechanism None can't be combined with other values.");
  }
  if (has(mail::v1::AUTH_MECHANISM_BASIC_AUTH_REQUIRE_TLS) &&
      !(has(mail::v1::AUTH_MECHANISM_BASIC_AUTH) && has(mail::v1::AUTH_MECHANISM_TLS))) {
    return CmdletStatus::Error(
        "AuthMechanism BasicAuthRequireTLS needs BasicAuth and Tls too, for example "
        "-AuthMechanism Tls,BasicAuth,BasicAuthRequireTLS.");
  }
  if (has(mail::v1::AUTH_MECHANISM_EXTERNAL_AUTHORITATIVE) &&
      count != (has(mail::v1::AUTH_MECHANISM_TLS) ? 2u : 1u)) {
    return CmdletStatus::Error(
        "AuthMechanism ExternalAuthoritative can be combined only with Tls.");
  }
  out->clear();
  for (size_t i = 0; i < std::size(kAuthMechanisms); ++i) {
    if (seen[i] && kAuthMechanisms[i].value != mail::v1::AUTH_MECHANISM_NONE) {
      out->push_back(kAuthMechanisms[i].value);
    }
  }
  return CmdletStatus::Ok();
}

// Converts the bound value of `p` and stores it in `c`. Refuses what the store could never
// accept, so that nothing is sent.
CmdletStatus Apply(const ConnectorProperty& p, const FieldDescriptor* f, const BoundValue& v,
                   ReceiveConnector* c) {
  const google::protobuf::Reflection* r = c->GetReflection();
  const std::string parameter(p.property);
  switch (p.kind) {
    case Kind::kName:
      if (v.is_null || v.text.find_first_not_of(" \t") == std::string::npos) {
        return CmdletStatus::Error("Cannot bind argument to parameter '" + parameter +
                                   "' because it is an empty string.");
      }
      r->SetString(c, f, v.text);
      return CmdletStatus::Ok();
    case Kind::kString:
      r->SetString(c, f, v.is_null ? std::string() : v.text);
      return CmdletStatus::Ok();
    case Kind::kBindings:
      if (v.list.is_delta) {
        return CmdletStatus::Error("-" + parameter + " takes the whole list, for example -" +
                                   parameter +
                                   " '[::]:2525','0.0.0.0:2525'; @{Add=...; Remove=...} is not "
                                   "supported.");
      }
      if (v.is_null || v.list.values.empty()) return NullArgument(parameter);
      r->ClearField(c, f);
      for (const std::string& value : v.list.values) r->AddString(c, f, value);
      return CmdletStatus::Ok();
    case Kind::kBool:
      if (v.is_null) return NullArgument(parameter);
      r->SetBool(c, f, v.boolean);
      return CmdletStatus::Ok();
    case Kind::kCount:
      if (v.is_null) return NullArgument(parameter);
      if (v.integer < 1 || v.integer > static_cast<int64_t>(p.max)) {
        return OutOfRange(parameter, v.integer, 1, p.max);
      }
      r->SetUInt32(c, f, static_cast<uint32_t>(v.integer));
      return CmdletStatus::Ok();
    case Kind::kSize:
      if (v.is_null) return NullArgument(parameter);
      if (v.unlimited) {
        return CmdletStatus::Error("Cannot validate argument on parameter '" + parameter +
                                   "'. Unlimited is not allowed; give a size such as 36MB.");
      }
      r->SetUInt64(c, f, v.bytes);
      return CmdletStatus::Ok();
    case Kind::kTimeSpan: {
      if (v.is_null) return NullArgument(parameter);
      std::optional<uint32_t> seconds = parser::ParseTimeSpan(v.text);
      if (!seconds) return CannotConvert(parameter, v.text, kTimeSpanType, kTimeSpanHint);
      r->SetUInt32(c, f, *seconds);
      return CmdletStatus::Ok();
    }
    case Kind::kAuthMechanism: {
      std::vector<mail::v1::AuthMechanism> values;
      if (CmdletStatus s = ParseAuthMechanisms(v, &values); !s.ok()) return s;
      r->ClearField(c, f);
      for (mail::v1::AuthMechanism m : values) r->AddEnumValue(c, f, m);
      return CmdletStatus::Ok();
    }
    case Kind::kLoggingLevel:
      if (v.is_null) return NullArgument(parameter);
      r->SetBool(c, f, v.integer == 1);
      return CmdletStatus::Ok();
  }
  return CmdletStatus::Error("Internal error: unhandled property kind.");
}

// Applies every property given in `args` to `c`; `fields` gets their field names and `changes`
// the "Name=value" list for -WhatIf.
CmdletStatus ApplyGiven(const BoundCommand& args, ReceiveConnector* c,
                        std::vector<std::string>* fields, std::string* changes) {
  for (const ConnectorProperty& p : kConnectorProperties) {
    const BoundValue* v = args.Find(p.property);
    if (v == nullptr) continue;
    const FieldDescriptor* f = FieldOf(p);
    if (f == nullptr) return NoSuchField(p);
    if (CmdletStatus s = Apply(p, f, *v, c); !s.ok()) return s;
    fields->emplace_back(p.field);
    AddChange(changes, p.property, Display(*c, p, f));
  }
  return CmdletStatus::Ok();
}

bool SameName(std::string_view a, std::string_view b) { return parser::EqualsIgnoreCase(a, b); }

const ReceiveConnector* FindConnector(const TransportSettings& t, std::string_view name) {
  for (const ReceiveConnector& c : t.receive_connectors()) {
    if (SameName(c.name(), name)) return &c;
  }
  return nullptr;
}

// The store's text, for the cases found before anything is sent.
CmdletStatus ConnectorNotFound(std::string_view name) {
  return CmdletStatus::Error("The receive connector '" + std::string(name) + "' wasn't found.");
}

// BasicAuth without BasicAuthRequireTLS on a connector without implicit TLS lets passwords
// cross the network in clear text (as Exchange allows, and warns about in its documentation).
void WarnIfCleartextAuth(const CmdletContext& context, const ReceiveConnector& c) {
  bool basic = false;
  bool require_tls = false;
  for (int m : c.auth_mechanism()) {
    basic = basic || m == mail::v1::AUTH_MECHANISM_BASIC_AUTH;
    require_tls = require_tls || m == mail::v1::AUTH_MECHANISM_BASIC_AUTH_REQUIRE_TLS;
  }
  if (basic && !require_tls && !c.implicit_tls() && !c.require_tls()) {
    Warn(context,
         "With AuthMechanism BasicAuth and without BasicAuthRequireTLS, passwords can "
         "cross the network in clear text before STARTTLS on the receive connector '" +
             c.name() + "'.");
  }
}

CmdletStatus SendConnectorUpdate(CmdletContext& context, std::string_view identity,
                                 const mail::v1::UpdateReceiveConnectorRequest& request,
                                 TransportSettings* updated) {
  if (context.settings == nullptr) return NotConnected();
  mail::v1::ServerSettings response;
  auto client = NewClientContext(context);
  grpc::Status status = context.settings->UpdateReceiveConnector(client.get(), request, &response);
  if (!status.ok()) return SettingsCallFailed(status, identity, context);
  *updated = std::move(*response.mutable_transport());
  return CmdletStatus::Ok();
}

CmdletStatus GetReceiveConnector(const BoundCommand& args, const std::vector<Record>&,
                                 CmdletContext& context, CmdletOutput* output) {
  // -Server is accepted for scripts written for Exchange and ignored: every node runs the
  // organisation's connectors.
  const std::optional<std::string> identity = args.GetString("Identity");
  TransportSettings t;
  if (CmdletStatus s = FetchTransport(context, identity.value_or("ReceiveConnector"), &t);
      !s.ok()) {
    return s;
  }
  const std::string_view name = identity ? WithoutServer(*identity) : std::string_view();
  for (const ReceiveConnector& c : t.receive_connectors()) {
    if (identity && !(parser::HasWildcard(name) ? parser::WildcardMatch(name, c.name())
                                                : SameName(name, c.name()))) {
      continue;
    }
    Record record;
    if (CmdletStatus s = ConnectorRecord(c, &record); !s.ok()) return s;
    output->records.push_back(std::move(record));
  }
  if (identity && !parser::HasWildcard(name) && output->records.empty()) {
    return ConnectorNotFound(name);
  }
  return CmdletStatus::Ok();
}

// The defaults of New-ReceiveConnector -Usage (Exchange's usage types, without permission
// groups): Client is authenticated submission with relay; Internet and Custom take anonymous
// mail for the organisation's own recipients, with STARTTLS offered.
void ApplyUsage(int64_t usage, ReceiveConnector* c) {
  c->set_enabled(true);
  c->add_auth_mechanism(mail::v1::AUTH_MECHANISM_TLS);
  if (usage == kUsageClient) {
    c->add_auth_mechanism(mail::v1::AUTH_MECHANISM_BASIC_AUTH);
    c->add_auth_mechanism(mail::v1::AUTH_MECHANISM_BASIC_AUTH_REQUIRE_TLS);
    c->set_require_auth(true);
    c->set_allow_relay_authenticated(true);
  }
}

CmdletStatus NewReceiveConnector(const BoundCommand& args, const std::vector<Record>&,
                                 CmdletContext& context, CmdletOutput* output) {
  mail::v1::UpdateReceiveConnectorRequest request;
  request.set_action(mail::v1::UpdateReceiveConnectorRequest::ACTION_NEW);
  ReceiveConnector* c = request.mutable_connector();
  const BoundValue* usage = args.Find("Usage");
  if (usage != nullptr && usage->is_null) return NullArgument("Usage");
  ApplyUsage(usage == nullptr ? 0 : usage->integer, c);
  std::vector<std::string> fields;
  std::string changes;
  if (CmdletStatus s = ApplyGiven(args, c, &fields, &changes); !s.ok()) return s;
  const std::string name = c->name();
  if (args.GetSwitch("WhatIf")) {
    output->text += WhatIfLine("New-ReceiveConnector", name, changes);
    return CmdletStatus::Ok();
  }
  TransportSettings updated;
  if (CmdletStatus s = SendConnectorUpdate(context, name, request, &updated); !s.ok()) return s;
  const ReceiveConnector* created = FindConnector(updated, name);
  const ReceiveConnector& shown = created != nullptr ? *created : *c;
  Record record;
  if (CmdletStatus s = ConnectorRecord(shown, &record); !s.ok()) return s;
  output->records.push_back(std::move(record));
  WarnIfCleartextAuth(context, shown);
  return CmdletStatus::Ok();
}

CmdletStatus SetReceiveConnector(const BoundCommand& args, const std::vector<Record>&,
                                 CmdletContext& context, CmdletOutput* output) {
  const std::string identity = args.GetString("Identity").value_or("");
  const std::string name(WithoutServer(identity));
  mail::v1::UpdateReceiveConnectorRequest request;
  request.set_action(mail::v1::UpdateReceiveConnectorRequest::ACTION_SET);
  request.set_identity(name);
  std::vector<std::string> fields;
  std::string changes;
  if (CmdletStatus s = ApplyGiven(args, request.mutable_connector(), &fields, &changes); !s.ok()) {
    return s;
  }
  const bool what_if = args.GetSwitch("WhatIf");
  if (fields.empty() || what_if) {
    // Nothing is sent: the connector must still exist, as Exchange resolves the identity.
    TransportSettings t;
    if (CmdletStatus s = FetchTransport(context, name, &t); !s.ok()) return s;
    const ReceiveConnector* c = FindConnector(t, name);
    if (c == nullptr) return ConnectorNotFound(name);
    if (fields.empty()) {
      WarnNothingChanged(context, c->name());
    } else {
      output->text += WhatIfLine("Set-ReceiveConnector", c->name(), changes);
    }
    return CmdletStatus::Ok();
  }
  for (std::string& f : fields) request.add_fields(std::move(f));
  TransportSettings updated;
  if (CmdletStatus s = SendConnectorUpdate(context, name, request, &updated); !s.ok()) return s;
  if (args.Has("AuthMechanism")) {
    const std::string now_named = args.Has("Name") ? request.connector().name() : name;
    if (const ReceiveConnector* c = FindConnector(updated, now_named)) {
      WarnIfCleartextAuth(context, *c);
    }
  }
  return CmdletStatus::Ok();
}

CmdletStatus RemoveReceiveConnector(const BoundCommand& args, const std::vector<Record>&,
                                    CmdletContext& context, CmdletOutput* output) {
  const std::string identity = args.GetString("Identity").value_or("");
  const std::string name(WithoutServer(identity));
  if (args.GetSwitch("WhatIf")) {
    TransportSettings t;
    if (CmdletStatus s = FetchTransport(context, name, &t); !s.ok()) return s;
    const ReceiveConnector* c = FindConnector(t, name);
    if (c == nullptr) return ConnectorNotFound(name);
    output->text += WhatIfLine("Remove-ReceiveConnector", c->name(), "");
    return CmdletStatus::Ok();
  }
  bool proceed = false;
  if (CmdletStatus s = ConfirmAction(
          args, context, "Removing Receive connector \"" + name + "\".",
          "Removing receive connector '" + name +
              "' needs confirmation, but standard input is not a terminal, so adminctl cannot "
              "ask. Add -Confirm:$false to remove it without a prompt.",
          &proceed);
      !s.ok() || !proceed) {
    return s;
  }
  mail::v1::UpdateReceiveConnectorRequest request;
  request.set_action(mail::v1::UpdateReceiveConnectorRequest::ACTION_REMOVE);
  request.set_identity(name);
  TransportSettings updated;
  return SendConnectorUpdate(context, name, request, &updated);
}

parser::ParameterSpec SpecOf(const ConnectorProperty& p) {
  parser::ParameterSpec spec{.name = std::string(p.property)};
  switch (p.kind) {
    case Kind::kName:
    case Kind::kString:
      break;
    case Kind::kBindings:
      spec.type = ParamType::kStringList;
      spec.type_name =
          "Microsoft.Exchange.Data.MultiValuedProperty`1[Microsoft.Exchange.Data."
          "IPBinding]";
      break;
    case Kind::kBool:
      spec.type = ParamType::kBool;
      break;
    case Kind::kCount:
      spec.type = ParamType::kInt;
      break;
    case Kind::kSize:
      spec.type = ParamType::kSize;
      spec.type_name = "Microsoft.Exchange.Data.ByteQuantifiedSize";
      break;
    case Kind::kTimeSpan:
      spec.type_name = std::string(kTimeSpanType);
      break;
    case Kind::kAuthMechanism:
      // A list, checked by ParseAuthMechanisms (which also splits "Tls, BasicAuth" written as
      // one word). The values are not listed as enum_values: all six make a syntax line wider
      // than Get-Help's 80 columns; the help text lists them.
      spec.type = ParamType::kStringList;
      spec.type_name = std::string(kAuthMechanismsType);
      break;
    case Kind::kLoggingLevel:
      spec.type = ParamType::kEnum;
      spec.enum_values = LoggingLevelNames();
      spec.type_name = "Microsoft.Exchange.Data.ProtocolLoggingLevel";
      break;
  }
  return spec;
}

parser::CommandSchema NewConnectorSchema() {
  parser::CommandSchema schema{"New-ReceiveConnector", {}};
  for (const ConnectorProperty& p : kConnectorProperties) {
    parser::ParameterSpec spec = SpecOf(p);
    if (p.property == "Name") {
      spec.mandatory = true;
      spec.position = 0;
    } else if (p.property == "Bindings") {
      spec.mandatory = true;
    }
    schema.parameters.push_back(std::move(spec));
    if (p.property == "Bindings") {
      schema.parameters.push_back({.name = "Usage",
                                   .type = ParamType::kEnum,
                                   .enum_values = UsageNames(),
                                   .type_name = "Microsoft.Exchange.Management.SystemConfiguration"
                                                "Tasks.NewReceiveConnector+UsageType"});
    }
  }
  schema.parameters.push_back({.name = "WhatIf", .type = ParamType::kSwitch});
  return schema;
}

parser::CommandSchema SetConnectorSchema() {
  parser::CommandSchema schema{
      "Set-ReceiveConnector",
      {{.name = "Identity", .mandatory = true, .position = 0, .from_pipeline = true}}};
  for (const ConnectorProperty& p : kConnectorProperties) schema.parameters.push_back(SpecOf(p));
  schema.parameters.push_back({.name = "WhatIf", .type = ParamType::kSwitch});
  return schema;
}

const View& ReceiveConnectorView() {
  static const View* view = new View{View::Kind::kTable, {"Name", "Bindings", "Enabled"}};
  return *view;
}

// ---------------------------------------------------------------------------------------------
// The send connector: the organisation's one route out, through its smart hosts

constexpr std::string_view kSendConnectorName = "Outbound to smart hosts";
constexpr uint32_t kDefaultSmartHostPort = 25;

uint32_t PortOf(const SmartHost& h) { return h.port() == 0 ? kDefaultSmartHostPort : h.port(); }

// The connector's Port: the first smart host's (Exchange has one port for all of them).
uint32_t ConnectorPort(const TransportSettings& t) {
  return t.smart_hosts().empty() ? kDefaultSmartHostPort : PortOf(t.smart_hosts(0));
}

// RequireTLS is shown True only when every smart host requires it.
bool ConnectorRequiresTls(const TransportSettings& t) {
  if (t.smart_hosts().empty()) return false;
  for (const SmartHost& h : t.smart_hosts()) {
    if (!h.require_tls()) return false;
  }
  return true;
}

// "relay.example.net", "relay.example.net:587", "[2001:db8::1]:25". The port is left out when
// it is `shown_port` (0: never left out).
std::string SmartHostText(const SmartHost& h, uint32_t shown_port) {
  const bool ipv6 = h.host().find(':') != std::string::npos;
  if (PortOf(h) == shown_port) return h.host();
  return (ipv6 ? "[" + h.host() + "]" : h.host()) + ":" + std::to_string(PortOf(h));
}

std::string SmartHostsText(const google::protobuf::RepeatedPtrField<SmartHost>& hosts,
                           uint32_t shown_port) {
  std::vector<std::string> values;
  for (const SmartHost& h : hosts) values.push_back(SmartHostText(h, shown_port));
  return FormatMultiValue(values);
}

struct ParsedSmartHost {
  std::string host;
  uint32_t port = 0;  // 0: not written.
};

// "relay.example.net", "relay.example.net:587", "192.0.2.1", "[192.0.2.1]:25",
// "[2001:db8::1]:25" or a bare "2001:db8::1".
std::optional<ParsedSmartHost> ParseSmartHost(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  ParsedSmartHost out;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
      if (port.empty()) return std::nullopt;
    }
  } else {
    const size_t colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
      out.host = std::string(text.substr(0, colon));
      port = text.substr(colon + 1);
      if (port.empty()) return std::nullopt;
    } else {
      out.host = std::string(text);  // A name, an IPv4 address or a bare IPv6 address.
    }
  }
  if (out.host.empty()) return std::nullopt;
  for (char ch : out.host) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_' || ch == ':';
    if (!ok) return std::nullopt;
  }
  if (!port.empty()) {
    if (port.size() > 5) return std::nullopt;
    uint32_t n = 0;
    for (char ch : port) {
      if (ch < '0' || ch > '9') return std::nullopt;
      n = n * 10 + static_cast<uint32_t>(ch - '0');
    }
    if (n < 1 || n > 65535) return std::nullopt;
    out.port = n;
  }
  return out;
}

CmdletStatus BadSmartHost(std::string_view value) {
  return CannotConvert("SmartHosts", value, "Microsoft.Exchange.Data.SmartHost",
                       "Give a host name or IP address with an optional port, for example "
                       "relay.example.net or relay.example.net:587.");
}

Record SendConnectorRecord(const TransportSettings& t) {
  const uint32_t port = ConnectorPort(t);
  Record r;
  r.Add("Name", std::string(kSendConnectorName));
  r.Add("Identity", std::string(kSendConnectorName));
  r.Add("AddressSpaces", "{SMTP:*;1}");
  r.Add("SmartHosts", SmartHostsText(t.smart_hosts(), port));
  r.Add("Port", std::to_string(port));
  r.Add("RequireTLS", FormatBool(ConnectorRequiresTls(t)));
  // Mail to other domains goes only through the smart hosts; there is no MX lookup.
  r.Add("DNSRoutingEnabled", FormatBool(false));
  r.Add("Enabled", FormatBool(true));
  return r;
}

const View& SendConnectorView() {
  static const View* view =
      new View{View::Kind::kTable, {"Identity", "AddressSpaces", "SmartHosts", "Enabled"}};
  return *view;
}

// -Identity of the send connector cmdlets: there is one, named kSendConnectorName.
CmdletStatus CheckSendConnectorIdentity(const BoundCommand& args) {
  const std::optional<std::string> identity = args.GetString("Identity");
  if (!identity) return CmdletStatus::Ok();
  const std::string_view name = WithoutServer(*identity);
  const bool match = parser::HasWildcard(name) ? parser::WildcardMatch(name, kSendConnectorName)
                                               : SameName(name, kSendConnectorName);
  return match ? CmdletStatus::Ok() : ObjectNotFound(*identity);
}

CmdletStatus GetSendConnector(const BoundCommand& args, const std::vector<Record>&,
                              CmdletContext& context, CmdletOutput* output) {
  if (CmdletStatus s = CheckSendConnectorIdentity(args); !s.ok()) return s;
  TransportSettings t;
  if (CmdletStatus s = FetchTransport(context, kSendConnectorName, &t); !s.ok()) return s;
  output->records.push_back(SendConnectorRecord(t));
  if (t.smart_hosts().empty()) {
    Warn(context,
         "The organisation has no smart hosts: each transportd uses those of its configuration "
         "file, and without any, mail to other domains stays queued. Set them with "
         "Set-SendConnector -SmartHosts.");
  }
  return CmdletStatus::Ok();
}

CmdletStatus SetSendConnector(const BoundCommand& args, const std::vector<Record>&,
                              CmdletContext& context, CmdletOutput* output) {
  if (CmdletStatus s = CheckSendConnectorIdentity(args); !s.ok()) return s;
  const BoundValue* smart = args.Find("SmartHosts");
  const BoundValue* port = args.Find("Port");
  const BoundValue* tls = args.Find("RequireTLS");
  if (port != nullptr) {
    if (port->is_null) return NullArgument("Port");
    if (port->integer < 1 || port->integer > 65535) {
      return OutOfRange("Port", port->integer, 1, 65535);
    }
  }
  if (tls != nullptr && tls->is_null) return NullArgument("RequireTLS");

  // Hosts written on this command line, checked before anything is fetched.
  struct Written {
    ParsedSmartHost parsed;
    bool remove = false;
  };
  std::vector<Written> written;
  if (smart != nullptr && !smart->is_null) {
    if (smart->list.is_delta) {
      for (const std::string& v : smart->list.add) {
        std::optional<ParsedSmartHost> h = ParseSmartHost(v);
        if (!h) return BadSmartHost(v);
        written.push_back({*h, false});
      }
      for (const std::string& v : smart->list.remove) {
        std::optional<ParsedSmartHost> h = ParseSmartHost(v);
        if (!h) return BadSmartHost(v);
        written.push_back({*h, true});
      }
    } else {
      for (const std::string& v : smart->list.values) {
        std::optional<ParsedSmartHost> h = ParseSmartHost(v);
        if (!h) return BadSmartHost(v);
        written.push_back({*h, false});
      }
    }
  }

  TransportSettings t;
  if (CmdletStatus s = FetchTransport(context, kSendConnectorName, &t); !s.ok()) return s;
  if (smart == nullptr && port == nullptr && tls == nullptr) {
    WarnNothingChanged(context, kSendConnectorName);
    return CmdletStatus::Ok();
  }
  const uint32_t new_port =
      port != nullptr ? static_cast<uint32_t>(port->integer) : ConnectorPort(t);
  const bool new_tls = tls != nullptr ? tls->boolean : ConnectorRequiresTls(t);

  // The new list, each host with whether its port was written here.
  struct Entry {
    SmartHost host;
    bool port_written = false;
  };
  std::vector<Entry> hosts;
  auto same = [](const SmartHost& h, const ParsedSmartHost& p) {
    return SameName(h.host(), p.host) && (p.port == 0 || PortOf(h) == p.port);
  };
  if (smart == nullptr || smart->list.is_delta) {
    for (const SmartHost& h : t.smart_hosts()) hosts.push_back({h, false});
  }
  for (const Written& w : written) {
    if (w.remove) {
      size_t before = hosts.size();
      std::erase_if(hosts, [&](const Entry& e) { return same(e.host, w.parsed); });
      if (hosts.size() == before) {
        return CmdletStatus::Error("The smart host '" + w.parsed.host +
                                   "' isn't in SmartHosts, so it can't be removed.");
      }
      continue;
    }
    SmartHost h;
    h.set_host(w.parsed.host);
    h.set_port(w.parsed.port != 0 ? w.parsed.port : new_port);
    h.set_require_tls(new_tls);
    bool duplicate = false;
    for (const Entry& e : hosts) {
      duplicate = duplicate || (SameName(e.host.host(), h.host()) && PortOf(e.host) == PortOf(h));
    }
    if (duplicate) {
      if (smart->list.is_delta) continue;  // Already there: nothing to add.
      return CmdletStatus::Error("The smart host '" + SmartHostText(h, 0) +
                                 "' is given more than once in SmartHosts.");
    }
    hosts.push_back({h, w.parsed.port != 0});
  }
  if ((port != nullptr || tls != nullptr) && hosts.empty()) {
    return CmdletStatus::Error(
        "There are no smart hosts for -Port or -RequireTLS to apply to; give them with "
        "-SmartHosts.");
  }

  mail::v1::UpdateTransportSettingsRequest request;
  request.add_fields("smart_hosts");
  for (Entry& e : hosts) {
    if (port != nullptr && !e.port_written) e.host.set_port(new_port);
    if (tls != nullptr) e.host.set_require_tls(new_tls);
    *request.mutable_settings()->add_smart_hosts() = e.host;
  }
  std::string changes;
  AddChange(&changes, "SmartHosts", SmartHostsText(request.settings().smart_hosts(), 0));
  if (port != nullptr) AddChange(&changes, "Port", std::to_string(new_port));
  if (tls != nullptr) AddChange(&changes, "RequireTLS", FormatBool(new_tls));
  if (args.GetSwitch("WhatIf")) {
    output->text += WhatIfLine("Set-SendConnector", kSendConnectorName, changes);
    return CmdletStatus::Ok();
  }
  return SendTransportUpdate(context, kSendConnectorName, request);
}

// ---------------------------------------------------------------------------------------------
// Get-/Set-TransportService and Get-/Set-TransportConfig

// Exchange's range of MessageExpirationTimeout starts at 5 s; the store refuses less than a
// minute, and Exchange refuses more than 90 days.
constexpr uint32_t kMinExpirationSeconds = 60;
constexpr uint32_t kMaxExpirationSeconds = 90 * 86400;

CmdletStatus GetTransportService(const BoundCommand&, const std::vector<Record>&,
                                 CmdletContext& context, CmdletOutput* output) {
  // The settings are the organisation's: -Identity (a server) is accepted and ignored.
  TransportSettings t;
  if (CmdletStatus s = FetchTransport(context, context.server_name, &t); !s.ok()) return s;
  Record r;
  r.Add("Name", context.server_name);
  r.Add("Identity", context.server_name);
  r.Add("MessageExpirationTimeout", FormatTimeSpan(t.message_expiration_seconds()));
  output->records.push_back(std::move(r));
  return CmdletStatus::Ok();
}

CmdletStatus SetTransportService(const BoundCommand& args, const std::vector<Record>&,
                                 CmdletContext& context, CmdletOutput* output) {
  const std::string identity = args.GetString("Identity").value_or(context.server_name);
  mail::v1::UpdateTransportSettingsRequest request;
  std::string changes;
  if (const BoundValue* v = args.Find("MessageExpirationTimeout")) {
    if (v->is_null) return NullArgument("MessageExpirationTimeout");
    std::optional<uint32_t> seconds = parser::ParseTimeSpan(v->text);
    if (!seconds) {
      return CannotConvert("MessageExpirationTimeout", v->text, kTimeSpanType,
                           "Give a time span as d.hh:mm:ss or hh:mm:ss, for example 2.00:00:00.");
    }
    if (*seconds < kMinExpirationSeconds || *seconds > kMaxExpirationSeconds) {
      return CmdletStatus::Error("MessageExpirationTimeout must be between " +
                                 FormatTimeSpan(kMinExpirationSeconds) + " and " +
                                 FormatTimeSpan(kMaxExpirationSeconds) + ".");
    }
    request.mutable_settings()->set_message_expiration_seconds(*seconds);
    request.add_fields("message_expiration_seconds");
    AddChange(&changes, "MessageExpirationTimeout", FormatTimeSpan(*seconds));
  }
  if (request.fields().empty()) {
    WarnNothingChanged(context, identity);
    return CmdletStatus::Ok();
  }
  if (args.GetSwitch("WhatIf")) {
    output->text += WhatIfLine("Set-TransportService", identity, changes);
    return CmdletStatus::Ok();
  }
  return SendTransportUpdate(context, identity, request);
}

// Get-TransportConfig's Identity in Exchange.
constexpr std::string_view kTransportConfigIdentity = "Transport Settings";

CmdletStatus GetTransportConfig(const BoundCommand&, const std::vector<Record>&,
                                CmdletContext& context, CmdletOutput* output) {
  TransportSettings t;
  if (CmdletStatus s = FetchTransport(context, kTransportConfigIdentity, &t); !s.ok()) return s;
  Record r;
  r.Add("Identity", std::string(kTransportConfigIdentity));
  // Empty, as Exchange shows $null, means postmaster@<default accepted domain>.
  r.Add("ExternalPostmasterAddress", t.postmaster_address());
  r.Add("SmtpClientAuthenticationDisabled", FormatBool(t.smtp_client_authentication_disabled()));
  output->records.push_back(std::move(r));
  return CmdletStatus::Ok();
}

CmdletStatus SetTransportConfig(const BoundCommand& args, const std::vector<Record>&,
                                CmdletContext& context, CmdletOutput* output) {
  mail::v1::UpdateTransportSettingsRequest request;
  std::string changes;
  // In the proto's field order.
  if (const BoundValue* v = args.Find("SmtpClientAuthenticationDisabled")) {
    if (v->is_null) return NullArgument("SmtpClientAuthenticationDisabled");
    request.mutable_settings()->set_smtp_client_authentication_disabled(v->boolean);
    request.add_fields("smtp_client_authentication_disabled");
    AddChange(&changes, "SmtpClientAuthenticationDisabled", FormatBool(v->boolean));
  }
  if (const BoundValue* v = args.Find("ExternalPostmasterAddress")) {
    const std::string address = v->is_null ? std::string() : v->text;
    const size_t at = address.find('@');
    if (!address.empty() && (at == std::string::npos || at == 0 || at + 1 == address.size() ||
                             address.find_first_of(" \t<>") != std::string::npos)) {
      return CmdletStatus::Error("'" + address + "' is not a valid SMTP address.");
    }
    request.mutable_settings()->set_postmaster_address(address);
    request.add_fields("postmaster_address");
    AddChange(&changes, "ExternalPostmasterAddress", address);
  }
  if (request.fields().empty()) {
    WarnNothingChanged(context, kTransportConfigIdentity);
    return CmdletStatus::Ok();
  }
  if (args.GetSwitch("WhatIf")) {
    output->text += WhatIfLine("Set-TransportConfig", kTransportConfigIdentity, changes);
    return CmdletStatus::Ok();
  }
  return SendTransportUpdate(context, kTransportConfigIdentity, request);
}

const View& ListView() {
  static const View* view = new View{View::Kind::kList, {}};
  return *view;
}

}  // namespace

void RegisterTransportCmdlets(CmdletRegistry* registry) {
  registry->Add(Cmdlet{
      .schema = {"Get-ReceiveConnector",
                 {
                     {.name = "Identity", .position = 0, .from_pipeline = true},
                     {.name = "Server"},
                 }},
      .handler = GetReceiveConnector,
      .default_view = ReceiveConnectorView(),
  });
  registry->Add(Cmdlet{
      .schema = NewConnectorSchema(),
      .handler = NewReceiveConnector,
      .default_view = ReceiveConnectorView(),
  });
  registry->Add(Cmdlet{
      .schema = SetConnectorSchema(),
      .handler = SetReceiveConnector,
      .default_view = ReceiveConnectorView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Remove-ReceiveConnector",
                 {
                     {.name = "Identity", .mandatory = true, .position = 0, .from_pipeline = true},
                     {.name = "Confirm", .type = ParamType::kSwitch},
                     {.name = "WhatIf", .type = ParamType::kSwitch},
                 }},
      .handler = RemoveReceiveConnector,
      .default_view = ReceiveConnectorView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Get-SendConnector", {{.name = "Identity", .position = 0, .from_pipeline = true}}},
      .handler = GetSendConnector,
      .default_view = SendConnectorView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Set-SendConnector",
                 {
                     {.name = "Identity", .position = 0, .from_pipeline = true},
                     {.name = "SmartHosts",
                      .type = ParamType::kStringList,
                      .type_name = "Microsoft.Exchange.Data.MultiValuedProperty`1[Microsoft."
                                   "Exchange.Data.SmartHost]"},
                     {.name = "Port", .type = ParamType::kInt},
                     {.name = "RequireTLS", .type = ParamType::kBool},
                     {.name = "WhatIf", .type = ParamType::kSwitch},
                 }},
      .handler = SetSendConnector,
      .default_view = SendConnectorView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Get-TransportService",
                 {{.name = "Identity", .position = 0, .from_pipeline = true}}},
      .handler = GetTransportService,
      .default_view = ListView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Set-TransportService",
                 {
                     {.name = "Identity", .position = 0, .from_pipeline = true},
                     {.name = "MessageExpirationTimeout", .type_name = std::string(kTimeSpanType)},
                     {.name = "WhatIf", .type = ParamType::kSwitch},
                 }},
      .handler = SetTransportService,
      .default_view = ListView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Get-TransportConfig", {}},
      .handler = GetTransportConfig,
      .default_view = ListView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Set-TransportConfig",
                 {
                     {.name = "SmtpClientAuthenticationDisabled", .type = ParamType::kBool},
                     {.name = "ExternalPostmasterAddress", .aliases = {"PostmasterAddress"}},
                     {.name = "WhatIf", .type = ParamType::kSwitch},
                 }},
      .handler = SetTransportConfig,
      .default_view = ListView(),
  });
}

}  // namespace adminctl
