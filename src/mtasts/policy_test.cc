#include "mtasts/policy.h"

#include <gtest/gtest.h>

namespace postern::mtasts {
namespace {

constexpr char kRfcExample[] =
    "version: STSv1\r\n"
    "mode: enforce\r\n"
    "mx: mail.example.com\r\n"
    "mx: *.example.net\r\n"
    "mx: backupmx.example.com\r\n"
    "max_age: 604800\r\n";

TEST(ParsePolicyTest, RfcExample) {
  auto policy = ParsePolicy(kRfcExample);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(policy->mode, Policy::kEnforce);
  EXPECT_EQ(policy->mx, (std::vector<std::string>{"mail.example.com", "*.example.net",
                                                  "backupmx.example.com"}));
  EXPECT_EQ(policy->max_age, 604800);
  EXPECT_EQ(policy->id, "");
}

TEST(ParsePolicyTest, LineEndingsSpacesAndExtensions) {
  // LF endings, no final newline, spaces after the colon and at line ends,
  // unknown fields (with UTF-8), repeated fields (first wins), trailing blank lines.
  auto policy = ParsePolicy(
      "version:STSv1 \nmode:   testing\t\nfuture_key.v2: some value \xc3\xa9t\xc3\xa9\n"
      "mx: MX.Example.COM\nmode: enforce\nmax_age: 0\nmax_age: 99999999999\n\n\r\n");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(policy->mode, Policy::kTesting);
  EXPECT_EQ(policy->mx, std::vector<std::string>{"mx.example.com"});
  EXPECT_EQ(policy->max_age, 0);

  auto none = ParsePolicy("version: STSv1\nmode: none\nmax_age: 86400");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->mode, Policy::kNone);
  EXPECT_TRUE(none->mx.empty());

