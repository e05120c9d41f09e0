#include "pop3server/maildrop.h"

#include <gtest/gtest.h>

namespace postern::pop3server {
namespace {

Maildrop Sample() {
  store::MailboxInfo inbox;
  inbox.id = 7;
  inbox.uidvalidity = 0x1234;
  std::vector<store::MessageInfo> messages(3);
  for (size_t i = 0; i < messages.size(); ++i) {
    messages[i].id = 100 + static_cast<int64_t>(i);
    messages[i].uid = static_cast<uint32_t>(10 * (i + 1));
    messages[i].size = 1000 * (i + 1);
  }
  messages[1].flags = store::kFlagSeen;
  return Maildrop(inbox, messages);
}

TEST(MaildropTest, NumbersSizesAndUidls) {
  Maildrop m = Sample();
  EXPECT_EQ(m.mailbox_id(), 7);
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m.count(), 3u);
  EXPECT_EQ(m.octets(), 6000u);
  ASSERT_TRUE(m.Find(2).ok());
  EXPECT_EQ((*m.Find(2))->uid, 20u);
  EXPECT_EQ((*m.Find(2))->id, 101);
  EXPECT_EQ(m.Uidl(1), "0000000A00001234");
  EXPECT_EQ(m.Uidl(3), "0000001E00001234");
  EXPECT_EQ(m.Find(0).status().message(), "No such message");
  EXPECT_EQ(m.Find(4).status().message(), "No such message");
}

TEST(MaildropTest, DeleteMarksUntilReset) {
  Maildrop m = Sample();
  ASSERT_TRUE(m.Delete(2).ok());
  EXPECT_EQ(m.count(), 2u);
  EXPECT_EQ(m.octets(), 4000u);
  EXPECT_EQ(m.size(), 3u) << "numbers never shift";
  EXPECT_EQ(m.Find(2).status().message(), "Message 2 is deleted");
  EXPECT_EQ(m.Delete(2).message(), "Message 2 is deleted");
  EXPECT_TRUE(m.Find(3).ok());
  ASSERT_TRUE(m.Delete(3).ok());
  EXPECT_EQ(m.DeletedUids(), (std::vector<uint32_t>{20, 30}));
  m.Reset();
  EXPECT_EQ(m.count(), 3u);
  EXPECT_EQ(m.octets(), 6000u);
  EXPECT_TRUE(m.DeletedUids().empty());
  EXPECT_TRUE(m.Find(2).ok());
}

TEST(MaildropTest, RetrievedMessagesBecomeSeenUnlessDeleted) {
  Maildrop m = Sample();
  EXPECT_TRUE(m.NewlySeenUids().empty());
  m.MarkRetrieved(1);
  m.MarkRetrieved(2);  // already \Seen
  m.MarkRetrieved(3);
  m.MarkRetrieved(99);  // ignored
  ASSERT_TRUE(m.Delete(3).ok());
  EXPECT_EQ(m.NewlySeenUids(), std::vector<uint32_t>{10});
}

TEST(MaildropLocksTest, OneHolderPerAccount) {
  MaildropLocks locks;
  auto a = locks.Lock(1);
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(locks.locked(1));
  EXPECT_EQ(locks.Lock(1), nullptr);
  auto b = locks.Lock(2);
  EXPECT_NE(b, nullptr);
  a.reset();
  EXPECT_FALSE(locks.locked(1));
  EXPECT_NE(locks.Lock(1), nullptr);
}

}  // namespace
}  // namespace postern::pop3server
