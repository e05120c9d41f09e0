#include "message/mime.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <optional>

#include "base/strings.h"

namespace postern::message {
namespace {

constexpr size_t kNone = std::string_view::npos;
// RFC 2046 §5.1.1 allows 70 characters; real mail has longer ones.
constexpr size_t kMaxBoundary = 65536;

bool IsTokenChar(char c) {
  // RFC 2045 §5.1: any CHAR except SPACE, CTLs and tspecials.
  auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7f) return false;
  return std::strchr("()<>@,;:\\\"/[]?=", c) == nullptr;
}

// Where the line that starts at `pos` ends: just past its LF, or `end`.
size_t NextLine(std::string_view raw, size_t pos, size_t end) {
  const void* lf = std::memchr(raw.data() + pos, '\n', end - pos);
  return lf == nullptr ? end : static_cast<const char*>(lf) - raw.data() + 1;
}

// True if [begin, end) holds only a line break (an empty line).
bool IsEmptyLine(std::string_view raw, size_t begin, size_t end) {
  size_t n = end - begin;
  return (n == 1 && raw[begin] == '\n') || (n == 2 && raw[begin] == '\r' && raw[begin + 1] == '\n');
}

// The end of content that a boundary line at `line_begin` closes: the line
// break before a boundary belongs to it (RFC 2046 §5.1.1). At the end of the
// message (`at_boundary` false) the content keeps its last line break.
size_t ContentEndBefore(std::string_view raw, size_t begin, size_t line_begin,
                        bool at_boundary = true) {
  size_t end = line_begin;
  if (!at_boundary) return end;
  if (end > begin && raw[end - 1] == '\n') --end;
  if (end > begin && raw[end - 1] == '\r') --end;
  return end;
}

// The first token of a Content-Transfer-Encoding value, as written.
std::string TransferEncodingToken(std::string_view value) {
  value = TrimWhitespace(value);
  size_t n = 0;
  while (n < value.size() && IsTokenChar(value[n])) ++n;
  // A value like "?invalid" has no token; "7bit (comment)" keeps "7bit".
  if (n == 0 || (n < value.size() && value[n] != ' ' && value[n] != '\t' && value[n] != '(' &&
                 value[n] != '\r' && value[n] != '\n' && value[n] != ';')) {
    return {};
  }
  return std::string(value.substr(0, n));
}

class Parser {
 public:
  Parser(std::string_view raw, const ParseLimits& limits) : raw_(raw), limits_(limits) {}

  Message Run() {
    Message message;
    message.raw = raw_;
    Hit hit;
    ParseEntity(0, 0, false, &message.root, &hit);
    message.part_count = parts_;
    message.truncated = truncated_;
    return message;
  }

 private:
  // A boundary line found while scanning: where it starts and ends, which
  // boundary (index into boundaries_; kNone: the end of the message) and
  // whether it is a close delimiter ("--b--").
  struct Hit {
    size_t line_begin = 0;
    size_t line_end = 0;
    size_t index = kNone;
    bool close = false;
  };

  // Does the line [begin, end) start a delimiter of an open multipart?
  // An exact delimiter (only "--" and whitespace after the boundary) wins
  // over a prefix match, innermost first, so nested boundaries that extend
  // each other ("foo", "foo-1") resolve correctly.
  bool MatchBoundary(size_t begin, size_t end, Hit* hit) const {
    if (end - begin < 2 || raw_[begin] != '-' || raw_[begin + 1] != '-') return false;
    std::string_view line = raw_.substr(begin + 2, end - begin - 2);
    size_t prefix_match = kNone;
    for (size_t i = boundaries_.size(); i-- > 0;) {
      std::string_view b = boundaries_[i];
      if (line.size() < b.size() || line.compare(0, b.size(), b) != 0) continue;
      std::string_view rest = line.substr(b.size());
      bool close = rest.size() >= 2 && rest[0] == '-' && rest[1] == '-';
      std::string_view tail = close ? rest.substr(2) : rest;
      if (TrimWhitespace(tail).empty()) {
        *hit = Hit{begin, end, i, close};
        return true;
      }
      if (prefix_match == kNone) prefix_match = i;
    }
    if (prefix_match == kNone) return false;
    std::string_view rest = line.substr(boundaries_[prefix_match].size());
    *hit = Hit{begin, end, prefix_match, rest.size() >= 2 && rest[0] == '-' && rest[1] == '-'};
    return true;
  }

  // The next delimiter line of an open multipart at or after `pos`.
  Hit FindBoundary(size_t pos) const {
    const size_t end = raw_.size();
    if (boundaries_.empty()) return Hit{end, end, kNone, false};
    while (pos < end) {
      size_t next = NextLine(raw_, pos, end);
      Hit hit;
      if (MatchBoundary(pos, next, &hit)) return hit;
      pos = next;
    }
    return Hit{end, end, kNone, false};
  }

