// adminctl: the admin shell. One-shot lines and scripts (see options.h for the command line),
// or, with no cmdlet line on a terminal, the interactive shell (shell.h).
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "adminctl/app.h"
#include "adminctl/options.h"
#include "adminctl/shell.h"
#include "adminctl/terminal.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  adminctl::Options options;
  const std::string error = adminctl::ParseOptions(
      args, [](const char* name) { return std::getenv(name); }, &options);
  if (!error.empty()) {
    std::cerr << "adminctl: " << error << "\nRun adminctl --help for usage.\n";
    return adminctl::kExitUsage;
  }
  adminctl::StdioTerminal terminal;
  if (options.mode == adminctl::Options::Mode::kUsage && terminal.IsInteractive()) {
    return adminctl::RunShell(options, std::cout, std::cerr, terminal);
  }
  return adminctl::RunAdminctl(options, std::cout, std::cerr, terminal);
}
