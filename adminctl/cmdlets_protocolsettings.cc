// Get-PopSettings, Set-PopSettings, Get-ImapSettings and Set-ImapSettings over
// mail.v1.Settings: the organisation-wide POP3 and IMAP4 server settings. One table
// (kSettings) names each property, its ProtocolSettings field and how it is typed and shown;
// the Set-* schemas, the update request and the displayed objects all come from it, so the
// field names sent in UpdateProtocolSettingsRequest.fields are checked against the proto.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
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
using mail::v1::ProtocolSettings;
using parser::BoundCommand;
using parser::BoundValue;
using parser::ParamType;

struct Protocol {
  mail::v1::SettingsProtocol value;
  std::string_view name;  // "POP3": used in messages.
  std::string_view get_cmdlet;
  std::string_view set_cmdlet;
};

constexpr Protocol kPop3 = {mail::v1::SETTINGS_PROTOCOL_POP3, "POP3", "Get-PopSettings",
                            "Set-PopSettings"};
constexpr Protocol kImap4 = {mail::v1::SETTINGS_PROTOCOL_IMAP4, "IMAP4", "Get-ImapSettings",
                             "Set-ImapSettings"};

// LoginType as Exchange names and numbers it (LoginOptions), and the mail.v1 value.
struct LoginTypeName {
  std::string_view name;
  int exchange_number;
  mail::v1::LoginType value;
};

constexpr LoginTypeName kLoginTypes[] = {
    {"PlainTextLogin", 1, mail::v1::LOGIN_TYPE_PLAIN_TEXT_LOGIN},
    {"PlainTextAuthentication", 2, mail::v1::LOGIN_TYPE_PLAIN_TEXT_AUTHENTICATION},
    {"SecureLogin", 3, mail::v1::LOGIN_TYPE_SECURE_LOGIN},
};

// Index = Exchange's number = mail.v1.SortOrder value.
const std::vector<std::string>& SortOrderNames() {
  static const auto* names = new std::vector<std::string>{"Ascending", "Descending"};
  return *names;
}

enum class Kind {
  kLoginType,   // Enum field; name or Exchange number 1/2/3.
  kString,      // $null clears.
  kStringList,  // Repeated string; a,b replaces, $null clears.
  kCount,       // uint32, 1..2147483647.
  kTimeSpan,    // uint32 seconds, written and shown as [d.]hh:mm:ss.
  kSortOrder,   // Enum field.
  kBool,
  kSize,  // uint64 bytes, written 36MB, shown "36 MB (37,748,736 bytes)".
};

enum class Only { kBoth, kPop3, kImap4 };

struct Setting {
  std::string_view property;  // The Exchange property and parameter name.
  std::string_view field;     // The ProtocolSettings field.
  Kind kind;
  Only only = Only::kBoth;
};

// In the order Get-*Settings | Format-List shows them.
constexpr Setting kSettings[] = {
    {"LoginType", "login_type", Kind::kLoginType},
    {"UnencryptedOrTLSBindings", "unencrypted_or_tls_bindings", Kind::kStringList},
    {"SSLBindings", "ssl_bindings", Kind::kStringList},
    {"X509CertificateName", "x509_certificate_name", Kind::kString},
    {"InternalConnectionSettings", "internal_connection_settings", Kind::kStringList},
    {"ExternalConnectionSettings", "external_connection_settings", Kind::kStringList},
    {"Banner", "banner", Kind::kString},
    {"MaxConnections", "max_connections", Kind::kCount},
    {"MaxConnectionFromSingleIP", "max_connection_from_single_ip", Kind::kCount},
    {"MaxConnectionsPerUser", "max_connections_per_user", Kind::kCount},
    {"MaxCommandSize", "max_command_size", Kind::kCount},
    {"PreAuthenticatedConnectionTimeout", "pre_authenticated_connection_timeout_seconds",
     Kind::kTimeSpan},
    {"AuthenticatedConnectionTimeout", "authenticated_connection_timeout_seconds", Kind::kTimeSpan},
    {"MessageRetrievalSortOrder", "message_retrieval_sort_order", Kind::kSortOrder, Only::kPop3},
    {"ProtocolLogEnabled", "protocol_log_enabled", Kind::kBool},
    {"LogFileLocation", "log_file_location", Kind::kString},
    {"MaxMessageSize", "max_message_size", Kind::kSize, Only::kImap4},
};

