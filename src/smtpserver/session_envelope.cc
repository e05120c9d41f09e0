// SmtpSession: the envelope, MAIL FROM and RCPT TO.
#include "base/strings.h"
#include "smtpserver/session.h"

namespace postern::smtpserver {

using smtp::Reply;

namespace {
// Final addresses (after alias expansion) in one transaction. Past this the
// client is asked to send the remaining recipients in another transaction.
constexpr size_t kMaxDestinations = 10000;
}  // namespace

asio::awaitable<void> Session::DoMail(const smtp::Command& cmd) {
  if (helo_.empty()) {
    Send(Reply(503, "5.5.1", "Error: send HELO/EHLO first"));
    CountError();
    co_return;
  }
  if (txn_.active) {
    Send(Reply(503, "5.5.1", "Error: nested MAIL command"));
    CountError();
    co_return;
  }
  if (options_.submission && authenticated_.empty()) {
    // RFC 4954 §6.
    Send(Reply(530, "5.7.0", "Authentication required"));
    CountError();
    co_return;
  }
  // RFC 8689 §4.1: REQUIRETLS is offered only under TLS; the promise to
  // keep the message on authenticated TLS hops starts with this one.
  if (cmd.mail.requiretls && !conn_->tls()) {
    Send(Reply(530, "5.7.10", "REQUIRETLS needs a TLS connection: use STARTTLS first"));
    CountError();
    co_return;
  }
  // RFC 1870 §6.1: a declared size over the fixed limit is refused at once.
  if (cmd.mail.size && *cmd.mail.size > options_.max_message_size) {
    Send(smtp::TooBigReply(options_.max_message_size));
    co_return;
  }
  std::string from;
  if (!cmd.path.null) {
    auto domain = smtp::NormalizeDomain(cmd.path.mailbox.domain);
    if (!domain.ok()) {
      Send(Reply(501, "5.1.7", "Bad sender address syntax"));
      CountError();
      co_return;
    }
    smtp::Mailbox normalized = cmd.path.mailbox;
    if (!normalized.address_literal) normalized.domain = *domain;
    from = normalized.ToString();
  }
  if (options_.submission) {
    std::optional<Reply> refusal = co_await CheckSender(from);
    if (refusal) {
      Send(*refusal);
      if (refusal->IsPermanent()) CountError();
      co_return;
    }
  }
  Reset();
  txn_.active = true;
  txn_.mail_from = std::move(from);
  txn_.params = cmd.mail;
  Send(Reply(250, "2.1.0", "Ok"));
}

asio::awaitable<void> Session::DoRcpt(const smtp::Command& cmd) {
  if (!txn_.active) {
    Send(Reply(503, "5.5.1", "Error: need MAIL command"));
    CountError();
    co_return;
  }
  if (txn_.chunks) {
    Send(Reply(503, "5.5.1", "Error: RCPT after BDAT"));
    CountError();
    co_return;
  }
  // RFC 5321 §4.5.3.1.10: 452 asks the client to send the rest later.
  if (txn_.recipients.size() >= options_.max_recipients) {
    Send(Reply(452, "4.5.3", "Error: too many recipients"));
    co_return;
  }
  std::string address;
  const smtp::Mailbox& mb = cmd.path.mailbox;
  if (!cmd.path.postmaster) {
    if (mb.address_literal) {
      // Mail to an IP literal is never ours to take: no relaying by literal.
      Send(Reply(554, "5.7.1", "<" + mb.ToString() + ">: Relay access denied"));
      CountError();
      ++txn_.rejected;
      co_return;
    }
    auto domain = smtp::NormalizeDomain(mb.domain);
    if (!domain.ok()) {
      Send(Reply(501, "5.1.3", "Bad recipient address syntax"));
      CountError();
      ++txn_.rejected;
      co_return;
    }
    address = AsciiToLower(mb.local_part) + "@" + *domain;
    // The same recipient again: accepted, and it gets one copy (without
    // looking it up and expanding its aliases once more).
    for (const auto& r : txn_.recipients) {
      if (r.address == address) {
        Send(Reply(250, "2.1.5", "Ok"));
        co_return;
      }
    }
  }
  const uint64_t declared_size = txn_.params.size.value_or(0);
  RecipientCheck check;
  if (options_.submission && !cmd.path.postmaster) {
    check = co_await backend_.CheckRelayRecipient(address, declared_size);
  } else {
    check = co_await backend_.CheckRecipient(address, cmd.path.postmaster, declared_size);
  }
  if (!check.reply.IsPositive()) {
    ++txn_.rejected;
    if (check.reply.IsPermanent()) CountError();
    Send(check.reply);
    co_return;
  }
  if (txn_.destinations + check.destinations.size() > kMaxDestinations) {
    Send(Reply(452, "4.5.3", "Error: too many recipients after alias expansion"));
    co_return;
  }
  txn_.destinations += check.destinations.size();
  AcceptedRecipient rcpt;
  rcpt.address = cmd.path.postmaster
                     ? check.destinations.empty() ? "postmaster" : check.destinations[0].address
                     : address;
  rcpt.params = cmd.rcpt;
  rcpt.destinations = std::move(check.destinations);
  txn_.recipients.push_back(std::move(rcpt));
  Send(check.reply);
}

}  // namespace postern::smtpserver
