// One IMAP session (RFC 3501 IMAP4rev1): a coroutine that reads commands
// (framing literals), runs them against the store and answers. Split by
// command family: session.cc (framing, state, authentication, IDLE),
// session_mailbox.cc (LIST, STATUS, CREATE, ..., APPEND), session_message.cc
// (FETCH, STORE, SEARCH, COPY, MOVE, EXPUNGE), session_sort.cc (SORT,
// THREAD).
//
// Other sessions' changes reach this one through mailbox::ChangeNotifier:
// announced after the next command, and at once while it IDLEs. Every store
// call runs on the blocking pool. Runs on one I/O thread; not thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "imap/command.h"
#include "imap/writer.h"
#include "imapserver/selected.h"
#include "mailbox/notifier.h"
#include "net/connection.h"
#include "sasl/credentials.h"
#include "sasl/guard.h"
#include "sasl/mechanism.h"
#include "store/store.h"

namespace postern::imapserver {

struct SessionOptions {
  std::string hostname = "localhost";
  std::shared_ptr<asio::ssl::context> tls;  // null: no STARTTLS
  bool implicit_tls = false;                // port 993: TLS before the greeting
  // LOGIN and AUTHENTICATE without TLS (LOGINDISABLED otherwise).
  bool allow_plaintext_auth = false;
  size_t max_line = 64 * 1024;                 // one command line, CRLF included
  uint64_t max_literal = 64ull * 1024 * 1024;  // APPENDLIMIT; also any one command
  // RFC 9051 §5.4: at least 30 minutes of inactivity before logging out.
  std::chrono::seconds idle_timeout{30 * 60};
  std::chrono::seconds login_timeout{60};  // before authentication
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
  sasl::Credentials& credentials;  // LOGIN and AUTHENTICATE (run on `blocking`)
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<net::Connection> conn, SessionContext context, SessionOptions options);
  ~Session();

  // Runs the session to its end; `self` (this session) keeps it alive.
  asio::awaitable<void> Run(std::shared_ptr<Session> self);

 private:
  enum class State { kNotAuthenticated, kAuthenticated, kSelected, kLogout };

  // What a command produced: the tagged completion ("OK ...", "NO ...",
  // "BAD ..." without the tag) and whether the session ends.
  struct Done {
    std::string status;
    bool close = false;
    bool start_tls = false;          // STARTTLS: negotiate once the OK is sent
    bool start_compression = false;  // COMPRESS: compress after the OK's CRLF
  };
  static Done Ok(std::string text) { return {"OK " + std::move(text)}; }
  static Done No(std::string text) { return {"NO " + std::move(text)}; }
  static Done Bad(std::string text) { return {"BAD " + std::move(text)}; }

  // ---- session.cc
  std::string Capabilities() const;
  bool CanAuthenticate() const { return conn_->tls() || options_.allow_plaintext_auth; }
  // Reads one whole command (line, literals, following lines) into `buf`.
  // nullopt: the session must end (EOF, timeout, too long to resync).
  asio::awaitable<std::optional<std::string>> ReadCommand();
  asio::awaitable<Done> Dispatch(const imap::Command& command);
  asio::awaitable<Done> Login(const std::string& user, const std::string& password);
  // AUTHENTICATE with any mechanism of sasl/ (RFC 9051 §6.2.2, SASL-IR).
  asio::awaitable<Done> Authenticate(const imap::Command& command);
  // A kBlocked step while this client is blocked by the guard (guard.h).
  std::optional<sasl::StepResult> GuardCheck() const;
  // The answer to a finished credential check: logged in, or NO/BAD after
  // the failed-login delay and count.
  asio::awaitable<Done> FinishLogin(sasl::StepResult result, std::string_view mechanism,
                                    std::string user);
  // One SASL round: sends the challenge (raw; base64-encoded here) and
  // returns the decoded response, or the text for a BAD: cancelled with "*",
  // not base64, connection failed.
  asio::awaitable<Result<std::string>> SaslStep(std::string challenge);
  asio::awaitable<Done> Idle(const imap::Command& command);
  asio::awaitable<Done> StartTls();
  Done Compress(const imap::Command& command);
  Done Enable(const imap::Command& command);
  // A CONDSTORE enabling command ran (RFC 7162 §3.1).
  void EnableCondstore();
  SelectedMailbox::Reporting Reporting() const { return {condstore_, qresync_, imap4rev2_}; }
  asio::awaitable<Done> Select(const imap::Command& command);
  // Brings the selected mailbox up to date and queues what changed.
  asio::awaitable<void> Sync(bool allow_expunge);
  asio::awaitable<void> IdlePush(std::shared_ptr<Session> self);
  void OnChange(const mailbox::MailboxChange& change);
  void Unselect();
  void Send(std::string_view data) { conn_->Queue(data); }
  asio::awaitable<bool> Flush();
  // Publishes a change this session made, for the other sessions.
  void Announce(int64_t mailbox_id, uint64_t modseq, uint32_t uid = 0);

