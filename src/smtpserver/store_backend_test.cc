#include "smtpserver/store_backend.h"

#include <gtest/gtest.h>

namespace postern::smtpserver {
namespace {

directory::Destination Local(const std::string& address, uint64_t quota_messages = 0,
                             uint64_t used = 0, bool disabled = false) {
  directory::Destination d;
  d.address = address;
  d.local = true;
  d.account.address = address;
  d.account.quota_messages = quota_messages;
  d.account.used_messages = used;
  d.account.disabled = disabled;
  return d;
}

directory::Resolution Deliverable(std::vector<directory::Destination> d) {
  directory::Resolution r;
  r.kind = directory::Resolution::kDeliverable;
  r.destinations = std::move(d);
  return r;
}

TEST(JudgeTest, Verdicts) {
  auto code = [](const RecipientCheck& c) {
    return std::to_string(c.reply.code) + " " + c.reply.enhanced;
  };
  directory::Resolution not_local;
  not_local.kind = directory::Resolution::kNotLocal;
  EXPECT_EQ(code(StoreBackend::Judge("a@r", not_local, 0)), "554 5.7.1");
  directory::Resolution unknown;
  unknown.kind = directory::Resolution::kUnknownUser;
  EXPECT_EQ(code(StoreBackend::Judge("a@l", unknown, 0)), "550 5.1.1");
  EXPECT_EQ(code(StoreBackend::Judge("a@l", Unavailable("locked"), 0)), "451 4.3.0");
  EXPECT_EQ(code(StoreBackend::Judge("a@l", Deliverable({Local("a@l")}), 0)), "250 2.1.5");
  EXPECT_EQ(code(StoreBackend::Judge("a@l", Deliverable({Local("a@l", 1, 1)}), 0)), "452 4.2.2");
  EXPECT_EQ(code(StoreBackend::Judge("a@l", Deliverable({Local("a@l", 0, 0, true)}), 0)),
            "550 5.2.1");
  // An alias with one full and one usable destination is accepted.
  EXPECT_EQ(code(StoreBackend::Judge("t@l", Deliverable({Local("a@l", 1, 1), Local("b@l")}), 0)),
            "250 2.1.5");
  directory::Destination remote;
  remote.address = "x@r";
  EXPECT_EQ(code(StoreBackend::Judge("t@l", Deliverable({Local("a@l", 1, 1), remote}), 0)),
            "250 2.1.5");
}

TEST(JudgeTest, OnlyAddressesTravelWithTheTransaction) {
  directory::Destination d = Local("a@l");
  d.account.password_hash = "$argon2id$secret";
  RecipientCheck c = StoreBackend::Judge("a@l", Deliverable({d}), 0);
  ASSERT_EQ(c.destinations.size(), 1u);
  EXPECT_EQ(c.destinations[0].address, "a@l");
  EXPECT_TRUE(c.destinations[0].local);
  EXPECT_TRUE(c.destinations[0].account.password_hash.empty());
}

TEST(JudgeTest, AnAliasTooLargeIsDeferred) {
  RecipientCheck c =
      StoreBackend::Judge("all@l", ResourceExhausted("alias expansion exceeds 1000"), 0);
  EXPECT_EQ(c.reply.code, 451);
  EXPECT_NE(c.reply.lines[0].find("too many addresses"), std::string::npos) << c.reply.lines[0];
}

TEST(JudgeTest, DeclaredSizeCountsAgainstQuota) {
  directory::Destination d = Local("a@l");
  d.account.quota_bytes = 1000;
  d.account.used_bytes = 900;
  EXPECT_EQ(StoreBackend::Judge("a@l", Deliverable({d}), 50).reply.code, 250);
  EXPECT_EQ(StoreBackend::Judge("a@l", Deliverable({d}), 200).reply.code, 452);
}

}  // namespace
}  // namespace postern::smtpserver
