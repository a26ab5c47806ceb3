// The real terminal: prompts on stderr, answers from stdin, no echo for secrets.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "adminctl/cmdlet.h"

namespace adminctl {

class StdioTerminal : public Terminal {
 public:
  bool IsInteractive() const override;
  std::optional<std::string> ReadLine(std::string_view prompt) override;
  // Turns echo off while reading (and back on, also after Ctrl-C).
  std::optional<std::string> ReadSecret(std::string_view prompt) override;
};

}  // namespace adminctl
