// SmtpSession: message content, DATA (RFC 5321 §4.1.1.4) and BDAT (RFC 3030).
#include "base/clock.h"
#include "base/log.h"
#include "queue/queue_id.h"
#include "smtpserver/received.h"
#include "smtpserver/session.h"

namespace postern::smtpserver {

using smtp::Reply;

Reply Session::NoRecipientsReply() const {
  // RFC 5321 §3.3: 554 "no valid recipients" once RCPTs were all refused.
  if (txn_.rejected > 0) return Reply(554, "5.5.1", "Error: no valid recipients");
  return Reply(503, "5.5.1", "Error: need RCPT command");
}

void Session::BeginContent() {
  txn_.queue_id = queue::NewQueueId();
  ReceivedInfo info;
  info.helo = helo_;
  info.client_ip = conn_->remote_ip();
  info.tls = conn_->TlsDescription();
  info.hostname = options_.hostname;
  info.extended = extended_;
  info.smtputf8 = txn_.params.smtputf8;
  info.queue_id = txn_.queue_id;
  if (txn_.recipients.size() == 1) info.single_recipient = txn_.recipients[0].address;
  info.time = Clock::Real().NowUnix();
  info.authenticated = !authenticated_.empty();
  info.hide_client = options_.submission && !options_.reveal_client_ip;
  txn_.content = BuildReceivedHeader(info);
  txn_.message_begin = txn_.content.size();
  txn_.memory = MemoryReservation(options_.memory);
  ChargeContent(0);
}

void Session::ChargeContent(size_t before) {
  if (!txn_.over_budget && txn_.memory.Grow(txn_.content.size() - before)) return;
  if (!txn_.over_budget) {
    LOG_WARN(
        "smtp: {} from [{}]: the memory budget for messages in progress is spent; "
        "answering 452 (raise smtp.memory_limit?)",
        txn_.queue_id, conn_->remote_ip());
  }
  txn_.over_budget = true;
  txn_.memory.Release();
  txn_.content.clear();
  txn_.content.shrink_to_fit();
}

void Session::AbortRead(net::ReadStatus status) {
  if (status == net::ReadStatus::kTimeout) {
    Send(Reply(421, "4.4.2", options_.hostname + " Error: timeout exceeded", true));
  }
  LOG_INFO("smtp: [{}] lost during message content; nothing was kept", conn_->remote_ip());
  closing_ = true;
}

asio::awaitable<void> Session::DoData() {
  if (!txn_.active) {
    Send(Reply(503, "5.5.1", "Error: need MAIL command"));
    CountError();
    co_return;
  }
  if (txn_.chunks) {
    Send(Reply(503, "5.5.1", "Error: DATA after BDAT"));  // RFC 3030 §3
    CountError();
    co_return;
  }
  if (txn_.recipients.empty()) {
    Send(NoRecipientsReply());
    CountError();
    co_return;
  }
  Send(Reply(354, "", "End data with <CR><LF>.<CR><LF>"));
  co_await Flush();
  if (closing_) co_return;
  BeginContent();
  smtp::DataDecoder decoder({.mode = smtp::DataDecoder::Mode::kDotStuffed,
                             .max_size = options_.max_message_size,
                             .max_line_length = options_.max_data_line,
                             .bare_line_endings = options_.bare_line_endings});
  while (!decoder.done()) {
    auto [status, bytes] = co_await conn_->ReadSome(options_.data_timeout);
    if (status != net::ReadStatus::kOk) {
      AbortRead(status);
      co_return;
    }
    const size_t before = txn_.content.size();
    conn_->Consume(decoder.Feed(bytes, &txn_.content));
    ChargeContent(before);
  }
  co_await FinishMessage(decoder);
}

asio::awaitable<void> Session::DoBdat(const smtp::Command& cmd) {
  if (cmd.bdat_size > options_.max_message_size) {
    // One chunk beyond the size limit: reading (and discarding) it all would
    // let a client tie up the session for gigabytes, and without reading it
    // the stream cannot be resynchronised, so refuse and close.
    Send(Reply(552, "5.3.4",
               "Chunk exceeds the maximum message size of " +
                   std::to_string(options_.max_message_size) + " bytes; closing",
               true));
    CountError();
    co_return;
  }
  // Decide first, then read the chunk whatever the verdict: the client sends
  // it regardless (RFC 3030 §3), and it must not be read as commands.
  std::optional<Reply> refusal;
  if (!txn_.active) {
    refusal = Reply(503, "5.5.1", "Error: need MAIL command");
  } else if (txn_.recipients.empty()) {
    refusal = NoRecipientsReply();
  } else if (txn_.chunk_bytes + cmd.bdat_size > options_.max_message_size) {
    refusal = smtp::TooBigReply(options_.max_message_size);
  }
  if (!refusal && !txn_.chunks) {
    BeginContent();
    txn_.chunks.emplace(
        smtp::DataDecoder::Options{.mode = smtp::DataDecoder::Mode::kChunked,
                                   .max_size = options_.max_message_size,
                                   .max_line_length = options_.max_data_line,
                                   .bare_line_endings = options_.bare_line_endings});
  }
  uint64_t remaining = cmd.bdat_size;
  while (remaining > 0) {
    auto [status, bytes] = co_await conn_->ReadSome(options_.data_timeout);
    if (status != net::ReadStatus::kOk) {
      AbortRead(status);
      co_return;
    }
    size_t take = static_cast<size_t>(std::min<uint64_t>(remaining, bytes.size()));
    if (!refusal) {
      const size_t before = txn_.content.size();
      txn_.chunks->Feed(bytes.substr(0, take), &txn_.content);
      ChargeContent(before);
    }
    conn_->Consume(take);
    remaining -= take;
  }
  if (refusal) {
    Send(*refusal);
    CountError();
    Reset();  // RFC 3030 §4.2: a failed chunk fails the transaction
    co_return;
  }
  txn_.chunk_bytes += cmd.bdat_size;
  if (!cmd.bdat_last) {
    Send(Reply(250, "2.0.0", "Ok: " + std::to_string(cmd.bdat_size) + " octets received"));
    co_return;
  }
  const size_t before = txn_.content.size();
  txn_.chunks->Finish(&txn_.content);
  ChargeContent(before);
  smtp::DataDecoder decoder = std::move(*txn_.chunks);
  co_await FinishMessage(decoder);
}

asio::awaitable<void> Session::FinishMessage(const smtp::DataDecoder& decoder) {
  std::optional<Reply> refusal;
  if (txn_.over_budget) {
    refusal = Reply(452, "4.3.1",
                    "Insufficient system storage: too much mail in progress, "
                    "try again later");
  } else if (decoder.size_exceeded()) {
    refusal = smtp::TooBigReply(options_.max_message_size);
  } else if (decoder.line_too_long()) {
    refusal = Reply(554, "5.6.0",
                    "Message has a line longer than " + std::to_string(options_.max_data_line) +
                        " bytes; wrap long lines or use a MIME encoding");
  } else if (decoder.bare_line_ending() &&
             options_.bare_line_endings == smtp::BareLineEndings::kReject) {
    refusal = Reply(554, "5.6.0", "Message has a bare CR or LF; lines must end in CRLF");
  } else if (decoder.received_headers() + 1 > options_.max_hops) {
    // RFC 5321 §6.3: too many Received: fields means a loop.
    refusal = Reply(554, "5.4.6",
                    "Too many hops (" + std::to_string(decoder.received_headers()) +
                        " Received: fields); mail loop?");
  }
  if (!refusal && options_.submission) refusal = co_await CheckSubmittedHeader();
  if (refusal) {
    LOG_INFO("smtp: {} from [{}] refused: {}", txn_.queue_id, conn_->remote_ip(),
             refusal->Summary());
    Send(*refusal);
    if (refusal->IsPermanent()) CountError();
    Reset();
    co_return;
  }
  if (decoder.bare_line_ending()) {
    LOG_INFO("smtp: {} from [{}] had bare CR/LF, normalized to CRLF", txn_.queue_id,
             conn_->remote_ip());
  }

  Envelope env;
  env.queue_id = txn_.queue_id;
  env.mail_from = txn_.mail_from;
  env.params = txn_.params;
  env.recipients = std::move(txn_.recipients);
  env.client = helo_ + " [" + conn_->remote_ip() + "]";
  env.authenticated = authenticated_;
  env.arrival = Clock::Real().NowUnix();
  const size_t nrcpt = env.recipients.size();
  const size_t size = txn_.content.size();
  std::string queue_id = txn_.queue_id;
  std::string from = txn_.mail_from;
  std::string content = std::move(txn_.content);
  MemoryReservation memory = std::move(txn_.memory);  // held until stored
  Reset();

  Status stored = co_await backend_.Accept(std::move(env), std::move(content));
  if (!stored.ok()) {
    LOG_ERROR("smtp: {} from [{}] not stored: {}", queue_id, conn_->remote_ip(), stored.ToString());
    if (stored.code() == StatusCode::kResourceExhausted) {
      Send(Reply(452, "4.3.1", "Insufficient system storage, try again later"));
    } else {
      Send(Reply(451, "4.3.0", "Temporary failure storing the message, try again later"));
    }
    co_return;
  }
  ++messages_;
  LOG_INFO("smtp: {} accepted from=<{}> size={} nrcpt={} client=[{}]{}{}", queue_id, from, size,
           nrcpt, conn_->remote_ip(), conn_->tls() ? " tls" : "",
           authenticated_.empty() ? "" : " user=<" + authenticated_ + ">");
  Send(Reply(250, "2.0.0", "Ok: queued as " + queue_id));
}

}  // namespace postern::smtpserver
