// The store side of outbound delivery and queue administration: remote
// recipients, held entries, delay warnings, the MTA-STS policy cache.
#include <gtest/gtest.h>

#include <future>

#include "store/test_store.h"

namespace postern::store {
namespace {

class QueueStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshTestDir("queue-store");
    auto s = OpenTestStore(dir_, &clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Entry `id` from sender@example.test, its body stored: one recipient per
  // address, local unless it ends in "remote.test", due in a minute.
  QueueEntry Entry(const std::string& id, const std::vector<std::string>& rcpts) {
    QueueEntry e = TestQueueEntry(*store_, id, "Subject: " + id + "\r\n\r\nbody\r\n",
                                  "sender@example.test", rcpts, clock_.NowUnix());
    for (auto& r : e.recipients) r.local = r.address.find("remote.test") == std::string::npos;
    return e;
  }

  // Queues Entry(id, rcpts) and returns it as stored.
  QueueEntry Queue(const std::string& id, const std::vector<std::string>& rcpts,
                   bool held = false) {
    QueueEntry e = Entry(id, rcpts);
    e.held = held;
    Status s = store_->Enqueue(e);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return Get(id);
  }

  QueueEntry Get(const std::string& id) {
    auto got = store_->GetQueueEntry(id);
    EXPECT_TRUE(got.ok() && got->has_value()) << id;
    return got.ok() && got->has_value() ? **got : QueueEntry{};
  }

  bool Exists(const std::string& id) {
    auto got = store_->GetQueueEntry(id);
    EXPECT_TRUE(got.ok());
    return got.ok() && got->has_value();
  }

  int64_t Now() const { return clock_.NowUnix(); }

  std::filesystem::path dir_;
  FakeClock clock_{1700000000};
  std::unique_ptr<Store> store_;
};

TEST_F(QueueStoreTest, NewFieldsAreStoredAndLoaded) {
  QueueEntry e = Entry("Q1", {"a@remote.test"});
  e.held = true;
  e.requiretls = true;
  e.recipients[0].warned = true;
  ASSERT_TRUE(store_->Enqueue(e).ok());
  QueueEntry got = Get("Q1");
  EXPECT_TRUE(got.held);
  EXPECT_TRUE(got.requiretls);
  ASSERT_EQ(got.recipients.size(), 1u);
  EXPECT_TRUE(got.recipients[0].warned);
  auto list = store_->ListQueue();
  ASSERT_TRUE(list.ok() && list->size() == 1u);
  EXPECT_TRUE((*list)[0].held);
  EXPECT_TRUE((*list)[0].requiretls);

  // AcceptAsync writes them too.
  auto body = store_->EncodeBody("y");
  ASSERT_TRUE(body.ok());
  QueueEntry accepted;
  accepted.id = "Q2";
  accepted.created = Now();
  accepted.blob = body->ref.hash;
  accepted.size = body->ref.size;
  accepted.stored_size = body->ref.stored_size;
  accepted.inline_body = body->compressed;
  accepted.requiretls = true;
  accepted.recipients = e.recipients;
  std::promise<Status> done;
  store_->AcceptAsync(accepted, {}, [&](Status s, QueueEntry, std::vector<DeliveryOutcome>) {
    done.set_value(std::move(s));
  });
  ASSERT_TRUE(done.get_future().get().ok());
  EXPECT_TRUE(Get("Q2").requiretls);
  EXPECT_FALSE(Get("Q2").held);
}

TEST_F(QueueStoreTest, LoadDueRemoteListsOnlyDueRemoteRecipientsOfEntriesNotHeld) {
  Queue("MIXED", {"a@example.test", "b@remote.test", "c@remote.test"});
  Queue("LOCAL", {"d@example.test"});
  Queue("HELD", {"e@remote.test"}, /*held=*/true);

  EXPECT_TRUE(store_->LoadDueRemote(Now(), 10)->empty()) << "not due yet";
  auto next = store_->NextRemoteAttempt();
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ(**next, Now() + 60);

  auto due = store_->LoadDueRemote(Now() + 60, 10);
  ASSERT_TRUE(due.ok()) << due.status().ToString();
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].id, "MIXED");
  ASSERT_EQ((*due)[0].recipients.size(), 2u);
  EXPECT_EQ((*due)[0].recipients[0].address, "b@remote.test");
  EXPECT_EQ((*due)[0].recipients[1].address, "c@remote.test");
  EXPECT_EQ(store_->LoadDueRemote(Now() + 60, 0)->size(), 0u) << "the limit";

  // A held entry is never due, and does not make the agent wake up.
  ASSERT_TRUE(store_->RemoveQueueEntry("MIXED").ok());
  EXPECT_TRUE(store_->LoadDueRemote(Now() + 3600, 10)->empty());
  EXPECT_FALSE(store_->NextRemoteAttempt()->has_value());
  ASSERT_TRUE(store_->HoldQueueEntry("HELD", false).ok());
  EXPECT_EQ(store_->LoadDueRemote(Now() + 60, 10)->size(), 1u);
  EXPECT_TRUE(store_->NextRemoteAttempt()->has_value());
}

