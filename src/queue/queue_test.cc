#include <gtest/gtest.h>

#include <set>

#include "queue/dsn.h"
#include "queue/queue_id.h"
#include "queue/schedule.h"

namespace postern::queue {
namespace {

TEST(QueueIdTest, UniqueAndOrdered) {
  std::set<std::string> seen;
  std::string last;
  for (int i = 0; i < 10000; ++i) {
    std::string id = NewQueueId();
    EXPECT_TRUE(IsQueueId(id)) << id;
    EXPECT_TRUE(seen.insert(id).second) << "duplicate " << id;
    EXPECT_GE(id.substr(0, 11), last.substr(0, std::min<size_t>(11, last.size())));
    last = id;
  }
  EXPECT_FALSE(IsQueueId("short"));
  EXPECT_FALSE(IsQueueId("0123456789ABCDEI"));  // I is not in the alphabet
}

TEST(ScheduleTest, BackoffDoublesUpToTheCap) {
  RetryPolicy p{60, 3600, 5 * 86400};
  EXPECT_EQ(NextAttempt(p, 1000, 1), 1060);
  EXPECT_EQ(NextAttempt(p, 1000, 2), 1120);
  EXPECT_EQ(NextAttempt(p, 1000, 3), 1240);
  EXPECT_EQ(NextAttempt(p, 1000, 10), 1000 + 3600);
  EXPECT_EQ(NextAttempt(p, 1000, 1000), 1000 + 3600);
  EXPECT_FALSE(IsLastChance(p, 0, 5 * 86400 - 1));
  EXPECT_TRUE(IsLastChance(p, 0, 5 * 86400));
}

TEST(DsnTest, WhoGetsANotice) {
  EXPECT_TRUE(WantsFailureNotice("a@b", 0));
  EXPECT_FALSE(WantsFailureNotice("", 0)) << "no bounce to the null sender";
  EXPECT_FALSE(WantsFailureNotice("a@b", 1)) << "NOTIFY=NEVER";
  EXPECT_FALSE(WantsFailureNotice("a@b", 2)) << "NOTIFY=SUCCESS only";
  EXPECT_TRUE(WantsFailureNotice("a@b", 2 | 4));
}

BounceInput Sample() {
  BounceInput in;
  in.reporting_host = "mx.example.test";
  in.queue_id = "QID1";
  in.bounce_id = "BID1";
  in.envelope_sender = "sender@remote.test";
  in.envid = "env-42";
  in.arrival = 1700000000;
  in.now = 1700000600;
  in.recipients.push_back({"full@example.test", "rfc822;full@example.test", "5.2.2",
                           "552 5.2.2 mailbox full@example.test is full"});
  in.original_message = "Subject: hello\r\nFrom: sender@remote.test\r\n\r\nBody line\r\n";
  return in;
}

TEST(DsnTest, ReportStructure) {
  std::string m = BuildBounce(Sample());
  EXPECT_NE(m.find("Content-Type: multipart/report; report-type=delivery-status;"),
            std::string::npos);
  EXPECT_NE(m.find("Auto-Submitted: auto-replied\r\n"), std::string::npos);
  EXPECT_NE(m.find("Reporting-MTA: dns; mx.example.test\r\n"), std::string::npos);
  EXPECT_NE(m.find("Original-Envelope-Id: env-42\r\n"), std::string::npos);
  EXPECT_NE(m.find("Final-Recipient: rfc822; full@example.test\r\n"), std::string::npos);
  EXPECT_NE(m.find("Original-Recipient: rfc822;full@example.test\r\n"), std::string::npos);
  EXPECT_NE(m.find("Action: failed\r\nStatus: 5.2.2\r\n"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: message/rfc822\r\n\r\nSubject: hello"), std::string::npos);
  EXPECT_NE(m.find("Body line"), std::string::npos);
  EXPECT_EQ(m.substr(m.size() - 2), "\r\n");
  // Every line ends in CRLF.
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\n') {
      ASSERT_TRUE(i > 0 && m[i - 1] == '\r') << "bare LF at " << i;
    }
  }
}

TEST(DsnTest, HeadersOnlyForRetHdrsAndLargeMessages) {
  BounceInput in = Sample();
  in.ret = "HDRS";
  std::string m = BuildBounce(in);
  EXPECT_NE(m.find("Content-Type: text/rfc822-headers"), std::string::npos);
  EXPECT_EQ(m.find("Body line"), std::string::npos);
  in = Sample();
  in.max_returned_bytes = 10;
  m = BuildBounce(in);
  EXPECT_EQ(m.find("Body line"), std::string::npos);
  EXPECT_NE(m.find("Subject: hello"), std::string::npos);
}

TEST(DsnTest, SuccessReports) {
  EXPECT_TRUE(WantsSuccessNotice("a@b", 2));
  EXPECT_TRUE(WantsSuccessNotice("a@b", 2 | 4));
  EXPECT_FALSE(WantsSuccessNotice("a@b", 0)) << "default: failures only";
  EXPECT_FALSE(WantsSuccessNotice("a@b", 4));
  EXPECT_FALSE(WantsSuccessNotice("", 2)) << "no report to the null sender";

  BounceInput in = Sample();
  in.delivered = true;
  in.ret = "FULL";  // RFC 3461 §4.3: a report without failures returns only the header
  in.recipients = {{"user@example.test", "", "2.0.0", "250 2.0.0 delivered to INBOX"}};
  std::string m = BuildBounce(in);
  EXPECT_NE(m.find("Subject: Successful Mail Delivery Report\r\n"), std::string::npos);
  EXPECT_NE(m.find("Action: delivered\r\nStatus: 2.0.0\r\n"), std::string::npos);
  EXPECT_EQ(m.find("Action: failed"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: text/rfc822-headers"), std::string::npos);
  EXPECT_EQ(m.find("Body line"), std::string::npos);
}

TEST(DsnTest, DelayWarnings) {
  EXPECT_TRUE(WantsDelayNotice("a@b", 0)) << "default: FAILURE,DELAY";
  EXPECT_TRUE(WantsDelayNotice("a@b", 8 | 4));
  EXPECT_FALSE(WantsDelayNotice("a@b", 4)) << "NOTIFY=FAILURE alone";
  EXPECT_FALSE(WantsDelayNotice("a@b", 1)) << "NOTIFY=NEVER";
  EXPECT_FALSE(WantsDelayNotice("", 0)) << "never to the null sender";

  BounceInput in = Sample();
  in.delay = true;
  in.ret = "FULL";
  in.will_retry_until = in.now + 5 * 86400;
  FailedRecipient r{
      "bob@example.net", "rfc822;bob@example.net", "4.4.1", "451 4.4.1 connection refused", "",
      "mx.example.net"};
  in.recipients = {r};
  std::string m = BuildBounce(in);
  EXPECT_NE(m.find("Subject: Delayed Mail (still being retried)\r\n"), std::string::npos);
  EXPECT_NE(m.find("Action: delayed\r\nStatus: 4.4.1\r\nRemote-MTA: dns; mx.example.net\r\n"),
            std::string::npos);
  EXPECT_NE(m.find("Will-Retry-Until: "), std::string::npos);
  EXPECT_NE(m.find("Content-Type: text/rfc822-headers"), std::string::npos);
  EXPECT_EQ(m.find("Body line"), std::string::npos) << "a warning returns only the header";
  EXPECT_EQ(m.find("Action: failed"), std::string::npos);
}

}  // namespace
}  // namespace postern::queue

namespace postern::queue {
namespace {

TEST(DsnTest, EnhancedCodeOfReplies) {
  EXPECT_EQ(EnhancedCodeOf("550 5.1.1 <bob@example.net>: unknown"), "5.1.1");
  EXPECT_EQ(EnhancedCodeOf("452 4.2.2 mailbox full"), "4.2.2");
  EXPECT_EQ(EnhancedCodeOf("550 User unknown"), "5.0.0");
  EXPECT_EQ(EnhancedCodeOf("451 try later"), "4.0.0");
  EXPECT_EQ(EnhancedCodeOf("550 4.1.1 mismatched class"), "5.0.0");
  EXPECT_EQ(EnhancedCodeOf(""), "5.0.0");
  EXPECT_EQ(EnhancedCodeOf("554 5.4.7 delivery time expired"), "5.4.7");
  EXPECT_EQ(EnhancedCodeOf("550 5.123.4567 too long"), "5.0.0");
}

}  // namespace
}  // namespace postern::queue
