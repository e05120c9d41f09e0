#include "pop3/command.h"

#include <array>
#include <vector>

#include "base/base64.h"
#include "base/strings.h"

namespace postern::pop3 {
namespace {

struct VerbEntry {
  std::string_view name;
  Verb verb;
};

constexpr std::array<VerbEntry, 15> kVerbs = {{
    {"USER", Verb::kUser},
    {"PASS", Verb::kPass},
    {"APOP", Verb::kApop},
    {"AUTH", Verb::kAuth},
    {"STLS", Verb::kStls},
    {"CAPA", Verb::kCapa},
    {"STAT", Verb::kStat},
    {"LIST", Verb::kList},
    {"UIDL", Verb::kUidl},
    {"RETR", Verb::kRetr},
    {"TOP", Verb::kTop},
    {"DELE", Verb::kDele},
    {"NOOP", Verb::kNoop},
    {"RSET", Verb::kRset},
    {"QUIT", Verb::kQuit},
}};

ParsedCommand Error(std::string text) { return ParsedCommand{std::nullopt, std::move(text)}; }

// 1*DIGIT within [min, max]; no sign, no leading "+", at most 40 characters.
std::optional<uint64_t> ParseNumber(std::string_view s, uint64_t min, uint64_t max) {
  if (s.empty() || s.size() > kMaxArgument) return std::nullopt;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (n > (max - digit) / 10) return std::nullopt;
    n = n * 10 + digit;
  }
  if (n < min) return std::nullopt;
  return n;
}

// VCHAR, and 8-bit bytes so that UTF-8 user names and passwords pass.
bool IsParamChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f;
}

}  // namespace

std::string_view VerbName(Verb verb) {
  for (const VerbEntry& e : kVerbs) {
    if (e.verb == verb) return e.name;
  }
  return "?";
}

ParsedCommand ParseCommand(std::string_view line) {
  if (line.size() + 2 > kMaxCommandLine) return Error("Command line too long");
  for (char c : line) {
    // RFC 2449 §3: keyword and parameters are VCHARs separated by SP; PASS
    // keeps other spaces; nothing may hold control characters (NUL, CR, LF).
    if (c != ' ' && !IsParamChar(c)) return Error("Invalid character in command");
  }
  const size_t space = line.find(' ');
  const std::string_view keyword = line.substr(0, space);
  const std::string_view rest = space == std::string_view::npos ? "" : line.substr(space + 1);
  if (keyword.size() < 3 || keyword.size() > 4) return Error("Unknown command");
  const VerbEntry* entry = nullptr;
  for (const VerbEntry& e : kVerbs) {
    if (EqualsIgnoreCase(e.name, keyword)) entry = &e;
  }
  if (!entry) return Error("Unknown command");

  Command command;
  command.verb = entry->verb;
  if (command.verb == Verb::kPass) {
    // RFC 1939 §7: a server may take spaces as part of the password.
    if (rest.empty()) return Error("PASS needs a password");
    command.argument = std::string(rest);
    return ParsedCommand{std::move(command), {}};
  }

  // Every other command: parameters are 1*VCHAR separated by one SP.
  std::vector<std::string_view> args;
  if (space != std::string_view::npos) {
    for (std::string_view arg : Split(rest, ' ')) {
      if (arg.empty()) return Error("Parameters must be separated by one space");
      args.push_back(arg);
    }
  }
  auto arity = [&](size_t min, size_t max) { return args.size() >= min && args.size() <= max; };
  const std::string name(entry->name);
  switch (command.verb) {
    case Verb::kUser:
      if (!arity(1, 1)) return Error("USER needs one name");
      command.argument = std::string(args[0]);
      break;
    case Verb::kApop:
      if (!arity(2, 2)) return Error("APOP needs a name and a digest");
      break;
    case Verb::kAuth:
      if (!arity(0, 2)) return Error("AUTH takes a mechanism and an initial response");
      if (!args.empty()) {
        if (args[0].size() > kMaxArgument) return Error("Mechanism name too long");
        command.argument = AsciiToUpper(args[0]);
      }
      if (args.size() == 2) command.initial_response = std::string(args[1]);
      break;
    case Verb::kList:
    case Verb::kUidl:
      if (!arity(0, 1)) return Error(name + " takes at most one message number");
      if (!args.empty()) {
        auto n = ParseNumber(args[0], 1, UINT32_MAX);
        if (!n) return Error("Invalid message number");
        command.message = static_cast<uint32_t>(*n);
      }
      break;
    case Verb::kRetr:
    case Verb::kDele: {
      if (!arity(1, 1)) return Error(name + " needs one message number");
      auto n = ParseNumber(args[0], 1, UINT32_MAX);
      if (!n) return Error("Invalid message number");
      command.message = static_cast<uint32_t>(*n);
      break;
    }
    case Verb::kTop: {
      if (!arity(2, 2)) return Error("TOP needs a message number and a line count");
      auto n = ParseNumber(args[0], 1, UINT32_MAX);
      if (!n) return Error("Invalid message number");
      auto lines = ParseNumber(args[1], 0, UINT64_MAX);
      if (!lines) return Error("Invalid line count");
      command.message = static_cast<uint32_t>(*n);
      command.lines = *lines;
      break;
    }
    case Verb::kStls:
    case Verb::kCapa:
    case Verb::kStat:
    case Verb::kNoop:
    case Verb::kRset:
    case Verb::kQuit:
      if (!args.empty()) return Error(name + " takes no parameters");
      break;
    case Verb::kPass:
      break;
  }
  return ParsedCommand{std::move(command), {}};
}

std::optional<std::string> DecodeSaslResponse(std::string_view text) {
  if (text == "=") return std::string();
  if (text.empty()) return std::nullopt;
  return DecodeBase64Strict(text);
}

}  // namespace postern::pop3
