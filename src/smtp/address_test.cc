// Tests for ParsePath / ParseMailbox / Mailbox (RFC 5321 §4.1.2, RFC 6531).
#include "smtp/address.h"

#include <gtest/gtest.h>

#include <string>

namespace postern::smtp {
namespace {

PathResult Parse(std::string_view text, bool utf8 = false, bool allow_null = false,
                 bool allow_postmaster = false) {
  PathOptions options;
  options.allow_utf8 = utf8;
  options.allow_null = allow_null;
  options.allow_postmaster = allow_postmaster;
  return ParsePath(text, options);
}

void ExpectMailbox(std::string_view text, std::string_view local, std::string_view domain,
                   bool utf8 = false) {
  SCOPED_TRACE(std::string(text));
  PathResult r = Parse(text, utf8);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.path.mailbox.local_part, local);
  EXPECT_EQ(r.path.mailbox.domain, domain);
  EXPECT_FALSE(r.path.null);
  EXPECT_FALSE(r.path.postmaster);
}

void ExpectError(std::string_view text, AddressError error, bool utf8 = false) {
  SCOPED_TRACE(std::string(text));
  PathResult r = Parse(text, utf8);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, error);
  EXPECT_TRUE(r.path.mailbox.empty());
}

TEST(ParsePathTest, SimpleMailbox) {
  PathResult r = Parse("<user@example.com>");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.path.mailbox.local_part, "user");
  EXPECT_EQ(r.path.mailbox.domain, "example.com");
  EXPECT_FALSE(r.path.mailbox.local_part_quoted);
  EXPECT_FALSE(r.path.mailbox.address_literal);
  EXPECT_FALSE(r.path.had_source_route);
  EXPECT_EQ(r.path.mailbox.ToString(), "user@example.com");
}

TEST(ParsePathTest, CaseIsPreserved) {
  ExpectMailbox("<User.Name@Example.COM>", "User.Name", "Example.COM");
}

TEST(ParsePathTest, NullPath) {
  PathResult r = Parse("<>", false, /*allow_null=*/true);
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.path.null);
  EXPECT_TRUE(r.path.mailbox.empty());
  ExpectError("<>", AddressError::kSyntax);
}

TEST(ParsePathTest, BracketsRequired) {
  ExpectError("user@example.com", AddressError::kSyntax);
  ExpectError("<user@example.com", AddressError::kSyntax);
  ExpectError("user@example.com>", AddressError::kSyntax);
  ExpectError("", AddressError::kSyntax);
  ExpectError("<", AddressError::kSyntax);
  ExpectError(">", AddressError::kSyntax);
  ExpectError(" <a@b>", AddressError::kSyntax);
  ExpectError("<a@b> ", AddressError::kSyntax);
  ExpectError("<<a@b>>", AddressError::kSyntax);
}

TEST(ParsePathTest, DotString) {
  ExpectMailbox("<first.last@example.com>", "first.last", "example.com");
  ExpectMailbox("<!#$%&'*+-/=?^_`{|}~@example.com>", "!#$%&'*+-/=?^_`{|}~", "example.com");
  ExpectError("<.a@example.com>", AddressError::kSyntax);
  ExpectError("<a.@example.com>", AddressError::kSyntax);
  ExpectError("<a..b@example.com>", AddressError::kSyntax);
  ExpectError("<@example.com>", AddressError::kSyntax);
  for (std::string bad : {"a b", "a(b)", "a,b", "a:b", "a;b", "a<b", "a\\b", "a[b]", "a\"b"}) {
    ExpectError("<" + bad + "@example.com>", AddressError::kSyntax);
  }
}