TEST_F(QueueStoreTest, RecordRemoteOutcomes) {
  QueueEntry e = Queue("Q1", {"ok@remote.test", "later@remote.test", "no@remote.test"});
  ASSERT_EQ(e.recipients.size(), 3u);
  const int64_t retry = Now() + 900;
  std::vector<RemoteOutcome> outcomes = {
      {e.recipients[0].id, RemoteOutcome::kDelivered, "250 2.0.0 ok", 0},
      {e.recipients[1].id, RemoteOutcome::kDeferred, "451 4.4.1 no answer", retry},
      {e.recipients[2].id, RemoteOutcome::kFailed, "550 5.1.1 no such user", 0},
  };
  ASSERT_TRUE(store_->RecordRemoteOutcomes(outcomes).ok());
  QueueEntry got = Get("Q1");
  ASSERT_EQ(got.recipients.size(), 3u);
  EXPECT_EQ(got.recipients[0].state, RecipientState::kDelivered);
  EXPECT_EQ(got.recipients[1].state, RecipientState::kPending);
  EXPECT_EQ(got.recipients[1].attempts, 1);
  EXPECT_EQ(got.recipients[1].next_attempt, retry);
  EXPECT_EQ(got.recipients[1].last_error, "451 4.4.1 no answer");
  EXPECT_EQ(got.recipients[2].state, RecipientState::kFailed);
  EXPECT_EQ(got.recipients[2].last_error, "550 5.1.1 no such user");
  auto failed = store_->LoadFailed(10);
  ASSERT_TRUE(failed.ok() && failed->size() == 1u);
  EXPECT_EQ((*failed)[0].recipients.size(), 1u) << "the bounce is the local runner's";

  // Only pending recipients change: recording the same outcomes again does
  // nothing to the delivered and failed ones.
  outcomes[0].kind = RemoteOutcome::kFailed;
  outcomes[2].kind = RemoteOutcome::kDelivered;
  ASSERT_TRUE(store_->RecordRemoteOutcomes(outcomes).ok());
  got = Get("Q1");
  EXPECT_EQ(got.recipients[0].state, RecipientState::kDelivered);
  EXPECT_EQ(got.recipients[1].attempts, 2);
  EXPECT_EQ(got.recipients[2].state, RecipientState::kFailed);

  // Delivered the last pending one: the entry stays while its bounce is owed,
  // and goes once that is queued.
  ASSERT_TRUE(store_->RecordRemoteOutcomes({{e.recipients[1].id, RemoteOutcome::kDelivered}}).ok());
  EXPECT_TRUE(Exists("Q1"));
  ASSERT_TRUE(store_->QueueBounce(std::nullopt, {e.recipients[2].id}).ok());
  EXPECT_FALSE(Exists("Q1"));

  // All delivered: the entry is removed by the same transaction.
  QueueEntry done = Queue("Q2", {"x@remote.test"});
  ASSERT_TRUE(
      store_->RecordRemoteOutcomes({{done.recipients[0].id, RemoteOutcome::kDelivered}}).ok());
  EXPECT_FALSE(Exists("Q2"));
  EXPECT_TRUE(store_->RecordRemoteOutcomes({{12345, RemoteOutcome::kDelivered}}).ok())
      << "an unknown recipient (removed meanwhile) is ignored";
}

TEST_F(QueueStoreTest, DelayWarningsOncePerRecipient) {
  Queue("OLD", {"a@example.test", "b@remote.test"});
  Queue("HELD", {"c@remote.test"}, /*held=*/true);
  clock_.Advance(std::chrono::hours(5));
  Queue("NEW", {"d@remote.test"});

  auto delayed = store_->LoadDelayed(Now() - 4 * 3600, 10);
  ASSERT_TRUE(delayed.ok()) << delayed.status().ToString();
  ASSERT_EQ(delayed->size(), 1u) << "neither held nor too recent";
  EXPECT_EQ((*delayed)[0].id, "OLD");
  ASSERT_EQ((*delayed)[0].recipients.size(), 2u) << "local and remote";

  QueueEntry notice = Entry("WARN", {"sender@example.test"});
  notice.mail_from = "";
  notice.kind = "delay";
  ASSERT_TRUE(store_
                  ->QueueDelayNotice(
                      notice, {(*delayed)[0].recipients[0].id, (*delayed)[0].recipients[1].id})
                  .ok());
  EXPECT_TRUE(Exists("WARN"));
  QueueEntry old = Get("OLD");
  EXPECT_TRUE(old.recipients[0].warned);
  EXPECT_TRUE(old.recipients[1].warned);
  EXPECT_EQ(old.recipients[0].state, RecipientState::kPending) << "still waiting";
  EXPECT_TRUE(store_->LoadDelayed(Now() - 4 * 3600, 10)->empty()) << "warned once";
  // Without a notice (nobody to tell) the recipients are still marked.
  Queue("LATER", {"e@remote.test"});
  clock_.Advance(std::chrono::hours(5));
  auto more = store_->LoadDelayed(Now() - 4 * 3600, 10);
  ASSERT_TRUE(more.ok());
  // The warning is queued mail too (from the null sender, so the caller
  // only marks it warned).
  ASSERT_EQ(more->size(), 3u) << "NEW, WARN and LATER";
  std::vector<int64_t> ids;
  for (const auto& entry : *more) ids.push_back(entry.recipients.at(0).id);
  ASSERT_TRUE(store_->QueueDelayNotice(std::nullopt, ids).ok());
  EXPECT_TRUE(store_->LoadDelayed(Now() - 4 * 3600, 10)->empty());
}

