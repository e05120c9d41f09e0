// What an SMTP session needs from the rest of the server: recipient checks
// and durable acceptance of a message. StoreBackend is the real one; session
// transcript tests use a fake. Implementations are thread-safe; the
// coroutines resume on the calling session's executor.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "directory/resolver.h"
#include "net/asio.h"
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

struct Envelope {
  std::string queue_id;
  std::string mail_from;  // normalized reverse-path, "" for <>
  smtp::MailParams params;
  std::vector<AcceptedRecipient> recipients;
  std::string client;  // "helo [ip]", for the queue and bounces
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
};

}  // namespace postern::smtpserver
