// IMAP session: framing, states, authentication, SELECT, IDLE.
#include "imapserver/session.h"

#include <algorithm>

#include "base/base64.h"
#include "base/log.h"
#include "base/strings.h"
#include "imap/literal.h"
#include "imap/writer.h"
#include "net/async.h"
#include "net/listener.h"
#include "sasl/exchange.h"
#include "sasl/mechanism.h"

namespace postern::imapserver {
namespace {

using namespace std::chrono_literals;

constexpr auto kWriteTimeout = 60s;

// The numbers of a set, in order, at most `limit` of them.
std::vector<uint32_t> FirstNumbers(const imap::SequenceSet& set, size_t limit) {
  std::vector<uint32_t> out;
  for (const imap::SequenceRange& r : set.Resolve(UINT32_MAX)) {
    for (uint64_t n = r.first; n <= r.last && out.size() < limit; ++n) {
      out.push_back(static_cast<uint32_t>(n));
    }
  }
  return out;
}

// RFC 7162 §3.2.5.2: each leading (sequence number, UID) pair of the
// seq-match data that still holds tells that the client knows every expunge
// up to that UID; the lowest UID a VANISHED (EARLIER) must still cover.
uint32_t LowestUnknownExpunge(const SelectedMailbox& s, const imap::Qresync& q) {
  if (!q.known_sequence_numbers || !q.known_sequence_uids) return 1;
  constexpr size_t kMaxPairs = 100'000;
  std::vector<uint32_t> seqs = FirstNumbers(*q.known_sequence_numbers, kMaxPairs);
  std::vector<uint32_t> uids = FirstNumbers(*q.known_sequence_uids, kMaxPairs);
  uint32_t lowest = 1;
  for (size_t i = 0; i < seqs.size() && i < uids.size(); ++i) {
    if (seqs[i] > s.exists() || s.at(seqs[i]).uid != uids[i]) break;
    lowest = uids[i] + 1;
  }
  return lowest;
}

// The tag of a command line that could not be run (for NO [TOOBIG]).
std::string TagOf(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && n < 64 && line[n] > ' ' && line[n] < 0x7f && line[n] != '{' &&
         line[n] != '(' && line[n] != ')' && line[n] != '%' && line[n] != '*' && line[n] != '"' &&
         line[n] != '\\' && line[n] != '+') {
    ++n;
  }
  if (n == 0 || (n < line.size() && line[n] != ' ')) return "*";
  return std::string(line.substr(0, n));
}

}  // namespace

Session::Session(std::shared_ptr<net::Connection> conn, SessionContext context,
                 SessionOptions options)
    : conn_(std::move(conn)), context_(context), options_(std::move(options)) {}

Session::~Session() {
  if (subscription_ != 0) context_.notifier.Unsubscribe(subscription_);
}

std::string Session::Capabilities() const {
  // IMAP4rev1 stays the default; a client ENABLEs IMAP4rev2 (RFC 9051 §6.3.1).
  std::string caps = "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UNSELECT";
  caps += " UIDPLUS MOVE UTF8=ACCEPT";
  caps += " CHILDREN SPECIAL-USE CREATE-SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE";
  caps += " CONDSTORE QRESYNC QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE SAVEDATE ESEARCH WITHIN";
  caps += " BINARY MULTIAPPEND OBJECTID PREVIEW";
  caps += " SEARCHRES SORT SORT=DISPLAY ESORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES";
  caps += " COMPRESS=DEFLATE";
  // RFC 7889: the largest APPEND accepted, for every mailbox.
  caps += " APPENDLIMIT=" + std::to_string(options_.max_literal);
  if (state_ == State::kNotAuthenticated) {
    if (options_.tls && !conn_->tls()) caps += " STARTTLS";
    if (CanAuthenticate()) {
      for (std::string_view name : sasl::MechanismNames()) caps += " AUTH=" + std::string(name);
    } else {
      caps += " LOGINDISABLED";
    }
  }
  return caps;
}

