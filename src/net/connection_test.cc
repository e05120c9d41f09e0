#include "net/connection.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <csignal>
#include <filesystem>
#include <future>
#include <thread>

#include "net/tls.h"
#include "net/zlib_peer_test_util.h"

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

// RFC 4978 over a real socket: the client's compressed command arrives in
// the same packet as the one that turned compression on, and the answer
// comes back compressed after the plain OK.
TEST_F(ConnectionTest, CompressionBothWays) {
  PeerCompressor peer;
  std::vector<std::string> got;
  Send("a COMPRESS DEFLATE\r\n" + peer.Compress("b NOOP\r\n"));
  Serve([&](Connection& c) -> asio::awaitable<void> {
    Line line = co_await c.ReadLine(100, 5s, false);
    got.emplace_back(line.text);
    c.Queue("a OK DEFLATE active\r\n");
    co_await c.Flush(5s);
    EXPECT_TRUE(c.StartCompression());
    EXPECT_FALSE(c.StartCompression());
    line = co_await c.ReadLine(100, 5s, false);
    got.emplace_back(line.text);
    c.Queue("b OK NOOP completed\r\n");
    co_await c.Flush(5s);
    line = co_await c.ReadLine(100, 5s, false);
    got.emplace_back(line.text);
    c.Queue("* BYE\r\n");
    co_await c.Flush(5s);
  });
  std::string plain = "a OK DEFLATE active\r\n";
  std::string head(plain.size(), '\0');
  asio::read(client_, asio::buffer(head));
  EXPECT_EQ(head, plain);
  PeerInflater inflater;
  // The first compressed answer arrives whole before the client sends more:
  // it was sync-flushed.
  std::string answer;
  while (answer.size() < 21) {
    char buf[256];
    size_t n = client_.read_some(asio::buffer(buf));
    answer += inflater.Inflate(std::string_view(buf, n));
  }
  EXPECT_EQ(answer, "b OK NOOP completed\r\n");
  Send(peer.Compress("c LOGOUT\r\n"));
  EXPECT_EQ(inflater.Inflate(ReadAll()), "* BYE\r\n");
  EXPECT_EQ(got, (std::vector<std::string>{"a COMPRESS DEFLATE", "b NOOP", "c LOGOUT"}));
}

// A line that inflates to 20 MB is discarded like any over-long line; the
// next one is read.
TEST_F(ConnectionTest, CompressedBombHitsTheLineLimit) {
  PeerCompressor peer;
  std::vector<std::pair<ReadStatus, std::string>> got;
  size_t largest_memory = 0;
  Send(peer.Compress(std::string(20'000'000, 'x') + "\r\nNEXT\r\n"));
  Serve([&](Connection& c) -> asio::awaitable<void> {
    c.StartCompression();
    for (int i = 0; i < 2; ++i) {
      Line line = co_await c.ReadLine(1024, 5s, false);
      got.emplace_back(line.status, std::string(line.text));
      largest_memory = std::max(largest_memory, c.CompressionMemory());
    }
  });
  ReadAll();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].first, ReadStatus::kTooLong);
  EXPECT_EQ(got[1].first, ReadStatus::kOk);
  EXPECT_EQ(got[1].second, "NEXT");
  EXPECT_LT(largest_memory, 128u * 1024);
}

TEST_F(ConnectionTest, CorruptCompressedInputEndsTheRead) {
  ReadStatus status = ReadStatus::kOk;
  Send("\xff\xff\xff\xff not deflate\r\n");
  Serve([&](Connection& c) -> asio::awaitable<void> {
    c.StartCompression();
    Line line = co_await c.ReadLine(100, 5s, false);
    status = line.status;
  });
  ReadAll();
  EXPECT_EQ(status, ReadStatus::kError);
}

