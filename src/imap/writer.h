// Building blocks for IMAP responses (RFC 9051 §4 data formats, §9 syntax): strings as atom,
// quoted or literal; NIL; mailbox names in modified UTF-7 or UTF-8; sequence sets compressed into
// ranges; date-times; flag lists. Append* functions add to `out`; Format* functions return a new
// string. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "imap/modified_utf7.h"  // EncodeModifiedUtf7 / DecodeModifiedUtf7 belong to this toolkit

namespace postern::imap {

struct StringOptions {
  // The client enabled UTF8=ACCEPT or IMAP4rev2: well-formed UTF-8 may be quoted (RFC 6855 §3,
  // RFC 9051 §9 QUOTED-CHAR). Otherwise 8-bit text goes as a literal.
  bool utf8 = false;
  // Longer strings go as literals: some clients limit quoted strings, and literals need no
  // scanning.
  size_t max_quoted_length = 1024;
  // NUL octets make a literal8 "~{N}" (RFC 3516 §4.3: only in FETCH BINARY responses). When
  // false, NUL octets still go in a plain literal, which a strict client may refuse.
  bool allow_literal8 = false;
};

// True if `s` can be sent as a quoted string under `options`: no CR, LF, NUL, '"' or '\', no
// 8-bit octets unless options.utf8 and well-formed UTF-8, and not too long.
bool CanQuote(std::string_view s, const StringOptions& options = {});

// string: quoted if CanQuote, else a literal "{N}\r\n" + octets (literal8 for NUL when allowed).
void AppendString(std::string* out, std::string_view s, const StringOptions& options = {});
// astring: an atom when s is 1*ASTRING-CHAR, else as AppendString.
void AppendAString(std::string* out, std::string_view s, const StringOptions& options = {});
// nstring: NIL for nullopt, else as AppendString.
void AppendNString(std::string* out, std::optional<std::string_view> s,
                   const StringOptions& options = {});
// A literal, "{N}\r\n" + octets, or "~{N}\r\n" + octets when `literal8`.
void AppendLiteral(std::string* out, std::string_view s, bool literal8 = false);
// A mailbox name given in UTF-8: encoded as modified UTF-7 unless options.utf8, then as an
// astring ("INBOX" stays an atom).
void AppendMailbox(std::string* out, std::string_view utf8_name, const StringOptions& options = {});

// The shortest sequence set for `numbers`: runs of consecutive ascending numbers become ranges,
// so sorted UIDs {1,2,3,4,5,7,9,10,11,12} give "1:5,7,9:12". Unsorted input is written in the
// given order (still valid, less compact). Zeros are skipped; empty input gives "".
std::string FormatSequenceSet(std::span<const uint32_t> numbers);

// An ESEARCH response with its CRLF (RFC 4731 §3.1; RFC 5267 §3.1 for SORT):
// '* ESEARCH (TAG "a") UID MIN 2 MAX 9 ALL 2:5,9 COUNT 5 MODSEQ 17'. `numbers` are in result
// order, ascending for SEARCH and in sort order for SORT: MIN is the first, MAX the last, ALL keeps
// the order. `options` are SearchReturn bits (imap/search_key.h; SAVE is not written). MIN, MAX
// and ALL are left out when nothing matched, MODSEQ (RFC 7162 §3.1.10) when `modseq` is 0.
std::string FormatEsearch(std::string_view tag, bool uid, unsigned options,
                          std::span<const uint32_t> numbers, uint64_t modseq);

// date-time without its quotes, "dd-MMM-yyyy hh:mm:ss +zzzz" (RFC 9051 §9; the day as two
// digits), for the instant `unix_time` seen `zone_minutes` east of UTC (-420 is "-0700").
// Defined for instants in the years 0000..9999 and zones within ±23:59.
std::string FormatDateTime(int64_t unix_time, int zone_minutes);

// flag-list: "(\Seen $Forwarded)". Flags are written as given (atoms, or "\" atom).
std::string FormatFlagList(std::span<const std::string> flags);

}  // namespace postern::imap
