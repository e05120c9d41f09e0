// Delivery status notifications: bounces and, for NOTIFY=SUCCESS, delivery
// reports. RFC 3464 multipart/report with a human-readable part, a
// message/delivery-status part and the returned message (or its header when
// RET=HDRS, when it is large, or in a success report), RFC 3461 for who gets
// one, RFC 3834 Auto-Submitted. Pure: builds bytes, stores nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace postern::queue {

struct FailedRecipient {
  std::string address;     // final recipient
  std::string original;    // ORCPT value ("rfc822;addr") or empty
  std::string status;      // enhanced code, "5.2.2" ("2.0.0" when delivered)
  std::string diagnostic;  // "552 5.2.2 mailbox x is full"
  std::string action;      // RFC 3464 Action; empty: "failed" ("delivered" in a report)
  std::string remote_mta;  // the host that gave the diagnostic ("mx.example.net"), if remote
};

struct BounceInput {
  std::string reporting_host;   // our hostname
  std::string queue_id;         // of the failed message
  std::string bounce_id;        // the new message's queue id (for Message-ID)
  std::string envelope_sender;  // who gets the bounce
  std::string envid;            // ORIGINAL-ENVELOPE-ID, if any
  std::string ret;              // "", "FULL" or "HDRS"
  int64_t arrival = 0;          // unix time the message arrived
  int64_t now = 0;
  std::vector<FailedRecipient> recipients;
  // A success report (RFC 3464 Action: delivered) instead of a bounce. It
  // returns only the header (RFC 3461 §4.3).
  bool delivered = false;
  // A delay warning (RFC 3464 Action: delayed): the message is still being
  // retried, until `will_retry_until`. It returns only the header.
  bool delay = false;
  int64_t will_retry_until = 0;
  std::string original_message;            // the full stored message
  size_t max_returned_bytes = 256 * 1024;  // larger messages are returned as headers only
};

// True when the sender wants (and can get) a failure notice: the reverse
// path is not null and NOTIFY was not given without FAILURE.
bool WantsFailureNotice(const std::string& envelope_sender, unsigned notify_bits);

// True when the sender is to be warned of a delay: the reverse path is not
// null, and NOTIFY was not given (our default is FAILURE,DELAY, one of the two
// RFC 3461 §4.1 allows) or includes DELAY.
bool WantsDelayNotice(const std::string& envelope_sender, unsigned notify_bits);

// True when the sender asked for a report of successful delivery.
bool WantsSuccessNotice(const std::string& envelope_sender, unsigned notify_bits);

// The enhanced status code of a reply-like text ("550 5.1.1 ..."), or the
// class default ("5.0.0", "4.0.0") when it has none.
std::string EnhancedCodeOf(const std::string& reply_text);

// The complete notice, CRLF line endings.
std::string BuildBounce(const BounceInput& input);

}  // namespace postern::queue
