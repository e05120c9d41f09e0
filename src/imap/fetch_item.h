// FETCH data items and STORE arguments as parsed by ParseCommand (RFC 9051 §6.4.5 and §6.4.6,
// RFC 3501 RFC822.* items, RFC 3516 BINARY, RFC 7162 MODSEQ/CHANGEDSINCE/VANISHED/UNCHANGEDSINCE,
// RFC 8474 EMAILID/THREADID, RFC 8514 SAVEDATE, RFC 8970 PREVIEW). Values only; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "imap/sequence_set.h"

namespace postern::imap {

enum class FetchKind {
  kEnvelope,
  kFlags,
  kInternalDate,
  kRfc822,        // BODY[] that sets \Seen, answered as "RFC822"
  kRfc822Header,  // BODY.PEEK[HEADER], answered as "RFC822.HEADER"
  kRfc822Size,
  kRfc822Text,  // BODY[TEXT], answered as "RFC822.TEXT"
  kBody,        // BODY without a section: the non-extensible body structure
  kBodyStructure,
  kUid,
  kBodySection,  // BODY[section]<partial> and BODY.PEEK[...] (`peek`)
  kBinary,       // BINARY[part]<partial> and BINARY.PEEK[...] (RFC 3516)
  kBinarySize,   // BINARY.SIZE[part]
  kModSeq,       // RFC 7162
  kEmailId,      // RFC 8474
  kThreadId,
  kSaveDate,  // RFC 8514
  kPreview,   // RFC 8970; `lazy` for PREVIEW (LAZY)
};

enum class SectionText {
  kNone,  // the whole part: BODY[] or BODY[1.2]
  kHeader,
  kHeaderFields,     // `fields`
  kHeaderFieldsNot,  // `fields`
  kText,
  kMime,  // only after a part number
};

// section-spec (RFC 9051 §9). Binary sections have only `part`.
struct Section {
  std::vector<uint32_t> part;  // "1.2.3" is {1, 2, 3}; empty for the top level
  SectionText text = SectionText::kNone;
  std::vector<std::string> fields;  // header field names as sent, for HEADER.FIELDS[.NOT]

  bool operator==(const Section&) const = default;

  // The section as it goes between the brackets of the response: "1.2.HEADER.FIELDS (DATE FROM)".
  std::string ToString() const;
};

// <offset.length> (RFC 9051 §6.4.5): octets from the 0-based offset; length is at least 1.
struct Partial {
  uint64_t offset = 0;
  uint64_t length = 1;

  bool operator==(const Partial&) const = default;
};

struct FetchItem {
  FetchKind kind = FetchKind::kUid;
  bool peek = false;  // BODY.PEEK / BINARY.PEEK: does not set \Seen
  Section section;    // kBodySection, kBinary, kBinarySize
  std::optional<Partial> partial;
  bool lazy = false;  // kPreview

  bool operator==(const FetchItem&) const = default;

  // The item's name in the FETCH response: "BODY[1.TEXT]<0>" (origin only, RFC 9051 §7.5.2),
  // "BINARY.SIZE[2]", "RFC822.HEADER", "PREVIEW".
  std::string ResponseName() const;
};

// FETCH and UID FETCH.
struct Fetch {
  SequenceSet set;
  std::vector<FetchItem> items;  // macros ALL, FAST and FULL are expanded (RFC 9051 §6.4.5)
  std::optional<uint64_t> changed_since;  // CHANGEDSINCE (RFC 7162 §3.1.4.1)
  bool vanished = false;                  // VANISHED (RFC 7162 §3.2.6): UID FETCH only
};

enum class StoreMode { kReplace, kAdd, kRemove };  // FLAGS, +FLAGS, -FLAGS

// STORE and UID STORE.
struct Store {
  SequenceSet set;
  StoreMode mode = StoreMode::kReplace;
  bool silent = false;  // .SILENT
  // System flags canonically spelled ("\Seen"), keywords as sent; never \Recent or \*.
  std::vector<std::string> flags;
  std::optional<uint64_t> unchanged_since;  // UNCHANGEDSINCE (RFC 7162 §3.1.3)
};

}  // namespace postern::imap
