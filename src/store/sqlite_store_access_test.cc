// The mail-access operations of SqliteStore (sqlite_store_access.cc) and its
// full-text index (sqlite_store_text.cc).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "base/clock.h"
#include "store/sqlite_store.h"

namespace postern::store {
namespace {

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("access-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    SqliteStoreOptions o;
    o.data_dir = dir_.string();
    o.clock = &clock_;
    auto s = OpenSqliteStore(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->AddDomain("example.test").ok());
    auto account = store_->AddAccount("u@example.test", "x", 0, 0);
    ASSERT_TRUE(account.ok()) << account.status().ToString();
    account_ = account->id;
    inbox_ = Mailbox("INBOX").id;
  }
  void TearDown() override {
    db_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  MailboxInfo Mailbox(const std::string& name) {
    auto m = store_->GetMailbox(account_, name);
    EXPECT_TRUE(m.ok() && m->has_value()) << name;
    return m.ok() && m->has_value() ? **m : MailboxInfo{};
  }

  AppendResult Add(int64_t mailbox, const std::string& content, uint32_t flags = 0,
                   std::vector<std::string> keywords = {},
                   std::optional<MessageText> text = std::nullopt) {
    auto body = store_->EncodeBody(content);
    EXPECT_TRUE(body.ok());
    AppendOptions o;
    o.flags = flags;
    o.keywords = std::move(keywords);
    o.internal_date = 1'700'000'000;
    o.parse = MessageParse{"env", "body", "bodystructure", std::move(text)};
    auto r = store_->Append(mailbox, *body, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : AppendResult{};
  }

  std::vector<uint32_t> Uids(int64_t mailbox) {
    std::vector<uint32_t> out;
    auto list = store_->ListMessages(mailbox, 0);
    EXPECT_TRUE(list.ok());
    if (!list.ok()) return out;
    for (const auto& m : *list) out.push_back(m.uid);
    return out;
  }

  // Appends `content` to INBOX with its searchable text; the message's id.
  int64_t AddText(const std::string& content, std::optional<MessageText> text,
                  const std::string& mailbox = "INBOX") {
    AppendResult r = Add(Mailbox(mailbox).id, content, 0, {}, std::move(text));
    auto m = store_->FindMessage(account_, mailbox, r.uid);
    EXPECT_TRUE(m.ok() && m->has_value());
    return m.ok() && m->has_value() ? (*m)->id : 0;
  }

  std::vector<int64_t> FindText(TextField field, std::string_view needle) {
    auto r = store_->SearchText(inbox_, field, needle);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    EXPECT_TRUE(r->unindexed.empty());
    return r->matching;
  }

  // A connection of the test's own to the store's database.
  Database& Db() {
    if (!db_) {
      auto db = Database::Open((dir_ / "postern.db").string(), false);
      EXPECT_TRUE(db.ok());
      db_ = std::move(*db);
    }
    return *db_;
  }
  int64_t Count(const char* sql) {
    auto q = Db().Prepare(sql);
    EXPECT_TRUE(q.ok() && q->Step()) << sql;
    return q.ok() ? q->Int(0) : -1;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
  FakeClock clock_{1'700'000'000};
  std::unique_ptr<Store> store_;
  int64_t account_ = 0;
  int64_t inbox_ = 0;
};

TEST_F(AccessTest, AppendListAndRead) {
  MailboxInfo before = Mailbox("INBOX");
  AppendResult a = Add(inbox_, "Subject: one\r\n\r\n1\r\n");
  AppendResult b = Add(inbox_, "Subject: two\r\n\r\n2\r\n", kFlagSeen, {"$Label1", "$label1"});
  EXPECT_EQ(a.uidvalidity, before.uidvalidity);
  EXPECT_EQ(b.uid, a.uid + 1);
  EXPECT_GT(b.modseq, a.modseq);
  MailboxInfo after = Mailbox("inbox");  // any case
  EXPECT_EQ(after.messages, 2u);
  EXPECT_EQ(after.unseen, 1u);
  EXPECT_EQ(after.uidnext, b.uid + 1);
  EXPECT_EQ(after.highestmodseq, b.modseq);
  auto list = store_->ListMessages(inbox_, 0);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].flags, kFlagSeen);
  EXPECT_EQ((*list)[1].keywords, "$Label1") << "keywords are kept once";
  EXPECT_EQ((*list)[1].internal_date, 1'700'000'000);
  auto changed = store_->ListMessages(inbox_, a.modseq);
  ASSERT_EQ(changed->size(), 1u);
  EXPECT_EQ((*changed)[0].uid, b.uid);
  auto content = store_->ReadMessageById((*list)[0].id);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, "Subject: one\r\n\r\n1\r\n");
  auto parse = store_->ReadParse((*list)[0].blob);
  ASSERT_TRUE(parse.ok() && parse->has_value());
  EXPECT_EQ((*parse)->body_structure, "bodystructure");
}

// What a session catching up asks for: only the messages of its mailbox
// changed after a MODSEQ, in UID order even when the MODSEQs are not, read
// from the (mailbox, modseq) index rather than by testing every row.
TEST_F(AccessTest, ChangedSinceReadsTheModSeqIndexInUidOrder) {
  AppendResult a = Add(inbox_, "Subject: a\r\n\r\na\r\n");
  AppendResult b = Add(inbox_, "Subject: b\r\n\r\nb\r\n");
  AppendResult c = Add(inbox_, "Subject: c\r\n\r\nc\r\n");
  auto other = store_->CreateMailbox(account_, "Other", "");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  Add(other->id, "Subject: elsewhere\r\n\r\nx\r\n");
  FlagChange seen;
  seen.mode = FlagChange::kAdd;
  seen.flags = kFlagSeen;
  auto r = store_->ChangeFlags(inbox_, {a.uid}, seen);  // a now has the highest MODSEQ
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto changed = store_->ListMessages(inbox_, b.modseq);
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  std::vector<uint32_t> uids;
  for (const auto& m : *changed) uids.push_back(m.uid);
  EXPECT_EQ(uids, (std::vector<uint32_t>{a.uid, c.uid}));
  EXPECT_EQ((*changed)[0].flags, kFlagSeen);
  EXPECT_EQ(store_->ListMessages(inbox_, r->highestmodseq)->size(), 0u);

  auto plan = Db().Prepare(
      "EXPLAIN QUERY PLAN SELECT id FROM messages INDEXED BY messages_by_modseq "
      "WHERE mailbox_id = 1 AND modseq > 5");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::string detail;
  while (plan->Step()) detail += plan->Text(3) + "\n";
  EXPECT_NE(detail.find("INDEX messages_by_modseq (mailbox_id=? AND modseq>?)"), std::string::npos)
      << detail;
}

TEST_F(AccessTest, AppendRespectsTheQuota) {
  ASSERT_TRUE(store_->SetQuota("u@example.test", 0, 1).ok());
  Add(inbox_, "Subject: one\r\n\r\n1\r\n");
  auto body = store_->EncodeBody("Subject: two\r\n\r\n2\r\n");
  auto r = store_->Append(inbox_, *body, AppendOptions{});
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(Mailbox("INBOX").messages, 1u);
}

// RFC 3502: a MULTIAPPEND batch is one transaction with consecutive UIDs.
TEST_F(AccessTest, AppendMessagesStoresABatchWhole) {
  std::vector<Store::NewMessage> batch;
  for (std::string subject : {"one", "two", "three"}) {
    auto body = store_->EncodeBody("Subject: " + subject + "\r\n\r\n" + subject + "\r\n");
    ASSERT_TRUE(body.ok());
    AppendOptions o;
    o.internal_date = 1'700'000'000;
    o.flags = subject == "two" ? uint32_t{kFlagSeen} : 0u;
    o.parse = MessageParse{"env", "body", "bs", MessageText{"", subject}, "preview " + subject};
    batch.push_back({*body, o});
  }
  MailboxInfo before = Mailbox("INBOX");
  auto r = store_->AppendMessages(inbox_, batch);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*r)[i].uid, before.uidnext + i);
    EXPECT_EQ((*r)[i].uidvalidity, before.uidvalidity);
  }
  MailboxInfo after = Mailbox("INBOX");
  EXPECT_EQ(after.messages, 3u);
  EXPECT_EQ(after.unseen, 2u);
  EXPECT_EQ(after.uidnext, before.uidnext + 3);
  EXPECT_EQ(after.highestmodseq, (*r)[2].modseq);
  EXPECT_EQ(FindText(TextField::kBody, "three").size(), 1u) << "indexed in the same transaction";
  auto list = store_->ListMessages(inbox_, 0);
  ASSERT_TRUE(list.ok());
  auto parse = store_->ReadParse((*list)[1].blob);
  ASSERT_TRUE(parse.ok() && parse->has_value());
  EXPECT_EQ((*parse)->preview, "preview two");
}

