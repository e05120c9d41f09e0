// The cached header (store::MessageParse::header) serves exactly the bytes
// and fields the whole message would, over the MIME corpus and hostile
// shapes; MessageHeaders and CachedStructures read many messages at once
// and fill in what older mail lacks; HeaderCandidates narrows header keys
// without losing a message.
#include "mailbox/structure.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "mailbox/text_search.h"
#include "message/mime.h"
#include "store/sqlite.h"
#include "store/test_store.h"

namespace postern::mailbox {
namespace {

namespace fs = std::filesystem;

const char* const kPrefixes[] = {"", "Return-Path: <a@b.test>\r\nDelivered-To: u@example.test\r\n"};

std::vector<std::string> Samples() {
  std::vector<std::string> out = {
      "",
      "\r\n",
      "\r\nbody only\r\n",
      "Subject: no blank line",
      "Subject: no body\r\n",
      "Subject: lf\n\nbody\n",
      "not a header line\r\nSubject: x\r\n\r\nbody\r\n",
      " continuation first\r\nSubject: x\r\n\r\nbody\r\n",
      "Subject: a\r\n\tfolded\r\nFrom: x\r\n \r\n\r\nbody\r\n\r\n",
      "Subject: nul \0 in it\r\n\r\nb\r\n",
      "X: 1\r\nX: 2\r\nx: 3\r\n\r\n\r\n\r\n",
  };
  out[9] = std::string("Subject: nul \0 in it\r\n\r\nb\r\n", 26);
  const fs::path mime = fs::path(POSTERN_TESTDATA_DIR) / "mime";
  if (fs::is_directory(mime)) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(mime)) {
      const auto ext = entry.path().extension();
      if (entry.is_regular_file() && (ext == ".eml" || ext == ".msg" || ext == ".txt")) {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& path : files) {
      std::ifstream in(path, std::ios::binary);
      out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  return out;
}

void ExpectSameHeader(const message::Message& whole, const message::Message& cached,
                      const std::string& where) {
  SCOPED_TRACE(where);
  EXPECT_EQ(whole.HeaderBytes(whole.root), cached.HeaderBytes(cached.root));
  ASSERT_EQ(whole.root.fields.size(), cached.root.fields.size());
  for (size_t i = 0; i < whole.root.fields.size(); ++i) {
    const auto& a = whole.root.fields[i];
    const auto& b = cached.root.fields[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.value, b.value);
    EXPECT_EQ(a.offset, b.offset);
  }
}

TEST(CachedHeaderTest, ServesWhatTheWholeMessageServes) {
  const std::vector<std::string> samples = Samples();
  ASSERT_GT(samples.size(), 100u) << "the MIME corpus is missing";
  for (size_t n = 0; n < samples.size(); ++n) {
    const store::MessageParse parse = StructureOf(samples[n]);
    ASSERT_TRUE(parse.header.has_value()) << n;
    for (const char* prefix : kPrefixes) {
      const std::string full = prefix + samples[n];
      const std::string header = prefix + *parse.header;
      ExpectSameHeader(message::ParseMessage(full), message::ParseMessage(header),
                       "sample " + std::to_string(n));
    }
  }
}

TEST(CachedHeaderTest, VeryLongHeaderIsNotCached) {
  std::string content = "Subject: " + std::string(store::kMaxCachedHeader, 'x') + "\r\n\r\nb\r\n";
  EXPECT_FALSE(StructureOf(content).header.has_value());
}

class HeaderStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = store::FreshTestDir("headers");
    auto s = store::OpenTestStore(dir_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->AddDomain("example.test").ok());
    auto account = store_->AddAccount("u@example.test", "x", 0, 0);
    ASSERT_TRUE(account.ok());
    auto inbox = store_->GetMailbox(account->id, "INBOX");
    ASSERT_TRUE(inbox.ok() && inbox->has_value());
    inbox_ = (*inbox)->id;
    for (const std::string& content : contents_) {
      auto body = store_->EncodeBody(content);
      ASSERT_TRUE(body.ok());
      store::AppendOptions options;
      options.parse = StructureOf(content);
      ASSERT_TRUE(store_->Append(inbox_, *body, options).ok());
    }
    auto list = store_->ListMessages(inbox_, 0);
    ASSERT_TRUE(list.ok());
    for (const auto& m : *list) {
      ids_.push_back(m.id);
      blobs_.push_back(m.blob);
    }
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  // Changes the database behind the store's back (as older versions left
  // it), then opens the store again, as the upgraded server would: nothing
  // of it in the store's memory (store/parse_cache.h).
  void Exec(const std::string& sql) {
    {
      auto db = store::Database::Open((dir_ / "postern.db").string(), false);
      ASSERT_TRUE(db.ok());
      ASSERT_TRUE((*db)->Exec(sql).ok()) << sql;
    }
    store_.reset();
    auto s = store::OpenTestStore(dir_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  int64_t Count(const char* sql) {
    auto db = store::Database::Open((dir_ / "postern.db").string(), false);
    auto q = (*db)->Prepare(sql);
    EXPECT_TRUE(q.ok() && q->Step());
    return q->Int(0);
  }
  std::vector<std::optional<std::string>> Headers(std::vector<int64_t> ids) {
    auto r = MessageHeaders(*store_, ids);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<std::optional<std::string>>{};
  }
  std::vector<int64_t> Candidates(std::string_view needle) {
    auto r = HeaderCandidates(*store_, inbox_, needle);
    EXPECT_TRUE(r.ok() && r->has_value()) << needle;
    return r.ok() && r->has_value() ? **r : std::vector<int64_t>{};
  }

  std::vector<std::string> contents_ = {
      "From: Ann <ann@example.test>\r\nSubject: Greetings\r\n\r\nbody one\r\n",
      "From: =?utf-8?q?B=C3=A9a?= <bea@example.test>\r\nSubject: Dinner\r\n\r\ngreetings\r\n",
      "Subject: no body",
  };
  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  int64_t inbox_ = 0;
  std::vector<int64_t> ids_;
  std::vector<std::string> blobs_;
};

TEST_F(HeaderStoreTest, HeadersComeFromTheCacheAndOlderMailIsFilledIn) {
  const std::vector<std::optional<std::string>> expected = {
      "From: Ann <ann@example.test>\r\nSubject: Greetings\r\n\r\n",
      "From: =?utf-8?q?B=C3=A9a?= <bea@example.test>\r\nSubject: Dinner\r\n\r\n",
      "Subject: no body", std::nullopt};
  std::vector<int64_t> ids = ids_;
  ids.push_back(ids_.back() + 100);  // no such message
  EXPECT_EQ(Headers(ids), expected);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM parses WHERE header IS NULL"), 0);

  // Mail parsed before schema 8, and mail never parsed: read from the body,
  // then cached.
  Exec("UPDATE parses SET header = NULL WHERE id = (SELECT MIN(id) FROM parses)");
  Exec("UPDATE blobs SET parse_id = NULL WHERE parse_id = (SELECT MAX(id) FROM parses)");
  EXPECT_EQ(Headers(ids), expected);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM parses p JOIN blobs b ON b.parse_id = p.id "
                  "WHERE p.header IS NULL"),
            0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM blobs WHERE parse_id IS NULL"), 0);
  EXPECT_EQ(Headers(ids), expected);
}

TEST_F(HeaderStoreTest, StructuresOfManyBodiesInOneRead) {
  const std::vector<std::optional<store::MessageParse>> first = CachedStructures(*store_, blobs_);
  ASSERT_EQ(first.size(), 3u);
  Exec("UPDATE blobs SET parse_id = NULL WHERE hash = '" + blobs_[1] + "'");
  std::vector<std::string> blobs = blobs_;
  blobs.push_back(std::string(64, '0'));  // no such body
  const std::vector<std::optional<store::MessageParse>> again = CachedStructures(*store_, blobs);
  ASSERT_EQ(again.size(), 4u);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(first[i] && again[i]) << i;
    EXPECT_EQ(again[i]->envelope, first[i]->envelope);
    EXPECT_EQ(again[i]->body_structure, first[i]->body_structure);
    EXPECT_EQ(again[i]->envelope, StructureOf(contents_[i]).envelope);
  }
  EXPECT_NE(first[0]->envelope, first[1]->envelope);
  EXPECT_FALSE(again[3].has_value());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM blobs WHERE parse_id IS NULL"), 0);
}

TEST_F(HeaderStoreTest, CandidatesAreASupersetAndNarrow) {
  EXPECT_EQ(Candidates("ANN@example"), (std::vector<int64_t>{ids_[0]}));
  EXPECT_EQ(Candidates("béa"), (std::vector<int64_t>{ids_[1]}));
  EXPECT_EQ(Candidates("GREETINGS"), (std::vector<int64_t>{ids_[0]}));  // not the body's
  EXPECT_EQ(Candidates("nothing like it"), std::vector<int64_t>{});
  // Too short, or a line break: the index cannot say.
  auto r = HeaderCandidates(*store_, inbox_, "an");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  // Unindexed mail is always a candidate.
  Exec("UPDATE blobs SET text_id = NULL");
  EXPECT_EQ(Candidates("nothing like it"), ids_);
}

}  // namespace
}  // namespace postern::mailbox
