#include "config/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace postern::config {
namespace {

TEST(ConfigTest, DefaultsApplyToAnEmptyFile) {
  auto c = Parse("", "/etc/postern");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.data_dir, "/etc/postern/data");
  EXPECT_EQ(c->smtp.max_message_size, 50 << 20);
  EXPECT_EQ(c->smtp.command_timeout, 300);
  EXPECT_EQ(c->queue.max_age, 5 * 86400);
  EXPECT_EQ(c->smtp.listen, std::vector<std::string>{"0.0.0.0:25"});
  EXPECT_FALSE(c->smtp.vrfy);
  EXPECT_FALSE(c->server.hostname.empty());
}

TEST(ConfigTest, ReadsValuesAndResolvesPaths) {
  auto c = Parse(R"(
[server]
hostname = "mx.example.test"
data_dir = "/var/lib/postern"
[tls]
certificate = "certs/a.pem"
[smtp]
listen = ["127.0.0.1:2525", "[::1]:2525"]
max_message_size = "10M"
data_timeout = 90
vrfy = true
)",
                 "/srv/p");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.hostname, "mx.example.test");
  EXPECT_EQ(c->server.data_dir, "/var/lib/postern");
  EXPECT_EQ(c->tls.certificate, "/srv/p/certs/a.pem");
  EXPECT_EQ(c->smtp.listen.size(), 2u);
  EXPECT_EQ(c->smtp.max_message_size, 10 << 20);
  EXPECT_EQ(c->smtp.data_timeout, 90);
  EXPECT_TRUE(c->smtp.vrfy);
}

TEST(ConfigTest, UnknownKeysAreErrorsWithSuggestions) {
  auto c = Parse("[smtp]\nmax_mesage_size = 5\n", "/");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("unknown key smtp.max_mesage_size"), std::string::npos);
  EXPECT_NE(c.status().message().find("did you mean smtp.max_message_size"), std::string::npos);
  EXPECT_FALSE(Parse("[smpt]\n", "/").ok());
}

TEST(ConfigTest, TypeErrorsNameTheKey) {
  auto c = Parse("[smtp]\nmax_recipients = \"many\"\n", "/");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("smtp.max_recipients must be an integer"), std::string::npos);
  auto e = Parse("[smtp]\nbare_line_endings = \"fix\"\n", "/");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("normalize,reject"), std::string::npos);
  EXPECT_FALSE(Parse("[smtp]\nmax_command_line = 100\n", "/").ok());
  EXPECT_FALSE(Parse("this is not toml", "/").ok());
}

TEST(ConfigTest, Pop3SectionAndItsLimits) {
  auto d = Parse("", "/");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->pop3.listen, std::vector<std::string>{"0.0.0.0:110"});
  EXPECT_EQ(d->pop3.listen_tls, std::vector<std::string>{"0.0.0.0:995"});
  EXPECT_FALSE(d->pop3.allow_plaintext_auth);
  EXPECT_EQ(d->pop3.idle_timeout, 600);
  EXPECT_EQ(d->pop3.failed_login_delay, 2000);
  auto c = Parse("[pop3]\nlisten = []\nallow_plaintext_auth = true\nfailed_login_delay = 0\n", "/");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->pop3.listen.empty());
  EXPECT_TRUE(c->pop3.allow_plaintext_auth);
  EXPECT_EQ(c->pop3.failed_login_delay, 0);
  // RFC 1939 §3: an autologout timer of at least 10 minutes.
  auto short_timeout = Parse("[pop3]\nidle_timeout = \"5m\"\n", "/");
  ASSERT_FALSE(short_timeout.ok());
  EXPECT_NE(short_timeout.status().message().find("pop3.idle_timeout"), std::string::npos);
  EXPECT_FALSE(Parse("[pop3]\nmax_connections = 0\n", "/").ok());
}