// A compressed connection waiting for its next command lets go of its zlib
// states after a moment, and reads the next command with the history the
// client's compressor refers to.
TEST_F(ConnectionTest, IdleCompressedConnectionReleasesItsState) {
  PeerCompressor peer;
  PeerInflater inflater;
  const std::string command = "a1 SELECT \"a mailbox with a long name\"\r\n";
  std::vector<std::string> got;
  std::atomic<Connection*> conn{nullptr};
  Send(peer.Compress(command));
  Serve([&](Connection& c) -> asio::awaitable<void> {
    c.StartCompression();
    conn = &c;
    for (int i = 0; i < 2; ++i) {
      Line line = co_await c.ReadLine(1024, 10s, true);
      got.emplace_back(line.text);
      c.Queue("* 0 EXISTS\r\n");
      co_await c.Flush(5s);
    }
  });
  char buf[256];
  size_t n = client_.read_some(asio::buffer(buf));
  EXPECT_EQ(inflater.Inflate(std::string_view(buf, n)), "* 0 EXISTS\r\n");
  auto memory = [&] {
    std::promise<size_t> held;
    asio::post(ctx_, [&] { held.set_value(conn.load()->CompressionMemory()); });
    return held.get_future().get();
  };
  EXPECT_GT(memory(), 32'000u);
  std::this_thread::sleep_for(2500ms);
  EXPECT_LE(memory(), command.size()) << "only the client's history is kept";
  std::string again = peer.Compress(command);
  EXPECT_LT(again.size(), 12u) << "the repeat refers back to the first command";
  Send(again);
  EXPECT_EQ(inflater.Inflate(ReadAll()), "* 0 EXISTS\r\n");
  EXPECT_EQ(got, (std::vector<std::string>{command.substr(0, command.size() - 2),
                                           command.substr(0, command.size() - 2)}));
}

// Client-side TLS against the server side, both in one io_context.
class ClientTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // OpenSSL writes with write(2): a peer that closed raises SIGPIPE, which
    // the server ignores (server/server.cc); so does this test.
    ::signal(SIGPIPE, SIG_IGN);
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("client-tls-" + std::to_string(::getpid())));
    std::filesystem::create_directories(*dir_);
    ASSERT_TRUE(
        GenerateSelfSignedCertificate("mx.example.test", Path("mx.pem"), Path("mx.key")).ok());
    ASSERT_TRUE(
        GenerateSelfSignedCertificate("*.example.test", Path("wild.pem"), Path("wild.key")).ok());
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::string Path(const std::string& name) { return (*dir_ / name).string(); }

  // The server: accepts one connection, TLS handshake, then answers one line.
  static asio::awaitable<void> Serve(asio::ip::tcp::acceptor* acceptor,
                                     std::shared_ptr<asio::ssl::context> tls, bool* handshake) {
    auto [ec, socket] = co_await acceptor->async_accept(kAwait);
    if (ec) co_return;
    auto conn = std::make_shared<Connection>(std::move(socket));
    conn->Start();
    *handshake = co_await conn->StartTls(*tls, 5s);
    if (*handshake) {
      Line line = co_await conn->ReadLine(100, 5s, false);
      if (line.status == ReadStatus::kOk) {
        conn->Queue("pong " + std::string(line.text) + "\r\n");
        co_await conn->Flush(5s);
      }
    }
    conn->Close();
  }

  // The client: connects, TLS, then one line there and back when ok.
  static asio::awaitable<void> Client(asio::ip::tcp::endpoint endpoint, asio::ssl::context* context,
                                      ClientTls options, ClientTlsResult* result,
                                      std::string* answer) {
    auto ex = co_await asio::this_coro::executor;
    auto conn = co_await Connection::Connect(ex, endpoint, 5s);
    if (!conn.ok()) {
      result->error = conn.status().ToString();
      co_return;
    }
    (*conn)->Start();
    *result = co_await (*conn)->StartTlsClient(*context, options, 5s);
    if (result->ok) {
      (*conn)->Queue("ping\r\n");
      co_await (*conn)->Flush(5s);
      Line line = co_await (*conn)->ReadLine(100, 5s, false);
      *answer = std::string(line.text);
    }
    (*conn)->Close();
  }

  struct Outcome {
    ClientTlsResult client;
    bool server_handshake = false;
    std::string answer;
  };

  Outcome Run(const std::string& server_cert, ClientTls options, asio::ssl::context& client_ctx) {
    auto server_ctx = MakeServerTlsContext(Path(server_cert + ".pem"), Path(server_cert + ".key"));
    EXPECT_TRUE(server_ctx.ok());
    asio::io_context ctx;
    asio::ip::tcp::acceptor acceptor(ctx);
    acceptor.open(asio::ip::tcp::v4());
    acceptor.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor.listen();
    Outcome out;
    asio::co_spawn(ctx, Serve(&acceptor, *server_ctx, &out.server_handshake), asio::detached);
    asio::co_spawn(ctx,
                   Client(acceptor.local_endpoint(), &client_ctx, std::move(options), &out.client,
                          &out.answer),
                   asio::detached);
    ctx.run();
    return out;
  }

  // A client context trusting both test certificates.
  static asio::ssl::context TrustingContext() {
    asio::ssl::context context(asio::ssl::context::tls_client);
    context.load_verify_file(Path("mx.pem"));
    context.load_verify_file(Path("wild.pem"));
    return context;
  }

  // SHA-256 of the certificate's SubjectPublicKeyInfo: a DANE-EE(3 1 1) record.
  static std::string SpkiSha256(const std::string& cert_name) {
    FILE* f = std::fopen(Path(cert_name + ".pem").c_str(), "r");
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    unsigned char* der = nullptr;
    int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    std::string digest(SHA256_DIGEST_LENGTH, '\0');
    SHA256(der, static_cast<size_t>(len), reinterpret_cast<unsigned char*>(digest.data()));
    OPENSSL_free(der);
    X509_free(cert);
    return digest;
  }

  // kDane for mx.example.test with these records.
  static ClientTls Dane(std::vector<ClientTls::Tlsa> records) {
    ClientTls options;
    options.verify = ClientTls::Verify::kDane;
    options.names = {"mx.example.test"};
    options.tlsa = std::move(records);
    return options;
  }

  static std::filesystem::path* dir_;
};