  // ---- session_mailbox.cc
  asio::awaitable<Done> List(const imap::Command& command);
  asio::awaitable<Done> Lsub(const imap::Command& command);
  // The untagged LIST response for one mailbox (RFC 9051 §6.3.2, for SELECT).
  asio::awaitable<void> ListOne(const std::string& name);
  asio::awaitable<Done> StatusCommand(const imap::Command& command);
  // Items STATUS and LIST RETURN (STATUS) answer; RECENT is IMAP4rev1 only
  // (RFC 9051 Appendix E item 12: not in IMAP4rev2's status-att).
  bool StatusItemSupported(imap::StatusItem item) const;
  // BAD for the first unsupported item, or nullopt.
  std::optional<Done> RefuseStatusItems(const std::vector<imap::StatusItem>& items) const;
  // "* STATUS name (...)\r\n" (nullopt: the store failed).
  asio::awaitable<std::optional<std::string>> StatusLine(
      const store::MailboxInfo& mailbox, const std::vector<imap::StatusItem>& items);
  asio::awaitable<Done> Create(const imap::Command& command);
  asio::awaitable<Done> Delete(const imap::Command& command);
  asio::awaitable<Done> Rename(const imap::Command& command);
  asio::awaitable<Done> Subscribe(const imap::Command& command, bool subscribe);
  asio::awaitable<Done> Append(const imap::Command& command);
  // GETQUOTA, GETQUOTAROOT, SETQUOTA (RFC 9208).
  asio::awaitable<Done> Quota(const imap::Command& command);
  // The mailbox named, or nullopt (store errors as kNotFound too).
  asio::awaitable<std::optional<store::MailboxInfo>> FindMailbox(const std::string& name);

