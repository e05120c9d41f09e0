// Connection set-up, replies, STARTTLS, AUTH, RSET and QUIT. The mail
// transaction is in transaction.cc.
#include "smtpclient/client.h"

#include <algorithm>
#include <utility>

#include "base/base64.h"
#include "smtpclient/local_reply.h"

namespace postern::smtpclient {
namespace {

using namespace std::chrono_literals;

// How long QUIT waits for its 221: the mail is already delivered, so a
// slow server is not worth the full command timeout.
constexpr net::Duration kQuitTimeout = 30s;

std::string Seconds(net::Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + " s";
}

}  // namespace

Reply LocalReply(int code, std::string enhanced, std::string text) {
  Reply reply;
  reply.code = code;
  reply.enhanced = std::move(enhanced);
  reply.lines.push_back(std::move(text));
  return reply;
}

Client::Client(std::shared_ptr<net::Connection> connection, Options options)
    : connection_(std::move(connection)), options_(std::move(options)) {}

Client::~Client() { connection_->Close(); }

void Client::GiveUp() {
  usable_ = false;
  connection_->Close();
}

bool Client::tls() const { return connection_->tls(); }
std::string Client::TlsDescription() const { return connection_->TlsDescription(); }
std::string Client::remote_ip() const { return connection_->remote_ip(); }

asio::awaitable<Reply> Client::ReadReply(net::Duration timeout) {
  if (!usable_) co_return NoReply("not sent: the connection was already lost");
  ReplyParser parser(options_.max_reply_line, options_.max_reply_lines);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    // +2: the limit counts the CRLF; the parser sees the line without it.
    net::Line line = co_await connection_->ReadLineBefore(options_.max_reply_line + 2, deadline);
    if (line.status == net::ReadStatus::kOk) {
      ReplyParser::State state = parser.Feed(line.text);
      if (state == ReplyParser::State::kMore) continue;
      Reply reply = parser.Take();
      // 421: the server is closing the channel (RFC 5321 §3.8).
      if (state == ReplyParser::State::kError || reply.code == 421) GiveUp();
      co_return reply;
    }
    GiveUp();
    switch (line.status) {
      case net::ReadStatus::kTooLong:
        co_return NoReply("malformed reply from the server: a line longer than " +
                          std::to_string(options_.max_reply_line) + " octets");
      case net::ReadStatus::kTimeout:
        co_return NoReply("no reply from the server within " + Seconds(timeout));
      case net::ReadStatus::kEof:
        co_return NoReply("the server closed the connection");
      default:
        co_return NoReply("network error while reading the server's reply");
    }
  }
}

asio::awaitable<bool> Client::Flush(net::Duration timeout) {
  if (!usable_) co_return false;
  bool sent = co_await connection_->Flush(timeout);
  if (!sent) GiveUp();
  co_return sent;
}

asio::awaitable<Reply> Client::Command(std::string line, net::Duration timeout, bool secret) {
  if (!usable_) co_return NoReply("not sent: the connection was already lost");
  // Never a credential in a reply text (it reaches logs and DSNs).
  const std::string verb = secret ? "AUTH data" : line.substr(0, line.find(' '));
  line += "\r\n";
  connection_->Queue(line);
  bool sent = co_await Flush(timeout);
  if (!sent) co_return NoReply("connection lost while sending " + verb);
  Reply reply = co_await ReadReply(timeout);
  co_return reply;
}

asio::awaitable<Reply> Client::Hello() {
  const std::string name = options_.helo_name.empty() ? "localhost" : options_.helo_name;
  extensions_ = Extensions();
  Reply reply = co_await Command("EHLO " + name, options_.command_timeout);
  if (reply.positive()) {
    extensions_ = ParseEhlo(reply);
    co_return reply;
  }
  // RFC 5321 §4.1.4 / §3.2: a server that does not know EHLO says 500 or 502.
  if (reply.code != 500 && reply.code != 502) co_return reply;
  Reply helo = co_await Command("HELO " + name, options_.command_timeout);
  co_return helo;
}

