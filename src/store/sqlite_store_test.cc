#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <thread>

#include "store/store.h"
#include "store/test_store.h"

namespace postern::store {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    SqliteStoreOptions o;
    o.data_dir = dir_.string();
    o.clock = &clock_;
    auto s = OpenSqliteStore(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }

  // Stores `content` and queues it for the given local recipients.
  QueueEntry Queue(const std::string& id, const std::string& content,
                   const std::vector<std::string>& rcpts) {
    QueueEntry e =
        TestQueueEntry(*store_, id, content, "sender@remote.test", rcpts, clock_.NowUnix());
    Status s = store_->Enqueue(e);
    EXPECT_TRUE(s.ok()) << s.ToString();
    auto got = store_->GetQueueEntry(id);
    EXPECT_TRUE(got.ok() && got->has_value());
    return got.ok() && got->has_value() ? **got : e;
  }

  // An entry whose body `content` is stored inline, and the deliveries
  // AcceptAsync is to make of it: one per recipient, all local.
  std::pair<QueueEntry, std::vector<LocalDelivery>> ToAccept(
      const std::string& id, const std::string& content, const std::vector<std::string>& rcpts) {
    auto body = store_->EncodeBody(content);
    EXPECT_TRUE(body.ok() && !body->in_file);
    QueueEntry e;
    e.id = id;
    e.created = clock_.NowUnix();
    e.blob = body->ref.hash;
    e.size = body->ref.size;
    e.stored_size = body->ref.stored_size;
    e.inline_body = body->compressed;
    std::vector<LocalDelivery> now;
    for (size_t i = 0; i < rcpts.size(); ++i) {
      QueueRecipient r;
      r.address = rcpts[i];
      r.next_attempt = clock_.NowUnix() + 60;
      e.recipients.push_back(r);
      LocalDelivery d;
      d.recipient_index = static_cast<int>(i);
      d.address = rcpts[i];
      d.blob = e.blob;
      d.blob_size = e.size;
      d.internal_date = clock_.NowUnix();
      d.retry_at = clock_.NowUnix() + 60;
      now.push_back(d);
    }
    return {std::move(e), std::move(now)};
  }

  std::vector<LocalDelivery> Plan(const QueueEntry& e, bool last_chance = false) {
    std::vector<LocalDelivery> out;
    for (const auto& r : e.recipients) {
      LocalDelivery d;
      d.queue_id = e.id;
      d.recipient_id = r.id;
      d.address = r.address;
      d.blob = e.blob;
      d.blob_size = e.size;
      d.header_prefix = "Delivered-To: " + r.address + "\r\n";
      d.internal_date = clock_.NowUnix();
      d.retry_at = clock_.NowUnix() + 60;
      d.last_chance = last_chance;
      out.push_back(d);
    }
    return out;
  }

  MailboxInfo Inbox(const std::string& address) {
    auto a = store_->FindAccount(address);
    EXPECT_TRUE(a.ok() && a->has_value());
    auto boxes = store_->ListMailboxes((*a)->id);
    EXPECT_TRUE(boxes.ok());
    for (auto& b : *boxes) {
      if (b.role == "inbox") return b;
    }
    ADD_FAILURE() << "no INBOX";
    return {};
  }

  std::filesystem::path dir_;
  FakeClock clock_{1700000000};
  std::unique_ptr<Store> store_;
};

TEST(SqliteErrorTest, FullDiskIsResourceExhausted) {
  // SMTP turns kResourceExhausted into 452 4.3.1 and other trouble into 451.
  EXPECT_EQ(SqliteError(nullptr, SQLITE_FULL, "commit").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(SqliteError(nullptr, SQLITE_IOERR_FSYNC, "commit").code(), StatusCode::kUnavailable);
  EXPECT_EQ(SqliteError(nullptr, SQLITE_BUSY, "begin").code(), StatusCode::kUnavailable);
  EXPECT_EQ(SqliteError(nullptr, SQLITE_CORRUPT, "read").code(), StatusCode::kDataLoss);
}

// The SCRAM secrets travel with the hash; the login upgrade fills them in only
// while the hash it verified is still the account's.
TEST_F(StoreTest, ScramSecretsWithThePassword) {
  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  ASSERT_TRUE(store_->AddAccount("new@example.test", {"hash1", "SCRAM-SHA-256$a"}, 0, 0).ok());
  ASSERT_TRUE(store_->AddAccount("old@example.test", "hash2", 0, 0).ok());
  EXPECT_EQ((*store_->FindAccount("new@example.test"))->scram_sha256, "SCRAM-SHA-256$a");
  EXPECT_EQ((*store_->FindAccount("old@example.test"))->scram_sha256, "");

  // A new password replaces both; a hash alone clears the old secrets.
  ASSERT_TRUE(store_->SetPassword("new@example.test", {"hash3", "SCRAM-SHA-256$b"}).ok());
  EXPECT_EQ((*store_->FindAccount("new@example.test"))->scram_sha256, "SCRAM-SHA-256$b");
  ASSERT_TRUE(store_->SetPassword("new@example.test", "hash4").ok());
  EXPECT_EQ((*store_->FindAccount("new@example.test"))->scram_sha256, "");

  // The upgrade: refused when the password changed since it was verified.
  EXPECT_EQ(store_->SetScramSecrets("old@example.test", "stale", "SCRAM-SHA-256$c").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ((*store_->FindAccount("old@example.test"))->scram_sha256, "");
  ASSERT_TRUE(store_->SetScramSecrets("old@example.test", "hash2", "SCRAM-SHA-256$c").ok());
  EXPECT_EQ((*store_->FindAccount("old@example.test"))->scram_sha256, "SCRAM-SHA-256$c");
  EXPECT_EQ(store_->SetScramSecrets("nobody@example.test", "x", "y").code(),
            StatusCode::kFailedPrecondition);

  // And they survive a restart, listed like the rest of the account.
  Reopen();
  auto all = store_->ListAccounts("example.test");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].scram_sha256, "SCRAM-SHA-256$c");
}

