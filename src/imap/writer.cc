// IMAP response data formats (RFC 9051 §4.3 strings, §9 syntax).
#include "imap/writer.h"

#include <cstdio>

#include "base/strings.h"
#include "imap/date_time.h"
#include "imap/parser.h"
#include "imap/search_key.h"

namespace postern::imap {
namespace {

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool IsAStringAtom(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!internal::IsAtomChar(c) && c != ']') return false;
  }
  return true;
}

}  // namespace

bool CanQuote(std::string_view s, const StringOptions& options) {
  if (s.size() > options.max_quoted_length) return false;
  bool eight_bit = false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u == 0 || c == '\r' || c == '\n' || c == '"' || c == '\\') return false;
    if (u >= 0x80) eight_bit = true;
  }
  return !eight_bit || (options.utf8 && IsValidUtf8(s));
}

void AppendLiteral(std::string* out, std::string_view s, bool literal8) {
  if (literal8) out->push_back('~');
  out->push_back('{');
  out->append(std::to_string(s.size()));
  out->append("}\r\n");
  out->append(s);
}

void AppendString(std::string* out, std::string_view s, const StringOptions& options) {
  if (CanQuote(s, options)) {
    out->push_back('"');
    out->append(s);
    out->push_back('"');
    return;
  }
  bool binary = options.allow_literal8 && s.find('\0') != std::string_view::npos;
  AppendLiteral(out, s, binary);
}

void AppendAString(std::string* out, std::string_view s, const StringOptions& options) {
  if (IsAStringAtom(s)) {
    out->append(s);
  } else {
    AppendString(out, s, options);
  }
}

void AppendNString(std::string* out, std::optional<std::string_view> s,
                   const StringOptions& options) {
  if (!s) {
    out->append("NIL");
  } else {
    AppendString(out, *s, options);
  }
}

void AppendMailbox(std::string* out, std::string_view utf8_name, const StringOptions& options) {
  if (options.utf8) {
    AppendAString(out, utf8_name, options);
  } else {
    AppendAString(out, EncodeModifiedUtf7(utf8_name), options);
  }
}

std::string FormatSequenceSet(std::span<const uint32_t> numbers) {
  std::string out;
  size_t i = 0;
  while (i < numbers.size()) {
    if (numbers[i] == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j + 1 < numbers.size() && numbers[j] != UINT32_MAX && numbers[j + 1] == numbers[j] + 1) {
      ++j;
    }
    if (!out.empty()) out.push_back(',');
    out.append(std::to_string(numbers[i]));
    if (j > i) {
      out.push_back(':');
      out.append(std::to_string(numbers[j]));
    }
    i = j + 1;
  }
  return out;
}

std::string FormatEsearch(std::string_view tag, bool uid, unsigned options,
                          std::span<const uint32_t> numbers, uint64_t modseq) {
  std::string line = "* ESEARCH (TAG ";
  AppendString(&line, tag);
  line += ")";
  if (uid) line += " UID";
  if (!numbers.empty()) {
    if (options & kSearchReturnMin) line += " MIN " + std::to_string(numbers.front());
    if (options & kSearchReturnMax) line += " MAX " + std::to_string(numbers.back());
    if (options & kSearchReturnAll) line += " ALL " + FormatSequenceSet(numbers);
  }
  if (options & kSearchReturnCount) line += " COUNT " + std::to_string(numbers.size());
  if (modseq != 0) line += " MODSEQ " + std::to_string(modseq);
  line += "\r\n";
  return line;
}

std::string FormatDateTime(int64_t unix_time, int zone_minutes) {
  DateTime dt = DateTimeFromUnix(unix_time, zone_minutes);
  int zone = zone_minutes < 0 ? -zone_minutes : zone_minutes;
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%02d-%s-%04d %02d:%02d:%02d %c%02d%02d", dt.date.day,
                kMonths[dt.date.month - 1], dt.date.year, dt.hour, dt.minute, dt.second,
                zone_minutes < 0 ? '-' : '+', zone / 60 % 100, zone % 60);
  return buffer;
}

std::string FormatFlagList(std::span<const std::string> flags) {
  std::string out = "(";
  for (size_t i = 0; i < flags.size(); ++i) {
    if (i > 0) out.push_back(' ');
    out.append(flags[i]);
  }
  out.push_back(')');
  return out;
}

}  // namespace postern::imap
