// One inbound SMTP session (RFC 5321), as one coroutine that reads like the
// protocol: greeting, then command after command until QUIT, a limit, a
// timeout or a drain. Parsing is smtp::ParseCommand (pure, fuzzed); policy
// and storage are behind Backend. Runs on its connection's executor.
//
// Split by phase: session.cc (loop, greeting, HELO/EHLO, simple commands,
// STARTTLS), session_envelope.cc (MAIL, RCPT), session_data.cc (DATA, BDAT).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <optional>
#include <string>

#include "net/connection.h"
#include "sasl/guard.h"
#include "smtp/command.h"
#include "smtp/data_decoder.h"
#include "smtpserver/backend.h"
#include "smtpserver/memory_budget.h"

namespace postern::smtpserver {

struct SessionOptions {
  std::string hostname = "localhost";
  uint64_t max_message_size = 50u << 20;
  size_t max_recipients = 1000;
  size_t max_command_line = 2048;
  size_t max_data_line = 1u << 20;
  net::Duration command_timeout = std::chrono::minutes(5);
  net::Duration data_timeout = std::chrono::minutes(5);
  int max_errors = 20;
  int max_hops = 50;
  smtp::BareLineEndings bare_line_endings = smtp::BareLineEndings::kNormalize;
  bool vrfy = false;
  std::shared_ptr<boost::asio::ssl::context> tls;  // null: no STARTTLS
  std::shared_ptr<MemoryBudget> memory;            // null: no server-wide cap

  // Message submission (RFC 6409, session_submit.cc): AUTH is offered (after
  // TLS unless allow_plaintext_auth) and required before MAIL; the user may
  // send to any address, only as its own addresses (MAIL FROM and From:), and
  // a missing Message-ID or Date is added.
  bool submission = false;
  bool implicit_tls = false;  // the client came to a TLS port: handshake first
  bool allow_plaintext_auth = false;
  bool reveal_client_ip = false;  // submission: name the client in Received:
  net::Duration failed_login_delay = std::chrono::seconds(2);
  int max_failed_logins = 3;
  std::shared_ptr<sasl::AuthGuard> guard;  // failed logins across sessions; null: none
};

class Session {
 public:
  Session(std::shared_ptr<net::Connection> connection, Backend& backend,
          const SessionOptions& options);
  asio::awaitable<void> Run();

 private:
  struct Transaction {
    bool active = false;
    std::string mail_from;  // normalized, "" for <>
    smtp::MailParams params;
    std::vector<AcceptedRecipient> recipients;
    int rejected = 0;
    size_t destinations = 0;  // final addresses of all recipients, after aliases
    // Content being received (DATA, or BDAT chunks so far).
    std::string queue_id;
    std::string content;
    std::optional<smtp::DataDecoder> chunks;  // BDAT in progress
    uint64_t chunk_bytes = 0;                 // BDAT bytes announced so far
    MemoryReservation memory;                 // what `content` holds of the budget
    bool over_budget = false;                 // content was dropped: answer 452
    size_t message_begin = 0;                 // where the client's bytes start in `content`
  };

  void Send(const smtp::Reply& reply);
  asio::awaitable<void> Flush();
  void CountError() { ++errors_; }
  void Reset() { txn_ = Transaction(); }
  smtp::Reply NoRecipientsReply() const;

  asio::awaitable<void> Handle(const smtp::ParsedCommand& parsed);
  void DoHelo(const smtp::Command& cmd);
  void DoHelp();
  asio::awaitable<void> DoVrfy(const smtp::Command& cmd);
  asio::awaitable<void> DoStartTls();
  asio::awaitable<void> DoMail(const smtp::Command& cmd);
  // Submission (session_submit.cc).
  bool CanAuthenticate() const { return conn_->tls() || options_.allow_plaintext_auth; }
  asio::awaitable<void> DoAuth(const smtp::Command& cmd);
  asio::awaitable<Result<std::string>> AuthChallenge(std::string challenge);
  asio::awaitable<void> AuthFailed(const std::string& mechanism, const std::string& user,
                                   const std::string& reason);
  // MAIL FROM on submission: nullopt if the user may use `from`.
  asio::awaitable<std::optional<smtp::Reply>> CheckSender(const std::string& from);
  // The header of a submitted message: From:/Sender: must be the user's, and
  // a missing Date: or Message-ID: is added (RFC 6409 §8.2, §8.3).
  asio::awaitable<std::optional<smtp::Reply>> CheckSubmittedHeader();
  asio::awaitable<void> DoRcpt(const smtp::Command& cmd);
  asio::awaitable<void> DoData();
  asio::awaitable<void> DoBdat(const smtp::Command& cmd);

  // Starts the content: queue id and our Received: field.
  void BeginContent();
  // Charges the budget for what `content` grew by since `before`; once the
  // budget is spent, drops the content (the message will get 452 4.3.1).
  void ChargeContent(size_t before);
  // Checks a complete message and hands it to the backend; sends the reply.
  asio::awaitable<void> FinishMessage(const smtp::DataDecoder& decoder);
  // Sends 421 and ends the session after a read failed mid-message.
  void AbortRead(net::ReadStatus status);

  std::shared_ptr<net::Connection> conn_;
  Backend& backend_;
  const SessionOptions& options_;

  std::string helo_;  // empty until HELO/EHLO
  bool extended_ = false;
  bool closing_ = false;
  // The last reply may wait in the output buffer for the replies after it
  // (RFC 2920 §3.2: only RSET, MAIL, RCPT and, RFC 3030, non-final BDAT).
  bool may_wait_ = false;
  int errors_ = 0;
  int messages_ = 0;
  Transaction txn_;
  std::string authenticated_;  // submission: the account's address once AUTH succeeded
  int failed_logins_ = 0;
  std::optional<smtp::Reply> auth_error_;  // why the last AuthChallenge failed
};

}  // namespace postern::smtpserver