TEST_F(StoreTest, AppPasswords) {
  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  auto acct = store_->AddAccount("demo@example.test", "hash", 0, 0);
  ASSERT_TRUE(acct.ok());
  auto other = store_->AddAccount("other@example.test", "hash", 0, 0);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(store_->AddAppPassword("demo@example.test", "phone", "h1").ok());
  ASSERT_TRUE(store_->AddAppPassword("demo@example.test", "laptop", "h2").ok());
  EXPECT_EQ(store_->AddAppPassword("demo@example.test", "phone", "h3").code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->AddAppPassword("nobody@example.test", "phone", "h4").code(),
            StatusCode::kNotFound);
  auto list = store_->ListAppPasswords("demo@example.test");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "laptop");
  EXPECT_EQ((*list)[1].name, "phone");
  EXPECT_EQ(**store_->FindAppPassword(acct->id, "h1"), "phone");
  EXPECT_FALSE(store_->FindAppPassword(other->id, "h1")->has_value());
  EXPECT_FALSE(store_->FindAppPassword(acct->id, "h3")->has_value());
  ASSERT_TRUE(store_->RemoveAppPassword("demo@example.test", "phone").ok());
  EXPECT_EQ(store_->RemoveAppPassword("demo@example.test", "phone").code(), StatusCode::kNotFound);
  EXPECT_FALSE(store_->FindAppPassword(acct->id, "h1")->has_value());
  // They go with the account.
  ASSERT_TRUE(store_->RemoveAccount("demo@example.test").ok());
  EXPECT_FALSE(store_->FindAppPassword(acct->id, "h2")->has_value());
}

TEST_F(StoreTest, DomainsAndAccounts) {
  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  EXPECT_EQ(store_->AddDomain("example.test").status().code(), StatusCode::kAlreadyExists);
  auto acct = store_->AddAccount("demo@example.test", "hash", 0, 0);
  ASSERT_TRUE(acct.ok()) << acct.status().ToString();
  EXPECT_EQ(store_->AddAccount("demo@example.test", "h", 0, 0).status().code(),
            StatusCode::kAlreadyExists);
  auto nodomain = store_->AddAccount("x@other.test", "h", 0, 0);
  EXPECT_EQ(nodomain.status().code(), StatusCode::kNotFound);
  EXPECT_NE(nodomain.status().message().find("postern domain add other.test"), std::string::npos);

  EXPECT_TRUE(*store_->IsLocalDomain("example.test"));
  EXPECT_FALSE(*store_->IsLocalDomain("other.test"));
  auto found = store_->FindAccount("demo@example.test");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->password_hash, "hash");

  auto boxes = store_->ListMailboxes(acct->id);
  ASSERT_TRUE(boxes.ok());
  ASSERT_EQ(boxes->size(), 6u);
  EXPECT_EQ((*boxes)[0].name, "INBOX");
  std::set<std::string> roles;
  std::set<uint32_t> validities;
  for (const auto& b : *boxes) {
    roles.insert(b.role);
    validities.insert(b.uidvalidity);
    EXPECT_EQ(b.uidnext, 1u);
  }
  EXPECT_EQ(roles, (std::set<std::string>{"inbox", "sent", "drafts", "trash", "junk", "archive"}));
  EXPECT_EQ(validities.size(), 6u) << "every mailbox gets its own UIDVALIDITY";

  ASSERT_TRUE(store_->SetPassword("demo@example.test", "new").ok());
  EXPECT_EQ((*store_->FindAccount("demo@example.test"))->password_hash, "new");
  EXPECT_EQ(store_->SetPassword("nobody@example.test", "x").code(), StatusCode::kNotFound);

  auto domains = store_->ListDomains();
  ASSERT_TRUE(domains.ok());
  ASSERT_EQ(domains->size(), 1u);
  EXPECT_EQ((*domains)[0].accounts, 1);

  Status busy = store_->RemoveDomain("example.test", false);
  EXPECT_EQ(busy.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(busy.message().find("--force"), std::string::npos);
  ASSERT_TRUE(store_->RemoveDomain("example.test", true).ok());
  EXPECT_FALSE(*store_->IsLocalDomain("example.test"));
  EXPECT_FALSE(store_->FindAccount("demo@example.test")->has_value());
}

