#include "smtpserver/received.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace postern::smtpserver {
namespace {

TEST(ReceivedTest, Fields) {
  setenv("TZ", "UTC", 1);
  tzset();
  ReceivedInfo i;
  i.helo = "client.test";
  i.client_ip = "192.0.2.7";
  i.hostname = "mx.example.test";
  i.queue_id = "0ABC";
  i.single_recipient = "u@example.test";
  i.time = 0;
  EXPECT_EQ(BuildReceivedHeader(i),
            "Received: from client.test (unknown [192.0.2.7])\r\n"
            "\tby mx.example.test (Postern) with ESMTP id 0ABC\r\n"
            "\tfor <u@example.test>; Thu, 1 Jan 1970 00:00:00 +0000\r\n");
}

TEST(ReceivedTest, HostileHeloCannotBreakTheField) {
  ReceivedInfo i;
  i.helo = "evil)\r\nX-Injected: yes (";
  i.client_ip = "192.0.2.7";
  i.hostname = "mx";
  std::string h = BuildReceivedHeader(i);
  EXPECT_EQ(h.find("X-Injected: yes"), std::string::npos) << h;
  EXPECT_EQ(h.find(")?"), std::string::npos);
  size_t lines = 0;
  for (size_t p = h.find("\r\n"); p != std::string::npos; p = h.find("\r\n", p + 2)) ++lines;
  EXPECT_EQ(lines, 2u);
}

TEST(ReceivedTest, ProtocolNames) {
  EXPECT_EQ(ProtocolName(false, false, false), "SMTP");
  EXPECT_EQ(ProtocolName(true, false, false), "ESMTP");
  EXPECT_EQ(ProtocolName(true, true, false), "ESMTPS");
  EXPECT_EQ(ProtocolName(true, false, true), "UTF8SMTP");
  EXPECT_EQ(ProtocolName(true, true, true), "UTF8SMTPS");
  EXPECT_EQ(ProtocolName(true, false, false, true), "ESMTPA");
  EXPECT_EQ(ProtocolName(true, true, false, true), "ESMTPSA");
  EXPECT_EQ(ProtocolName(true, true, true, true), "UTF8SMTPSA");
}

TEST(ReceivedTest, SubmissionHidesTheClient) {
  setenv("TZ", "UTC", 1);
  tzset();
  ReceivedInfo i;
  i.helo = "laptop.home";
  i.client_ip = "198.51.100.9";
  i.tls = "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)";
  i.hostname = "mx.example.test";
  i.queue_id = "0ABC";
  i.authenticated = true;
  i.hide_client = true;
  const std::string h = BuildReceivedHeader(i);
  EXPECT_EQ(h,
            "Received: (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n"
            "\tby mx.example.test (Postern) with ESMTPSA id 0ABC; Thu, 1 Jan 1970 00:00:00 "
            "+0000\r\n");
  i.hide_client = false;
  EXPECT_NE(BuildReceivedHeader(i).find("from laptop.home (unknown [198.51.100.9])"),
            std::string::npos);
}

}  // namespace
}  // namespace postern::smtpserver
