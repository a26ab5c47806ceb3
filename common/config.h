// Config files are textproto, read with protobuf's TextFormat against the same messages the
// admin API uses. Loaded and validated once; a reload builds a new immutable snapshot.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <vector>

#include "common/status.h"

namespace common {

// Reads `path` as textproto into `out`. Unknown fields and syntax errors are errors that
// name the line.
Status LoadTextProto(const std::string& path, google::protobuf::Message* out);
Status ParseTextProto(const std::string& text, google::protobuf::Message* out);

// A server's command line: `--config FILE` loads a textproto into `config`; every other
// `--flag VALUE` names a string field of `config` through `flags` ({"--store",
// "store_endpoint"}) and is applied after the file, so the command line wins. Returns -1 to go
// on, or the exit status after printing `usage` or the error on stderr: 0 for -h/--help, 2 for
// anything else.
struct ServerFlag {
  std::string flag;
  std::string field;
};
int ParseServerFlags(int argc, char** argv, const char* program, const char* usage,
                     const std::vector<ServerFlag>& flags, google::protobuf::Message* config);

// The first line of a token file (admin_token_file, node_token_file, store_token_file);
// `what` names it in errors. Fails when the file cannot be read or the token is shorter than
// 16 characters.
StatusOr<std::string> ReadTokenFile(const std::string& path, const std::string& what);

}  // namespace common
