#include "adminctl/parser/binder.h"

#include <algorithm>
#include <limits>

#include "adminctl/parser/strings.h"

namespace adminctl::parser {
namespace {

Error At(const Expression& e, std::string message) {
  return Error{e.offset, std::max<size_t>(e.length, 1), std::move(message)};
}

std::string Quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  out.append(text);
  out.push_back('"');
  return out;
}

// How a value is shown in a conversion error.
std::string Shown(const Expression& e) {
  switch (e.kind) {
    case Expression::Kind::kWord:
      return e.text;
    case Expression::Kind::kVariable:
      return "$" + e.text;
    case Expression::Kind::kList:
      return "System.Object[]";
    case Expression::Kind::kHashtable:
      return "System.Collections.Hashtable";
    case Expression::Kind::kSubPipeline:
      return "System.Management.Automation.PSObject";
  }
  return {};
}

std::string MissingArgument(const ParameterSpec& spec) {
  return "Missing an argument for parameter '" + spec.name + "'. Specify a parameter of type '" +
         TypeName(spec) + "' and try again.";
}

std::string CannotConvert(const Expression& e, const ParameterSpec& spec, std::string detail) {
  std::string message = "Cannot process argument transformation on parameter '" + spec.name +
                        "'. Cannot convert value " + Quote(Shown(e)) + " to type " +
                        Quote(TypeName(spec)) + ".";
  if (!detail.empty()) message += " " + detail;
  return message;
}

// The value of $true, $false or $null; an error for any other variable.
Result<std::optional<bool>> VariableValue(const Expression& e) {
  if (EqualsIgnoreCase(e.text, "true")) return std::optional<bool>(true);
  if (EqualsIgnoreCase(e.text, "false")) return std::optional<bool>(false);
  if (EqualsIgnoreCase(e.text, "null")) return std::optional<bool>();
  return At(e, "The variable '$" + e.text +
                   "' cannot be retrieved because it has not been set. Only $true, $false and "
                   "$null are defined; quote values that start with '$'.");
}

// One scalar element of a list: words and $true/$false ("True"/"False"); $null is skipped.
Error AppendListItem(const Expression& e, const ParameterSpec& spec,
                     std::vector<std::string>* out) {
  if (e.kind == Expression::Kind::kWord) {
    out->push_back(e.text);
    return {};
  }
  if (e.kind == Expression::Kind::kVariable) {
    Result<std::optional<bool>> v = VariableValue(e);
    if (!v.ok()) return v.error();
    if (v.value().has_value()) out->push_back(*v.value() ? "True" : "False");
    return {};
  }
  if (e.kind == Expression::Kind::kList) {
    for (const Expression& item : e.items) {
      if (item.kind == Expression::Kind::kList) {
        return At(item, "Nested lists are not supported for parameter '" + spec.name + "'.");
      }
      if (Error err = AppendListItem(item, spec, out); !err.message.empty()) return err;
    }
    return {};
  }
  return At(e, "Cannot convert " + Quote(Shown(e)) + " to a list element for parameter '" +
                   spec.name + "'.");
}

const CommandSchema& ConvertToSecureStringSchema() {
  static const CommandSchema* schema = new CommandSchema{
      "ConvertTo-SecureString",
      {
          {.name = "String", .type = ParamType::kString, .mandatory = true, .position = 0},
          {.name = "AsPlainText", .type = ParamType::kSwitch},
          {.name = "Force", .type = ParamType::kSwitch},
      }};
  return *schema;
}

const CommandSchema& ReadHostSchema() {
  static const CommandSchema* schema =
      new CommandSchema{"Read-Host",
                        {
                            {.name = "Prompt", .type = ParamType::kString, .position = 0},
                            {.name = "AsSecureString", .type = ParamType::kSwitch},
                        }};
  return *schema;
}

Result<BoundValue> SecureFromSubPipeline(const Expression& e, BoundValue v) {
  const Pipeline& pipeline = *e.pipeline;
  const Command& command = pipeline.commands.front();
  const bool convert = EqualsIgnoreCase(command.name, "ConvertTo-SecureString");
  const bool read_host = EqualsIgnoreCase(command.name, "Read-Host");
  if (pipeline.commands.size() != 1 || (!convert && !read_host)) {
    return At(e,
              "Only (ConvertTo-SecureString -String '...' -AsPlainText -Force) and "
              "(Read-Host -AsSecureString) are supported inside ( ).");
  }
  if (read_host) {
    Result<BoundCommand> bound = Bind(command, ReadHostSchema());
    if (!bound.ok()) return bound.error();
    v.value_omitted = true;
    return v;
  }
  Result<BoundCommand> bound = Bind(command, ConvertToSecureStringSchema());
  if (!bound.ok()) return bound.error();
  if (!bound.value().GetSwitch("AsPlainText")) {
    return At(e,
              "ConvertTo-SecureString: only plain text can be converted here; add "
              "-AsPlainText -Force.");
  }
  v.text = bound.value().GetString("String").value_or("");
  return v;
}

Result<BoundValue> Convert(const Expression& e, const ParameterSpec& spec) {
  BoundValue v;
  v.type = spec.type;
  v.offset = e.offset;

  if (e.kind == Expression::Kind::kSubPipeline) {
    if (spec.type == ParamType::kSecureString) return SecureFromSubPipeline(e, std::move(v));
    return At(e,
              "Sub-expressions ( ... ) are supported only for ConvertTo-SecureString; give "
              "the value of parameter '" +
                  spec.name + "' directly.");
  }
  if (spec.type == ParamType::kStringList) {
    if (e.kind == Expression::Kind::kHashtable) {
      v.list.is_delta = true;
      for (size_t i = 0; i < e.keys.size(); ++i) {
        std::vector<std::string>* target = nullptr;
        if (EqualsIgnoreCase(e.keys[i], "Add")) target = &v.list.add;
        if (EqualsIgnoreCase(e.keys[i], "Remove")) target = &v.list.remove;
        if (target == nullptr) {
          return At(e, "The hash table key '" + e.keys[i] + "' is not valid for parameter '" +
                           spec.name + "'. Use @{Add=...; Remove=...}.");
        }
        if (Error err = AppendListItem(e.items[i], spec, target); !err.message.empty()) {
          return err;
        }
      }
      return v;
    }
    if (e.kind == Expression::Kind::kVariable) {
      Result<std::optional<bool>> b = VariableValue(e);
      if (!b.ok()) return b.error();
      if (!b.value().has_value()) {
        v.is_null = true;  // $null: clear the property.
        return v;
      }
    }
    if (Error err = AppendListItem(e, spec, &v.list.values); !err.message.empty()) return err;
    return v;
  }
  if (e.kind == Expression::Kind::kList) {
    return At(e, "Cannot convert 'System.Object[]' to the type '" + TypeName(spec) +
                     "' required by parameter '" + spec.name +
                     "'. Specified method is not supported.");
  }
  if (e.kind == Expression::Kind::kHashtable) {
    return At(e,
              "Cannot convert the \"System.Collections.Hashtable\" value of type "
              "\"System.Collections.Hashtable\" to type \"" +
                  TypeName(spec) + "\".");
  }

  // A scalar: a word or a variable.
  std::optional<bool> variable_bool;
  std::string text = e.text;
  if (e.kind == Expression::Kind::kVariable) {
    if (spec.type == ParamType::kSecureString && !EqualsIgnoreCase(e.text, "true") &&
        !EqualsIgnoreCase(e.text, "false") && !EqualsIgnoreCase(e.text, "null")) {
      // Not "The variable '$...'": that would print the password.
      return At(e, "The value of parameter '" + spec.name +
                       "' starts with '$', which is read as a variable; put it in single "
                       "quotes.");
    }
    Result<std::optional<bool>> b = VariableValue(e);
    if (!b.ok()) return b.error();
    if (!b.value().has_value()) {
      v.is_null = true;
      return v;
    }
    variable_bool = b.value();
    text = *variable_bool ? "True" : "False";
  }

  switch (spec.type) {
    case ParamType::kString:
    case ParamType::kSecureString:
      v.text = std::move(text);
      return v;
    case ParamType::kBool:
    case ParamType::kSwitch: {
      std::optional<bool> b = variable_bool ? variable_bool : ParseBoolText(text);
      if (!b) {
        return At(e, CannotConvert(e, spec,
                                   "Boolean parameters accept only Boolean values and numbers, "
                                   "such as $True, $False, 1 or 0."));
      }
      v.boolean = *b;
      return v;
    }
    case ParamType::kInt: {
      if (spec.allow_unlimited && EqualsIgnoreCase(text, "unlimited")) {
        v.unlimited = true;
        return v;
      }
      std::optional<int64_t> n = ParseInteger(text);
      if (!n || *n > std::numeric_limits<int32_t>::max() ||
          *n < std::numeric_limits<int32_t>::min()) {
        return At(e, CannotConvert(e, spec,
                                   spec.allow_unlimited
                                       ? "Error: \"Give a whole number or Unlimited.\""
                                       : "Error: \"Input string was not in a correct format.\""));
      }
      v.integer = *n;
      return v;
    }
    case ParamType::kSize: {
      std::optional<ParsedSize> size = ParseSize(text);
      if (!size) {
        return At(e, CannotConvert(e, spec,
                                   "Error: \"Give a number with an optional unit (B, KB, MB, "
                                   "GB, TB), for example 2GB, or Unlimited.\""));
      }
      v.unlimited = size->unlimited;
      v.bytes = size->bytes;
      return v;
    }
    case ParamType::kEnum: {
      for (size_t i = 0; i < spec.enum_values.size(); ++i) {
        if (EqualsIgnoreCase(text, spec.enum_values[i])) {
          v.text = spec.enum_values[i];
          v.integer = static_cast<int64_t>(i);
          return v;
        }
      }
      std::optional<int64_t> n = ParseInteger(text);
      if (n && *n >= 0 && static_cast<uint64_t>(*n) < spec.enum_values.size()) {
        v.text = spec.enum_values[static_cast<size_t>(*n)];
        v.integer = *n;
        return v;
      }
      std::string names;
      for (const std::string& name : spec.enum_values) {
        names += (names.empty() ? "" : ", ") + name;
      }
      return At(e, "Cannot bind parameter '" + spec.name + "'. Cannot convert value " +
                       Quote(text) + " to type " + Quote(TypeName(spec)) +
                       ". Error: \"Unable to match the identifier name " + text +
                       " to a valid enumerator name. Specify one of the following enumerator "
                       "names and try again: " +
                       names + "\"");
    }
    case ParamType::kStringList:
      break;  // Handled above.
  }
  return At(e, "Internal error: unhandled parameter type.");
}

}  // namespace

