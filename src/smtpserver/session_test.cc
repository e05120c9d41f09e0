// Byte-level session transcripts: a real SmtpServer on loopback with a fake
// Backend, driven by raw bytes from a blocking client socket.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <mutex>
#include <thread>

#include "base/base64.h"
#include "net/tls.h"
#include "sasl/fake_credentials.h"
#include "smtpserver/smtp_server.h"

namespace postern::smtpserver {
namespace {

using namespace std::chrono_literals;

class FakeBackend : public Backend {
 public:
  asio::awaitable<RecipientCheck> CheckRecipient(std::string address, bool postmaster,
                                                 uint64_t) override {
    ++checks;
    RecipientCheck c;
    if (postmaster) address = "postmaster@example.test";
    if (address.find("@example.test") == std::string::npos) {
      c.reply = smtp::Reply(554, "5.7.1", "<" + address + ">: Relay access denied");
    } else if (address.rfind("unknown", 0) == 0) {
      c.reply = smtp::Reply(550, "5.1.1", "<" + address + ">: User unknown");
    } else if (address.rfind("full", 0) == 0) {
      c.reply = smtp::Reply(452, "4.2.2", "<" + address + ">: Mailbox full");
    } else if (address.rfind("staff", 0) == 0) {  // an alias for 4,000 people
      c.reply = smtp::Reply(250, "2.1.5", "Ok");
      for (int i = 0; i < 4000; ++i) {
        c.destinations.push_back({"p" + std::to_string(i) + "@example.test", true, {}});
      }
    } else {
      c.reply = smtp::Reply(250, "2.1.5", "Ok");
      directory::Destination d;
      d.address = address;
      d.local = true;
      c.destinations.push_back(d);
    }
    co_return c;
  }
  asio::awaitable<Status> Accept(Envelope env, std::string content) override {
    if (fail_accept) co_return Unavailable("disk trouble");
    if (disk_full) co_return ResourceExhausted("database or disk is full");
    std::lock_guard lock(mu);
    envelopes.push_back(std::move(env));
    contents.push_back(std::move(content));
    co_return Status::Ok();
  }
  std::mutex mu;
  std::vector<Envelope> envelopes;
  std::vector<std::string> contents;
  std::atomic<bool> fail_accept{false};
  std::atomic<bool> disk_full{false};
  std::atomic<int> checks{0};
};

class SessionTest : public ::testing::Test {
 protected:
  void Start(SmtpServerOptions options = {}) {
    options.session.hostname = "mx.example.test";
    if (options.session.max_message_size == (50u << 20)) options.session.max_message_size = 10000;
    options_ = options;
    server_ = std::make_unique<SmtpServer>(pool_, backend_, options_);
    ASSERT_TRUE(server_->Bind({"127.0.0.1:0"}).ok());
    server_->Start();
    pool_.Start();
    port_ = server_->ports()[0];
  }
  void TearDown() override {
    if (server_) {
      server_->StopAccepting();
      server_->CloseAll();
      EXPECT_TRUE(server_->WaitForSessions(5s));
    }
    pool_.Stop();
  }

  // A client connection with reply-reading helpers.
  struct Client {
    asio::io_context ctx;
    asio::ip::tcp::socket sock{ctx};
    std::string buf;
    std::unique_ptr<asio::ssl::context> tls_ctx;
    std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls;

    void Write(std::string_view s) {
      if (tls) {
        asio::write(*tls, asio::buffer(s));
      } else {
        asio::write(sock, asio::buffer(s));
      }
    }
    // One complete (possibly multi-line) reply, or "" at EOF.
    std::string Reply() {
      std::string out;
      while (true) {
        size_t nl = buf.find("\r\n");
        if (nl == std::string::npos) {
          char tmp[4096];
          error_code ec;
          size_t n =
              tls ? tls->read_some(asio::buffer(tmp), ec) : sock.read_some(asio::buffer(tmp), ec);
          if (ec) return out;
          buf.append(tmp, n);
          continue;
        }
        std::string line = buf.substr(0, nl + 2);
        buf.erase(0, nl + 2);
        out += line;
        if (line.size() >= 4 && line[3] == ' ') return out;
      }
    }
    std::string Cmd(std::string_view line) {
      Write(std::string(line) + "\r\n");
      return Reply();
    }
    bool Closed() {
      char c;
      error_code ec;
      sock.read_some(asio::buffer(&c, 1), ec);
      return ec == asio::error::eof || ec == asio::error::connection_reset;
    }
  };

