// Client::Send: one mail transaction (RFC 5321 §3.3), pipelined when the
// server allows it (RFC 2920).
#include <algorithm>

#include "smtpclient/client.h"
#include "smtpclient/local_reply.h"

namespace postern::smtpclient {
namespace {

// The message goes out in blocks of this size, each with the data block
// timeout (RFC 5321 §4.5.3.2.5 times each send, not the whole message).
constexpr size_t kDataBlock = 64 * 1024;

}  // namespace

asio::awaitable<SendResult> Client::Send(const Envelope& envelope, std::string_view message) {
  SendResult result;
  const size_t count = envelope.recipients.size();
  result.rcpt.assign(count, NoReply("not sent"));
  result.data = NoReply("not sent");
  const uint64_t size = envelope.size > 0 ? envelope.size : message.size();
  if (!usable_) {
    result.mail = NoReply("not sent: the connection was already lost");
    co_return result;
  }
  result.connection_usable = true;
  if (!SafeForPath(envelope.mail_from)) {
    result.mail = LocalReply(553, "5.1.7", "not sent: invalid characters in the sender address");
    co_return result;
  }
  if (count == 0) {
    result.mail = LocalReply(554, "5.5.1", "not sent: no recipients");
    co_return result;
  }
  // RFC 1870 §5: a message known to be too large is not offered.
  if (extensions_.size > 0 && size > extensions_.size) {
    result.mail = LocalReply(552, "5.3.4",
                             "not sent: the message (" + std::to_string(size) +
                                 " octets) exceeds the server's size limit of " +
                                 std::to_string(extensions_.size) + " octets");
    co_return result;
  }
  std::vector<bool> sendable(count);
  for (size_t i = 0; i < count; ++i) {
    sendable[i] = SafeForPath(envelope.recipients[i].address);
    if (!sendable[i]) {
      result.rcpt[i] =
          LocalReply(553, "5.1.3", "not sent: invalid characters in the recipient address");
    }
  }
  const net::Duration timeout = options_.command_timeout;
  const std::string mail = MailCommand(envelope, extensions_, size);
  if (extensions_.pipelining) {
    // RFC 2920 §3.1: MAIL and the RCPTs go in one group; the replies come
    // back in order.
    connection_->Queue(mail);
    connection_->Queue("\r\n");
    for (size_t i = 0; i < count; ++i) {
      if (!sendable[i]) continue;
      connection_->Queue(RcptCommand(envelope.recipients[i], extensions_));
      connection_->Queue("\r\n");
    }
    bool sent = co_await Flush(timeout);
    if (!sent) {
      result.mail = NoReply("connection lost while sending MAIL FROM");
      result.connection_usable = false;
      co_return result;
    }
    result.mail = co_await ReadReply(timeout);
    for (size_t i = 0; i < count; ++i) {
      if (sendable[i]) result.rcpt[i] = co_await ReadReply(timeout);
    }
  } else {
    result.mail = co_await Command(mail, timeout);
    for (size_t i = 0; i < count && result.mail.positive(); ++i) {
      if (sendable[i]) {
        result.rcpt[i] =
            co_await Command(RcptCommand(envelope.recipients[i], extensions_), timeout);
      }
    }
  }
  if (!result.mail.positive()) {
    result.connection_usable = usable_;
    co_return result;
  }
  const bool any_accepted = std::any_of(result.rcpt.begin(), result.rcpt.end(),
                                        [](const Reply& r) { return r.positive(); });
  if (!any_accepted) {
    result.data = NoReply("not sent: no recipient was accepted");
    if (usable_) {
      Reply reset = co_await Reset();
      (void)reset;
    }
    result.connection_usable = usable_;
    co_return result;
  }
  Reply go_ahead = co_await Command("DATA", timeout);
  if (go_ahead.code != 354) {
    if (go_ahead.positive()) {
      // Anything but 354 here would make the message look delivered.
      go_ahead = NoReply("unexpected reply to DATA: " + go_ahead.ToString());
      GiveUp();
    }
    result.data = go_ahead;
    result.connection_usable = usable_;
    co_return result;
  }
  DotStuffer stuffer;
  size_t offset = 0;
  while (true) {
    const size_t n = std::min(kDataBlock, message.size() - offset);
    std::string block;
    stuffer.Stuff(message.substr(offset, n), &block);
    offset += n;
    const bool last = offset == message.size();
    if (last) stuffer.Finish(&block);
    connection_->Queue(block);
    bool sent = co_await Flush(options_.data_block_timeout);
    if (!sent) {
      result.data = NoReply("connection lost while sending the message");
      result.connection_usable = false;
      co_return result;
    }
    if (last) break;
  }
  result.data = co_await ReadReply(options_.data_end_timeout);
  result.connection_usable = usable_;
  co_return result;
}

}  // namespace postern::smtpclient