TEST_F(StoreTest, Aliases) {
  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  ASSERT_TRUE(store_->AddAlias("team@example.test", {"a@example.test", "b@remote.test"}).ok());
  ASSERT_TRUE(store_->AddAlias("@example.test", {"catch@example.test"}).ok());
  EXPECT_EQ(*store_->FindAliasTargets("team@example.test"),
            (std::vector<std::string>{"a@example.test", "b@remote.test"}));
  auto list = store_->ListAliases("");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2u);
  ASSERT_TRUE(store_->RemoveAlias("team@example.test", "b@remote.test").ok());
  EXPECT_EQ(store_->FindAliasTargets("team@example.test")->size(), 1u);
  ASSERT_TRUE(store_->RemoveAlias("team@example.test", "").ok());
  EXPECT_TRUE(store_->FindAliasTargets("team@example.test")->empty());
  EXPECT_EQ(store_->RemoveAlias("team@example.test", "").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->AddAlias("x@nowhere.test", {"y@example.test"}).code(), StatusCode::kNotFound);

  // An import is all or nothing.
  std::vector<AliasInfo> batch = {{"one@example.test", {"a@example.test"}},
                                  {"two@example.test", {"b@example.test", "c@remote.test"}},
                                  {"bad@nowhere.test", {"a@example.test"}}};
  EXPECT_EQ(store_->AddAliases(batch).code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->FindAliasTargets("one@example.test")->empty());
  batch.pop_back();
  ASSERT_TRUE(store_->AddAliases(batch).ok());
  EXPECT_EQ(store_->FindAliasTargets("two@example.test")->size(), 2u);
  auto stats = store_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->domains, 1);
  EXPECT_EQ(stats->aliases, 3);  // @example.test, one@, two@
}

TEST_F(StoreTest, DeliveryStoresOneBlobForAllRecipients) {
  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  ASSERT_TRUE(store_->AddAccount("a@example.test", "h", 0, 0).ok());
  ASSERT_TRUE(store_->AddAccount("b@example.test", "h", 0, 0).ok());
  std::string content = "Subject: test\r\n\r\nhello\r\n";
  QueueEntry e = Queue("Q1", content, {"a@example.test", "b@example.test"});
  ASSERT_EQ(e.recipients.size(), 2u);

  auto out = store_->DeliverLocal(Plan(e));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  for (const auto& o : *out) {
    EXPECT_EQ(o.kind, DeliveryOutcome::kDelivered) << o.error;
    EXPECT_EQ(o.uid, 1u);
  }
  // The queue entry is gone; both messages read back with their own prefix.
  EXPECT_FALSE(store_->GetQueueEntry("Q1")->has_value());
  for (const char* who : {"a@example.test", "b@example.test"}) {
    MailboxInfo inbox = Inbox(who);
    EXPECT_EQ(inbox.messages, 1u);
    EXPECT_EQ(inbox.unseen, 1u);
    EXPECT_EQ(inbox.uidnext, 2u);
    auto acct = *store_->FindAccount(who);
    auto msg = store_->FindMessage(acct->id, "INBOX", 1);
    ASSERT_TRUE(msg.ok() && msg->has_value());
    auto text = store_->ReadMessage(**msg);
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(*text, std::string("Delivered-To: ") + who + "\r\n" + content);
    EXPECT_EQ((*msg)->size, text->size());
    EXPECT_EQ(acct->used_messages, 1u);
    EXPECT_EQ(acct->used_bytes, text->size());
  }
  int files = 0;
  ASSERT_TRUE(store_->blobs().ForEach([&](const std::string&, int64_t) { ++files; }).ok());
  EXPECT_EQ(files, 1) << "one stored body for both recipients";

  // Delivering the same plan again does nothing (the recipients are done).
  auto again = store_->DeliverLocal(Plan(e));
  ASSERT_TRUE(again.ok());
  for (const auto& o : *again) EXPECT_EQ(o.kind, DeliveryOutcome::kSkipped);
  EXPECT_EQ(Inbox("a@example.test").messages, 1u);

  // Removing both accounts releases the blob.
  ASSERT_TRUE(store_->RemoveAccount("a@example.test").ok());
  ASSERT_TRUE(store_->RemoveAccount("b@example.test").ok());
  files = 0;
  ASSERT_TRUE(store_->blobs().ForEach([&](const std::string&, int64_t) { ++files; }).ok());
  EXPECT_EQ(files, 0);
}

