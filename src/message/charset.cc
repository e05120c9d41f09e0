#include "message/charset.h"

#include <unicode/ucnv.h>
#include <unicode/ucnv_cb.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/strings.h"

namespace postern::message {
namespace {

// How a charset label is read.
enum class Route {
  kUtf8,      // UTF-8 (invalid sequences become U+FFFD)
  kFallback,  // no usable label: UTF-8 if valid, otherwise windows-1252
  kIcu,       // an ICU converter
};

struct Resolution {
  Route route = Route::kFallback;
  bool known = false;    // the label names something we convert on purpose
  std::string icu_name;  // for kIcu
};

// Labels that mean something other than what ICU would make of them, or that
// ICU does not know, keyed by the lowercase label with everything but letters
// and digits removed ("ISO_8859-1" and "iso8859-1" are both "iso88591").
// Supersets replace the labelled charset where mailers are known to send the
// superset under the older name (the WHATWG Encoding Standard makes the same
// choices for the web).
struct Alias {
  std::string_view key;
  Route route;
  std::string_view icu_name;
};
constexpr Alias kAliases[] = {
    // UTF-8 and its misspellings.
    {"utf8", Route::kUtf8, ""},
    {"unicode11utf8", Route::kUtf8, ""},
    {"xutf8", Route::kUtf8, ""},
    // US-ASCII: text that is not ASCII is read as if unlabelled (charset.h).
    {"usascii", Route::kFallback, ""},
    {"ascii", Route::kFallback, ""},
    {"us", Route::kFallback, ""},
    {"ansix341968", Route::kFallback, ""},
    {"ansix341986", Route::kFallback, ""},
    {"iso646us", Route::kFallback, ""},
    {"iso646irv1991", Route::kFallback, ""},
    {"cp367", Route::kFallback, ""},
    {"ibm367", Route::kFallback, ""},
    {"csascii", Route::kFallback, ""},
    {"isoir6", Route::kFallback, ""},
    // Labels that say "we do not know".
    {"unknown", Route::kFallback, ""},
    {"xunknown", Route::kFallback, ""},
    {"unknown8bit", Route::kFallback, ""},
    {"xuserdefined", Route::kFallback, ""},
    {"default", Route::kFallback, ""},
    {"7bit", Route::kFallback, ""},
    {"8bit", Route::kFallback, ""},
    {"binary", Route::kFallback, ""},
    {"none", Route::kFallback, ""},
    // Latin-1 mail is nearly always windows-1252 (curly quotes in 0x80-0x9f).
    {"iso88591", Route::kIcu, "windows-1252"},
    {"iso885911987", Route::kIcu, "windows-1252"},
    {"iso8859", Route::kIcu, "windows-1252"},
    {"88591", Route::kIcu, "windows-1252"},
    {"latin1", Route::kIcu, "windows-1252"},
    {"l1", Route::kIcu, "windows-1252"},
    {"isolatin1", Route::kIcu, "windows-1252"},
    {"csisolatin1", Route::kIcu, "windows-1252"},
    {"cp819", Route::kIcu, "windows-1252"},
    {"ibm819", Route::kIcu, "windows-1252"},
    {"isoir100", Route::kIcu, "windows-1252"},
    // Latin-5 and windows-1254 likewise; Thai as windows-874.
    {"iso88599", Route::kIcu, "windows-1254"},
    {"iso885991989", Route::kIcu, "windows-1254"},
    {"latin5", Route::kIcu, "windows-1254"},
    {"l5", Route::kIcu, "windows-1254"},
    {"isoir148", Route::kIcu, "windows-1254"},
    {"iso885911", Route::kIcu, "windows-874"},
    {"tis620", Route::kIcu, "windows-874"},
    {"tis6200", Route::kIcu, "windows-874"},
    {"tis62025291", Route::kIcu, "windows-874"},
    {"tis62025330", Route::kIcu, "windows-874"},
    {"windows874", Route::kIcu, "windows-874"},
    {"xwindows874", Route::kIcu, "windows-874"},
    // Simplified Chinese: GB 2312 labels carry GBK; GB 18030 covers both.
    {"gb2312", Route::kIcu, "gb18030"},
    {"gb231280", Route::kIcu, "gb18030"},
    {"csgb2312", Route::kIcu, "gb18030"},
    {"csiso58gb231280", Route::kIcu, "gb18030"},
    {"euccn", Route::kIcu, "gb18030"},
    {"xeuccn", Route::kIcu, "gb18030"},
    {"gbk", Route::kIcu, "gb18030"},
    {"xgbk", Route::kIcu, "gb18030"},
    {"cp936", Route::kIcu, "gb18030"},
    {"ms936", Route::kIcu, "gb18030"},
    {"windows936", Route::kIcu, "gb18030"},
    {"chinese", Route::kIcu, "gb18030"},
    {"isoir58", Route::kIcu, "gb18030"},
    // Korean: EUC-KR labels carry the Unified Hangul Code superset.
    {"euckr", Route::kIcu, "windows-949"},
    {"cseuckr", Route::kIcu, "windows-949"},
    {"xeuckr", Route::kIcu, "windows-949"},
    {"ksc5601", Route::kIcu, "windows-949"},
    {"ksc56011987", Route::kIcu, "windows-949"},
    {"ksc56011989", Route::kIcu, "windows-949"},
    {"csksc56011987", Route::kIcu, "windows-949"},
    {"korean", Route::kIcu, "windows-949"},
    {"isoir149", Route::kIcu, "windows-949"},
    {"windows949", Route::kIcu, "windows-949"},
    {"xwindows949", Route::kIcu, "windows-949"},
    {"cp949", Route::kIcu, "windows-949"},
    {"ms949", Route::kIcu, "windows-949"},
    {"uhc", Route::kIcu, "windows-949"},
    // Traditional Chinese: Big5 as Big5-HKSCS.
    {"big5", Route::kIcu, "big5-hkscs"},
    {"big5hkscs", Route::kIcu, "big5-hkscs"},
    {"cnbig5", Route::kIcu, "big5-hkscs"},
    {"csbig5", Route::kIcu, "big5-hkscs"},
    {"xbig5", Route::kIcu, "big5-hkscs"},
    {"xxbig5", Route::kIcu, "big5-hkscs"},
    // Japanese: Shift_JIS as Microsoft's superset; the ISO-2022-JP variants
    // Microsoft writes decode with ICU's ISO-2022-JP (it reads JIS X 0201
    // katakana and the NEC rows too).
    {"shiftjis", Route::kIcu, "windows-31j"},
    {"sjis", Route::kIcu, "windows-31j"},
    {"xsjis", Route::kIcu, "windows-31j"},
    {"mskanji", Route::kIcu, "windows-31j"},
    {"csshiftjis", Route::kIcu, "windows-31j"},
    {"windows31j", Route::kIcu, "windows-31j"},
    {"cp932", Route::kIcu, "windows-31j"},
    {"ms932", Route::kIcu, "windows-31j"},
    {"xmscp932", Route::kIcu, "windows-31j"},
    {"iso2022jp", Route::kIcu, "ISO-2022-JP"},
    {"csiso2022jp", Route::kIcu, "ISO-2022-JP"},
    {"cp50220", Route::kIcu, "ISO-2022-JP"},
    {"cp50221", Route::kIcu, "ISO-2022-JP"},
    {"cp50222", Route::kIcu, "ISO-2022-JP"},
    {"iso2022jpms", Route::kIcu, "ISO-2022-JP"},
    {"eucjp", Route::kIcu, "EUC-JP"},
    {"xeucjp", Route::kIcu, "EUC-JP"},
    // Cyrillic spelled loosely.
    {"koi8", Route::kIcu, "KOI8-R"},
    {"koi8r", Route::kIcu, "KOI8-R"},
    {"cskoi8r", Route::kIcu, "KOI8-R"},
};

constexpr size_t kMaxLabelLength = 40;

std::string AliasKey(std::string_view label) {
  std::string key;
  key.reserve(label.size());
  for (char c : label) {
    c = AsciiLower(c);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) key.push_back(c);
  }
  return key;
}

// Trims the label, drops quotes and an RFC 2231 §5 language suffix
// ("utf-8*en").
std::string_view CleanLabel(std::string_view label) {
  label = TrimWhitespace(label);
  while (!label.empty() && (label.front() == '"' || label.front() == '\'')) label.remove_prefix(1);
  while (!label.empty() && (label.back() == '"' || label.back() == '\'')) label.remove_suffix(1);
  size_t star = label.find('*');
  if (star != std::string_view::npos) label = label.substr(0, star);
  return TrimWhitespace(label);
}

// ICU parses options after a comma in converter names; only plain names from
// mail reach it.
bool IsPlainLabel(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabelLength) return false;
  for (char c : label) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':' || c == '+';
    if (!ok) return false;
  }
  return true;
}

