#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/udp.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <thread>

#include "dns/resolver.h"

namespace postern::dns {
namespace {

namespace fs = std::filesystem;

constexpr char kZone[] = R"(; the test zone
example.net.  300 IN MX 10 mx1.example.net.
example.net.  300 IN MX 20 MX2.Example.NET.
example.net.  300 IN MX 10 mx3.example.net.   ; same preference as mx1
example.net.  300 IN TXT "v=spf1 -all"

mx1.example.net. 300 IN A 192.0.2.1
mx1.example.net. 300 IN AAAA 2001:db8::1
mx1.example.net. 300 IN A 192.0.2.2
v6only.example.net. 300 IN AAAA 2001:db8::6
_25._tcp.mx1.example.net. 300 IN TLSA 3 1 1 0123456789abcdef
_mta-sts.example.net. 300 IN TXT "v=STSv1; id=20240101;" "x=1"
nullmx.example.org. 300 IN MX 0 .
)";

// A fresh directory for this test's files.
fs::path TestDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path dir =
      fs::temp_directory_path() / ("postern_dns_" + std::to_string(getpid()) + "_" + info->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

config::DnsConfig StaticConfig(const fs::path& zone, bool secure = false) {
  config::DnsConfig config;
  config.dnssec = true;  // ignored for a static zone
  config.trust_anchor = "/nonexistent";
  config.timeout = 5;
  config.static_zone = zone.string();
  config.static_zone_secure = secure;
  return config;
}

// Runs one coroutine on `context` to completion.
template <typename T>
T RunOn(asio::io_context& context, asio::awaitable<T> task) {
  std::optional<T> out;
  auto done = [&out](std::exception_ptr e, T value) {
    if (e) std::rethrow_exception(e);
    out = std::move(value);
  };
  asio::co_spawn(context, std::move(task), done);
  context.restart();
  context.run();
  EXPECT_TRUE(out.has_value());
  return std::move(*out);
}

class StaticZoneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TestDir();
    std::ofstream(dir_ / "zone") << kZone;
    auto resolver = MakeResolver(context_, StaticConfig(dir_ / "zone"));
    ASSERT_TRUE(resolver.ok()) << resolver.status().ToString();
    resolver_ = std::move(*resolver);
  }
  void TearDown() override {
    resolver_.reset();
    fs::remove_all(dir_);
  }

  fs::path dir_;
  asio::io_context context_;
  std::unique_ptr<Resolver> resolver_;
};

std::multiset<std::string> Hosts(const std::vector<MxRecord>& records) {
  std::multiset<std::string> hosts;
  for (const auto& r : records) hosts.insert(std::to_string(r.preference) + " " + r.host);
  return hosts;
}

TEST_F(StaticZoneTest, MxRecords) {
  MxAnswer answer = RunOn(context_, resolver_->Mx("example.net"));
  ASSERT_TRUE(answer.status.ok()) << answer.status.ToString();
  EXPECT_FALSE(answer.nxdomain);
  EXPECT_FALSE(answer.secure);
  EXPECT_FALSE(answer.bogus);
  EXPECT_EQ(Hosts(answer.records),
            (std::multiset<std::string>{"10 mx1.example.net", "10 mx3.example.net",
                                        "20 mx2.example.net"}));
  EXPECT_FALSE(IsNullMx(answer.records));
  // A trailing dot names the same domain.
  MxAnswer dotted = RunOn(context_, resolver_->Mx("example.net."));
  EXPECT_EQ(Hosts(dotted.records), Hosts(answer.records));
}

TEST_F(StaticZoneTest, NullMx) {
  MxAnswer answer = RunOn(context_, resolver_->Mx("nullmx.example.org"));
  ASSERT_TRUE(answer.status.ok()) << answer.status.ToString();
  ASSERT_EQ(answer.records.size(), 1u);
  EXPECT_EQ(answer.records[0].preference, 0);
  EXPECT_EQ(answer.records[0].host, "");
  EXPECT_TRUE(IsNullMx(answer.records));
}

TEST_F(StaticZoneTest, AddressesAreAThenAaaa) {
  AddressAnswer answer = RunOn(context_, resolver_->Addresses("mx1.example.net"));
  ASSERT_TRUE(answer.status.ok()) << answer.status.ToString();
  ASSERT_EQ(answer.addresses.size(), 3u);
  std::set<std::string> v4 = {answer.addresses[0].to_string(), answer.addresses[1].to_string()};
  EXPECT_EQ(v4, (std::set<std::string>{"192.0.2.1", "192.0.2.2"}));
  EXPECT_EQ(answer.addresses[2].to_string(), "2001:db8::1");

  AddressAnswer v6 = RunOn(context_, resolver_->Addresses("v6only.example.net"));
  ASSERT_TRUE(v6.status.ok()) << v6.status.ToString();
  ASSERT_EQ(v6.addresses.size(), 1u);
  EXPECT_TRUE(v6.addresses[0].is_v6());
  EXPECT_FALSE(v6.nxdomain);

  AddressAnswer none = RunOn(context_, resolver_->Addresses("absent.example.net"));
  EXPECT_TRUE(none.status.ok());
  EXPECT_TRUE(none.nxdomain);
  EXPECT_TRUE(none.addresses.empty());
}

