// Fuzz target for the MIME parser and its IMAP forms: the input is a whole
// message. Invariants: offsets nest inside their parents and stay in
// bounds, sizes match the bytes, every IMAP string written is well formed
// (balanced parentheses, whole literals), section lookup never escapes, and
// the searchable text is valid UTF-8, NUL-free, folded and within its cap.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/fuzz_check.h"
#include "base/strings.h"
#include "message/binary_parts.h"
#include "message/imap_structure.h"
#include "message/mime.h"
#include "message/preview.h"
#include "message/search_text.h"

namespace {

using postern::message::Message;
using postern::message::Part;

void CheckPart(const Message& m, const Part& part, size_t begin, size_t end, size_t depth) {
  FUZZ_CHECK(depth <= 70);
  FUZZ_CHECK(begin <= part.header_begin && part.header_begin <= part.body_begin);
  FUZZ_CHECK(part.body_begin <= part.body_end && part.body_end <= end);
  auto body = postern::message::MeasureCrlf(m.BodyBytes(part));
  FUZZ_CHECK(body.size == part.body_size && body.lines == part.body_lines);
  if (part.embedded) FUZZ_CHECK(part.children.size() == 1);
  if (!part.multipart && !part.embedded) FUZZ_CHECK(part.children.empty());
  size_t previous = part.body_begin;
  for (const Part& child : part.children) {
    FUZZ_CHECK(child.header_begin >= previous);
    CheckPart(m, child, part.body_begin, part.body_end, depth + 1);
    previous = child.body_end;
  }
}

// Balanced parentheses outside quoted strings and literals; literals whole.
bool WellFormed(std::string_view s) {
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\') ++i;
        if (i < s.size() && (s[i] == '\r' || s[i] == '\n' || s[i] == 0)) return false;
      }
      if (i >= s.size()) return false;
    } else if (c == '{') {
      size_t close = s.find("}\r\n", i);
      if (close == std::string_view::npos) return false;
      size_t n = 0;
      for (size_t j = i + 1; j < close; ++j) n = n * 10 + (s[j] - '0');
      i = close + 2 + n;
      if (i > s.size()) return false;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth < 0) return false;
    } else if (c == '\r' || c == '\n' || c == 0) {
      return false;
    }
  }
  return depth == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  postern::message::ParseLimits limits;
  limits.max_parts = 500;  // keep each run fast; the logic is the same
  Message m = postern::message::ParseMessage(raw, limits);
  CheckPart(m, m.root, 0, raw.size(), 0);
  FUZZ_CHECK(m.part_count <= limits.max_parts + 1);
  std::string structure = postern::message::ImapBodyStructure(m.root, true);
  FUZZ_CHECK(WellFormed("(" + structure + ")"));
  // It reads back as itself (NormalizeBodyStructure parses it).
  FUZZ_CHECK(postern::message::NormalizeBodyStructure(structure) == structure);
  FUZZ_CHECK(!postern::message::NormalizeBodyStructure(raw) ||
             WellFormed("(" + *postern::message::NormalizeBodyStructure(raw) + ")"));
  FUZZ_CHECK(WellFormed("(" + postern::message::ImapBodyStructure(m.root, false) + ")"));
  FUZZ_CHECK(WellFormed("(" + postern::message::ImapEnvelope(m.root) + ")"));
  const size_t cap = 1 + size % 4096;
  postern::message::SearchableText text = postern::message::ExtractSearchableText(m, cap);
  FUZZ_CHECK(text.header.size() + text.body.size() <= cap);
  FUZZ_CHECK(postern::IsValidUtf8(text.header) && postern::IsValidUtf8(text.body));
  FUZZ_CHECK(text.header.find('\0') == std::string::npos);
  FUZZ_CHECK(text.body.find('\0') == std::string::npos);
  FUZZ_CHECK(postern::message::FoldCase(text.body) == text.body);
  FUZZ_CHECK(postern::message::FoldCase(raw).size() <= 3 * raw.size());
  // A preview is valid UTF-8, without NUL, at most 200 characters (RFC 8970 §3.3).
  const std::string preview = postern::message::MessagePreview(m);
  FUZZ_CHECK(postern::IsValidUtf8(preview) && preview.find('\0') == std::string::npos);
  FUZZ_CHECK(std::count_if(preview.begin(), preview.end(), [](char c) {
               return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
             }) <= 200);
  FUZZ_CHECK(preview.empty() || (preview.front() != ' ' && preview.back() != ' '));
  // Binary parts re-encoded for IMAP (RFC 3516 APPEND) leave no NUL.
  if (postern::Result<std::string> safe = postern::message::EncodeBinaryParts(raw); safe.ok()) {
    FUZZ_CHECK(safe->find('\0') == std::string::npos);
  }
  for (uint32_t a = 0; a < 4; ++a) {
    for (uint32_t b = 0; b < 4; ++b) {
      const Part* p = postern::message::FindPart(m, {a, b});
      if (p != nullptr) FUZZ_CHECK(p->body_end <= raw.size());
    }
  }
  return 0;
}
