// Tests for NormalizeDomain (UTS #46 via ICU) and the internal domain and
// address-literal syntax checks.
#include <gtest/gtest.h>

#include <string>

#include "smtp/address.h"
#include "smtp/domain_syntax.h"

namespace postern::smtp {
namespace {

std::string Normalized(std::string_view domain) {
  Result<std::string> r = NormalizeDomain(domain);
  EXPECT_TRUE(r.ok()) << domain << ": " << r.status().ToString();
  return r.ok() ? *r : std::string();
}

void ExpectInvalid(std::string_view domain) {
  Result<std::string> r = NormalizeDomain(domain);
  EXPECT_FALSE(r.ok()) << domain;
  if (!r.ok()) {
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(r.status().message().empty());
  }
}

TEST(NormalizeDomainTest, AsciiIsLowercased) {
  EXPECT_EQ(Normalized("Example.COM"), "example.com");
  EXPECT_EQ(Normalized("example.com"), "example.com");
  EXPECT_EQ(Normalized("localhost"), "localhost");
  EXPECT_EQ(Normalized("r3---sn-abc.example"), "r3---sn-abc.example");
}

TEST(NormalizeDomainTest, TrailingDotIsRemoved) {
  EXPECT_EQ(Normalized("example.com."), "example.com");
  ExpectInvalid("example.com..");
  ExpectInvalid(".");
}

TEST(NormalizeDomainTest, UnicodeBecomesALabels) {
  EXPECT_EQ(Normalized("bücher.example"), "xn--bcher-kva.example");
  EXPECT_EQ(Normalized("BÜCHER.Example"), "xn--bcher-kva.example");
  EXPECT_EQ(Normalized("παράδειγμα.δοκιμή"), "xn--hxajbheg2az3al.xn--jxalpdlp");
  EXPECT_EQ(Normalized("例子.广告"), "xn--fsqu00a.xn--4rr70v");
  // UTS #46 non-transitional: ß stays ß (RFC 5892), not "ss".
  EXPECT_EQ(Normalized("faß.de"), "xn--fa-hia.de");
  // Full-width letters map to ASCII.
  EXPECT_EQ(Normalized("ｅｘａｍｐｌｅ.com"), "example.com");
  // Hyphens in the third and fourth position of an ASCII label are tolerated.
  EXPECT_EQ(Normalized("r3---sn.bücher.example"), "r3---sn.xn--bcher-kva.example");
}

TEST(NormalizeDomainTest, ALabelsStay) {
  EXPECT_EQ(Normalized("xn--bcher-kva.example"), "xn--bcher-kva.example");
  EXPECT_EQ(Normalized("XN--BCHER-KVA.Example"), "xn--bcher-kva.example");
  EXPECT_EQ(Normalized("xn--bcher-kva.bücher.example"), "xn--bcher-kva.xn--bcher-kva.example");
  ExpectInvalid("xn--.example");
  ExpectInvalid("xn--a-ecp.example");  // not the canonical encoding of anything valid
}

TEST(NormalizeDomainTest, Idempotent) {
  for (const char* domain : {"Example.COM", "bücher.example", "faß.de", "例子.广告"}) {
    std::string once = Normalized(domain);
    EXPECT_EQ(Normalized(once), once);
  }
}

TEST(NormalizeDomainTest, AddressLiterals) {
  EXPECT_EQ(Normalized("[192.0.2.1]"), "[192.0.2.1]");
  EXPECT_EQ(Normalized("[IPv6:2001:DB8::1]"), "[ipv6:2001:db8::1]");
  ExpectInvalid("[192.0.2.256]");
  ExpectInvalid("[192.0.2.1");
}

TEST(NormalizeDomainTest, Errors) {
  ExpectInvalid("");
  ExpectInvalid("a..b");
  ExpectInvalid("-a.example");
  ExpectInvalid("a-.example");
  ExpectInvalid("a_b.example");
  ExpectInvalid("a b.example");
  ExpectInvalid(std::string(64, 'a') + ".example");
  ExpectInvalid(
      "b\xfc"
      "cher.example");                // latin-1, not UTF-8
  ExpectInvalid("a\u200db.example");  // CONTEXTJ
  ExpectInvalid("a\u05d0.example");   // bidi rule
  ExpectInvalid("exämple.c_m");       // not LDH after mapping
  ExpectInvalid("\u0301a.example");   // leading combining mark
  EXPECT_EQ(NormalizeDomain("a..b").status().message().substr(0, 15), "invalid domain:");
}

TEST(NormalizeDomainTest, LengthLimits) {
  std::string label63(63, 'a');
  EXPECT_EQ(Normalized(label63 + ".example"), label63 + ".example");
  std::string name255 = label63 + "." + label63 + "." + label63 + "." + std::string(63, 'b');
  ASSERT_EQ(name255.size(), 255u);
  EXPECT_EQ(Normalized(name255), name255);
  ExpectInvalid(name255 + "b");
}

TEST(CheckDomainTest, Limits) {
  std::string label63(63, 'a');
  EXPECT_EQ(CheckDomain(label63), DomainSyntax::kOk);
  EXPECT_EQ(CheckDomain(label63 + "a"), DomainSyntax::kTooLong);
  std::string name255 = label63 + "." + label63 + "." + label63 + "." + std::string(63, 'b');
  EXPECT_EQ(CheckDomain(name255), DomainSyntax::kOk);
  EXPECT_EQ(CheckDomain(name255 + "b"), DomainSyntax::kTooLong);
  EXPECT_EQ(CheckDomain(""), DomainSyntax::kSyntax);
  EXPECT_EQ(CheckDomain("a."), DomainSyntax::kSyntax);
  EXPECT_EQ(CheckDomain("bücher.example"), DomainSyntax::kOk);
  EXPECT_EQ(CheckDomain("b\xfc.example"), DomainSyntax::kSyntax);
}

TEST(LiteralSyntaxTest, Ipv4) {
  EXPECT_TRUE(IsIpv4AddressText("192.0.2.1"));
  EXPECT_TRUE(IsIpv4AddressText("010.0.0.1"));
  EXPECT_FALSE(IsIpv4AddressText("192.0.2"));
  EXPECT_FALSE(IsIpv4AddressText("192.0.2.1."));
  EXPECT_FALSE(IsIpv4AddressText("-1.0.0.0"));
}

TEST(LiteralSyntaxTest, Ipv6) {
  EXPECT_TRUE(IsIpv6AddressText("::"));
  EXPECT_TRUE(IsIpv6AddressText("1::"));
  EXPECT_TRUE(IsIpv6AddressText("::1"));
  EXPECT_TRUE(IsIpv6AddressText("1:2:3:4:5:6:7:8"));
  EXPECT_FALSE(IsIpv6AddressText(":"));
  EXPECT_FALSE(IsIpv6AddressText(":::"));
  EXPECT_FALSE(IsIpv6AddressText("1:2:3:4:5:6:7:8:"));
  EXPECT_FALSE(IsIpv6AddressText(""));
  EXPECT_TRUE(IsAddressLiteral("[IPv6:::1]"));
  EXPECT_FALSE(IsAddressLiteral("[IPv6:::1"));
}

}  // namespace
}  // namespace postern::smtp