  std::unique_ptr<Client> Connect() {
    auto c = std::make_unique<Client>();
    c->sock.connect({asio::ip::make_address("127.0.0.1"), port_});
    // A broken server must fail the test, not hang it.
    struct timeval tv = {10, 0};
    setsockopt(c->sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return c;
  }
  std::unique_ptr<Client> ConnectAndGreet(const std::string& ehlo = "EHLO client.test") {
    auto c = Connect();
    EXPECT_EQ(c->Reply().substr(0, 4), "220 ");
    EXPECT_EQ(c->Cmd(ehlo).substr(0, 3), "250");
    return c;
  }
  static std::string Code(const std::string& reply) { return reply.substr(0, 9); }

  net::IoContextPool pool_{1};
  FakeBackend backend_;
  SmtpServerOptions options_;
  std::unique_ptr<SmtpServer> server_;
  uint16_t port_ = 0;
};

TEST_F(SessionTest, GreetingAndCapabilities) {
  Start();
  auto c = Connect();
  EXPECT_EQ(c->Reply(), "220 mx.example.test ESMTP Postern\r\n");
  std::string ehlo = c->Cmd("EHLO client.test");
  for (const char* cap :
       {"250-mx.example.test\r\n", "250-PIPELINING\r\n", "250-SIZE 10000\r\n", "250-8BITMIME\r\n",
        "250-SMTPUTF8\r\n", "250-ENHANCEDSTATUSCODES\r\n", "250-CHUNKING\r\n", "250 DSN\r\n"}) {
    EXPECT_NE(ehlo.find(cap), std::string::npos) << cap << " missing in\n" << ehlo;
  }
  EXPECT_EQ(ehlo.find("STARTTLS"), std::string::npos) << "no TLS configured";
  EXPECT_EQ(c->Cmd("HELO client.test"), "250 mx.example.test\r\n");
  EXPECT_EQ(Code(c->Cmd("NOOP")), "250 2.0.0");
  EXPECT_EQ(Code(c->Cmd("HELP")), "214-2.0.0");
  EXPECT_EQ(Code(c->Cmd("VRFY someone")), "252 2.5.0");
  EXPECT_EQ(Code(c->Cmd("EXPN list")), "502 5.5.1");
  EXPECT_EQ(Code(c->Cmd("ETRN example.test")), "502 5.5.1");
  EXPECT_EQ(Code(c->Cmd("AUTH PLAIN AAAA")), "503 5.5.1");
  EXPECT_EQ(Code(c->Cmd("STARTTLS")), "502 5.5.1");
  EXPECT_EQ(Code(c->Cmd("FOO")), "500 5.5.2");
  EXPECT_EQ(Code(c->Cmd("QUIT")), "221 2.0.0");
  EXPECT_TRUE(c->Closed());
}

TEST_F(SessionTest, SequenceErrors) {
  Start();
  auto c = Connect();
  c->Reply();
  EXPECT_EQ(Code(c->Cmd("MAIL FROM:<a@remote.test>")), "503 5.5.1");
  EXPECT_EQ(c->Cmd("EHLO client.test").substr(0, 4), "250-");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<user@example.test>")), "503 5.5.1");
  EXPECT_EQ(Code(c->Cmd("DATA")), "503 5.5.1");
  EXPECT_EQ(Code(c->Cmd("MAIL FROM:<a@remote.test>")), "250 2.1.0");
  EXPECT_EQ(Code(c->Cmd("MAIL FROM:<a@remote.test>")), "503 5.5.1");
  EXPECT_EQ(Code(c->Cmd("DATA")), "503 5.5.1");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<unknown@example.test>")), "550 5.1.1");
  EXPECT_EQ(Code(c->Cmd("DATA")), "554 5.5.1") << "all recipients were refused";
  EXPECT_EQ(Code(c->Cmd("RSET")), "250 2.0.0");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<user@example.test>")), "503 5.5.1") << "RSET ended MAIL";
}

TEST_F(SessionTest, OneMessage) {
  Start();
  auto c = ConnectAndGreet();
  EXPECT_EQ(Code(c->Cmd("MAIL FROM:<Sender@Remote.TEST> BODY=8BITMIME")), "250 2.1.0");
  EXPECT_EQ(
      Code(c->Cmd("RCPT TO:<user@example.test> NOTIFY=FAILURE ORCPT=rfc822;user@example.test")),
      "250 2.1.5");
  EXPECT_EQ(c->Cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>\r\n");
  std::string reply = c->Cmd("Subject: hi\r\n\r\n..leading dot\r\nbody\r\n.");
  ASSERT_EQ(Code(reply), "250 2.0.0") << reply;
  ASSERT_EQ(backend_.envelopes.size(), 1u);
  const Envelope& env = backend_.envelopes[0];
  EXPECT_NE(reply.find("queued as " + env.queue_id), std::string::npos);
  EXPECT_EQ(env.mail_from, "Sender@remote.test");
  ASSERT_EQ(env.recipients.size(), 1u);
  EXPECT_EQ(env.recipients[0].address, "user@example.test");
  EXPECT_EQ(env.recipients[0].params.notify, smtp::kNotifyFailure);
  EXPECT_EQ(env.params.body, smtp::BodyType::k8BitMime);
  const std::string& content = backend_.contents[0];
  EXPECT_EQ(content.rfind("Received: from client.test (unknown [127.0.0.1])\r\n", 0), 0u)
      << content;
  EXPECT_NE(content.find("by mx.example.test (Postern) with ESMTP id " + env.queue_id),
            std::string::npos);
  EXPECT_NE(content.find("for <user@example.test>;"), std::string::npos);
  EXPECT_NE(content.find("\r\nSubject: hi\r\n\r\n.leading dot\r\nbody\r\n"), std::string::npos)
      << "body must follow, dot-unstuffed";
  EXPECT_EQ(content.substr(content.size() - 6), "body\r\n");
}

// A recipient given twice is accepted twice but looked up and kept once;
// alias expansion counts toward a per-transaction bound (452: send the rest
// in another transaction).
TEST_F(SessionTest, DuplicateRecipientsAndExpansionBound) {
  Start();
  auto c = ConnectAndGreet();
  EXPECT_EQ(Code(c->Cmd("MAIL FROM:<a@remote.test>")), "250 2.1.0");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<one@example.test>")), "250 2.1.5");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<ONE@Example.TEST>")), "250 2.1.5");
  EXPECT_EQ(backend_.checks.load(), 1) << "the duplicate was looked up again";
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<staff1@example.test>")), "250 2.1.5");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<staff2@example.test>")), "250 2.1.5");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<staff3@example.test>")), "452 4.5.3");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<two@example.test>")), "250 2.1.5");
  EXPECT_EQ(c->Cmd("DATA").substr(0, 4), "354 ");
  EXPECT_EQ(Code(c->Cmd("Subject: x\r\n\r\nbody\r\n.")), "250 2.0.0");
  ASSERT_EQ(backend_.envelopes.size(), 1u);
  EXPECT_EQ(backend_.envelopes[0].recipients.size(), 4u);
}

