// The POP3 command grammar (RFC 1939 §3, RFC 2449 §3-4, RFC 5034 §4):
// one command line in, one typed command or a client error out. Sans-I/O;
// pure functions, thread-safe, fuzzed (fuzz_command.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern::pop3 {

// RFC 2449 §4: a command line is at most 255 octets, CRLF included.
inline constexpr size_t kMaxCommandLine = 255;
// RFC 1939 §3: arguments up to 40 characters. USER, PASS and AUTH's initial
// response are held only to the line limit: addresses and passwords are often
// longer, and RFC 2449 §4 raised the line for that.
inline constexpr size_t kMaxArgument = 40;
// A SASL client response line (RFC 5034 §4 continuation), CRLF included.
inline constexpr size_t kMaxSaslLine = 8 * 1024;

enum class Verb {
  kUser,
  kPass,
  kApop,
  kAuth,
  kStls,
  kCapa,
  kStat,
  kList,
  kUidl,
  kRetr,
  kTop,
  kDele,
  kNoop,
  kRset,
  kQuit,
};

// The keyword as clients write it ("USER", ...).
std::string_view VerbName(Verb verb);

struct Command {
  Verb verb = Verb::kNoop;
  // LIST/UIDL with an argument; RETR, DELE, TOP: a message number >= 1.
  std::optional<uint32_t> message;
  // TOP: how many body lines.
  uint64_t lines = 0;
  // USER: the name; PASS: the password (the rest of the line, spaces kept,
  // RFC 1939 §7); AUTH: the mechanism, upper-cased (empty: list them).
  std::string argument;
  // AUTH: the initial response as sent (base64, or "=" for an empty one).
  std::optional<std::string> initial_response;
};

struct ParsedCommand {
  std::optional<Command> command;
  // Set when command is not: printable ASCII, one line, for "-ERR <error>".
  std::string error;
  bool ok() const { return command.has_value(); }
};

// Parses one command line without its CRLF.
ParsedCommand ParseCommand(std::string_view line);

// RFC 4648 §4 base64, strictly (alphabet, padding, zero pad bits);
// nullopt for anything else. "=" alone is the empty response (RFC 5034 §4).
std::optional<std::string> DecodeSaslResponse(std::string_view text);

}  // namespace postern::pop3
