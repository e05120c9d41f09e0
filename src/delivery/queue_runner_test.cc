#include "delivery/queue_runner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <thread>

#include "base/eventually.h"

namespace postern::delivery {
namespace {

using namespace std::chrono_literals;

class QueueRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("runner-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store::SqliteStoreOptions o;
    o.data_dir = dir_.string();
    o.clock = &clock_;
    auto s = store::OpenSqliteStore(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->AddDomain("example.test").ok());
    ASSERT_TRUE(store_->AddAccount("alice@example.test", "h", 0, 0).ok());
    ASSERT_TRUE(store_->AddAccount("small@example.test", "h", 0, 1).ok());
    notifier_.Subscribe(1, [this](const mailbox::MailboxChange& c) {
      std::lock_guard lock(mu_);
      changes_.push_back(c);
    });
  }
  void TearDown() override {
    if (runner_) {
      runner_->Stop();
      EXPECT_TRUE(runner_->WaitStopped(5s));
    }
    ctx_.stop();
    if (thread_.joinable()) thread_.join();
    runner_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void StartRunner(int64_t rescan_interval = 1, int64_t delay_warning = 0) {
    QueueRunnerOptions o;
    o.hostname = "mx.example.test";
    o.retry = {60, 3600, 86400};
    o.rescan_interval = rescan_interval;
    o.delay_warning = delay_warning;
    runner_ = std::make_unique<QueueRunner>(*store_, pool_, notifier_, o, clock_);
    runner_->Start(ctx_);
    thread_ = std::thread([this] {
      auto guard = asio::make_work_guard(ctx_);
      ctx_.run();
    });
  }
  store::QueueEntry Queue(const std::string& from, const std::vector<std::string>& rcpts,
                          const std::string& body = "Subject: t\r\n\r\nhello\r\n",
                          const std::function<void(store::QueueEntry&)>& edit = nullptr) {
    auto ref = store_->blobs().Put(body);
    EXPECT_TRUE(ref.ok());
    store::QueueEntry e;
    e.id = "Q" + std::to_string(++counter_);
    e.created = clock_.NowUnix();
    e.mail_from = from;
    e.blob = ref->hash;
    e.size = ref->size;
    for (const auto& r : rcpts) {
      store::QueueRecipient q;
      q.address = r;
      q.original = r;
      q.next_attempt = clock_.NowUnix() + 60;
      e.recipients.push_back(q);
    }
    if (edit) edit(e);
    EXPECT_TRUE(store_->Enqueue(e).ok());
    return **store_->GetQueueEntry(e.id);
  }
  uint32_t InboxCount(const std::string& who) {
    auto a = store_->FindAccount(who);
    auto boxes = store_->ListMailboxes((*a)->id);
    for (const auto& m : *boxes) {
      if (m.role == "inbox") return m.messages;
    }
    return 0;
  }
  // The stored text of UID 1 in the INBOX of `who`.
  Result<std::string> FirstInboxMessage(const std::string& who) {
    PT_ASSIGN_OR_RETURN(auto account, store_->FindAccount(who));
    if (!account) return NotFound(who);
    PT_ASSIGN_OR_RETURN(auto message, store_->FindMessage(account->id, "INBOX", 1));
    if (!message) return NotFound("no UID 1 in the INBOX of " + who);
    return store_->ReadMessage(*message);
  }
  // Moves the clock past max_age and returns the one bounce that reaches
  // alice@ (the sender of the test's queued message).
  Result<std::string> AgeIntoABounceToAlice() {
    clock_.Advance(std::chrono::hours(25));
    runner_->Kick();
    if (!Eventually([&] { return runner_->stats().bounces == 1; })) return Internal("no bounce");
    if (!Eventually([&] { return InboxCount("alice@example.test") == 1; })) {
      return Internal("the bounce was not delivered");
    }
    return FirstInboxMessage("alice@example.test");
  }
  std::filesystem::path dir_;
  FakeClock clock_{1700000000};
  std::unique_ptr<store::Store> store_;
  asio::thread_pool pool_{2};
  asio::io_context ctx_;
  std::thread thread_;
  mailbox::ChangeNotifier notifier_;
  std::unique_ptr<QueueRunner> runner_;
  std::mutex mu_;
  std::vector<mailbox::MailboxChange> changes_;
  int counter_ = 0;
};

TEST_F(QueueRunnerTest, SubmittedEntriesAreDeliveredAndAnnounced) {
  StartRunner();
  runner_->Submit(Queue("bob@remote.test", {"alice@example.test"}));
  ASSERT_TRUE(Eventually([&] { return InboxCount("alice@example.test") == 1; }));
  EXPECT_TRUE(Eventually([&] { return store_->ListQueue()->empty(); }));
  std::lock_guard lock(mu_);
  ASSERT_EQ(changes_.size(), 1u);
  EXPECT_EQ(changes_[0].uid, 1u);
  auto acct = *store_->FindAccount("alice@example.test");
  auto msg = store_->FindMessage(acct->id, "INBOX", 1);
  auto text = store_->ReadMessage(**msg);
  EXPECT_EQ(
      text->rfind("Return-Path: <bob@remote.test>\r\nDelivered-To: alice@example.test\r\n", 0), 0u);
}

// Each Submit must wake the loop even when it arrives while the loop is busy
// (here: rescanning the store); with hourly rescans, a lost wake-up
// shows as a message that is not delivered within seconds.
TEST_F(QueueRunnerTest, NoSubmitIsLeftWaitingForTheRescan) {
  StartRunner(/*rescan_interval=*/3600);
  for (int i = 0; i < 300; ++i) {
    store::QueueEntry e = Queue("s@remote.test", {"alice@example.test"});
    runner_->Kick();  // the loop rescans the store, and the Submit comes meanwhile
    std::this_thread::sleep_for(std::chrono::microseconds(20 * (i % 5)));
    runner_->Submit(std::move(e));
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (InboxCount("alice@example.test") < static_cast<uint32_t>(i + 1) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(50 * (i % 7)));
    }
    ASSERT_EQ(InboxCount("alice@example.test"), static_cast<uint32_t>(i + 1))
        << "message " << i << " waited for the rescan";
  }
}

TEST_F(QueueRunnerTest, EntriesQueuedBeforeStartAreRecovered) {
  Queue("bob@remote.test", {"alice@example.test"});
  Queue("", {"alice@example.test"});
  StartRunner();
  // The counters move after the delivery commits (when it is reported), so
  // wait for them rather than for the INBOX.
  ASSERT_TRUE(Eventually([&] { return runner_->stats().delivered == 2u; }));
  EXPECT_EQ(InboxCount("alice@example.test"), 2u);
}

TEST_F(QueueRunnerTest, SubmittingTwiceDeliversOnce) {
  StartRunner();
  auto e = Queue("bob@remote.test", {"alice@example.test"});
  runner_->Submit(e);
  runner_->Submit(e);
  runner_->Kick();
  ASSERT_TRUE(Eventually([&] { return runner_->stats().delivered >= 1; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(InboxCount("alice@example.test"), 1u);
}

TEST_F(QueueRunnerTest, OverQuotaIsRetriedThenBouncedToALocalSender) {
  StartRunner();
  runner_->Submit(Queue("alice@example.test", {"small@example.test"}));
  ASSERT_TRUE(Eventually([&] { return InboxCount("small@example.test") == 1; }));
  runner_->Submit(Queue("alice@example.test", {"small@example.test"}));
  ASSERT_TRUE(Eventually([&] { return runner_->stats().deferred == 1; }));
  EXPECT_EQ(store_->ListQueue()->size(), 1u);

  clock_.Advance(std::chrono::seconds(61));  // due again, still full
  runner_->Kick();
  ASSERT_TRUE(Eventually([&] { return runner_->stats().deferred == 2; }));

  clock_.Advance(std::chrono::hours(25));  // past max_age: the next failure is final
  runner_->Kick();
  ASSERT_TRUE(Eventually([&] { return runner_->stats().bounces == 1; }));
  // The bounce lands in the sender's INBOX, from the null sender.
  ASSERT_TRUE(Eventually([&] { return InboxCount("alice@example.test") == 1; }));
  Result<std::string> text = FirstInboxMessage("alice@example.test");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(text->rfind("Return-Path: <>\r\n", 0), 0u);
  EXPECT_NE(text->find("Status: 5.2.2"), std::string::npos);
  EXPECT_NE(text->find("Final-Recipient: rfc822; small@example.test"), std::string::npos);
  EXPECT_TRUE(Eventually([&] { return store_->ListQueue()->empty(); }));
}

TEST_F(QueueRunnerTest, NoBounceForNullSenderOrNotifyNever) {
  StartRunner();
  runner_->Submit(Queue("alice@example.test", {"small@example.test"}));
  ASSERT_TRUE(Eventually([&] { return InboxCount("small@example.test") == 1; }));
  runner_->Submit(Queue("", {"small@example.test"}));
  auto never = Queue("alice@example.test", {"small@example.test"});
  ASSERT_TRUE(store_->RemoveQueueEntry(never.id).ok());
  never.recipients[0].notify = 1;  // NOTIFY=NEVER
  ASSERT_TRUE(store_->Enqueue(never).ok());
  runner_->Submit(**store_->GetQueueEntry(never.id));
  ASSERT_TRUE(Eventually([&] { return runner_->stats().deferred == 2; }));
  clock_.Advance(std::chrono::hours(25));
  runner_->Kick();
  ASSERT_TRUE(Eventually([&] { return runner_->stats().failed == 2; }));
  EXPECT_TRUE(Eventually([&] { return store_->ListQueue()->empty(); }));
  EXPECT_EQ(runner_->stats().bounces, 0u);
  EXPECT_EQ(InboxCount("alice@example.test"), 0u);
}

// A bounce goes out even when the original message cannot be read any more
// (a damaged store): without the original, instead of never.
TEST_F(QueueRunnerTest, BounceWithoutAnUnreadableOriginal) {
  StartRunner();
  runner_->Submit(Queue("alice@example.test", {"small@example.test"}));
  ASSERT_TRUE(Eventually([&] { return InboxCount("small@example.test") == 1; }));
  auto e = Queue("alice@example.test", {"small@example.test"}, "Subject: lost\r\n\r\ngone\r\n");
  runner_->Submit(e);
  ASSERT_TRUE(Eventually([&] { return runner_->stats().deferred == 1; }));
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir_ / "blobs")) {
    if (f.path().filename() == e.blob) std::filesystem::remove(f.path());
  }
  Result<std::string> text = AgeIntoABounceToAlice();
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_NE(text->find("Status: 5.2.2"), std::string::npos);
  EXPECT_EQ(text->find("Subject: lost"), std::string::npos);
  EXPECT_TRUE(Eventually([&] { return store_->ListQueue()->empty(); }));
}

// RFC 3461 NOTIFY=SUCCESS: the sender gets a report with Action: delivered,
// one per message, listing only the recipients that asked.
TEST_F(QueueRunnerTest, SuccessReportsWhenAsked) {
  StartRunner();
  ASSERT_TRUE(store_->AddAccount("bob@example.test", "h", 0, 0).ok());
  auto e = Queue("alice@example.test", {"small@example.test", "bob@example.test"},
                 "Subject: t\r\n\r\nhello\r\n", [](store::QueueEntry& e) {
                   e.recipients[0].notify = 2 | 4;  // SUCCESS,FAILURE
                   e.recipients[0].orcpt = "rfc822;small@example.test";
                   e.dsn_envid = "env-7";
                 });
  runner_->Submit(e);
  ASSERT_TRUE(Eventually([&] { return InboxCount("alice@example.test") == 1; }));
  Result<std::string> text = FirstInboxMessage("alice@example.test");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(text->rfind("Return-Path: <>\r\n", 0), 0u);
  EXPECT_NE(text->find("Action: delivered"), std::string::npos) << *text;
  EXPECT_NE(text->find("Final-Recipient: rfc822; small@example.test"), std::string::npos);
  EXPECT_NE(text->find("Original-Envelope-Id: env-7"), std::string::npos);
  EXPECT_EQ(text->find("bob@example.test"), std::string::npos) << "bob did not ask";
  EXPECT_EQ(text->find("\r\nhello\r\n"), std::string::npos) << "only the header comes back";
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(InboxCount("alice@example.test"), 1u) << "one report per message";
  EXPECT_EQ(runner_->stats().bounces, 0u);
}

// An entry held by the administrator is left alone: not recovered at start,
// not retried when due, until it is released.
TEST_F(QueueRunnerTest, HeldEntriesAreNotDelivered) {
  auto held = Queue("bob@remote.test", {"alice@example.test"}, "Subject: t\r\n\r\nhello\r\n",
                    [](store::QueueEntry& e) { e.held = true; });
  StartRunner();
  runner_->Kick();
  clock_.Advance(std::chrono::seconds(61));  // due
  runner_->Kick();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(InboxCount("alice@example.test"), 0u);
  EXPECT_EQ(runner_->stats().delivered, 0u);
  EXPECT_EQ(store_->ListQueue()->size(), 1u);

  ASSERT_TRUE(store_->HoldQueueEntry(held.id, false).ok());
  runner_->Kick();
  ASSERT_TRUE(Eventually([&] { return InboxCount("alice@example.test") == 1; }));
  EXPECT_TRUE(Eventually([&] { return store_->ListQueue()->empty(); }));
}

// `postern queue bounce`: the administrator fails the pending recipients and
// the runner returns the message to its sender.
TEST_F(QueueRunnerTest, AdministratorBounceIsReturned) {
  auto e = Queue("alice@example.test", {"friend@elsewhere.test"}, "Subject: t\r\n\r\nhello\r\n",
                 [](store::QueueEntry& e) {
                   e.held = true;
                   e.recipients[0].local = false;
                 });
  StartRunner();
  auto n = store_->BounceQueueEntry(e.id, "554 5.0.0 returned by the administrator");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  runner_->Kick();
  ASSERT_TRUE(Eventually([&] { return runner_->stats().bounces == 1; }));
  ASSERT_TRUE(Eventually([&] { return InboxCount("alice@example.test") == 1; }));
  Result<std::string> text = FirstInboxMessage("alice@example.test");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_NE(text->find("Status: 5.0.0"), std::string::npos) << *text;
  EXPECT_NE(text->find("returned by the administrator"), std::string::npos);
  EXPECT_TRUE(Eventually([&] { return store_->ListQueue()->empty(); }));
}

// A recipient still waiting after queue.delay_warning: the sender gets one
// RFC 3464 "delayed" notice (not one per retry), and the mail stays queued.
TEST_F(QueueRunnerTest, DelayWarningOncePerRecipient) {
  StartRunner(1, /*delay_warning=*/4 * 3600);
  runner_->Submit(Queue("alice@example.test", {"small@example.test"}));  // fills the quota
  ASSERT_TRUE(Eventually([&] { return InboxCount("small@example.test") == 1; }));
  runner_->Submit(Queue("alice@example.test", {"small@example.test"}));
  ASSERT_TRUE(Eventually([&] { return runner_->stats().deferred == 1; }));
  EXPECT_EQ(InboxCount("alice@example.test"), 0u) << "too early for a warning";

  clock_.Advance(std::chrono::hours(5));
  runner_->Kick();
  ASSERT_TRUE(Eventually([&] { return InboxCount("alice@example.test") == 1; }));
  Result<std::string> text = FirstInboxMessage("alice@example.test");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_NE(text->find("Subject: Delayed Mail (still being retried)"), std::string::npos);
  EXPECT_NE(text->find("Action: delayed"), std::string::npos);
  EXPECT_NE(text->find("Status: 4.2.2"), std::string::npos) << *text;
  EXPECT_NE(text->find("Will-Retry-Until: "), std::string::npos);

  clock_.Advance(std::chrono::hours(1));
  runner_->Kick();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(InboxCount("alice@example.test"), 1u) << "one warning only";
  EXPECT_FALSE(store_->ListQueue()->empty());
}

}  // namespace
}  // namespace postern::delivery
