// One POP3 session (RFC 1939): a coroutine that reads command lines, runs
// them in the AUTHORIZATION, TRANSACTION and UPDATE states and answers.
// Extensions: CAPA, TOP, UIDL, USER, SASL (the mechanisms of sasl/),
// RESP-CODES, AUTH-RESP-CODE, PIPELINING, EXPIRE NEVER (RFC 2449, RFC 5034),
// STLS (RFC 2595).
//
// The maildrop is the account's INBOX as it was at login; DELE only marks,
// and QUIT applies the marks (RFC 1939 §6), announcing the expunge through
// mailbox::ChangeNotifier so IMAP sessions on the same INBOX see it. One POP3
// session per account at a time (MaildropLocks). Every store call runs on the
// blocking pool. Runs on one I/O thread; not thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "mailbox/notifier.h"
#include "net/connection.h"
#include "pop3/command.h"
#include "pop3server/maildrop.h"
#include "sasl/guard.h"
#include "sasl/mechanism.h"
#include "store/store.h"

namespace postern::pop3server {

struct SessionOptions {
  std::string hostname = "localhost";
  std::shared_ptr<asio::ssl::context> tls;  // null: no STLS
  bool implicit_tls = false;                // port 995: TLS before the greeting
  // USER/PASS and AUTH without TLS.
  bool allow_plaintext_auth = false;
  // RFC 1939 §3: an autologout timer must be at least 10 minutes.
  std::chrono::seconds idle_timeout{10 * 60};
  std::chrono::milliseconds failed_login_delay{2000};
  int max_failed_logins = 3;
  std::shared_ptr<sasl::AuthGuard> guard;  // failed logins across sessions; null: none
  int max_bad_commands = 20;
};

// What every session shares; all outlive the sessions.
struct SessionContext {
  store::Store& store;
  asio::thread_pool& blocking;
  mailbox::ChangeNotifier& notifier;
  sasl::Credentials& credentials;  // USER/PASS and AUTH (run on `blocking`)
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `locks` outlive the session, like `context`.
  Session(std::shared_ptr<net::Connection> conn, SessionContext context, MaildropLocks& locks,
          SessionOptions options);
  ~Session();

  asio::awaitable<void> Run();

 private:
  enum class State { kAuthorization, kTransaction, kUpdate };

  // What a command produced: the whole response (status line and any
  // multi-line body) and what happens next.
  struct Reply {
    std::string text;
    bool close = false;
    bool start_tls = false;  // STLS: negotiate once the +OK is sent
    bool bad = false;        // counts towards max_bad_commands
  };
  static Reply Ok(std::string_view text);
  static Reply Err(std::string_view text, std::string_view code = "");

  bool CanLogin() const { return conn_->tls() || options_.allow_plaintext_auth; }
  std::string Capabilities() const;
  asio::awaitable<Reply> Dispatch(const pop3::Command& command);
  asio::awaitable<Reply> Authorization(const pop3::Command& command);
  asio::awaitable<Reply> Auth(const pop3::Command& command);
  // One SASL round (RFC 5034 §4): sends the challenge, returns the decoded
  // response; an error for "*", bad base64 or a lost connection.
  asio::awaitable<Result<std::string>> SaslStep(std::string challenge);
  // A kBlocked step while this client is blocked by the guard (guard.h).
  std::optional<sasl::StepResult> GuardCheck() const;
  // After a credential check: on success takes the maildrop lock and reads
  // the INBOX; on failure answers with the RFC 2449/3206 code.
  asio::awaitable<Reply> Login(sasl::StepResult result, std::string_view mechanism,
                               std::string user);
  asio::awaitable<Reply> Transaction(const pop3::Command& command);
  asio::awaitable<Reply> Retrieve(uint32_t number, std::optional<uint64_t> body_lines);
  // UPDATE (RFC 1939 §6): \Seen for what was retrieved, and with `expunge`
  // the messages marked deleted removed. Returns false if the store failed.
  asio::awaitable<bool> Update(bool expunge);
  asio::awaitable<bool> Flush();

  std::shared_ptr<net::Connection> conn_;
  SessionContext context_;
  MaildropLocks& locks_;
  SessionOptions options_;
  State state_ = State::kAuthorization;
  std::string user_;  // from USER, waiting for PASS
  int64_t account_id_ = 0;
  std::string account_address_;
  std::unique_ptr<MaildropLocks::Handle> lock_;
  Maildrop maildrop_;
  bool updated_ = false;  // Update() has run
  int failed_logins_ = 0;
  int bad_commands_ = 0;
};

}  // namespace postern::pop3server