std::string TypeName(const ParameterSpec& spec) {
  if (!spec.type_name.empty()) return spec.type_name;
  switch (spec.type) {
    case ParamType::kString:
      return "System.String";
    case ParamType::kBool:
      return "System.Boolean";
    case ParamType::kInt:
      return "System.Int32";
    case ParamType::kSize:
      return "Microsoft.Exchange.Data.Unlimited`1[Microsoft.Exchange.Data.ByteQuantifiedSize]";
    case ParamType::kEnum:
      return spec.name;
    case ParamType::kStringList:
      return "System.String[]";
    case ParamType::kSwitch:
      return "System.Management.Automation.SwitchParameter";
    case ParamType::kSecureString:
      return "System.Security.SecureString";
  }
  return "System.Object";
}

const BoundValue* BoundCommand::Find(std::string_view parameter) const {
  for (const auto& [name, value] : values_) {
    if (EqualsIgnoreCase(name, parameter)) return &value;
  }
  return nullptr;
}

void BoundCommand::Set(std::string parameter, BoundValue value) {
  for (auto& [name, existing] : values_) {
    if (EqualsIgnoreCase(name, parameter)) {
      existing = std::move(value);
      return;
    }
  }
  values_.emplace_back(std::move(parameter), std::move(value));
}

std::optional<std::string> BoundCommand::GetString(std::string_view parameter) const {
  const BoundValue* v = Find(parameter);
  if (v == nullptr || v->is_null || v->value_omitted) return std::nullopt;
  return v->text;
}

