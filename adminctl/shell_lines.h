// What the interactive shell does with its lines, apart from the terminal: the prompt, the
// lines that leave the shell, the lines kept in the history file, and where that file is.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace adminctl {

// Lines kept in memory and in the history file. Default: 1000.
inline constexpr size_t kHistorySize = 1000;
// The history file, in the home directory; written with mode 0600.
inline constexpr char kHistoryFileName[] = ".adminctl_history";

// "[PS] casmail> " for a local socket (unix:...), "[PS] casmail@<host>> " for a TCP endpoint
// ("mail01:7401", "dns:///mail01:7401", "ipv4:10.0.0.5:7401", "[::1]:7401").
std::string ShellPrompt(std::string_view endpoint);

// True for "exit" and "quit" (any case, with blanks around and an optional ';').
bool IsExitCommand(std::string_view line);

// False for blank lines and for lines that may hold a password: a parameter that abbreviates
// -Password (-Pa, -Pass, -Password:...), or ConvertTo-SecureString / -AsSecureString. Such
// lines are never written to the history, in memory or on disk.
bool KeepInHistory(std::string_view line);

// $HOME/.adminctl_history; "" when HOME is unset or empty.
std::string HistoryFilePath(const std::function<const char*(const char*)>& getenv);

}  // namespace adminctl