TEST_F(StoreTest, UidsAndModseqsIncrease) {
  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  ASSERT_TRUE(store_->AddAccount("a@example.test", "h", 0, 0).ok());
  uint64_t last_modseq = 0;
  for (int i = 1; i <= 5; ++i) {
    QueueEntry e = Queue("Q" + std::to_string(i), "m" + std::to_string(i), {"a@example.test"});
    auto out = store_->DeliverLocal(Plan(e));
    ASSERT_TRUE(out.ok());
    EXPECT_EQ((*out)[0].uid, static_cast<uint32_t>(i));
    EXPECT_GT((*out)[0].modseq, last_modseq);
    last_modseq = (*out)[0].modseq;
  }
  MailboxInfo inbox = Inbox("a@example.test");
  EXPECT_EQ(inbox.messages, 5u);
  EXPECT_EQ(inbox.highestmodseq, last_modseq);
}

TEST_F(StoreTest, QuotaDefersThenFails) {
  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  ASSERT_TRUE(store_->AddAccount("small@example.test", "h", 0, 1).ok());  // one message
  QueueEntry first = Queue("Q1", "first", {"small@example.test"});
  ASSERT_EQ((*store_->DeliverLocal(Plan(first)))[0].kind, DeliveryOutcome::kDelivered);

  QueueEntry second = Queue("Q2", "second", {"small@example.test"});
  auto out = store_->DeliverLocal(Plan(second));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].kind, DeliveryOutcome::kDeferred);
  EXPECT_NE((*out)[0].error.find("4.2.2"), std::string::npos);
  auto entry = store_->GetQueueEntry("Q2");
  ASSERT_TRUE(entry.ok() && entry->has_value());
  const auto& r = (*entry)->recipients[0];
  EXPECT_EQ(r.state, RecipientState::kPending);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(r.next_attempt, clock_.NowUnix() + 60);
  EXPECT_NE(r.last_error.find("full"), std::string::npos);

  // Not due yet (and tried once, so not "untried" either); due after the
  // retry time; then the last chance fails it.
  EXPECT_TRUE(store_->LoadDueLocal(clock_.NowUnix(), false, 10)->empty());
  EXPECT_TRUE(store_->LoadDueLocal(clock_.NowUnix(), true, 10)->empty());
  EXPECT_EQ(store_->LoadDueLocal(clock_.NowUnix() + 60, false, 10)->size(), 1u);
  auto last = store_->DeliverLocal(Plan(**entry, /*last_chance=*/true));
  ASSERT_TRUE(last.ok());
  EXPECT_EQ((*last)[0].kind, DeliveryOutcome::kFailed);
  EXPECT_NE((*last)[0].error.find("5.2.2"), std::string::npos);
  auto failed = store_->LoadFailed(10);
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].recipients.size(), 1u);

  // Queuing the bounce marks the recipient notified and retires the entry.
  auto bounce_blob = store_->blobs().Put("bounce");
  QueueEntry bounce;
  bounce.id = "B1";
  bounce.created = clock_.NowUnix();
  bounce.blob = bounce_blob->hash;
  bounce.size = bounce_blob->size;
  bounce.kind = "bounce";
  QueueRecipient to;
  to.address = "sender@remote.test";
  to.local = false;
  bounce.recipients.push_back(to);
  ASSERT_TRUE(store_->QueueBounce(bounce, {(*failed)[0].recipients[0].id}).ok());
  EXPECT_FALSE(store_->GetQueueEntry("Q2")->has_value());
  EXPECT_TRUE(store_->GetQueueEntry("B1")->has_value());
  EXPECT_TRUE(store_->LoadFailed(10)->empty());
}

// A delivery that hits an error (here a trigger that aborts the insert)
// counts as an attempt and is retried later, and fails on its last chance;
// it must neither stay due at once (a busy loop) nor stay queued for ever.
TEST_F(StoreTest, DeliveryErrorIsAnAttempt) {
  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  ASSERT_TRUE(store_->AddAccount("a@example.test", "h", 0, 0).ok());
  auto* sqlite = dynamic_cast<SqliteStore*>(store_.get());
  ASSERT_NE(sqlite, nullptr);
  std::promise<Status> made;
  sqlite->SubmitWrite(
      [](Database& db, WriteEffects&) {
        return db.Exec(
            "CREATE TEMP TRIGGER broken BEFORE INSERT ON messages "
            "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
      },
      [&](Status s) { made.set_value(s); });
  ASSERT_TRUE(made.get_future().get().ok());

  QueueEntry e = Queue("QE", "body", {"a@example.test"});
  auto out = store_->DeliverLocal(Plan(e));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].kind, DeliveryOutcome::kDeferred);
  EXPECT_NE((*out)[0].error.find("451 4.3.0"), std::string::npos) << (*out)[0].error;
  auto entry = store_->GetQueueEntry("QE");
  ASSERT_TRUE(entry.ok() && entry->has_value());
  const QueueRecipient& r = (*entry)->recipients[0];
  EXPECT_EQ(r.state, RecipientState::kPending);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(r.next_attempt, clock_.NowUnix() + 60);
  EXPECT_NE(r.last_error.find("451 4.3.0"), std::string::npos) << r.last_error;
  EXPECT_EQ(r.last_error.find("injected"), std::string::npos) << "internals stay in the log";
  EXPECT_TRUE(store_->LoadDueLocal(clock_.NowUnix(), false, 10)->empty()) << "not due at once";

  auto last = store_->DeliverLocal(Plan(**entry, /*last_chance=*/true));
  ASSERT_TRUE(last.ok());
  EXPECT_EQ((*last)[0].kind, DeliveryOutcome::kFailed);
  auto failed = store_->LoadFailed(10);
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].recipients[0].attempts, 2);
  EXPECT_NE((*failed)[0].recipients[0].last_error.find("554 5.3.0"), std::string::npos);
}

