#include "queue/dsn.h"

#include "base/clock.h"

namespace postern::queue {
namespace {

// smtp::DsnNotify bits, repeated here to keep queue/ free of the grammar.
constexpr unsigned kNotifySuccess = 2;
constexpr unsigned kNotifyFailure = 4;
constexpr unsigned kNotifyDelay = 8;

std::string HeaderSection(const std::string& message) {
  size_t end = message.find("\r\n\r\n");
  return end == std::string::npos ? message : message.substr(0, end + 2);
}

}  // namespace

bool WantsFailureNotice(const std::string& envelope_sender, unsigned notify_bits) {
  if (envelope_sender.empty()) return false;  // never bounce a bounce (RFC 5321 §4.5.5)
  if (notify_bits == 0) return true;          // default: failures only
  return (notify_bits & kNotifyFailure) != 0;
}

bool WantsDelayNotice(const std::string& envelope_sender, unsigned notify_bits) {
  if (envelope_sender.empty()) return false;
  if (notify_bits == 0) return true;
  return (notify_bits & kNotifyDelay) != 0;
}

bool WantsSuccessNotice(const std::string& envelope_sender, unsigned notify_bits) {
  return !envelope_sender.empty() && (notify_bits & kNotifySuccess) != 0;
}

std::string BuildBounce(const BounceInput& in) {
  const std::string boundary = in.bounce_id + "/" + in.reporting_host;
  const std::string date = FormatRfc5322Date(in.now);
  std::string m;
  m.reserve(in.original_message.size() + 4096);
  m += "From: Mail Delivery System <MAILER-DAEMON@" + in.reporting_host + ">\r\n";
  m += "To: <" + in.envelope_sender + ">\r\n";
  m += in.delivered ? "Subject: Successful Mail Delivery Report\r\n"
       : in.delay   ? "Subject: Delayed Mail (still being retried)\r\n"
                    : "Subject: Undelivered Mail Returned to Sender\r\n";
  m += "Date: " + date + "\r\n";
  m += "Message-ID: <" + in.bounce_id + "@" + in.reporting_host + ">\r\n";
  m += "Auto-Submitted: auto-replied\r\n";  // RFC 3834 §5
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"" + boundary +
       "\"\r\n";
  m += "\r\nThis is a MIME-encapsulated message.\r\n\r\n";

  m += "--" + boundary + "\r\n";
  m += "Content-Description: Notification\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
  m += "This is the mail system at host " + in.reporting_host + ".\r\n\r\n";
  if (in.delivered) {
    m += "Your message was delivered to the following recipients, as you asked\r\n";
    m += "to be told. Its header is attached below.\r\n\r\n";
  } else if (in.delay) {
    m += "Your message could not be delivered yet to one or more recipients.\r\n";
    m += "It will be retried until " + FormatRfc5322Date(in.will_retry_until) + ";\r\n";
    m += "you do not need to send it again. Its header is attached below.\r\n\r\n";
  } else {
    m += "Your message could not be delivered to one or more recipients.\r\n";
    m += "It is attached below.\r\n\r\n";
  }
  for (const auto& r : in.recipients) {
    m += "<" + r.address + ">: " + r.diagnostic + "\r\n";
  }
  m += "\r\n--" + boundary + "\r\n";

  // RFC 3464 §2.2: per-message fields, then one block per recipient.
  m += "Content-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n";
  m += "Reporting-MTA: dns; " + in.reporting_host + "\r\n";
  m += "X-Postern-Queue-ID: " + in.queue_id + "\r\n";
  if (!in.envid.empty()) m += "Original-Envelope-Id: " + in.envid + "\r\n";
  m += "Arrival-Date: " + FormatRfc5322Date(in.arrival) + "\r\n";
  for (const auto& r : in.recipients) {
    m += "\r\nFinal-Recipient: rfc822; " + r.address + "\r\n";
    if (!r.original.empty()) m += "Original-Recipient: " + r.original + "\r\n";
    const char* action = in.delivered ? "delivered" : in.delay ? "delayed" : "failed";
    m += "Action: " + (r.action.empty() ? std::string(action) : r.action) + "\r\n";
    m += "Status: " + r.status + "\r\n";
    if (!r.remote_mta.empty()) m += "Remote-MTA: dns; " + r.remote_mta + "\r\n";
    m += "Diagnostic-Code: smtp; " + r.diagnostic + "\r\n";
    m += "Last-Attempt-Date: " + date + "\r\n";
    if (in.delay && in.will_retry_until > 0) {
      m += "Will-Retry-Until: " + FormatRfc5322Date(in.will_retry_until) + "\r\n";
    }
  }
  if (in.original_message.empty()) {  // it could not be read: say so, return nothing
    m += "\r\n--" + boundary + "--\r\n";
    return m;
  }
  m += "\r\n--" + boundary + "\r\n";

  const bool headers_only = in.delivered || in.delay || in.ret == "HDRS" ||
                            in.original_message.size() > in.max_returned_bytes;
  if (headers_only) {
    m += in.delivered ? "Content-Description: Delivered Message Headers\r\n"
         : in.delay   ? "Content-Description: Delayed Message Headers\r\n"
                      : "Content-Description: Undelivered Message Headers\r\n";
    m += "Content-Type: text/rfc822-headers\r\n\r\n";
    m += HeaderSection(in.original_message);
  } else {
    m += "Content-Description: Undelivered Message\r\nContent-Type: message/rfc822\r\n\r\n";
    m += in.original_message;
    if (m.size() < 2 || m.compare(m.size() - 2, 2, "\r\n") != 0) m += "\r\n";
  }
  m += "\r\n--" + boundary + "--\r\n";
  return m;
}

std::string EnhancedCodeOf(const std::string& text) {
  // "550 5.1.1 ..." -> "5.1.1"; the class digit must agree with the code.
  if (text.size() >= 9 && (text[0] == '4' || text[0] == '5') && text[3] == ' ' &&
      text[4] == text[0] && text[5] == '.') {
    size_t end = text.find(' ', 4);
    std::string code = text.substr(4, end == std::string::npos ? std::string::npos : end - 4);
    size_t dot2 = code.find('.', 2);
    bool ok = dot2 != std::string::npos && dot2 > 2 && dot2 + 1 < code.size() && code.size() <= 9 &&
              code.find_first_not_of("0123456789.") == std::string::npos;
    if (ok) return code;
  }
  return std::string(1, text.empty() || text[0] != '4' ? '5' : '4') + ".0.0";
}

}  // namespace postern::queue