TEST(ParsePathTest, QuotedLocalPart) {
  PathResult r = Parse("<\"john smith\"@example.com>");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.path.mailbox.local_part, "john smith");
  EXPECT_TRUE(r.path.mailbox.local_part_quoted);
  EXPECT_EQ(r.path.mailbox.ToString(), "\"john smith\"@example.com");

  r = Parse(R"(<"a\"b\\c\d"@example.com>)");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.path.mailbox.local_part, R"(a"b\cd)");
  EXPECT_EQ(r.path.mailbox.ToString(), R"("a\"b\\cd"@example.com)");

  // Quotes that were not needed are dropped by ToString.
  r = Parse("<\"abc\"@example.com>");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.path.mailbox.local_part, "abc");
  EXPECT_TRUE(r.path.mailbox.local_part_quoted);
  EXPECT_EQ(r.path.mailbox.ToString(), "abc@example.com");

  // An empty quoted string is grammatical.
  r = Parse("<\"\"@example.com>");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.path.mailbox.local_part, "");
  EXPECT_EQ(r.path.mailbox.ToString(), "\"\"@example.com");

  // A dot-string that is not valid (".a") must be re-quoted.
  r = Parse("<\".a..b.\"@example.com>");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.path.mailbox.ToString(), "\".a..b.\"@example.com");
}

TEST(ParsePathTest, BadQuotedLocalParts) {
  ExpectError("<\"abc@example.com>", AddressError::kSyntax);
  ExpectError("<\"a\"b@example.com>", AddressError::kSyntax);
  ExpectError("<\"a\"\"b\"@example.com>", AddressError::kSyntax);
  ExpectError("<\"a\\\"@example.com>", AddressError::kSyntax);
  ExpectError(std::string("<\"a\\\x01\"@example.com>"), AddressError::kSyntax);
  ExpectError(std::string("<\"a\x01\"@example.com>"), AddressError::kSyntax);
  ExpectError("<a\"b\"@example.com>", AddressError::kSyntax);
  ExpectError("<\"ab\">", AddressError::kMissingDomain);
}

TEST(ParsePathTest, Domains) {
  ExpectMailbox("<a@localhost>", "a", "localhost");
  ExpectMailbox("<a@123.example>", "a", "123.example");
  ExpectMailbox("<a@a-b.c--d.e>", "a", "a-b.c--d.e");
  ExpectMailbox("<a@xn--bcher-kva.example>", "a", "xn--bcher-kva.example");
  ExpectError("<a@-b.example>", AddressError::kSyntax);
  ExpectError("<a@b-.example>", AddressError::kSyntax);
  ExpectError("<a@b..example>", AddressError::kSyntax);
  ExpectError("<a@.b.example>", AddressError::kSyntax);
  ExpectError("<a@b_c.example>", AddressError::kSyntax);
  ExpectError("<a@b c.example>", AddressError::kSyntax);
  ExpectError("<a@>", AddressError::kSyntax);
  ExpectError("<a@b@c>", AddressError::kSyntax);
  ExpectError("<a@b.example>>", AddressError::kSyntax);
}

TEST(ParsePathTest, TrailingDotIsASyntaxError) {
  ExpectError("<a@example.com.>", AddressError::kSyntax);
  ExpectError("<a@.>", AddressError::kSyntax);
}

TEST(ParsePathTest, LabelLengthLimit) {
  std::string label63(63, 'a');
  ExpectMailbox("<a@" + label63 + ".example>", "a", label63 + ".example");
  ExpectError("<a@" + label63 + "b.example>", AddressError::kTooLong);
}

TEST(ParsePathTest, Ipv4Literals) {
  PathResult r = Parse("<postmaster@[192.0.2.1]>");
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.path.mailbox.address_literal);
  EXPECT_EQ(r.path.mailbox.domain, "[192.0.2.1]");
  EXPECT_EQ(r.path.mailbox.ToString(), "postmaster@[192.0.2.1]");
  ExpectMailbox("<a@[0.0.0.0]>", "a", "[0.0.0.0]");
  ExpectMailbox("<a@[255.255.255.255]>", "a", "[255.255.255.255]");
  for (const char* bad :
       {"[256.1.1.1]", "[1.2.3]", "[1.2.3.4.5]", "[1.2.3.]", "[1..2.3]", "[1234.1.1.1]",
        "[a.b.c.d]", "[]", "[192.0.2.1", "192.0.2.1]", "[ 192.0.2.1]", "[192.0.2.1]x"}) {
    ExpectError(std::string("<a@") + bad + ">", AddressError::kSyntax);
  }
}