// Over quota at the third message of three: nothing is kept, not even the
// first two messages, their bodies or their index rows.
TEST_F(AccessTest, AppendMessagesOverQuotaKeepsNothing) {
  Add(inbox_, "Subject: old\r\n\r\nold\r\n", 0, {}, MessageText{"", "old"});
  ASSERT_TRUE(store_->SetQuota("u@example.test", 0, 3).ok());
  std::vector<Store::NewMessage> batch;
  for (std::string subject : {"one", "two", "three"}) {
    auto body = store_->EncodeBody("Subject: " + subject + "\r\n\r\nwords " + subject + "\r\n");
    ASSERT_TRUE(body.ok());
    AppendOptions o;
    o.parse = MessageParse{"env", "body", "bs", MessageText{"", "words " + subject}};
    batch.push_back({*body, o});
  }
  MailboxInfo before = Mailbox("INBOX");
  auto r = store_->AppendMessages(inbox_, batch);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  MailboxInfo after = Mailbox("INBOX");
  EXPECT_EQ(after.messages, 1u);
  EXPECT_EQ(after.uidnext, before.uidnext);
  EXPECT_EQ(after.highestmodseq, before.highestmodseq);
  EXPECT_TRUE(FindText(TextField::kBody, "words").empty());
  auto stats = store_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->blobs, 1) << "no body of the batch stays";
  auto account = store_->FindAccount("u@example.test");
  ASSERT_TRUE(account.ok() && account->has_value());
  EXPECT_EQ((*account)->used_messages, 1u);
  // Two of them fit.
  batch.pop_back();
  EXPECT_TRUE(store_->AppendMessages(inbox_, batch).ok());
}

