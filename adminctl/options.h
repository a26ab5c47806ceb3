// adminctl's own command line: options first, then the cmdlet line.
//   adminctl [--endpoint E] [--token T] <cmdlet words...>
//   adminctl [--endpoint E] [--token T] -c "<line>"
//   adminctl [--endpoint E] [--token T] --file script.ps1
//   adminctl [--endpoint E] [--token T]          (on a terminal: the interactive shell)
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace adminctl {

inline constexpr char kDefaultEndpoint[] = "unix:/run/casmail/admin.sock";
// transportd's queue admin socket (Get-Queue, Get-Message, ...).
inline constexpr char kDefaultTransportEndpoint[] = "unix:/run/casmail/transportd.sock";

struct Options {
  // kUsage: no cmdlet line; the program starts the shell when stdin is a terminal.
  enum class Mode { kUsage, kHelp, kVersion, kLine, kFile };
  Mode mode = Mode::kUsage;
  // "unix:/path" or "host:port". Default: $MAIL_ADMIN_ENDPOINT, else kDefaultEndpoint.
  std::string endpoint;
  // The queue cmdlets' endpoint. Default: $MAIL_TRANSPORT_ENDPOINT, else
  // kDefaultTransportEndpoint.
  std::string transport_endpoint;
  // Sent as "authorization: Bearer <token>". Default: $MAIL_ADMIN_TOKEN, else none.
  std::string token;
  std::string line;  // kLine.
  std::string file;  // kFile; "-" is standard input.
};

// Returns an error message (empty on success). `getenv` looks up environment variables.
std::string ParseOptions(const std::vector<std::string>& args,
                         const std::function<const char*(const char*)>& getenv, Options* options);

// The words after the options as one cmdlet line. One word is taken as a whole line
// (adminctl "Get-Mailbox | fl"); with several, words containing blanks or ';' (which the
// shell kept together on purpose) are single-quoted, with ' doubled.
std::string JoinArguments(const std::vector<std::string>& words);
std::string QuoteArgument(std::string_view word);

// The text printed for --help (and, on stderr, when no cmdlet is given).
std::string UsageText();

}  // namespace adminctl