std::optional<bool> BoundCommand::GetBool(std::string_view parameter) const {
  const BoundValue* v = Find(parameter);
  if (v == nullptr || v->is_null) return std::nullopt;
  return v->boolean;
}

bool BoundCommand::GetSwitch(std::string_view parameter, bool absent) const {
  const BoundValue* v = Find(parameter);
  if (v == nullptr) return absent;
  return !v->is_null && v->boolean;
}

std::optional<int64_t> BoundCommand::GetInt(std::string_view parameter) const {
  const BoundValue* v = Find(parameter);
  if (v == nullptr || v->is_null || v->unlimited) return std::nullopt;
  return v->integer;
}

std::optional<SizeValue> BoundCommand::GetSize(std::string_view parameter) const {
  const BoundValue* v = Find(parameter);
  if (v == nullptr || v->is_null) return std::nullopt;
  return SizeValue{v->unlimited, v->bytes};
}

std::optional<MultiValue> BoundCommand::GetStringList(std::string_view parameter) const {
  const BoundValue* v = Find(parameter);
  if (v == nullptr) return std::nullopt;
  return v->list;  // $null yields an empty replacement list.
}

Result<size_t> ResolveParameter(const CommandSchema& schema, std::string_view written,
                                size_t offset) {
  const size_t length = written.size() + 1;
  for (size_t i = 0; i < schema.parameters.size(); ++i) {
    const ParameterSpec& spec = schema.parameters[i];
    if (EqualsIgnoreCase(spec.name, written)) return i;
    for (const std::string& alias : spec.aliases) {
      if (EqualsIgnoreCase(alias, written)) return i;
    }
  }
  std::vector<size_t> matches;
  if (!written.empty()) {
    for (size_t i = 0; i < schema.parameters.size(); ++i) {
      const ParameterSpec& spec = schema.parameters[i];
      bool match = StartsWithIgnoreCase(spec.name, written);
      for (const std::string& alias : spec.aliases) {
        match = match || StartsWithIgnoreCase(alias, written);
      }
      if (match) matches.push_back(i);
    }
  }
  if (matches.size() == 1) return matches.front();
  if (matches.empty()) {
    return Error{
        offset, length,
        "A parameter cannot be found that matches parameter name '" + std::string(written) + "'."};
  }
  std::string names;
  for (size_t i : matches) names += " -" + schema.parameters[i].name;
  return Error{offset, length,
               "Parameter cannot be processed because the parameter name '" + std::string(written) +
                   "' is ambiguous. Possible matches include:" + names + "."};
}

