#include "common/config.h"

#include <fstream>
#include <sstream>

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

namespace common {
namespace {

class CollectingErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (!text_.empty()) text_ += "; ";
    text_ += "line " + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " +
             message;
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

Status LoadTextProto(const std::string& path, google::protobuf::Message* out) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot read config file " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  Status st = ParseTextProto(buf.str(), out);
  if (!st.ok()) return InvalidArgumentError(path + ": " + st.message());
  return Status::Ok();
}

}  // namespace common
