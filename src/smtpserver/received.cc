#include "smtpserver/received.h"

#include "base/clock.h"

namespace postern::smtpserver {
namespace {

// Keeps text safe inside a header comment: printable ASCII only, bounded
// length, no backslashes. Client-chosen text (`trusted` false) also loses
// spaces and parentheses; our own TLS description keeps its nested comment.
std::string CommentSafe(const std::string& s, size_t max_len, bool trusted) {
  std::string out;
  for (unsigned char c : s) {
    if (out.size() >= max_len) break;
    bool bad =
        c < 0x20 || c >= 0x7f || c == '\\' || (!trusted && (c == '(' || c == ')' || c == ' '));
    out.push_back(bad ? '?' : static_cast<char>(c));
  }
  return out.empty() ? "unknown" : out;
}

}  // namespace

std::string ProtocolName(bool extended, bool tls, bool smtputf8, bool authenticated) {
  std::string name;
  if (smtputf8) {
    name = tls ? "UTF8SMTPS" : "UTF8SMTP";
  } else if (!extended) {
    return "SMTP";  // AUTH needs EHLO
  } else {
    name = tls ? "ESMTPS" : "ESMTP";
  }
  return authenticated ? name + "A" : name;
}

std::string BuildReceivedHeader(const ReceivedInfo& info) {
  std::string h = "Received: ";
  if (!info.hide_client) {
    h += "from " + CommentSafe(info.helo, 255, false) + " (" +
         (info.client_name.empty() ? "unknown" : CommentSafe(info.client_name, 255, false)) + " [" +
         info.client_ip + "])\r\n\t";
  }
  if (!info.tls.empty()) h += "(using " + CommentSafe(info.tls, 200, true) + ")\r\n\t";
  h += "by " + info.hostname + " (Postern) with " +
       ProtocolName(info.extended, !info.tls.empty(), info.smtputf8, info.authenticated) + " id " +
       info.queue_id;
  if (!info.single_recipient.empty() && info.single_recipient.size() < 300) {
    h += "\r\n\tfor <" + info.single_recipient + ">";
  }
  h += "; " + FormatRfc5322Date(info.time) + "\r\n";
  return h;
}

}  // namespace postern::smtpserver
