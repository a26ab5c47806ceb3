#include "adminctl/app.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "adminctl/runner.h"

namespace adminctl {
namespace {

bool ReadScript(const std::string& path, std::string* text, std::ostream& err) {
  std::istream* in = &std::cin;
  std::ifstream file;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) {
      err << "adminctl: cannot open " << path << "\n";
      return false;
    }
    in = &file;
  }
  text->clear();
  char buffer[8192];
  while (in->read(buffer, sizeof(buffer)) || in->gcount() > 0) {
    text->append(buffer, static_cast<size_t>(in->gcount()));
    if (text->size() > kMaxScriptBytes) {
      err << "adminctl: " << path << " is larger than " << kMaxScriptBytes << " bytes\n";
      return false;
    }
  }
  return true;
}

// Options filled in by hand (tests, embedders) may leave it empty.
std::string TransportEndpoint(const Options& options) {
  return options.transport_endpoint.empty() ? kDefaultTransportEndpoint
                                            : options.transport_endpoint;
}

}  // namespace

std::string LocalHostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  std::string host(name);
  const size_t dot = host.find('.');
  if (dot != std::string::npos) host.resize(dot);
  return host.empty() ? "localhost" : host;
}

Connection::Connection(const Options& options, Terminal& terminal, std::ostream& warnings)
    : channel_(grpc::CreateChannel(options.endpoint, grpc::InsecureChannelCredentials())),
      directory_(mail::v1::Directory::NewStub(channel_)),
      settings_(mail::v1::Settings::NewStub(channel_)),
      control_(mail::v1::Control::NewStub(channel_)),
      transport_channel_(
          grpc::CreateChannel(TransportEndpoint(options), grpc::InsecureChannelCredentials())),
      queue_(mail::v1::Queue::NewStub(transport_channel_)) {
  context_.directory = directory_.get();
  context_.settings = settings_.get();
  context_.control = control_.get();
  context_.endpoint = options.endpoint;
  context_.queue = queue_.get();
  context_.transport_endpoint = TransportEndpoint(options);
  context_.token = options.token;
  context_.server_name = LocalHostName();
  context_.terminal = &terminal;
  context_.warnings = &warnings;
}

bool RunScript(Runner& runner, std::string_view script, std::ostream& err) {
  const parser::LexerLimits per_line;
  size_t line_number = 1;
  for (size_t start = 0; start <= script.size();) {
    size_t end = script.find('\n', start);
    if (end == std::string_view::npos) end = script.size();
    if (end - start > per_line.max_line_bytes) {
      err << "ParserError: Line " << line_number << " is " << (end - start)
          << " bytes long; the limit is " << per_line.max_line_bytes << " bytes.\n";
      return false;
    }
    start = end + 1;
    ++line_number;
  }
  return runner.RunLine(script, 1);
}

int RunAdminctl(const Options& options, std::ostream& out, std::ostream& err, Terminal& terminal) {
  switch (options.mode) {
    case Options::Mode::kHelp:
      out << UsageText();
      return kExitOk;
    case Options::Mode::kVersion:
      out << "adminctl 0.1.0\n";
      return kExitOk;
    case Options::Mode::kUsage:
      err << UsageText();
      return kExitUsage;
    case Options::Mode::kLine:
    case Options::Mode::kFile:
      break;
  }

  std::string script;
  if (options.mode == Options::Mode::kFile && !ReadScript(options.file, &script, err)) {
    return kExitError;
  }

  Connection connection(options, terminal, err);
  CmdletContext& context = connection.context();
  const CmdletRegistry registry = DefaultRegistry();

  if (options.mode == Options::Mode::kLine) {
    Runner runner(registry, context, out, err);
    return runner.RunLine(options.line) ? kExitOk : kExitError;
  }
  // Scripts may be longer than one command line; each physical line is still bounded.
  parser::ParserLimits limits;
  limits.lexer.max_line_bytes = kMaxScriptBytes;
  limits.lexer.max_tokens = 1000000;
  Runner runner(registry, context, out, err, limits);
  return RunScript(runner, script, err) ? kExitOk : kExitError;
}

}  // namespace adminctl