asio::awaitable<bool> Session::Flush() { co_return co_await conn_->Flush(kWriteTimeout); }

void Session::EnableCondstore() {
  if (condstore_) return;
  condstore_ = true;
  // RFC 7162 §3.1: the first enabling command with a mailbox selected.
  if (selected_) {
    Send("* OK [HIGHESTMODSEQ " + std::to_string(selected_->ReportableModSeq()) + "] Highest\r\n");
  }
}

void Session::Announce(int64_t mailbox_id, uint64_t modseq, uint32_t uid) {
  context_.notifier.Publish({account_id_, mailbox_id, modseq, uid});
}

asio::awaitable<void> Session::Run(std::shared_ptr<Session> self) {
  (void)self;  // keeps the session alive while it runs
  if (options_.implicit_tls) {
    bool secured = false;
    if (options_.tls) secured = co_await conn_->StartTls(*options_.tls, 30s);
    if (!secured) {
      conn_->Close();
      co_return;
    }
  }
  Send("* OK [CAPABILITY " + Capabilities() + "] " + options_.hostname + " Postern IMAP ready\r\n");
  bool sent = co_await Flush();
  if (!sent) co_return;

  while (state_ != State::kLogout) {
    std::optional<std::string> text = co_await ReadCommand();
    if (!text) break;
    if (text->empty()) {  // answered while framing (NO [TOOBIG] and the like)
      bool sent = co_await Flush();
      if (!sent) break;
      continue;
    }
    imap::ParseOptions parse_options;
    parse_options.utf8 = strings_.utf8;  // mailbox names in UTF-8 (RFC 9051 §5.1, RFC 6855 §3)
    imap::ParsedCommand parsed = imap::ParseCommand(*text, parse_options);
    Done done;
    std::string tag;
    if (!parsed.ok()) {
      Send(parsed.error->Response());
      if (++bad_commands_ >= options_.max_bad_commands) {
        Send("* BYE Too many invalid commands\r\n");
        co_await Flush();
        break;
      }
      bool sent = co_await Flush();
      if (!sent) break;
      continue;
    }
    const imap::Command& command = *parsed.command;
    tag = command.tag;
    if (command.verb == imap::Verb::kIdle && state_ != State::kNotAuthenticated) {
      // Called from here rather than from Dispatch(), whose frame (room for
      // every command's locals, about 1.5 KB) would otherwise stay allocated
      // for as long as the client idles.
      done = co_await Idle(command);
    } else {
      done = co_await Dispatch(command);
    }
    if (selected_ && changed_ && state_ == State::kSelected) {
      // RFC 9051 §7.5.1: no EXPUNGE during FETCH, STORE or SEARCH, nor
      // during SORT and THREAD (RFC 5256 §3); their UID forms may have them.
      using imap::Verb;
      const bool hold =
          !command.uid && (command.verb == Verb::kFetch || command.verb == Verb::kStore ||
                           command.verb == Verb::kSearch || command.verb == Verb::kSort ||
                           command.verb == Verb::kThread);
      co_await Sync(!hold);
    }
    if (done.status.starts_with("BAD") && ++bad_commands_ >= options_.max_bad_commands) {
      done.close = true;
    }
    Send(tag + " " + done.status + "\r\n");
    if (done.close) {
      co_await Flush();
      break;
    }
    bool sent = co_await Flush();
    if (!sent) break;
    if (done.start_tls) {
      // RFC 9051 §6.2.1: the handshake starts right after the tagged OK;
      // anything the client pipelined before it is discarded.
      bool secured = co_await conn_->StartTls(*options_.tls, 30s);
      if (!secured) break;
    }
    // RFC 4978 §3: compression starts right after the CRLF of the tagged OK
    // (Compress() checked that it can start).
    if (done.start_compression && !conn_->StartCompression()) break;
  }
  conn_->Close();
}