TEST(ParsePathTest, Ipv6Literals) {
  for (const char* good :
       {"[IPv6:2001:db8::1]", "[ipv6:2001:DB8::1]", "[IPv6:::1]", "[IPv6:::]",
        "[IPv6:1:2:3:4:5:6:7:8]", "[IPv6:fe80::]", "[IPv6:1:2:3:4:5:6::]",
        "[IPv6:::ffff:192.0.2.1]", "[IPv6:1:2:3:4:5:6:192.0.2.1]", "[IPv6:1:2:3:4::192.0.2.1]",
        "[IPv6:::192.0.2.1]", "[IPv6:1::2:192.0.2.1]",
        "[IPv6:abcd:ef01:2345:6789:ABCD:EF01:2345:6789]"}) {
    SCOPED_TRACE(good);
    PathResult r = Parse(std::string("<a@") + good + ">");
    ASSERT_TRUE(r.ok);
    EXPECT_TRUE(r.path.mailbox.address_literal);
    EXPECT_EQ(r.path.mailbox.domain, good);
  }
  for (const char* bad :
       {"[IPv6:1:2:3:4:5:6:7]", "[IPv6:1:2:3:4:5:6:7:8:9]", "[IPv6:1::2::3]", "[IPv6:12345::]",
        "[IPv6:g::1]", "[IPv6:]", "[IPv6:2001:db8::1%eth0]", "[IPv6::1]", "[IPv6:1:]",
        "[IPv6:1:2:3:4:5:6:7::]",       // RFC 5321 §4.1.3: "::" stands for 2+ groups
        "[IPv6:1:2:3:4:5::192.0.2.1]",  // at most 4 groups besides "::" and IPv4
        "[IPv6:1:2:3:4:5:192.0.2.1]", "[IPv6:::256.0.0.1]", "[IPv6:1:::2]", "[IPv6:192.0.2.1]"}) {
    ExpectError(std::string("<a@") + bad + ">", AddressError::kSyntax);
  }
}

TEST(ParsePathTest, GeneralAddressLiteral) {
  ExpectMailbox("<a@[x-tag:some-content]>", "a", "[x-tag:some-content]");
  // Without the "IPv6:" tag this is a General-address-literal with tag "2001".
  ExpectMailbox("<a@[2001:db8::1]>", "a", "[2001:db8::1]");
  ExpectMailbox("<a@[tag:a:b:c]>", "a", "[tag:a:b:c]");
  for (const char* bad :
       {"[tag:]", "[tag:a[b]", "[tag:a\\b]", "[:abc]", "[ta_g:x]", "[tag-:x]", "[tag:a b]"}) {
    ExpectError(std::string("<a@") + bad + ">", AddressError::kSyntax);
  }
}

TEST(ParsePathTest, SourceRoutesAreDropped) {
  PathResult r = Parse("<@a.example,@b.example:user@d.example>");
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.path.had_source_route);
  EXPECT_EQ(r.path.mailbox.ToString(), "user@d.example");
  r = Parse("<@a.example:user@d.example>");
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.path.had_source_route);
  for (const char* bad : {"<@:a@b>", "<@a,b:c@d>", "<@a.example:>", "<@a.example,@:x@y>",
                          "<@a_b:x@y>", "<@a.example>", "<@a.example,:x@y>", "<@[1.2.3.4]:x@y>",
                          "<@a.example:@b.example:x@y>", "<@a.example;x@y>"}) {
    ExpectError(bad, AddressError::kSyntax);
  }
}

TEST(ParsePathTest, Postmaster) {
  for (const char* text : {"<Postmaster>", "<postmaster>", "<POSTMASTER>", "<PoStMaStEr>"}) {
    SCOPED_TRACE(text);
    PathResult r = Parse(text, false, false, /*allow_postmaster=*/true);
    ASSERT_TRUE(r.ok);
    EXPECT_TRUE(r.path.postmaster);
    EXPECT_TRUE(r.path.mailbox.empty());
    ExpectError(text, AddressError::kMissingDomain);
  }
  // With a domain it is an ordinary mailbox.
  PathResult r = Parse("<Postmaster@example.com>", false, false, true);
  ASSERT_TRUE(r.ok);
  EXPECT_FALSE(r.path.postmaster);
  EXPECT_EQ(r.path.mailbox.local_part, "Postmaster");
  // Only the plain form is special.
  EXPECT_EQ(Parse("<\"Postmaster\">", false, false, true).error, AddressError::kMissingDomain);
  EXPECT_EQ(Parse("<@a.example:Postmaster>", false, false, true).error,
            AddressError::kMissingDomain);
  EXPECT_EQ(Parse("<postmaster.x>", false, false, true).error, AddressError::kMissingDomain);
}

