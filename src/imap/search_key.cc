// SEARCH programs (RFC 9051 §6.4.4, RFC 3501 §6.4.4) with ESEARCH return options (RFC 4731,
// RFC 5182), the extension keys of RFC 7162, RFC 5032, RFC 8514 and RFC 8474, and SORT/THREAD
// (RFC 5256, RFC 5957). Nesting is bounded by ParseOptions::max_depth, so hostile input cannot
// exhaust the stack, and the key count by max_search_keys.
#include "imap/search_key.h"

#include <algorithm>
#include <string>
#include <utility>

#include "base/strings.h"
#include "imap/parser.h"

namespace postern::imap::internal {
namespace {

constexpr size_t kMaxObjectIdLength = 255;  // RFC 8474 §4

enum class KeyArgument {
  kNone,
  kString,
  kDate,
  kSize,     // number64
  kSeconds,  // nz-number
  kFlagKeyword,
  kHeader,
  kUidSet,
  kNot,
  kOr,
  kModSeq,
  kObjectId,
};

struct KeyEntry {
  std::string_view name;
  SearchKeyKind kind;
  KeyArgument argument;
};

constexpr KeyEntry kKeys[] = {
    {"ALL", SearchKeyKind::kAll, KeyArgument::kNone},
    {"ANSWERED", SearchKeyKind::kAnswered, KeyArgument::kNone},
    {"BCC", SearchKeyKind::kBcc, KeyArgument::kString},
    {"BEFORE", SearchKeyKind::kBefore, KeyArgument::kDate},
    {"BODY", SearchKeyKind::kBody, KeyArgument::kString},
    {"CC", SearchKeyKind::kCc, KeyArgument::kString},
    {"DELETED", SearchKeyKind::kDeleted, KeyArgument::kNone},
    {"DRAFT", SearchKeyKind::kDraft, KeyArgument::kNone},
    {"FLAGGED", SearchKeyKind::kFlagged, KeyArgument::kNone},
    {"FROM", SearchKeyKind::kFrom, KeyArgument::kString},
    {"HEADER", SearchKeyKind::kHeader, KeyArgument::kHeader},
    {"KEYWORD", SearchKeyKind::kKeyword, KeyArgument::kFlagKeyword},
    {"LARGER", SearchKeyKind::kLarger, KeyArgument::kSize},
    {"NEW", SearchKeyKind::kNew, KeyArgument::kNone},
    {"NOT", SearchKeyKind::kNot, KeyArgument::kNot},
    {"OLD", SearchKeyKind::kOld, KeyArgument::kNone},
    {"ON", SearchKeyKind::kOn, KeyArgument::kDate},
    {"OR", SearchKeyKind::kOr, KeyArgument::kOr},
    {"RECENT", SearchKeyKind::kRecent, KeyArgument::kNone},
    {"SEEN", SearchKeyKind::kSeen, KeyArgument::kNone},
    {"SENTBEFORE", SearchKeyKind::kSentBefore, KeyArgument::kDate},
    {"SENTON", SearchKeyKind::kSentOn, KeyArgument::kDate},
    {"SENTSINCE", SearchKeyKind::kSentSince, KeyArgument::kDate},
    {"SINCE", SearchKeyKind::kSince, KeyArgument::kDate},
    {"SMALLER", SearchKeyKind::kSmaller, KeyArgument::kSize},
    {"SUBJECT", SearchKeyKind::kSubject, KeyArgument::kString},
    {"TEXT", SearchKeyKind::kText, KeyArgument::kString},
    {"TO", SearchKeyKind::kTo, KeyArgument::kString},
    {"UID", SearchKeyKind::kUid, KeyArgument::kUidSet},
    {"UNANSWERED", SearchKeyKind::kUnanswered, KeyArgument::kNone},
    {"UNDELETED", SearchKeyKind::kUndeleted, KeyArgument::kNone},
    {"UNDRAFT", SearchKeyKind::kUndraft, KeyArgument::kNone},
    {"UNFLAGGED", SearchKeyKind::kUnflagged, KeyArgument::kNone},
    {"UNKEYWORD", SearchKeyKind::kUnkeyword, KeyArgument::kFlagKeyword},
    {"UNSEEN", SearchKeyKind::kUnseen, KeyArgument::kNone},
    {"MODSEQ", SearchKeyKind::kModSeq, KeyArgument::kModSeq},
    {"OLDER", SearchKeyKind::kOlder, KeyArgument::kSeconds},
    {"YOUNGER", SearchKeyKind::kYounger, KeyArgument::kSeconds},
    {"SAVEDBEFORE", SearchKeyKind::kSavedBefore, KeyArgument::kDate},
    {"SAVEDON", SearchKeyKind::kSavedOn, KeyArgument::kDate},
    {"SAVEDSINCE", SearchKeyKind::kSavedSince, KeyArgument::kDate},
    {"SAVEDATESUPPORTED", SearchKeyKind::kSavedateSupported, KeyArgument::kNone},
    {"EMAILID", SearchKeyKind::kEmailId, KeyArgument::kObjectId},
    {"THREADID", SearchKeyKind::kThreadId, KeyArgument::kObjectId},
};

struct SortKeyEntry {
  std::string_view name;
  SortKey key;
};

constexpr SortKeyEntry kSortKeys[] = {
    {"ARRIVAL", SortKey::kArrival},
    {"CC", SortKey::kCc},
    {"DATE", SortKey::kDate},
    {"FROM", SortKey::kFrom},
    {"SIZE", SortKey::kSize},
    {"SUBJECT", SortKey::kSubject},
    {"TO", SortKey::kTo},
    {"DISPLAYFROM", SortKey::kDisplayFrom},
    {"DISPLAYTO", SortKey::kDisplayTo},
};

bool IsSequenceSetStart(char c) { return (c >= '0' && c <= '9') || c == '*' || c == '$'; }

bool IsObjectIdChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

class SearchParser {
 public:
  explicit SearchParser(Parser& p) : p_(p) {}