// Every undecodable sequence becomes one U+FFFD (ICU's default substitute is
// U+001A for some code pages). ICU also reports an ISO-2022 escape sequence
// that directly follows another (an empty segment) as irregular; joined
// ISO-2022-JP encoded words always hold one ("ESC ( B" + "ESC $ B") and it
// loses no text, so it is passed over.
void SubstituteReplacementCharacter(const void* /*context*/, UConverterToUnicodeArgs* args,
                                    const char* code_units, int32_t length,
                                    UConverterCallbackReason reason, UErrorCode* error) {
  if (reason > UCNV_IRREGULAR) return;  // reset, close, clone: nothing to write
  bool empty_segment = reason == UCNV_IRREGULAR && *error == U_ILLEGAL_ESCAPE_SEQUENCE &&
                       length > 0 && code_units[0] == '\x1b';
  *error = U_ZERO_ERROR;
  if (empty_segment) return;
  static const UChar kReplacement = 0xfffd;
  ucnv_cbToUWriteUChars(args, &kReplacement, 1, 0, error);
}

struct ConverterCloser {
  void operator()(UConverter* converter) const { ucnv_close(converter); }
};
using ConverterPtr = std::unique_ptr<UConverter, ConverterCloser>;

void AppendUtf8(uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  }
}

