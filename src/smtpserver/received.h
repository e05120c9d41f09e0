// The Received: trace field (RFC 5321 §4.4, protocol names from RFC 3848 and
// RFC 6531 §4.3). Pure.
#pragma once

#include <cstdint>
#include <string>

namespace postern::smtpserver {

struct ReceivedInfo {
  std::string helo;  // what the client called itself (untrusted)
  std::string client_ip;
  std::string client_name;  // reverse DNS, "" when unknown
  std::string tls;          // Connection::TlsDescription(), "" without TLS
  std::string hostname;     // ours
  bool extended = true;     // EHLO (else HELO)
  bool smtputf8 = false;
  std::string queue_id;
  std::string single_recipient;  // named only when there is exactly one
  int64_t time = 0;
  // Submission (RFC 6409): the client authenticated (RFC 3848 "ESMTPA"...),
  // and, with `hide_client`, the field names neither its HELO nor its
  // address, only that it was submitted.
  bool authenticated = false;
  bool hide_client = false;
};

// "Received: ...\r\n", folded, every line under 998 octets.
std::string BuildReceivedHeader(const ReceivedInfo& info);

// "SMTP", "ESMTP", "ESMTPS", "UTF8SMTP", "UTF8SMTPS", and with
// `authenticated` the "A" forms ("ESMTPSA", RFC 3848 §2; "UTF8SMTPSA").
std::string ProtocolName(bool extended, bool tls, bool smtputf8, bool authenticated = false);

}  // namespace postern::smtpserver
