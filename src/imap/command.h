// The IMAP command grammar (RFC 9051 §6 and §9, RFC 3501) with the extensions a modern server
// offers: SASL-IR, ENABLE, CONDSTORE/QRESYNC, SPECIAL-USE, LIST-EXTENDED, LIST-STATUS, ESEARCH,
// SEARCHRES, WITHIN, SAVEDATE, OBJECTID, BINARY, LITERAL+, MULTIAPPEND, UTF8=ACCEPT, MOVE, UIDPLUS,
// SORT/THREAD, ID, QUOTA, COMPRESS, PREVIEW, UNSELECT, IDLE. Sans-I/O: the session frames a
// command with TrailingLiteral() (imap/literal.h) and hands the bytes to ParseCommand(), which is
// pure, bounded in stack depth and memory by ParseOptions, and fuzzed (fuzz_command.cc).
// A failure carries the tag (when readable) and a printable one-line text for a BAD reply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "imap/date_time.h"
#include "imap/fetch_item.h"
#include "imap/search_key.h"
#include "imap/sequence_set.h"

namespace postern::imap {

enum class Verb {
  kCapability,
  kNoop,
  kLogout,
  kStartTls,
  kAuthenticate,
  kLogin,
  kEnable,
  kSelect,
  kExamine,
  kCreate,
  kDelete,
  kRename,
  kSubscribe,
  kUnsubscribe,
  kList,
  kLsub,
  kNamespace,
  kStatus,
  kAppend,
  kIdle,
  kCheck,
  kClose,
  kUnselect,
  kExpunge,  // and UID EXPUNGE
  kSearch,   // and UID SEARCH, likewise below
  kFetch,
  kStore,
  kCopy,
  kMove,
  kSort,
  kThread,
  kId,
  kGetQuota,
  kGetQuotaRoot,
  kSetQuota,
  kCompress,
  kUnknown,
};

// The command name in upper case ("UID" not included): "FETCH".
std::string_view VerbName(Verb verb);

// STATUS data items (RFC 9051 §6.3.11, RFC 3501 RECENT, RFC 7162 HIGHESTMODSEQ, RFC 7889
// APPENDLIMIT, RFC 8474 MAILBOXID, RFC 9208 DELETED-STORAGE).
enum class StatusItem {
  kMessages,
  kUidNext,
  kUidValidity,
  kUnseen,
  kDeleted,
  kSize,
  kRecent,
  kHighestModSeq,
  kAppendLimit,
  kMailboxId,
  kDeletedStorage,
};

// "UIDNEXT", for STATUS responses.
std::string_view StatusItemName(StatusItem item);

// Mailbox names below are UTF-8: decoded from modified UTF-7 unless ParseOptions::utf8, and
// "INBOX" in any case spelled "INBOX" (RFC 9051 §5.1).

// AUTHENTICATE mechanism [initial-response] (RFC 9051 §6.2.2, RFC 4959).
struct Authenticate {
  std::string mechanism;  // upper-cased
  // The base64 text as sent, validated; "=" (an empty response) is "". nullopt if absent.
  std::optional<std::string> initial_response;
};

struct Login {
  std::string user;
  std::string password;
};

// ENABLE (RFC 5161): capability names upper-cased, in order.
struct Enable {
  std::vector<std::string> capabilities;
};

// QRESYNC (uidvalidity modseq [known-uids [seq-match-data]]) (RFC 7162 §3.2.5). "*" and "$" are
// refused in every set.
struct Qresync {
  uint32_t uidvalidity = 1;
  uint64_t modseq = 0;
  std::optional<SequenceSet> known_uids;
  std::optional<SequenceSet> known_sequence_numbers;  // seq-match-data, both or neither
  std::optional<SequenceSet> known_sequence_uids;
};

// SELECT and EXAMINE.
struct Select {
  std::string mailbox;
  bool condstore = false;  // (CONDSTORE), RFC 7162 §3.1.8
  std::optional<Qresync> qresync;
};

// DELETE, SUBSCRIBE, UNSUBSCRIBE, GETQUOTAROOT.
struct MailboxArgument {
  std::string mailbox;
};

// CREATE mailbox [(USE (\Drafts ...))] (RFC 6154 §3).
struct Create {
  std::string mailbox;
  // Known attributes canonically spelled ("\Drafts"); other "\atom"s as sent, for a NO [USEATTR].
  std::vector<std::string> special_use;
};

struct Rename {
  std::string from;
  std::string to;
};

// LIST, basic and extended (RFC 9051 §6.3.9, RFC 5258, RFC 5819 STATUS, RFC 6154 SPECIAL-USE).
struct List {
  std::string reference;              // decoded like a mailbox name, but never normalised
  std::vector<std::string> patterns;  // one or more; "" asks for the hierarchy delimiter
  bool extended = false;              // selection options, several patterns or RETURN were given
  bool select_subscribed = false;
  bool select_remote = false;
  bool select_recursive_match = false;  // only with a base option (SUBSCRIBED)
  bool select_special_use = false;
  bool return_subscribed = false;
  bool return_children = false;
  bool return_special_use = false;
  std::optional<std::vector<StatusItem>> return_status;  // RETURN (STATUS (...))
};

struct Lsub {
  std::string reference;
  std::string pattern;
};

// STATUS mailbox (items). (Not "Status", which is postern::Status.)
struct StatusQuery {
  std::string mailbox;
  std::vector<StatusItem> items;  // at least one, without duplicates, in the order sent
};

// One message of APPEND (MULTIAPPEND, RFC 3502, gives several).
struct AppendMessage {
  std::vector<std::string> flags;  // as for Store::flags
  std::optional<DateTime> internal_date;
  // The message octets: a view into the `command` buffer given to ParseCommand, valid only while
  // that buffer lives and is unchanged. Not copied, because messages can be large.
  std::string_view content;
  bool literal8 = false;  // sent as "~{N}" (RFC 3516 §4.4): may hold NUL and binary parts
  bool utf8 = false;      // sent as UTF8 (~{N}) (RFC 6855 §4)
};

struct Append {
  std::string mailbox;
  std::vector<AppendMessage> messages;  // at least one
};

// EXPUNGE, and UID EXPUNGE set (RFC 9051 §6.4.9).
struct Expunge {
  std::optional<SequenceSet> uids;  // only for UID EXPUNGE
};

// COPY and MOVE (RFC 6851), with or without UID.
struct Copy {
  SequenceSet set;
  std::string mailbox;
};

// ID (RFC 2971 §3.3): NIL or up to 30 field/value pairs.
struct Id {
  struct Field {
    std::string name;                  // at most 30 octets
    std::optional<std::string> value;  // NIL is nullopt; at most 1024 octets
  };
  std::vector<Field> fields;  // empty for NIL
};

// GETQUOTA root (RFC 9208 §4.1.1).
struct GetQuota {
  std::string root;
};

// SETQUOTA root (resource limit ...) (RFC 9208 §4.1.3).
struct SetQuota {
  struct Limit {
    std::string resource;  // upper-cased: STORAGE, MESSAGE, MAILBOX, ANNOTATION-STORAGE, ...
    uint64_t limit = 0;
  };
  std::string root;
  std::vector<Limit> limits;  // may be empty: remove all limits
};

// COMPRESS algorithm (RFC 4978 §3): upper-cased; the session accepts only DEFLATE.
struct Compress {
  std::string algorithm;
};

// Which alternative each verb carries:
//   monostate: CAPABILITY NOOP LOGOUT STARTTLS NAMESPACE IDLE CHECK CLOSE UNSELECT
//   Authenticate, Login, Enable; Select (SELECT, EXAMINE); Create; Rename; List; Lsub;
//   MailboxArgument (DELETE SUBSCRIBE UNSUBSCRIBE GETQUOTAROOT); StatusQuery; Append;
//   Expunge; Search; Fetch; Store; Copy (COPY, MOVE); Sort; Thread; Id; GetQuota; SetQuota;
//   Compress.
using Arguments = std::variant<std::monostate, Authenticate, Login, Enable, Select, MailboxArgument,
                               Create, Rename, List, Lsub, StatusQuery, Append, Expunge, Search,
                               Fetch, Store, Copy, Sort, Thread, Id, GetQuota, SetQuota, Compress>;

struct Command {
  std::string tag;
  Verb verb = Verb::kUnknown;
  bool uid = false;  // "UID FETCH" etc.: numbers are UIDs
  Arguments arguments;