asio::awaitable<std::optional<std::string>> Session::ReadCommand() {
  const auto timeout = state_ == State::kNotAuthenticated
                           ? std::chrono::duration_cast<net::Duration>(options_.login_timeout)
                           : std::chrono::duration_cast<net::Duration>(options_.idle_timeout);
  net::Line line = co_await conn_->ReadLine(options_.max_line, timeout, true);
  if (line.status == net::ReadStatus::kTooLong) {
    Send("* BAD Command line too long\r\n");
    co_return std::string();
  }
  if (line.status == net::ReadStatus::kDrained) {
    Send("* BYE Server shutting down\r\n");
    co_await Flush();
    co_return std::nullopt;
  }
  if (line.status == net::ReadStatus::kTimeout) {
    Send("* BYE Autologout; idle for too long\r\n");
    co_await Flush();
    co_return std::nullopt;
  }
  if (line.status != net::ReadStatus::kOk) co_return std::nullopt;
  std::string buf(line.text);
  size_t last_line = 0;
  imap::LiteralLimits limits;
  limits.max_size = options_.max_literal;
  limits.max_non_synchronizing = options_.max_literal;
  while (auto marker = imap::TrailingLiteral(std::string_view(buf).substr(last_line), limits)) {
    if (!marker->ok() || buf.size() + marker->size > options_.max_literal + options_.max_line) {
      if (marker->MustCloseConnection() || !marker->synchronizing) {
        Send("* BYE [TOOBIG] Literal too large\r\n");
        co_await Flush();
        co_return std::nullopt;
      }
      const std::string tag = TagOf(buf);
      if (marker->status == imap::LiteralStatus::kInvalidSize) {
        Send(tag + " BAD Invalid literal size\r\n");
      } else {
        Send(tag + " NO [TOOBIG] Literal larger than " + std::to_string(options_.max_literal) +
             " octets\r\n");
      }
      co_return std::string();
    }
    if (marker->synchronizing) {
      Send("+ Ready for literal data\r\n");
      bool sent = co_await Flush();
      if (!sent) co_return std::nullopt;
    }
    buf.append("\r\n");
    uint64_t need = marker->size;
    while (need > 0) {
      std::pair<net::ReadStatus, std::string_view> got = co_await conn_->ReadSome(timeout);
      if (got.first != net::ReadStatus::kOk) co_return std::nullopt;
      std::string_view data = got.second;
      size_t take = static_cast<size_t>(std::min<uint64_t>(need, data.size()));
      buf.append(data.substr(0, take));
      conn_->Consume(take);
      need -= take;
    }
    net::Line next = co_await conn_->ReadLine(options_.max_line, timeout, false);
    if (next.status == net::ReadStatus::kTooLong) {
      Send("* BAD Command line too long\r\n");
      co_return std::string();
    }
    if (next.status != net::ReadStatus::kOk) co_return std::nullopt;
    last_line = buf.size();
    buf.append(next.text);
  }
  co_return buf;
}