TEST_F(StoreTest, SmallBodiesLiveInlineLargeOnesInFiles) {
  auto small = store_->EncodeBody("Subject: small\r\n\r\nhi\r\n");
  ASSERT_TRUE(small.ok());
  EXPECT_FALSE(small->in_file);
  std::string big;
  uint32_t x = 1;
  for (int i = 0; i < 300000; ++i) {
    x = x * 1103515245 + 12345;  // incompressible enough
    big.push_back(static_cast<char>(x >> 16));
  }
  auto large = store_->EncodeBody(big);
  ASSERT_TRUE(large.ok());
  EXPECT_TRUE(large->in_file);
  ASSERT_TRUE(store_->WriteBodyFile(*large).ok());
  store_->blobs().Unpin(large->ref.hash);
  EXPECT_TRUE(store_->blobs().Get(large->ref.hash).ok());

  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  QueueEntry e;
  e.id = "INLINE";
  e.blob = small->ref.hash;
  e.size = small->ref.size;
  e.inline_body = small->compressed;
  QueueRecipient r;
  r.address = "a@example.test";
  e.recipients.push_back(r);
  ASSERT_TRUE(store_->Enqueue(e).ok());
  EXPECT_FALSE(store_->blobs().Get(small->ref.hash).ok()) << "no file for an inline body";
  auto read = store_->ReadBody(small->ref.hash);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "Subject: small\r\n\r\nhi\r\n");
  EXPECT_EQ(store_->ReadBody(std::string(64, 'a')).status().code(), StatusCode::kDataLoss);
}

TEST_F(StoreTest, ParseIsKeptWithTheBodyAndGoesWithIt) {
  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  auto body = store_->EncodeBody("Subject: parsed\r\n\r\nhi\r\n");
  ASSERT_TRUE(body.ok());
  QueueEntry e;
  e.id = "PARSED";
  e.blob = body->ref.hash;
  e.size = body->ref.size;
  e.inline_body = body->compressed;
  e.parse = MessageParse{"NIL \"parsed\"", "\"text\" \"plain\"", "\"text\" \"plain\" x"};
  QueueRecipient r;
  r.address = "a@example.test";
  e.recipients.push_back(r);
  ASSERT_TRUE(store_->Enqueue(e).ok());
  auto read = store_->ReadParse(body->ref.hash);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->envelope, "NIL \"parsed\"");
  EXPECT_EQ((*read)->body, "\"text\" \"plain\"");
  EXPECT_EQ((*read)->body_structure, "\"text\" \"plain\" x");
  // A body cached once keeps its first parse.
  ASSERT_TRUE(store_->SaveParse(body->ref.hash, MessageParse{"other", "b", "bs"}).ok());
  EXPECT_EQ((*store_->ReadParse(body->ref.hash))->envelope, "NIL \"parsed\"");

  // A body stored without one (older mail) gets one later.
  auto plain = store_->EncodeBody("Subject: later\r\n\r\nhi\r\n");
  ASSERT_TRUE(plain.ok());
  QueueEntry f = e;
  f.id = "LATER";
  f.blob = plain->ref.hash;
  f.size = plain->ref.size;
  f.inline_body = plain->compressed;
  f.parse.reset();
  ASSERT_TRUE(store_->Enqueue(f).ok());
  EXPECT_FALSE(store_->ReadParse(plain->ref.hash)->has_value());
  ASSERT_TRUE(store_->SaveParse(plain->ref.hash, MessageParse{"env", "b", "bs"}).ok());
  EXPECT_EQ((*store_->ReadParse(plain->ref.hash))->envelope, "env");
  EXPECT_EQ(store_->SaveParse(std::string(64, 'f'), MessageParse{}).code(), StatusCode::kNotFound);

  // When the last reference goes, so does the parse.
  ASSERT_TRUE(store_->RemoveQueueEntry("PARSED").ok());
  ASSERT_TRUE(store_->RemoveQueueEntry("LATER").ok());
  EXPECT_FALSE(store_->ReadParse(body->ref.hash)->has_value());
  auto db = Database::Open((dir_ / "postern.db").string(), false);
  ASSERT_TRUE(db.ok());
  auto count = (*db)->Prepare("SELECT count(*) FROM parses");
  ASSERT_TRUE(count.ok() && count->Step());
  EXPECT_EQ(count->Int(0), 0);
}

