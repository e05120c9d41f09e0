#include "message/thread_keys.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <string>

#include "base/strings.h"
#include "message/cfws.h"

namespace postern::message {
namespace {

// The id between "<" and ">" in RFC 5256 §3's normalized form: comments and
// whitespace dropped, quoted strings unquoted, so <"a b"@x> and <a b@x> match.
// Empty if it is not local "@" domain.
std::string NormalizeId(std::string_view inner) {
  std::string out;
  out.reserve(inner.size());
  bool have_at = false;
  size_t left_size = 0;
  size_t pos = 0;
  while (pos < inner.size()) {
    char c = inner[pos];
    if (cfws::IsWhitespace(c)) {
      ++pos;
    } else if (c == '(') {
      cfws::SkipComment(inner, &pos);  // an unterminated one ends the id
    } else if (c == '"') {
      ++pos;
      while (pos < inner.size() && inner[pos] != '"') {
        if (inner[pos] == '\\' && pos + 1 < inner.size()) ++pos;
        if (inner[pos] != '\r' && inner[pos] != '\n') out.push_back(inner[pos]);
        ++pos;
      }
      ++pos;
    } else {
      if (c == '@' && !have_at) {
        have_at = true;
        left_size = out.size();
      }
      out.push_back(c);
      ++pos;
    }
  }
  if (!have_at || left_size == 0 || left_size + 1 == out.size()) return "";
  return out;
}

// RFC 5256 §2.1 step (1) on decoded text: tabs and line breaks become spaces,
// runs of spaces one space.
std::string CollapseWhitespace(std::string_view subject) {
  std::string out;
  out.reserve(subject.size());
  bool in_space = false;
  for (char c : subject) {
    bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (space) {
      if (!in_space) out.push_back(' ');
      in_space = true;
    } else {
      out.push_back(c);
      in_space = false;
    }
  }
  return out;
}

// The §2.1 extraction over subject[begin, end); the rules only need ASCII
// case-insensitive matching, so it works on the UTF-8 bytes.
class BaseSubjectExtractor {
 public:
  explicit BaseSubjectExtractor(std::string_view subject)
      : s_(subject), begin_(0), end_(subject.size()) {}

  void Run() {
    while (true) {
      RemoveTrailers();  // (2)
      while (true) {     // (5): repeat (3) and (4)
        bool leader = RemoveLeaders();
        bool blob = RemoveBlobPrefix();
        if (!leader && !blob) break;
      }
      if (!RemoveForwardWrapper()) break;  // (6), then from (2) again
    }
  }

  std::string_view base() const { return s_.substr(begin_, end_ - begin_); }
  bool reply_or_forward() const { return reply_or_forward_; }

 private:
  bool MatchesAt(size_t pos, std::string_view word) const {
    return pos + word.size() <= end_ && EqualsIgnoreCase(s_.substr(pos, word.size()), word);
  }

  // (2) subj-trailer = "(fwd)" / WSP, removed from the end until none is left.
  void RemoveTrailers() {
    while (end_ > begin_) {
      if (s_[end_ - 1] == ' ') {
        --end_;
      } else if (end_ - begin_ >= 5 && EqualsIgnoreCase(s_.substr(end_ - 5, 5), "(fwd)")) {
        end_ -= 5;
        reply_or_forward_ = true;
      } else {
        break;
      }
    }
  }

  // subj-blob = "[" *BLOBCHAR "]" *WSP at pos; the index after it, or npos.
  size_t BlobEnd(size_t pos) const {
    if (pos >= end_ || s_[pos] != '[') return std::string_view::npos;
    size_t i = pos + 1;
    while (i < end_ && s_[i] != '[' && s_[i] != ']') ++i;
    if (i >= end_ || s_[i] != ']') return std::string_view::npos;
    ++i;
    while (i < end_ && s_[i] == ' ') ++i;
    return i;
  }

  // subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" at pos; the index
  // after it, or npos.
  size_t RefwdEnd(size_t pos) const {
    size_t i;
    if (MatchesAt(pos, "re")) {
      i = pos + 2;
    } else if (MatchesAt(pos, "fwd")) {
      i = pos + 3;
    } else if (MatchesAt(pos, "fw")) {
      i = pos + 2;
    } else {
      return std::string_view::npos;
    }
    while (i < end_ && s_[i] == ' ') ++i;
    size_t blob_end = BlobEnd(i);
    if (blob_end != std::string_view::npos) i = blob_end;
    if (i < end_ && s_[i] == ':') return i + 1;
    return std::string_view::npos;
  }

