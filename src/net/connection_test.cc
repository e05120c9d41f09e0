#include "net/connection.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <future>
#include <thread>

#include "net/tls.h"

namespace postern::net {
namespace {

using namespace std::chrono_literals;

// Runs `server(connection)` as a coroutine for the first accepted socket and
// gives the test a connected blocking client socket.
class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    acceptor_.open(asio::ip::tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    client_.connect(acceptor_.local_endpoint());
  }

  // A coroutine's parameters live in its frame; lambda captures would not.
  template <typename Fn>
  static asio::awaitable<void> Run(std::shared_ptr<Connection> conn, Fn server) {
    conn->Start();
    co_await server(*conn);
    conn->Close();
  }

  template <typename Fn>
  void Serve(Fn server) {
    auto socket = acceptor_.accept();
    auto conn = std::make_shared<Connection>(std::move(socket));
    asio::co_spawn(ctx_, Run(conn, std::move(server)), asio::detached);
    thread_ = std::thread([this] { ctx_.run(); });
  }

  void Send(std::string_view s) { asio::write(client_, asio::buffer(s)); }
  std::string ReadAll() {
    std::string out;
    error_code ec;
    char buf[4096];
    while (true) {
      size_t n = client_.read_some(asio::buffer(buf), ec);
      if (ec) break;
      out.append(buf, n);
    }
    return out;
  }

  void TearDown() override {
    if (thread_.joinable()) thread_.join();
  }

  asio::io_context ctx_;
  asio::io_context client_ctx_;
  asio::ip::tcp::acceptor acceptor_{ctx_};
  asio::ip::tcp::socket client_{client_ctx_};
  std::thread thread_;
};

TEST_F(ConnectionTest, PipelinedLinesAreNotLost) {
  std::vector<std::string> got;
  Send("ONE\r\nTWO\nTHREE\r\n");
  Serve([&](Connection& c) -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) {
      Line line = co_await c.ReadLine(100, 5s, false);
      EXPECT_EQ(line.status, ReadStatus::kOk);
      got.emplace_back(line.text);
      if (i == 0) {
        EXPECT_TRUE(c.HasBufferedInput());
      }
    }
    c.Queue("done\r\n");
    co_await c.Flush(5s);
  });
  EXPECT_EQ(ReadAll(), "done\r\n");
  EXPECT_EQ(got, (std::vector<std::string>{"ONE", "TWO", "THREE"}));
}

TEST_F(ConnectionTest, OverlongLineIsDiscardedToItsEnd) {
  std::vector<std::pair<ReadStatus, std::string>> got;
  Send(std::string(50000, 'x') + "\r\nNEXT\r\n");
  Serve([&](Connection& c) -> asio::awaitable<void> {
    for (int i = 0; i < 2; ++i) {
      Line line = co_await c.ReadLine(512, 5s, false);
      got.emplace_back(line.status, std::string(line.text));
    }
  });
  ReadAll();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].first, ReadStatus::kTooLong);
  EXPECT_EQ(got[1].first, ReadStatus::kOk);
  EXPECT_EQ(got[1].second, "NEXT");
}

TEST_F(ConnectionTest, LineLimitHoldsWhenTheWholeLineArrivesAtOnce) {
  std::vector<ReadStatus> got;
  Send(std::string(600, 'a') + "\r\n" + std::string(510, 'b') + "\r\n");
  Serve([&](Connection& c) -> asio::awaitable<void> {
    for (int i = 0; i < 2; ++i) got.push_back((co_await c.ReadLine(512, 5s, false)).status);
  });
  ReadAll();
  EXPECT_EQ(got, (std::vector<ReadStatus>{ReadStatus::kTooLong, ReadStatus::kOk}))
      << "512 counts the CRLF: 510 + 2 fits, 600 does not";
}

TEST_F(ConnectionTest, ReadTimesOut) {
  ReadStatus status = ReadStatus::kOk;
  auto start = std::chrono::steady_clock::now();
  Serve([&](Connection& c) -> asio::awaitable<void> {
    Line line = co_await c.ReadLine(100, 200ms, false);
    status = line.status;
  });
  ReadAll();
  EXPECT_EQ(status, ReadStatus::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(ConnectionTest, EofIsReported) {
  ReadStatus status = ReadStatus::kOk;
  Send("partial");
  client_.shutdown(asio::ip::tcp::socket::shutdown_send);
  Serve([&](Connection& c) -> asio::awaitable<void> {
    Line line = co_await c.ReadLine(100, 5s, false);
    status = line.status;
  });
  ReadAll();
  EXPECT_EQ(status, ReadStatus::kEof);
}

TEST_F(ConnectionTest, DrainInterruptsOnlyIdleReads) {
  ReadStatus status = ReadStatus::kOk;
  Serve([&](Connection& c) -> asio::awaitable<void> {
    c.Drain();  // posted: runs while the read below waits
    Line line = co_await c.ReadLine(100, 10s, true);
    status = line.status;
  });
  ReadAll();
  EXPECT_EQ(status, ReadStatus::kDrained);
}

TEST_F(ConnectionTest, ReadSomeAndConsume) {
  std::string first;
  std::string rest;
  Send("HEADER\r\nbody-bytes");
  client_.shutdown(asio::ip::tcp::socket::shutdown_send);
  Serve([&](Connection& c) -> asio::awaitable<void> {
    Line line = co_await c.ReadLine(100, 5s, false);
    first = std::string(line.text);
    while (true) {
      auto [status, bytes] = co_await c.ReadSome(5s);
      if (status != ReadStatus::kOk) break;
      rest.append(bytes);
      c.Consume(bytes.size());
    }
  });
  ReadAll();
  EXPECT_EQ(first, "HEADER");
  EXPECT_EQ(rest, "body-bytes");
}

TEST_F(ConnectionTest, StartTlsDiscardsPipelinedPlaintext) {
  auto dir = std::filesystem::temp_directory_path() / ("conn-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(GenerateSelfSignedCertificate("mx.example.test", (dir / "c.pem").string(),
                                            (dir / "k.pem").string())
                  .ok());
  auto server_ctx = MakeServerTlsContext((dir / "c.pem").string(), (dir / "k.pem").string());
  ASSERT_TRUE(server_ctx.ok()) << server_ctx.status().ToString();
  std::string after_tls;
  bool handshake = false;
  // The injected command arrives in the same packet as STARTTLS.
  Send("STARTTLS\r\nINJECTED\r\n");
  Serve([&](Connection& c) -> asio::awaitable<void> {
    Line line = co_await c.ReadLine(100, 5s, false);
    EXPECT_EQ(line.text, "STARTTLS");
    c.Queue("220 go ahead\r\n");
    co_await c.Flush(5s);
    handshake = co_await c.StartTls(**server_ctx, 5s);
    if (!handshake) co_return;
    Line next = co_await c.ReadLine(100, 5s, false);
    after_tls = std::string(next.text);
  });
  char buf[64];
  size_t n = client_.read_some(asio::buffer(buf));
  EXPECT_EQ(std::string(buf, n), "220 go ahead\r\n");
  asio::ssl::context client_tls(asio::ssl::context::tls_client);
  asio::ssl::stream<asio::ip::tcp::socket&> tls(client_, client_tls);
  tls.handshake(asio::ssl::stream_base::client);
  asio::write(tls, asio::buffer(std::string("EHLO after\r\n")));
  thread_.join();
  EXPECT_TRUE(handshake);
  EXPECT_EQ(after_tls, "EHLO after") << "plaintext pipelined before the handshake was used";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace postern::net
