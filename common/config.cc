#include "common/config.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace common {
namespace {

class CollectingErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (!text_.empty()) text_ += "; ";
    text_ += "line " + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " + message;
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

}  // namespace

Status ParseTextProto(const std::string& text, google::protobuf::Message* out) {
  google::protobuf::TextFormat::Parser parser;
  CollectingErrors errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, out)) {
    return InvalidArgumentError("bad config: " + errors.text());
  }
  return Status::Ok();
}

StatusOr<std::string> ReadTokenFile(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot read " + what + " " + path);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.size() < 16) {
    return InvalidArgumentError(what + " " + path + " must hold at least 16 characters");
  }
  return token;
}

Status LoadTextProto(const std::string& path, google::protobuf::Message* out) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot read config file " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  Status st = ParseTextProto(buf.str(), out);
  if (!st.ok()) return InvalidArgumentError(path + ": " + st.message());
  return Status::Ok();
}

int ParseServerFlags(int argc, char** argv, const char* program, const char* usage,
                     const std::vector<ServerFlag>& flags, google::protobuf::Message* config) {
  std::vector<std::pair<const google::protobuf::FieldDescriptor*, std::string>> overrides;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fprintf(stdout, "%s", usage);
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s", usage);
      return 2;
    }
    std::string value = argv[++i];
    if (a == "--config") {
      Status s = LoadTextProto(value, config);
      if (!s.ok()) {
        std::fprintf(stderr, "%s: %s\n", program, s.ToString().c_str());
        return 2;
      }
      continue;
    }
    const google::protobuf::FieldDescriptor* field = nullptr;
    for (const ServerFlag& f : flags) {
      if (f.flag == a) field = config->GetDescriptor()->FindFieldByName(f.field);
    }
    if (field == nullptr || field->is_repeated() ||
        field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
      std::fprintf(stderr, "%s", usage);
      return 2;
    }
    overrides.emplace_back(field, value);
  }
  for (const auto& [field, value] : overrides) {
    config->GetReflection()->SetString(config, field, value);
  }
  return -1;
}

}  // namespace common
