// The adminctl program minus process setup: runs a one-shot line or a script against the
// endpoint in `options`, printing to `out`/`err`. Returns the process exit code:
// 0 success, 1 a cmdlet or parse error, 2 a usage error.
#pragma once

#include <cstddef>
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

// Runs a whole script: every physical line must fit the per-line limit; statements run in
// order and the first error stops the script.
bool RunScript(Runner& runner, std::string_view script, std::ostream& err);

// The short host name, for the ServerName column.
std::string LocalHostName();

}  // namespace adminctl
