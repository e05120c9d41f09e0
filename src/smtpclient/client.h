// An SMTP client for outbound delivery (RFC 5321), with STARTTLS (RFC 3207),
// AUTH (RFC 4954), PIPELINING (RFC 2920), SIZE (RFC 1870), 8BITMIME
// (RFC 6152), SMTPUTF8 (RFC 6531), DSN (RFC 3461) and REQUIRETLS (RFC 8689).
// One Client is one connection; the caller decides what to send and how to
// read the replies (the delivery agent and its policies live elsewhere).
//
// Every read has a deadline, a reply is bounded in length and lines, and a
// malformed reply ends the connection with a code 0 Reply, so a hostile
// server can neither hang the client nor make it allocate without bound.
// A Client and its coroutines run on one executor; it is not thread-safe.
// Destroy it on that executor (the destructor closes the socket). Arguments
// passed by reference or view (the TLS context, the envelope, the message,
// `failure`) must outlive the coroutine: co_await the call at once. TLS
// writes use write(2): the process must ignore SIGPIPE (server/server.cc).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "net/asio.h"
#include "net/connection.h"
#include "smtpclient/protocol.h"
#include "smtpclient/reply.h"

namespace postern::smtpclient {

struct Options {
  std::string helo_name;  // our hostname for EHLO
  net::Duration connect_timeout = std::chrono::seconds(30);
  // RFC 5321 §4.5.3.2: the minimum timeouts a client should allow.
  net::Duration greeting_timeout = std::chrono::minutes(5);    // §4.5.3.2.1
  net::Duration command_timeout = std::chrono::minutes(5);     // §4.5.3.2.2-4, EHLO, RSET...
  net::Duration data_block_timeout = std::chrono::minutes(3);  // §4.5.3.2.5, per 64 KB block
  net::Duration data_end_timeout = std::chrono::minutes(10);   // §4.5.3.2.6
  size_t max_reply_line = 2048;                                // octets, without CRLF
  size_t max_reply_lines = 100;
  std::optional<asio::ip::address> local_address;  // source address (default: the system's)
  // Implicit TLS (RFC 8314 §3.3, a submission server on port 465): the
  // handshake right after connecting, before the greeting, with this context
  // and verification. Null: plaintext until STARTTLS.
  asio::ssl::context* implicit_tls = nullptr;
  net::ClientTls implicit_tls_check;
};

struct SendResult {
  Reply mail;                      // reply to MAIL FROM
  std::vector<Reply> rcpt;         // one per recipient, same order (code 0 if never sent)
  Reply data;                      // final reply after the message (or the DATA 354 failure)
  bool connection_usable = false;  // RSET/next transaction possible
  // Recipient i was accepted iff mail.positive() && rcpt[i].positive() && data.positive().
};

class Client {
 public:
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Connects, reads the greeting, sends EHLO (falls back to HELO on 500/502).
  // On failure `failure` (if not null) gets the greeting/EHLO reply when the
  // server refused us, so the caller can tell 4xx from 5xx, or a code 0
  // reply saying what went wrong (connect error, timeout, malformed reply).
  // The Status is kFailedPrecondition for a 5xx refusal, kPermissionDenied
  // when the implicit TLS handshake (Options::implicit_tls) or its
  // certificate check failed, else kUnavailable (kDeadlineExceeded for a
  // connect timeout).
  static asio::awaitable<Result<std::unique_ptr<Client>>> Connect(asio::any_io_executor ex,
                                                                  asio::ip::tcp::endpoint endpoint,
                                                                  Options options, Reply* failure);

  const Extensions& extensions() const { return extensions_; }
  const Reply& greeting() const { return greeting_; }
  // False once the connection is lost, closed, given a 421 or a malformed
  // reply: no more commands can go through it.
  bool usable() const { return usable_; }

  // STARTTLS then EHLO again (RFC 3207 §4.2); on failure the connection is
  // unusable (closed; after a refused STARTTLS, QUIT first). `ok` also
  // requires the EHLO after the handshake to succeed; the verification
  // policy is the one of net::ClientTls.
  asio::awaitable<net::ClientTlsResult> StartTls(asio::ssl::context& context, net::ClientTls tls);
  bool tls() const;
  // Implicit TLS whose peer passed implicit_tls_check's verification.
  bool implicit_tls_verified() const { return implicit_tls_verified_; }
  std::string TlsDescription() const;

  // AUTH PLAIN (or LOGIN if PLAIN is not offered) for smarthosts; returns the
  // final reply (235 on success). A local 504 5.5.4 when the server offers
  // neither. Whether TLS is required first is the caller's policy.
  asio::awaitable<Reply> Authenticate(std::string user, std::string password);

  // One mail transaction. Uses PIPELINING when offered (MAIL + all RCPTs in
  // one flush, RFC 2920), sends DSN parameters (NOTIFY, ORCPT xtext-encoded,
  // RET, ENVID) only when the server offers DSN, SIZE= when offered,
  // BODY=8BITMIME when the body is 8bit (8BITMIME or BINARYMIME: this client
  // has no BDAT) and offered, SMTPUTF8 when needed and offered, REQUIRETLS
  // when requested (the caller checks the extension first). `message` is the
  // complete message (CRLF lines); dot-stuffing and the final CRLF.CRLF are
  // done here; bare LF (and bare CR) become CRLF. Stops after a MAIL failure;
  // skips DATA when no recipient was accepted (and RSETs). Refused locally,
  // without sending: a message over the server's SIZE limit (552 5.3.4 as
  // the MAIL reply), addresses with CR, LF, NUL or angle brackets (553).
  asio::awaitable<SendResult> Send(const Envelope& envelope, std::string_view message);

  asio::awaitable<Reply> Reset();  // RSET for connection reuse
  asio::awaitable<void> Quit();    // QUIT and close; never throws
  std::string remote_ip() const;

 private:
  Client(std::shared_ptr<net::Connection> connection, Options options);

  // One whole reply within `timeout` (one deadline for all its lines).
  asio::awaitable<Reply> ReadReply(net::Duration timeout);
  // Sends what is queued; false (and unusable) on failure.
  asio::awaitable<bool> Flush(net::Duration timeout);
  // Sends `line` (CRLF added) and reads its reply. `secret`: the line holds
  // a credential and is never quoted.
  asio::awaitable<Reply> Command(std::string line, net::Duration timeout, bool secret = false);
  // EHLO, or HELO after 500/502; sets extensions_.
  asio::awaitable<Reply> Hello();
  void GiveUp();

  std::shared_ptr<net::Connection> connection_;
  Options options_;
  Extensions extensions_;
  Reply greeting_;
  bool usable_ = true;
  bool implicit_tls_verified_ = false;
};

}  // namespace postern::smtpclient