// RFC 8474: every mailbox has a MAILBOXID ("F" + 24 hex digits), unique,
// kept by RENAME; a renamed INBOX keeps its own and the new mailbox gets
// another.
TEST_F(AccessTest, MailboxIdsAreRandomUniqueAndSurviveRename) {
  auto list = store_->ListMailboxes(account_);
  ASSERT_TRUE(list.ok());
  std::set<std::string> ids;
  for (const MailboxInfo& m : *list) {
    EXPECT_EQ(m.object_id.size(), 25u) << m.name;
    EXPECT_EQ(m.object_id[0], 'F');
    EXPECT_EQ(m.object_id.find_first_not_of("0123456789abcdef", 1), std::string::npos);
    ids.insert(m.object_id);
  }
  EXPECT_EQ(ids.size(), list->size());
  auto work = store_->CreateMailbox(account_, "Work", "");
  ASSERT_TRUE(work.ok());
  EXPECT_EQ(work->object_id.size(), 25u);
  EXPECT_EQ(ids.count(work->object_id), 0u);
  ASSERT_TRUE(store_->CreateMailbox(account_, "Work/Sub", "").ok());
  const std::string sub = Mailbox("Work/Sub").object_id;
  ASSERT_TRUE(store_->RenameMailbox(account_, "Work", "Job").ok());
  EXPECT_EQ(Mailbox("Job").object_id, work->object_id);
  EXPECT_EQ(Mailbox("Job/Sub").object_id, sub);
  const std::string inbox = Mailbox("INBOX").object_id;
  ASSERT_TRUE(store_->RenameMailbox(account_, "INBOX", "Old").ok());
  EXPECT_EQ(Mailbox("INBOX").object_id, inbox);
  EXPECT_EQ(Mailbox("Old").object_id.size(), 25u);
  EXPECT_NE(Mailbox("Old").object_id, inbox);
  // Deleted and created again: a new mailbox, a new id.
  ASSERT_TRUE(store_->DeleteMailbox(account_, "Job").ok());
  auto again = store_->CreateMailbox(account_, "Job", "");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->object_id, work->object_id);
}