TEST_F(SessionTest, PipelinedTransactionGetsRepliesInOrder) {
  Start();
  auto c = ConnectAndGreet();
  c->Write(
      "MAIL FROM:<a@remote.test>\r\nRCPT TO:<one@example.test>\r\nRCPT "
      "TO:<unknown@example.test>\r\n"
      "RCPT TO:<two@example.test>\r\nDATA\r\n");
  EXPECT_EQ(Code(c->Reply()), "250 2.1.0");
  EXPECT_EQ(Code(c->Reply()), "250 2.1.5");
  EXPECT_EQ(Code(c->Reply()), "550 5.1.1");
  EXPECT_EQ(Code(c->Reply()), "250 2.1.5");
  EXPECT_EQ(c->Reply().substr(0, 4), "354 ");
  c->Write("Subject: x\r\n\r\nbody\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<one@example.test>\r\nQUIT\r\n");
  EXPECT_EQ(Code(c->Reply()), "250 2.0.0");
  EXPECT_EQ(Code(c->Reply()), "250 2.1.0");
  EXPECT_EQ(Code(c->Reply()), "250 2.1.5");
  EXPECT_EQ(Code(c->Reply()), "221 2.0.0");
  ASSERT_EQ(backend_.envelopes.size(), 1u);
  EXPECT_EQ(backend_.envelopes[0].recipients.size(), 2u);
  EXPECT_EQ(backend_.contents[0].find("for <"), std::string::npos)
      << "no 'for' clause with several recipients";
}

// RFC 2920 §3.2: replies must not wait for a partial command, and only
// RSET/MAIL/RCPT replies may be grouped at all.
TEST_F(SessionTest, RepliesDoNotWaitForPartialCommands) {
  Start();
  auto c = ConnectAndGreet();
  c->Write("NOOP\r\nNO");  // the second command is still incomplete
  EXPECT_EQ(Code(c->Reply()), "250 2.0.0");
  c->Write("OP\r\nRSET\r\nRS");
  EXPECT_EQ(Code(c->Reply()), "250 2.0.0");
  EXPECT_EQ(Code(c->Reply()), "250 2.0.0") << "RSET's reply must not wait for a partial line";
  c->Write("ET\r\n");
  EXPECT_EQ(Code(c->Reply()), "250 2.0.0");
}