// Runs `converter` over all of `bytes`, appending UTF-8 to `out`.
void ConvertWithIcu(UConverter* converter, std::string_view bytes, std::string& out) {
  ucnv_resetToUnicode(converter);
  std::array<UChar, 2048> buffer;
  const char* source = bytes.data();
  const char* const source_end = bytes.data() + bytes.size();
  UChar pending_high = 0;  // a high surrogate whose low half is in the next chunk
  while (true) {
    UChar* target = buffer.data();
    UErrorCode error = U_ZERO_ERROR;
    ucnv_toUnicode(converter, &target, buffer.data() + buffer.size(), &source, source_end, nullptr,
                   /*flush=*/true, &error);
    for (UChar* p = buffer.data(); p < target; ++p) {
      UChar unit = *p;
      if (pending_high != 0) {
        if (unit >= 0xdc00 && unit <= 0xdfff) {
          AppendUtf8(0x10000 + ((pending_high - 0xd800) << 10) + (unit - 0xdc00), out);
          pending_high = 0;
          continue;
        }
        AppendUtf8(0xfffd, out);
        pending_high = 0;
      }
      if (unit >= 0xd800 && unit <= 0xdbff) {
        pending_high = unit;
      } else if (unit >= 0xdc00 && unit <= 0xdfff) {
        AppendUtf8(0xfffd, out);
      } else {
        AppendUtf8(unit, out);
      }
    }
    if (error == U_BUFFER_OVERFLOW_ERROR) continue;
    if (U_FAILURE(error)) AppendUtf8(0xfffd, out);  // cannot happen with our callback
    break;
  }
  if (pending_high != 0) AppendUtf8(0xfffd, out);
}

// Whether ASCII input comes out of the converter unchanged, so all-ASCII text
// can skip conversion (false for UTF-7, UTF-16, ISO-2022, HZ, EBCDIC ...).
bool IsAsciiCompatible(UConverter* converter) {
  std::string ascii;
  for (int c = 0; c < 0x80; ++c) ascii.push_back(static_cast<char>(c));
  std::string converted;
  ConvertWithIcu(converter, ascii, converted);
  return converted == ascii;
}

// A small per-thread cache of open converters (and of names ICU does not
// know). ICU converters are not thread-safe; one per thread is.
class ConverterCache {
 public:
  struct Entry {
    std::string name;
    ConverterPtr converter;  // null: ICU does not know the name
    bool ascii_compatible = false;
  };

  // The entry for `icu_name`, opened on first use.
  Entry& Get(std::string_view icu_name) {
    for (Entry& entry : entries_) {
      if (entry.name == icu_name) return entry;
    }
    Entry entry;
    entry.name = std::string(icu_name);
    UErrorCode error = U_ZERO_ERROR;
    UConverter* converter = ucnv_open(entry.name.c_str(), &error);
    if (U_SUCCESS(error) && converter != nullptr) {
      entry.converter.reset(converter);
      error = U_ZERO_ERROR;
      ucnv_setToUCallBack(converter, SubstituteReplacementCharacter, nullptr, nullptr, nullptr,
                          &error);
      entry.ascii_compatible = IsAsciiCompatible(converter);
    } else if (converter != nullptr) {
      ucnv_close(converter);
    }
    if (entries_.size() < kCapacity) {
      entries_.push_back(std::move(entry));
      return entries_.back();
    }
    // Full (hostile mail can name many charsets): replace round-robin.
    Entry& slot = entries_[next_victim_];
    next_victim_ = (next_victim_ + 1) % kCapacity;
    slot = std::move(entry);
    return slot;
  }

 private:
  static constexpr size_t kCapacity = 24;
  std::vector<Entry> entries_;
  size_t next_victim_ = 0;
};

