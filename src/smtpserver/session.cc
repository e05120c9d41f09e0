// SmtpSession: the command loop, greeting, HELO/EHLO, the simple commands and
// STARTTLS.
#include "smtpserver/session.h"

#include "base/log.h"
#include "base/strings.h"
#include "sasl/mechanism.h"

namespace postern::smtpserver {

using smtp::Reply;
using smtp::Verb;

Session::Session(std::shared_ptr<net::Connection> connection, Backend& backend,
                 const SessionOptions& options)
    : conn_(std::move(connection)), backend_(backend), options_(options) {}

void Session::Send(const Reply& reply) {
  conn_->Queue(reply.Serialize());
  if (reply.close) closing_ = true;
}

asio::awaitable<void> Session::Flush() {
  // g++ 12 miscompiles co_await inside an if condition: await into a variable.
  bool sent = co_await conn_->Flush(options_.command_timeout);
  if (!sent) closing_ = true;
}

asio::awaitable<void> Session::Run() {
  if (options_.implicit_tls) {
    // RFC 8314 §3.3: TLS from the first byte (port 465).
    bool secured = false;
    if (options_.tls) secured = co_await conn_->StartTls(*options_.tls, options_.command_timeout);
    if (!secured) {
      LOG_INFO("smtp: TLS handshake with [{}] failed", conn_->remote_ip());
      conn_->Close();
      co_return;
    }
  }
  Send(Reply(220, "", options_.hostname + " ESMTP Postern"));
  co_await Flush();
  while (!closing_) {
    if (conn_->draining()) {
      Send(smtp::ShuttingDownReply(options_.hostname));
      break;
    }
    may_wait_ = false;
    net::Line line = co_await conn_->ReadLine(options_.max_command_line, options_.command_timeout,
                                              /*idle=*/true);
    switch (line.status) {
      case net::ReadStatus::kOk: {
        // Parse before anything else reads: the line view dies at the next read.
        smtp::ParsedCommand parsed =
            smtp::ParseCommand(line.text, {.extended = extended_,
                                           .utf8_transaction = txn_.params.smtputf8,
                                           .max_size_value = options_.max_message_size});
        co_await Handle(parsed);
        break;
      }
      case net::ReadStatus::kTooLong:
        // RFC 5321 §4.5.3.1.4 and §4.2.4: "500 Line too long".
        Send(Reply(500, "5.5.2", "Error: line too long"));
        CountError();
        break;
      case net::ReadStatus::kTimeout:
        Send(Reply(421, "4.4.2", options_.hostname + " Error: timeout exceeded", true));
        break;
      case net::ReadStatus::kDrained:
        Send(smtp::ShuttingDownReply(options_.hostname));
        break;
      case net::ReadStatus::kEof:
      case net::ReadStatus::kError:
        closing_ = true;
        break;
    }
    if (errors_ >= options_.max_errors && !closing_) {
      Send(Reply(421, "4.7.0", options_.hostname + " Error: too many errors", true));
    }
    // RFC 2920 §3.2: replies to grouped RSET, MAIL and RCPT may wait while
    // the next command is already here, so one write carries them all; any
    // other reply goes out at once, and everything pending goes out before
    // the session waits for input. The size cap keeps a client that never
    // reads its replies from filling our memory.
    constexpr size_t kMaxPendingOutput = 64 * 1024;
    if (closing_ || !may_wait_ || !conn_->HasBufferedLine() ||
        conn_->pending_output() > kMaxPendingOutput) {
      co_await Flush();
    }
  }
  co_await Flush();
  LOG_DEBUG("smtp: disconnect from [{}] ({} messages, {} errors)", conn_->remote_ip(), messages_,
            errors_);
  conn_->Close();
}

asio::awaitable<void> Session::Handle(const smtp::ParsedCommand& parsed) {
  const smtp::Verb verb = parsed.command.verb;
  may_wait_ = !parsed.error && (verb == Verb::kRset || verb == Verb::kMail || verb == Verb::kRcpt ||
                                (verb == Verb::kBdat && !parsed.command.bdat_last));
  if (parsed.error) {
    Send(*parsed.error);
    CountError();
    co_return;
  }
  const smtp::Command& cmd = parsed.command;
  switch (cmd.verb) {
    case Verb::kHelo:
    case Verb::kEhlo:
      DoHelo(cmd);
      break;
    case Verb::kMail:
      co_await DoMail(cmd);
      break;
    case Verb::kRcpt:
      co_await DoRcpt(cmd);
      break;
    case Verb::kData:
      co_await DoData();
      break;
    case Verb::kBdat:
      co_await DoBdat(cmd);
      break;
    case Verb::kRset:
      Reset();
      Send(Reply(250, "2.0.0", "Ok"));
      break;
    case Verb::kNoop:
      Send(Reply(250, "2.0.0", "Ok"));
      break;
    case Verb::kQuit:
      Send(Reply(221, "2.0.0", "Bye", true));
      break;
    case Verb::kHelp:
      DoHelp();
      break;
    case Verb::kVrfy:
      co_await DoVrfy(cmd);
      break;
    case Verb::kExpn:
      Send(Reply(502, "5.5.1", "Error: EXPN is not supported"));
      CountError();
      break;
    case Verb::kStartTls:
      co_await DoStartTls();
      break;
    case Verb::kAuth:
      co_await DoAuth(cmd);
      break;
    case Verb::kNotImplemented:
      Send(Reply(502, "5.5.1", "Error: command not implemented"));
      CountError();
      break;
    case Verb::kLhlo:
    case Verb::kUnknown:
      Send(Reply(500, "5.5.2", "Error: command not recognized"));
      CountError();
      break;
  }
}

void Session::DoHelo(const smtp::Command& cmd) {
  Reset();  // RFC 5321 §4.1.4: HELO/EHLO also resets the transaction
  helo_ = cmd.argument;
  extended_ = cmd.verb == Verb::kEhlo;
  if (!extended_) {
    Send(Reply(250, "", options_.hostname));
    return;
  }
  // RFC 2034 §3: no enhanced codes in the EHLO reply.
  Reply r;
  r.code = 250;
  r.lines = {options_.hostname, "PIPELINING", "SIZE " + std::to_string(options_.max_message_size),
             "8BITMIME",        "SMTPUTF8",   "ENHANCEDSTATUSCODES"};
  if (options_.tls && !conn_->tls()) r.lines.push_back("STARTTLS");
  if (conn_->tls()) r.lines.push_back("REQUIRETLS");  // RFC 8689 §4
  if (options_.submission && CanAuthenticate()) {
    std::string auth = "AUTH";
    for (std::string_view name : sasl::MechanismNames()) auth += " " + std::string(name);
    r.lines.push_back(auth);
  }
  r.lines.push_back("CHUNKING");
  r.lines.push_back("DSN");
  Send(r);
}

void Session::DoHelp() {
  Reply r;
  r.code = 214;
  r.enhanced = "2.0.0";
  r.lines = {"Postern SMTP server. Commands:",
             options_.submission
                 ? "HELO EHLO AUTH MAIL RCPT DATA BDAT RSET NOOP QUIT HELP VRFY STARTTLS"
                 : "HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT HELP VRFY STARTTLS",
             "End of HELP info"};
  Send(r);
}

asio::awaitable<void> Session::DoVrfy(const smtp::Command& cmd) {
  // RFC 5321 §3.5.3: 252 when the server will not verify.
  const Reply kNoVerify(252, "2.5.0",
                        "Cannot VRFY user, but will accept message and attempt delivery");
  if (!options_.vrfy) {
    Send(kNoVerify);
    co_return;
  }
  std::string text(TrimWhitespace(cmd.argument));
  if (text.size() > 2 && text.front() == '<' && text.back() == '>') {
    text = text.substr(1, text.size() - 2);
  }
  auto mailbox = smtp::ParseMailbox(text, true);
  auto domain =
      mailbox.ok() ? smtp::NormalizeDomain(mailbox->domain) : Result<std::string>(mailbox.status());
  if (!domain.ok()) {
    Send(Reply(501, "5.1.3", "Error: VRFY needs a full address like user@example.org"));
    CountError();
    co_return;
  }
  std::string address = AsciiToLower(mailbox->local_part) + "@" + *domain;
  RecipientCheck check = co_await backend_.CheckRecipient(address, false, 0);
  if (check.reply.IsPositive()) {
    Send(Reply(250, "2.1.5", "<" + address + ">"));
  } else if (check.reply.code == 554) {
    Send(kNoVerify);  // not ours: we do not say anything about it
  } else {
    Send(check.reply);
  }
}

asio::awaitable<void> Session::DoStartTls() {
  if (conn_->tls()) {
    Send(Reply(503, "5.5.1", "Error: TLS is already active"));
    CountError();
    co_return;
  }
  if (!options_.tls) {
    Send(Reply(502, "5.5.1", "Error: STARTTLS is not available"));
    CountError();
    co_return;
  }
  Send(Reply(220, "2.0.0", "Ready to start TLS"));
  co_await Flush();
  if (closing_) co_return;
  bool secured = co_await conn_->StartTls(*options_.tls, options_.command_timeout);
  if (!secured) {
    LOG_INFO("smtp: TLS handshake with [{}] failed", conn_->remote_ip());
    closing_ = true;
    co_return;
  }
  // RFC 3207 §4.2: forget everything learned before the handshake.
  helo_.clear();
  authenticated_.clear();
  extended_ = false;
  Reset();
}

}  // namespace postern::smtpserver