TEST(ConfigTest, SubmissionSection) {
  auto d = Parse("", "/");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->submission.listen, std::vector<std::string>{"0.0.0.0:587"});
  EXPECT_EQ(d->submission.listen_tls, std::vector<std::string>{"0.0.0.0:465"});
  EXPECT_FALSE(d->submission.allow_plaintext_auth);
  EXPECT_FALSE(d->submission.reveal_client_ip);
  EXPECT_EQ(d->submission.idle_timeout, 300);
  EXPECT_EQ(d->submission.failed_login_delay, 2000);
  auto c = Parse("[submission]\nlisten_tls = []\nreveal_client_ip = true\n", "/");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->submission.listen_tls.empty());
  EXPECT_TRUE(c->submission.reveal_client_ip);
  EXPECT_FALSE(Parse("[submission]\nidle_timeout = \"10s\"\n", "/").ok());
  EXPECT_FALSE(Parse("[submission]\nmax_connections_per_ip = 0\n", "/").ok());
}

TEST(ConfigTest, AuthLimits) {
  auto d = Parse("", "/");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->auth.max_failures_per_ip, 10);
  EXPECT_EQ(d->auth.max_failures_per_account, 30);
  EXPECT_EQ(d->auth.failure_window, 600);
  EXPECT_EQ(d->auth.block_time, 900);
  auto c = Parse("[auth]\nmax_failures_per_ip = 3\nblock_time = \"1h\"\n", "/");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->auth.max_failures_per_ip, 3);
  EXPECT_EQ(c->auth.block_time, 3600);
  EXPECT_FALSE(Parse("[auth]\nmax_failures_per_account = 0\n", "/").ok());
  EXPECT_FALSE(Parse("[auth]\nfailure_window = \"0s\"\n", "/").ok());
}

TEST(ConfigTest, DnsSection) {
  auto d = Parse("", "/etc/postern");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->dns.resolvers.empty());
  EXPECT_TRUE(d->dns.dnssec);
  EXPECT_EQ(d->dns.trust_anchor, "/usr/share/dns/root.key");
  EXPECT_EQ(d->dns.timeout, 10);
  EXPECT_EQ(d->dns.static_zone, "");
  EXPECT_FALSE(d->dns.static_zone_secure);
  auto c = Parse(
      "[dns]\nresolvers = [\"127.0.0.1\", \"::1@5353\"]\ntimeout = \"3s\"\n"
      "static_zone = \"zone.txt\"\nstatic_zone_secure = true\n",
      "/etc/postern");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->dns.resolvers, (std::vector<std::string>{"127.0.0.1", "::1@5353"}));
  EXPECT_EQ(c->dns.timeout, 3);
  EXPECT_EQ(c->dns.static_zone, "/etc/postern/zone.txt");
  EXPECT_TRUE(c->dns.static_zone_secure);
  for (const char* bad :
       {"dns.example", "127.0.0.1@", "127.0.0.1@0", "127.0.0.1@65536", "127.0.0.1@53x", "1.2.3"}) {
    auto r = Parse(std::string("[dns]\nresolvers = [\"") + bad + "\"]\n", "/");
    EXPECT_FALSE(r.ok()) << bad;
  }
  EXPECT_FALSE(Parse("[dns]\ntimeout = 0\n", "/").ok());
}

TEST(ConfigTest, SizesAndDurations) {
  EXPECT_EQ(*ParseByteSize("1024"), 1024);
  EXPECT_EQ(*ParseByteSize("4 KiB"), 4096);
  EXPECT_EQ(*ParseByteSize("2g"), int64_t{2} << 30);
  EXPECT_FALSE(ParseByteSize("12 parsecs").ok());
  EXPECT_FALSE(ParseByteSize("").ok());
  EXPECT_EQ(*ParseDuration("90"), 90);
  EXPECT_EQ(*ParseDuration("5m"), 300);
  EXPECT_EQ(*ParseDuration("5d"), 432000);
  EXPECT_FALSE(ParseDuration("soon").ok());
}

TEST(ConfigTest, ReferenceDocumentIsCurrent) {
  std::ifstream in(std::string(POSTERN_SOURCE_DIR) + "/docs/config-reference.md");
  ASSERT_TRUE(in) << "docs/config-reference.md is missing: postern config reference > "
                     "docs/config-reference.md";
  std::stringstream buf;
  buf << in.rdbuf();
  EXPECT_EQ(buf.str(), ReferenceMarkdown())
      << "docs/config-reference.md is stale: run `build/postern config reference > "
         "docs/config-reference.md`";
}

}  // namespace
}  // namespace postern::config
