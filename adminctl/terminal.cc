#include "adminctl/terminal.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace adminctl {
namespace {

// Saved terminal state while echo is off, restored by the signal handler on Ctrl-C.
struct termios g_saved_termios;
volatile sig_atomic_t g_echo_off = 0;

void RestoreAndReraise(int signo) {
  if (g_echo_off) tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_termios);
  signal(signo, SIG_DFL);
  raise(signo);
}

// Reads one line from stdin without the newline; nullopt at end of input.
std::optional<std::string> ReadStdinLine() {
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

bool StdioTerminal::IsInteractive() const { return isatty(STDIN_FILENO) == 1; }

std::optional<std::string> StdioTerminal::ReadLine(std::string_view prompt) {
  std::cerr << prompt << std::flush;
  return ReadStdinLine();
}

std::optional<std::string> StdioTerminal::ReadSecret(std::string_view prompt) {
  std::cerr << prompt << std::flush;
  struct termios saved;
  const bool tty = tcgetattr(STDIN_FILENO, &saved) == 0;
  struct sigaction old_int, old_term, action;
  if (tty) {
    g_saved_termios = saved;
    struct termios silent = saved;
    silent.c_lflag &= static_cast<tcflag_t>(~ECHO);
    silent.c_lflag |= ECHONL;
    action = {};
    action.sa_handler = RestoreAndReraise;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int);
    sigaction(SIGTERM, &action, &old_term);
    g_echo_off = 1;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent);
  }
  std::optional<std::string> line = ReadStdinLine();
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    g_echo_off = 0;
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
  } else {
    std::cerr << "\n";
  }
  return line;
}

}  // namespace adminctl