bool Applies(const Setting& s, const Protocol& p) {
  switch (s.only) {
    case Only::kBoth:
      return true;
    case Only::kPop3:
      return p.value == mail::v1::SETTINGS_PROTOCOL_POP3;
    case Only::kImap4:
      return p.value == mail::v1::SETTINGS_PROTOCOL_IMAP4;
  }
  return false;
}

// The field of `s`, or nullptr when the proto has no such field of the expected type.
const FieldDescriptor* FieldOf(const Setting& s) {
  const FieldDescriptor* f = ProtocolSettings::descriptor()->FindFieldByName(std::string(s.field));
  if (f == nullptr) return nullptr;
  FieldDescriptor::CppType want = FieldDescriptor::CPPTYPE_STRING;
  switch (s.kind) {
    case Kind::kLoginType:
    case Kind::kSortOrder:
      want = FieldDescriptor::CPPTYPE_ENUM;
      break;
    case Kind::kString:
    case Kind::kStringList:
      want = FieldDescriptor::CPPTYPE_STRING;
      break;
    case Kind::kCount:
    case Kind::kTimeSpan:
      want = FieldDescriptor::CPPTYPE_UINT32;
      break;
    case Kind::kBool:
      want = FieldDescriptor::CPPTYPE_BOOL;
      break;
    case Kind::kSize:
      want = FieldDescriptor::CPPTYPE_UINT64;
      break;
  }
  if (f->cpp_type() != want || f->is_repeated() != (s.kind == Kind::kStringList)) return nullptr;
  return f;
}

CmdletStatus NoSuchField(const Setting& s) {
  return CmdletStatus::Error("Internal error: mail.v1.ProtocolSettings has no field '" +
                             std::string(s.field) + "' for " + std::string(s.property) + ".");
}

std::string LoginTypeText(int value) {
  // 0 is SecureLogin in every numbering of mail.v1.LoginType: the value itself, or "not set",
  // which the store treats as SecureLogin.
  if (value == 0) return "SecureLogin";
  for (const LoginTypeName& l : kLoginTypes) {
    if (l.value == value) return std::string(l.name);
  }
  return std::to_string(value);  // A newer server's value.
}

// How `s` is shown in Get-*Settings and in "What if:" lines.
std::string Display(const ProtocolSettings& settings, const Setting& s, const FieldDescriptor* f) {
  const google::protobuf::Reflection* r = settings.GetReflection();
  switch (s.kind) {
    case Kind::kLoginType:
      return LoginTypeText(r->GetEnumValue(settings, f));
    case Kind::kSortOrder: {
      const int v = r->GetEnumValue(settings, f);
      return v >= 0 && static_cast<size_t>(v) < SortOrderNames().size()
                 ? SortOrderNames()[static_cast<size_t>(v)]
                 : std::to_string(v);
    }
    case Kind::kString:
      return r->GetString(settings, f);
    case Kind::kStringList: {
      std::vector<std::string> values;
      for (int i = 0; i < r->FieldSize(settings, f); ++i) {
        values.push_back(r->GetRepeatedString(settings, f, i));
      }
      return FormatMultiValue(values);
    }
    case Kind::kCount:
      return std::to_string(r->GetUInt32(settings, f));
    case Kind::kTimeSpan:
      return FormatTimeSpan(r->GetUInt32(settings, f));
    case Kind::kBool:
      return FormatBool(r->GetBool(settings, f));
    case Kind::kSize:
      return FormatByteQuantity(r->GetUInt64(settings, f));
  }
  return {};
}

const View& SettingsView() {
  // Exchange's summary of Get-PopSettings / Get-ImapSettings.
  static const View* view =
      new View{View::Kind::kList,
               {"UnencryptedOrTLSBindings", "SSLBindings", "LoginType", "X509CertificateName"}};
  return *view;
}

