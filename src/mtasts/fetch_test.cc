#include "mtasts/fetch.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <fstream>
#include <optional>

#include "mtasts/policy.h"
#include "net/tls.h"

namespace postern::mtasts {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kPolicy[] =
    "version: STSv1\r\nmode: enforce\r\nmx: *.example.net\r\nmax_age: 86400\r\n";

// Accepts one connection, reads the request head, sends `response`.
asio::awaitable<void> ServeOnce(asio::ip::tcp::acceptor& acceptor, asio::ssl::context& tls,
                                std::string response, std::string* request) {
  auto [ec, socket] = co_await acceptor.async_accept(kAwait);
  if (ec) co_return;
  asio::ssl::stream<asio::ip::tcp::socket> stream(std::move(socket), tls);
  std::tie(ec) = co_await stream.async_handshake(asio::ssl::stream_base::server, kAwait);
  if (ec) co_return;
  std::string buffer;
  std::tie(ec, std::ignore) =
      co_await asio::async_read_until(stream, asio::dynamic_buffer(buffer), "\r\n\r\n", kAwait);
  if (ec) co_return;
  *request = buffer;
  if (response.empty()) {  // a server that never answers
    std::tie(ec, std::ignore) =
        co_await asio::async_read(stream, asio::dynamic_buffer(buffer), kAwait);
    co_return;
  }
  std::tie(ec, std::ignore) = co_await asio::async_write(stream, asio::buffer(response), kAwait);
  std::tie(ec) = co_await stream.async_shutdown(kAwait);
}

asio::awaitable<void> FetchInto(dns::Resolver& resolver, std::string domain,
                                asio::ssl::context& tls, uint16_t port,
                                std::chrono::seconds timeout,
                                std::optional<Result<std::string>>* out) {
  auto ex = co_await asio::this_coro::executor;
  *out = co_await FetchPolicy(ex, resolver, std::move(domain), tls, port, timeout);
}

class FetchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("postern_mtasts_" + std::to_string(getpid())));
    fs::create_directories(*dir_);
    for (const char* host : {"mta-sts.example.net", "other.example.org"}) {
      Status s = net::GenerateSelfSignedCertificate(host, (*dir_ / host).string() + ".crt",
                                                    (*dir_ / host).string() + ".key", 2);
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
    std::ofstream(*dir_ / "zone") << "mta-sts.example.net. 300 IN A 127.0.0.1\n";
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  void SetUp() override {
    config::DnsConfig dns;
    dns.dnssec = false;
    dns.timeout = 5;
    dns.static_zone = (*dir_ / "zone").string();
    dns.static_zone_secure = false;
    auto resolver = dns::MakeResolver(context_, dns);
    ASSERT_TRUE(resolver.ok()) << resolver.status().ToString();
    resolver_ = std::move(*resolver);
    // The client trusts both certificates: only the name can fail.
    client_tls_.load_verify_file((*dir_ / "mta-sts.example.net.crt").string());
    client_tls_.load_verify_file((*dir_ / "other.example.org.crt").string());
  }
  void TearDown() override { resolver_.reset(); }

  // Runs one fetch against a server presenting `certificate_host`'s certificate.
  Result<std::string> Fetch(std::string response,
                            const char* certificate_host = "mta-sts.example.net",
                            std::chrono::seconds timeout = 5s) {
    auto server_tls = net::MakeServerTlsContext((*dir_ / certificate_host).string() + ".crt",
                                                (*dir_ / certificate_host).string() + ".key");
    EXPECT_TRUE(server_tls.ok());
    asio::ip::tcp::acceptor acceptor(context_, {asio::ip::make_address("127.0.0.1"), 0});
    asio::co_spawn(context_, ServeOnce(acceptor, **server_tls, std::move(response), &request_),
                   asio::detached);
    std::optional<Result<std::string>> out;
    asio::co_spawn(context_,
                   FetchInto(*resolver_, "example.net", client_tls_,
                             acceptor.local_endpoint().port(), timeout, &out),
                   asio::detached);
    context_.restart();
    context_.run();
    EXPECT_TRUE(out.has_value());
    return out ? std::move(*out) : Result<std::string>(Internal("no result"));
  }

  static fs::path* dir_;
  asio::io_context context_;
  std::unique_ptr<dns::Resolver> resolver_;
  asio::ssl::context client_tls_{asio::ssl::context::tls_client};
  std::string request_;
};