asio::awaitable<Session::Done> Session::Dispatch(const imap::Command& command) {
  using imap::Verb;
  const Verb verb = command.verb;
  // Commands valid in any state.
  switch (verb) {
    case Verb::kCapability:
      Send("* CAPABILITY " + Capabilities() + "\r\n");
      co_return Ok("CAPABILITY completed");
    case Verb::kNoop:
    case Verb::kCheck:
      if (verb == Verb::kCheck && state_ != State::kSelected) break;
      if (selected_) {
        changed_ = true;  // a poll: look even without a notification
        co_await Sync(true);
      }
      co_return Ok(std::string(imap::VerbName(verb)) + " completed");
    case Verb::kLogout:
      Send("* BYE Logging out\r\n");
      state_ = State::kLogout;
      co_return Done{"OK LOGOUT completed", true};
    case Verb::kId:
      // RFC 2971: our name, nothing that helps an attacker more.
      Send("* ID (\"name\" \"Postern\")\r\n");
      co_return Ok("ID completed");
    default:
      break;
  }
  if (state_ == State::kNotAuthenticated) {
    switch (verb) {
      case Verb::kStartTls:
        co_return co_await StartTls();
      case Verb::kLogin: {
        const auto& login = command.Get<imap::Login>();
        if (!CanAuthenticate()) {
          co_return No("[PRIVACYREQUIRED] Use STARTTLS or port 993 to log in");
        }
        co_return co_await Login(login.user, login.password);
      }
      case Verb::kAuthenticate:
        co_return co_await Authenticate(command);
      default:
        co_return Bad("Log in first");
    }
  }
  switch (verb) {
    case Verb::kStartTls:
    case Verb::kLogin:
    case Verb::kAuthenticate:
      co_return Bad("Already authenticated");
    case Verb::kEnable:
      co_return Enable(command);
    case Verb::kCompress:
      co_return Compress(command);
    case Verb::kSelect:
    case Verb::kExamine:
      co_return co_await Select(command);
    case Verb::kCreate:
      co_return co_await Create(command);
    case Verb::kDelete:
      co_return co_await Delete(command);
    case Verb::kRename:
      co_return co_await Rename(command);
    case Verb::kSubscribe:
      co_return co_await Subscribe(command, true);
    case Verb::kUnsubscribe:
      co_return co_await Subscribe(command, false);
    case Verb::kList:
      co_return co_await List(command);
    case Verb::kLsub:
      co_return co_await Lsub(command);
    case Verb::kNamespace:
      Send("* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
      co_return Ok("NAMESPACE completed");
    case Verb::kStatus:
      co_return co_await StatusCommand(command);
    case Verb::kAppend:
      co_return co_await Append(command);
    case Verb::kGetQuota:
    case Verb::kGetQuotaRoot:
    case Verb::kSetQuota:
      co_return co_await Quota(command);
    default:
      break;
  }
  if (state_ != State::kSelected) {
    switch (verb) {
      case Verb::kCheck:
      case Verb::kClose:
      case Verb::kUnselect:
      case Verb::kExpunge:
      case Verb::kSearch:
      case Verb::kSort:
      case Verb::kThread:
      case Verb::kFetch:
      case Verb::kStore:
      case Verb::kCopy:
      case Verb::kMove:
        co_return Bad("No mailbox selected");
      default:
        co_return Bad("Command not supported");
    }
  }
  switch (verb) {
    case Verb::kClose: {
      if (!selected_->read_only()) {
        // RFC 9051 §6.4.1: expunge silently, then leave.
        const int64_t id = selected_->id();
        auto expunge = [this, id] { return context_.store.Expunge(id, std::nullopt); };
        Result<store::ExpungeResult> r = co_await Offload(context_.blocking, std::move(expunge));
        if (r.ok() && !r->uids.empty()) Announce(id, r->highestmodseq);
      }
      Unselect();
      co_return Ok("CLOSE completed");
    }
    case Verb::kUnselect:
      Unselect();
      co_return Ok("UNSELECT completed");
    case Verb::kExpunge:
      co_return co_await Expunge(command);
    case Verb::kSearch:
      co_return co_await Search(command);
    case Verb::kSort:
      co_return co_await Sort(command);
    case Verb::kThread:
      co_return co_await Thread(command);
    case Verb::kFetch:
      co_return co_await Fetch(command);
    case Verb::kStore:
      co_return co_await StoreFlags(command);
    case Verb::kCopy:
      co_return co_await Copy(command, false);
    case Verb::kMove:
      co_return co_await Copy(command, true);
    default:
      co_return Bad("Command not supported");
  }
}

Session::Done Session::Enable(const imap::Command& command) {
  const std::vector<std::string>& names = command.Get<imap::Enable>().capabilities;
  // RFC 9051 §6.3.1, RFC 6855 §3: only valid in the authenticated state.
  // The server need not check for CONDSTORE and QRESYNC, which Postern has
  // always taken here; the two that change how mailbox names, SEARCH and
  // SELECT are written are refused rather than switched mid-mailbox.
  if (selected_) {
    for (const std::string& name : names) {
      if ((name == "IMAP4REV2" && !imap4rev2_) || (name == "UTF8=ACCEPT" && !utf8_accept_)) {
        return Bad("ENABLE " + name + " is only valid before a mailbox is selected");
      }
    }
  }
  // RFC 5161 §3.1: only what we support, each once; unknown names ignored.
  std::string enabled;
  for (const std::string& name : names) {
    if (name == "IMAP4REV2" && !imap4rev2_) {
      imap4rev2_ = true;  // RFC 9051 §5.1: mailbox names are UTF-8
      enabled += " IMAP4rev2";
    } else if (name == "UTF8=ACCEPT" && !utf8_accept_) {
      utf8_accept_ = true;
      enabled += " UTF8=ACCEPT";
    } else if (name == "CONDSTORE" && !condstore_) {
      EnableCondstore();
      enabled += " CONDSTORE";
    } else if (name == "QRESYNC" && !qresync_) {
      // RFC 7162 §3.2.3: QRESYNC is a CONDSTORE enabling command too.
      EnableCondstore();
      qresync_ = true;
      enabled += " QRESYNC";
    }
  }
  strings_.utf8 = Utf8Enabled();
  Send("* ENABLED" + enabled + "\r\n");
  return Ok("ENABLE completed");
}

Session::Done Session::Compress(const imap::Command& command) {
  // RFC 4978 §3: BAD for an unknown algorithm; NO [COMPRESSIONACTIVE] when
  // the same mechanism is already on.
  if (command.Get<imap::Compress>().algorithm != "DEFLATE") {
    return Bad("Unknown compression algorithm");
  }
  if (conn_->compressed()) return No("[COMPRESSIONACTIVE] DEFLATE is already active");
  Done done = Ok("DEFLATE active");
  done.start_compression = true;
  return done;
}

asio::awaitable<Session::Done> Session::StartTls() {
  if (!options_.tls || conn_->tls()) co_return Bad("STARTTLS not available");
  Done done = Ok("Begin TLS negotiation now");
  done.start_tls = true;
  co_return done;
}

asio::awaitable<Session::Done> Session::Login(const std::string& user,
                                              const std::string& password) {
  if (std::optional<sasl::StepResult> blocked = GuardCheck()) {
    co_return co_await FinishLogin(std::move(*blocked), "LOGIN command", user);
  }
  sasl::Credentials& credentials = context_.credentials;
  auto check = [&credentials, user, password] {
    return sasl::FromPasswordCheck(credentials.CheckPassword(user, password));
  };
  sasl::StepResult result = co_await Offload(context_.blocking, std::move(check));
  co_return co_await FinishLogin(std::move(result), "LOGIN command", user);
}

asio::awaitable<Session::Done> Session::FinishLogin(sasl::StepResult result,
                                                    std::string_view mechanism, std::string user) {
  if (options_.guard) {
    result = options_.guard->Review(net::ConnectionLimiter::KeyFor(conn_->remote_ip()), "imap",
                                    user, std::move(result));
  }
  if (result.status != sasl::StepStatus::kSuccess) {
    LOG_WARN("imap: failed login for <{}> from [{}] ({}): {}", SanitizeForLog(user),
             conn_->remote_ip(), mechanism, SanitizeForLog(result.reason));
    switch (result.failure) {
      case sasl::Failure::kMalformed:
        co_return Bad("Malformed " + std::string(mechanism) + " response");
      case sasl::Failure::kNotAuthorized:
        co_return No("[AUTHORIZATIONFAILED] Cannot act as another user");
      case sasl::Failure::kUnavailable:
        co_return No("[UNAVAILABLE] Cannot check credentials now, try again later");
      case sasl::Failure::kBlocked:
        co_return No("[UNAVAILABLE] Too many failed logins; try again later");
      case sasl::Failure::kRejected:
        break;
    }
    ++failed_logins_;
    asio::steady_timer delay(co_await asio::this_coro::executor);
    delay.expires_after(options_.failed_login_delay * failed_logins_);
    co_await delay.async_wait(kAwait);
    if (failed_logins_ >= options_.max_failed_logins) {
      Send("* BYE Too many failed logins\r\n");
      co_return Done{"NO [AUTHENTICATIONFAILED] Authentication failed", true};
    }
    co_return No("[AUTHENTICATIONFAILED] Authentication failed");
  }
  const store::AccountInfo& account = *result.account;
  state_ = State::kAuthenticated;
  account_id_ = account.id;
  account_address_ = account.address;
  std::weak_ptr<Session> weak = weak_from_this();
  auto executor = conn_->executor();
  subscription_ = context_.notifier.Subscribe(
      account_id_, [weak, executor](const mailbox::MailboxChange& change) {
        asio::post(executor, [weak, change] {
          if (auto self = weak.lock()) self->OnChange(change);
        });
      });
  LOG_INFO("imap: login <{}> from [{}]{} with {}", account_address_, conn_->remote_ip(),
           conn_->tls() ? " (TLS)" : "", mechanism);
  Send("* CAPABILITY " + Capabilities() + "\r\n");
  co_return Ok("Logged in");
}

asio::awaitable<Session::Done> Session::Authenticate(const imap::Command& command) {
  const auto& auth = command.Get<imap::Authenticate>();
  if (!CanAuthenticate()) co_return No("[PRIVACYREQUIRED] Use STARTTLS or port 993 to log in");
  std::unique_ptr<sasl::Mechanism> mechanism =
      sasl::NewMechanism(auth.mechanism, context_.credentials);
  if (!mechanism) co_return No("Unsupported authentication mechanism");
  if (std::optional<sasl::StepResult> blocked = GuardCheck()) {
    co_return co_await FinishLogin(std::move(*blocked), mechanism->name(), "");
  }
  std::optional<std::string> client_data;
  if (auth.initial_response) {
    client_data = DecodeBase64Strict(*auth.initial_response);
    if (!client_data) co_return Bad("Initial response is not base64");  // RFC 9051 §6.2.2
  }
  auto ask = [this](std::string challenge) { return SaslStep(std::move(challenge)); };
  Result<sasl::StepResult> result = co_await sasl::RunExchange(
      context_.blocking, *mechanism, std::move(client_data), std::move(ask));
  if (!result.ok()) co_return Bad(result.status().message());
  co_return co_await FinishLogin(std::move(*result), mechanism->name(), mechanism->user());
}

asio::awaitable<Result<std::string>> Session::SaslStep(std::string challenge) {
  Send("+ " + EncodeBase64Strict(challenge) + "\r\n");
  bool sent = co_await Flush();
  if (!sent) co_return Unavailable("Connection lost");
  net::Line line = co_await conn_->ReadLine(options_.max_line, 60s, false);
  if (line.status != net::ReadStatus::kOk) co_return Unavailable("Authentication aborted");
  if (line.text == "*") co_return InvalidArgument("Authentication cancelled");
  std::optional<std::string> decoded = DecodeBase64Strict(line.text);
  // RFC 9051 §6.2.2: an invalid base64 response is a BAD.
  if (!decoded) co_return InvalidArgument("Response is not base64");
  co_return std::move(*decoded);
}

void Session::OnChange(const mailbox::MailboxChange& change) {
  if (!selected_ || change.mailbox_id != selected_->id()) return;
  changed_ = true;
  if (idling_ && !pushing_) {
    pushing_ = true;
    auto self = shared_from_this();
    asio::co_spawn(conn_->executor(), IdlePush(self), asio::detached);
  }
}

asio::awaitable<void> Session::IdlePush(std::shared_ptr<Session> self) {
  (void)self;  // keeps the session alive while pushing
  while (changed_ && idling_) {
    co_await Sync(true);
    bool sent = co_await Flush();
    if (!sent) break;
  }
  pushing_ = false;
  if (push_done_) push_done_->cancel();
}

asio::awaitable<Session::Done> Session::Idle(const imap::Command& command) {
  (void)command;
  Send("+ idling\r\n");
  if (selected_) co_await Sync(true);
  bool sent = co_await Flush();
  if (!sent) co_return Done{"", true};
  idling_ = true;
  if (changed_ && selected_ && !pushing_) {
    pushing_ = true;
    asio::co_spawn(conn_->executor(), IdlePush(shared_from_this()), asio::detached);
  }
  net::Line line = co_await conn_->ReadLine(options_.max_line, options_.idle_timeout, true);
  idling_ = false;
  // Let a push in flight finish, so responses stay in order.
  while (pushing_) {
    push_done_ = std::make_unique<asio::steady_timer>(conn_->executor());
    push_done_->expires_after(5s);
    co_await push_done_->async_wait(kAwait);
    push_done_.reset();
  }
  if (line.status == net::ReadStatus::kDrained) {
    Send("* BYE Server shutting down\r\n");
    co_return Done{"OK IDLE terminated", true};
  }
  if (line.status == net::ReadStatus::kTimeout) {
    Send("* BYE Autologout; idle for too long\r\n");
    co_return Done{"OK IDLE terminated", true};
  }
  if (line.status != net::ReadStatus::kOk) co_return Done{"", true};
  if (!EqualsIgnoreCase(line.text, "DONE")) co_return Bad("Expected DONE");
  co_return Ok("IDLE terminated");
}

asio::awaitable<void> Session::Sync(bool allow_expunge) {
  if (!selected_ || !changed_) co_return;
  changed_ = false;
  const int64_t id = selected_->id();
  const uint64_t since = selected_->known_modseq();
  struct Snapshot {
    Status status;
    uint64_t highestmodseq = 0;
    std::vector<store::MessageInfo> changed;
    std::vector<uint32_t> expunged;
  };
  auto read = [this, id, since]() {
    Snapshot s;
    // The mailbox first: whatever commits later is caught next time.
    auto mailbox = context_.store.GetMailboxById(id);
    if (!mailbox.ok()) {
      s.status = mailbox.status();
      return s;
    }
    s.highestmodseq = mailbox->highestmodseq;
    auto changed = context_.store.ListMessages(id, since);
    auto expunged = context_.store.ExpungedSince(id, since);
    if (!changed.ok() || !expunged.ok()) {
      s.status = !changed.ok() ? changed.status() : expunged.status();
      return s;
    }
    s.changed = std::move(*changed);
    s.expunged = std::move(*expunged);
    return s;
  };
  Snapshot snap = co_await Offload(context_.blocking, std::move(read));
  if (!snap.status.ok()) {
    if (snap.status.code() == StatusCode::kNotFound) {
      Send("* BYE The selected mailbox was deleted\r\n");
      state_ = State::kLogout;
    } else {
      changed_ = true;  // try again after the next command
    }
    co_return;
  }
  if (!selected_ || selected_->id() != id) co_return;
  SelectedMailbox::Update update =
      selected_->Apply(snap.highestmodseq, snap.changed, snap.expunged, allow_expunge, Reporting());
  for (const std::string& line : update.responses) Send(line);
  // Held-back expunges go out with the next command that allows them, and at
  // once in IDLE, even if nothing else changes meanwhile.
  if (selected_->HasPendingExpunges()) changed_ = true;
}

void Session::Unselect() {
  selected_.reset();
  changed_ = false;
  state_ = State::kAuthenticated;
}

asio::awaitable<Session::Done> Session::Select(const imap::Command& command) {
  const auto& args = command.Get<imap::Select>();
  const bool examine = command.verb == imap::Verb::kExamine;
  // RFC 7162 §3.2.3: QRESYNC only after ENABLE QRESYNC.
  if (args.qresync && !qresync_) co_return Bad("ENABLE QRESYNC first");
  // RFC 9051 §6.3.2: a failed SELECT leaves no mailbox selected.
  if (selected_) {
    Unselect();
    Send("* OK [CLOSED] Previous mailbox closed\r\n");
  }
  std::optional<store::MailboxInfo> mailbox = co_await FindMailbox(args.mailbox);
  if (!mailbox) co_return No("[NONEXISTENT] No such mailbox");
  const int64_t id = mailbox->id;
  auto list = [this, id] { return context_.store.ListMessages(id, 0); };
  Result<std::vector<store::MessageInfo>> messages =
      co_await Offload(context_.blocking, std::move(list));
  if (!messages.ok()) co_return No("[UNAVAILABLE] " + messages.status().message());
  if (args.condstore || args.qresync) condstore_ = true;
  // RFC 7162 §3.2.5.1: what the client missed, if its UIDs are still valid.
  std::vector<uint32_t> vanished;
  if (args.qresync && args.qresync->uidvalidity == mailbox->uidvalidity) {
    const uint64_t since = args.qresync->modseq;
    auto expunged = [this, id, since] { return context_.store.ExpungedSince(id, since); };
    Result<std::vector<uint32_t>> r = co_await Offload(context_.blocking, std::move(expunged));
    if (!r.ok()) co_return No("[UNAVAILABLE] " + r.status().message());
    vanished = std::move(*r);
  }
  selected_.emplace(*mailbox, std::move(*messages), examine);
  state_ = State::kSelected;
  changed_ = false;
  const SelectedMailbox& s = *selected_;
  Send("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n");
  if (examine) {
    Send("* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
  } else {
    Send(
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags "
        "permitted\r\n");
  }
  Send("* " + std::to_string(s.exists()) + " EXISTS\r\n");
  // RFC 9051 Appendix E items 11 and 12: RECENT and the UNSEEN code are
  // IMAP4rev1 only (\Recent is not kept: always 0).
  if (!imap4rev2_) {
    Send("* 0 RECENT\r\n");
    for (uint32_t seq = 1; seq <= s.exists(); ++seq) {
      if ((s.at(seq).flags & store::kFlagSeen) == 0) {
        Send("* OK [UNSEEN " + std::to_string(seq) + "] First unseen\r\n");
        break;
      }
    }
  }
  Send("* OK [UIDVALIDITY " + std::to_string(mailbox->uidvalidity) + "] UIDs valid\r\n");
  Send("* OK [UIDNEXT " + std::to_string(mailbox->uidnext) + "] Predicted next UID\r\n");
  // RFC 8474 §4.2.
  Send("* OK [MAILBOXID (" + mailbox->object_id + ")] Mailbox id\r\n");
  // RFC 9051 §6.3.2: an IMAP4rev2 SELECT answers with the mailbox's LIST.
  if (imap4rev2_) co_await ListOne(mailbox->name);
  if (condstore_) {
    Send("* OK [HIGHESTMODSEQ " + std::to_string(s.ReportableModSeq()) + "] Highest\r\n");
  }
  if (args.qresync && args.qresync->uidvalidity == mailbox->uidvalidity) {
    const imap::Qresync& q = *args.qresync;
    // No UID list: "1:<UIDNEXT-1>", i.e. everything (RFC 7162 §3.2.5.1).
    const std::optional<imap::SequenceSet>& known = q.known_uids;
    std::vector<imap::SequenceRange> ranges;
    if (known) ranges = known->Resolve(UINT32_MAX);
    const uint32_t lowest = LowestUnknownExpunge(s, q);
    std::erase_if(vanished, [&](uint32_t uid) {
      return uid < lowest || s.SeqOf(uid) != 0 || (known && !imap::RangesContain(ranges, uid));
    });
    if (!vanished.empty()) {
      Send("* VANISHED (EARLIER) " + imap::FormatSequenceSet(vanished) + "\r\n");
    }
    for (const std::string& line : s.ChangedSince(q.modseq, known)) Send(line);
  }
  co_return Ok(std::string(examine ? "[READ-ONLY] EXAMINE" : "[READ-WRITE] SELECT") + " completed");
}

std::optional<sasl::StepResult> Session::GuardCheck() const {
  if (!options_.guard) return std::nullopt;
  return options_.guard->Check(net::ConnectionLimiter::KeyFor(conn_->remote_ip()));
}

}  // namespace postern::imapserver
