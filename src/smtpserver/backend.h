// What an SMTP session needs from the rest of the server: recipient checks
// and durable acceptance of a message. StoreBackend is the real one; session
// transcript tests use a fake. Implementations are thread-safe; the
// coroutines resume on the calling session's executor.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "directory/resolver.h"
#include "net/asio.h"
#include "sasl/exchange.h"
#include "smtp/command.h"
#include "smtp/reply.h"

namespace postern::smtpserver {

struct RecipientCheck {
  smtp::Reply reply;  // positive (250) when accepted
  std::vector<directory::Destination> destinations;
};

struct AcceptedRecipient {
  std::string address;  // as written in RCPT TO, normalized
  smtp::RcptParams params;
  std::vector<directory::Destination> destinations;
};

// The end of an AUTH exchange (submission).
struct AuthOutcome {
  bool supported = true;  // false: no such mechanism (nothing was exchanged)
  // The final step, or why the exchange ended early (the client cancelled,
  // sent bad base64, the connection dropped): the error of sasl::Ask.
  Result<sasl::StepResult> step = sasl::StepResult{};
  std::string user;  // the identity the client gave, for logs
};

// The usual Backend::Authenticate: `mechanism` over `credentials`, its steps on
// `blocking` (sasl::RunExchange).
asio::awaitable<AuthOutcome> AuthenticateWith(asio::thread_pool& blocking,
                                              sasl::Credentials& credentials, std::string mechanism,
                                              std::optional<std::string> initial_response,
                                              sasl::Ask ask);

struct Envelope {
  std::string queue_id;
  std::string mail_from;  // normalized reverse-path, "" for <>
  smtp::MailParams params;
  std::vector<AcceptedRecipient> recipients;
  std::string client;         // "helo [ip]", for the queue and bounces
  std::string authenticated;  // submission: the account that sent it, else """
  int64_t arrival = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // `address` is normalized; `postmaster` is set for the bare <Postmaster>.
  // `declared_size` is MAIL's SIZE= (0 when not given), for quota checks.
  virtual asio::awaitable<RecipientCheck> CheckRecipient(std::string address, bool postmaster,
                                                         uint64_t declared_size) = 0;

  // Stores the message and its queue entry durably. OK means "250" may be
  // sent; an error is temporary (the session answers 4xx).
  virtual asio::awaitable<Status> Accept(Envelope envelope, std::string content) = 0;

  // Submission (RFC 6409). The defaults refuse, for backends without it.
  //
  // Runs the SASL exchange of `mechanism` (any case) from the client's
  // initial response (nullopt if none), asking through `ask`.
  virtual asio::awaitable<AuthOutcome> Authenticate(std::string mechanism,
                                                    std::optional<std::string> initial_response,
                                                    sasl::Ask ask) {
    (void)mechanism, (void)initial_response, (void)ask;
    co_return AuthOutcome{false};
  }
  // Whether `account` may send as `sender` (normalized); an error is
  // temporary.
  virtual asio::awaitable<Result<bool>> MaySendAs(std::string account, std::string sender) {
    (void)account, (void)sender;
    co_return false;
  }
  // Submission: the DKIM-Signature fields to put on `message` (the client's
  // header and body, final) whose From: is in `author_domain`: one per
  // signing key of the domain, "" when it has none. Never refuses the
  // message: a signing error is logged and the message goes unsigned.
  // `message` must stay valid until the coroutine returns.
  virtual asio::awaitable<std::string> DkimSignatures(std::string author_domain,
                                                      std::string_view message) {
    (void)author_domain, (void)message;
    co_return std::string();
  }
  // A recipient of an authenticated user: like CheckRecipient, but an
  // address in a domain that is not ours is accepted for delivery there.
  virtual asio::awaitable<RecipientCheck> CheckRelayRecipient(std::string address,
                                                              uint64_t declared_size) {
    co_return co_await CheckRecipient(std::move(address), false, declared_size);
  }
};

}  // namespace postern::smtpserver