TEST_F(StaticZoneTest, Tlsa) {
  TlsaAnswer answer = RunOn(context_, resolver_->Tlsa("_25._tcp.mx1.example.net"));
  ASSERT_TRUE(answer.status.ok()) << answer.status.ToString();
  ASSERT_EQ(answer.records.size(), 1u);
  EXPECT_EQ(answer.records[0].usage, 3);
  EXPECT_EQ(answer.records[0].selector, 1);
  EXPECT_EQ(answer.records[0].matching, 1);
  EXPECT_EQ(answer.records[0].data, std::string("\x01\x23\x45\x67\x89\xab\xcd\xef", 8));
}

TEST_F(StaticZoneTest, TxtStringsAreConcatenated) {
  TxtAnswer answer = RunOn(context_, resolver_->Txt("_mta-sts.example.net"));
  ASSERT_TRUE(answer.status.ok()) << answer.status.ToString();
  EXPECT_EQ(answer.texts, std::vector<std::string>{"v=STSv1; id=20240101;x=1"});
  TxtAnswer spf = RunOn(context_, resolver_->Txt("example.net"));
  EXPECT_EQ(spf.texts, std::vector<std::string>{"v=spf1 -all"});
}

TEST_F(StaticZoneTest, NxdomainAndNodata) {
  MxAnswer absent = RunOn(context_, resolver_->Mx("absent.example.net"));
  EXPECT_TRUE(absent.status.ok()) << absent.status.ToString();
  EXPECT_TRUE(absent.nxdomain);
  EXPECT_TRUE(absent.records.empty());

  MxAnswer elsewhere = RunOn(context_, resolver_->Mx("example.com"));
  EXPECT_TRUE(elsewhere.status.ok());
  EXPECT_TRUE(elsewhere.nxdomain);

  TlsaAnswer nodata = RunOn(context_, resolver_->Tlsa("example.net"));
  EXPECT_TRUE(nodata.status.ok()) << nodata.status.ToString();
  EXPECT_FALSE(nodata.nxdomain);
  EXPECT_TRUE(nodata.records.empty());
}

asio::awaitable<int> ManyQueries(Resolver& resolver, int index, int* correct) {
  switch (index % 4) {
    case 0: {
      MxAnswer a = co_await resolver.Mx("example.net");
      *correct += a.status.ok() && a.records.size() == 3;
      break;
    }
    case 1: {
      AddressAnswer a = co_await resolver.Addresses("mx1.example.net");
      *correct += a.status.ok() && a.addresses.size() == 3;
      break;
    }
    case 2: {
      TxtAnswer a = co_await resolver.Txt("example.net");
      *correct += a.status.ok() && a.texts.size() == 1;
      break;
    }
    default: {
      MxAnswer a = co_await resolver.Mx("absent" + std::to_string(index) + ".example.net");
      *correct += a.status.ok() && a.nxdomain;
    }
  }
  co_return index;
}

TEST_F(StaticZoneTest, ManyConcurrentQueries) {
  int correct = 0;
  int finished = 0;
  constexpr int kQueries = 400;
  for (int i = 0; i < kQueries; ++i) {
    auto done = [&finished](std::exception_ptr e, int) {
      if (e) std::rethrow_exception(e);
      ++finished;
    };
    asio::co_spawn(context_, ManyQueries(*resolver_, i, &correct), done);
  }
  context_.run();
  EXPECT_EQ(finished, kQueries);
  EXPECT_EQ(correct, kQueries);
}

TEST_F(StaticZoneTest, SecureOnlyWhenConfigured) {
  auto secure = MakeResolver(context_, StaticConfig(dir_ / "zone", /*secure=*/true));
  ASSERT_TRUE(secure.ok()) << secure.status().ToString();
  MxAnswer answer = RunOn(context_, (*secure)->Mx("example.net"));
  ASSERT_TRUE(answer.status.ok());
  EXPECT_TRUE(answer.secure);
  TlsaAnswer tlsa = RunOn(context_, (*secure)->Tlsa("_25._tcp.mx1.example.net"));
  EXPECT_TRUE(tlsa.secure);
  EXPECT_FALSE(RunOn(context_, resolver_->Tlsa("_25._tcp.mx1.example.net")).secure);
}

