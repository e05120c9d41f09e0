// DKIM canonicalization, RFC 6376 §3.4.
#include "dkim/canonical.h"

namespace postern::dkim {
namespace {

bool IsWsp(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimTrailingWsp(std::string_view s) {
  while (!s.empty() && IsWsp(s.back())) s.remove_suffix(1);
  return s;
}

// Appends `s` with each run of WSP as one SP and trailing WSP dropped.
void AppendCompressed(std::string_view s, std::string& out) {
  bool space = false;
  for (char c : s) {
    if (IsWsp(c)) {
      space = true;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
}

// Collects output and hands it on in large pieces.
class Sink {
 public:
  explicit Sink(const std::function<void(std::string_view)>& out) : out_(out) {}
  ~Sink() { Flush(); }
  std::string& buffer() { return buffer_; }
  void MaybeFlush() {
    if (buffer_.size() >= kChunk) Flush();
  }
  void Flush() {
    if (!buffer_.empty()) out_(buffer_);
    buffer_.clear();
  }

 private:
  static constexpr size_t kChunk = 64 * 1024;
  const std::function<void(std::string_view)>& out_;
  std::string buffer_;
};

}  // namespace

SplitMessage SplitHeader(std::string_view message) {
  SplitMessage split;
  size_t pos = 0;
  const char* field_begin = nullptr;
  while (pos < message.size()) {
    const size_t newline = message.find('\n', pos);
    const size_t next = newline == std::string_view::npos ? message.size() : newline + 1;
    const std::string_view line = message.substr(pos, next - pos);
    if (line == "\r\n" || line == "\n") {
      split.body = message.substr(next);
      return split;
    }
    if (IsWsp(line[0]) && field_begin != nullptr) {
      // A continuation line: part of the field above (RFC 5322 §2.2.3).
      RawField& field = split.fields.back();
      field.raw = std::string_view(field_begin, line.data() + line.size() - field_begin);
    } else {
      const size_t colon = line.find(':');
      std::string_view name = line.substr(0, colon);
      if (colon == std::string_view::npos) {
        // Not a field at all; kept whole so that nothing is lost.
        while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.remove_suffix(1);
      }
      field_begin = line.data();
      split.fields.push_back(RawField{TrimTrailingWsp(name), line});
    }
    pos = next;
  }
  return split;
}

std::string CanonicalizeHeader(const RawField& field, Canonicalization c) {
  if (c == Canonicalization::kSimple) return std::string(field.raw);
  // RFC 6376 §3.4.2: lowercase name, unfold, WSP runs to one SP, no WSP
  // at the end of the value or around the colon.
  std::string out;
  out.reserve(field.raw.size() + 2);
  for (char ch : field.name) out += (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch + 32) : ch;
  out += ':';
  const size_t colon = field.raw.find(':');
  if (colon != std::string_view::npos) {
    std::string value;
    for (char ch : field.raw.substr(colon + 1)) {
      if (ch != '\r' && ch != '\n') value += ch;  // unfolding (and the final break)
    }
    std::string_view v = value;
    while (!v.empty() && IsWsp(v.front())) v.remove_prefix(1);
    AppendCompressed(v, out);
  }
  out += "\r\n";
  return out;
}

void CanonicalizeBody(std::string_view body, Canonicalization c,
                      const std::function<void(std::string_view)>& out) {
  Sink sink(out);
  if (c == Canonicalization::kSimple) {
    // RFC 6376 §3.4.3: trailing empty lines go; one CRLF ends the body (an
    // empty body is a single CRLF).
    size_t end = body.size();
    while (end >= 2 && body[end - 2] == '\r' && body[end - 1] == '\n') end -= 2;
    if (end > 0) out(body.substr(0, end));
    out("\r\n");
    return;
  }
  // RFC 6376 §3.4.4: per line, WSP runs become one SP and trailing WSP
  // goes; empty lines at the end are ignored; an empty body stays empty;
  // a missing final CRLF is added.
  size_t pending_empty_lines = 0;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t crlf = body.find("\r\n", pos);
    const bool terminated = crlf != std::string_view::npos;
    if (!terminated) crlf = body.size();
    const std::string_view line = body.substr(pos, crlf - pos);
    pos = terminated ? crlf + 2 : body.size();
    std::string& buffer = sink.buffer();
    const size_t before = buffer.size();
    AppendCompressed(line, buffer);
    if (buffer.size() == before) {
      ++pending_empty_lines;
      continue;
    }
    if (pending_empty_lines > 0) {
      std::string text = buffer.substr(before);
      buffer.resize(before);
      for (; pending_empty_lines > 0; --pending_empty_lines) {
        buffer += "\r\n";
        sink.MaybeFlush();
      }
      sink.buffer() += text;
    }
    sink.buffer() += "\r\n";
    sink.MaybeFlush();
  }
}

std::string CanonicalBody(std::string_view body, Canonicalization c) {
  std::string out;
  CanonicalizeBody(body, c, [&out](std::string_view piece) { out += piece; });
  return out;
}

std::string_view CanonicalizationName(Canonicalization c) {
  return c == Canonicalization::kSimple ? "simple" : "relaxed";
}

}  // namespace postern::dkim