TEST_F(StoreTest, AcceptDeliversInTheSameTransaction) {
  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  ASSERT_TRUE(store_->AddAccount("a@example.test", "h", 0, 0).ok());
  ASSERT_TRUE(store_->AddAccount("full@example.test", "h", 0, 1).ok());
  QueueEntry first = Queue("F1", "fills the quota", {"full@example.test"});
  ASSERT_EQ((*store_->DeliverLocal(Plan(first)))[0].kind, DeliveryOutcome::kDelivered);

  auto accept = [&](const std::string& id, const std::vector<std::string>& rcpts) {
    auto [e, now] = ToAccept(id, "Subject: accept\r\n\r\nbody\r\n", rcpts);
    std::promise<std::pair<Status, std::vector<DeliveryOutcome>>> p;
    store_->AcceptAsync(e, now, [&p](Status s, QueueEntry, std::vector<DeliveryOutcome> o) {
      p.set_value({s, o});
    });
    return p.get_future().get();
  };

  auto [ok, outcomes] = accept("A1", {"a@example.test"});
  ASSERT_TRUE(ok.ok()) << ok.ToString();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].kind, DeliveryOutcome::kDelivered);
  EXPECT_FALSE(store_->GetQueueEntry("A1")->has_value()) << "nothing left to do: not queued";
  EXPECT_EQ(Inbox("a@example.test").messages, 1u);

  auto [ok2, mixed] = accept("A2", {"a@example.test", "full@example.test"});
  ASSERT_TRUE(ok2.ok());
  EXPECT_EQ(mixed[0].kind, DeliveryOutcome::kDelivered);
  EXPECT_EQ(mixed[1].kind, DeliveryOutcome::kDeferred);
  auto left = store_->GetQueueEntry("A2");
  ASSERT_TRUE(left.ok() && left->has_value()) << "the full mailbox keeps the entry queued";
  ASSERT_EQ((*left)->recipients.size(), 1u) << "only what is left to do is queued";
  EXPECT_EQ((*left)->recipients[0].address, "full@example.test");
  EXPECT_EQ((*left)->recipients[0].state, RecipientState::kPending);
  EXPECT_EQ((*left)->recipients[0].attempts, 1);
  EXPECT_EQ((*left)->recipients[0].next_attempt, clock_.NowUnix() + 60);
  EXPECT_NE((*left)->recipients[0].last_error.find("4.2.2"), std::string::npos);
  // Three stored messages (F1, A1, A2 to a), two bodies: A1 and A2 share one.
  auto stats = store_->Stats();
  EXPECT_EQ(stats->messages, 3);
  EXPECT_EQ(stats->blobs, 2);
}

// A caller that may block commits its message on its own thread when the
// writer is idle; while the writer is busy, the job waits its turn there.
TEST_F(StoreTest, AcceptMayCommitOnTheCallersThreadWhenTheWriterIsIdle) {
  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  ASSERT_TRUE(store_->AddAccount("a@example.test", "h", 0, 0).ok());
  auto entry = [&](const std::string& id) {
    return ToAccept(id, "Subject: " + id + "\r\n\r\nhi\r\n", {"a@example.test"});
  };
  const auto caller = std::this_thread::get_id();
  std::thread::id ran_on;
  Status status = Internal("not done");
  auto [e1, d1] = entry("I1");
  store_->AcceptAsync(
      e1, d1,
      [&](Status s, QueueEntry, std::vector<DeliveryOutcome>) {
        ran_on = std::this_thread::get_id();
        status = s;
      },
      /*may_block=*/true);
  EXPECT_TRUE(status.ok()) << "committed before AcceptAsync returned: " << status.ToString();
  EXPECT_EQ(ran_on, caller);
  EXPECT_EQ(Inbox("a@example.test").messages, 1u);

  // Writer busy: the job is queued, not run here.
  auto& sqlite = static_cast<SqliteStore&>(*store_);
  std::promise<void> gate;
  std::promise<void> holding;
  auto gate_future = gate.get_future().share();
  sqlite.SubmitWrite(
      [&holding, gate_future](Database&, WriteEffects&) {
        holding.set_value();
        gate_future.wait();
        return Status::Ok();
      },
      [](Status) {});
  holding.get_future().wait();
  std::promise<std::thread::id> second;
  auto [e2, d2] = entry("I2");
  store_->AcceptAsync(
      e2, d2,
      [&](Status s, QueueEntry, std::vector<DeliveryOutcome>) {
        EXPECT_TRUE(s.ok()) << s.ToString();
        second.set_value(std::this_thread::get_id());
      },
      /*may_block=*/true);
  auto second_future = second.get_future();
  EXPECT_EQ(second_future.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout)
      << "ran while the writer was busy";
  gate.set_value();
  EXPECT_NE(second_future.get(), caller);
  EXPECT_EQ(Inbox("a@example.test").messages, 2u);
}

