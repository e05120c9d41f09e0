// Internal to postern_imap: the cursor the command-family parsers read from, with the shared
// productions of RFC 9051 §9 (atom, astring, string, literal, numbers, sequence sets, mailbox
// names, dates, flags), and the family entry points ParseCommand dispatches to. Every function
// reads from the current position and fails with InvalidArgument carrying a printable message;
// on failure the position is unspecified. Not thread-safe (one Parser per command).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "imap/command.h"

namespace postern::imap::internal {

// ATOM-CHAR: any CHAR except atom-specials (RFC 9051 §9). No 8-bit octets.
bool IsAtomChar(char c);

// field-name = 1*ftext (RFC 5322 §3.6.8): printable ASCII except ":".
bool IsHeaderFieldName(std::string_view name);

// For messages: upper case, printable ASCII only, bounded.
std::string Shown(std::string_view s);

Status SyntaxError(std::string message);

// Which sequence-set forms an argument allows.
struct SetRules {
  bool allow_star = true;   // "*" (not in QRESYNC known sets, RFC 7162 §3.2.5)
  bool allow_saved = true;  // "$" (RFC 5182)
};

// Where a literal may stand.
enum class LiteralUse {
  kString,   // a string argument: "{N}" only, no NUL (CHAR8)
  kMessage,  // APPEND data: "~{N}" too, and NUL is passed through
};

struct LiteralValue {
  std::string_view bytes;  // a view into the parser's input
  bool literal8 = false;
};

class Parser {
 public:
  Parser(std::string_view input, const ParseOptions& options) : in_(input), options_(options) {}

  const ParseOptions& options() const { return options_; }

  // True when nothing is left but an optional final CRLF (or LF).
  bool AtEnd() const;
  bool Peek(char c) const { return pos_ < in_.size() && in_[pos_] == c; }
  bool PeekIf(bool (*pred)(char)) const { return pos_ < in_.size() && pred(in_[pos_]); }
  // True if the input continues with `text` (case-insensitive), whatever follows.
  bool PeekText(std::string_view text) const;
  // True if the next token is `keyword` (case-insensitive) followed by SP, "(", ")" or the end.
  bool PeekKeyword(std::string_view keyword) const;
  bool Consume(char c);
  // Consumes `keyword` if PeekKeyword(keyword).
  bool ConsumeKeyword(std::string_view keyword);

  Status Expect(char c, std::string_view what);  // fails with "Expected <what>"
  Status Space();                                // exactly one SP
  Status End();                                  // AtEnd() or fails

  // 1*ATOM-CHAR; `what` names the expected thing in the error.
  Result<std::string_view> Atom(std::string_view what);
  // An atom, upper-cased.
  Result<std::string> Keyword(std::string_view what);
  // The run of bytes satisfying `pred` (possibly empty).
  std::string_view TakeWhile(bool (*pred)(char));

  Result<std::string> AString(std::string_view what);
  Result<std::string> String(std::string_view what);  // quoted / literal
  Result<std::optional<std::string>> NString(std::string_view what);
  Result<LiteralValue> Literal(LiteralUse use);
  // Quoted string at a '"'.
  Result<std::string> Quoted();

  Result<uint32_t> Number(std::string_view what);    // number: 0..2^32-1
  Result<uint32_t> NzNumber(std::string_view what);  // nz-number
  // number64: 0..2^63-1 (nz-number64 when `nonzero`).
  Result<uint64_t> Number64(std::string_view what, bool nonzero = false);

  Result<SequenceSet> Set(SetRules rules = {});

  // mailbox: an astring decoded and checked as a mailbox name, INBOX normalised.
  Result<std::string> Mailbox();
  // LIST reference: decoded like a mailbox name but not normalised.
  Result<std::string> Reference();
  // list-mailbox (RFC 9051 §9): 1*list-char / string, decoded like a mailbox name.
  Result<std::string> ListMailbox();

  Result<Date> SearchDate();          // date: date-text, optionally quoted
  Result<DateTime> QuotedDateTime();  // date-time with its quotes

  // A flag for STORE or APPEND: system flags canonically spelled, keywords as sent. Refuses
  // \Recent, \* and unknown "\atom"s.
  Result<std::string> Flag();
  // flag-list: "(" [flag *(SP flag)] ")".
  Result<std::vector<std::string>> FlagList();

  // Fails once a list reaches more than max_list_items items.
  Status CountItem(size_t* count, std::string_view what) const;

  // Reads "(" item *(SP item) ")" calling `item` for each; "()" only if `allow_empty`.
  template <typename ItemFn>
  Status ParenthesizedList(std::string_view what, bool allow_empty, ItemFn&& item) {
    PT_RETURN_IF_ERROR(Expect('(', "( to open the " + std::string(what)));
    if (Consume(')')) {
      return allow_empty ? Status::Ok() : SyntaxError("Empty " + std::string(what));
    }
    size_t count = 0;
    while (true) {
      PT_RETURN_IF_ERROR(CountItem(&count, what));
      PT_RETURN_IF_ERROR(item());
      if (Consume(')')) return Status::Ok();
      if (!Consume(' ')) return SyntaxError("Expected SP or ) in the " + std::string(what));
    }
  }

 private:
  Result<std::string> DecodeMailboxName(std::string raw, bool normalize_inbox) const;

  std::string_view in_;
  size_t pos_ = 0;
  const ParseOptions& options_;
};

// The canonical spelling of a system flag name given without its backslash ("seen" gives
// "\Seen"), including "\Recent"; nullopt for other names.
std::optional<std::string> CanonicalSystemFlag(std::string_view name);

// Command families. Each reads the arguments after the command name (starting at the SP, if the
// command takes any) up to, not including, the end of the command.
Result<Arguments> ParseSelectArguments(Parser& p);
Result<Arguments> ParseCreateArguments(Parser& p);
Result<Arguments> ParseRenameArguments(Parser& p);
Result<Arguments> ParseMailboxArgument(Parser& p);
Result<Arguments> ParseListArguments(Parser& p);
Result<Arguments> ParseLsubArguments(Parser& p);
Result<Arguments> ParseStatusArguments(Parser& p);
Result<Arguments> ParseAppendArguments(Parser& p);
Result<Arguments> ParseSearchArguments(Parser& p);
Result<Arguments> ParseSortArguments(Parser& p);
Result<Arguments> ParseThreadArguments(Parser& p);
Result<Arguments> ParseFetchArguments(Parser& p, bool uid);
Result<Arguments> ParseStoreArguments(Parser& p);

}  // namespace postern::imap::internal