// A client that streams commands without reading replies cannot make the
// server buffer replies without bound: the server flushes after each read
// (at most 16 KiB of commands; kMaxPendingOutput caps the rest as a second
// line of defence), its writes then block, and it stops reading.
TEST_F(SessionTest, UnreadRepliesAreBounded) {
  SmtpServerOptions o;
  o.session.command_timeout = std::chrono::seconds(2);
  Start(o);
  auto c = ConnectAndGreet();
  int rcvbuf = 4096;
  setsockopt(c->sock.native_handle(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  std::string burst;  // RSET: not an error, and its reply may be grouped
  for (int i = 0; i < 1000; ++i) burst += "RSET\r\n";
  error_code ec;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  size_t sent = 0;
  c->sock.non_blocking(true);
  while (!ec && std::chrono::steady_clock::now() < deadline && sent < (16u << 20)) {
    sent += c->sock.write_some(asio::buffer(burst), ec);
    if (ec == asio::error::would_block) {
      ec = {};
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  // Either the server stopped reading (its replies are not read) or it closed
  // the session after its write timed out; it never kept accepting input.
  EXPECT_LT(sent, 16u << 20) << "the server read 16 MB of commands while nobody read its replies";
}

TEST_F(SessionTest, SizeLimits) {
  Start();
  auto c = ConnectAndGreet();
  EXPECT_EQ(Code(c->Cmd("MAIL FROM:<a@remote.test> SIZE=10001")), "552 5.3.4");
  EXPECT_EQ(Code(c->Cmd("MAIL FROM:<a@remote.test> SIZE=100")), "250 2.1.0");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<u@example.test>")), "250 2.1.5");
  EXPECT_EQ(c->Cmd("DATA").substr(0, 3), "354");
  std::string big;
  for (int i = 0; i < 200; ++i) big += std::string(99, 'x') + "\r\n";
  EXPECT_EQ(Code(c->Cmd(big + ".")), "552 5.3.4") << "lied about SIZE";
  EXPECT_TRUE(backend_.envelopes.empty());
  EXPECT_EQ(Code(c->Cmd("NOOP")), "250 2.0.0") << "the session goes on";
}

TEST_F(SessionTest, LongLines) {
  SmtpServerOptions o;
  o.session.max_command_line = 512;
  o.session.max_data_line = 1000;
  Start(o);
  auto c = ConnectAndGreet();
  EXPECT_EQ(Code(c->Cmd("NOOP " + std::string(600, 'a'))), "500 5.5.2");
  EXPECT_EQ(Code(c->Cmd("NOOP")), "250 2.0.0");
  c->Cmd("MAIL FROM:<a@remote.test>");
  c->Cmd("RCPT TO:<u@example.test>");
  c->Cmd("DATA");
  EXPECT_EQ(Code(c->Cmd("Subject: x\r\n\r\n" + std::string(1500, 'y') + "\r\n.")), "554 5.6.0");
  EXPECT_TRUE(backend_.envelopes.empty());
}

TEST_F(SessionTest, TooManyRecipients) {
  SmtpServerOptions o;
  o.session.max_recipients = 2;
  Start(o);
  auto c = ConnectAndGreet();
  c->Cmd("MAIL FROM:<a@remote.test>");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<a@example.test>")), "250 2.1.5");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<b@example.test>")), "250 2.1.5");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<c@example.test>")), "452 4.5.3");
}

TEST_F(SessionTest, TooManyErrorsCloses) {
  SmtpServerOptions o;
  o.session.max_errors = 3;
  Start(o);
  auto c = ConnectAndGreet();
  EXPECT_EQ(Code(c->Cmd("BAD1")), "500 5.5.2");
  EXPECT_EQ(Code(c->Cmd("BAD2")), "500 5.5.2");
  EXPECT_EQ(Code(c->Cmd("BAD3")), "500 5.5.2");
  EXPECT_EQ(Code(c->Reply()), "421 4.7.0");
  EXPECT_TRUE(c->Closed());
}

TEST_F(SessionTest, CommandTimeout) {
  SmtpServerOptions o;
  o.session.command_timeout = 300ms;
  Start(o);
  auto c = ConnectAndGreet();
  EXPECT_EQ(Code(c->Reply()), "421 4.4.2");
  EXPECT_TRUE(c->Closed());
}

TEST_F(SessionTest, DataTimeoutKeepsNothing) {
  SmtpServerOptions o;
  o.session.data_timeout = 300ms;
  Start(o);
  auto c = ConnectAndGreet();
  c->Cmd("MAIL FROM:<a@remote.test>");
  c->Cmd("RCPT TO:<u@example.test>");
  c->Cmd("DATA");
  c->Write("Subject: half a message\r\n");
  EXPECT_EQ(Code(c->Reply()), "421 4.4.2");
  EXPECT_TRUE(backend_.envelopes.empty());
}

TEST_F(SessionTest, BackendFailureIsTemporary) {
  Start();
  backend_.fail_accept = true;
  auto c = ConnectAndGreet();
  c->Cmd("MAIL FROM:<a@remote.test>");
  c->Cmd("RCPT TO:<u@example.test>");
  c->Cmd("DATA");
  EXPECT_EQ(Code(c->Cmd("x\r\n.")), "451 4.3.0");
  // A full disk is said as such (RFC 3463 X.3.1), still temporary.
  backend_.fail_accept = false;
  backend_.disk_full = true;
  c->Cmd("MAIL FROM:<a@remote.test>");
  c->Cmd("RCPT TO:<u@example.test>");
  c->Cmd("DATA");
  EXPECT_EQ(Code(c->Cmd("x\r\n.")), "452 4.3.1");
}

TEST_F(SessionTest, Chunking) {
  Start();
  auto c = ConnectAndGreet();
  // BDAT without a transaction: the chunk is still read, then refused.
  c->Write("BDAT 5\r\nhello");
  EXPECT_EQ(Code(c->Reply()), "503 5.5.1");
  EXPECT_EQ(Code(c->Cmd("NOOP")), "250 2.0.0") << "the chunk was not taken as commands";
  c->Cmd("MAIL FROM:<a@remote.test>");
  c->Cmd("RCPT TO:<u@example.test>");
  c->Write("BDAT 16\r\nSubject: x\r\n\r\nab");
  EXPECT_EQ(Code(c->Reply()), "250 2.0.0");
  EXPECT_EQ(Code(c->Cmd("DATA")), "503 5.5.1");
  c->Write("BDAT 5 LAST\r\nc\r\n.\r");
  std::string r = c->Reply();
  EXPECT_EQ(Code(r), "250 2.0.0");
  EXPECT_NE(r.find("queued as"), std::string::npos);
  ASSERT_EQ(backend_.contents.size(), 1u);
  EXPECT_NE(backend_.contents[0].find("\r\nSubject: x\r\n\r\nabc\r\n.\r\n"), std::string::npos)
      << "BDAT content is not dot-unstuffed; a trailing CR becomes CRLF";
  // BDAT 0 LAST ends a message, and oversize chunks are read and refused.
  c->Cmd("MAIL FROM:<a@remote.test>");
  c->Cmd("RCPT TO:<u@example.test>");
  c->Write("BDAT 6000\r\n" + std::string(6000, 'z'));
  EXPECT_EQ(Code(c->Reply()), "250 2.0.0");
  c->Write("BDAT 6000\r\n" + std::string(6000, 'z'));
  EXPECT_EQ(Code(c->Reply()), "552 5.3.4") << "the chunks together exceed the limit";
  EXPECT_EQ(Code(c->Cmd("NOOP")), "250 2.0.0") << "the chunk was read, the session goes on";
  c->Cmd("MAIL FROM:<a@remote.test>");
  c->Cmd("RCPT TO:<u@example.test>");
  c->Write("BDAT 3\r\nabcBDAT 0 LAST\r\n");
  EXPECT_EQ(Code(c->Reply()), "250 2.0.0");
  EXPECT_EQ(Code(c->Reply()), "250 2.0.0");
  EXPECT_EQ(backend_.contents.size(), 2u);
}

TEST_F(SessionTest, OversizedSingleChunkClosesTheSession) {
  Start();
  auto c = ConnectAndGreet();
  c->Cmd("MAIL FROM:<a@remote.test>");
  c->Cmd("RCPT TO:<u@example.test>");
  EXPECT_EQ(Code(c->Cmd("BDAT 99999999999999999999")), "552 5.3.4");
  EXPECT_TRUE(c->Closed());
  EXPECT_TRUE(backend_.envelopes.empty());
}

TEST_F(SessionTest, HeloRefusesExtensionParameters) {
  Start();
  auto c = ConnectAndGreet("HELO old.client");
  EXPECT_EQ(Code(c->Cmd("MAIL FROM:<a@remote.test> SIZE=10")), "555 5.5.4");
  EXPECT_EQ(Code(c->Cmd("MAIL FROM:<a@remote.test>")), "250 2.1.0");
  c->Cmd("RCPT TO:<u@example.test>");
  c->Cmd("DATA");
  EXPECT_EQ(Code(c->Cmd("x\r\n.")), "250 2.0.0");
  EXPECT_NE(backend_.contents[0].find("with SMTP id"), std::string::npos);
}

TEST_F(SessionTest, SmuggledCommandsStayInsideTheMessage) {
  Start();
  const char* vectors[] = {"\r\n.\n", "\n.\n", "\r.\r", "\n.\r\n", "\r\n.\r", "\r.\r\n"};
  for (const char* v : vectors) {
    backend_.envelopes.clear();
    backend_.contents.clear();
    auto c = ConnectAndGreet();
    c->Cmd("MAIL FROM:<a@remote.test>");
    c->Cmd("RCPT TO:<u@example.test>");
    c->Cmd("DATA");
    c->Write(std::string("\r\nbody") + v +
             "MAIL FROM:<evil@remote.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\n"
             "Subject: smuggled\r\n\r\n.\r\n");
    EXPECT_EQ(Code(c->Reply()), "250 2.0.0");
    EXPECT_EQ(Code(c->Cmd("QUIT")), "221 2.0.0") << "the smuggled commands got replies";
    ASSERT_EQ(backend_.envelopes.size(), 1u);
    EXPECT_NE(backend_.contents[0].find("RCPT TO:<victim@example.test>"), std::string::npos);
  }
}

TEST_F(SessionTest, MemoryBudgetRefusesTemporarily) {
  SmtpServerOptions o;
  o.session.memory = std::make_shared<MemoryBudget>(3000);
  Start(o);
  auto c = ConnectAndGreet();
  c->Cmd("MAIL FROM:<a@remote.test>");
  c->Cmd("RCPT TO:<u@example.test>");
  c->Cmd("DATA");
  std::string big;
  for (int i = 0; i < 50; ++i) big += std::string(98, 'x') + "\r\n";
  EXPECT_EQ(Code(c->Cmd(big + ".")), "452 4.3.1");
  EXPECT_TRUE(backend_.envelopes.empty());
  EXPECT_EQ(o.session.memory->used(), 0u) << "the refused message gave its share back";
  c->Cmd("MAIL FROM:<a@remote.test>");
  c->Cmd("RCPT TO:<u@example.test>");
  c->Cmd("DATA");
  EXPECT_EQ(Code(c->Cmd("small\r\n.")), "250 2.0.0");
  EXPECT_EQ(o.session.memory->used(), 0u);
}

TEST_F(SessionTest, BareLineEndingsCanBeRefused) {
  SmtpServerOptions o;
  o.session.bare_line_endings = smtp::BareLineEndings::kReject;
  Start(o);
  auto c = ConnectAndGreet();
  c->Cmd("MAIL FROM:<a@remote.test>");
  c->Cmd("RCPT TO:<u@example.test>");
  c->Cmd("DATA");
  EXPECT_EQ(Code(c->Cmd("a\nb\r\n.")), "554 5.6.0");
  EXPECT_TRUE(backend_.envelopes.empty());
}

TEST_F(SessionTest, MailLoopsAreRefused) {
  SmtpServerOptions o;
  o.session.max_hops = 5;
  Start(o);
  auto c = ConnectAndGreet();
  c->Cmd("MAIL FROM:<a@remote.test>");
  c->Cmd("RCPT TO:<u@example.test>");
  c->Cmd("DATA");
  std::string headers;
  for (int i = 0; i < 5; ++i) headers += "Received: from hop" + std::to_string(i) + "\r\n";
  EXPECT_EQ(Code(c->Cmd(headers + "\r\nbody\r\n.")), "554 5.4.6");
}

TEST_F(SessionTest, BarePostmasterAndRelayDenied) {
  Start();
  auto c = ConnectAndGreet();
  c->Cmd("MAIL FROM:<>");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<Postmaster>")), "250 2.1.5");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<victim@remote.test>")), "554 5.7.1");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<@example.test:victim@remote.test>")), "554 5.7.1");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<victim@[192.0.2.1]>")), "554 5.7.1");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<full@example.test>")), "452 4.2.2");
}