  // (3) subj-leader = (*subj-blob subj-refwd) / WSP, removed while present.
  // Remembers where the blobs that no subj-refwd follows end, for (4).
  bool RemoveLeaders() {
    bool removed = false;
    while (begin_ < end_) {
      if (s_[begin_] == ' ') {
        ++begin_;
        removed = true;
        continue;
      }
      size_t pos = begin_;
      last_blob_ = std::string_view::npos;
      for (size_t next; (next = BlobEnd(pos)) != std::string_view::npos; pos = next) {
        last_blob_ = pos;
      }
      blobs_end_ = pos;
      size_t refwd_end = RefwdEnd(pos);
      if (refwd_end == std::string_view::npos) break;
      begin_ = refwd_end;
      reply_or_forward_ = true;
      removed = true;
    }
    return removed;
  }

  // (4) A subj-blob prefix goes if a non-empty subj-base remains. Since no
  // subj-refwd follows the run of blobs (RemoveLeaders just checked), taking
  // them one at a time would remove every blob of the run but keep the last
  // one when nothing follows it; do that at once.
  bool RemoveBlobPrefix() {
    if (begin_ >= end_ || last_blob_ == std::string_view::npos) return false;
    size_t new_begin = blobs_end_ < end_ ? blobs_end_ : last_blob_;
    if (new_begin <= begin_) return false;
    begin_ = new_begin;
    return true;
  }

  // (6) subj-fwd-hdr "[fwd:" ... subj-fwd-trl "]".
  bool RemoveForwardWrapper() {
    if (end_ - begin_ < 6 || !MatchesAt(begin_, "[fwd:") || s_[end_ - 1] != ']') return false;
    begin_ += 5;
    end_ -= 1;
    reply_or_forward_ = true;
    return true;
  }

  std::string_view s_;
  size_t begin_, end_;
  size_t last_blob_ = std::string_view::npos;  // start of the last blob of the run at begin_
  size_t blobs_end_ = 0;                       // where that run ends
  bool reply_or_forward_ = false;
};

}  // namespace

std::string UnicodeCasemap(std::string_view text) {
  bool ascii = true;
  for (char c : text) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) return AsciiToUpper(text);
  icu::UnicodeString input = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  icu::UnicodeString titled;
  for (int32_t i = 0; i < input.length();) {
    UChar32 c = input.char32At(i);
    titled.append(u_totitle(c));
    i += U16_LENGTH(c);
  }
  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* nfkd = icu::Normalizer2::getNFKDInstance(error);
  if (U_FAILURE(error)) return AsciiToUpper(text);
  icu::UnicodeString normalized = nfkd->normalize(titled, error);
  if (U_FAILURE(error)) return AsciiToUpper(text);
  std::string out;
  normalized.toUTF8String(out);
  return out;
}

std::vector<std::string> ParseMessageIds(std::string_view raw_value) {
  std::vector<std::string> ids;
  size_t pos = 0;
  while (true) {
    size_t open = raw_value.find('<', pos);
    if (open == std::string_view::npos) break;
    // The id runs to the next '>'; a '<' before it starts another candidate.
    size_t close = raw_value.find_first_of("<>", open + 1);
    if (close == std::string_view::npos) break;
    if (raw_value[close] == '<') {
      pos = close;
      continue;
    }
    std::string id = NormalizeId(raw_value.substr(open + 1, close - open - 1));
    if (!id.empty()) ids.push_back("<" + id + ">");
    pos = close + 1;
  }
  return ids;
}

std::string BaseSubject(std::string_view decoded_subject) {
  std::string collapsed = CollapseWhitespace(decoded_subject);
  BaseSubjectExtractor extractor(collapsed);
  extractor.Run();
  return UnicodeCasemap(extractor.base());
}

bool IsReplyOrForward(std::string_view decoded_subject) {
  std::string collapsed = CollapseWhitespace(decoded_subject);
  BaseSubjectExtractor extractor(collapsed);
  extractor.Run();
  return extractor.reply_or_forward();
}

}  // namespace postern::message
