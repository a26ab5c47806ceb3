// The interactive shell: adminctl with no cmdlet line while standard input is a terminal.
// Lines are edited with libedit (emacs keys, history with Up/Down, Tab completion from
// completion.h) and each one is run by the same Runner as a one-shot line: errors are printed
// in PowerShell's shape and the shell goes on. exit, quit or Ctrl-D on an empty line leaves;
// Ctrl-C abandons the line being typed. History is kept in ~/.adminctl_history (mode 0600),
// without the lines that may hold a password (shell_lines.h).
#pragma once

#include <ostream>

#include "adminctl/cmdlet.h"
#include "adminctl/options.h"

namespace adminctl {

// Runs the shell against options.endpoint until the user leaves. Returns the exit code
// (kExitOk).
int RunShell(const Options& options, std::ostream& out, std::ostream& err, Terminal& terminal);

}  // namespace adminctl