TEST_F(SessionTest, ConnectionLimitPerAddress) {
  SmtpServerOptions o;
  o.max_connections_per_ip = 1;
  Start(o);
  auto first = Connect();
  EXPECT_EQ(first->Reply().substr(0, 4), "220 ");
  auto second = Connect();
  EXPECT_EQ(Code(second->Reply()), "421 4.7.0");
  EXPECT_TRUE(second->Closed());
  first->Cmd("QUIT");
  EXPECT_TRUE(first->Closed());
  // The slot is free again once the first session has ended.
  for (int i = 0; i < 50 && server_->active_sessions() > 0; ++i) std::this_thread::sleep_for(10ms);
  auto third = Connect();
  EXPECT_EQ(third->Reply().substr(0, 4), "220 ");
}

TEST_F(SessionTest, DrainEndsIdleSessions) {
  Start();
  auto c = ConnectAndGreet();
  server_->StopAccepting();
  server_->Drain();
  EXPECT_EQ(Code(c->Reply()), "421 4.3.2");
  EXPECT_TRUE(c->Closed());
}

TEST_F(SessionTest, StartTls) {
  auto dir = std::filesystem::temp_directory_path() / ("session-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(net::GenerateSelfSignedCertificate("mx.example.test", (dir / "c.pem").string(),
                                                 (dir / "k.pem").string())
                  .ok());
  SmtpServerOptions o;
  auto ctx = net::MakeServerTlsContext((dir / "c.pem").string(), (dir / "k.pem").string());
  ASSERT_TRUE(ctx.ok());
  o.session.tls = *ctx;
  Start(o);
  auto c = Connect();
  c->Reply();
  EXPECT_NE(c->Cmd("EHLO client.test").find("250-STARTTLS"), std::string::npos);
  c->Cmd("MAIL FROM:<before@remote.test>");
  // A command pipelined after STARTTLS must be thrown away, not run under TLS.
  c->Write("STARTTLS\r\nRSET\r\n");
  EXPECT_EQ(Code(c->Reply()), "220 2.0.0");
  c->tls_ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  c->tls = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(c->sock, *c->tls_ctx);
  c->tls->handshake(asio::ssl::stream_base::client);
  c->buf.clear();
  EXPECT_EQ(Code(c->Cmd("MAIL FROM:<a@remote.test>")), "503 5.5.1") << "EHLO needed again";
  std::string ehlo = c->Cmd("EHLO client.test");
  EXPECT_EQ(ehlo.find("STARTTLS"), std::string::npos);
  EXPECT_EQ(Code(c->Cmd("MAIL FROM:<a@remote.test>")), "250 2.1.0") << "old MAIL forgotten";
  EXPECT_EQ(Code(c->Cmd("STARTTLS")), "503 5.5.1");
  c->Cmd("RCPT TO:<u@example.test>");
  c->Cmd("DATA");
  EXPECT_EQ(Code(c->Cmd("x\r\n.")), "250 2.0.0");
  EXPECT_NE(backend_.contents[0].find("(using TLSv1.3 with cipher"), std::string::npos);
  EXPECT_NE(backend_.contents[0].find("with ESMTPS id"), std::string::npos);
  std::filesystem::remove_all(dir);
}