  // ---- session_message.cc
  asio::awaitable<Done> Fetch(const imap::Command& command);
  asio::awaitable<Done> StoreFlags(const imap::Command& command);
  asio::awaitable<Done> Expunge(const imap::Command& command);
  asio::awaitable<Done> Copy(const imap::Command& command, bool move);
  asio::awaitable<Done> Search(const imap::Command& command);
  // The messages matching `criteria` (sequence numbers, ascending). nullopt
  // if the full-text index could not be read.
  asio::awaitable<std::optional<std::vector<uint32_t>>> MatchingMessages(
      const imap::SearchKey& criteria);
  // What SEARCH, SORT and THREAD share: the charset check (null: none was
  // given), CONDSTORE enabled by a MODSEQ key (RFC 7162 §3.1), the matching,
  // and with `save` "$" emptied when the command fails with NO (RFC 9051
  // §6.4.4.1). Either `error` is set or `seqs` holds what matched.
  struct Matches {
    std::optional<Done> error;
    std::vector<uint32_t> seqs;
  };
  asio::awaitable<Matches> FindMatches(const std::string* charset, const imap::SearchKey& criteria,
                                       bool save);
  // RFC 5182 SAVE: "$" becomes these messages (`seqs` in result order), or
  // only the MIN/MAX ones when `options` ask for those alone.
  void SaveSearchResult(unsigned options, const std::vector<uint32_t>& seqs);
  // The untagged result of SEARCH or SORT (`name`): a plain "* SEARCH" or
  // "* SORT" line, or with `extended` an ESEARCH line (RFC 4731, RFC 5267);
  // `modseq` adds the highest MODSEQ (RFC 7162 §3.1.5).
  void SendSearchResult(const imap::Command& command, std::string_view name, bool extended,
                        unsigned options, const std::vector<uint32_t>& seqs, bool modseq);
  // Strings in SEARCH, SORT and THREAD may be US-ASCII or UTF-8 (RFC 9051
  // §6.4.4, RFC 5256 §3); other charsets get kBadCharset.
  static bool SearchCharsetSupported(std::string_view charset) {
    return charset == "US-ASCII" || charset == "UTF-8";
  }
  static constexpr std::string_view kBadCharset =
      "NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset";
  // The cached ENVELOPE/BODY/BODYSTRUCTURE and preview of these messages
  // (parsed and saved when the cache has none, or, with `need_preview`, no
  // preview), read in one trip to the blocking pool; nullopt for a message
  // whose body is gone or unreadable.
  asio::awaitable<std::vector<std::optional<store::MessageParse>>> StructuresOf(
      const std::vector<uint32_t>& seqs, bool need_preview = false);
  asio::awaitable<std::optional<std::string>> ContentOf(const MessageView& message);
  // The headers of messages as served (mailbox::MessageHeaders), in one trip
  // to the blocking pool; nullopt for a message gone; nullopt as a whole when
  // the store failed.
  asio::awaitable<std::optional<std::vector<std::optional<std::string>>>> HeadersOf(
      std::vector<int64_t> ids);

  // ---- session_sort.cc
  // SORT and UID SORT (RFC 5256, RFC 5957 SORT=DISPLAY, RFC 5267 ESORT).
  asio::awaitable<Done> Sort(const imap::Command& command);
  // THREAD and UID THREAD (RFC 5256 REFERENCES and ORDEREDSUBJECT).
  asio::awaitable<Done> Thread(const imap::Command& command);

  std::shared_ptr<net::Connection> conn_;
  SessionContext context_;
  SessionOptions options_;
  imap::StringOptions strings_;  // .utf8 once IMAP4rev2 or UTF8=ACCEPT is enabled
  State state_ = State::kNotAuthenticated;
  int64_t account_id_ = 0;
  std::string account_address_;
  std::optional<SelectedMailbox> selected_;
  bool condstore_ = false;  // ENABLE CONDSTORE, or a CONDSTORE-using command
  bool qresync_ = false;    // ENABLE QRESYNC: VANISHED instead of EXPUNGE
  // ENABLE IMAP4rev2 (RFC 9051): the differences of its Appendix E from
  // IMAP4rev1 apply (no RECENT, ESEARCH for every SEARCH, a LIST response in
  // SELECT, UID in every unsolicited FETCH, UTF-8 mailbox names and headers).
  // Everything below that reads it differs between the two revisions only.
  bool imap4rev2_ = false;
  bool utf8_accept_ = false;  // ENABLE UTF8=ACCEPT (RFC 6855 §3)
  // Mailbox names and message headers in UTF-8 (either of the two).
  bool Utf8Enabled() const { return imap4rev2_ || utf8_accept_; }
  int failed_logins_ = 0;
  int bad_commands_ = 0;

  uint64_t subscription_ = 0;
  bool changed_ = false;                           // a change was announced since the last Sync
  bool idling_ = false;                            // inside IDLE: changes are pushed at once
  bool pushing_ = false;                           // an IdlePush coroutine is running
  std::unique_ptr<asio::steady_timer> push_done_;  // fires when pushing_ ends
};

}  // namespace postern::imapserver
