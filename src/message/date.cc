#include "message/date.h"

#include <array>
#include <string>
#include <vector>

#include "base/strings.h"
#include "message/cfws.h"

namespace postern::message {
namespace {

// A date needs a dozen tokens; junk after that is not read.
constexpr size_t kMaxTokens = 32;
constexpr int kMaxDigits = 9;

struct Token {
  enum class Kind { kNumber, kTime, kWord, kSigned, kOther };
  Kind kind = Kind::kOther;
  int64_t number = 0;                    // kNumber, kSigned: the digits' value
  int digits = 0;                        // kNumber, kSigned: how many digits
  char sign = 0;                         // kSigned: '+' or '-'
  int hour = 0, minute = 0, second = 0;  // kTime
  int zone_minutes = -1;                 // kSigned written as "+hh:mm"
  std::string word;                      // kWord: lowercase, at most 16 letters
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Reads a run of digits at text[*pos]; false if there are too many.
bool ReadNumber(std::string_view text, size_t* pos, int64_t* value, int* digits) {
  *value = 0;
  *digits = 0;
  while (*pos < text.size() && IsDigit(text[*pos])) {
    if (*digits == kMaxDigits) {
      while (*pos < text.size() && IsDigit(text[*pos])) ++*pos;
      return false;
    }
    *value = *value * 10 + (text[*pos] - '0');
    ++*digits;
    ++*pos;
  }
  return true;
}

// Splits a Date value into numbers, "hh:mm[:ss]" times, words and signed
// numbers, skipping whitespace, comments, commas and dashes between words
// ("21-Nov-97").
std::vector<Token> Tokenize(std::string_view text) {
  std::vector<Token> tokens;
  size_t pos = 0;
  while (pos < text.size() && tokens.size() < kMaxTokens) {
    if (!cfws::Skip(text, &pos)) break;
    if (pos >= text.size()) break;
    char c = text[pos];
    Token token;
    if (IsDigit(c)) {
      int64_t value;
      int digits;
      if (!ReadNumber(text, &pos, &value, &digits)) {
        token.kind = Token::Kind::kOther;
      } else if (pos + 1 < text.size() && text[pos] == ':' && IsDigit(text[pos + 1])) {
        token.kind = Token::Kind::kTime;
        int64_t parts[3] = {value, 0, 0};
        int count = 1;
        while (count < 3 && pos + 1 < text.size() && text[pos] == ':' && IsDigit(text[pos + 1])) {
          ++pos;
          int part_digits;
          if (!ReadNumber(text, &pos, &parts[count], &part_digits) || part_digits > 2) {
            token.kind = Token::Kind::kOther;
          }
          ++count;
        }
        // Fractions of a second ("10:52:37.25") are dropped.
        if (pos + 1 < text.size() && text[pos] == '.' && IsDigit(text[pos + 1])) {
          ++pos;
          while (pos < text.size() && IsDigit(text[pos])) ++pos;
        }
        if (digits > 2) token.kind = Token::Kind::kOther;
        token.hour = static_cast<int>(parts[0]);
        token.minute = static_cast<int>(parts[1]);
        token.second = static_cast<int>(parts[2]);
      } else {
        token.kind = Token::Kind::kNumber;
        token.number = value;
        token.digits = digits;
      }
    } else if (IsAlpha(c)) {
      token.kind = Token::Kind::kWord;
      while (pos < text.size() && IsAlpha(text[pos])) {
        if (token.word.size() < 16) token.word.push_back(AsciiLower(text[pos]));
        ++pos;
      }
    } else if ((c == '+' || c == '-') && pos + 1 < text.size() && IsDigit(text[pos + 1])) {
      ++pos;
      token.kind = Token::Kind::kSigned;
      token.sign = c;
      if (!ReadNumber(text, &pos, &token.number, &token.digits)) token.kind = Token::Kind::kOther;
      if (token.kind == Token::Kind::kSigned && token.digits <= 2 && pos + 1 < text.size() &&
          text[pos] == ':' && IsDigit(text[pos + 1])) {
        ++pos;  // "+02:00"
        int64_t minutes;
        int minute_digits;
        if (ReadNumber(text, &pos, &minutes, &minute_digits) && minute_digits == 2 &&
            minutes < 60) {
          token.zone_minutes = static_cast<int>(token.number * 60 + minutes);
        } else {
          token.kind = Token::Kind::kOther;
        }
      }
    } else if (c == ',' || c == '-' || c == '.') {
      ++pos;  // separators
      continue;
    } else {
      ++pos;
      token.kind = Token::Kind::kOther;
    }
    tokens.push_back(std::move(token));
  }
  return tokens;
}

int MonthFromWord(std::string_view word) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  if (word.size() < 3) return 0;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (word.substr(0, 3) == kMonths[i]) return static_cast<int>(i) + 1;
  }
  return 0;
}

bool IsWeekday(std::string_view word) {
  static constexpr std::array<std::string_view, 7> kDays = {"mon", "tue", "wed", "thu",
                                                            "fri", "sat", "sun"};
  if (word.size() < 3) return false;
  for (std::string_view day : kDays) {
    if (word.substr(0, 3) == day) return true;
  }
  return false;
}

// RFC 5322 §4.3 obs-zone. Military letters and unknown names are "-0000"
// (RFC 822's military zones had their signs backwards, so they carry no
// information), i.e. UTC.
int NamedZoneMinutes(std::string_view zone) {
  struct NamedZone {
    std::string_view name;
    int hours;
  };
  static constexpr NamedZone kZones[] = {
      {"ut", 0},   {"utc", 0},  {"gmt", 0},  {"z", 0},    {"est", -5}, {"edt", -4},
      {"cst", -6}, {"cdt", -5}, {"mst", -7}, {"mdt", -6}, {"pst", -8}, {"pdt", -7},
  };
  for (const NamedZone& named : kZones) {
    if (zone == named.name) return named.hours * 60;
  }
  return 0;
}

// The zone starting at tokens[i], in minutes east of UTC; 0 when absent or
// invalid (RFC 5256 §2.2: an invalid zone is treated as UTC).
int ZoneMinutes(const std::vector<Token>& tokens, size_t i) {
  if (i >= tokens.size()) return 0;
  const Token& token = tokens[i];
  if (token.kind == Token::Kind::kWord) {
    // "GMT+0100", "UTC-05:00": the offset that follows counts.
    if ((token.word == "gmt" || token.word == "ut" || token.word == "utc") &&
        i + 1 < tokens.size() && tokens[i + 1].kind == Token::Kind::kSigned) {
      return ZoneMinutes(tokens, i + 1);
    }
    return NamedZoneMinutes(token.word);
  }
  if (token.kind != Token::Kind::kSigned) return 0;
  int minutes;
  if (token.zone_minutes >= 0) {
    minutes = token.zone_minutes;
  } else if (token.digits <= 2) {
    minutes = static_cast<int>(token.number) * 60;
  } else if (token.digits <= 4) {
    int hours = static_cast<int>(token.number / 100);
    int mins = static_cast<int>(token.number % 100);
    if (mins >= 60) return 0;
    minutes = hours * 60 + mins;
  } else {
    return 0;
  }
  return token.sign == '-' ? -minutes : minutes;
}

// RFC 5322 §4.3: two-digit years below 50 are 20xx, the others 19xx; three
// digits are added to 1900.
int FullYear(int64_t year, int digits) {
  if (digits <= 2) return static_cast<int>(year < 50 ? 2000 + year : 1900 + year);
  if (digits == 3) return static_cast<int>(1900 + year);
  return static_cast<int>(year);
}

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Days from 1970-01-01 to the proleptic Gregorian date (Howard Hinnant's
// days_from_civil).
int64_t DaysFromCivil(int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

struct Fields {
  int year = 0, month = 0, day = 0;
  int hour = 0, minute = 0, second = 0;
  int zone_minutes = 0;
};

bool IsNumber(const std::vector<Token>& tokens, size_t i) {
  return i < tokens.size() && (tokens[i].kind == Token::Kind::kNumber ||
                               (tokens[i].kind == Token::Kind::kSigned && tokens[i].sign == '-' &&
                                tokens[i].zone_minutes < 0));
}

// A month written as a name or, in broken mail, as its number.
int MonthAt(const std::vector<Token>& tokens, size_t i) {
  if (i >= tokens.size()) return 0;
  if (tokens[i].kind == Token::Kind::kWord) return MonthFromWord(tokens[i].word);
  if (IsNumber(tokens, i) && tokens[i].digits <= 2) {
    int64_t month = tokens[i].number;
    return month >= 1 && month <= 12 ? static_cast<int>(month) : 0;
  }
  return 0;
}

bool TakeTime(const Token& token, Fields* fields) {
  if (token.kind != Token::Kind::kTime) return false;
  fields->hour = token.hour;
  fields->minute = token.minute;
  fields->second = token.second;
  return true;
}

// [day-of-week ","] day month year time [zone] (RFC 5322 §3.3), or the
// asctime() form some mailers write: [day-of-week] month day time year.
bool ParseFields(const std::vector<Token>& tokens, Fields* fields) {
  size_t i = 0;
  if (i < tokens.size() && tokens[i].kind == Token::Kind::kWord && IsWeekday(tokens[i].word)) ++i;
  if (IsNumber(tokens, i) && tokens[i].digits <= 2 && (fields->month = MonthAt(tokens, i + 1)) &&
      IsNumber(tokens, i + 2) && i + 3 < tokens.size() && TakeTime(tokens[i + 3], fields)) {
    fields->day = static_cast<int>(tokens[i].number);
    fields->year = FullYear(tokens[i + 2].number, tokens[i + 2].digits);
    fields->zone_minutes = ZoneMinutes(tokens, i + 4);
    return true;
  }
  if (i < tokens.size() && tokens[i].kind == Token::Kind::kWord &&
      (fields->month = MonthFromWord(tokens[i].word)) && IsNumber(tokens, i + 1) &&
      tokens[i + 1].digits <= 2 && i + 2 < tokens.size() && TakeTime(tokens[i + 2], fields) &&
      IsNumber(tokens, i + 3)) {
    fields->day = static_cast<int>(tokens[i + 1].number);
    fields->year = FullYear(tokens[i + 3].number, tokens[i + 3].digits);
    fields->zone_minutes = ZoneMinutes(tokens, i + 4);
    return true;
  }
  return false;
}

std::optional<DateTime> ParseDirect(std::string_view text) {
  Fields fields;
  if (!ParseFields(Tokenize(text), &fields)) return std::nullopt;
  if (fields.year < 1 || fields.year > 9999 || fields.month < 1 || fields.month > 12 ||
      fields.day < 1 || fields.day > DaysInMonth(fields.year, fields.month) || fields.hour > 23 ||
      fields.minute > 59 || fields.second > 60) {
    return std::nullopt;
  }
  DateTime result;
  result.year = fields.year;
  result.month = fields.month;
  result.day = fields.day;
  result.zone_offset_minutes = fields.zone_minutes;
  result.utc_seconds = DaysFromCivil(fields.year, fields.month, fields.day) * 86400 +
                       fields.hour * 3600 + fields.minute * 60 + fields.second -
                       int64_t{fields.zone_minutes} * 60;
  return result;
}

}  // namespace

std::optional<DateTime> ParseDateTime(std::string_view raw_value) {
  if (std::optional<DateTime> date = ParseDirect(raw_value)) return date;
  // A Received value ends in "; date-time" (RFC 5322 §3.6.7).
  size_t semicolon = raw_value.rfind(';');
  if (semicolon != std::string_view::npos) return ParseDirect(raw_value.substr(semicolon + 1));
  return std::nullopt;
}

}  // namespace postern::message