  auto longest = ParsePolicy("version: STSv1\nmode: testing\nmx: a.b\nmax_age: 31557600\n");
  ASSERT_TRUE(longest.ok());
  EXPECT_EQ(longest->max_age, 31557600);
}

TEST(ParsePolicyTest, Invalid) {
  const std::string base = "mode: enforce\nmx: mx.example.net\nmax_age: 86400\n";
  const char* cases[] = {
      "",
      "\n\n",
      "mode: enforce\nmx: mx.example.net\nmax_age: 86400\n",                  // no version
      "version: STSv2\nmode: enforce\nmx: mx.example.net\nmax_age: 86400\n",  // wrong version
      "Version: STSv1\nmode: enforce\nmx: mx.example.net\nmax_age: 86400\n",  // keys are exact
      "version: STSv1\nmx: mx.example.net\nmax_age: 86400\n",                 // no mode
      "version: STSv1\nmode: strict\nmx: mx.example.net\nmax_age: 86400\n",   // bad mode
      "version: STSv1\nmode: enforce\nmx: mx.example.net\n",                  // no max_age
      "version: STSv1\nmode: enforce\nmx: mx.example.net\nmax_age: 31557601\n",
      "version: STSv1\nmode: enforce\nmx: mx.example.net\nmax_age: -1\n",
      "version: STSv1\nmode: enforce\nmx: mx.example.net\nmax_age: 12345678901\n",
      "version: STSv1\nmode: enforce\nmx: mx.example.net\nmax_age: \n",
      "version: STSv1\nmode: enforce\nmax_age: 86400\n",  // no mx
      "version: STSv1\nmode: testing\nmx: mx..example.net\nmax_age: 86400\n",
      "version: STSv1\nmode: testing\nmx: *.*.example.net\nmax_age: 86400\n",
      "version: STSv1\nmode: testing\nmx: mx.example.net.\nmax_age: 86400\n",
      "version: STSv1\nmode: testing\nmx: -mx.example.net\nmax_age: 86400\n",
      "version: STSv1\nmode: testing\nmx: mx_1.example.net\nmax_age: 86400\n",
      "version: STSv1\nmode: testing\nmx: a.example.net b.example.net\nmax_age: 86400\n",
      "version : STSv1\nmode: enforce\nmx: mx.example.net\nmax_age: 86400\n",   // space before ':'
      "version: STSv1\n\nmode: enforce\nmx: mx.example.net\nmax_age: 86400\n",  // blank line
      "version: STSv1\rmode: enforce\rmx: mx.example.net\rmax_age: 86400\r",    // bare CR
      "version: STSv1\nmode: enforce\nmx: mx.example.net\nmax_age: 86400\nno colon\n",
      "version: STSv1\nmode: enforce\nmx: mx.example.net\nmax_age: 86400\n_x: y\n",
      "version: STSv1\nmode: enforce\nmx: mx.example.net\nmax_age: 86400\nx:\n",
      "version: STSv1\nmode: enforce\nmx: mx.example.net\nmax_age: 86400\nx: a\x01z\n",
      "version: STSv1\nmode: enforce\nmx: mx.example.net\nmax_age: 86400\nx: \xff\n",
      "version: STSv1\nmode: enforce\nmx: mx.example.net\nmax_age: 86400\nx: \xc0\xaf\n",
  };
  for (const char* text : cases) {
    EXPECT_FALSE(ParsePolicy(text).ok()) << text;
  }
}

TEST(ParsePolicyTest, Limits) {
  std::string many = "version: STSv1\nmode: enforce\nmax_age: 86400\n";
  for (size_t i = 0; i < kMaxMxPatterns; ++i) many += "mx: mx" + std::to_string(i) + ".example\n";
  EXPECT_TRUE(ParsePolicy(many).ok());
  EXPECT_FALSE(ParsePolicy(many + "mx: one-more.example\n").ok());

  std::string padded = "version: STSv1\nmode: none\nmax_age: 86400\nx: ";
  padded += std::string(kMaxPolicySize - padded.size(), 'a');
  EXPECT_TRUE(ParsePolicy(padded).ok());
  EXPECT_FALSE(ParsePolicy(padded + "a").ok());
}

TEST(MxMatchesTest, ExactAndWildcard) {
  auto policy = ParsePolicy(kRfcExample);
  ASSERT_TRUE(policy.ok());
  EXPECT_TRUE(MxMatches(*policy, "mail.example.com"));
  EXPECT_TRUE(MxMatches(*policy, "MAIL.Example.com."));
  EXPECT_TRUE(MxMatches(*policy, "mx1.example.net"));
  EXPECT_TRUE(MxMatches(*policy, "backupmx.example.com"));
  // RFC 8461 §4.1: the wildcard matches exactly one leftmost label.
  EXPECT_FALSE(MxMatches(*policy, "example.net"));
  EXPECT_FALSE(MxMatches(*policy, "foo.bar.example.net"));
  EXPECT_FALSE(MxMatches(*policy, ".example.net"));
  EXPECT_FALSE(MxMatches(*policy, "mxexample.net"));
  EXPECT_FALSE(MxMatches(*policy, "other.example.com"));
  EXPECT_FALSE(MxMatches(*policy, "mail.example.com.evil"));
  EXPECT_FALSE(MxMatches(*policy, ""));
  EXPECT_FALSE(MxMatches(*policy, "."));
}

TEST(ParseTxtIdTest, ValidRecords) {
  EXPECT_EQ(ParseTxtId("v=STSv1; id=20160831085700Z;"), "20160831085700Z");
  EXPECT_EQ(ParseTxtId("v=STSv1;id=abc"), "abc");
  EXPECT_EQ(ParseTxtId("v=STSv1 ;\tid=abc ; ext=x-y_z ;"), "abc");
  EXPECT_EQ(ParseTxtId("v=STSv1; ext.v2=1; id=A1; id=B2"), "A1");  // the first id counts
  EXPECT_EQ(ParseTxtId("v=STSv1; id=" + std::string(32, '7')), std::string(32, '7'));
}

TEST(ParseTxtIdTest, InvalidRecords) {
  const std::vector<std::string> cases = {"",
                                          "v=STSv1",
                                          "v=STSv1;",
                                          "v=STSv2; id=1;",
                                          "V=STSv1; id=1;",
                                          " v=STSv1; id=1;",
                                          "id=1; v=STSv1;",
                                          "v=STSv1; ext=1;",
                                          "v=STSv1; id=;",
                                          "v=STSv1; id=a-b;",
                                          "v=STSv1; id=" + std::string(33, '7'),
                                          "v=STSv1; id=1;;",
                                          "v=STSv1; id=1 2;",
                                          "v=STSv1 id=1;",
                                          "v=STSv1; id=1; =x;",
                                          "v=STSv1; id=1; x=;",
                                          "v=STSv1; id=1; x=a=b;",
                                          "v=STSv1; id=1; x\x01=1;",
                                          "v=STSv1; id=1; x=\x7f;"};
  for (const std::string& txt : cases) {
    EXPECT_FALSE(ParseTxtId(txt).has_value()) << txt;
  }
}

}  // namespace
}  // namespace postern::mtasts