std::filesystem::path* ClientTlsTest::dir_ = nullptr;

TEST_F(ClientTlsTest, OpportunisticAcceptsAnyCertificateButSaysSo) {
  asio::ssl::context untrusting(asio::ssl::context::tls_client);
  ClientTls options;
  options.sni = "mx.example.test";
  Outcome out = Run("mx", options, untrusting);
  EXPECT_TRUE(out.server_handshake);
  EXPECT_TRUE(out.client.ok) << out.client.error;
  EXPECT_FALSE(out.client.verified);
  EXPECT_NE(out.client.error.find("certificate verification failed"), std::string::npos)
      << out.client.error;
  EXPECT_EQ(out.answer, "pong ping");
}

TEST_F(ClientTlsTest, OpportunisticReportsAVerifiedPeer) {
  auto trusting = TrustingContext();
  ClientTls options;
  options.sni = "mx.example.test";
  Outcome out = Run("mx", options, trusting);
  EXPECT_TRUE(out.client.ok);
  EXPECT_TRUE(out.client.verified) << out.client.error;
}

TEST_F(ClientTlsTest, NameVerificationMatches) {
  auto trusting = TrustingContext();
  ClientTls options;
  options.sni = "mx.example.test";
  options.verify = ClientTls::Verify::kName;
  options.names = {"other.example.test", "MX.Example.Test"};
  Outcome out = Run("mx", options, trusting);
  EXPECT_TRUE(out.client.ok) << out.client.error;
  EXPECT_TRUE(out.client.verified);
  EXPECT_EQ(out.answer, "pong ping");
}

TEST_F(ClientTlsTest, NameVerificationRefusesAnotherName) {
  auto trusting = TrustingContext();
  ClientTls options;
  options.verify = ClientTls::Verify::kName;
  options.names = {"mx.example.net"};
  Outcome out = Run("mx", options, trusting);
  EXPECT_FALSE(out.client.ok);
  EXPECT_FALSE(out.client.verified);
  EXPECT_EQ(out.client.error, "no certificate name matches");
  EXPECT_EQ(out.answer, "");
}