  // The arguments of the type the verb carries (see Arguments); throws std::bad_variant_access
  // for a mismatch, which is a bug in the caller.
  template <typename T>
  const T& Get() const {
    return std::get<T>(arguments);
  }
};

struct ParseOptions {
  // UTF8=ACCEPT (RFC 6855) or IMAP4rev2 (RFC 9051) is enabled: mailbox names are UTF-8 and are
  // not decoded from modified UTF-7. (Quoted strings accept well-formed UTF-8 either way.)
  bool utf8 = false;
  // Nesting limit for SEARCH, SORT and THREAD criteria: parentheses, NOT and OR. (No other
  // argument nests.)
  size_t max_depth = 64;
  // Items in one list: flags, FETCH items, header fields, STATUS items, APPEND messages, etc.
  size_t max_list_items = 1000;
  // Search keys in one SEARCH, SORT or THREAD program, all levels together.
  size_t max_search_keys = 10'000;
  size_t max_sequence_ranges = kDefaultMaxSequenceRanges;
};

struct ParseError {
  std::string tag;  // empty when no tag could be read: reply "* BAD ..."
  Verb verb = Verb::kUnknown;
  bool uid = false;
  // Printable US-ASCII on one line. Names quoted from the input are upper-cased, cut at 40
  // characters, with control and 8-bit octets shown as "?".
  std::string message;

  // "<tag> BAD <message>\r\n", or "* BAD <message>\r\n" without a tag.
  std::string Response() const;
};

struct ParsedCommand {
  std::optional<Command> command;  // exactly one of the two is set
  std::optional<ParseError> error;

  bool ok() const { return command.has_value(); }
};

// Parses one whole command as received: the first line and, for each literal, the "{N}\r\n"
// marker line ending, N octets and the rest of the following line, with or without the final
// CRLF. Bare LF is accepted wherever CRLF is. Literal sizes are checked against the bytes
// present ("literals with sizes that lie" fail cleanly). AUTHENTICATE continuation lines and
// IDLE's DONE are not part of the command. The result may view `command`
// (AppendMessage::content): keep the buffer alive and unchanged while the result is in use.
ParsedCommand ParseCommand(std::string_view command, const ParseOptions& options = {});

}  // namespace postern::imap