// RFC 8474 §5.1: each new message gets its own EMAILID; COPY and MOVE keep it.
TEST_F(AccessTest, EmailIdsAreNewPerMessageAndKeptByCopyAndMove) {
  Add(inbox_, "Subject: same\r\n\r\nsame\r\n");
  Add(inbox_, "Subject: same\r\n\r\nsame\r\n");
  auto list = store_->ListMessages(inbox_, 0);
  ASSERT_TRUE(list.ok() && list->size() == 2u);
  const uint64_t a = (*list)[0].email_id, b = (*list)[1].email_id;
  EXPECT_NE(a, 0u);
  EXPECT_NE(a, b) << "the same content appended twice is two messages";
  EXPECT_EQ(FormatEmailId(0x00ab00cd00ef0012ull), "M00ab00cd00ef0012");
  auto found = store_->FindMessage(account_, "INBOX", (*list)[0].uid);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->email_id, a);
  auto archive = Mailbox("Archive");
  ASSERT_TRUE(store_->CopyMessages(inbox_, {(*list)[0].uid}, archive.id, false).ok());
  ASSERT_TRUE(store_->CopyMessages(inbox_, {(*list)[1].uid}, archive.id, true).ok());
  auto copied = store_->ListMessages(archive.id, 0);
  ASSERT_TRUE(copied.ok() && copied->size() == 2u);
  EXPECT_EQ((*copied)[0].email_id, a);
  EXPECT_EQ((*copied)[1].email_id, b);
}

// A parse without a preview (stored before previews were kept) gets one from
// SaveParse; one that has a preview keeps it.
TEST_F(AccessTest, PreviewSavedLaterOnlyWhenMissing) {
  auto body = store_->EncodeBody("Subject: p\r\n\r\np\r\n");
  ASSERT_TRUE(body.ok());
  AppendOptions o;
  o.parse = MessageParse{"env", "body", "bs"};
  ASSERT_TRUE(store_->Append(inbox_, *body, o).ok());
  const std::string blob = (*store_->ListMessages(inbox_, 0))[0].blob;
  EXPECT_FALSE((*store_->ReadParse(blob))->preview.has_value());
  MessageParse later{"other", "other", "other", std::nullopt, "the preview"};
  ASSERT_TRUE(store_->SaveParse(blob, later).ok());
  auto parse = store_->ReadParse(blob);
  EXPECT_EQ((*parse)->envelope, "env") << "the structure stays";
  EXPECT_EQ((*parse)->preview, "the preview");
  later.preview = "another";
  ASSERT_TRUE(store_->SaveParse(blob, later).ok());
  EXPECT_EQ((*store_->ReadParse(blob))->preview, "the preview");
}

TEST_F(AccessTest, ChangeFlags) {
  AppendResult a = Add(inbox_, "Subject: a\r\n\r\na\r\n");
  AppendResult b = Add(inbox_, "Subject: b\r\n\r\nb\r\n");
  FlagChange add;
  add.mode = FlagChange::kAdd;
  add.flags = kFlagSeen | kFlagFlagged;
  add.keywords = {"Work"};
  auto r = store_->ChangeFlags(inbox_, {a.uid, b.uid, 99}, add);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->changed.size(), 2u);
  EXPECT_EQ(r->missing, std::vector<uint32_t>{99});
  EXPECT_EQ(r->changed[0].flags, kFlagSeen | kFlagFlagged);
  EXPECT_EQ(r->changed[0].keywords, "Work");
  const uint64_t first = r->changed[0].modseq;
  EXPECT_EQ(r->changed[1].modseq, first) << "one MODSEQ for one command";
  EXPECT_GT(first, b.modseq);
  EXPECT_EQ(r->highestmodseq, first);
  EXPECT_EQ(Mailbox("INBOX").unseen, 0u);
  EXPECT_EQ(Mailbox("INBOX").highestmodseq, first);

  // A change that changes nothing keeps the MODSEQ.
  auto same = store_->ChangeFlags(inbox_, {a.uid}, add);
  EXPECT_EQ(same->changed[0].modseq, first);

  FlagChange remove;
  remove.mode = FlagChange::kRemove;
  remove.flags = kFlagSeen;
  remove.keywords = {"work"};
  r = store_->ChangeFlags(inbox_, {a.uid}, remove);
  EXPECT_EQ(r->changed[0].flags, kFlagFlagged);
  EXPECT_EQ(r->changed[0].keywords, "");
  EXPECT_EQ(Mailbox("INBOX").unseen, 1u);

  // RFC 7162 §3.1.3: UNCHANGEDSINCE refuses messages changed since.
  FlagChange replace;
  replace.mode = FlagChange::kReplace;
  replace.flags = kFlagDraft;
  replace.unchanged_since = first;
  r = store_->ChangeFlags(inbox_, {a.uid, b.uid}, replace);
  EXPECT_EQ(r->modified, std::vector<uint32_t>{a.uid});
  ASSERT_EQ(r->changed.size(), 1u);
  EXPECT_EQ(r->changed[0].uid, b.uid);
  EXPECT_EQ(r->changed[0].flags, kFlagDraft);
}

