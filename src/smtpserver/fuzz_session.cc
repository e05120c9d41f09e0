// Fuzz target: arbitrary bytes from a client into a whole SMTP session (the
// command loop, the envelope, DATA and BDAT, every limit), over a socketpair,
// with a backend that accepts everything for example.test. Whatever the
// input, the session must end (the input ends with EOF) without a crash, a
// hang, a leak or undefined behaviour.
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/write.hpp>
#include <cstdint>
#include <cstdlib>

#include "sasl/exchange.h"
#include "sasl/fake_credentials.h"
#include "smtpserver/session.h"

namespace postern::smtpserver {
namespace {

class AcceptingBackend : public Backend {
 public:
  asio::awaitable<RecipientCheck> CheckRecipient(std::string address, bool postmaster,
                                                 uint64_t) override {
    RecipientCheck c;
    const bool ours =
        address.size() > 13 && address.compare(address.size() - 13, 13, "@example.test") == 0;
    if (postmaster || ours) {
      c.reply = smtp::Reply(250, "2.1.5", "Ok");
      directory::Destination d;
      d.address = postmaster ? "postmaster@example.test" : address;
      d.local = true;
      c.destinations.push_back(d);
    } else {
      c.reply = smtp::Reply(554, "5.7.1", "Relay access denied");
    }
    co_return c;
  }
  asio::awaitable<Status> Accept(Envelope env, std::string content) override {
    if (env.recipients.empty() || content.size() > (1u << 20)) std::abort();
    co_return Status::Ok();
  }
  // Submission: u@example.test / secret (AUTH PLAIN AHVAZXhhbXBsZS50ZXN0AHNlY3JldA==).
  asio::awaitable<AuthOutcome> Authenticate(std::string name, std::optional<std::string> initial,
                                            sasl::Ask ask) override {
    co_return co_await AuthenticateWith(blocking_, credentials_, std::move(name),
                                        std::move(initial), std::move(ask));
  }
  asio::awaitable<Result<bool>> MaySendAs(std::string account, std::string sender) override {
    co_return account == sender;
  }
  asio::awaitable<RecipientCheck> CheckRelayRecipient(std::string address, uint64_t) override {
    RecipientCheck c;
    c.reply = smtp::Reply(250, "2.1.5", "Ok");
    c.destinations.push_back(directory::Destination{address, false, {}});
    co_return c;
  }

 private:
  sasl::FakeCredentials credentials_ = [] {
    sasl::FakeCredentials c;
    c.Add("u@example.test", "secret", /*scram=*/false);
    return c;
  }();
  asio::thread_pool blocking_{1};
};

asio::awaitable<void> Feed(asio::posix::stream_descriptor& client, std::string input) {
  co_await asio::async_write(client, asio::buffer(input), kAwait);
  ::shutdown(client.native_handle(), SHUT_WR);
}

asio::awaitable<void> Drain(asio::posix::stream_descriptor& client) {
  char buf[4096];
  while (true) {
    auto [ec, n] = co_await client.async_read_some(asio::buffer(buf), kAwait);
    if (ec) break;
  }
}

asio::awaitable<void> RunSession(std::shared_ptr<net::Connection> conn, Backend& backend,
                                 const SessionOptions& options) {
  conn->Start();
  Session session(conn, backend, options);
  co_await session.Run();
}

}  // namespace

void RunOnce(std::string_view input, Backend& backend, const SessionOptions& options);

}  // namespace postern::smtpserver

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace postern;
  using namespace postern::smtpserver;
  static AcceptingBackend backend;
  static SessionOptions options = [] {
    SessionOptions o;
    o.hostname = "mx.example.test";
    o.max_message_size = 20000;
    o.max_recipients = 5;
    o.max_command_line = 512;
    o.max_data_line = 2000;
    o.max_errors = 50;
    o.max_hops = 5;
    o.memory = std::make_shared<MemoryBudget>(50000);
    return o;
  }();
  // The same bytes to an inbound session and to a submission one (AUTH, sender
  // checks, the added header fields).
  static SessionOptions submission = [] {
    SessionOptions o = options;
    o.submission = true;
    o.allow_plaintext_auth = true;
    o.failed_login_delay = std::chrono::milliseconds(0);
    o.guard = std::make_shared<sasl::AuthGuard>();
    return o;
  }();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  RunOnce(input, backend, options);
  RunOnce(input, backend, submission);
  return 0;
}

namespace postern::smtpserver {
void RunOnce(std::string_view input, Backend& backend, const SessionOptions& options) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
  asio::io_context ctx;
  asio::ip::tcp::socket server_side(ctx);
  server_side.assign(asio::ip::tcp::v4(), fds[0]);
  asio::posix::stream_descriptor client(ctx, fds[1]);
  auto conn = std::make_shared<net::Connection>(std::move(server_side));
  asio::co_spawn(ctx, Feed(client, std::string(input)), asio::detached);
  asio::co_spawn(ctx, Drain(client), asio::detached);
  asio::co_spawn(ctx, RunSession(conn, backend, options), asio::detached);
  ctx.run();
  if (options.memory->used() != 0) std::abort();  // every reservation was given back
}
}  // namespace postern::smtpserver
