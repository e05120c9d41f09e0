// FindText: the full-text index gives exactly the answers of a scan that
// decodes every message, and mail without index rows is found and indexed.
#include "mailbox/text_search.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "mailbox/structure.h"
#include "message/search_text.h"
#include "store/sqlite.h"
#include "store/test_store.h"

namespace postern::mailbox {
namespace {

const char* const kMessages[] = {
    "From: Ann <ann@example.test>\r\nSubject: Greetings\r\n\r\nHello World, ab\r\n",
    "Subject: dessert\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n\r\nCr=E8me Br=FBl=E9e for=\r\n two\r\n",
    "Subject: =?utf-8?b?0J/RgNC40LLQtdGC?=\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n0J/RgNC40LLQtdGCLCDQnNCY0KA=\r\n",
    "Subject: =?utf-8?q?=C3=89cole_STRASSE?=\r\n\r\nStraße und ΣΊΣΥΦΟΣ\r\n",
    "Subject: mixed\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
    "Content-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\nContent-Type: text/plain\r\n\r\n"
    "plain words\r\n--a\r\nContent-Type: text/html\r\n\r\n<p>html <b>bold</b>&amp;more</p>\r\n"
    "--a--\r\n--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    "YXR0YWNobWVudCBjb250ZW50\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n"
    "Subject: inner HELLO\r\n\r\ninner body\r\n--b--\r\n",
    "Subject: no body\r\n",
    "Subject: Greetings\r\n\r\nhello again\r\n",
};

const char* const kNeedles[] = {
    "hello",
    "HELLO",
    "o w",
    "world, ab",
    "crème",
    "CRÈME BRÛLÉE",
    "for two",
    "привет",
    "МИР",
    "école",
    "ÉCOLE",
    "straße",
    "STRASSE",
    "ss",
    "σίσυφος",
    "ς",
    "é",
    "ab",
    "lo",
    "",
    "subject",
    "greetings",
    "<b>",
    "bold&more",
    "attachment",
    "inner",
    "inner hello",
    "text/html",
    "content-type",
    "\"",
    "nothing like this",
    "html bold",
    "ann@example",
};

class FindTextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = store::FreshTestDir("findtext");
    auto s = store::OpenTestStore(dir_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->AddDomain("example.test").ok());
    auto account = store_->AddAccount("u@example.test", "x", 0, 0);
    ASSERT_TRUE(account.ok());
    auto inbox = store_->GetMailbox(account->id, "INBOX");
    ASSERT_TRUE(inbox.ok() && inbox->has_value());
    inbox_ = (*inbox)->id;
    for (const char* content : kMessages) {
      auto body = store_->EncodeBody(content);
      ASSERT_TRUE(body.ok());
      store::AppendOptions options;
      options.parse = StructureOf(content);
      ASSERT_TRUE(store_->Append(inbox_, *body, options).ok());
    }
    auto list = store_->ListMessages(inbox_, 0);
    ASSERT_TRUE(list.ok());
    for (const auto& m : *list) ids_.push_back(m.id);
    ASSERT_EQ(ids_.size(), std::size(kMessages));
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // What the scan answers: every message decoded in memory.
  std::vector<int64_t> Scan(store::TextField field, std::string_view needle) {
    std::vector<int64_t> out;
    const auto scope = field == store::TextField::kBody ? message::TextScope::kBody
                                                        : message::TextScope::kHeaderAndBody;
    for (size_t i = 0; i < std::size(kMessages); ++i) {
      auto text = message::ExtractSearchableText(message::ParseMessage(kMessages[i]));
      if (message::TextContains(text, scope, message::FoldCase(needle))) out.push_back(ids_[i]);
    }
    return out;
  }

  std::vector<int64_t> Find(store::TextField field, std::string_view needle) {
    auto r = FindText(*store_, inbox_, field, needle);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<int64_t>{};
  }

  void ExpectIndexEqualsScan(const std::string& what) {
    for (auto field : {store::TextField::kBody, store::TextField::kText}) {
      for (const char* needle : kNeedles) {
        EXPECT_EQ(Find(field, needle), Scan(field, needle))
            << what << ": " << (field == store::TextField::kBody ? "BODY " : "TEXT ") << needle;
      }
    }
  }

  int64_t Count(const char* sql) {
    auto db = store::Database::Open((dir_ / "postern.db").string(), false);
    EXPECT_TRUE(db.ok());
    auto q = (*db)->Prepare(sql);
    EXPECT_TRUE(q.ok() && q->Step());
    return q->Int(0);
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  int64_t inbox_ = 0;
  std::vector<int64_t> ids_;
};

TEST_F(FindTextTest, IndexAnswersAsTheScanDoes) {
  EXPECT_EQ(Count("SELECT COUNT(*) FROM blobs WHERE text_id IS NULL"), 0);
  ExpectIndexEqualsScan("indexed at append");
  // The comparison is not vacuous: spot checks of what each answers.
  using store::TextField;
  EXPECT_EQ(Find(TextField::kText, "ÉCOLE"), (std::vector<int64_t>{ids_[3]}));
  EXPECT_EQ(Find(TextField::kBody, "école"), std::vector<int64_t>{});
  EXPECT_EQ(Find(TextField::kBody, "CRÈME BRÛLÉE"), (std::vector<int64_t>{ids_[1]}));
  EXPECT_EQ(Find(TextField::kBody, "мир"), (std::vector<int64_t>{ids_[2]}));
  EXPECT_EQ(Find(TextField::kBody, "ς"), (std::vector<int64_t>{ids_[3]}));
  EXPECT_EQ(Find(TextField::kBody, "hello"), (std::vector<int64_t>{ids_[0], ids_[4], ids_[6]}));
  EXPECT_EQ(Find(TextField::kText, "greetings"), (std::vector<int64_t>{ids_[0], ids_[6]}));
  EXPECT_EQ(Find(TextField::kBody, "attachment"), std::vector<int64_t>{});
  EXPECT_EQ(Find(TextField::kText, "").size(), std::size(kMessages));
}

// Mail without index rows (stored before the index existed): the first
// search reads and indexes it, and answers as the index would.
TEST_F(FindTextTest, UnindexedMailIsFoundAndIndexed) {
  auto db = store::Database::Open((dir_ / "postern.db").string(), false);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Exec("UPDATE blobs SET text_id = NULL; DELETE FROM message_texts").ok());
  EXPECT_EQ(Find(store::TextField::kBody, "STRASSE"), std::vector<int64_t>{});
  EXPECT_EQ(Count("SELECT COUNT(*) FROM blobs WHERE text_id IS NULL"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM message_texts"), std::ssize(kMessages));
  ExpectIndexEqualsScan("indexed lazily");

  // Each needle once more on a fresh start: the lazy path's own answers.
  for (auto field : {store::TextField::kBody, store::TextField::kText}) {
    for (const char* needle : kNeedles) {
      ASSERT_TRUE((*db)->Exec("UPDATE blobs SET text_id = NULL; DELETE FROM message_texts").ok());
      EXPECT_EQ(Find(field, needle), Scan(field, needle)) << "lazy path: " << needle;
    }
  }
}

}  // namespace
}  // namespace postern::mailbox