Result<BoundCommand> Bind(const Command& command, const CommandSchema& schema,
                          const BindOptions& options) {
  BoundCommand bound(schema.name);
  std::vector<bool> is_bound(schema.parameters.size(), false);
  std::vector<const CommandElement*> positional;

  const std::vector<CommandElement>& elements = command.elements;
  for (size_t i = 0; i < elements.size(); ++i) {
    const CommandElement& element = elements[i];
    if (element.kind == CommandElement::Kind::kArgument) {
      positional.push_back(&element);
      continue;
    }
    Result<size_t> index = ResolveParameter(schema, element.parameter_name, element.offset);
    if (!index.ok()) return index.error();
    const ParameterSpec& spec = schema.parameters[index.value()];
    const Error here{element.offset, std::max<size_t>(element.length, 1), ""};
    if (is_bound[index.value()]) {
      return Error{here.offset, here.length,
                   "Cannot bind parameter because parameter '" + spec.name +
                       "' is specified more than once. To provide multiple values to "
                       "parameters that can accept multiple values, use the array syntax. For "
                       "example, \"-parameter value1,value2,value3\"."};
    }
    is_bound[index.value()] = true;

    const Expression* value = nullptr;
    if (element.has_colon) {
      if (element.value) value = &*element.value;
    } else if (spec.type != ParamType::kSwitch && i + 1 < elements.size() &&
               elements[i + 1].kind == CommandElement::Kind::kArgument) {
      value = &*elements[++i].value;
    }

    BoundValue v;
    v.type = spec.type;
    v.offset = element.offset;
    if (value == nullptr) {
      if (spec.type == ParamType::kSwitch && !element.has_colon) {
        v.boolean = true;
      } else if (spec.type == ParamType::kSecureString) {
        v.value_omitted = true;
      } else {
        return Error{here.offset, here.length, MissingArgument(spec)};
      }
    } else {
      Result<BoundValue> converted = Convert(*value, spec);
      if (!converted.ok()) return converted.error();
      v = std::move(converted).value();
      v.offset = element.offset;
    }
    bound.Set(spec.name, std::move(v));
  }

  // Positional arguments fill the unbound positional parameters in position order.
  std::vector<size_t> slots;
  for (size_t i = 0; i < schema.parameters.size(); ++i) {
    if (schema.parameters[i].position >= 0) slots.push_back(i);
  }
  std::stable_sort(slots.begin(), slots.end(), [&](size_t a, size_t b) {
    return schema.parameters[a].position < schema.parameters[b].position;
  });
  size_t next_slot = 0;
  for (const CommandElement* element : positional) {
    while (next_slot < slots.size() && is_bound[slots[next_slot]]) ++next_slot;
    if (next_slot == slots.size()) {
      return At(*element->value, "A positional parameter cannot be found that accepts argument '" +
                                     Shown(*element->value) + "'.");
    }
    const size_t index = slots[next_slot];
    const ParameterSpec& spec = schema.parameters[index];
    Result<BoundValue> converted = Convert(*element->value, spec);
    if (!converted.ok()) return converted.error();
    is_bound[index] = true;
    bound.Set(spec.name, std::move(converted).value());
  }

  // Mandatory parameters.
  std::string missing;
  for (size_t i = 0; i < schema.parameters.size(); ++i) {
    const ParameterSpec& spec = schema.parameters[i];
    if (!spec.mandatory) continue;
    if (!is_bound[i]) {
      if (spec.type == ParamType::kSecureString) {
        BoundValue v;
        v.type = spec.type;
        v.offset = command.name_offset;
        v.value_omitted = true;
        bound.Set(spec.name, std::move(v));
      } else if (!(spec.from_pipeline && options.expect_pipeline_input)) {
        missing += (missing.empty() ? "" : " ") + spec.name;
      }
      continue;
    }
    const BoundValue* v = bound.Find(spec.name);
    if (spec.type == ParamType::kString && (v->is_null || v->text.empty())) {
      return Error{v->offset, 1,
                   "Cannot bind argument to parameter '" + spec.name + "' because it is " +
                       (v->is_null ? "null." : "an empty string.")};
    }
  }
  if (!missing.empty()) {
    return Error{command.name_offset, std::max<size_t>(command.name_length, 1),
                 "Cannot process command because of one or more missing mandatory parameters: " +
                     missing + "."};
  }
  return bound;
}

}  // namespace adminctl::parser
