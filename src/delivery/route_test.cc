#include "delivery/route.h"

#include <gtest/gtest.h>

#include <set>

namespace postern::delivery {
namespace {

dns::MxAnswer Answer(std::vector<dns::MxRecord> records) {
  dns::MxAnswer a;
  a.records = std::move(records);
  return a;
}

TEST(RouteTest, AscendingPreferenceWithEqualOnesShuffled) {
  std::set<std::vector<std::string>> orders;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    std::mt19937_64 rng(seed);
    Route r = PlanRoute("example.net",
                        Answer({{20, "c.example.net"},
                                {10, "a.example.net"},
                                {10, "b.example.net"},
                                {30, "D.example.net"}}),
                        "mx.example.test", rng);
    ASSERT_EQ(r.kind, Route::Kind::kHosts);
    ASSERT_EQ(r.hosts.size(), 4u);
    EXPECT_EQ(std::set<std::string>(r.hosts.begin(), r.hosts.begin() + 2),
              (std::set<std::string>{"a.example.net", "b.example.net"}));
    EXPECT_EQ(r.hosts[2], "c.example.net");
    EXPECT_EQ(r.hosts[3], "d.example.net");  // names are compared in lower case
    orders.insert(r.hosts);
  }
  EXPECT_EQ(orders.size(), 2u) << "equal preferences come in both orders";
}

TEST(RouteTest, NoMxMeansTheDomainItself) {
  std::mt19937_64 rng(1);
  Route r = PlanRoute("Example.NET", Answer({}), "mx.example.test", rng);
  ASSERT_EQ(r.kind, Route::Kind::kHosts);
  EXPECT_EQ(r.hosts, std::vector<std::string>{"example.net"});
}

TEST(RouteTest, NullMxNxdomainAndLookupFailures) {
  std::mt19937_64 rng(1);
  Route null_mx = PlanRoute("example.net", Answer({{0, ""}}), "mx.example.test", rng);
  EXPECT_EQ(null_mx.kind, Route::Kind::kPermanent);
  EXPECT_EQ(null_mx.error.substr(0, 10), "556 5.1.10");

  dns::MxAnswer nx;
  nx.nxdomain = true;
  Route gone = PlanRoute("nowhere.example", nx, "mx.example.test", rng);
  EXPECT_EQ(gone.kind, Route::Kind::kPermanent);
  EXPECT_EQ(gone.error.substr(0, 9), "550 5.1.2");

  dns::MxAnswer failed;
  failed.status = Unavailable("SERVFAIL");
  Route later = PlanRoute("example.net", failed, "mx.example.test", rng);
  EXPECT_EQ(later.kind, Route::Kind::kTemporary);
  EXPECT_EQ(later.error.substr(0, 9), "451 4.4.3");

  dns::MxAnswer bogus = Answer({{10, "mx.example.net"}});
  bogus.bogus = true;
  EXPECT_EQ(PlanRoute("example.net", bogus, "mx.example.test", rng).kind, Route::Kind::kTemporary);
}

TEST(RouteTest, AnMxPointingAtUsDropsItselfAndWorse) {
  std::mt19937_64 rng(1);
  Route backup = PlanRoute(
      "example.net",
      Answer({{10, "primary.example.net"}, {20, "MX.example.test"}, {30, "other.example.net"}}),
      "mx.example.test", rng);
  ASSERT_EQ(backup.kind, Route::Kind::kHosts);
  EXPECT_EQ(backup.hosts, std::vector<std::string>{"primary.example.net"});

  Route loop = PlanRoute("example.net", Answer({{10, "mx.example.test"}}), "mx.example.test", rng);
  EXPECT_EQ(loop.kind, Route::Kind::kPermanent);
  EXPECT_EQ(loop.error.substr(0, 9), "550 5.4.6");
}

TEST(RouteTest, SecureFlagFollowsTheAnswer) {
  std::mt19937_64 rng(1);
  dns::MxAnswer a = Answer({{10, "mx.example.net"}});
  a.secure = true;
  EXPECT_TRUE(PlanRoute("example.net", a, "mx.example.test", rng).secure);
}

TEST(RouteTest, MtaStsPatternsAllowListedHostsOnly) {
  std::vector<std::string> hosts = {"mx1.example.net", "a.b.example.net", "evil.example.org",
                                    "example.net"};
  EXPECT_EQ(FilterByMtaSts(hosts, {"*.example.net"}),
            std::vector<std::string>{"mx1.example.net"});  // one label only
  EXPECT_EQ(FilterByMtaSts(hosts, {"evil.example.org", "example.net"}),
            (std::vector<std::string>{"evil.example.org", "example.net"}));
  EXPECT_TRUE(FilterByMtaSts(hosts, {}).empty());
}

}  // namespace
}  // namespace postern::delivery