// The call failed: StatusFromGrpc's text, or a clear one for a store without the service.
CmdletStatus SettingsCallFailed(const grpc::Status& status, const Protocol& p,
                                const CmdletContext& context) {
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    return CmdletStatus::Error("The mailbox store at " + context.endpoint +
                               " does not serve server settings (mail.v1.Settings); upgrade it.");
  }
  return StatusFromGrpc(status, p.name, context);
}

CmdletStatus NotConnected() {
  return CmdletStatus::Error("Internal error: no connection to the settings service.");
}

// Which settings version each node that hosts the service runs, as its last heartbeat told:
// "{cas1: 7, cas2: 6 (Unreachable)}". A node behind SettingsVersion has not applied the latest
// change yet. Only `node` when not empty (-Server). Empty when the control plane cannot be
// asked (the settings are shown anyway).
std::string NodeSettingsVersions(const Protocol& p, uint64_t current, const std::string& node,
                                 CmdletContext& context) {
  if (context.control == nullptr) return "";
  mail::v1::GetServicesRequest request;
  request.set_node(node);
  request.set_service(p.value == mail::v1::SETTINGS_PROTOCOL_POP3 ? mail::v1::SERVICE_NAME_POP3
                                                                  : mail::v1::SERVICE_NAME_IMAP4);
  mail::v1::GetServicesResponse response;
  auto client = NewClientContext(context);
  if (!context.control->GetServices(client.get(), request, &response).ok()) return "";
  std::vector<std::string> items;
  for (const mail::v1::ServiceState& s : response.services()) {
    std::string item = s.node() + ": ";
    if (s.status() == mail::v1::SERVICE_STATUS_UNREACHABLE) {
      item += "Unreachable";
    } else {
      item += std::to_string(s.settings_version());
      if (s.settings_version() < current) item += " (applying)";
    }
    items.push_back(std::move(item));
  }
  return FormatMultiValue(items);
}

CmdletStatus GetSettings(const Protocol& p, const std::string& server, CmdletContext& context,
                         CmdletOutput* output) {
  if (context.settings == nullptr) return NotConnected();
  mail::v1::ServerSettings response;
  auto client = NewClientContext(context);
  grpc::Status status =
      context.settings->GetSettings(client.get(), mail::v1::GetSettingsRequest(), &response);
  if (!status.ok()) return SettingsCallFailed(status, p, context);
  const ProtocolSettings& settings =
      p.value == mail::v1::SETTINGS_PROTOCOL_POP3 ? response.pop3() : response.imap4();
  Record record;
  for (const Setting& s : kSettings) {
    if (!Applies(s, p)) continue;
    const FieldDescriptor* f = FieldOf(s);
    if (f == nullptr) return NoSuchField(s);
    record.Add(std::string(s.property), Display(settings, s, f));
  }
  record.Add("SettingsVersion", std::to_string(response.version()));
  record.Add("NodeSettingsVersions", NodeSettingsVersions(p, response.version(), server, context));
  output->records.push_back(std::move(record));
  return CmdletStatus::Ok();
}

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

constexpr std::string_view kLoginOptionsType =
    "Microsoft.Exchange.Data.Directory.SystemConfiguration.LoginOptions";
constexpr std::string_view kTimeSpanType = "Microsoft.Exchange.Data.EnhancedTimeSpan";