TEST_F(AccessTest, ExpungeRemovesOnlyDeletedAndLogsIt) {
  AppendResult a = Add(inbox_, "Subject: a\r\n\r\na\r\n");
  AppendResult b = Add(inbox_, "Subject: b\r\n\r\nb\r\n", kFlagDeleted);
  AppendResult c = Add(inbox_, "Subject: c\r\n\r\nc\r\n", kFlagDeleted | kFlagSeen);
  std::string blob_b = (*store_->ListMessages(inbox_, 0))[1].blob;
  // UID EXPUNGE: only the given UIDs.
  auto r = store_->Expunge(inbox_, std::vector<uint32_t>{a.uid, c.uid});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->uids, std::vector<uint32_t>{c.uid});
  EXPECT_EQ(Uids(inbox_), (std::vector<uint32_t>{a.uid, b.uid}));
  r = store_->Expunge(inbox_, std::nullopt);
  EXPECT_EQ(r->uids, std::vector<uint32_t>{b.uid});
  EXPECT_EQ(Uids(inbox_), std::vector<uint32_t>{a.uid});
  MailboxInfo m = Mailbox("INBOX");
  EXPECT_EQ(m.messages, 1u);
  EXPECT_EQ(m.unseen, 1u);
  EXPECT_EQ(m.highestmodseq, r->highestmodseq);
  auto gone = store_->ExpungedSince(inbox_, a.modseq);
  EXPECT_EQ(*gone, (std::vector<uint32_t>{b.uid, c.uid}));
  EXPECT_EQ(store_->ExpungedSince(inbox_, r->highestmodseq)->size(), 0u);
  EXPECT_FALSE(store_->ReadBody(blob_b).ok()) << "the last reference took the body with it";
  auto none = store_->Expunge(inbox_, std::nullopt);
  EXPECT_TRUE(none->uids.empty());
}

// Parses and headers read once are served from memory (store/parse_cache.h):
// a change made behind the store's back is not seen, which shows where the
// answer came from. The memory forgets a body's parse when its last
// reference goes, as the database does.
TEST_F(AccessTest, ParsesAndHeadersReadBackFromMemoryUntilTheBodyGoes) {
  auto body = store_->EncodeBody("Subject: kept\r\n\r\nkept\r\n");
  ASSERT_TRUE(body.ok());
  AppendOptions o;
  o.flags = kFlagDeleted;
  o.parse = MessageParse{"env", "body", "bs", std::nullopt, "preview", "Subject: kept\r\n\r\n"};
  auto added = store_->Append(inbox_, *body, o);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  const MessageInfo m = (*store_->ListMessages(inbox_, 0))[0];
  // As SMTP delivery writes it (per recipient, never cached).
  ASSERT_TRUE(
      Db().Exec("UPDATE messages SET header_prefix = 'Delivered-To: u@example.test\r\n'").ok());

  auto headers = store_->ReadHeaders({m.id, m.id + 1000});
  ASSERT_TRUE(headers.ok()) << headers.status().ToString();
  ASSERT_EQ(headers->size(), 2u);
  ASSERT_TRUE((*headers)[0].has_value());
  EXPECT_EQ((*headers)[0]->prefix, "Delivered-To: u@example.test\r\n");
  EXPECT_EQ((*headers)[0]->header, "Subject: kept\r\n\r\n");
  EXPECT_FALSE((*headers)[1].has_value()) << "no such message";
  EXPECT_EQ((*store_->ReadParse(m.blob))->envelope, "env");

  ASSERT_TRUE(Db().Exec("UPDATE parses SET envelope = 'changed', header = 'changed'").ok());
  EXPECT_EQ((*store_->ReadParse(m.blob))->envelope, "env") << "from memory";
  EXPECT_EQ((*store_->ReadParses({m.blob}))[0]->preview, "preview");
  EXPECT_EQ((*(*store_->ReadHeaders({m.id}))[0]).header, "Subject: kept\r\n\r\n");

  ASSERT_TRUE(store_->Expunge(inbox_, std::nullopt).ok());
  EXPECT_FALSE((*store_->ReadParse(m.blob)).has_value()) << "forgotten with the body";
  EXPECT_FALSE((*store_->ReadHeaders({m.id}))[0].has_value());
}

