// adminctl: the admin shell, one-shot mode. See options.h for the command line.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "adminctl/app.h"
#include "adminctl/options.h"
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
  return adminctl::RunAdminctl(options, std::cout, std::cerr, terminal);
}