TEST(ParsePathTest, MissingDomain) {
  ExpectError("<user>", AddressError::kMissingDomain);
  ExpectError("<first.last>", AddressError::kMissingDomain);
}

// Open-relay tricks of the 1990s: each must stay an address at the LAST domain.
TEST(ParsePathTest, RelayTricksKeepTheLocalShape) {
  ExpectMailbox("<user%remote.example@local.test>", "user%remote.example", "local.test");
  ExpectMailbox("<remote.example!user@local.test>", "remote.example!user", "local.test");
  PathResult r = Parse("<\"user@remote.example\"@local.test>");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.path.mailbox.local_part, "user@remote.example");
  EXPECT_TRUE(r.path.mailbox.local_part_quoted);
  EXPECT_EQ(r.path.mailbox.domain, "local.test");
  EXPECT_EQ(r.path.mailbox.ToString(), "\"user@remote.example\"@local.test");
  r = Parse("<@local.test:user@remote.example>");
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.path.had_source_route);
  EXPECT_EQ(r.path.mailbox.local_part, "user");
  EXPECT_EQ(r.path.mailbox.domain, "remote.example");
  ExpectError("<user@remote.example@local.test>", AddressError::kSyntax);
  ExpectError("<\"user\"@remote.example\"@local.test>", AddressError::kSyntax);
}

TEST(ParsePathTest, LocalPartLengthLimit) {
  std::string local64(64, 'a');
  ExpectMailbox("<" + local64 + "@example.com>", local64, "example.com");
  ExpectError("<" + local64 + "a@example.com>", AddressError::kTooLong);
  // The limit is on the local part as written, quotes included.
  std::string quoted64 = "\"" + std::string(62, 'b') + "\"";
  EXPECT_TRUE(Parse("<" + quoted64 + "@example.com>").ok);
  ExpectError("<\"" + std::string(63, 'b') + "\"@example.com>", AddressError::kTooLong);
}

TEST(ParsePathTest, PathLengthLimit) {
  // 1 + 64 + 1 + 189 + 1 = 256 octets.
  std::string local(64, 'a');
  std::string domain =
      std::string(63, 'b') + "." + std::string(63, 'c') + "." + std::string(61, 'd');
  ASSERT_EQ(domain.size(), 189u);
  std::string path = "<" + local + "@" + domain + ">";
  ASSERT_EQ(path.size(), kMaxPathLength);
  EXPECT_TRUE(Parse(path).ok);
  std::string longer = "<" + local + "@" + domain + "d>";
  ExpectError(longer, AddressError::kTooLong);
  ExpectError(std::string(100000, '<'), AddressError::kTooLong);
}

TEST(ParsePathTest, Utf8NeedsPermission) {
  ExpectError("<jöran@example.com>", AddressError::kNonAscii);
  ExpectMailbox("<jöran@example.com>", "jöran", "example.com", /*utf8=*/true);
  ExpectError("<user@bücher.example>", AddressError::kNonAscii);
  ExpectMailbox("<user@bücher.example>", "user", "bücher.example", true);
  ExpectMailbox("<δοκιμή@παράδειγμα.δοκιμή>", "δοκιμή", "παράδειγμα.δοκιμή", true);
  ExpectMailbox("<用户@例子.广告>", "用户", "例子.广告", true);
  ExpectError("<@bücher.example:a@b.example>", AddressError::kNonAscii);
  PathResult r = Parse("<\"jö ran\"@example.com>", true);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.path.mailbox.local_part, "jö ran");
  EXPECT_TRUE(r.path.mailbox.IsInternational());
  EXPECT_EQ(r.path.mailbox.ToString(), "\"jö ran\"@example.com");
}