TEST_F(AccessTest, CopyAndMove) {
  auto archive = store_->CreateMailbox(account_, "Archive/2026", "");
  ASSERT_TRUE(archive.ok()) << archive.status().ToString();
  AppendResult a = Add(inbox_, "Subject: a\r\n\r\na\r\n", kFlagSeen, {"Work"});
  AppendResult b = Add(inbox_, "Subject: b\r\n\r\nb\r\n");
  auto copy = store_->CopyMessages(inbox_, {b.uid, a.uid, 77}, archive->id, false);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(copy->uidvalidity, archive->uidvalidity);
  EXPECT_EQ(copy->source_uids, (std::vector<uint32_t>{a.uid, b.uid}));
  EXPECT_EQ(copy->dest_uids, (std::vector<uint32_t>{1, 2}));
  auto listed = store_->ListMessages(archive->id, 0);
  ASSERT_TRUE(listed.ok());
  std::vector<MessageInfo> copied = *listed;
  ASSERT_EQ(copied.size(), 2u);
  EXPECT_EQ(copied[0].flags, kFlagSeen);
  EXPECT_EQ(copied[0].keywords, "Work");
  EXPECT_EQ(Mailbox("Archive/2026").unseen, 1u);
  EXPECT_EQ(Uids(inbox_).size(), 2u);

  auto move = store_->CopyMessages(inbox_, {a.uid}, archive->id, true);
  ASSERT_TRUE(move.ok());
  EXPECT_EQ(move->dest_uids, std::vector<uint32_t>{3});
  EXPECT_EQ(Uids(inbox_), std::vector<uint32_t>{b.uid});
  EXPECT_EQ(*store_->ExpungedSince(inbox_, b.modseq), std::vector<uint32_t>{a.uid});
  // The body is still there for the copies.
  EXPECT_TRUE(store_->ReadMessageById((*store_->ListMessages(archive->id, 0))[2].id).ok());

  ASSERT_TRUE(store_->SetQuota("u@example.test", 0, 4).ok());
  auto over = store_->CopyMessages(archive->id, {1, 2}, inbox_, false);
  EXPECT_EQ(over.status().code(), StatusCode::kResourceExhausted);
  auto moved = store_->CopyMessages(archive->id, {1, 2}, inbox_, true);
  EXPECT_TRUE(moved.ok()) << "a move needs no more room";
}