// ---- Submission (RFC 6409): AUTH, then sending as one's own addresses.

class SubmissionBackend : public FakeBackend {
 public:
  SubmissionBackend() { credentials.Add("alice@example.test", "secret"); }
  asio::awaitable<AuthOutcome> Authenticate(std::string name, std::optional<std::string> initial,
                                            sasl::Ask ask) override {
    co_return co_await AuthenticateWith(blocking, credentials, std::move(name), std::move(initial),
                                        std::move(ask));
  }
  asio::awaitable<Result<bool>> MaySendAs(std::string account, std::string sender) override {
    co_return sender == account ||
        (account == "alice@example.test" && sender == "sales@example.test");
  }
  asio::awaitable<RecipientCheck> CheckRelayRecipient(std::string address, uint64_t size) override {
    if (address.find("@example.test") != std::string::npos) {
      co_return co_await CheckRecipient(std::move(address), false, size);
    }
    RecipientCheck c;
    c.reply = smtp::Reply(250, "2.1.5", "Ok");
    c.destinations.push_back({address, false, {}});
    co_return c;
  }
  // Records what it was asked to sign; a marker field stands for a signature.
  asio::awaitable<std::string> DkimSignatures(std::string domain,
                                              std::string_view message) override {
    std::lock_guard lock(mu);
    signed_messages.emplace_back(domain, std::string(message));
    co_return "DKIM-Signature: d=" + domain + "; fake\r\n";
  }
  sasl::FakeCredentials credentials;
  asio::thread_pool blocking{1};
  std::vector<std::pair<std::string, std::string>> signed_messages;  // guarded by mu
};

