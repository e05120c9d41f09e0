#include "directory/resolver.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace postern::directory {
namespace {

class FakeLookup : public DirectoryLookup {
 public:
  Result<bool> IsLocalDomain(const std::string& d) override { return domains.count(d) > 0; }
  Result<std::optional<AccountInfo>> FindAccount(const std::string& a) override {
    ++lookups;
    if (!accounts.count(a)) return std::optional<AccountInfo>();
    AccountInfo info;
    info.address = a;
    return std::optional<AccountInfo>(info);
  }
  Result<std::vector<std::string>> FindAliasTargets(const std::string& s) override {
    ++lookups;
    if (fail) return Unavailable("database is locked");
    auto it = aliases.find(s);
    return it == aliases.end() ? std::vector<std::string>{} : it->second;
  }
  std::set<std::string> domains{"example.test", "other.test"};
  std::set<std::string> accounts{"alice@example.test", "bob@example.test", "carol@other.test"};
  std::map<std::string, std::vector<std::string>> aliases;
  int lookups = 0;
  bool fail = false;
};

std::vector<std::string> Addresses(const Resolution& r) {
  std::vector<std::string> out;
  for (const auto& d : r.destinations) out.push_back(d.address + (d.local ? "" : " (remote)"));
  return out;
}

class ResolverTest : public ::testing::Test {
 protected:
  Resolution Must(const std::string& address) {
    auto r = Resolve(lookup_, address, options_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Resolution{};
  }
  FakeLookup lookup_;
  ResolverOptions options_;
};

TEST_F(ResolverTest, Accounts) {
  auto r = Must("alice@example.test");
  EXPECT_EQ(r.kind, Resolution::kDeliverable);
  EXPECT_EQ(Addresses(r), std::vector<std::string>{"alice@example.test"});
  EXPECT_EQ(Must("nobody@example.test").kind, Resolution::kUnknownUser);
  EXPECT_EQ(Must("alice@remote.test").kind, Resolution::kNotLocal);
}

TEST_F(ResolverTest, SubAddressing) {
  EXPECT_EQ(Addresses(Must("alice+lists@example.test")),
            std::vector<std::string>{"alice@example.test"});
  EXPECT_EQ(Must("nobody+x@example.test").kind, Resolution::kUnknownUser);
  EXPECT_EQ(Must("+x@example.test").kind, Resolution::kUnknownUser);
  options_.recipient_delimiter = "";
  EXPECT_EQ(Must("alice+lists@example.test").kind, Resolution::kUnknownUser);
}

TEST_F(ResolverTest, AliasesFanOutToLocalAndRemote) {
  lookup_.aliases["team@example.test"] = {"alice@example.test", "bob@example.test",
                                          "dave@remote.test", "carol@other.test"};
  EXPECT_EQ(Addresses(Must("team@example.test")),
            (std::vector<std::string>{"alice@example.test", "bob@example.test",
                                      "dave@remote.test (remote)", "carol@other.test"}));
  // Sub-addressing applies to aliases as well.
  EXPECT_EQ(Must("team+x@example.test").destinations.size(), 4u);
}

TEST_F(ResolverTest, AliasTakesPrecedenceAndCanKeepACopy) {
  lookup_.aliases["alice@example.test"] = {"alice@example.test", "alice@remote.test"};
  EXPECT_EQ(Addresses(Must("alice@example.test")),
            (std::vector<std::string>{"alice@example.test", "alice@remote.test (remote)"}));
}

TEST_F(ResolverTest, CatchAll) {
  lookup_.aliases["@example.test"] = {"bob@example.test"};
  EXPECT_EQ(Addresses(Must("anything@example.test")), std::vector<std::string>{"bob@example.test"});
  // Existing users still get their own mail.
  EXPECT_EQ(Addresses(Must("alice@example.test")), std::vector<std::string>{"alice@example.test"});
  EXPECT_EQ(Addresses(Must("alice+tag@example.test")),
            std::vector<std::string>{"alice@example.test"});
}

TEST_F(ResolverTest, DomainAlias) {
  lookup_.domains.insert("old.test");
  lookup_.aliases["@old.test"] = {"@example.test"};
  EXPECT_EQ(Addresses(Must("alice@old.test")), std::vector<std::string>{"alice@example.test"});
  EXPECT_EQ(Must("nobody@old.test").kind, Resolution::kUnknownUser);
}

TEST_F(ResolverTest, LoopsAndDuplicatesTerminate) {
  lookup_.aliases["a@example.test"] = {"b@example.test", "alice@example.test"};
  lookup_.aliases["b@example.test"] = {"a@example.test", "alice@example.test"};
  auto r = Must("a@example.test");
  EXPECT_EQ(r.kind, Resolution::kDeliverable);
  EXPECT_EQ(Addresses(r), std::vector<std::string>{"alice@example.test"});
  lookup_.aliases["x@example.test"] = {"x@example.test"};  // self, no account
  EXPECT_EQ(Must("x@example.test").kind, Resolution::kUnknownUser);
}

TEST_F(ResolverTest, DeepChainsStop) {
  for (int i = 0; i < 50; ++i) {
    lookup_.aliases["l" + std::to_string(i) + "@example.test"] = {"l" + std::to_string(i + 1) +
                                                                  "@example.test"};
  }
  lookup_.aliases["l50@example.test"] = {"alice@example.test"};
  auto r = Must("l0@example.test");
  EXPECT_EQ(r.kind, Resolution::kUnknownUser) << "expansion must stop at kMaxAliasDepth";
  auto near = Must("l45@example.test");
  EXPECT_EQ(Addresses(near), std::vector<std::string>{"alice@example.test"});
}

// Nine levels of aliases, each naming both aliases of the next level: 2^9
// paths to the same few addresses. Each address is expanded once.
TEST_F(ResolverTest, DiamondsAreExpandedOnce) {
  auto name = [](int level, char side) {
    return "d" + std::to_string(level) + side + "@example.test";
  };
  const int last = kMaxAliasDepth - 1;  // the accounts are at the deepest level allowed
  for (int i = 0; i < last; ++i) {
    for (char side : {'a', 'b'})
      lookup_.aliases[name(i, side)] = {name(i + 1, 'a'), name(i + 1, 'b')};
  }
  lookup_.aliases[name(last, 'a')] = {"alice@example.test"};
  lookup_.aliases[name(last, 'b')] = {"bob@example.test"};
  lookup_.lookups = 0;
  auto r = Must(name(0, 'a'));
  EXPECT_EQ(Addresses(r), (std::vector<std::string>{"alice@example.test", "bob@example.test"}));
  EXPECT_LT(lookup_.lookups, 200) << "an address reached twice was expanded twice";
}

TEST_F(ResolverTest, ExpansionIsBounded) {
  std::vector<std::string> everyone;
  for (int i = 0; i < 1500; ++i) {
    std::string a = "u" + std::to_string(i) + "@example.test";
    lookup_.accounts.insert(a);
    everyone.push_back(a);
  }
  lookup_.aliases["all@example.test"] = everyone;
  auto r = Resolve(lookup_, "all@example.test", options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);

  options_.max_destinations = 2000;
  EXPECT_EQ(Must("all@example.test").destinations.size(), 1500u);

  options_.max_lookups = 100;  // the budget for lookups made on an I/O thread
  r = Resolve(lookup_, "all@example.test", options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_LE(lookup_.lookups, 5000 + 2000 + 101);
}

TEST_F(ResolverTest, StaleLocalTargetsAreDropped) {
  lookup_.aliases["team@example.test"] = {"gone@example.test", "alice@example.test"};
  EXPECT_EQ(Addresses(Must("team@example.test")), std::vector<std::string>{"alice@example.test"});
  lookup_.aliases["empty@example.test"] = {"gone@example.test"};
  EXPECT_EQ(Must("empty@example.test").kind, Resolution::kUnknownUser);
}

TEST_F(ResolverTest, LookupErrorsPropagate) {
  lookup_.fail = true;
  auto r = Resolve(lookup_, "alice@example.test", options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

TEST(NormalizeTest, Addresses) {
  EXPECT_EQ(*NormalizeAddress("Alice@EXAMPLE.test"), "alice@example.test");
  EXPECT_EQ(*NormalizeAddress("  bob@example.test "), "bob@example.test");
  EXPECT_EQ(*NormalizeAddress("@Example.TEST", true), "@example.test");
  EXPECT_FALSE(NormalizeAddress("@example.test", false).ok());
  EXPECT_FALSE(NormalizeAddress("no-at-sign").ok());
  EXPECT_FALSE(NormalizeAddress("a@[127.0.0.1]").ok());
  EXPECT_EQ(*NormalizeAddress("j\xc3\xb6rg@b\xc3\xbc"
                              "cher.example"),
            "j\xc3\xb6rg@xn--bcher-kva.example");
}

TEST_F(ResolverTest, MaySendAsOwnAddressesAndGrantedAliases) {
  auto may = [this](const std::string& account, const std::string& sender) {
    Result<bool> r = MaySendAs(lookup_, account, sender, options_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  };
  lookup_.aliases["sales@example.test"] = {"alice@example.test", "carol@other.test"};
  lookup_.aliases["team@example.test"] = {"sales@example.test"};
  lookup_.aliases["@example.test"] = {"bob@example.test"};  // catch-all
  EXPECT_TRUE(may("alice@example.test", "alice@example.test"));
  EXPECT_TRUE(may("alice@example.test", "alice+news@example.test"));
  EXPECT_TRUE(may("alice@example.test", "sales@example.test"));
  EXPECT_TRUE(may("alice@example.test", "sales+q3@example.test"));
  EXPECT_TRUE(may("alice@example.test", "team@example.test"));  // through two levels
  EXPECT_TRUE(may("carol@other.test", "sales@example.test"));
  EXPECT_FALSE(may("bob@example.test", "sales@example.test"));
  EXPECT_FALSE(may("alice@example.test", "bob@example.test"));
  EXPECT_FALSE(may("alice@example.test", "alice@other.test"));
  EXPECT_FALSE(may("alice@example.test", "someone@remote.test"));
  // The catch-all's owner gets no right to unassigned addresses.
  EXPECT_FALSE(may("bob@example.test", "nobody@example.test"));
  options_.recipient_delimiter = "";
  EXPECT_FALSE(may("alice@example.test", "alice+news@example.test"));
  lookup_.fail = true;
  EXPECT_FALSE(MaySendAs(lookup_, "alice@example.test", "sales@example.test", options_).ok());
}

}  // namespace
}  // namespace postern::directory