TEST_F(StaticZoneTest, MalformedLineNamesFileAndLine) {
  std::ofstream(dir_ / "bad") << "; fine\nexample.net. 300 IN A 192.0.2.1\n"
                              << "example.net. 300 IN MX ten mx.example.net.\n";
  auto resolver = MakeResolver(context_, StaticConfig(dir_ / "bad"));
  ASSERT_FALSE(resolver.ok());
  EXPECT_EQ(resolver.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(resolver.status().message().find((dir_ / "bad").string() + " line 3"),
            std::string::npos)
      << resolver.status().ToString();
  EXPECT_FALSE(MakeResolver(context_, StaticConfig(dir_ / "missing")).ok());
}

// A UDP socket on loopback that never answers: queries forwarded to it hang.
class BlackHoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hole_.open(asio::ip::udp::v4());
    hole_.bind({asio::ip::make_address("127.0.0.1"), 0});
  }
  config::DnsConfig Config(int64_t timeout) {
    config::DnsConfig config;
    config.resolvers = {"127.0.0.1@" + std::to_string(hole_.local_endpoint().port())};
    config.dnssec = false;
    config.timeout = timeout;
    config.static_zone_secure = false;
    return config;
  }
  asio::io_context context_;
  asio::io_context hole_context_;
  asio::ip::udp::socket hole_{hole_context_};
};

TEST_F(BlackHoleTest, TimeoutIsUnavailable) {
  auto resolver = MakeResolver(context_, Config(1));
  ASSERT_TRUE(resolver.ok()) << resolver.status().ToString();
  auto start = std::chrono::steady_clock::now();
  // run() returning at all shows the resolver left no wait behind.
  MxAnswer answer = RunOn(context_, (*resolver)->Mx("example.net"));
  EXPECT_EQ(answer.status.code(), StatusCode::kUnavailable) << answer.status.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(BlackHoleTest, DestroyedWithQueriesInFlight) {
  auto resolver = MakeResolver(context_, Config(30));
  ASSERT_TRUE(resolver.ok()) << resolver.status().ToString();
  std::vector<Status> results;
  for (int i = 0; i < 3; ++i) {
    auto done = [&results](std::exception_ptr e, AddressAnswer answer) {
      if (e) std::rethrow_exception(e);
      results.push_back(answer.status);
    };
    asio::co_spawn(context_, (*resolver)->Addresses("host" + std::to_string(i) + ".example.net"),
                   done);
  }
  context_.poll();  // the queries are sent and waiting
  EXPECT_TRUE(results.empty());
  resolver->reset();
  context_.restart();
  context_.run();
  ASSERT_EQ(results.size(), 3u);
  for (const Status& status : results) {
    EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  }
}

TEST_F(BlackHoleTest, DestroyedWithTheContext) {
  // The awaiting frames die with the io_context after the resolver.
  auto context = std::make_unique<asio::io_context>();
  auto resolver = MakeResolver(*context, Config(30));
  ASSERT_TRUE(resolver.ok());
  asio::co_spawn(*context, (*resolver)->Mx("example.net"), asio::detached);
  context->poll();
  resolver->reset();
  context.reset();
}

// A DNS server on loopback, on its own thread, for the forwarding path: it
// answers every A query with 192.0.2.7 and every other query with no data,
// and signs nothing.
class FakeDnsServer {
 public:
  FakeDnsServer() : socket_(context_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { Serve(); });
  }
  // A datagram of its own wakes the server thread to stop it.
  ~FakeDnsServer() {
    stopping_ = true;
    asio::ip::udp::socket waker(context_, asio::ip::udp::v4());
    waker.send_to(asio::buffer("", 0), socket_.local_endpoint());
    thread_.join();
  }
  std::string address() const {
    return "127.0.0.1@" + std::to_string(socket_.local_endpoint().port());
  }

 private:
  void Serve() {
    unsigned char query[1500];
    while (true) {
      asio::ip::udp::endpoint peer;
      error_code ec;
      size_t n = socket_.receive_from(asio::buffer(query), peer, 0, ec);
      if (ec || stopping_) return;
      // Header (12 bytes), then one question: name, type, class.
      size_t end = 12;
      while (end < n && query[end] != 0) end += query[end] + 1;
      end += 5;
      if (n < 12 || end > n) continue;
      bool is_a = query[end - 4] == 0 && query[end - 3] == 1;
      std::string reply(reinterpret_cast<char*>(query), end);
      reply[2] = static_cast<char>(0x80 | (query[2] & 0x01));  // QR, RD copied
      reply[3] = static_cast<char>(0x80);                      // RA, NOERROR
      reply[6] = 0, reply[7] = is_a ? 1 : 0;                   // ANCOUNT
      reply[8] = reply[9] = reply[10] = reply[11] = 0;         // no NS, no additional
      if (is_a) {
        // The name by pointer to the question, A, IN, TTL 300, 192.0.2.7.
        reply +=
            std::string("\xc0\x0c\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04\xc0\x00\x02\x07", 16);
      }
      socket_.send_to(asio::buffer(reply), peer, 0, ec);
    }
  }

  asio::io_context context_;
  asio::ip::udp::socket socket_;
  std::atomic<bool> stopping_ = false;
  std::thread thread_;
};