TEST_F(ClientTlsTest, NameVerificationRefusesAnUntrustedChain) {
  asio::ssl::context untrusting(asio::ssl::context::tls_client);
  ClientTls options;
  options.verify = ClientTls::Verify::kName;
  options.names = {"mx.example.test"};
  Outcome out = Run("mx", options, untrusting);
  EXPECT_FALSE(out.client.ok);
  EXPECT_NE(out.client.error.find("certificate verification failed"), std::string::npos)
      << out.client.error;
}

TEST_F(ClientTlsTest, WildcardsCoverOneLabel) {
  auto trusting = TrustingContext();
  ClientTls options;
  options.verify = ClientTls::Verify::kName;
  options.names = {"mx1.example.test"};
  EXPECT_TRUE(Run("wild", options, trusting).client.verified);
  options.names = {"a.b.example.test"};
  EXPECT_FALSE(Run("wild", options, trusting).client.ok);
  options.names = {"example.test"};
  EXPECT_FALSE(Run("wild", options, trusting).client.ok);
  // MTA-STS patterns (RFC 8461 §4.1) on our side.
  options.names = {"*.example.test"};
  EXPECT_TRUE(Run("mx", options, trusting).client.verified);
  EXPECT_TRUE(Run("wild", options, trusting).client.verified);
  options.names = {"*.test"};
  EXPECT_FALSE(Run("mx", options, trusting).client.ok);
}

TEST_F(ClientTlsTest, DaneEndEntityRecordMatches) {
  asio::ssl::context untrusting(asio::ssl::context::tls_client);
  Outcome out = Run("mx", Dane({{3, 1, 1, SpkiSha256("mx")}}), untrusting);
  EXPECT_TRUE(out.client.ok) << out.client.error;
  EXPECT_TRUE(out.client.verified);
  EXPECT_EQ(out.answer, "pong ping");
}

TEST_F(ClientTlsTest, DaneEndEntityRecordMismatch) {
  asio::ssl::context untrusting(asio::ssl::context::tls_client);
  std::string wrong = SpkiSha256("mx");
  wrong[0] = static_cast<char>(wrong[0] ^ 1);
  // A damaged digest of the right key, and another key.
  Outcome out = Run("mx", Dane({{3, 1, 1, wrong}, {3, 1, 1, SpkiSha256("wild")}}), untrusting);
  EXPECT_FALSE(out.client.ok);
  EXPECT_FALSE(out.client.verified);
  EXPECT_FALSE(out.client.error.empty());
  EXPECT_EQ(out.answer, "");
}

TEST_F(ClientTlsTest, DaneWithoutUsableRecordsFails) {
  asio::ssl::context untrusting(asio::ssl::context::tls_client);
  // Wrong length for SHA-256; an unknown usage.
  Outcome out = Run("mx", Dane({{3, 1, 1, "short"}, {9, 1, 1, SpkiSha256("mx")}}), untrusting);
  EXPECT_FALSE(out.client.ok);
  EXPECT_EQ(out.client.error, "no usable TLSA record");
}

TEST_F(ClientTlsTest, ConnectFailsClearly) {
  asio::io_context ctx;
  // A port nobody listens on: refused at once.
  asio::ip::tcp::acceptor acceptor(ctx);
  acceptor.open(asio::ip::tcp::v4());
  acceptor.bind({asio::ip::make_address("127.0.0.1"), 0});
  auto endpoint = acceptor.local_endpoint();
  acceptor.close();
  Status status;
  auto attempt = [](asio::ip::tcp::endpoint ep, Status* out) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto conn = co_await Connection::Connect(ex, ep, 5s, asio::ip::make_address("127.0.0.1"));
    *out = conn.ok() ? Status() : conn.status();
  };
  asio::co_spawn(ctx, attempt(endpoint, &status), asio::detached);
  ctx.run();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
}

}  // namespace
}  // namespace postern::net