fs::path* FetchTest::dir_ = nullptr;

std::string Response(std::string_view status, std::string_view content_type,
                     std::string_view body) {
  return "HTTP/1.1 " + std::string(status) + "\r\nContent-Type: " + std::string(content_type) +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

TEST_F(FetchTest, GoodPolicy) {
  auto body = Fetch(Response("200 OK", "text/plain; charset=utf-8", kPolicy));
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, kPolicy);
  EXPECT_TRUE(request_.starts_with("GET /.well-known/mta-sts.txt HTTP/1.1\r\n")) << request_;
  EXPECT_NE(request_.find("\r\nHost: mta-sts.example.net\r\n"), std::string::npos) << request_;
  auto policy = ParsePolicy(*body);
  ASSERT_TRUE(policy.ok());
  EXPECT_TRUE(MxMatches(*policy, "mx1.example.net"));
}

TEST_F(FetchTest, ChunkedAndCloseDelimitedBodies) {
  auto chunked = Fetch(
      "HTTP/1.1 200 OK\r\nContent-Type: TEXT/Plain\r\nTransfer-Encoding: chunked\r\n\r\n"
      "10\r\nversion: STSv1\r\n\r\n3\r\nmod\r\n0\r\n\r\n");
  ASSERT_TRUE(chunked.ok()) << chunked.status().ToString();
  EXPECT_EQ(*chunked, "version: STSv1\r\nmod");
  auto closed = Fetch("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + std::string(kPolicy));
  ASSERT_TRUE(closed.ok()) << closed.status().ToString();
  EXPECT_EQ(*closed, kPolicy);
}

TEST_F(FetchTest, NotFound) {
  auto body = Fetch(Response("404 Not Found", "text/plain", "no"));
  ASSERT_FALSE(body.ok());
  EXPECT_NE(body.status().message().find("404"), std::string::npos) << body.status().ToString();
}

TEST_F(FetchTest, RedirectIsNotFollowed) {
  auto body = Fetch(
      "HTTP/1.1 301 Moved\r\nLocation: https://mta-sts.example.net/x\r\nContent-Length: 0\r\n\r\n");
  ASSERT_FALSE(body.ok());
  EXPECT_NE(body.status().message().find("301"), std::string::npos) << body.status().ToString();
}

TEST_F(FetchTest, WrongContentType) {
  auto body = Fetch(Response("200 OK", "text/html", kPolicy));
  ASSERT_FALSE(body.ok());
  EXPECT_NE(body.status().message().find("text/plain"), std::string::npos);
  EXPECT_FALSE(Fetch(Response("200 OK", "text/plainx", kPolicy)).ok());
  EXPECT_FALSE(Fetch("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc").ok());  // none at all
}

TEST_F(FetchTest, CertificateNameMismatch) {
  auto body = Fetch(Response("200 OK", "text/plain", kPolicy), "other.example.org");
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(body.status().message().find("TLS handshake"), std::string::npos)
      << body.status().ToString();
}

TEST_F(FetchTest, BodyTooLarge) {
  std::string large(kMaxPolicySize + 1, 'a');
  EXPECT_FALSE(Fetch(Response("200 OK", "text/plain", large)).ok());
  auto chunked =
      Fetch("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
            std::string("8000\r\n") + std::string(0x8000, 'a') + "\r\n8001\r\n" +
            std::string(0x8001, 'a') + "\r\n0\r\n\r\n");
  EXPECT_FALSE(chunked.ok());
  EXPECT_TRUE(Fetch(Response("200 OK", "text/plain", std::string(kMaxPolicySize, 'a'))).ok());
}

TEST_F(FetchTest, SilentServerTimesOut) {
  auto start = std::chrono::steady_clock::now();
  auto body = Fetch("", "mta-sts.example.net", 1s);
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.status().code(), StatusCode::kDeadlineExceeded) << body.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

TEST_F(FetchTest, PolicyHostWithoutAddress) {
  std::optional<Result<std::string>> out;
  asio::co_spawn(context_, FetchInto(*resolver_, "example.org", client_tls_, 1, 1s, &out),
                 asio::detached);
  context_.run();
  ASSERT_TRUE(out.has_value());
  EXPECT_FALSE(out->ok());
}

}  // namespace
}  // namespace postern::mtasts
