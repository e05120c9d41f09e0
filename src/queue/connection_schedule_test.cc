#include "queue/connection_schedule.h"

#include <gtest/gtest.h>

#include <map>

namespace postern::queue {
namespace {

TEST(ConnectionScheduleTest, OneConnectionPerWaitingJobUpToTheDestinationLimit) {
  ConnectionSchedule s(
      {.max_connections = 100, .max_per_destination = 3, .messages_per_connection = 10});
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(s.Add("a.example", "a" + std::to_string(i)));
  EXPECT_EQ(s.Open(), (std::vector<std::string>{"a.example", "a.example", "a.example"}));
  EXPECT_EQ(s.open_connections("a.example"), 3);
  EXPECT_TRUE(s.Open().empty());  // at the limit
  s.Close("a.example");
  EXPECT_EQ(s.Open(), std::vector<std::string>{"a.example"});
}

TEST(ConnectionScheduleTest, NoMoreConnectionsThanWaitingJobs) {
  ConnectionSchedule s(
      {.max_connections = 100, .max_per_destination = 10, .messages_per_connection = 10});
  s.Add("a.example", "a1");
  EXPECT_EQ(s.Open().size(), 1u);
  EXPECT_TRUE(s.Open().empty());  // one job, one connection on its way
  s.Add("a.example", "a2");
  EXPECT_EQ(s.Open().size(), 1u);  // a second job while both are still connecting
  // Once a connection takes a job, a new job can wait for it to finish
  // rather than open another connection... unless none is starting.
  EXPECT_EQ(s.Next("a.example", 0), "a1");
  EXPECT_EQ(s.Next("a.example", 0), "a2");
  s.Add("a.example", "a3");
  EXPECT_EQ(s.Open().size(), 1u);
}

TEST(ConnectionScheduleTest, DuplicateKeysAreRefusedUntilFinished) {
  ConnectionSchedule s({});
  EXPECT_TRUE(s.Add("a.example", "k"));
  EXPECT_FALSE(s.Add("a.example", "k"));
  EXPECT_FALSE(s.Add("b.example", "k"));
  s.Open();
  EXPECT_EQ(s.Next("a.example", 0), "k");
  EXPECT_FALSE(s.Add("a.example", "k"));  // being sent
  s.Finish("k");
  EXPECT_TRUE(s.Add("a.example", "k"));
}

TEST(ConnectionScheduleTest, ConnectionReuseStopsAtMessagesPerConnection) {
  ConnectionSchedule s(
      {.max_connections = 1, .max_per_destination = 1, .messages_per_connection = 2});
  for (int i = 0; i < 3; ++i) s.Add("a.example", "a" + std::to_string(i));
  ASSERT_EQ(s.Open().size(), 1u);
  EXPECT_EQ(s.Next("a.example", 0), "a0");
  EXPECT_EQ(s.Next("a.example", 1), "a1");
  EXPECT_EQ(s.Next("a.example", 2), std::nullopt);  // closes; a2 waits for the next one
  EXPECT_EQ(s.waiting(), 1u);
  s.Close("a.example");
  EXPECT_EQ(s.Open(), std::vector<std::string>{"a.example"});
  EXPECT_EQ(s.Next("a.example", 0), "a2");
}

TEST(ConnectionScheduleTest, TotalLimitAndTurnsAcrossDestinations) {
  ConnectionSchedule s(
      {.max_connections = 2, .max_per_destination = 5, .messages_per_connection = 100});
  for (int i = 0; i < 10; ++i) s.Add("big.example", "big" + std::to_string(i));
  s.Add("small.example", "small");
  auto first = s.Open();
  ASSERT_EQ(first.size(), 2u);
  // Both destinations got one: the small one is not starved by the big one.
  EXPECT_EQ(std::count(first.begin(), first.end(), "small.example"), 1);
  EXPECT_EQ(s.open_connections(), 2);
  EXPECT_TRUE(s.Open().empty());
  EXPECT_EQ(s.Next("small.example", 0), "small");
  EXPECT_EQ(s.Next("small.example", 1), std::nullopt);
  s.Close("small.example");
  EXPECT_EQ(s.Open(), std::vector<std::string>{"big.example"});
}

TEST(ConnectionScheduleTest, TakeAllEmptiesADestinationAndFailedConnectsStopStarting) {
  ConnectionSchedule s(
      {.max_connections = 10, .max_per_destination = 2, .messages_per_connection = 100});
  for (int i = 0; i < 4; ++i) s.Add("down.example", "d" + std::to_string(i));
  EXPECT_EQ(s.Open().size(), 2u);
  auto taken = s.TakeAll("down.example");
  EXPECT_EQ(taken.size(), 4u);
  EXPECT_EQ(s.waiting(), 0u);
  EXPECT_EQ(s.known(), 4u);  // still known until finished
  for (const auto& k : taken) s.Finish(k);
  s.Close("down.example");
  s.Close("down.example");
  EXPECT_EQ(s.open_connections(), 0);
  EXPECT_EQ(s.known(), 0u);
  s.Close("down.example");  // an extra close changes nothing
  EXPECT_EQ(s.open_connections(), 0);
}

TEST(ConnectionScheduleTest, EveryJobIsHandedOutExactlyOnce) {
  // A simulation: random arrivals and connection lifetimes; invariants hold.
  ConnectionSchedule s(
      {.max_connections = 7, .max_per_destination = 3, .messages_per_connection = 4});
  std::map<std::string, int> handed;
  unsigned seed = 12345;
  auto rnd = [&seed](unsigned n) {
    seed = seed * 1103515245 + 12345;
    return (seed >> 16) % n;
  };
  struct Conn {
    std::string dest;
    int sent = 0;
  };
  std::vector<Conn> conns;
  int added = 0;
  for (int step = 0; step < 5000; ++step) {
    if (rnd(3) == 0 && added < 2000) {
      s.Add("d" + std::to_string(rnd(5)), "job" + std::to_string(added++));
    }
    for (auto& d : s.Open()) conns.push_back({d, 0});
    ASSERT_LE(s.open_connections(), 7);
    if (conns.empty()) continue;
    size_t i = rnd(conns.size());
    auto job = s.Next(conns[i].dest, conns[i].sent);
    if (job) {
      ++handed[*job];
      ++conns[i].sent;
      s.Finish(*job);
    } else {
      s.Close(conns[i].dest);
      conns.erase(conns.begin() + i);
    }
  }
  // Drain the rest.
  while (s.waiting() > 0 || !conns.empty()) {
    for (auto& d : s.Open()) conns.push_back({d, 0});
    ASSERT_FALSE(conns.empty());
    auto job = s.Next(conns.back().dest, conns.back().sent);
    if (job) {
      ++handed[*job];
      ++conns.back().sent;
      s.Finish(*job);
    } else {
      s.Close(conns.back().dest);
      conns.pop_back();
    }
  }
  EXPECT_EQ(static_cast<int>(handed.size()), added);
  for (const auto& [k, n] : handed) EXPECT_EQ(n, 1) << k;
  EXPECT_EQ(s.open_connections(), 0);
}

}  // namespace
}  // namespace postern::queue
