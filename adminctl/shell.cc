#include "adminctl/shell.h"

#include <fcntl.h>
#include <histedit.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "adminctl/app.h"
#include "adminctl/completion.h"
#include "adminctl/runner.h"
#include "adminctl/shell_lines.h"

namespace adminctl {
namespace {

// What the key handlers reach through EL_CLIENTDATA.
struct ShellState {
  const CmdletRegistry* registry = nullptr;
  std::string prompt;
  bool cancelled = false;  // Ctrl-C abandoned the line el_gets() returned.
};

ShellState& StateOf(EditLine* el) {
  void* data = nullptr;
  el_get(el, EL_CLIENTDATA, &data);
  return *static_cast<ShellState*>(data);
}

FILE* OutputOf(EditLine* el) {
  FILE* out = stdout;
  el_get(el, EL_GETFP, 1, &out);
  return out;
}

char* Prompt(EditLine* el) { return StateOf(el).prompt.data(); }

size_t TerminalWidth(FILE* out) {
  struct winsize ws = {};
  if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

// Characters (not bytes) in UTF-8 text: el_deletestr() counts characters.
int CharacterCount(std::string_view text) {
  int n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

// Tab: complete the word before the cursor, or list the candidates.
unsigned char TabKey(EditLine* el, int) {
  const LineInfo* info = el_line(el);
  const std::string_view before(info->buffer, static_cast<size_t>(info->cursor - info->buffer));
  const Completion completion = Complete(*StateOf(el).registry, before);
  const TabAction action = ChooseTabAction(before, completion);
  switch (action.kind) {
    case TabAction::Kind::kNothing:
      return CC_REFRESH_BEEP;
    case TabAction::Kind::kReplace:
      el_deletestr(el, CharacterCount(before.substr(completion.start)));
      if (el_insertstr(el, action.replacement.c_str()) != 0) return CC_REFRESH_BEEP;
      return CC_REFRESH;
    case TabAction::Kind::kList: {
      FILE* out = OutputOf(el);
      std::fputs("\n", out);
      std::fputs(FormatCandidates(completion.candidates, TerminalWidth(out)).c_str(), out);
      std::fflush(out);
      return CC_REDISPLAY;
    }
  }
  return CC_NORM;
}

// Ctrl-C: abandon the line and start a new one, as shells do.
unsigned char CancelKey(EditLine* el, int) {
  StateOf(el).cancelled = true;
  FILE* out = OutputOf(el);
  std::fputs("^C\n", out);
  std::fflush(out);
  return CC_NEWLINE;
}

// Writes the history to `path` through a new 0600 file renamed over the old one, so that a
// crash never leaves half a file and the file is never readable by others. Returns an error
// message, empty on success.
std::string SaveHistory(History* history_state, const std::string& path) {
  const std::string temp = path + ".tmp." + std::to_string(getpid());
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return std::strerror(errno);
  if (fchmod(fd, 0600) != 0) {
    const std::string error = std::strerror(errno);
    close(fd);
    unlink(temp.c_str());
    return error;
  }
  FILE* file = fdopen(fd, "w");
  if (file == nullptr) {
    const std::string error = std::strerror(errno);
    close(fd);
    unlink(temp.c_str());
    return error;
  }
  HistEvent event;
  const bool written = history(history_state, &event, H_SAVE_FP, file) >= 0;
  const bool closed = std::fclose(file) == 0;
  if (!written || !closed) {
    unlink(temp.c_str());
    return "cannot write " + temp;
  }
  if (rename(temp.c_str(), path.c_str()) != 0) {
    const std::string error = std::strerror(errno);
    unlink(temp.c_str());
    return error;
  }
  return "";
}

constexpr char kBanner[] =
    "adminctl interactive shell. Get-Command lists the cmdlets, Get-Help <cmdlet> explains\n"
    "one, Tab completes names and values, Up recalls earlier lines; exit or Ctrl-D leaves.\n";

}  // namespace

int RunShell(const Options& options, std::ostream& out, std::ostream& err, Terminal& terminal) {
  std::setlocale(LC_CTYPE, "");  // libedit decodes multibyte input with the locale.
  Connection connection(options, terminal, err);
  const CmdletRegistry registry = DefaultRegistry();
  Runner runner(registry, connection.context(), out, err);
  ShellState state;
  state.registry = &registry;
  state.prompt = ShellPrompt(options.endpoint);

  History* history_state = history_init();
  HistEvent event;
  history(history_state, &event, H_SETSIZE, static_cast<int>(kHistorySize));
  history(history_state, &event, H_SETUNIQUE, 1);
  const std::string history_path =
      HistoryFilePath([](const char* name) { return std::getenv(name); });
  if (!history_path.empty() && access(history_path.c_str(), F_OK) == 0) {
    chmod(history_path.c_str(), 0600);  // Tighten a file another tool left readable.
    history(history_state, &event, H_LOAD, history_path.c_str());
  }

  EditLine* el = el_init("adminctl", stdin, stdout, stderr);
  el_set(el, EL_CLIENTDATA, &state);
  el_set(el, EL_PROMPT, &Prompt);
  el_set(el, EL_EDITOR, "emacs");
  el_set(el, EL_SIGNAL, 1);  // Restore the terminal on signals and follow window resizes.
  el_set(el, EL_HIST, history, history_state);
  el_set(el, EL_ADDFN, "adminctl-complete", "Complete cmdlet names, parameters and values",
         &TabKey);
  el_set(el, EL_BIND, "^I", "adminctl-complete", nullptr);
  // While a line is edited, Ctrl-C is a key (abandon the line) rather than SIGINT; while a
  // command runs, it still interrupts adminctl.
  el_set(el, EL_SETTY, "-d", "-isig", nullptr);
  el_set(el, EL_ADDFN, "adminctl-cancel", "Abandon the line", &CancelKey);
  el_set(el, EL_BIND, "^C", "adminctl-cancel", nullptr);
  el_source(el, nullptr);  // The user's ~/.editrc, if any.

  out << kBanner << std::flush;
  bool history_warned = false;
  while (true) {
    out.flush();
    err.flush();
    state.cancelled = false;
    int count = 0;
    const char* text = el_gets(el, &count);
    if (state.cancelled) continue;
    if (text == nullptr || count <= 0) {
      if (count < 0 && errno == EINTR) continue;
      out << "\n";  // Ctrl-D: end the prompt's line.
      break;
    }
    std::string line(text, static_cast<size_t>(count));
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (KeepInHistory(line)) {
      history(history_state, &event, H_ENTER, line.c_str());
      if (!history_path.empty()) {
        const std::string error = SaveHistory(history_state, history_path);
        if (!error.empty() && !history_warned) {
          err << "WARNING: Cannot save the history to " << history_path << ": " << error << "\n";
          history_warned = true;
        }
      }
    }
    if (IsExitCommand(line)) break;
    runner.RunLine(line);
    // A prompt inside the command (a password, a confirmation) may have met end of input.
    std::cin.clear();
    std::clearerr(stdin);
  }
  out.flush();
  el_end(el);
  history_end(history_state);
  return kExitOk;
}

}  // namespace adminctl
