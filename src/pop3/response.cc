#include "pop3/response.h"

#include <cstdio>

namespace postern::pop3 {
namespace {

std::string StatusLine(std::string_view status, std::string_view code, std::string_view text) {
  std::string line(status);
  if (!code.empty()) {
    line += " [";
    line += code;
    line += "]";
  }
  if (!text.empty()) {
    line += ' ';
    for (char c : text) {
      const auto u = static_cast<unsigned char>(c);
      line += u < 0x20 || u == 0x7f ? ' ' : c;
    }
  }
  if (line.size() > kMaxResponseLine - 2) line.resize(kMaxResponseLine - 2);
  line += "\r\n";
  return line;
}

}  // namespace

std::string OkLine(std::string_view text) { return StatusLine("+OK", "", text); }

std::string ErrLine(std::string_view code, std::string_view text) {
  return StatusLine("-ERR", code, text);
}

void AppendMessage(std::string_view message, std::optional<uint64_t> body_lines, std::string* out) {
  out->reserve(out->size() + message.size() + message.size() / 32 + 8);
  bool in_body = false;
  uint64_t body_sent = 0;
  size_t pos = 0;
  while (pos < message.size()) {
    if (in_body && body_lines && body_sent >= *body_lines) break;
    size_t lf = message.find('\n', pos);
    size_t end = lf == std::string_view::npos ? message.size() : lf;
    std::string_view line = message.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && line.front() == '.') out->push_back('.');
    out->append(line);
    out->append("\r\n");
    if (in_body) {
      ++body_sent;
    } else if (line.empty()) {
      in_body = true;  // the blank line after the header (RFC 5322 §2.1)
    }
    pos = lf == std::string_view::npos ? message.size() : lf + 1;
  }
  out->append(".\r\n");
}

uint64_t TransferSize(std::string_view message) {
  uint64_t size = 0;
  size_t pos = 0;
  while (pos < message.size()) {
    size_t lf = message.find('\n', pos);
    size_t end = lf == std::string_view::npos ? message.size() : lf;
    size_t length = end - pos;
    if (length > 0 && message[end - 1] == '\r') --length;
    size += length + 2;
    pos = lf == std::string_view::npos ? message.size() : lf + 1;
  }
  return size;
}

std::string Uidl(uint32_t uidvalidity, uint32_t uid) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08X%08X", uid, uidvalidity);
  return buf;
}

}  // namespace postern::pop3