TEST(ForwardingTest, AnswersFromTheConfiguredServer) {
  FakeDnsServer server;
  asio::io_context context;
  config::DnsConfig config;
  config.resolvers = {server.address()};
  config.dnssec = false;
  config.timeout = 5;
  config.static_zone_secure = false;
  auto resolver = MakeResolver(context, config);
  ASSERT_TRUE(resolver.ok()) << resolver.status().ToString();
  AddressAnswer answer = RunOn(context, (*resolver)->Addresses("host.example.net"));
  ASSERT_TRUE(answer.status.ok()) << answer.status.ToString();
  ASSERT_EQ(answer.addresses.size(), 1u);
  EXPECT_EQ(answer.addresses[0].to_string(), "192.0.2.7");
  EXPECT_FALSE(answer.secure);
  MxAnswer mx = RunOn(context, (*resolver)->Mx("example.net"));
  EXPECT_TRUE(mx.status.ok()) << mx.status.ToString();
  EXPECT_TRUE(mx.records.empty());
}

TEST(ForwardingTest, UnsignedAnswersUnderTheRootAnchorAreBogus) {
  if (!fs::exists("/usr/share/dns/root.key")) GTEST_SKIP() << "dns-root-data is not installed";
  FakeDnsServer server;
  asio::io_context context;
  config::DnsConfig config;
  config.resolvers = {server.address()};
  config.dnssec = true;
  config.trust_anchor = "/usr/share/dns/root.key";
  config.timeout = 10;
  config.static_zone_secure = false;
  auto resolver = MakeResolver(context, config);
  ASSERT_TRUE(resolver.ok()) << resolver.status().ToString();
  AddressAnswer answer = RunOn(context, (*resolver)->Addresses("host.example.net"));
  EXPECT_EQ(answer.status.code(), StatusCode::kUnavailable) << answer.status.ToString();
  EXPECT_TRUE(answer.bogus);
  EXPECT_FALSE(answer.secure);
  EXPECT_TRUE(answer.addresses.empty());
}

TEST(ForwardingTest, MissingTrustAnchorIsAnError) {
  asio::io_context context;
  config::DnsConfig config;
  config.resolvers = {"127.0.0.1@9"};
  config.dnssec = true;
  config.trust_anchor = "/nonexistent/root.key";
  config.timeout = 1;
  config.static_zone_secure = false;
  auto resolver = MakeResolver(context, config);
  ASSERT_FALSE(resolver.ok());
  EXPECT_NE(resolver.status().message().find("/nonexistent/root.key"), std::string::npos);
}

TEST(OrderMxTest, AscendingWithEqualPreferencesShuffled) {
  std::vector<MxRecord> records = {{30, "c"}, {10, "a1"}, {20, "b"}, {10, "a2"}, {10, "a3"}};
  std::set<std::string> firsts;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<MxRecord> ordered = OrderMx(records, rng);
    ASSERT_EQ(ordered.size(), records.size());
    for (size_t i = 1; i < ordered.size(); ++i) {
      EXPECT_LE(ordered[i - 1].preference, ordered[i].preference);
    }
    EXPECT_EQ(Hosts(ordered), Hosts(records));
    EXPECT_EQ(ordered[3].host, "b");
    EXPECT_EQ(ordered[4].host, "c");
    firsts.insert(ordered[0].host);
  }
  EXPECT_EQ(firsts, (std::set<std::string>{"a1", "a2", "a3"}));
}

TEST(IsNullMxTest, ExactlyOneRootRecord) {
  EXPECT_TRUE(IsNullMx({{0, ""}}));
  EXPECT_FALSE(IsNullMx({}));
  EXPECT_FALSE(IsNullMx({{0, "mx.example.net"}}));
  EXPECT_FALSE(IsNullMx({{0, ""}, {10, "mx.example.net"}}));
}

}  // namespace
}  // namespace postern::dns
