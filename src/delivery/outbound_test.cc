// The outbound agent with a real store, a static DNS zone and a scripted
// SMTP server as the remote MX: entries handed over in memory (Offer).
#include "delivery/outbound.h"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/eventually.h"
#include "base/log.h"
#include "smtpclient/fake_smtp_server.h"
#include "store/test_store.h"

namespace postern::delivery {
namespace {

using namespace std::chrono_literals;
using smtpclient::FakeSmtpServer;

constexpr const char* kStored = "Subject: stored\r\n\r\nthe copy in the store\r\n";

class OutboundAgentTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ::signal(SIGPIPE, SIG_IGN); }

  void SetUp() override {
    dir_ = store::FreshTestDir("outbound");
    auto s = store::OpenTestStore(dir_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    const std::string zone = (dir_ / "zone.txt").string();
    std::ofstream(zone) << "example.net. 300 IN MX 10 mx.example.net.\n"
                           "mx.example.net. 300 IN A 127.0.0.1\n";
    config::DnsConfig dns{};
    dns.static_zone = zone;
    dns.timeout = 5;
    auto resolver = dns::MakeResolver(ctx_, dns);
    ASSERT_TRUE(resolver.ok()) << resolver.status().ToString();
    resolver_ = std::move(*resolver);
  }

  void TearDown() override {
    if (agent_) {
      agent_->Stop();
      EXPECT_TRUE(agent_->WaitStopped(5s));
    }
    ctx_.stop();
    if (thread_.joinable()) thread_.join();
    agent_.reset();
    resolver_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void StartAgent(uint16_t port) {
    OutboundOptions o;
    o.hostname = "mx.example.test";
    o.remote_port = port;
    o.dane = false;
    o.mta_sts = false;
    o.connect_timeout = 1s;
    o.command_timeout = 1s;
    o.data_timeout = 1s;
    o.rescan_interval = 3600;  // only the first scan, at start
    agent_ = std::make_unique<OutboundAgent>(
        *store_, pool_, *resolver_,
        std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client), o);
    agent_->Start(ctx_);
    thread_ = std::thread([this] {
      auto guard = asio::make_work_guard(ctx_);
      ctx_.run();
    });
  }

  // Queues a message to bob@example.net, as the submission server commits
  // it, and returns the committed entry (recipient ids set).
  store::QueueEntry Queue() {
    auto ref = store_->blobs().Put(kStored);
    EXPECT_TRUE(ref.ok());
    store::QueueEntry e;
    e.id = "Q1";
    e.created = Clock::Real().NowUnix();
    e.mail_from = "alice@example.test";
    e.blob = ref->hash;
    e.size = ref->size;
    store::QueueRecipient r;
    r.address = "bob@example.net";
    r.original = r.address;
    r.local = false;
    r.next_attempt = e.created;
    e.recipients.push_back(r);
    EXPECT_TRUE(store_->Enqueue(e).ok());
    return **store_->GetQueueEntry(e.id);
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  asio::thread_pool pool_{2};
  asio::io_context ctx_;
  std::unique_ptr<dns::Resolver> resolver_;
  std::unique_ptr<OutboundAgent> agent_;
  std::thread thread_;
};

TEST_F(OutboundAgentTest, AnOfferedEntryIsSentWithItsMessageFromMemory) {
  FakeSmtpServer server(FakeSmtpServer::Script{});
  StartAgent(server.endpoint().port());
  // The agent's first scan has found nothing yet; the entry is committed
  // after it, and only offered: no scan reads it back.
  ASSERT_TRUE(Eventually([&] { return agent_->stats().connections == 0; }));
  std::this_thread::sleep_for(100ms);
  store::QueueEntry entry = Queue();
  // Different bytes from the stored copy, to see which one goes out.
  agent_->Offer(entry, std::make_shared<const std::string>("Subject: memory\r\n\r\nin memory\r\n"));
  ASSERT_TRUE(Eventually([&] { return agent_->stats().delivered == 1; }));
  ASSERT_TRUE(Eventually([&] { return store_->ListQueue()->empty(); }));
  server.Join();
  ASSERT_EQ(server.messages.size(), 1u);
  EXPECT_NE(server.messages[0].find("in memory"), std::string::npos) << server.messages[0];
}

TEST_F(OutboundAgentTest, AnEntryOfferedAfterItWasDeliveredIsNotSentAgain) {
  FakeSmtpServer server(FakeSmtpServer::Script{});
  store::QueueEntry entry = Queue();
  StartAgent(server.endpoint().port());  // its first scan finds the entry
  ASSERT_TRUE(Eventually([&] { return agent_->stats().delivered == 1; }));
  ASSERT_TRUE(Eventually([&] { return store_->ListQueue()->empty(); }));
  server.Join();
  // The offer of the same commit arrives late (it raced with the scan). A
  // second send would find no server (the fake served its one connection)
  // and be counted as a deferral.
  agent_->Offer(entry, std::make_shared<const std::string>(kStored));
  std::this_thread::sleep_for(1500ms);
  OutboundStats stats = agent_->stats();
  EXPECT_EQ(stats.delivered, 1u);
  EXPECT_EQ(stats.deferred, 0u);
  EXPECT_EQ(stats.connections, 1u);
  EXPECT_EQ(server.messages.size(), 1u);
}

TEST_F(OutboundAgentTest, AHeldEntryIsNotTakenFromAnOffer) {
  FakeSmtpServer server(FakeSmtpServer::Script{});
  StartAgent(server.endpoint().port());
  std::this_thread::sleep_for(100ms);
  store::QueueEntry entry = Queue();
  ASSERT_TRUE(store_->HoldQueueEntry(entry.id, true).ok());
  entry.held = true;
  agent_->Offer(entry, std::make_shared<const std::string>(kStored));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(agent_->stats().connections, 0u);
  EXPECT_EQ(store_->ListQueue()->size(), 1u);
  // Released, it goes at the next kick (the administrator's `queue release`).
  ASSERT_TRUE(store_->HoldQueueEntry(entry.id, false).ok());
  agent_->Kick();
  ASSERT_TRUE(Eventually([&] { return agent_->stats().delivered == 1; }));
  server.Join();
}

}  // namespace
}  // namespace postern::delivery