TEST(ParsePathTest, InvalidUtf8IsASyntaxError) {
  for (bool utf8 : {false, true}) {
    ExpectError("<a\xff@example.com>", AddressError::kSyntax, utf8);
    ExpectError("<a\xc0\xaf@example.com>", AddressError::kSyntax, utf8);      // overlong
    ExpectError("<a\xed\xa0\x80@example.com>", AddressError::kSyntax, utf8);  // surrogate
    ExpectError("<a@b\xe4.example>", AddressError::kSyntax, utf8);            // latin-1
    ExpectError("<\"a\xff\"@example.com>", AddressError::kSyntax, utf8);
  }
}

TEST(ParsePathTest, InvalidInternationalDomains) {
  // U+200D ZERO WIDTH JOINER outside its CONTEXTJ context (RFC 5892 A.2).
  ExpectError("<a@a\u200db.example>", AddressError::kSyntax, true);
  // Mixed left-to-right and right-to-left in one label breaks the bidi rule.
  ExpectError("<a@a\u05d0.example>", AddressError::kSyntax, true);
  // Non-ASCII label with a leading hyphen.
  ExpectError("<a@-ü.example>", AddressError::kSyntax, true);
  // UTF-8 is not allowed in address literals.
  ExpectError("<a@[tag:ü]>", AddressError::kSyntax, true);
}

TEST(ParsePathTest, RoundTripThroughToString) {
  for (const char* text :
       {"<user@example.com>", "<\"john smith\"@example.com>", "<\"a\\\"b\"@x.example>",
        "<\"a\\\\\"@x.example>", "<\"abc\"@example.com>", "<\"\"@example.com>",
        "<\"user@remote.example\"@local.test>", "<a@[IPv6:2001:db8::1]>",
        "<@r.example:u@d.example>", "<jöran@bücher.example>", "<\"jö ran\"@example.com>"}) {
    SCOPED_TRACE(text);
    PathResult first = Parse(text, true);
    ASSERT_TRUE(first.ok);
    PathResult second = Parse("<" + first.path.mailbox.ToString() + ">", true);
    ASSERT_TRUE(second.ok);
    EXPECT_EQ(second.path.mailbox.local_part, first.path.mailbox.local_part);
    EXPECT_EQ(second.path.mailbox.domain, first.path.mailbox.domain);
  }
}

TEST(MailboxTest, Accessors) {
  Mailbox mailbox;
  EXPECT_TRUE(mailbox.empty());
  EXPECT_EQ(mailbox.ToString(), "");
  EXPECT_FALSE(mailbox.IsInternational());
  mailbox.local_part = "a";
  mailbox.domain = "ü.example";
  EXPECT_FALSE(mailbox.empty());
  EXPECT_TRUE(mailbox.IsInternational());
  EXPECT_EQ(mailbox.ToString(), "a@ü.example");
}

TEST(ParseMailboxTest, BareAddresses) {
  Result<Mailbox> r = ParseMailbox("user@example.com");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->local_part, "user");
  EXPECT_EQ(r->domain, "example.com");
  r = ParseMailbox("\"a b\"@example.com");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->local_part, "a b");
  EXPECT_TRUE(r->local_part_quoted);
  r = ParseMailbox("jöran@bücher.example");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->IsInternational());
}

TEST(ParseMailboxTest, Errors) {
  EXPECT_EQ(ParseMailbox("<user@example.com>").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMailbox("user").status().message(), "address has no domain");
  EXPECT_EQ(ParseMailbox("a@b..c").status().message(), "invalid address syntax");
  EXPECT_EQ(ParseMailbox("").status().message(), "invalid address syntax");
  EXPECT_EQ(ParseMailbox("jöran@example.com", /*allow_utf8=*/false).status().message(),
            "non-ASCII address not allowed");
  EXPECT_FALSE(ParseMailbox(std::string(65, 'a') + "@example.com").ok());
  EXPECT_TRUE(ParseMailbox(std::string(64, 'a') + "@example.com").ok());
  EXPECT_FALSE(ParseMailbox(std::string(300, 'a')).ok());
  EXPECT_FALSE(ParseMailbox("user@example.com ").ok());
}

}  // namespace
}  // namespace postern::smtp
