// IMAP command dispatch (RFC 9051 §9 command, tag, uid) and the commands of the any,
// not-authenticated and session-wide families: CAPABILITY NOOP LOGOUT STARTTLS AUTHENTICATE
// (RFC 4959 SASL-IR) LOGIN ENABLE (RFC 5161) ID (RFC 2971) COMPRESS (RFC 4978) GETQUOTA
// GETQUOTAROOT SETQUOTA (RFC 9208) COPY MOVE (RFC 6851) EXPUNGE and UID EXPUNGE.
#include "imap/command.h"

#include <string>
#include <utility>

#include "base/strings.h"
#include "imap/parser.h"

namespace postern::imap {
namespace {

using internal::Parser;
using internal::Shown;
using internal::SyntaxError;

constexpr size_t kMaxIdFields = 30;       // RFC 2971 §3.3
constexpr size_t kMaxIdFieldLength = 30;  // RFC 2971 §3.3
constexpr size_t kMaxIdValueLength = 1024;
constexpr size_t kMaxErrorLength = 200;

struct VerbEntry {
  std::string_view name;
  Verb verb;
  bool uid_allowed;
};

constexpr VerbEntry kVerbs[] = {
    {"CAPABILITY", Verb::kCapability, false},
    {"NOOP", Verb::kNoop, false},
    {"LOGOUT", Verb::kLogout, false},
    {"STARTTLS", Verb::kStartTls, false},
    {"AUTHENTICATE", Verb::kAuthenticate, false},
    {"LOGIN", Verb::kLogin, false},
    {"ENABLE", Verb::kEnable, false},
    {"SELECT", Verb::kSelect, false},
    {"EXAMINE", Verb::kExamine, false},
    {"CREATE", Verb::kCreate, false},
    {"DELETE", Verb::kDelete, false},
    {"RENAME", Verb::kRename, false},
    {"SUBSCRIBE", Verb::kSubscribe, false},
    {"UNSUBSCRIBE", Verb::kUnsubscribe, false},
    {"LIST", Verb::kList, false},
    {"LSUB", Verb::kLsub, false},
    {"NAMESPACE", Verb::kNamespace, false},
    {"STATUS", Verb::kStatus, false},
    {"APPEND", Verb::kAppend, false},
    {"IDLE", Verb::kIdle, false},
    {"CHECK", Verb::kCheck, false},
    {"CLOSE", Verb::kClose, false},
    {"UNSELECT", Verb::kUnselect, false},
    {"EXPUNGE", Verb::kExpunge, true},
    {"SEARCH", Verb::kSearch, true},
    {"FETCH", Verb::kFetch, true},
    {"STORE", Verb::kStore, true},
    {"COPY", Verb::kCopy, true},
    {"MOVE", Verb::kMove, true},
    {"SORT", Verb::kSort, true},
    {"THREAD", Verb::kThread, true},
    {"ID", Verb::kId, false},
    {"GETQUOTA", Verb::kGetQuota, false},
    {"GETQUOTAROOT", Verb::kGetQuotaRoot, false},
    {"SETQUOTA", Verb::kSetQuota, false},
    {"COMPRESS", Verb::kCompress, false},
};

const VerbEntry* FindVerb(std::string_view name) {
  for (const VerbEntry& entry : kVerbs) {
    if (EqualsIgnoreCase(name, entry.name)) return &entry;
  }
  return nullptr;
}

// tag = 1*<any ASTRING-CHAR except "+"> (RFC 9051 §9).
bool IsTagChar(char c) { return (internal::IsAtomChar(c) && c != '+') || c == ']'; }

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// base64 = *(4base64-char) [base64-terminal] (RFC 9051 §9), non-empty.
bool IsBase64(std::string_view s) {
  if (s.empty() || s.size() % 4 != 0) return false;
  size_t padding = 0;
  while (padding < 2 && padding < s.size() && s[s.size() - 1 - padding] == '=') ++padding;
  for (size_t i = 0; i < s.size() - padding; ++i) {
    if (!IsBase64Char(s[i])) return false;
  }
  return true;
}

Result<Arguments> ParseAuthenticate(Parser& p) {
  PT_RETURN_IF_ERROR(p.Space());
  Authenticate auth;
  PT_ASSIGN_OR_RETURN(auth.mechanism, p.Keyword("SASL mechanism name"));
  if (p.Consume(' ')) {
    // initial-resp = base64 / "=" (RFC 4959 §7); "=" is an empty response.
    PT_ASSIGN_OR_RETURN(std::string_view response, p.Atom("initial response"));
    if (response == "=") {
      auth.initial_response = "";
    } else if (IsBase64(response)) {
      auth.initial_response = std::string(response);
    } else {
      return SyntaxError("Initial response is not base64");
    }
  }
  return Arguments(std::move(auth));
}

Result<Arguments> ParseLogin(Parser& p) {
  Login login;
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(login.user, p.AString("user name"));
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(login.password, p.AString("password"));
  return Arguments(std::move(login));
}

Result<Arguments> ParseEnable(Parser& p) {
  Enable enable;
  size_t count = 0;
  // enable = "ENABLE" 1*(SP capability) (RFC 5161 §4).
  PT_RETURN_IF_ERROR(p.Space());
  do {
    PT_RETURN_IF_ERROR(p.CountItem(&count, "capability list"));
    PT_ASSIGN_OR_RETURN(std::string capability, p.Keyword("capability name"));
    enable.capabilities.push_back(std::move(capability));
  } while (p.Consume(' '));
  return Arguments(std::move(enable));
}

Result<Arguments> ParseId(Parser& p) {
  Id id;
  PT_RETURN_IF_ERROR(p.Space());
  if (p.ConsumeKeyword("NIL")) return Arguments(std::move(id));
  PT_RETURN_IF_ERROR(p.ParenthesizedList("ID parameter list", true, [&]() -> Status {
    if (id.fields.size() >= kMaxIdFields) return SyntaxError("More than 30 ID fields");
    Id::Field field;
    PT_ASSIGN_OR_RETURN(field.name, p.String("ID field name"));
    if (field.name.size() > kMaxIdFieldLength) return SyntaxError("ID field name too long");
    PT_RETURN_IF_ERROR(p.Space());
    PT_ASSIGN_OR_RETURN(field.value, p.NString("ID field value"));
    if (field.value && field.value->size() > kMaxIdValueLength) {
      return SyntaxError("ID field value too long");
    }
    id.fields.push_back(std::move(field));
    return Status::Ok();
  }));
  return Arguments(std::move(id));
}

Result<Arguments> ParseGetQuota(Parser& p) {
  GetQuota quota;
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(quota.root, p.AString("quota root"));
  return Arguments(std::move(quota));
}

Result<Arguments> ParseSetQuota(Parser& p) {
  SetQuota quota;
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(quota.root, p.AString("quota root"));
  PT_RETURN_IF_ERROR(p.Space());
  PT_RETURN_IF_ERROR(p.ParenthesizedList("quota resource list", true, [&]() -> Status {
    SetQuota::Limit limit;
    PT_ASSIGN_OR_RETURN(limit.resource, p.Keyword("resource name"));
    for (const SetQuota::Limit& other : quota.limits) {
      if (other.resource == limit.resource) return SyntaxError("Resource named twice");
    }
    PT_RETURN_IF_ERROR(p.Space());
    PT_ASSIGN_OR_RETURN(limit.limit, p.Number64("resource limit"));
    quota.limits.push_back(std::move(limit));
    return Status::Ok();
  }));
  return Arguments(std::move(quota));
}

Result<Arguments> ParseCompress(Parser& p) {
  Compress compress;
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(compress.algorithm, p.Keyword("compression algorithm"));
  return Arguments(std::move(compress));
}

Result<Arguments> ParseCopy(Parser& p) {
  Copy copy;
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(copy.set, p.Set());
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(copy.mailbox, p.Mailbox());
  return Arguments(std::move(copy));
}

Result<Arguments> ParseExpunge(Parser& p, bool uid) {
  Expunge expunge;
  if (uid) {  // uid-expunge = "EXPUNGE" SP sequence-set (RFC 4315 §2.1)
    PT_RETURN_IF_ERROR(p.Space());
    PT_ASSIGN_OR_RETURN(expunge.uids, p.Set());
  }
  return Arguments(std::move(expunge));
}

Result<Arguments> ParseArguments(Parser& p, Verb verb, bool uid) {
  switch (verb) {
    case Verb::kCapability:
    case Verb::kNoop:
    case Verb::kLogout:
    case Verb::kStartTls:
    case Verb::kNamespace:
    case Verb::kIdle:
    case Verb::kCheck:
    case Verb::kClose:
    case Verb::kUnselect:
      return Arguments();
    case Verb::kAuthenticate:
      return ParseAuthenticate(p);
    case Verb::kLogin:
      return ParseLogin(p);
    case Verb::kEnable:
      return ParseEnable(p);
    case Verb::kSelect:
    case Verb::kExamine:
      return internal::ParseSelectArguments(p);
    case Verb::kCreate:
      return internal::ParseCreateArguments(p);
    case Verb::kRename:
      return internal::ParseRenameArguments(p);
    case Verb::kDelete:
    case Verb::kSubscribe:
    case Verb::kUnsubscribe:
    case Verb::kGetQuotaRoot:
      return internal::ParseMailboxArgument(p);
    case Verb::kList:
      return internal::ParseListArguments(p);
    case Verb::kLsub:
      return internal::ParseLsubArguments(p);
    case Verb::kStatus:
      return internal::ParseStatusArguments(p);
    case Verb::kAppend:
      return internal::ParseAppendArguments(p);
    case Verb::kExpunge:
      return ParseExpunge(p, uid);
    case Verb::kSearch:
      return internal::ParseSearchArguments(p);
    case Verb::kFetch:
      return internal::ParseFetchArguments(p, uid);
    case Verb::kStore:
      return internal::ParseStoreArguments(p);
    case Verb::kCopy:
    case Verb::kMove:
      return ParseCopy(p);
    case Verb::kSort:
      return internal::ParseSortArguments(p);
    case Verb::kThread:
      return internal::ParseThreadArguments(p);
    case Verb::kId:
      return ParseId(p);
    case Verb::kGetQuota:
      return ParseGetQuota(p);
    case Verb::kSetQuota:
      return ParseSetQuota(p);
    case Verb::kCompress:
      return ParseCompress(p);
    case Verb::kUnknown:
      break;
  }
  return SyntaxError("Unknown command");
}

// Error texts go to the client: printable ASCII, one line, bounded.
std::string CleanMessage(std::string_view message) {
  std::string out = SanitizeForLog(message, kMaxErrorLength);
  return out.empty() ? "Syntax error" : out;
}

ParsedCommand Failure(std::string tag, Verb verb, bool uid, std::string_view message) {
  ParsedCommand parsed;
  parsed.error = ParseError{std::move(tag), verb, uid, CleanMessage(message)};
  return parsed;
}

}  // namespace

std::string_view VerbName(Verb verb) {
  for (const VerbEntry& entry : kVerbs) {
    if (entry.verb == verb) return entry.name;
  }
  return "UNKNOWN";
}

std::string_view StatusItemName(StatusItem item) {
  switch (item) {
    case StatusItem::kMessages:
      return "MESSAGES";
    case StatusItem::kUidNext:
      return "UIDNEXT";
    case StatusItem::kUidValidity:
      return "UIDVALIDITY";
    case StatusItem::kUnseen:
      return "UNSEEN";
    case StatusItem::kDeleted:
      return "DELETED";
    case StatusItem::kSize:
      return "SIZE";
    case StatusItem::kRecent:
      return "RECENT";
    case StatusItem::kHighestModSeq:
      return "HIGHESTMODSEQ";
    case StatusItem::kAppendLimit:
      return "APPENDLIMIT";
    case StatusItem::kMailboxId:
      return "MAILBOXID";
    case StatusItem::kDeletedStorage:
      return "DELETED-STORAGE";
  }
  return "UNKNOWN";
}

std::string ParseError::Response() const {
  return (tag.empty() ? std::string("*") : tag) + " BAD " + message + "\r\n";
}

ParsedCommand ParseCommand(std::string_view command, const ParseOptions& options) {
  Parser p(command, options);
  if (p.AtEnd()) return Failure("", Verb::kUnknown, false, "Empty command line");
  std::string_view tag = p.TakeWhile(IsTagChar);
  if (tag.empty() || !(p.Peek(' ') || p.AtEnd())) {
    return Failure("", Verb::kUnknown, false, "Invalid tag");
  }
  std::string tag_text(tag);
  if (!p.Consume(' ')) return Failure(tag_text, Verb::kUnknown, false, "Missing command");
  std::string_view name = p.TakeWhile(internal::IsAtomChar);
  bool uid = false;
  if (EqualsIgnoreCase(name, "UID")) {
    uid = true;
    if (!p.Consume(' ')) return Failure(tag_text, Verb::kUnknown, true, "UID needs a command");
    name = p.TakeWhile(internal::IsAtomChar);
  }
  const VerbEntry* entry = FindVerb(name);
  // The name must end at SP or the end: "FETCH(" is not FETCH.
  if (entry == nullptr || !(p.Peek(' ') || p.AtEnd())) {
    return Failure(tag_text, Verb::kUnknown, uid, "Unknown command");
  }
  if (uid && !entry->uid_allowed) {
    return Failure(tag_text, entry->verb, true,
                   "UID " + std::string(entry->name) + " is not a command");
  }
  Result<Arguments> arguments = ParseArguments(p, entry->verb, uid);
  Status status = arguments.ok() ? p.End() : arguments.status();
  if (!status.ok()) {
    std::string prefix = (uid ? "UID " : "") + std::string(entry->name) + ": ";
    return Failure(tag_text, entry->verb, uid, prefix + status.message());
  }
  ParsedCommand parsed;
  parsed.command = Command{std::move(tag_text), entry->verb, uid, std::move(arguments).value()};
  return parsed;
}

}  // namespace postern::imap
