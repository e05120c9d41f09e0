// RFC 5322 §3.3 date-time, with the obsolete forms and the damage real mail
// shows (RFC 822 two-digit years, named zones, missing seconds or weekday,
// extra junk). Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace postern::message {

struct DateTime {
  int64_t utc_seconds = 0;          // Unix time of the instant
  int32_t zone_offset_minutes = 0;  // east of UTC, as written (+0200 is 120)
  // The calendar date as written in its own zone (SEARCH SENTON/SENTBEFORE
  // compare this, RFC 3501 §6.4.4: "disregarding time and timezone").
  int32_t year = 0, month = 0, day = 0;
};

// Parses a Date header value (or the date after the last ';' of a Received
// value). Nothing usable: nullopt.
std::optional<DateTime> ParseDateTime(std::string_view raw_value);

}  // namespace postern::message