  // Parses the header at `begin`: it ends after an empty line, before a
  // delimiter line of an open multipart, or at the end. Returns body_begin;
  // *hit is set when a delimiter ended it.
  size_t ParseHeader(size_t begin, Part* part, Hit* hit, bool* hit_boundary) {
    const size_t end = raw_.size();
    size_t pos = begin;
    *hit_boundary = false;
    while (pos < end) {
      size_t next = NextLine(raw_, pos, end);
      if (IsEmptyLine(raw_, pos, next)) return next;
      if (!boundaries_.empty() && MatchBoundary(pos, next, hit)) {
        *hit_boundary = true;
        return pos;
      }
      char first = raw_[pos];
      if (first == ' ' || first == '\t') {
        // A continuation line: extends the previous field (if any).
        if (!part->fields.empty()) {
          HeaderField& field = part->fields.back();
          size_t value_begin = field.value.data() - raw_.data();
          field.value = raw_.substr(value_begin, LineContentEnd(pos, next) - value_begin);
        }
      } else {
        // RFC 5322 §3.6.8: a field name is printable ASCII other than the
        // colon; RFC 5322 §4.5 allows whitespace before the colon.
        size_t colon = kNone;
        size_t i = pos;
        while (i < next && raw_[i] > ' ' && raw_[i] < 0x7f && raw_[i] != ':') ++i;
        size_t after_name = i;
        while (i < next && (raw_[i] == ' ' || raw_[i] == '\t')) ++i;
        if (i < next && raw_[i] == ':' && after_name > pos) colon = i;
        if (colon != kNone && colon > pos && part->fields.size() < limits_.max_header_fields) {
          // RFC 5322 §4.5 (obsolete syntax): whitespace before the colon.
          size_t name_end = colon;
          while (name_end > pos && (raw_[name_end - 1] == ' ' || raw_[name_end - 1] == '\t')) {
            --name_end;
          }
          size_t value_begin = colon + 1;
          size_t line_end = LineContentEnd(pos, next);
          while (value_begin < line_end &&
                 (raw_[value_begin] == ' ' || raw_[value_begin] == '\t')) {
            ++value_begin;
          }
          if (name_end > pos) {
            part->fields.push_back(HeaderField{raw_.substr(pos, name_end - pos),
                                               raw_.substr(value_begin, line_end - value_begin),
                                               pos});
          }
        }
        // A line without a colon is junk inside the header: kept in the
        // header bytes, not a field.
      }
      pos = next;
    }
    return end;
  }

  // The end of a line's content, before its CRLF or LF.
  size_t LineContentEnd(size_t begin, size_t next) const {
    size_t end = next;
    if (end > begin && raw_[end - 1] == '\n') --end;
    if (end > begin && raw_[end - 1] == '\r') --end;
    return end;
  }

  void ClassifyPart(Part* part, bool digest_parent) {
    if (const HeaderField* ct = part->FindField("Content-Type")) {
      part->has_content_type = true;
      part->content_type = ParseContentType(ct->value);
    }
    if (const HeaderField* cte = part->FindField("Content-Transfer-Encoding")) {
      part->transfer_encoding = TransferEncodingToken(cte->value);
    }
    if (!part->content_type.type.empty()) {
      part->type = part->content_type.type;
      part->subtype = part->content_type.subtype;
    } else if (digest_parent) {
      part->type = "message";  // RFC 2046 §5.1.5
      part->subtype = "rfc822";
    } else {
      part->type = "text";  // RFC 2045 §5.2
      part->subtype = "plain";
    }
  }

  // True if an encoding hides the embedded message's structure.
  static bool IsIdentityEncoding(std::string_view encoding) {
    return encoding.empty() || EqualsIgnoreCase(encoding, "7bit") ||
           EqualsIgnoreCase(encoding, "8bit") || EqualsIgnoreCase(encoding, "binary");
  }

