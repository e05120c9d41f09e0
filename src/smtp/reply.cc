// Reply serialization (RFC 5321 §4.2, enhanced codes per RFC 2034 §3 and
// RFC 3463). Text is sanitized so that no reply can carry a CR or LF of its
// own and inject extra reply lines.
#include "smtp/reply.h"

#include <string>

namespace postern::smtp {
namespace {

// Appends `text` with every control byte (and DEL) replaced by '?'. Bytes
// >= 0x80 are kept: SMTPUTF8 sessions may carry UTF-8 text (RFC 6531 §3.7.4).
void AppendSanitized(std::string_view text, std::string* out) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    out->push_back((u < 0x20 || u == 0x7f) ? '?' : c);
  }
}

void AppendLine(const Reply& reply, std::string_view text, bool last, std::string* out) {
  out->append(std::to_string(reply.code));
  // RFC 5321 §4.2.1: "code-" on every line but the last, "code " on the last.
  bool has_text = !reply.enhanced.empty() || !text.empty();
  if (!last) {
    out->push_back('-');
  } else if (has_text) {
    out->push_back(' ');
  }
  if (!reply.enhanced.empty()) {
    AppendSanitized(reply.enhanced, out);
    if (!text.empty()) out->push_back(' ');
  }
  AppendSanitized(text, out);
  out->append("\r\n");
}

}  // namespace

std::string Reply::Serialize() const {
  std::string out;
  if (lines.empty()) {
    AppendLine(*this, {}, /*last=*/true, &out);
    return out;
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    AppendLine(*this, lines[i], i + 1 == lines.size(), &out);
  }
  return out;
}

std::string Reply::Summary() const {
  std::string out = std::to_string(code);
  if (!enhanced.empty()) {
    out.push_back(' ');
    AppendSanitized(enhanced, &out);
  }
  if (!lines.empty() && !lines.front().empty()) {
    out.push_back(' ');
    AppendSanitized(lines.front(), &out);
  }
  return out;
}

Reply ShuttingDownReply(const std::string& hostname) {
  return Reply(421, "4.3.2", hostname + " Service shutting down, try again later", true);
}

Reply TooBigReply(uint64_t limit) {
  return Reply(
      552, "5.3.4",
      "Message size exceeds fixed maximum message size of " + std::to_string(limit) + " bytes");
}

}  // namespace postern::smtp
