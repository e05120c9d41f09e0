// SEARCH, SORT and THREAD criteria as parsed by ParseCommand: the search keys of RFC 3501 and
// RFC 9051 §6.4.4 with MODSEQ (RFC 7162 §3.1.5), OLDER/YOUNGER (RFC 5032), SAVEDBEFORE/SAVEDON/
// SAVEDSINCE/SAVEDATESUPPORTED (RFC 8514), EMAILID/THREADID (RFC 8474); ESEARCH return options
// (RFC 4731, RFC 5182 SAVE, RFC 5267 for SORT); SORT criteria (RFC 5256, RFC 5957 DISPLAYFROM/
// DISPLAYTO).
// Values only; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "imap/date_time.h"
#include "imap/sequence_set.h"

namespace postern::imap {

enum class SearchKeyKind {
  kAnd,          // "(" key *(SP key) ")" and the top level of a program: every child matches
  kOr,           // OR key key: two children
  kNot,          // NOT key: one child
  kSequenceSet,  // a bare sequence set: `set`
  kUid,          // UID set: `set`
  kAll,
  kAnswered,
  kDeleted,
  kDraft,
  kFlagged,
  kNew,     // RFC 3501 only: RECENT UNSEEN
  kOld,     // RFC 3501 only: NOT RECENT
  kRecent,  // RFC 3501 only
  kSeen,
  kUnanswered,
  kUndeleted,
  kUndraft,
  kUnflagged,
  kUnseen,
  kKeyword,    // `value` is the keyword (an atom, as sent)
  kUnkeyword,  // `value` is the keyword
  kBcc,        // address and text keys: `value` is the string, undecoded (see Search::charset)
  kBody,
  kCc,
  kFrom,
  kSubject,
  kText,
  kTo,
  kHeader,  // `field` is the header field name, `value` the string ("" matches presence)
  kBefore,  // internal date keys: `date`
  kOn,
  kSince,
  kSentBefore,  // Date: header keys: `date`
  kSentOn,
  kSentSince,
  kLarger,   // `number`: RFC822.SIZE in octets
  kSmaller,  // `number`
  kModSeq,   // `number` is the mod-sequence (0 allowed); `field`/`entry_type` if an entry was named
  kOlder,    // `number` seconds (RFC 5032)
  kYounger,  // `number` seconds
  kSavedBefore,  // save date keys (RFC 8514): `date`
  kSavedOn,
  kSavedSince,
  kSavedateSupported,
  kEmailId,   // `value` is the objectid (RFC 8474)
  kThreadId,  // `value` is the objectid
};

// entry-type-req of a MODSEQ search key (RFC 7162 §3.1.5).
enum class ModSeqEntryType { kAll, kPrivate, kShared };

struct SearchKey {
  SearchKeyKind kind = SearchKeyKind::kAll;
  // kHeader: the field name. kModSeq: the flag of the entry name ("/flags/\\seen" gives "\Seen",
  // system flags canonically spelled); empty when no entry was given.
  std::string field;
  std::string value;  // see SearchKeyKind
  Date date;          // date keys
  uint64_t number = 0;
  SequenceSet set;  // kSequenceSet, kUid
  ModSeqEntryType entry_type = ModSeqEntryType::kAll;
  std::vector<SearchKey> children;  // kAnd (1 or more), kOr (2), kNot (1)
};

// ESEARCH return options (RFC 4731 §3.1, RFC 5182 §2.1) as bits.
enum SearchReturn : unsigned {
  kSearchReturnMin = 1,
  kSearchReturnMax = 2,
  kSearchReturnAll = 4,
  kSearchReturnCount = 8,
  kSearchReturnSave = 16,
};

// SEARCH and UID SEARCH.
struct Search {
  // CHARSET as sent (atom or quoted), upper-cased; nullopt when absent (US-ASCII, or UTF-8 under
  // IMAP4rev2). The session answers NO [BADCHARSET] to a charset it does not support, and BAD to
  // any CHARSET once UTF8=ACCEPT is enabled (RFC 6855 §3).
  std::optional<std::string> charset;
  // RETURN (...) was given: reply with ESEARCH (RFC 4731). "RETURN ()" means RETURN (ALL).
  bool extended = false;
  unsigned return_options = 0;  // SearchReturn bits; 0 unless `extended`
  SearchKey criteria;           // kind kAnd: the top-level keys
};

// True if `key` holds a MODSEQ key at any depth (RFC 7162 §3.1.5: the result then carries the
// highest mod-sequence of the messages found).
bool UsesModSeq(const SearchKey& key);

enum class SortKey {
  kArrival,
  kCc,
  kDate,
  kFrom,
  kSize,
  kSubject,
  kTo,
  kDisplayFrom,  // RFC 5957
  kDisplayTo,    // RFC 5957
};

struct SortCriterion {
  SortKey key = SortKey::kArrival;
  bool reverse = false;
};

// SORT and UID SORT (RFC 5256 §3), with ESORT return options (RFC 5267 §3.2).
struct Sort {
  // RETURN (...) was given: reply with ESEARCH, MIN/MAX/ALL taken in sort
  // order. "RETURN ()" means RETURN (ALL).
  bool extended = false;
  unsigned return_options = 0;          // SearchReturn bits; 0 unless `extended`
  std::vector<SortCriterion> criteria;  // at least one
  std::string charset;                  // mandatory in SORT; upper-cased
  SearchKey criteria_key;               // kind kAnd
};

enum class ThreadAlgorithm { kOrderedSubject, kReferences };

// THREAD and UID THREAD (RFC 5256 §3).
struct Thread {
  ThreadAlgorithm algorithm = ThreadAlgorithm::kReferences;
  std::string charset;     // mandatory; upper-cased
  SearchKey criteria_key;  // kind kAnd
};

}  // namespace postern::imap
