#include "adminctl/parser/result.h"

#include <algorithm>

namespace adminctl::parser {
namespace {

// Shown context around the error, in bytes either side.
constexpr size_t kContextBefore = 60;
constexpr size_t kContextAfter = 40;

}  // namespace

std::string RenderError(std::string_view line, const Error& error, std::string_view category,
                        size_t line_number) {
  const size_t offset = std::min(error.offset, line.size());
  // The statement line that holds the offset (the input may span several lines).
  size_t line_start = line.rfind('\n', offset == 0 ? 0 : offset - 1);
  line_start = (line_start == std::string_view::npos || offset == 0) ? 0 : line_start + 1;
  size_t line_end = line.find('\n', offset);
  if (line_end == std::string_view::npos) line_end = line.size();
  for (size_t i = 0; i < line_start; ++i) {
    if (line[i] == '\n') ++line_number;
  }

  size_t from = line_start;
  std::string prefix;
  if (offset - line_start > kContextBefore) {
    from = offset - kContextBefore;
    prefix = "...";
  }
  size_t to = line_end;
  std::string suffix;
  if (to - offset > kContextAfter + error.length) {
    to = offset + std::max<size_t>(error.length, 1) + kContextAfter;
    to = std::min(to, line_end);
    suffix = "...";
  }
  std::string shown = prefix + std::string(line.substr(from, to - from)) + suffix;
  for (char& c : shown) {
    if (c == '\t' || c == '\r') c = ' ';
  }
  const size_t caret_column = prefix.size() + (offset - from);
  size_t underline = std::max<size_t>(error.length, 1);
  underline =
      std::min(underline, std::max<size_t>(shown.size() - std::min(caret_column, shown.size()), 1));

  std::string out(category);
  out += ": " + error.message + "\n";
  out += "At line:" + std::to_string(line_number) +
         " char:" + std::to_string(offset - line_start + 1) + "\n";
  out += "+ " + shown + "\n";
  out += "+ " + std::string(caret_column, ' ') + std::string(underline, '~') + "\n";
  return out;
}

}  // namespace adminctl::parser