// The writer never checkpoints on its commit path; the checkpoint thread
// copies the WAL into the database once it has grown.
TEST_F(StoreTest, WalIsCheckpointedInTheBackground) {
  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  const auto db = dir_ / "postern.db";
  const auto before = std::filesystem::file_size(db);
  std::string filler;
  uint32_t x = 7;
  for (int i = 0; i < 20000; ++i) {
    x = x * 1103515245 + 12345;
    filler.push_back(static_cast<char>('a' + (x >> 16) % 26));
  }
  for (int i = 0; i < 1500; ++i) {  // about 18 MB: past the checkpoint threshold (16 MB)
    auto body = store_->EncodeBody(std::to_string(i) + filler);
    ASSERT_TRUE(body.ok() && !body->in_file);
    QueueEntry e;
    e.id = "W" + std::to_string(i);
    e.blob = body->ref.hash;
    e.size = body->ref.size;
    e.inline_body = body->compressed;
    ASSERT_TRUE(store_->Enqueue(e).ok());
  }
  // Up to 30 s: the checkpoint writes and fsyncs about 18 MB, which a disk
  // still flushing a build's output can take seconds to do.
  bool grown = false;
  for (int i = 0; i < 600 && !grown; ++i) {
    grown = std::filesystem::file_size(db) > before + (8u << 20);
    if (!grown) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(grown) << "the WAL was not checkpointed into " << db;
}

// In no-wait mode a read that would have to wait fails at once (here: no
// idle read connection, and opening one may wait), so an I/O thread can fall
// back to the blocking pool instead of stalling. SQLite's own waits are cut
// by a busy timeout of 0 in this mode.
TEST_F(StoreTest, NoWaitReadsFailFastInsteadOfWaiting) {
  Reopen();  // no read connection yet
  {
    ScopedNoWait no_wait;
    EXPECT_TRUE(ScopedNoWait::active());
    auto r = store_->IsLocalDomain("example.test");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  }
  EXPECT_FALSE(ScopedNoWait::active());
  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  EXPECT_TRUE(*store_->IsLocalDomain("example.test")) << "a normal read opens a connection";
  ScopedNoWait no_wait;
  auto again = store_->IsLocalDomain("example.test");
  ASSERT_TRUE(again.ok()) << "the idle connection serves no-wait reads";
  EXPECT_TRUE(*again);
}

TEST_F(StoreTest, MissingAccountFailsPermanently) {
  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  QueueEntry e = Queue("Q1", "x", {"gone@example.test"});
  auto out = store_->DeliverLocal(Plan(e));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].kind, DeliveryOutcome::kFailed);
  EXPECT_NE((*out)[0].error.find("5.1.1"), std::string::npos);
}

TEST_F(StoreTest, QueueAdministration) {
  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  Queue("Q1", "one", {"a@example.test"});
  Queue("Q2", "two", {"b@example.test", "c@example.test"});
  auto list = store_->ListQueue();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].recipients.size(), 2u);
  EXPECT_EQ(*store_->FlushQueue(), 3);
  EXPECT_EQ(store_->LoadDueLocal(clock_.NowUnix(), false, 10)->size(), 2u);
  auto next = store_->NextLocalAttempt();
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ(**next, 0);
  ASSERT_TRUE(store_->RemoveQueueEntry("Q1").ok());
  EXPECT_EQ(store_->RemoveQueueEntry("Q1").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ListQueue()->size(), 1u);
}

TEST_F(StoreTest, SurvivesReopen) {
  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  ASSERT_TRUE(store_->AddAccount("a@example.test", "h", 0, 0).ok());
  Queue("Q1", "kept", {"a@example.test"});
  Reopen();
  EXPECT_TRUE(store_->LoadDueLocal(clock_.NowUnix(), false, 10)->empty()) << "not due yet";
  auto due = store_->LoadDueLocal(clock_.NowUnix(), true, 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u) << "acknowledged but never tried: delivered after a restart";
  auto out = store_->DeliverLocal(Plan((*due)[0]));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].kind, DeliveryOutcome::kDelivered);
}

// Many threads enqueue at once: every acknowledged entry is there, and the
// writer batches them (fewer transactions than jobs is not observable here,
// but all must commit).
TEST_F(StoreTest, ConcurrentEnqueue) {
  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  constexpr int kThreads = 8, kPerThread = 25;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string id = "T" + std::to_string(t) + "-" + std::to_string(i);
        auto ref = store_->blobs().Put("body " + id);
        if (!ref.ok()) continue;
        QueueEntry e;
        e.id = id;
        e.blob = ref->hash;
        e.size = ref->size;
        QueueRecipient r;
        r.address = "a@example.test";
        e.recipients.push_back(r);
        if (store_->Enqueue(e).ok()) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(store_->ListQueue()->size(), static_cast<size_t>(kThreads * kPerThread));
}

// A failing job in a batch does not take the others down with it.
TEST_F(StoreTest, FailedJobDoesNotAbortOthers) {
  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  Queue("DUP", "one", {"a@example.test"});
  auto ref = store_->blobs().Put("two");
  QueueEntry dup;
  dup.id = "DUP";  // primary key violation
  dup.blob = ref->hash;
  dup.size = ref->size;
  EXPECT_FALSE(store_->Enqueue(dup).ok());
  Queue("OK", "three", {"a@example.test"});
  EXPECT_EQ(store_->ListQueue()->size(), 2u);
}