  void ParseEntity(size_t begin, size_t depth, bool digest_parent, Part* part, Hit* hit) {
    ++parts_;
    part->header_begin = begin;
    bool header_hit = false;
    part->body_begin = ParseHeader(begin, part, hit, &header_hit);
    ClassifyPart(part, digest_parent);
    CrlfSize header = MeasureCrlf(raw_.substr(begin, part->body_begin - begin));
    part->header_size = header.size;

    if (header_hit) {
      // The header ran into a delimiter, whose line break it loses: no body.
      part->body_begin = part->body_end = ContentEndBefore(raw_, begin, hit->line_begin);
      header = MeasureCrlf(raw_.substr(begin, part->body_begin - begin));
      part->header_size = header.size;
      return;
    }

    bool room = depth < limits_.max_depth && parts_ < limits_.max_parts;
    std::optional<std::string> boundary;
    if (part->type == "multipart") boundary = FindParameter(part->content_type.params, "boundary");
    bool multipart = boundary && !boundary->empty() && boundary->size() <= kMaxBoundary;
    bool message = !multipart && part->type == "message" &&
                   (part->subtype == "rfc822" || part->subtype == "global") &&
                   IsIdentityEncoding(part->transfer_encoding);
    if ((multipart || message) && !room) {
      truncated_ = true;
      multipart = message = false;
    }

    if (multipart) {
      boundary_storage_.push_back(std::move(*boundary));
      boundaries_.push_back(boundary_storage_.back());
      const size_t own = boundaries_.size() - 1;
      bool digest = part->subtype == "digest";
      *hit = FindBoundary(part->body_begin);
      part->preamble_begin = part->body_begin;
      part->preamble_end =
          ContentEndBefore(raw_, part->body_begin, hit->line_begin, hit->index != kNone);
      while (hit->index == own && !hit->close) {
        if (parts_ >= limits_.max_parts) {
          truncated_ = true;
          *hit = FindBoundaryOutside(own, hit->line_end);
          break;
        }
        part->children.emplace_back();
        ParseEntity(hit->line_end, depth + 1, digest, &part->children.back(), hit);
      }
      if (hit->index == own) {
        // The close delimiter: the epilogue starts on the next line
        // (RFC 2046 §5.1.1).
        size_t epilogue = hit->line_end;
        boundaries_.pop_back();
        *hit = FindBoundary(epilogue);
        part->epilogue_begin = epilogue;
        part->epilogue_end = std::max(
            epilogue, ContentEndBefore(raw_, epilogue, hit->line_begin, hit->index != kNone));
      } else {
        boundaries_.pop_back();  // an enclosing delimiter or the end closed it
      }
      // Views into boundary_storage_ stay valid: a deque does not move them.
      boundary_storage_.pop_back();
      part->body_end =
          ContentEndBefore(raw_, part->body_begin, hit->line_begin, hit->index != kNone);
      part->multipart = true;
    } else if (message) {
      part->embedded = true;
      part->children.emplace_back();
      ParseEntity(part->body_begin, depth + 1, false, &part->children.back(), hit);
      part->body_end = part->children.back().body_end;
    } else {
      *hit = FindBoundary(part->body_begin);
      part->body_end =
          ContentEndBefore(raw_, part->body_begin, hit->line_begin, hit->index != kNone);
      if (hit->index != kNone && hit->line_begin == part->body_begin && part->body_begin > begin) {
        // A delimiter right after the blank line: that line break is the
        // delimiter's (RFC 2046 §5.1.1), so the header ends before it and
        // the body is empty (as MimeKit reports it).
        part->body_begin = part->body_end = ContentEndBefore(raw_, begin, hit->line_begin);
        header = MeasureCrlf(raw_.substr(begin, part->body_begin - begin));
        part->header_size = header.size;
      }
    }
    if (part->body_end < part->body_begin) part->body_end = part->body_begin;
    CrlfSize body = MeasureCrlf(raw_.substr(part->body_begin, part->body_end - part->body_begin));
    part->body_size = body.size;
    part->body_lines = body.lines;
  }

  // The next delimiter that is not of boundaries_[own] (skipping its parts).
  Hit FindBoundaryOutside(size_t own, size_t pos) const {
    Hit hit = FindBoundary(pos);
    while (hit.index == own && !hit.close) hit = FindBoundary(hit.line_end);
    return hit;
  }

  std::string_view raw_;
  const ParseLimits& limits_;
  std::deque<std::string> boundary_storage_;
  std::vector<std::string_view> boundaries_;  // of the open multiparts, innermost last
  size_t parts_ = 0;
  bool truncated_ = false;
};

}  // namespace

const HeaderField* Part::FindField(std::string_view name) const {
  for (const HeaderField& field : fields) {
    if (EqualsIgnoreCase(field.name, name)) return &field;
  }
  return nullptr;
}

Message ParseMessage(std::string_view raw, const ParseLimits& limits) {
  return Parser(raw, limits).Run();
}

CrlfSize MeasureCrlf(std::string_view bytes) {
  CrlfSize result;
  result.size = bytes.size();
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  while (p < end) {
    const void* lf = std::memchr(p, '\n', end - p);
    if (lf == nullptr) break;
    const char* at = static_cast<const char*>(lf);
    ++result.lines;
    if (at == bytes.data() || at[-1] != '\r') ++result.size;
    p = at + 1;
  }
  // A last line without a line break is a line too (as MimeKit counts).
  if (!bytes.empty() && bytes.back() != '\n') ++result.lines;
  return result;
}

std::string ToCrlf(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 32);
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t lf = bytes.find('\n', pos);
    if (lf == std::string_view::npos) {
      out.append(bytes.substr(pos));
      break;
    }
    out.append(bytes.substr(pos, lf - pos));
    if (lf == 0 || bytes[lf - 1] != '\r') out.push_back('\r');
    out.push_back('\n');
    pos = lf + 1;
  }
  return out;
}

const Part* FindPart(const Message& message, const std::vector<uint32_t>& path) {
  const Part* current = &message.root;
  bool message_like = true;  // current is a message (root or embedded)
  for (uint32_t number : path) {
    if (number == 0) return nullptr;
    if (!message_like && current->is_message()) {
      current = &current->children.front();
      message_like = true;
    }
    if (current->multipart) {
      if (number > current->children.size()) return nullptr;
      current = &current->children[number - 1];
      message_like = false;
    } else if (message_like) {
      // RFC 3501 §6.4.5: a message that is not multipart has only part 1,
      // its body.
      if (number != 1) return nullptr;
      message_like = false;
    } else {
      return nullptr;
    }
  }
  return current;
}

}  // namespace postern::message