asio::awaitable<Result<std::unique_ptr<Client>>> Client::Connect(asio::any_io_executor ex,
                                                                 asio::ip::tcp::endpoint endpoint,
                                                                 Options options, Reply* failure) {
  Reply scratch;
  if (!failure) failure = &scratch;
  auto connection = co_await net::Connection::Connect(ex, endpoint, options.connect_timeout,
                                                      options.local_address);
  if (!connection.ok()) {
    *failure = NoReply(connection.status().message());
    co_return connection.status();
  }
  (*connection)->Start();
  std::unique_ptr<Client> client(new Client(std::move(*connection), options));
  if (options.implicit_tls != nullptr) {
    net::ClientTlsResult tls = co_await client->connection_->StartTlsClient(
        *options.implicit_tls, options.implicit_tls_check, options.greeting_timeout);
    if (!tls.ok) {
      client->GiveUp();
      const std::string what =
          "TLS with " + endpoint.address().to_string() + " failed: " + tls.error;
      *failure = NoReply(what);
      co_return PermissionDenied(what);
    }
    client->implicit_tls_verified_ = tls.verified;
  }
  client->greeting_ = co_await client->ReadReply(options.greeting_timeout);
  if (client->greeting_.code == 220) {
    Reply hello = co_await client->Hello();
    if (hello.positive()) co_return std::move(client);
    *failure = hello;
  } else {
    *failure = client->greeting_;
  }
  // RFC 5321 §3.1: after a 554 greeting the client sends QUIT; after any
  // other refusal too, politely, while the connection lasts.
  co_await client->Quit();
  const std::string what = "refused by " + endpoint.address().to_string() + ": " +
                           (failure->ToString().empty() ? "no reply" : failure->ToString());
  if (failure->permanent()) co_return FailedPrecondition(what);
  co_return Unavailable(what);
}

asio::awaitable<net::ClientTlsResult> Client::StartTls(asio::ssl::context& context,
                                                       net::ClientTls tls) {
  net::ClientTlsResult result;
  Reply reply = co_await Command("STARTTLS", options_.command_timeout);
  if (reply.code != 220) {
    result.error = "STARTTLS refused: " + reply.ToString();
    co_await Quit();
    co_return result;
  }
  // The server's bytes after its 220 are discarded by the handshake.
  result = co_await connection_->StartTlsClient(context, tls, options_.command_timeout);
  if (!result.ok) {
    GiveUp();
    co_return result;
  }
  // RFC 3207 §4.2: forget what was learnt before TLS and ask again.
  Reply hello = co_await Hello();
  if (!hello.positive()) {
    result.ok = false;
    result.error = "EHLO after STARTTLS failed: " + hello.ToString();
    co_await Quit();
  }
  co_return result;
}

asio::awaitable<Reply> Client::Authenticate(std::string user, std::string password) {
  auto offered = [this](std::string_view mechanism) {
    return std::find(extensions_.auth.begin(), extensions_.auth.end(), mechanism) !=
           extensions_.auth.end();
  };
  const net::Duration timeout = options_.command_timeout;
  if (offered("PLAIN")) {
    // RFC 4616: authzid NUL authcid NUL passwd, as an initial response
    // (RFC 4954 §4).
    std::string credentials;
    credentials.push_back('\0');
    credentials += user;
    credentials.push_back('\0');
    credentials += password;
    Reply reply = co_await Command("AUTH PLAIN " + EncodeBase64Strict(credentials), timeout);
    if (reply.code == 334) {
      // A challenge after a complete initial response: cancel (RFC 4954 §4).
      Reply cancelled = co_await Command("*", timeout);
      co_return cancelled;
    }
    co_return reply;
  }
  if (offered("LOGIN")) {
    Reply reply = co_await Command("AUTH LOGIN", timeout);
    if (reply.code != 334) co_return reply;
    reply = co_await Command(EncodeBase64Strict(user), timeout, true);
    if (reply.code != 334) co_return reply;
    reply = co_await Command(EncodeBase64Strict(password), timeout, true);
    co_return reply;
  }
  co_return LocalReply(504, "5.5.4", "not sent: the server offers neither AUTH PLAIN nor LOGIN");
}

asio::awaitable<Reply> Client::Reset() {
  Reply reply = co_await Command("RSET", options_.command_timeout);
  if (!reply.positive()) GiveUp();
  co_return reply;
}

asio::awaitable<void> Client::Quit() {
  try {
    if (usable_) {
      connection_->Queue("QUIT\r\n");
      const net::Duration timeout = std::min(options_.command_timeout, kQuitTimeout);
      bool sent = co_await Flush(timeout);
      if (sent) {
        Reply bye = co_await ReadReply(timeout);
        (void)bye;
      }
    }
  } catch (...) {
    // Nothing to report: the connection is being closed anyway.
  }
  GiveUp();
}

}  // namespace postern::smtpclient