// Converts the bound value of `s` and stores it in `settings`. Refuses what the server could
// never accept, so that nothing is sent.
CmdletStatus Apply(const Setting& s, const FieldDescriptor* f, const BoundValue& v,
                   ProtocolSettings* settings) {
  const google::protobuf::Reflection* r = settings->GetReflection();
  const std::string parameter(s.property);
  switch (s.kind) {
    case Kind::kLoginType: {
      if (v.is_null) return NullArgument(parameter);
      for (const LoginTypeName& l : kLoginTypes) {
        if (parser::EqualsIgnoreCase(v.text, l.name) ||
            v.text == std::to_string(l.exchange_number)) {
          r->SetEnumValue(settings, f, l.value);
          return CmdletStatus::Ok();
        }
      }
      std::string names;
      for (const LoginTypeName& l : kLoginTypes) {
        names += (names.empty() ? "" : ", ") + std::string(l.name);
      }
      return CmdletStatus::Error(
          "Cannot bind parameter 'LoginType'. Cannot convert value \"" + v.text + "\" to type \"" +
          std::string(kLoginOptionsType) + "\". Error: \"Unable to match the identifier name " +
          v.text +
          " to a valid enumerator name. Specify one of the following enumerator names "
          "and try again: " +
          names + " (or 1, 2, 3).\"");
    }
    case Kind::kSortOrder:
      if (v.is_null) return NullArgument(parameter);
      r->SetEnumValue(settings, f, static_cast<int>(v.integer));
      return CmdletStatus::Ok();
    case Kind::kString:
      r->SetString(settings, f, v.is_null ? std::string() : v.text);
      return CmdletStatus::Ok();
    case Kind::kStringList:
      if (v.list.is_delta) {
        return CmdletStatus::Error("-" + parameter + " takes the whole list, for example -" +
                                   parameter + " a,b; @{Add=...; Remove=...} is not supported.");
      }
      r->ClearField(settings, f);
      if (!v.is_null) {
        for (const std::string& value : v.list.values) r->AddString(settings, f, value);
      }
      return CmdletStatus::Ok();
    case Kind::kCount:
      if (v.is_null) return NullArgument(parameter);
      if (v.integer < 1) {
        return CmdletStatus::Error("Cannot validate argument on parameter '" + parameter +
                                   "'. The " + std::to_string(v.integer) +
                                   " argument is less than the minimum allowed range of 1. "
                                   "Supply an argument that is greater than or equal to 1 and "
                                   "then try the command again.");
      }
      r->SetUInt32(settings, f, static_cast<uint32_t>(v.integer));
      return CmdletStatus::Ok();
    case Kind::kTimeSpan: {
      if (v.is_null) return NullArgument(parameter);
      std::optional<uint32_t> seconds = parser::ParseTimeSpan(v.text);
      if (!seconds) {
        return CannotConvert(parameter, v.text, kTimeSpanType,
                             "Give a time span as hh:mm:ss or d.hh:mm:ss, for example 00:01:00.");
      }
      r->SetUInt32(settings, f, *seconds);
      return CmdletStatus::Ok();
    }
    case Kind::kBool:
      if (v.is_null) return NullArgument(parameter);
      r->SetBool(settings, f, v.boolean);
      return CmdletStatus::Ok();
    case Kind::kSize:
      if (v.is_null) return NullArgument(parameter);
      if (v.unlimited) {
        return CmdletStatus::Error("Cannot validate argument on parameter '" + parameter +
                                   "'. Unlimited is not allowed; give a size such as 36MB.");
      }
      r->SetUInt64(settings, f, v.bytes);
      return CmdletStatus::Ok();
  }
  return CmdletStatus::Error("Internal error: unhandled setting kind.");
}

constexpr std::string_view kPlainTextLoginWarning =
    "With LoginType PlainTextLogin, passwords can cross the network in clear text on port 110 "
    "(143 for IMAP) before STLS/STARTTLS.";

CmdletStatus SetSettings(const Protocol& p, const BoundCommand& args, CmdletContext& context,
                         CmdletOutput* output) {
  // -Server is accepted for scripts written for Exchange and ignored: the settings are
  // organisation-wide, and every node applies a change to its next connection.
  mail::v1::UpdateProtocolSettingsRequest request;
  request.set_protocol(p.value);
  std::string changes;  // "LoginType=SecureLogin, Banner=..." for -WhatIf.
  for (const Setting& s : kSettings) {
    if (!Applies(s, p)) continue;
    const BoundValue* v = args.Find(s.property);
    if (v == nullptr) continue;
    const FieldDescriptor* f = FieldOf(s);
    if (f == nullptr) return NoSuchField(s);
    if (CmdletStatus st = Apply(s, f, *v, request.mutable_settings()); !st.ok()) return st;
    request.add_fields(std::string(s.field));
    changes += (changes.empty() ? "" : ", ") + std::string(s.property) + "=" +
               Display(request.settings(), s, f);
  }
  if (request.fields().empty()) {
    Warn(context, "The command completed successfully but no settings of '" + std::string(p.name) +
                      "' have been modified.");
    return CmdletStatus::Ok();
  }
  if (args.GetSwitch("WhatIf")) {
    output->text += "What if: Performing the operation \"" + std::string(p.set_cmdlet) +
                    "\" with the changes: " + changes + "\n";
    return CmdletStatus::Ok();
  }
  if (context.settings == nullptr) return NotConnected();
  mail::v1::ServerSettings response;
  auto client = NewClientContext(context);
  grpc::Status status = context.settings->UpdateProtocolSettings(client.get(), request, &response);
  if (!status.ok()) return SettingsCallFailed(status, p, context);
  if (args.Has("LoginType") &&
      request.settings().login_type() == mail::v1::LOGIN_TYPE_PLAIN_TEXT_LOGIN) {
    Warn(context, kPlainTextLoginWarning);
  }
  return CmdletStatus::Ok();
}