  // search-key, `depth` levels below the program.
  Result<SearchKey> Key(size_t depth);
  // search-key *(SP search-key) to the end of the command, as one kAnd key.
  Result<SearchKey> Program();

 private:
  Status Argument(KeyArgument argument, size_t depth, SearchKey* key);
  Status ModSeq(SearchKey* key);

  Parser& p_;
  size_t keys_ = 0;
};

Result<SearchKey> SearchParser::Key(size_t depth) {
  if (depth >= p_.options().max_depth) return SyntaxError("Search criteria nested too deeply");
  if (++keys_ > p_.options().max_search_keys) return SyntaxError("Too many search keys");
  SearchKey key;
  if (p_.Consume('(')) {
    key.kind = SearchKeyKind::kAnd;
    size_t count = 0;
    do {
      PT_RETURN_IF_ERROR(p_.CountItem(&count, "search key list"));
      PT_ASSIGN_OR_RETURN(SearchKey child, Key(depth + 1));
      key.children.push_back(std::move(child));
    } while (p_.Consume(' '));
    PT_RETURN_IF_ERROR(p_.Expect(')', ") to close the search key list"));
    return key;
  }
  if (p_.PeekIf(IsSequenceSetStart)) {
    key.kind = SearchKeyKind::kSequenceSet;
    PT_ASSIGN_OR_RETURN(key.set, p_.Set());
    return key;
  }
  PT_ASSIGN_OR_RETURN(std::string name, p_.Keyword("search key"));
  for (const KeyEntry& entry : kKeys) {
    if (name != entry.name) continue;
    key.kind = entry.kind;
    if (entry.argument != KeyArgument::kNone) {
      PT_RETURN_IF_ERROR(p_.Space());
      PT_RETURN_IF_ERROR(Argument(entry.argument, depth, &key));
    }
    return key;
  }
  return SyntaxError("Unknown search key " + Shown(name));
}

Status SearchParser::Argument(KeyArgument argument, size_t depth, SearchKey* key) {
  switch (argument) {
    case KeyArgument::kNone:
      return Status::Ok();
    case KeyArgument::kString: {
      PT_ASSIGN_OR_RETURN(key->value, p_.AString("search string"));
      return Status::Ok();
    }
    case KeyArgument::kDate: {
      PT_ASSIGN_OR_RETURN(key->date, p_.SearchDate());
      return Status::Ok();
    }
    case KeyArgument::kSize: {
      PT_ASSIGN_OR_RETURN(key->number, p_.Number64("size"));
      return Status::Ok();
    }
    case KeyArgument::kSeconds: {  // RFC 5032 §3: nz-number
      PT_ASSIGN_OR_RETURN(key->number, p_.NzNumber("interval in seconds"));
      return Status::Ok();
    }
    case KeyArgument::kFlagKeyword: {
      PT_ASSIGN_OR_RETURN(std::string_view keyword, p_.Atom("keyword"));
      key->value = std::string(keyword);
      return Status::Ok();
    }
    case KeyArgument::kHeader: {
      PT_ASSIGN_OR_RETURN(key->field, p_.AString("header field name"));
      if (!IsHeaderFieldName(key->field)) return SyntaxError("Invalid header field name");
      PT_RETURN_IF_ERROR(p_.Space());
      PT_ASSIGN_OR_RETURN(key->value, p_.AString("search string"));
      return Status::Ok();
    }
    case KeyArgument::kUidSet: {
      PT_ASSIGN_OR_RETURN(key->set, p_.Set());
      return Status::Ok();
    }
    case KeyArgument::kNot: {
      PT_ASSIGN_OR_RETURN(SearchKey child, Key(depth + 1));
      key->children.push_back(std::move(child));
      return Status::Ok();
    }
    case KeyArgument::kOr: {
      PT_ASSIGN_OR_RETURN(SearchKey left, Key(depth + 1));
      key->children.push_back(std::move(left));
      PT_RETURN_IF_ERROR(p_.Space());
      PT_ASSIGN_OR_RETURN(SearchKey right, Key(depth + 1));
      key->children.push_back(std::move(right));
      return Status::Ok();
    }
    case KeyArgument::kModSeq:
      return ModSeq(key);
    case KeyArgument::kObjectId: {
      // objectid = 1*255(ALPHA / DIGIT / "_" / "-") (RFC 8474 §7)
      std::string_view id = p_.TakeWhile(IsObjectIdChar);
      if (id.empty() || id.size() > kMaxObjectIdLength) return SyntaxError("Invalid object ID");
      key->value = std::string(id);
      return Status::Ok();
    }
  }
  return SyntaxError("Invalid search key");
}

// "MODSEQ" [SP entry-name SP entry-type-req] SP mod-sequence-valzer (RFC 7162 §3.1.5, §7).
Status SearchParser::ModSeq(SearchKey* key) {
  if (p_.Peek('"')) {
    PT_ASSIGN_OR_RETURN(std::string entry, p_.Quoted());
    // entry-flag-name = DQUOTE "/flags/" attr-flag DQUOTE
    constexpr std::string_view kPrefix = "/flags/";
    if (!StartsWithIgnoreCase(entry, kPrefix)) return SyntaxError("Invalid MODSEQ entry name");
    std::string_view flag = std::string_view(entry).substr(kPrefix.size());
    bool system = !flag.empty() && flag.front() == '\\';
    if (system) flag.remove_prefix(1);
    if (flag.empty() || !std::all_of(flag.begin(), flag.end(), IsAtomChar)) {
      return SyntaxError("Invalid flag in MODSEQ entry name");
    }
    if (system) {
      std::optional<std::string> canonical = CanonicalSystemFlag(flag);
      key->field = canonical ? *canonical : "\\" + std::string(flag);
    } else {
      key->field = std::string(flag);
    }
    PT_RETURN_IF_ERROR(p_.Space());
    PT_ASSIGN_OR_RETURN(std::string type, p_.Keyword("MODSEQ entry type"));
    if (type == "PRIV") {
      key->entry_type = ModSeqEntryType::kPrivate;
    } else if (type == "SHARED") {
      key->entry_type = ModSeqEntryType::kShared;
    } else if (type == "ALL") {
      key->entry_type = ModSeqEntryType::kAll;
    } else {
      return SyntaxError("MODSEQ entry type must be priv, shared or all");
    }
    PT_RETURN_IF_ERROR(p_.Space());
  }
  PT_ASSIGN_OR_RETURN(key->number, p_.Number64("mod-sequence"));
  return Status::Ok();
}

Result<SearchKey> SearchParser::Program() {
  SearchKey program;
  program.kind = SearchKeyKind::kAnd;
  do {
    PT_ASSIGN_OR_RETURN(SearchKey key, Key(0));
    program.children.push_back(std::move(key));
  } while (p_.Consume(' '));
  return program;
}

// charset = atom / quoted (RFC 9051 §9), upper-cased.
Result<std::string> Charset(Parser& p) {
  if (p.Peek('"')) {
    PT_ASSIGN_OR_RETURN(std::string quoted, p.Quoted());
    if (quoted.empty() || !IsPrintableAscii(quoted)) return SyntaxError("Invalid charset name");
    return AsciiToUpper(quoted);
  }
  return p.Keyword("charset name");
}

// "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")" SP, after
// the RETURN keyword was consumed (RFC 4731 §3.1, RFC 5182 SAVE, RFC 5267
// §3.2 for SORT): the SearchReturn bits. "RETURN ()" is RETURN (ALL).
Result<unsigned> ReturnOptions(Parser& p, std::string_view command) {
  unsigned options = 0;
  PT_RETURN_IF_ERROR(p.Space());
  PT_RETURN_IF_ERROR(
      p.ParenthesizedList(std::string(command) + " return options", true, [&]() -> Status {
        PT_ASSIGN_OR_RETURN(std::string option, p.Keyword(std::string(command) + " return option"));
        if (option == "MIN") {
          options |= kSearchReturnMin;
        } else if (option == "MAX") {
          options |= kSearchReturnMax;
        } else if (option == "ALL") {
          options |= kSearchReturnAll;
        } else if (option == "COUNT") {
          options |= kSearchReturnCount;
        } else if (option == "SAVE") {  // RFC 5182 §2.1
          options |= kSearchReturnSave;
        } else {
          return SyntaxError("Unknown " + std::string(command) + " return option " + Shown(option));
        }
        return Status::Ok();
      }));
  PT_RETURN_IF_ERROR(p.Space());
  return options == 0 ? unsigned{kSearchReturnAll} : options;
}

}  // namespace

Result<Arguments> ParseSearchArguments(Parser& p) {
  Search search;
  PT_RETURN_IF_ERROR(p.Space());
  if (p.ConsumeKeyword("RETURN")) {  // search-return-opts (RFC 4731 §3.1)
    search.extended = true;
    PT_ASSIGN_OR_RETURN(search.return_options, ReturnOptions(p, "SEARCH"));
  }
  if (p.ConsumeKeyword("CHARSET")) {
    PT_RETURN_IF_ERROR(p.Space());
    PT_ASSIGN_OR_RETURN(search.charset, Charset(p));
    PT_RETURN_IF_ERROR(p.Space());
  }
  SearchParser parser(p);
  PT_ASSIGN_OR_RETURN(search.criteria, parser.Program());
  return Arguments(std::move(search));
}

Result<Arguments> ParseSortArguments(Parser& p) {
  Sort sort;
  PT_RETURN_IF_ERROR(p.Space());
  // RFC 5267 §3.2 extended-sort: the return options come before the criteria.
  if (p.ConsumeKeyword("RETURN")) {
    sort.extended = true;
    PT_ASSIGN_OR_RETURN(sort.return_options, ReturnOptions(p, "SORT"));
  }
  // sort-criteria = "(" sort-criterion *(SP sort-criterion) ")" (RFC 5256 §5)
  PT_RETURN_IF_ERROR(p.ParenthesizedList("sort criteria", false, [&]() -> Status {
    SortCriterion criterion;
    PT_ASSIGN_OR_RETURN(std::string name, p.Keyword("sort key"));
    if (name == "REVERSE") {
      criterion.reverse = true;
      PT_RETURN_IF_ERROR(p.Space());
      PT_ASSIGN_OR_RETURN(name, p.Keyword("sort key"));
    }
    for (const SortKeyEntry& entry : kSortKeys) {
      if (name != entry.name) continue;
      criterion.key = entry.key;
      sort.criteria.push_back(criterion);
      return Status::Ok();
    }
    return SyntaxError("Unknown sort key " + Shown(name));
  }));
  // search-criteria = charset 1*(SP search-key): the charset is mandatory.
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(sort.charset, Charset(p));
  PT_RETURN_IF_ERROR(p.Space());
  SearchParser parser(p);
  PT_ASSIGN_OR_RETURN(sort.criteria_key, parser.Program());
  return Arguments(std::move(sort));
}

Result<Arguments> ParseThreadArguments(Parser& p) {
  Thread thread;
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(std::string algorithm, p.Keyword("threading algorithm"));
  if (algorithm == "ORDEREDSUBJECT") {
    thread.algorithm = ThreadAlgorithm::kOrderedSubject;
  } else if (algorithm == "REFERENCES") {
    thread.algorithm = ThreadAlgorithm::kReferences;
  } else {
    return SyntaxError("Unknown threading algorithm " + Shown(algorithm));
  }
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(thread.charset, Charset(p));
  PT_RETURN_IF_ERROR(p.Space());
  SearchParser parser(p);
  PT_ASSIGN_OR_RETURN(thread.criteria_key, parser.Program());
  return Arguments(std::move(thread));
}

}  // namespace postern::imap::internal

namespace postern::imap {

bool UsesModSeq(const SearchKey& key) {
  if (key.kind == SearchKeyKind::kModSeq) return true;
  return std::any_of(key.children.begin(), key.children.end(),
                     [](const SearchKey& child) { return UsesModSeq(child); });
}

}  // namespace postern::imap
