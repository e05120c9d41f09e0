#include "mailbox/notifier.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace postern::mailbox {
namespace {

TEST(NotifierTest, DeliversToSubscribersOfTheAccount) {
  ChangeNotifier n;
  std::vector<uint32_t> a, b;
  uint64_t ta = n.Subscribe(1, [&](const MailboxChange& c) { a.push_back(c.uid); });
  n.Subscribe(2, [&](const MailboxChange& c) { b.push_back(c.uid); });
  n.Publish({1, 10, 5, 7});
  n.Publish({2, 20, 6, 8});
  n.Publish({3, 30, 7, 9});
  EXPECT_EQ(a, std::vector<uint32_t>{7});
  EXPECT_EQ(b, std::vector<uint32_t>{8});
  n.Unsubscribe(ta);
  n.Unsubscribe(ta);  // twice is harmless
  n.Publish({1, 10, 8, 11});
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(n.subscribers(), 1u);
}

TEST(NotifierTest, CallbackMayUnsubscribeItself) {
  ChangeNotifier n;
  int calls = 0;
  uint64_t token = 0;
  token = n.Subscribe(1, [&](const MailboxChange&) {
    ++calls;
    n.Unsubscribe(token);
  });
  n.Publish({1, 1, 1, 1});
  n.Publish({1, 1, 2, 2});
  EXPECT_EQ(calls, 1);
}

TEST(NotifierTest, ConcurrentPublishAndSubscribe) {
  ChangeNotifier n;
  std::atomic<int> seen{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        uint64_t tok = n.Subscribe(t, [&](const MailboxChange&) { ++seen; });
        n.Publish({t, 1, static_cast<uint64_t>(i), 1});
        n.Unsubscribe(tok);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(seen.load(), 2000);
  EXPECT_EQ(n.subscribers(), 0u);
}

}  // namespace
}  // namespace postern::mailbox
