// What SORT (RFC 5256 §3, RFC 5957 DISPLAYFROM/DISPLAYTO) and THREAD (RFC
// 5256 §3) compare, taken from what the store keeps about each message
// without reading it: the cached ENVELOPE (message/imap_structure.h), the
// internal date and the size. Only THREAD REFERENCES needs more (the
// References field). Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imap/search_key.h"
#include "message/imap_structure.h"
#include "message/thread.h"

namespace postern::imapserver {

// The sort values of one message. Strings are collation keys: mapped by
// i;unicode-casemap (message::UnicodeCasemap, RFC 5256 §7), so they compare
// by octets; a missing field is the empty string, which sorts first.
struct SortValues {
  uint32_t seq = 0;     // the implicit last criterion (RFC 5256 §3)
  int64_t arrival = 0;  // ARRIVAL: internal date
  int64_t sent = 0;     // DATE: RFC 5256 §2.2
  uint64_t size = 0;    // SIZE
  std::string subject;  // SUBJECT: base subject (§2.1) of the decoded Subject
  std::string from;     // FROM, TO, CC: addr-mailbox of the first address
  std::string to;
  std::string cc;
  std::string display_from;  // DISPLAYFROM, DISPLAYTO: RFC 5957 §3
  std::string display_to;
};

// RFC 5256 §2.2: the Date of `envelope` in UTC; `internal_date` when there is
// no envelope or its Date cannot be parsed.
int64_t SentDate(const message::Envelope* envelope, int64_t internal_date);

// The values `criteria` need (the others stay empty). `envelope` is null for
// a message whose structure cannot be read: its strings are then empty.
SortValues SortValuesOf(const message::Envelope* envelope, uint32_t seq, int64_t internal_date,
                        uint64_t size, const std::vector<imap::SortCriterion>& criteria);

// Orders by `criteria` (each REVERSE reversing only itself), then by
// sequence number.
void SortMessages(const std::vector<imap::SortCriterion>& criteria,
                  std::vector<SortValues>* messages);

// The THREAD input of one message: `references` is the raw value of its
// References field ("" when it has none); In-Reply-To comes from the
// envelope (RFC 5256 §3 REFERENCES).
message::ThreadMessage ThreadInputOf(const message::Envelope* envelope, std::string_view references,
                                     uint32_t number, int64_t internal_date);

}  // namespace postern::imapserver
