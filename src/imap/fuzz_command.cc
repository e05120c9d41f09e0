// Fuzz target for the IMAP grammar: the input is one whole command as a session would hand it to
// ParseCommand (first line, literals and continuation lines). Invariants:
//   - exactly one of command / error; errors are printable ASCII on one line, tags too;
//   - the arguments' type matches the verb; every sequence set is non-empty (or "$"), re-parses
//     from its ToString(), and resolves to ordered ranges of non-zero numbers;
//   - mailbox names are UTF-8, INBOX is normalised, and without UTF-8 mode they survive a modified
//     UTF-7 round trip; flags never include \Recent or \*;
//   - search trees respect the depth and key limits, lists the item limit;
//   - APPEND contents are views into the input;
//   - modified UTF-7 decode∘encode and encode∘decode are identities where defined;
//   - TrailingLiteral's result is consistent with the line it examined;
//   - strings written by the writer parse back to themselves.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "base/fuzz_check.h"
#include "base/strings.h"
#include "imap/command.h"
#include "imap/literal.h"
#include "imap/writer.h"

namespace postern::imap {
namespace {

class Checker {
 public:
  Checker(std::string_view input, const ParseOptions& options) : input_(input), options_(options) {}

  void CheckSet(const SequenceSet& set, bool allow_star = true, bool allow_saved = true) {
    if (set.saved) {
      FUZZ_CHECK(allow_saved);
      FUZZ_CHECK(set.ranges.empty());
      return;
    }
    FUZZ_CHECK(!set.ranges.empty());
    FUZZ_CHECK(set.ranges.size() <= options_.max_sequence_ranges);
    if (!allow_star) FUZZ_CHECK(!set.HasStar());
    Result<SequenceSet> again = ParseSequenceSet(set.ToString());
    FUZZ_CHECK(again.ok() && *again == set);
    for (uint32_t largest : {1u, 1000u, 4294967295u}) {
      std::vector<SequenceRange> resolved = set.Resolve(largest);
      FUZZ_CHECK(!resolved.empty());
      for (size_t i = 0; i < resolved.size(); ++i) {
        FUZZ_CHECK(resolved[i].first >= 1 && resolved[i].first <= resolved[i].last);
        if (i > 0) FUZZ_CHECK(uint64_t{resolved[i - 1].last} + 1 < resolved[i].first);
      }
      FUZZ_CHECK(set.Contains(resolved.front().first, largest));
    }
  }

  void CheckMailbox(const std::string& name, bool normalized = true) {
    FUZZ_CHECK(IsValidUtf8(name) || name.empty());
    if (normalized && EqualsIgnoreCase(name, "INBOX")) FUZZ_CHECK(name == "INBOX");
    if (!options_.utf8) {
      Result<std::string> decoded = DecodeModifiedUtf7(EncodeModifiedUtf7(name));
      FUZZ_CHECK(decoded.ok() && *decoded == name);
    }
  }

  void CheckFlags(const std::vector<std::string>& flags) {
    CheckCount(flags.size());
    for (const std::string& flag : flags) {
      FUZZ_CHECK(!flag.empty());
      FUZZ_CHECK(flag != "\\Recent" && flag != "\\*");
      FUZZ_CHECK(IsPrintableAscii(flag) && flag.find(' ') == std::string::npos);
    }
  }

  void CheckCount(size_t count) { FUZZ_CHECK(count <= options_.max_list_items); }

  void CheckSearch(const SearchKey& root) {
    FUZZ_CHECK(root.kind == SearchKeyKind::kAnd && !root.children.empty());
    size_t keys = 0;
    for (const SearchKey& key : root.children) CheckKey(key, 1, &keys);
    FUZZ_CHECK(keys <= options_.max_search_keys);
  }

  void CheckContent(std::string_view content) {
    FUZZ_CHECK(content.data() >= input_.data());
    FUZZ_CHECK(content.data() + content.size() <= input_.data() + input_.size());
  }

  void CheckCommand(const Command& command);

 private:
  void CheckKey(const SearchKey& key, size_t depth, size_t* keys) {
    FUZZ_CHECK(depth <= options_.max_depth);
    ++*keys;
    switch (key.kind) {
      case SearchKeyKind::kAnd:
        FUZZ_CHECK(!key.children.empty());
        CheckCount(key.children.size());
        break;
      case SearchKeyKind::kOr:
        FUZZ_CHECK(key.children.size() == 2);
        break;
      case SearchKeyKind::kNot:
        FUZZ_CHECK(key.children.size() == 1);
        break;
      case SearchKeyKind::kSequenceSet:
      case SearchKeyKind::kUid:
        CheckSet(key.set);
        [[fallthrough]];
      default:
        FUZZ_CHECK(key.children.empty());
    }
    for (const SearchKey& child : key.children) CheckKey(child, depth + 1, keys);
  }