// A job alone in its transaction runs without a savepoint: its failure
// still undoes everything it wrote, and the next job is unaffected.
TEST_F(StoreTest, FailedJobAloneLeavesNothing) {
  std::promise<Status> failed;
  static_cast<SqliteStore&>(*store_).SubmitWrite(
      [](Database& db, WriteEffects&) -> Status {
        PT_RETURN_IF_ERROR(db.Exec("INSERT INTO domains(name, created) VALUES('x.test', 1)"));
        return Internal("changed its mind");
      },
      [&](Status s) { failed.set_value(s); });
  EXPECT_EQ(failed.get_future().get().code(), StatusCode::kInternal);
  EXPECT_FALSE(*store_->IsLocalDomain("x.test"));
  ASSERT_TRUE(store_->AddDomain("y.test").ok());
  EXPECT_TRUE(*store_->IsLocalDomain("y.test"));
}

// A directory view answers from one snapshot, and gives its connection back
// without it: later lookups see later changes.
TEST_F(StoreTest, DirectoryViewIsOneSnapshot) {
  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  ASSERT_TRUE(store_->AddAccount("a@example.test", "h", 0, 0).ok());
  {
    auto view = store_->DirectoryView();
    ASSERT_TRUE(view.ok());
    EXPECT_TRUE(*(*view)->IsLocalDomain("example.test"));
    EXPECT_TRUE((*view)->FindAccount("a@example.test")->has_value());
    ASSERT_TRUE(store_->AddAlias("x@example.test", {"a@example.test"}).ok());
    EXPECT_TRUE((*view)->FindAliasTargets("x@example.test")->empty())
        << "a view does not see what was committed after its first lookup";
  }
  EXPECT_EQ(*store_->FindAliasTargets("x@example.test"),
            std::vector<std::string>{"a@example.test"});
  auto again = store_->DirectoryView();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->FindAliasTargets("x@example.test")->size(), 1u);
}

// When SQLite rolls a batch's transaction back on its own (disk full, I/O
// error; simulated here by a job that ends it), no job of that transaction may
// be reported as done, and later jobs must get a transaction of their own.
TEST_F(StoreTest, AbortedTransactionFailsEveryJobInIt) {
  SqliteStoreOptions o;
  o.data_dir = (dir_ / "raw").string();
  auto opened = SqliteStore::Open(o);
  ASSERT_TRUE(opened.ok());
  SqliteStore& store = **opened;
  std::promise<void> gate;
  auto gate_future = gate.get_future().share();
  std::vector<std::promise<Status>> results(4);
  auto add = [](const char* name) {
    return [name](Database& db, WriteEffects&) -> Status {
      return db.Exec(std::string("INSERT INTO domains(name, created) VALUES('") + name + "', 1)");
    };
  };
  store.SubmitWrite(
      [gate_future](Database&, WriteEffects&) {
        gate_future.wait();  // hold the writer until the next jobs are queued together
        return Status::Ok();
      },
      [&](Status s) { results[0].set_value(s); });
  store.SubmitWrite(add("a.test"), [&](Status s) { results[1].set_value(s); });
  store.SubmitWrite(
      [](Database& db, WriteEffects&) -> Status {
        (void)db.Exec("INSERT INTO domains(name, created) VALUES('b.test', 1)");
        (void)db.Exec("ROLLBACK");  // what SQLite does itself on SQLITE_FULL
        return Unavailable("disk full");
      },
      [&](Status s) { results[2].set_value(s); });
  store.SubmitWrite(add("c.test"), [&](Status s) { results[3].set_value(s); });
  gate.set_value();
  std::vector<Status> got;
  for (auto& r : results) got.push_back(r.get_future().get());
  EXPECT_FALSE(got[1].ok()) << "a.test was rolled back with the transaction";
  EXPECT_FALSE(got[2].ok());
  EXPECT_TRUE(got[3].ok()) << got[3].ToString();
  EXPECT_FALSE(*store.IsLocalDomain("a.test"));
  EXPECT_FALSE(*store.IsLocalDomain("b.test"));
  EXPECT_TRUE(*store.IsLocalDomain("c.test")) << "the job after the abort ran in a new transaction";
}

TEST_F(StoreTest, GarbageCollectionRemovesOrphanBlobs) {
  auto orphan = store_->blobs().Put("orphan");
  ASSERT_TRUE(orphan.ok());
  store_->blobs().Unpin(orphan->hash);
  ASSERT_TRUE(store_->AddDomain("example.test").ok());
  Queue("Q1", "referenced", {"a@example.test"});
  auto removed = store_->CollectGarbage(0);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 1);
  EXPECT_FALSE(store_->blobs().Get(orphan->hash).ok());
  auto entry = store_->GetQueueEntry("Q1");
  EXPECT_TRUE(store_->blobs().Get((*entry)->blob).ok());
}

}  // namespace
}  // namespace postern::store