class SubmissionTest : public SessionTest {
 protected:
  void StartSubmission(bool allow_plaintext_auth = true) {
    SmtpServerOptions o;
    o.session.hostname = "mx.example.test";
    o.session.allow_plaintext_auth = allow_plaintext_auth;
    o.session.failed_login_delay = 0ms;
    submission_ = std::make_unique<SubmissionServer>(pool_, submission_backend_, o);
    ASSERT_TRUE(submission_->Bind({"127.0.0.1:0"}, {}, false).ok());
    submission_->Start();
    pool_.Start();
    port_ = submission_->plain_ports()[0];
  }
  void TearDown() override {
    if (submission_) {
      submission_->StopAccepting();
      submission_->CloseAll();
      EXPECT_TRUE(submission_->WaitForSessions(5s));
    }
    SessionTest::TearDown();
  }
  static std::string Plain(std::string_view user, std::string_view password) {
    return EncodeBase64Strict(std::string(1, '\0') + std::string(user) + '\0' +
                              std::string(password));
  }
  std::unique_ptr<Client> LoggedIn() {
    auto c = ConnectAndGreet();
    EXPECT_EQ(Code(c->Cmd("AUTH PLAIN " + Plain("alice@example.test", "secret"))), "235 2.7.0");
    return c;
  }

  SubmissionBackend submission_backend_;
  std::unique_ptr<SubmissionServer> submission_;
};

TEST_F(SubmissionTest, AuthIsOfferedOnlyWhereAllowedAndRequiredBeforeMail) {
  StartSubmission(/*allow_plaintext_auth=*/false);
  auto c = Connect();
  EXPECT_EQ(c->Reply().substr(0, 4), "220 ");
  std::string ehlo = c->Cmd("EHLO client.test");
  EXPECT_EQ(ehlo.find("AUTH"), std::string::npos) << ehlo;
  // RFC 4954 §6: encryption required.
  EXPECT_EQ(c->Cmd("AUTH PLAIN " + Plain("alice@example.test", "secret")).substr(0, 10),
            "538 5.7.11");
  EXPECT_EQ(Code(c->Cmd("MAIL FROM:<alice@example.test>")), "530 5.7.0");
}

