// Protocol log (ProtocolLogEnabled): one line per command and per response summary, with the
// session id, client address and user. Callers pass lines already redacted (LOGIN, PASS and
// AUTH arguments and SASL data never reach this file).
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace cas {

class ProtocolLog {
 public:
  // Lines go to <dir>/<prefix>_YYYYMMDD.log (UTC day).
  ProtocolLog(std::string dir, std::string prefix) : dir_(std::move(dir)), prefix_(std::move(prefix)) {}
  ~ProtocolLog();
  // direction: '<' from the client, '>' to the client, '*' an event (connect, login, close).
  void Write(std::string_view session, std::string_view client, std::string_view user,
             char direction, std::string_view text);

 private:
  std::string dir_;
  std::string prefix_;
  std::mutex mu_;
  std::string day_;
  FILE* file_ = nullptr;
};

}  // namespace cas