TEST_F(AccessTest, CreateDeleteRenameSubscribe) {
  EXPECT_EQ(store_->CreateMailbox(account_, "inbox", "").status().code(),
            StatusCode::kAlreadyExists);
  auto work = store_->CreateMailbox(account_, "Work", "");
  ASSERT_TRUE(work.ok());
  ASSERT_TRUE(store_->CreateMailbox(account_, "Work/2026", "").ok());
  ASSERT_TRUE(store_->CreateMailbox(account_, "Workshop", "").ok());
  Add(work->id, "Subject: w\r\n\r\nw\r\n");

  ASSERT_TRUE(store_->RenameMailbox(account_, "Work", "Job").ok());
  EXPECT_TRUE(store_->GetMailbox(account_, "Job/2026")->has_value());
  EXPECT_TRUE(store_->GetMailbox(account_, "Workshop")->has_value()) << "not a child";
  EXPECT_FALSE(store_->GetMailbox(account_, "Work")->has_value());
  EXPECT_EQ(Mailbox("Job").messages, 1u);
  EXPECT_EQ(store_->RenameMailbox(account_, "Job", "Workshop").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->RenameMailbox(account_, "Nope", "Other").code(), StatusCode::kNotFound);

  // RFC 3501 §6.3.5: renaming INBOX moves its messages, INBOX stays.
  AppendResult a = Add(inbox_, "Subject: i\r\n\r\ni\r\n");
  ASSERT_TRUE(store_->RenameMailbox(account_, "INBOX", "Old mail").ok());
  EXPECT_EQ(Mailbox("INBOX").messages, 0u);
  EXPECT_TRUE(Uids(inbox_).empty());
  MailboxInfo old = Mailbox("Old mail");
  EXPECT_EQ(old.messages, 1u);
  EXPECT_EQ(Uids(old.id), std::vector<uint32_t>{a.uid});
  EXPECT_EQ(*store_->ExpungedSince(inbox_, a.modseq), std::vector<uint32_t>{a.uid});

  ASSERT_TRUE(store_->SetSubscribed(account_, "Job", false).ok());
  EXPECT_FALSE(Mailbox("Job").subscribed);
  EXPECT_EQ(store_->SetSubscribed(account_, "Nope", true).code(), StatusCode::kNotFound);

  EXPECT_EQ(store_->DeleteMailbox(account_, "inbox").code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(store_->DeleteMailbox(account_, "Job").ok());
  EXPECT_FALSE(store_->GetMailbox(account_, "Job")->has_value());
  EXPECT_TRUE(store_->GetMailbox(account_, "Job/2026")->has_value()) << "children stay";
  EXPECT_EQ(store_->DeleteMailbox(account_, "Job").code(), StatusCode::kNotFound);
  auto stats = store_->Stats();
  ASSERT_TRUE(stats.ok());
}

using Ids = std::vector<int64_t>;

TEST_F(AccessTest, TextIndexedAtAppendAndSearchedByField) {
  int64_t a = AddText("A", MessageText{"subject: alpha\n", "the quick brown fox\n"});
  int64_t b = AddText("B", MessageText{"subject: beta\n", "lazy dog, quick\n"});
  EXPECT_EQ(Count("SELECT COUNT(*) FROM message_texts"), 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM blobs WHERE text_id IS NULL"), 0);

  EXPECT_EQ(FindText(TextField::kBody, "quick"), (Ids{a, b}));
  EXPECT_EQ(FindText(TextField::kBody, "brown fox"), (Ids{a}));
  EXPECT_EQ(FindText(TextField::kBody, "alpha"), Ids{}) << "BODY does not look at the header";
  EXPECT_EQ(FindText(TextField::kText, "alpha"), (Ids{a}));
  EXPECT_EQ(FindText(TextField::kText, "subject: b"), (Ids{b}));
  EXPECT_EQ(FindText(TextField::kText, "eta\nlazy"), Ids{}) << "header and body are apart";
  EXPECT_EQ(FindText(TextField::kBody, "quack"), Ids{});
  // Shorter than a trigram: read from the stored texts.
  EXPECT_EQ(FindText(TextField::kBody, "fo"), (Ids{a}));
  EXPECT_EQ(FindText(TextField::kBody, "ph"), Ids{});
  EXPECT_EQ(FindText(TextField::kText, "ph"), (Ids{a}));
  EXPECT_EQ(FindText(TextField::kBody, ","), (Ids{b}));
  EXPECT_EQ(FindText(TextField::kText, ""), (Ids{a, b}));
  EXPECT_EQ(FindText(TextField::kText, std::string("qu\0ick", 6)), Ids{});
  // Three characters but six bytes: the index.
  int64_t c = AddText("C", MessageText{"", "über öl\n"});
  EXPECT_EQ(FindText(TextField::kBody, "r ö"), (Ids{c}));
  EXPECT_EQ(FindText(TextField::kBody, "üb"), (Ids{c}));
}

// The needle is hostile input: FTS5 query syntax in it is text to find.
TEST_F(AccessTest, TextNeedleIsTextNotQuerySyntax) {
  int64_t a = AddText("A", MessageText{"", "she said \"yes\" OR no * NEAR(x y) body : z\n"});
  int64_t b = AddText("B", MessageText{"", "yes no\n"});
  EXPECT_EQ(FindText(TextField::kBody, "\"yes\" or"), Ids{}) << "the index is case-sensitive";
  EXPECT_EQ(FindText(TextField::kBody, "\"yes\" OR"), (Ids{a}));
  EXPECT_EQ(FindText(TextField::kBody, "yes\" OR no"), (Ids{a}));
  EXPECT_EQ(FindText(TextField::kBody, "\"yes\" OR \"no\""), Ids{});
  EXPECT_EQ(FindText(TextField::kBody, "yes OR no"), Ids{});
  EXPECT_EQ(FindText(TextField::kBody, "NEAR(x y)"), (Ids{a}));
  EXPECT_EQ(FindText(TextField::kBody, "body : z"), (Ids{a}));
  EXPECT_EQ(FindText(TextField::kBody, "* N"), (Ids{a}));
  EXPECT_EQ(FindText(TextField::kBody, "\"\"\""), Ids{});
  EXPECT_EQ(FindText(TextField::kBody, "\""), (Ids{a}));
  EXPECT_EQ(FindText(TextField::kText, "yes"), (Ids{a, b}));
}

TEST_F(AccessTest, TextRowRemovedWithTheLastCopyOfTheBody) {
  AddText("same body", MessageText{"", "kept while a copy remains\n"});
  AddText("same body", MessageText{"", "kept while a copy remains\n"}, "Archive");
  AddText("other", MessageText{"", "other\n"});
  EXPECT_EQ(Count("SELECT COUNT(*) FROM message_texts"), 2);

  FlagChange deleted;
  deleted.mode = FlagChange::kAdd;
  deleted.flags = kFlagDeleted;
  ASSERT_TRUE(store_->ChangeFlags(inbox_, {1}, deleted).ok());
  ASSERT_TRUE(store_->Expunge(inbox_, std::nullopt).ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM message_texts"), 2) << "the Archive copy needs it";
  ASSERT_TRUE(store_->DeleteMailbox(account_, "Archive").ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM message_texts"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM message_texts WHERE message_texts MATCH '\"other\"'"), 1);
}

// An indexing failure never costs a message: it is stored unindexed,
// reported as such by searches, and indexed later.
TEST_F(AccessTest, TextFailedIndexingStoresTheMessageUnindexed) {
  ASSERT_TRUE(Db().Exec("CREATE TRIGGER no_texts BEFORE INSERT ON message_texts_content "
                        "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
                  .ok());
  int64_t id = AddText("A", MessageText{"subject: s\n", "findable text\n"});
  ASSERT_NE(id, 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM messages"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM blobs WHERE text_id IS NULL"), 1);
  auto r = store_->SearchText(inbox_, TextField::kBody, "findable");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->matching.empty());
  ASSERT_EQ(r->unindexed.size(), 1u);
  EXPECT_EQ(r->unindexed[0].first, id);
  const std::string blob = r->unindexed[0].second;

  // Still refused: SaveTexts keeps going (the body stays unindexed).
  EXPECT_TRUE(store_->SaveTexts({{blob, MessageText{"", "findable text\n"}}}).ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM blobs WHERE text_id IS NULL"), 1);

  ASSERT_TRUE(Db().Exec("DROP TRIGGER no_texts").ok());
  ASSERT_TRUE(store_
                  ->SaveTexts({{blob, MessageText{"", "findable text\n"}},
                               {"no-such-body", MessageText{"", "x"}}})
                  .ok());
  EXPECT_EQ(FindText(TextField::kBody, "findable"), (Ids{id}));
  // Indexing again is a no-op.
  ASSERT_TRUE(store_->SaveTexts({{blob, MessageText{"", "other\n"}}}).ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM message_texts"), 1);
  EXPECT_EQ(FindText(TextField::kBody, "findable"), (Ids{id}));
}

// Mail stored before the index (or by a parse without text) is reported
// unindexed; SaveParse indexes it when it brings a text.
TEST_F(AccessTest, TextUnindexedUntilSavedWithAParse) {
  int64_t id = AddText("old mail", std::nullopt);
  auto r = store_->SearchText(inbox_, TextField::kText, "x");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->unindexed.size(), 1u);
  MessageParse parse{"e", "b", "bs", MessageText{"subject: old\n", "old mail\n"}};
  ASSERT_TRUE(store_->SaveParse(r->unindexed[0].second, parse).ok());
  EXPECT_EQ(FindText(TextField::kText, "subject: old"), (Ids{id}));
}

}  // namespace
}  // namespace postern::store
