// Test-only helpers shared by the ParseCommand tests: parse expecting success (returning the
// arguments of the expected type) or failure (checking the reply text is printable and one line).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "imap/command.h"

namespace postern::imap {

inline Command ExpectCommand(std::string_view text, const ParseOptions& options = {}) {
  ParsedCommand parsed = ParseCommand(text, options);
  EXPECT_TRUE(parsed.ok()) << "'" << text << "': " << (parsed.error ? parsed.error->message : "");
  return parsed.ok() ? *parsed.command : Command{};
}

// Parses `text` and returns the arguments of type T (a default T on failure).
template <typename T>
T ExpectArgs(std::string_view text, const ParseOptions& options = {}) {
  Command command = ExpectCommand(text, options);
  const T* args = std::get_if<T>(&command.arguments);
  EXPECT_NE(args, nullptr) << "'" << text << "': unexpected argument type";
  return args ? *args : T{};
}

// Expects a failure; checks the error text is printable ASCII on one line and, if given, that
// it contains `contains`. Returns the error.
inline ParseError ExpectError(std::string_view text, std::string_view contains = {},
                              const ParseOptions& options = {}) {
  ParsedCommand parsed = ParseCommand(text, options);
  EXPECT_FALSE(parsed.ok()) << "'" << text << "' parsed";
  if (parsed.ok()) return {};
  EXPECT_FALSE(parsed.command.has_value());
  const ParseError& error = *parsed.error;
  EXPECT_FALSE(error.message.empty());
  for (char c : error.message) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "'" << text << "': raw byte in error";
  }
  if (!contains.empty()) {
    EXPECT_NE(error.message.find(contains), std::string::npos)
        << "'" << text << "': error '" << error.message << "' lacks '" << contains << "'";
  }
  return error;
}

}  // namespace postern::imap
