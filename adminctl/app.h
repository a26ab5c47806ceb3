// The adminctl program minus process setup: runs a one-shot line or a script against the
// endpoint in `options`, printing to `out`/`err`. Returns the process exit code:
// 0 success, 1 a cmdlet or parse error, 2 a usage error.
#pragma once

#include <grpcpp/channel.h>

#include <cstddef>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "adminctl/cmdlet.h"
#include "adminctl/options.h"

namespace adminctl {

class Runner;

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

// Most bytes read from a --file script. Default: 4 MiB.
inline constexpr size_t kMaxScriptBytes = 4 * 1024 * 1024;

int RunAdminctl(const Options& options, std::ostream& out, std::ostream& err, Terminal& terminal);

// The channel to options.endpoint, its stubs, the channel to options.transport_endpoint with
// its Queue stub, and a CmdletContext that uses them (token, server name, `terminal`, warnings
// to `warnings`). The channels connect on first use.
class Connection {
 public:
  Connection(const Options& options, Terminal& terminal, std::ostream& warnings);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  CmdletContext& context() { return context_; }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<mail::v1::Directory::Stub> directory_;
  std::unique_ptr<mail::v1::Settings::Stub> settings_;
  std::unique_ptr<mail::v1::Control::Stub> control_;
  std::shared_ptr<grpc::Channel> transport_channel_;
  std::unique_ptr<mail::v1::Queue::Stub> queue_;
  CmdletContext context_;
};

// Runs a whole script: every physical line must fit the per-line limit; statements run in
// order and the first error stops the script.
bool RunScript(Runner& runner, std::string_view script, std::ostream& err);

// The short host name, for the ServerName column.
std::string LocalHostName();

}  // namespace adminctl