TEST_F(SubmissionTest, AuthPlainThenSendAsOwnAddressOnly) {
  StartSubmission();
  auto c = Connect();
  EXPECT_EQ(c->Reply().substr(0, 4), "220 ");
  EXPECT_EQ(Code(c->Cmd("AUTH PLAIN x")), "503 5.5.1");  // before EHLO
  std::string ehlo = c->Cmd("EHLO client.test");
  EXPECT_NE(ehlo.find("250-AUTH SCRAM-SHA-256 PLAIN LOGIN\r\n"), std::string::npos) << ehlo;
  EXPECT_EQ(Code(c->Cmd("MAIL FROM:<alice@example.test>")), "530 5.7.0");
  EXPECT_EQ(Code(c->Cmd("AUTH PLAIN " + Plain("alice@example.test", "wrong"))), "535 5.7.8");
  EXPECT_EQ(Code(c->Cmd("AUTH PLAIN " + Plain("alice@example.test", "secret"))), "235 2.7.0");
  EXPECT_EQ(Code(c->Cmd("AUTH PLAIN " + Plain("alice@example.test", "secret"))), "503 5.5.1");
  EXPECT_EQ(Code(c->Cmd("MAIL FROM:<bob@example.test>")), "553 5.7.1");
  EXPECT_EQ(Code(c->Cmd("MAIL FROM:<>")), "553 5.7.1");
  EXPECT_EQ(Code(c->Cmd("MAIL FROM:<Alice@EXAMPLE.test>")), "250 2.1.0");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<friend@remote.test>")), "250 2.1.5");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<unknown@example.test>")), "550 5.1.1");
  EXPECT_EQ(c->Cmd("DATA").substr(0, 3), "354");
  // Someone else's From: is refused after the content.
  EXPECT_EQ(Code(c->Cmd("From: Bob <bob@example.test>\r\nSubject: hi\r\n\r\nbody\r\n.")),
            "553 5.7.1");
  EXPECT_EQ(Code(c->Cmd("MAIL FROM:<alice@example.test>")), "250 2.1.0");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<friend@remote.test>")), "250 2.1.5");
  EXPECT_EQ(c->Cmd("DATA").substr(0, 3), "354");
  EXPECT_EQ(Code(c->Cmd("Subject: no author\r\n\r\nbody\r\n.")), "550 5.6.0");
  // A granted alias in From:, no Date: and no Message-ID: they are added.
  EXPECT_EQ(Code(c->Cmd("MAIL FROM:<alice@example.test>")), "250 2.1.0");
  EXPECT_EQ(Code(c->Cmd("RCPT TO:<friend@remote.test>")), "250 2.1.5");
  EXPECT_EQ(c->Cmd("DATA").substr(0, 3), "354");
  EXPECT_EQ(Code(c->Cmd("From: Sales <sales@example.test>\r\nSubject: offer\r\n\r\nbody\r\n.")),
            "250 2.0.0");
  std::lock_guard lock(submission_backend_.mu);
  ASSERT_EQ(submission_backend_.contents.size(), 1u);
  const std::string& content = submission_backend_.contents[0];
  const Envelope& env = submission_backend_.envelopes[0];
  EXPECT_EQ(env.authenticated, "alice@example.test");
  ASSERT_EQ(env.recipients.size(), 1u);
  EXPECT_FALSE(env.recipients[0].destinations[0].local);
  EXPECT_TRUE(content.starts_with("Received: by mx.example.test (Postern) with ESMTPA id "))
      << content;
  EXPECT_EQ(content.find("127.0.0.1"), std::string::npos) << "client address leaked:\n" << content;
  const size_t date = content.find("\r\nDate: ");
  const size_t id = content.find("\r\nMessage-ID: <" + env.queue_id + "@mx.example.test>\r\n");
  const size_t from = content.find("\r\nFrom: Sales");
  EXPECT_NE(date, std::string::npos) << content;
  EXPECT_NE(id, std::string::npos) << content;
  EXPECT_LT(date, from);
  EXPECT_LT(id, from);
  // DKIM: signed last (over the added Date: and Message-ID:), for the From:
  // domain, without our Received: field; the signature goes above them.
  ASSERT_EQ(submission_backend_.signed_messages.size(), 1u);
  const auto& [signed_domain, signed_text] = submission_backend_.signed_messages[0];
  EXPECT_EQ(signed_domain, "example.test");
  EXPECT_TRUE(signed_text.starts_with("Date: ")) << signed_text;
  EXPECT_NE(signed_text.find("\r\nMessage-ID: <"), std::string::npos);
  EXPECT_TRUE(signed_text.ends_with("\r\nbody\r\n")) << signed_text;
  EXPECT_EQ(signed_text.find("Received:"), std::string::npos);
  const size_t signature = content.find("\r\nDKIM-Signature: d=example.test; fake\r\nDate: ");
  EXPECT_NE(signature, std::string::npos) << content;
}

TEST_F(SubmissionTest, ExchangeErrorsAndLoginPrompts) {
  StartSubmission();
  auto c = ConnectAndGreet();
  EXPECT_EQ(Code(c->Cmd("AUTH CRAM-MD5")), "504 5.5.4");
  EXPECT_EQ(Code(c->Cmd("AUTH PLAIN !!!")), "501 5.5.2");
  EXPECT_EQ(c->Cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6\r\n");  // "Username:"
  EXPECT_EQ(Code(c->Cmd("*")), "501 5.0.0");                // cancelled
  EXPECT_EQ(c->Cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6\r\n");
  EXPECT_EQ(Code(c->Cmd("not base64!")), "501 5.5.2");
  EXPECT_EQ(c->Cmd("AUTH PLAIN"), "334 \r\n");  // no initial response: an empty challenge
  EXPECT_EQ(Code(c->Cmd(Plain("alice@example.test", "secret"))), "235 2.7.0");
  // MAIL's AUTH= parameter is accepted (RFC 4954 §5).
  EXPECT_EQ(Code(c->Cmd("MAIL FROM:<alice@example.test> AUTH=<>")), "250 2.1.0");
}

TEST_F(SubmissionTest, RepeatedFailuresCloseTheSession) {
  StartSubmission();
  auto c = ConnectAndGreet();
  EXPECT_EQ(Code(c->Cmd("AUTH PLAIN " + Plain("alice@example.test", "a"))), "535 5.7.8");
  EXPECT_EQ(Code(c->Cmd("AUTH PLAIN " + Plain("alice@example.test", "b"))), "535 5.7.8");
  EXPECT_EQ(Code(c->Cmd("AUTH PLAIN " + Plain("alice@example.test", "c"))), "421 4.7.0");
  EXPECT_TRUE(c->Closed());
}

}  // namespace
}  // namespace postern::smtpserver