parser::CommandSchema GetSchema(const Protocol& p) {
  return {std::string(p.get_cmdlet), {{.name = "Server"}}};
}

parser::CommandSchema SetSchema(const Protocol& p) {
  parser::CommandSchema schema{std::string(p.set_cmdlet), {{.name = "Server"}}};
  for (const Setting& s : kSettings) {
    if (!Applies(s, p)) continue;
    parser::ParameterSpec spec{.name = std::string(s.property)};
    switch (s.kind) {
      case Kind::kLoginType:
        spec.type_name = std::string(kLoginOptionsType);
        // Offered by Tab completion and listed by Get-Help; Apply() checks the value, since
        // Exchange's numbers 1/2/3 are accepted too.
        for (const LoginTypeName& l : kLoginTypes) spec.enum_values.emplace_back(l.name);
        break;
      case Kind::kTimeSpan:
        spec.type_name = std::string(kTimeSpanType);
        break;
      case Kind::kString:
        break;
      case Kind::kStringList:
        spec.type = ParamType::kStringList;
        break;
      case Kind::kCount:
        spec.type = ParamType::kInt;
        break;
      case Kind::kSortOrder:
        spec.type = ParamType::kEnum;
        spec.enum_values = SortOrderNames();
        spec.type_name = "Microsoft.Exchange.Data.Directory.SystemConfiguration.SortOrder";
        break;
      case Kind::kBool:
        spec.type = ParamType::kBool;
        break;
      case Kind::kSize:
        spec.type = ParamType::kSize;
        spec.type_name = "Microsoft.Exchange.Data.ByteQuantifiedSize";
        break;
    }
    schema.parameters.push_back(std::move(spec));
  }
  schema.parameters.push_back({.name = "WhatIf", .type = ParamType::kSwitch});
  return schema;
}

template <const Protocol& P>
CmdletStatus GetHandler(const BoundCommand& args, const std::vector<Record>&,
                        CmdletContext& context, CmdletOutput* output) {
  return GetSettings(P, args.GetString("Server").value_or(""), context, output);
}

template <const Protocol& P>
CmdletStatus SetHandler(const BoundCommand& args, const std::vector<Record>&,
                        CmdletContext& context, CmdletOutput* output) {
  return SetSettings(P, args, context, output);
}

}  // namespace

// Set-PopSettings / Set-ImapSettings: a change is stored at once and applies to the next
// connection on every node; no service restart is needed (unlike Exchange). The usage text
// (options.cc) says so too.
void RegisterProtocolSettingsCmdlets(CmdletRegistry* registry) {
  registry->Add(Cmdlet{
      .schema = GetSchema(kPop3),
      .handler = GetHandler<kPop3>,
      .default_view = SettingsView(),
  });
  registry->Add(Cmdlet{
      .schema = SetSchema(kPop3),
      .handler = SetHandler<kPop3>,
      .default_view = SettingsView(),
  });
  registry->Add(Cmdlet{
      .schema = GetSchema(kImap4),
      .handler = GetHandler<kImap4>,
      .default_view = SettingsView(),
  });
  registry->Add(Cmdlet{
      .schema = SetSchema(kImap4),
      .handler = SetHandler<kImap4>,
      .default_view = SettingsView(),
  });
}

}  // namespace adminctl
