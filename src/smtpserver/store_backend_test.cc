#include "smtpserver/store_backend.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "store/test_store.h"

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

// Accept with a real store: what is kept of a message depends on whether any
// recipient is local.
class StoreBackendAcceptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = store::FreshTestDir("backend");
    auto s = store::OpenTestStore(dir_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->AddDomain("example.test").ok());
    ASSERT_TRUE(store_->AddAccount("alice@example.test", "h", 0, 0).ok());
    runner_ = std::make_unique<delivery::QueueRunner>(*store_, pool_, notifier_,
                                                      delivery::QueueRunnerOptions{});
    backend_ = std::make_unique<StoreBackend>(*store_, pool_, *runner_, StoreBackendOptions{});
    backend_->OnRemoteQueued(
        [this](store::QueueEntry entry, std::shared_ptr<const std::string> content) {
          offered_.push_back(std::move(entry));
          offered_content_ = *content;
        });
  }
  void TearDown() override {
    backend_.reset();
    runner_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Accepts `content` for the given destinations; returns the body's hash.
  std::string Accept(const std::string& id, const std::vector<directory::Destination>& to,
                     const std::string& content) {
    Envelope env;
    env.queue_id = id;
    env.mail_from = "sender@example.org";
    for (const auto& d : to) {
      AcceptedRecipient r;
      r.address = d.address;
      r.destinations = {d};
      env.recipients.push_back(std::move(r));
    }
    asio::io_context ctx;
    Status status = Internal("not run");
    asio::co_spawn(ctx, backend_->Accept(std::move(env), content),
                   [&](std::exception_ptr e, Status s) {
                     if (e) std::rethrow_exception(e);
                     status = std::move(s);
                   });
    ctx.run();
    EXPECT_TRUE(status.ok()) << status.ToString();
    return store_->EncodeBody(content)->ref.hash;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  asio::thread_pool pool_{2};
  mailbox::ChangeNotifier notifier_;
  std::unique_ptr<delivery::QueueRunner> runner_;
  std::unique_ptr<StoreBackend> backend_;
  std::vector<store::QueueEntry> offered_;
  std::string offered_content_;
};

directory::Destination Remote(const std::string& address) {
  directory::Destination d;
  d.address = address;
  d.local = false;
  return d;
}

TEST_F(StoreBackendAcceptTest, MailOnlyPassingThroughIsNeitherParsedNorIndexed) {
  const std::string content = "Subject: relay\r\n\r\nTo somewhere else.\r\n";
  std::string hash = Accept("R1", {Remote("bob@example.net")}, content);
  auto parse = store_->ReadParse(hash);
  ASSERT_TRUE(parse.ok()) << parse.status().ToString();
  EXPECT_FALSE(parse->has_value());
  // Handed over for outbound delivery: committed (ids set), with its message.
  ASSERT_EQ(offered_.size(), 1u);
  EXPECT_EQ(offered_[0].id, "R1");
  ASSERT_EQ(offered_[0].recipients.size(), 1u);
  EXPECT_GT(offered_[0].recipients[0].id, 0);
  EXPECT_FALSE(offered_[0].recipients[0].local);
  EXPECT_EQ(offered_content_, content);
}

TEST_F(StoreBackendAcceptTest, MailWithALocalRecipientIsParsedAtOnce) {
  std::string hash = Accept("L1", {Local("alice@example.test"), Remote("bob@example.net")},
                            "Subject: both\r\n\r\nHere and there.\r\n");
  auto parse = store_->ReadParse(hash);
  ASSERT_TRUE(parse.ok()) << parse.status().ToString();
  ASSERT_TRUE(parse->has_value());
  EXPECT_NE((*parse)->envelope.find("both"), std::string::npos);
  // Only the remote recipient is left for the outbound agent.
  ASSERT_EQ(offered_.size(), 1u);
  ASSERT_EQ(offered_[0].recipients.size(), 1u);
  EXPECT_EQ(offered_[0].recipients[0].address, "bob@example.net");
}

TEST_F(StoreBackendAcceptTest, LocalMailIsNotOffered) {
  Accept("L2", {Local("alice@example.test")}, "Subject: here\r\n\r\nOnly here.\r\n");
  EXPECT_TRUE(offered_.empty());
}

}  // namespace
}  // namespace postern::smtpserver
