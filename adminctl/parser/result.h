// Result<T>: a value or a positioned syntax/binding error. The parser library reports every
// problem with the input as a value of this type; nothing in it throws or aborts on input.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace adminctl::parser {

// A problem with the command line, located by byte offset so that it can be underlined.
struct Error {
  size_t offset = 0;    // Byte offset into the line.
  size_t length = 1;    // Bytes to underline; at least 1 when rendered.
  std::string message;  // PowerShell-like text, e.g. "Missing an argument for parameter 'Name'."
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design.
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design.

  bool ok() const { return v_.index() == 0; }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Renders an error the way Windows PowerShell does for parse errors:
//   ParserError: The string is missing the terminator: '.
//   At line:1 char:19
//   + Get-Mailbox -Name 'abc
//   +                   ~~~~
// Long lines are shown as a window around the error. `line_number` is 1-based.
std::string RenderError(std::string_view line, const Error& error, std::string_view category,
                        size_t line_number = 1);

}  // namespace adminctl::parser