TEST_F(QueueStoreTest, HoldKeepsTheLocalRunnerAwayToo) {
  QueueEntry e = Queue("Q1", {"a@example.test"});
  ASSERT_TRUE(store_->HoldQueueEntry("Q1", true).ok());
  EXPECT_TRUE(Get("Q1").held);
  EXPECT_TRUE(store_->LoadDueLocal(Now() + 3600, true, 10)->empty())
      << "neither due nor untried while held";
  EXPECT_FALSE(store_->NextLocalAttempt()->has_value()) << "no wake-up for a held entry";
  EXPECT_EQ(*store_->FlushQueue(), 1) << "flush makes it due but does not release it";
  EXPECT_TRUE(store_->LoadDueLocal(Now(), false, 10)->empty());
  ASSERT_TRUE(store_->HoldQueueEntry("Q1", false).ok());
  EXPECT_FALSE(Get("Q1").held);
  EXPECT_EQ(store_->LoadDueLocal(Now(), false, 10)->size(), 1u);
  EXPECT_EQ(store_->HoldQueueEntry("NOPE", true).code(), StatusCode::kNotFound);
}

TEST_F(QueueStoreTest, RetryAndBounceByTheAdministrator) {
  QueueEntry e = Queue("Q1", {"a@example.test", "b@remote.test"});
  ASSERT_TRUE(
      store_->RecordRemoteOutcomes({{e.recipients[1].id, RemoteOutcome::kDeferred, "451", 0}})
          .ok());
  auto retried = store_->RetryQueueEntry("Q1");
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(*retried, 2);
  EXPECT_EQ(store_->LoadDueRemote(Now(), 10)->size(), 1u);
  EXPECT_EQ(store_->LoadDueLocal(Now(), false, 10)->size(), 1u);
  EXPECT_EQ(store_->RetryQueueEntry("NOPE").status().code(), StatusCode::kNotFound);

  auto bounced = store_->BounceQueueEntry("Q1", "554 5.0.0 returned by the administrator");
  ASSERT_TRUE(bounced.ok());
  EXPECT_EQ(*bounced, 2);
  QueueEntry got = Get("Q1");
  for (const auto& r : got.recipients) {
    EXPECT_EQ(r.state, RecipientState::kFailed);
    EXPECT_EQ(r.last_error, "554 5.0.0 returned by the administrator");
  }
  auto failed = store_->LoadFailed(10);
  ASSERT_TRUE(failed.ok() && failed->size() == 1u);
  EXPECT_EQ((*failed)[0].recipients.size(), 2u);
  EXPECT_EQ(*store_->BounceQueueEntry("Q1", "x"), 0) << "nothing pending any more";
  EXPECT_EQ(*store_->RetryQueueEntry("Q1"), 0);
  EXPECT_EQ(store_->BounceQueueEntry("NOPE", "x").status().code(), StatusCode::kNotFound);
}

TEST_F(QueueStoreTest, MtaStsPolicyCache) {
  EXPECT_FALSE(store_->GetMtaStsPolicy("remote.test")->has_value());
  MtaStsRecord r{"remote.test", "20261122", "version: STSv1\r\nmode: enforce\r\n", 100, 200};
  ASSERT_TRUE(store_->PutMtaStsPolicy(r).ok());
  auto got = store_->GetMtaStsPolicy("remote.test");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->policy_id, "20261122");
  EXPECT_EQ((*got)->policy, r.policy);
  EXPECT_EQ((*got)->fetched, 100);
  EXPECT_EQ((*got)->expires, 200);
  r.policy_id = "20261123";
  r.expires = 300;
  ASSERT_TRUE(store_->PutMtaStsPolicy(r).ok());
  got = store_->GetMtaStsPolicy("remote.test");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->policy_id, "20261123") << "replaced";
  EXPECT_EQ((*got)->expires, 300);
  EXPECT_FALSE(store_->GetMtaStsPolicy("other.test")->has_value());
  EXPECT_EQ(store_->PutMtaStsPolicy({}).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace postern::store
