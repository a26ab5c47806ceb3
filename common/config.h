// Config files are textproto, read with protobuf's TextFormat against the same messages the
// admin API uses. Loaded and validated once; a reload builds a new immutable snapshot.
#pragma once

#include <string>

#include <google/protobuf/message.h>

#include "common/status.h"

namespace common {

// Reads `path` as textproto into `out`. Unknown fields and syntax errors are errors that
// name the line.
Status LoadTextProto(const std::string& path, google::protobuf::Message* out);
Status ParseTextProto(const std::string& text, google::protobuf::Message* out);

}  // namespace common
