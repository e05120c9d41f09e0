// IMAP date and date-time syntax (RFC 9051 §9 date, date-time, zone) and civil-time arithmetic.
#include "imap/date_time.h"

#include <string_view>

#include "base/strings.h"

namespace postern::imap {
namespace {

constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int year, int month, int day) {
  int64_t y = year - (month <= 2 ? 1 : 0);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Date CivilFromDays(int64_t days) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t doe = days - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  Date date;
  date.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  date.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  date.year = static_cast<int>(yoe + era * 400 + (date.month <= 2 ? 1 : 0));
  return date;
}

// Exactly `count` digits at `text[pos]`, or -1.
int Digits(std::string_view text, size_t pos, size_t count) {
  if (pos + count > text.size()) return -1;
  int value = 0;
  for (size_t i = 0; i < count; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

// "d-Mon-yyyy" or "dd-Mon-yyyy" at the start of `text`; sets *consumed.
std::optional<Date> ParseDatePrefix(std::string_view text, size_t day_digits, size_t* consumed) {
  Date date;
  date.day = Digits(text, 0, day_digits);
  size_t pos = day_digits;
  if (date.day < 0 || pos >= text.size() || text[pos] != '-') return std::nullopt;
  ++pos;
  if (pos + 4 > text.size() || text[pos + 3] != '-') return std::nullopt;
  std::string_view month = text.substr(pos, 3);
  date.month = 0;
  for (int i = 0; i < 12; ++i) {
    if (EqualsIgnoreCase(month, kMonths[i])) date.month = i + 1;
  }
  if (date.month == 0) return std::nullopt;
  pos += 4;
  date.year = Digits(text, pos, 4);
  if (date.year < 0) return std::nullopt;
  if (date.day < 1 || date.day > DaysInMonth(date.year, date.month)) return std::nullopt;
  *consumed = pos + 4;
  return date;
}

}  // namespace

int64_t Date::ToUnixTime() const { return DaysFromCivil(year, month, day) * 86400; }

int64_t DateTime::ToUnixTime() const {
  return date.ToUnixTime() + hour * 3600 + minute * 60 + second - zone_minutes * 60;
}

std::optional<Date> ParseDate(std::string_view text) {
  // date-day = 1*2DIGIT (RFC 9051 §9).
  size_t day_digits = text.size() > 1 && text[1] == '-' ? 1 : 2;
  size_t consumed = 0;
  std::optional<Date> date = ParseDatePrefix(text, day_digits, &consumed);
  if (!date || consumed != text.size()) return std::nullopt;
  return date;
}

std::optional<DateTime> ParseDateTime(std::string_view text) {
  // date-day-fixed = (SP DIGIT) / 2DIGIT; one digit alone is accepted from lax clients.
  if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  size_t day_digits = text.size() > 1 && text[1] == '-' ? 1 : 2;
  size_t pos = 0;
  std::optional<Date> date = ParseDatePrefix(text, day_digits, &pos);
  if (!date) return std::nullopt;
  // SP time SP zone: " hh:mm:ss +hhmm"
  if (text.size() != pos + 15) return std::nullopt;
  std::string_view rest = text.substr(pos);
  if (rest[0] != ' ' || rest[3] != ':' || rest[6] != ':' || rest[9] != ' ') return std::nullopt;
  DateTime dt;
  dt.date = *date;
  dt.hour = Digits(rest, 1, 2);
  dt.minute = Digits(rest, 4, 2);
  dt.second = Digits(rest, 7, 2);
  if (dt.hour < 0 || dt.hour > 23 || dt.minute < 0 || dt.minute > 59 || dt.second < 0 ||
      dt.second > 60) {
    return std::nullopt;
  }
  char sign = rest[10];
  int zone_hours = Digits(rest, 11, 2);
  int zone_minutes = Digits(rest, 13, 2);
  if ((sign != '+' && sign != '-') || zone_hours < 0 || zone_hours > 23 || zone_minutes < 0 ||
      zone_minutes > 59) {
    return std::nullopt;
  }
  dt.zone_minutes = (sign == '-' ? -1 : 1) * (zone_hours * 60 + zone_minutes);
  return dt;
}

DateTime DateTimeFromUnix(int64_t unix_time, int zone_minutes) {
  int64_t local = unix_time + int64_t{zone_minutes} * 60;
  int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
  int64_t seconds = local - days * 86400;
  DateTime dt;
  dt.date = CivilFromDays(days);
  dt.hour = static_cast<int>(seconds / 3600);
  dt.minute = static_cast<int>(seconds / 60 % 60);
  dt.second = static_cast<int>(seconds % 60);
  dt.zone_minutes = zone_minutes;
  return dt;
}

}  // namespace postern::imap
