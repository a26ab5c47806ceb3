// Lexer for PowerShell-style command lines (argument mode only: no expressions, no variables
// beyond $true/$false/$null, no script blocks). Pure: no I/O, bounded by LexerLimits.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "adminctl/parser/result.h"

namespace adminctl::parser {

enum class TokenKind {
  kWord,       // Bare, 'single' or "double" quoted text, or adjacent pieces of those.
  kVariable,   // $name; text holds the name without '$'.
  kParameter,  // -Name or -Name: ; text holds the name without '-' or ':'.
  kComma,
  kPipe,
  kSemicolon,  // ';' or a newline.
  kLParen,
  kRParen,
  kHashStart,  // "@{"
  kRBrace,
  kEquals,  // Only inside @{ ... }.
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  size_t offset = 0;
  size_t length = 0;
  bool quoted = false;     // kWord: some part was quoted, so it is always a plain string.
  bool has_colon = false;  // kParameter: written as -Name:value.
};

struct LexerLimits {
  // Longest accepted input, in bytes. Default: 64 KiB.
  size_t max_line_bytes = 64 * 1024;
  // Most tokens in one input (kEnd not counted). Default: 1000.
  size_t max_tokens = 1000;
};

// Splits `input` into tokens ending with one kEnd token, or returns the first error
// (unterminated string, input too long, too many tokens, script block).
Result<std::vector<Token>> Lex(std::string_view input, const LexerLimits& limits = {});

// The display name of a token kind, for messages ("Unexpected token ')' ...").
std::string TokenDisplay(const Token& token);

}  // namespace adminctl::parser