  std::string_view input_;
  const ParseOptions& options_;
};

void Checker::CheckCommand(const Command& command) {
  FUZZ_CHECK(!command.tag.empty());
  FUZZ_CHECK(command.verb != Verb::kUnknown);
  std::visit(
      [&](const auto& args) {
        using T = std::decay_t<decltype(args)>;
        if constexpr (std::is_same_v<T, Select>) {
          FUZZ_CHECK(command.verb == Verb::kSelect || command.verb == Verb::kExamine);
          CheckMailbox(args.mailbox);
          if (args.qresync) {
            FUZZ_CHECK(args.qresync->uidvalidity != 0);
            if (args.qresync->known_uids) CheckSet(*args.qresync->known_uids, false, false);
            FUZZ_CHECK(args.qresync->known_sequence_numbers.has_value() ==
                       args.qresync->known_sequence_uids.has_value());
            if (args.qresync->known_sequence_numbers) {
              CheckSet(*args.qresync->known_sequence_numbers, false, false);
              CheckSet(*args.qresync->known_sequence_uids, false, false);
            }
          }
        } else if constexpr (std::is_same_v<T, MailboxArgument>) {
          CheckMailbox(args.mailbox);
        } else if constexpr (std::is_same_v<T, Create>) {
          FUZZ_CHECK(command.verb == Verb::kCreate);
          CheckMailbox(args.mailbox);
          CheckCount(args.special_use.size());
        } else if constexpr (std::is_same_v<T, Rename>) {
          CheckMailbox(args.from);
          CheckMailbox(args.to);
        } else if constexpr (std::is_same_v<T, List>) {
          FUZZ_CHECK(command.verb == Verb::kList);
          FUZZ_CHECK(!args.patterns.empty());
          FUZZ_CHECK(args.extended || args.patterns.size() == 1);
          FUZZ_CHECK(!args.select_recursive_match || args.select_subscribed);
          CheckMailbox(args.reference, false);
          for (const std::string& pattern : args.patterns) CheckMailbox(pattern, false);
        } else if constexpr (std::is_same_v<T, StatusQuery>) {
          FUZZ_CHECK(!args.items.empty());
          CheckMailbox(args.mailbox);
        } else if constexpr (std::is_same_v<T, Append>) {
          FUZZ_CHECK(!args.messages.empty());
          CheckCount(args.messages.size());
          CheckMailbox(args.mailbox);
          for (const AppendMessage& message : args.messages) {
            CheckFlags(message.flags);
            CheckContent(message.content);
            if (message.utf8) FUZZ_CHECK(message.literal8);
          }
        } else if constexpr (std::is_same_v<T, Expunge>) {
          FUZZ_CHECK(args.uids.has_value() == command.uid);
          if (args.uids) CheckSet(*args.uids);
        } else if constexpr (std::is_same_v<T, Search>) {
          FUZZ_CHECK(args.extended == (args.return_options != 0));
          CheckSearch(args.criteria);
        } else if constexpr (std::is_same_v<T, Sort>) {
          FUZZ_CHECK(!args.criteria.empty() && !args.charset.empty());
          CheckSearch(args.criteria_key);
        } else if constexpr (std::is_same_v<T, Thread>) {
          FUZZ_CHECK(!args.charset.empty());
          CheckSearch(args.criteria_key);
        } else if constexpr (std::is_same_v<T, Fetch>) {
          CheckSet(args.set);
          FUZZ_CHECK(!args.items.empty());
          if (args.vanished) FUZZ_CHECK(command.uid && args.changed_since);
          for (const FetchItem& item : args.items) {
            FUZZ_CHECK(IsPrintableAscii(item.ResponseName()));
            for (uint32_t part : item.section.part) FUZZ_CHECK(part != 0);
            if (item.partial) FUZZ_CHECK(item.partial->length != 0);
          }
        } else if constexpr (std::is_same_v<T, Store>) {
          CheckSet(args.set);
          CheckFlags(args.flags);
        } else if constexpr (std::is_same_v<T, Copy>) {
          FUZZ_CHECK(command.verb == Verb::kCopy || command.verb == Verb::kMove);
          CheckSet(args.set);
          CheckMailbox(args.mailbox);
        } else if constexpr (std::is_same_v<T, Id>) {
          FUZZ_CHECK(args.fields.size() <= 30);
        } else if constexpr (std::is_same_v<T, Enable>) {
          FUZZ_CHECK(!args.capabilities.empty());
          CheckCount(args.capabilities.size());
        }
      },
      command.arguments);
}

void CheckError(const ParseError& error) {
  FUZZ_CHECK(!error.message.empty());
  for (char c : error.message) FUZZ_CHECK(c >= 0x20 && c < 0x7f);
  for (char c : error.tag) FUZZ_CHECK(c > 0x20 && c < 0x7f);
  std::string response = error.Response();
  FUZZ_CHECK(response.find("\r\n") == response.size() - 2);
  FUZZ_CHECK(response.find('\n') == response.size() - 1);
}

void CheckParse(std::string_view input, const ParseOptions& options) {
  ParsedCommand parsed = ParseCommand(input, options);
  FUZZ_CHECK(parsed.command.has_value() != parsed.error.has_value());
  if (parsed.error) {
    CheckError(*parsed.error);
    return;
  }
  Checker(input, options).CheckCommand(*parsed.command);
}

void CheckModifiedUtf7(std::string_view data) {
  if (IsValidUtf8(data)) {
    std::string encoded = EncodeModifiedUtf7(data);
    FUZZ_CHECK(IsPrintableAscii(encoded));
    Result<std::string> decoded = DecodeModifiedUtf7(encoded);
    FUZZ_CHECK(decoded.ok() && *decoded == data);
  }
  Result<std::string> decoded = DecodeModifiedUtf7(data);
  if (decoded.ok()) FUZZ_CHECK(EncodeModifiedUtf7(*decoded) == data);
}

void CheckTrailingLiteral(std::string_view line) {
  LiteralLimits limits;
  limits.max_size = 100'000;
  limits.max_non_synchronizing = 4096;
  std::optional<LiteralMarker> unlimited = TrailingLiteral(line);
  std::optional<LiteralMarker> marker = TrailingLiteral(line, limits);
  FUZZ_CHECK(unlimited.has_value() == marker.has_value());
  if (!marker) return;
  FUZZ_CHECK(unlimited->status != LiteralStatus::kTooLarge);
  FUZZ_CHECK(marker->offset < line.size() && line.back() == '}');
  std::string_view text = line.substr(marker->offset);
  FUZZ_CHECK(marker->literal8 == (text.front() == '~'));
  if (marker->literal8) text.remove_prefix(1);
  FUZZ_CHECK(text.front() == '{');
  FUZZ_CHECK(marker->synchronizing == (text[text.size() - 2] != '+'));
  std::string_view digits = text.substr(1, text.size() - (marker->synchronizing ? 2 : 3));
  FUZZ_CHECK(!digits.empty());
  for (char c : digits) FUZZ_CHECK(c >= '0' && c <= '9');
  FUZZ_CHECK(marker->MustCloseConnection() == (!marker->synchronizing && !marker->ok()));
  if (marker->status == LiteralStatus::kInvalidSize) {
    FUZZ_CHECK(marker->size == 0);
    return;
  }
  FUZZ_CHECK(digits.size() <= kMaxLiteralDigits);
  FUZZ_CHECK(std::to_string(marker->size).size() <= digits.size());
  FUZZ_CHECK(marker->size == unlimited->size);
  bool too_large = marker->size > limits.max_size ||
                   (!marker->synchronizing && marker->size > limits.max_non_synchronizing);
  FUZZ_CHECK(too_large == (marker->status == LiteralStatus::kTooLarge));
}

void CheckWriterRoundTrip(std::string_view data) {
  if (data.find('\0') != std::string_view::npos || data.size() > 4096) return;
  StringOptions options;
  options.utf8 = true;
  std::string command = "a LOGIN ";
  AppendAString(&command, data, options);
  command.push_back(' ');
  AppendString(&command, data, options);
  ParsedCommand parsed = ParseCommand(command);
  FUZZ_CHECK(parsed.ok());
  FUZZ_CHECK(parsed.command->Get<Login>().user == data);
  FUZZ_CHECK(parsed.command->Get<Login>().password == data);
}

void CheckInput(std::string_view input) {
  for (int variant = 0; variant < 3; ++variant) {
    ParseOptions options;
    options.utf8 = variant == 1;
    if (variant == 2) {
      options.max_depth = 4;
      options.max_list_items = 3;
      options.max_search_keys = 6;
      options.max_sequence_ranges = 3;
    }
    CheckParse(input, options);
  }
  CheckModifiedUtf7(input);
  size_t line_end = input.find('\n');
  std::string_view first_line = input.substr(0, line_end);
  if (!first_line.empty() && first_line.back() == '\r') first_line.remove_suffix(1);
  CheckTrailingLiteral(first_line);
  CheckTrailingLiteral(input);
  CheckWriterRoundTrip(input);
}

}  // namespace
}  // namespace postern::imap

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  postern::imap::CheckInput(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
