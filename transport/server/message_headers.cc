#include "transport/server/message_headers.h"

#include "mailboxstore/core/mime_parser.h"

namespace transport {

std::string_view HeaderSection(std::string_view message) {
  size_t end = message.find("\r\n\r\n");
  if (end != std::string_view::npos) return message.substr(0, end + 4);
  end = message.find("\n\n");
  if (end != std::string_view::npos) return message.substr(0, end + 2);
  return message;
}

std::vector<std::string> FromAddresses(std::string_view message) {
  std::string header(HeaderSection(message));
  if (header.size() < 2 || header.compare(header.size() - 2, 2, "\n\n") != 0) header += "\r\n";
  mail::v1::MessageStructure s = mailboxstore::ParseMessage(header);
  std::vector<std::string> out;
  for (const auto& a : s.envelope().from()) {
    if (a.group_start() || a.group_end() || !a.has_mailbox()) continue;
    out.push_back(a.has_host() && !a.host().empty() ? a.mailbox() + "@" + a.host() : a.mailbox());
  }
  return out;
}

std::string SubjectOf(std::string_view message) {
  std::string_view h = HeaderSection(message);
  size_t pos = 0;
  while (pos < h.size()) {
    size_t eol = h.find('\n', pos);
    if (eol == std::string_view::npos) eol = h.size();
    std::string_view line = h.substr(pos, eol - pos);
    if (line.size() >= 8 && (line[0] == 'S' || line[0] == 's') &&
        std::string_view("subject:").size() <= line.size()) {
      std::string name(line.substr(0, 8));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (name == "subject:") {
        std::string value(line.substr(8));
        size_t next = eol + 1;
        while (next < h.size() && (h[next] == ' ' || h[next] == '\t')) {
          size_t e2 = h.find('\n', next);
          if (e2 == std::string_view::npos) e2 = h.size();
          value += h.substr(next, e2 - next);
          next = e2 + 1;
        }
        std::string out;
        for (char c : value) {
          if (c != '\r' && c != '\n') out.push_back(c == '\t' ? ' ' : c);
        }
        size_t b = out.find_first_not_of(' ');
        return b == std::string::npos ? "" : out.substr(b, 998);
      }
    }
    pos = eol + 1;
  }
  return "";
}

}  // namespace transport
