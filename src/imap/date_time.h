// IMAP dates (RFC 9051 §9 date-text, "1-Feb-1994", used by SEARCH) and date-times
// ("17-Jul-1996 02:44:25 -0700", used by APPEND and INTERNALDATE), with conversion to and from
// Unix time. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace postern::imap {

// A calendar day (proleptic Gregorian). SEARCH compares dates "disregarding time and timezone"
// (RFC 9051 §6.4.4), so a Date carries no zone.
struct Date {
  int year = 1970;  // 4 digits as sent: 0000..9999
  int month = 1;    // 1..12
  int day = 1;      // 1..days in the month

  bool operator==(const Date&) const = default;
  auto operator<=>(const Date&) const = default;

  // Midnight UTC of the day.
  int64_t ToUnixTime() const;
};

struct DateTime {
  Date date;
  int hour = 0;          // 0..23
  int minute = 0;        // 0..59
  int second = 0;        // 0..60 (a leap second is accepted)
  int zone_minutes = 0;  // offset east of UTC: "-0700" is -420 (RFC 9051 §9 zone)

  bool operator==(const DateTime&) const = default;

  // The instant, in seconds since the epoch (a leap second counts as the next second).
  int64_t ToUnixTime() const;
};

// date-text: day "-" month "-" year, with 1 or 2 day digits and a case-insensitive English month
// abbreviation; no quotes. Rejects impossible days ("30-Feb-2024").
std::optional<Date> ParseDate(std::string_view text);

// The inside of date-time, without the quotes: "dd-MMM-yyyy hh:mm:ss +zzzz". The day may be two
// digits, a space and a digit (date-day-fixed) or, leniently, one digit.
std::optional<DateTime> ParseDateTime(std::string_view text);

// The local time at `zone_minutes` east of UTC of the instant `unix_time`.
DateTime DateTimeFromUnix(int64_t unix_time, int zone_minutes);

}  // namespace postern::imap