ConverterCache& ThreadConverters() {
  thread_local ConverterCache cache;
  return cache;
}

Resolution Resolve(std::string_view label) {
  Resolution resolution;
  std::string_view clean = CleanLabel(label);
  if (clean.empty()) return resolution;
  std::string key = AliasKey(clean);
  for (const Alias& alias : kAliases) {
    if (alias.key == key) {
      resolution.route = alias.route;
      resolution.known = true;
      resolution.icu_name = std::string(alias.icu_name);
      return resolution;
    }
  }
  if (!IsPlainLabel(clean)) return resolution;
  resolution.route = Route::kIcu;
  resolution.icu_name = std::string(clean);
  return resolution;
}

// UTF-8 well-formedness (RFC 3629): no overlongs, surrogates or values past
// U+10FFFF. NUL is allowed: it is valid UTF-8.
bool IsUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    uint32_t code_point;
    if (c >= 0xc2 && c <= 0xdf) {
      length = 2;
      code_point = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      length = 3;
      code_point = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      length = 4;
      code_point = c & 0x07;
    } else {
      return false;
    }
    if (i + length > n) return false;
    for (size_t k = 1; k < length; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      code_point = (code_point << 6) | (cc & 0x3f);
    }
    if ((length == 3 && code_point < 0x800) || (length == 4 && code_point < 0x10000) ||
        code_point > 0x10ffff || (code_point >= 0xd800 && code_point <= 0xdfff)) {
      return false;
    }
    i += length;
  }
  return true;
}

bool IsAscii(std::string_view s) { return !HasNonAscii(s); }

// windows-1252 0x80-0x9f (the rest is Latin-1); the five unassigned bytes map
// to the C1 controls of the same value, as the WHATWG Encoding Standard does.
constexpr uint16_t kWindows1252High[32] = {
    0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008d, 0x017d, 0x008f, 0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178};

std::string Windows1252ToUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 2);
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out.push_back(ch);
    } else if (c < 0xa0) {
      AppendUtf8(kWindows1252High[c - 0x80], out);
    } else {
      AppendUtf8(c, out);
    }
  }
  return out;
}

std::string FallbackToUtf8(std::string_view bytes) {
  if (IsUtf8(bytes)) return std::string(bytes);
  return Windows1252ToUtf8(bytes);
}

}  // namespace

bool IsKnownCharset(std::string_view charset) {
  Resolution resolution = Resolve(charset);
  switch (resolution.route) {
    case Route::kUtf8:
      return true;
    case Route::kFallback:
      return resolution.known;
    case Route::kIcu:
      return ThreadConverters().Get(resolution.icu_name).converter != nullptr;
  }
  return false;
}

std::string ToUtf8(std::string_view charset, std::string_view bytes) {
  Resolution resolution = Resolve(charset);
  if (resolution.route == Route::kIcu) {
    ConverterCache::Entry& entry = ThreadConverters().Get(resolution.icu_name);
    if (entry.converter == nullptr) return FallbackToUtf8(bytes);
    if (entry.ascii_compatible && IsAscii(bytes)) return std::string(bytes);
    std::string out;
    out.reserve(bytes.size() + bytes.size() / 2);
    ConvertWithIcu(entry.converter.get(), bytes, out);
    return out;
  }
  if (resolution.route == Route::kUtf8) {
    if (IsUtf8(bytes)) return std::string(bytes);
    ConverterCache::Entry& entry = ThreadConverters().Get("UTF-8");
    std::string out;
    out.reserve(bytes.size() + 8);
    ConvertWithIcu(entry.converter.get(), bytes, out);
    return out;
  }
  return FallbackToUtf8(bytes);
}

bool IsNfc(std::string_view utf8) {
  if (IsAscii(utf8)) return true;
  UErrorCode status = U_ZERO_ERROR;
  int32_t length = 0;
  u_strFromUTF8(nullptr, 0, &length, utf8.data(), static_cast<int32_t>(utf8.size()), &status);
  if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status)) return false;  // ill-formed
  std::vector<UChar> utf16(static_cast<size_t>(length) + 1);
  status = U_ZERO_ERROR;
  u_strFromUTF8(utf16.data(), length + 1, nullptr, utf8.data(), static_cast<int32_t>(utf8.size()),
                &status);
  if (U_FAILURE(status)) return false;
  const UNormalizer2* nfc = unorm2_getNFCInstance(&status);
  if (U_FAILURE(status)) return false;
  const UBool normalized = unorm2_isNormalized(nfc, utf16.data(), length, &status);
  return U_SUCCESS(status) && normalized;
}

}  // namespace postern::message
