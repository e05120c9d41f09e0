// POP3 session: framing, the three states, authentication, the commands.
#include "pop3server/session.h"

#include <algorithm>

#include "base/base64.h"
#include "base/log.h"
#include "base/strings.h"
#include "net/async.h"
#include "net/listener.h"
#include "pop3/response.h"
#include "sasl/exchange.h"

namespace postern::pop3server {
namespace {

using namespace std::chrono_literals;

constexpr auto kWriteTimeout = 60s;
constexpr auto kHandshakeTimeout = 30s;
// Output waiting for a client that pipelines: sent when this much is queued
// or when no further command is buffered.
constexpr size_t kFlushThreshold = 64 * 1024;

// RFC 2449 §8 / RFC 3206 response codes.
constexpr std::string_view kAuthCode = "AUTH";
constexpr std::string_view kInUse = "IN-USE";
constexpr std::string_view kSysTemp = "SYS/TEMP";

constexpr std::string_view kPlaintextRefused =
    "Plaintext authentication disallowed on non-secure (SSL/TLS) connections";

}  // namespace

Session::Session(std::shared_ptr<net::Connection> conn, SessionContext context,
                 MaildropLocks& locks, SessionOptions options)
    : conn_(std::move(conn)), context_(context), locks_(locks), options_(std::move(options)) {}

Session::~Session() = default;

Session::Reply Session::Ok(std::string_view text) { return Reply{pop3::OkLine(text)}; }

Session::Reply Session::Err(std::string_view text, std::string_view code) {
  return Reply{pop3::ErrLine(code, text)};
}

asio::awaitable<bool> Session::Flush() { co_return co_await conn_->Flush(kWriteTimeout); }

std::string Session::Capabilities() const {
  // RFC 2449 §5: one capability per line, then ".".
  std::string caps = "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n";
  if (state_ == State::kAuthorization) {
    if (CanLogin()) {
      caps += "USER\r\nSASL";
      for (std::string_view name : sasl::MechanismNames()) caps += " " + std::string(name);
      caps += "\r\n";
    }
    if (options_.tls && !conn_->tls()) caps += "STLS\r\n";
  }
  // RFC 2449 §6.7: we never delete mail on our own.
  caps += "EXPIRE NEVER\r\nIMPLEMENTATION Postern\r\n.\r\n";
  return caps;
}

asio::awaitable<void> Session::Run() {
  if (options_.implicit_tls) {
    bool secured = false;
    if (options_.tls) secured = co_await conn_->StartTls(*options_.tls, kHandshakeTimeout);
    if (!secured) {
      conn_->Close();
      co_return;
    }
  }
  // No APOP timestamp: APOP is not offered (it needs stored clear passwords).
  conn_->Queue(pop3::OkLine("Postern POP3 ready"));
  bool sent = co_await Flush();
  const auto timeout = std::chrono::duration_cast<net::Duration>(options_.idle_timeout);
  while (sent && state_ != State::kUpdate) {
    net::Line line = co_await conn_->ReadLine(pop3::kMaxCommandLine, timeout, true);
    Reply reply;
    if (line.status == net::ReadStatus::kTooLong) {
      reply = Err("Command line too long");
      reply.bad = true;
    } else if (line.status == net::ReadStatus::kDrained) {
      reply = Err("Server shutting down", kSysTemp);
      reply.close = true;
    } else if (line.status == net::ReadStatus::kTimeout) {
      reply = Err("Disconnected for inactivity");
      reply.close = true;
    } else if (line.status != net::ReadStatus::kOk) {
      break;
    } else {
      pop3::ParsedCommand parsed = pop3::ParseCommand(line.text);
      if (!parsed.ok()) {
        reply = Err(parsed.error);
        reply.bad = true;
      } else {
        reply = co_await Dispatch(*parsed.command);
      }
    }
    if (reply.bad && ++bad_commands_ >= options_.max_bad_commands) {
      reply.text += pop3::ErrLine("", "Too many invalid commands");
      reply.close = true;
    }
    conn_->Queue(reply.text);
    if (reply.close || reply.start_tls || !conn_->HasBufferedLine() ||
        conn_->pending_output() >= kFlushThreshold) {
      sent = co_await Flush();
    }
    if (reply.close) break;
    if (reply.start_tls && sent) {
      // RFC 2595 §4: the handshake starts right after the +OK; anything the
      // client sent after STLS is discarded with the plain-text buffer.
      sent = co_await conn_->StartTls(*options_.tls, kHandshakeTimeout);
    }
  }
  // A session that ends without QUIT deletes nothing (RFC 1939 §6), but what
  // was retrieved is \Seen, as Dovecot does.
  if (state_ == State::kTransaction && !updated_) co_await Update(false);
  lock_.reset();
  conn_->Close();
}

asio::awaitable<Session::Reply> Session::Dispatch(const pop3::Command& command) {
  using pop3::Verb;
  switch (command.verb) {
    case Verb::kCapa:
      co_return Reply{pop3::OkLine("Capability list follows") + Capabilities()};
    case Verb::kNoop:
      if (state_ != State::kTransaction) break;
      co_return Ok("");
    case Verb::kQuit:
      if (state_ == State::kTransaction) {
        state_ = State::kUpdate;
        const size_t deleted = maildrop_.DeletedUids().size();
        bool updated = co_await Update(true);
        lock_.reset();  // before the reply: the client may log in again at once
        Reply reply = updated ? Ok("Logging out, " + std::to_string(deleted) +
                                   (deleted == 1 ? " message" : " messages") + " deleted")
                              : Err("Some deleted messages not removed", kSysTemp);
        reply.close = true;
        co_return reply;
      }
      co_return Reply{pop3::OkLine("Logging out"), true};
    default:
      break;
  }
  if (state_ == State::kAuthorization) co_return co_await Authorization(command);
  co_return co_await Transaction(command);
}

asio::awaitable<Session::Reply> Session::Authorization(const pop3::Command& command) {
  using pop3::Verb;
  switch (command.verb) {
    case Verb::kStls: {
      if (!options_.tls || conn_->tls()) co_return Err("STLS not available");
      Reply reply = Ok("Begin TLS negotiation now");
      reply.start_tls = true;
      user_.clear();
      co_return reply;
    }
    case Verb::kUser:
      if (!CanLogin()) co_return Err(kPlaintextRefused, kAuthCode);
      user_ = command.argument;
      // The same answer for every name: USER must not tell who exists.
      co_return Ok("");
    case Verb::kPass: {
      // RFC 1939 §7: PASS only right after a successful USER.
      if (user_.empty()) co_return Err("No user name given; send USER first");
      std::string user = std::move(user_);
      user_.clear();
      if (std::optional<sasl::StepResult> blocked = GuardCheck()) {
        co_return co_await Login(std::move(*blocked), "USER/PASS", std::move(user));
      }
      sasl::Credentials& credentials = context_.credentials;
      auto check = [&credentials, user, password = command.argument] {
        return sasl::FromPasswordCheck(credentials.CheckPassword(user, password));
      };
      sasl::StepResult result = co_await Offload(context_.blocking, std::move(check));
      co_return co_await Login(std::move(result), "USER/PASS", std::move(user));
    }
    case Verb::kAuth:
      user_.clear();
      co_return co_await Auth(command);
    case Verb::kApop:
      co_return Err("APOP is not supported; use USER/PASS or AUTH");
    default: {
      Reply reply = Err("Not logged in: " + std::string(pop3::VerbName(command.verb)) +
                        " is valid only after authentication");
      reply.bad = true;
      co_return reply;
    }
  }
}

asio::awaitable<Session::Reply> Session::Auth(const pop3::Command& command) {
  if (command.argument.empty()) {
    // The RFC 1734 form, still sent by clients to list the mechanisms.
    std::string list = pop3::OkLine("Mechanisms follow");
    for (std::string_view name : sasl::MechanismNames()) {
      if (CanLogin()) list += std::string(name) + "\r\n";
    }
    co_return Reply{list + ".\r\n"};
  }
  if (!CanLogin()) co_return Err(kPlaintextRefused, kAuthCode);
  std::unique_ptr<sasl::Mechanism> mechanism =
      sasl::NewMechanism(command.argument, context_.credentials);
  if (!mechanism) co_return Err("Unsupported authentication mechanism");
  if (std::optional<sasl::StepResult> blocked = GuardCheck()) {
    co_return co_await Login(std::move(*blocked), mechanism->name(), "");
  }
  std::optional<std::string> client_data;
  if (command.initial_response) {
    client_data = pop3::DecodeSaslResponse(*command.initial_response);
    if (!client_data) co_return Err("Invalid base64 data in the authentication response");
  }
  auto ask = [this](std::string challenge) { return SaslStep(std::move(challenge)); };
  Result<sasl::StepResult> result = co_await sasl::RunExchange(
      context_.blocking, *mechanism, std::move(client_data), std::move(ask));
  if (!result.ok()) co_return Err(result.status().message());
  co_return co_await Login(std::move(*result), mechanism->name(), mechanism->user());
}

asio::awaitable<Result<std::string>> Session::SaslStep(std::string challenge) {
  conn_->Queue("+ " + EncodeBase64Strict(challenge) + "\r\n");
  bool sent = co_await Flush();
  if (!sent) co_return Unavailable("Connection lost");
  net::Line line = co_await conn_->ReadLine(pop3::kMaxSaslLine, 60s, false);
  if (line.status == net::ReadStatus::kTooLong) {
    co_return InvalidArgument("Authentication response too long");
  }
  if (line.status != net::ReadStatus::kOk) co_return Unavailable("Authentication aborted");
  if (line.text == "*") co_return InvalidArgument("Authentication cancelled");
  std::optional<std::string> decoded = pop3::DecodeSaslResponse(line.text);
  if (!decoded) co_return InvalidArgument("Invalid base64 data in the authentication response");
  co_return std::move(*decoded);
}

asio::awaitable<Session::Reply> Session::Login(sasl::StepResult result, std::string_view mechanism,
                                               std::string user) {
  if (options_.guard) {
    result = options_.guard->Review(net::ConnectionLimiter::KeyFor(conn_->remote_ip()), "pop3",
                                    user, std::move(result));
  }
  if (result.status != sasl::StepStatus::kSuccess) {
    LOG_WARN("pop3: failed login for <{}> from [{}] ({}): {}", SanitizeForLog(user),
             conn_->remote_ip(), mechanism, SanitizeForLog(result.reason));
    switch (result.failure) {
      case sasl::Failure::kMalformed:
        co_return Err("Malformed " + std::string(mechanism) + " response");
      case sasl::Failure::kNotAuthorized:
        co_return Err("Cannot act as another user", kAuthCode);
      case sasl::Failure::kUnavailable:
        co_return Err("Cannot check credentials now, try again later", kSysTemp);
      case sasl::Failure::kBlocked:
        co_return Err("Too many failed logins; try again later", kSysTemp);
      case sasl::Failure::kRejected:
        break;
    }
    ++failed_logins_;
    asio::steady_timer delay(co_await asio::this_coro::executor);
    delay.expires_after(options_.failed_login_delay * failed_logins_);
    co_await delay.async_wait(kAwait);
    Reply reply = Err("Authentication failed", kAuthCode);
    if (failed_logins_ >= options_.max_failed_logins) {
      reply.text += pop3::ErrLine("", "Too many failed logins");
      reply.close = true;
    }
    co_return reply;
  }
  const store::AccountInfo& info = *result.account;
  // RFC 2449 §8.1.2: authenticated, but the maildrop is in use.
  std::unique_ptr<MaildropLocks::Handle> lock = locks_.Lock(info.id);
  if (!lock) {
    LOG_INFO("pop3: <{}> from [{}]: maildrop in use", info.address, conn_->remote_ip());
    co_return Err("Mailbox is in use by another POP3 session", kInUse);
  }
  struct Snapshot {
    Status status;
    store::MailboxInfo inbox;
    std::vector<store::MessageInfo> messages;
  };
  auto read = [store = &context_.store, account_id = info.id] {
    Snapshot s;
    Result<std::optional<store::MailboxInfo>> inbox = store->GetMailbox(account_id, "INBOX");
    if (!inbox.ok() || !inbox->has_value()) {
      s.status = inbox.ok() ? NotFound("the account has no INBOX") : inbox.status();
      return s;
    }
    s.inbox = **inbox;
    Result<std::vector<store::MessageInfo>> messages = store->ListMessages(s.inbox.id, 0);
    if (!messages.ok()) {
      s.status = messages.status();
      return s;
    }
    s.messages = std::move(*messages);
    return s;
  };
  Snapshot snapshot = co_await Offload(context_.blocking, std::move(read));
  if (!snapshot.status.ok()) {
    LOG_WARN("pop3: cannot open the INBOX of <{}>: {}", info.address, snapshot.status.ToString());
    co_return Err("Cannot open the mailbox, try again later", kSysTemp);
  }
  maildrop_ = Maildrop(snapshot.inbox, snapshot.messages);
  lock_ = std::move(lock);
  account_id_ = info.id;
  account_address_ = info.address;
  state_ = State::kTransaction;
  LOG_INFO("pop3: login <{}> from [{}]{}: {} messages", account_address_, conn_->remote_ip(),
           conn_->tls() ? " (TLS)" : "", maildrop_.count());
  co_return Ok("Logged in, " + std::to_string(maildrop_.count()) + " messages (" +
               std::to_string(maildrop_.octets()) + " octets)");
}

asio::awaitable<Session::Reply> Session::Transaction(const pop3::Command& command) {
  using pop3::Verb;
  switch (command.verb) {
    case Verb::kStat:
      co_return Ok(std::to_string(maildrop_.count()) + " " + std::to_string(maildrop_.octets()));
    case Verb::kList:
    case Verb::kUidl: {
      const bool uidl = command.verb == Verb::kUidl;
      auto entry = [&](uint32_t n) {
        return std::to_string(n) + " " +
               (uidl ? maildrop_.Uidl(n) : std::to_string(maildrop_.Find(n).value()->size));
      };
      if (command.message) {
        Result<const Maildrop::Message*> found = maildrop_.Find(*command.message);
        if (!found.ok()) co_return Err(found.status().message());
        co_return Ok(entry(*command.message));
      }
      std::string text = pop3::OkLine(uidl ? "Unique-ID listing follows"
                                           : std::to_string(maildrop_.count()) + " messages (" +
                                                 std::to_string(maildrop_.octets()) + " octets)");
      for (uint32_t n = 1; n <= maildrop_.size(); ++n) {
        if (maildrop_.Find(n).ok()) text += entry(n) + "\r\n";
      }
      text += ".\r\n";
      co_return Reply{std::move(text)};
    }
    case Verb::kRetr:
      co_return co_await Retrieve(*command.message, std::nullopt);
    case Verb::kTop:
      co_return co_await Retrieve(*command.message, command.lines);
    case Verb::kDele: {
      Status s = maildrop_.Delete(*command.message);
      if (!s.ok()) co_return Err(s.message());
      co_return Ok("Marked to be deleted");
    }
    case Verb::kRset:
      maildrop_.Reset();
      co_return Ok(std::to_string(maildrop_.count()) + " messages (" +
                   std::to_string(maildrop_.octets()) + " octets)");
    default: {
      Reply reply = Err(std::string(pop3::VerbName(command.verb)) + " is not valid after login");
      reply.bad = true;
      co_return reply;
    }
  }
}

asio::awaitable<Session::Reply> Session::Retrieve(uint32_t number,
                                                  std::optional<uint64_t> body_lines) {
  Result<const Maildrop::Message*> found = maildrop_.Find(number);
  if (!found.ok()) co_return Err(found.status().message());
  const int64_t id = (*found)->id;
  const uint64_t size = (*found)->size;
  auto read = [store = &context_.store, id] { return store->ReadMessageById(id); };
  Result<std::string> content = co_await Offload(context_.blocking, std::move(read));
  if (!content.ok()) {
    if (content.status().code() == StatusCode::kNotFound) {
      // Expunged by another session (IMAP) since login.
      co_return Err("Message " + std::to_string(number) + " was removed by another session");
    }
    LOG_WARN("pop3: cannot read message {} of <{}>: {}", id, account_address_,
             content.status().ToString());
    co_return Err("Cannot read the message, try again later", kSysTemp);
  }
  if (!body_lines && pop3::TransferSize(*content) != size) {
    // The store keeps CRLF, so this means a message stored otherwise: the
    // LIST size was not exact.
    LOG_WARN("pop3: message {} of <{}> is {} octets as sent, {} as stored", id, account_address_,
             pop3::TransferSize(*content), size);
  }
  Reply reply{
      pop3::OkLine(body_lines ? "Top of message follows" : std::to_string(size) + " octets")};
  pop3::AppendMessage(*content, body_lines, &reply.text);
  if (!body_lines) maildrop_.MarkRetrieved(number);
  co_return reply;
}

asio::awaitable<bool> Session::Update(bool expunge) {
  updated_ = true;
  const int64_t mailbox = maildrop_.mailbox_id();
  std::vector<uint32_t> seen = maildrop_.NewlySeenUids();
  std::vector<uint32_t> deleted = expunge ? maildrop_.DeletedUids() : std::vector<uint32_t>();
  if (seen.empty() && deleted.empty()) co_return true;
  auto apply = [store = &context_.store, mailbox, seen = std::move(seen),
                deleted = std::move(deleted)]() -> Result<uint64_t> {
    uint64_t modseq = 0;  // of the last change, 0 if nothing changed
    auto add_flag = [&](const std::vector<uint32_t>& uids, uint32_t flag) -> Status {
      if (uids.empty()) return Status::Ok();
      store::FlagChange change{store::FlagChange::kAdd, flag};
      PT_ASSIGN_OR_RETURN(store::FlagChangeResult r, store->ChangeFlags(mailbox, uids, change));
      if (!r.changed.empty()) modseq = std::max(modseq, r.highestmodseq);
      return Status::Ok();
    };
    PT_RETURN_IF_ERROR(add_flag(seen, store::kFlagSeen));
    // Flag, then expunge only these UIDs: a \Deleted set by an IMAP client on
    // other messages is left for that client's EXPUNGE.
    PT_RETURN_IF_ERROR(add_flag(deleted, store::kFlagDeleted));
    if (!deleted.empty()) {
      PT_ASSIGN_OR_RETURN(store::ExpungeResult r, store->Expunge(mailbox, deleted));
      if (!r.uids.empty()) modseq = std::max(modseq, r.highestmodseq);
    }
    return modseq;
  };
  Result<uint64_t> modseq = co_await Offload(context_.blocking, std::move(apply));
  if (!modseq.ok()) {
    LOG_WARN("pop3: update of <{}> failed: {}", account_address_, modseq.status().ToString());
    co_return false;
  }
  if (*modseq != 0) context_.notifier.Publish({account_id_, mailbox, *modseq, 0});
  co_return true;
}

std::optional<sasl::StepResult> Session::GuardCheck() const {
  if (!options_.guard) return std::nullopt;
  return options_.guard->Check(net::ConnectionLimiter::KeyFor(conn_->remote_ip()));
}

}  // namespace postern::pop3server
