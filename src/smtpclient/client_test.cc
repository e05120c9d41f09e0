#include "smtpclient/client.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "base/base64.h"
#include "net/tls.h"
#include "smtp/command.h"
#include "smtpclient/fake_smtp_server.h"

extern char** environ;

namespace postern::smtpclient {
namespace {

using namespace std::chrono_literals;

// What a test asks the client to do, in this order: STARTTLS, AUTH, then
// each envelope (RSET between them when asked), QUIT.
struct Plan {
  asio::ssl::context* tls = nullptr;
  net::ClientTls tls_options;
  std::string user;  // AUTH when set
  std::string password;
  std::vector<Envelope> envelopes;
  std::string message = "Subject: test\r\n\r\nHello.\r\n";
  bool reset_between = false;
};

struct Outcome {
  Status status;
  Reply failure;
  Reply greeting;
  Extensions extensions;
  net::ClientTlsResult tls;
  bool tls_active = false;
  Reply auth;
  bool implicit_tls_verified = false;
  std::vector<SendResult> sends;
  std::vector<Reply> resets;
  bool usable_after = false;
};

asio::awaitable<void> Drive(asio::ip::tcp::endpoint endpoint, Options options, Plan plan,
                            Outcome* out) {
  auto ex = co_await asio::this_coro::executor;
  auto client = co_await Client::Connect(ex, endpoint, options, &out->failure);
  if (!client.ok()) {
    out->status = client.status();
    co_return;
  }
  Client& c = **client;
  out->greeting = c.greeting();
  out->extensions = c.extensions();
  out->implicit_tls_verified = c.implicit_tls_verified();
  out->tls_active = c.tls();
  if (plan.tls) {
    out->tls = co_await c.StartTls(*plan.tls, plan.tls_options);
    out->tls_active = c.tls();
    out->extensions = c.extensions();
    if (!out->tls.ok) co_return;
  }
  if (!plan.user.empty()) out->auth = co_await c.Authenticate(plan.user, plan.password);
  for (size_t i = 0; i < plan.envelopes.size(); ++i) {
    if (i > 0 && plan.reset_between) {
      Reply reset = co_await c.Reset();
      out->resets.push_back(reset);
    }
    SendResult result = co_await c.Send(plan.envelopes[i], plan.message);
    out->sends.push_back(result);
  }
  out->usable_after = c.usable();
  co_await c.Quit();
}

Envelope SimpleEnvelope(std::vector<std::string> recipients) {
  Envelope envelope;
  envelope.mail_from = "sender@example.org";
  for (auto& r : recipients) envelope.recipients.push_back({r, 0, ""});
  return envelope;
}

class ClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ::signal(SIGPIPE, SIG_IGN); }

  ClientTest() {
    options_.helo_name = "client.example.test";
    options_.connect_timeout = 5s;
    options_.greeting_timeout = 5s;
    options_.command_timeout = 5s;
    options_.data_block_timeout = 5s;
    options_.data_end_timeout = 5s;
  }

  Outcome Run(asio::ip::tcp::endpoint endpoint, Plan plan) {
    Outcome out;
    asio::io_context ctx;
    auto rethrow = [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    };
    asio::co_spawn(ctx, Drive(endpoint, options_, std::move(plan), &out), rethrow);
    ctx.run();
    return out;
  }

  Outcome Run(FakeSmtpServer& server, Plan plan) {
    Outcome out = Run(server.endpoint(), std::move(plan));
    server.Join();
    return out;
  }

  // The fake answers MAIL with `behaviour` ("<silent>", "<dribble>"); the
  // client's command timeout is 300 ms. Returns the outcome and how long it
  // took.
  std::pair<Outcome, std::chrono::steady_clock::duration> StallAtMail(std::string behaviour) {
    FakeSmtpServer::Script script;
    script.hook = [behaviour](const std::string& line) -> std::string {
      return line.starts_with("MAIL") ? behaviour : "";
    };
    FakeSmtpServer server(script);
    options_.command_timeout = 300ms;
    Plan plan;
    plan.envelopes.push_back(SimpleEnvelope({"a@example.net"}));
    auto start = std::chrono::steady_clock::now();
    Outcome out = Run(server, plan);
    return {out, std::chrono::steady_clock::now() - start};
  }

  Options options_;
};

TEST_F(ClientTest, EhloExtensionsAreParsed) {
  FakeSmtpServer::Script script;
  script.ehlo =
      "250-fake.example.test at your service\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n"
      "250-PIPELINING\r\n250-STARTTLS\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n250-REQUIRETLS\r\n"
      "250-AUTH LOGIN PLAIN\r\n250 DSN\r\n";
  FakeSmtpServer server(script);
  Outcome out = Run(server, Plan());
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.greeting.code, 220);
  const Extensions& ext = out.extensions;
  EXPECT_TRUE(ext.pipelining && ext.eightbitmime && ext.starttls && ext.smtputf8 && ext.chunking &&
              ext.requiretls && ext.dsn);
  EXPECT_EQ(ext.size, 52428800u);
  EXPECT_EQ(ext.auth, (std::vector<std::string>{"LOGIN", "PLAIN"}));
  EXPECT_EQ(server.commands, (std::vector<std::string>{"EHLO client.example.test", "QUIT"}));
}

TEST_F(ClientTest, FallsBackToHelo) {
  FakeSmtpServer::Script script;
  script.ehlo = "502 5.5.2 Command not recognized\r\n";
  FakeSmtpServer server(script);
  Plan plan;
  plan.envelopes.push_back(SimpleEnvelope({"rcpt@example.net"}));
  plan.envelopes[0].dsn_ret = "FULL";
  Outcome out = Run(server, plan);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_FALSE(out.extensions.pipelining);
  ASSERT_EQ(out.sends.size(), 1u);
  EXPECT_TRUE(out.sends[0].data.positive());
  EXPECT_EQ(server.commands,
            (std::vector<std::string>{"EHLO client.example.test", "HELO client.example.test",
                                      "MAIL FROM:<sender@example.org>",
                                      "RCPT TO:<rcpt@example.net>", "DATA", "QUIT"}));
}

TEST_F(ClientTest, PipelinedTransactionWithOneRefusedRecipient) {
  FakeSmtpServer::Script script;
  script.refused_recipients = {"b@example.net"};
  FakeSmtpServer server(script);
  Plan plan;
  plan.envelopes.push_back(SimpleEnvelope({"a@example.net", "b@example.net", "c@example.net"}));
  Outcome out = Run(server, plan);
  ASSERT_EQ(out.sends.size(), 1u);
  const SendResult& result = out.sends[0];
  EXPECT_EQ(result.mail.code, 250);
  ASSERT_EQ(result.rcpt.size(), 3u);
  EXPECT_EQ(result.rcpt[0].code, 250);
  EXPECT_EQ(result.rcpt[1].code, 550);
  EXPECT_EQ(result.rcpt[1].enhanced, "5.1.1");
  EXPECT_EQ(result.rcpt[1].ToString(), "550 5.1.1 <b@example.net>: no such user");
  EXPECT_EQ(result.rcpt[2].code, 250);
  EXPECT_EQ(result.data.ToString(), "250 2.0.0 Ok: queued as FAKE");
  EXPECT_TRUE(result.connection_usable);
  ASSERT_EQ(server.commands.size(), 7u);
  EXPECT_EQ(server.commands[1], "MAIL FROM:<sender@example.org> SIZE=25");
  // MAIL and the three RCPTs came in one read (one flush); DATA waited.
  EXPECT_EQ(server.reads[1], server.reads[4]);
  EXPECT_NE(server.reads[4], server.reads[5]);
  EXPECT_EQ(server.commands[5], "DATA");
  ASSERT_EQ(server.messages.size(), 1u);
  EXPECT_EQ(server.messages[0], "Subject: test\r\n\r\nHello.\r\n");
}

Envelope DsnEnvelope() {
  Envelope envelope;
  envelope.mail_from = "sender@example.org";
  envelope.dsn_ret = "HDRS";
  envelope.dsn_envid = "QUEUE+ID=1";
  envelope.recipients.push_back(
      {"b@example.net", smtp::kNotifySuccess | smtp::kNotifyDelay, "rfc822;B+list=x@example.net"});
  envelope.recipients.push_back({"c@example.net", smtp::kNotifyNever, ""});
  return envelope;
}

TEST_F(ClientTest, DsnParametersWhenOffered) {
  FakeSmtpServer server{FakeSmtpServer::Script()};
  Plan plan;
  plan.envelopes.push_back(DsnEnvelope());
  Outcome out = Run(server, plan);
  ASSERT_GE(server.commands.size(), 4u);
  EXPECT_EQ(server.commands[1],
            "MAIL FROM:<sender@example.org> SIZE=25 RET=HDRS ENVID=QUEUE+2BID+3D1");
  EXPECT_EQ(server.commands[2],
            "RCPT TO:<b@example.net> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;B+2Blist+3Dx@example.net");
  EXPECT_EQ(server.commands[3], "RCPT TO:<c@example.net> NOTIFY=NEVER");
}

TEST_F(ClientTest, NoDsnParametersWhenNotOffered) {
  FakeSmtpServer::Script script;
  script.ehlo = "250-fake.example.test\r\n250 8BITMIME\r\n";
  FakeSmtpServer server(script);
  Plan plan;
  plan.envelopes.push_back(DsnEnvelope());
  Outcome out = Run(server, plan);
  ASSERT_GE(server.commands.size(), 4u);
  EXPECT_EQ(server.commands[1], "MAIL FROM:<sender@example.org>");
  EXPECT_EQ(server.commands[2], "RCPT TO:<b@example.net>");
  EXPECT_EQ(server.commands[3], "RCPT TO:<c@example.net>");
  // Without PIPELINING each command waited for its reply.
  EXPECT_NE(server.reads[1], server.reads[2]);
  EXPECT_TRUE(out.sends[0].data.positive());
}

TEST_F(ClientTest, DotStuffing) {
  FakeSmtpServer server{FakeSmtpServer::Script()};
  Plan plan;
  plan.envelopes.push_back(SimpleEnvelope({"a@example.net"}));
  plan.message = "Subject: dots\r\n\r\n.hidden\r\n..two\r\n.\r\nbare\nlf\nno end";
  Outcome out = Run(server, plan);
  ASSERT_EQ(server.messages.size(), 1u);
  EXPECT_EQ(server.messages[0],
            "Subject: dots\r\n\r\n..hidden\r\n...two\r\n..\r\nbare\r\nlf\r\nno end\r\n");
  EXPECT_TRUE(out.sends[0].data.positive());
}

TEST_F(ClientTest, Greeting421) {
  FakeSmtpServer::Script script;
  script.greeting = "421 4.3.2 fake.example.test too busy\r\n";
  FakeSmtpServer server(script);
  Outcome out = Run(server, Plan());
  EXPECT_EQ(out.status.code(), StatusCode::kUnavailable) << out.status.ToString();
  EXPECT_EQ(out.failure.code, 421);
  EXPECT_TRUE(out.failure.transient());
  EXPECT_EQ(out.failure.ToString(), "421 4.3.2 fake.example.test too busy");
  EXPECT_TRUE(server.commands.empty()) << "nothing is sent after 421";
}

TEST_F(ClientTest, Greeting554GetsQuit) {
  FakeSmtpServer::Script script;
  script.greeting = "554 5.7.1 go away\r\n";
  FakeSmtpServer server(script);
  Outcome out = Run(server, Plan());
  EXPECT_EQ(out.status.code(), StatusCode::kFailedPrecondition) << out.status.ToString();
  EXPECT_EQ(out.failure.code, 554);
  EXPECT_EQ(server.commands, (std::vector<std::string>{"QUIT"}));
}

TEST_F(ClientTest, ConnectionDroppedInData) {
  FakeSmtpServer::Script script;
  script.drop_after_data_octets = 1000;
  FakeSmtpServer server(script);
  Plan plan;
  plan.envelopes.push_back(SimpleEnvelope({"a@example.net"}));
  plan.message = "Subject: big\r\n\r\n";
  for (int i = 0; i < 20000; ++i) plan.message += "line " + std::to_string(i) + " of the body\r\n";
  Outcome out = Run(server, plan);
  ASSERT_EQ(out.sends.size(), 1u);
  EXPECT_TRUE(out.sends[0].mail.positive());
  EXPECT_TRUE(out.sends[0].rcpt[0].positive());
  EXPECT_EQ(out.sends[0].data.code, 0);
  EXPECT_TRUE(out.sends[0].data.transient());
  EXPECT_FALSE(out.sends[0].data.positive());
  EXPECT_FALSE(out.sends[0].connection_usable);
  EXPECT_FALSE(out.usable_after);
}

TEST_F(ClientTest, ReplyTimeout) {
  auto [out, elapsed] = StallAtMail("<silent>");
  EXPECT_LT(elapsed, 4s);
  ASSERT_EQ(out.sends.size(), 1u);
  EXPECT_EQ(out.sends[0].mail.code, 0);
  EXPECT_TRUE(out.sends[0].mail.transient());
  EXPECT_NE(out.sends[0].mail.ToString().find("no reply from the server"), std::string::npos)
      << out.sends[0].mail.ToString();
  EXPECT_EQ(out.sends[0].rcpt[0].code, 0);
  EXPECT_FALSE(out.sends[0].connection_usable);
}

// A server that keeps sending continuation lines, each well within the
// timeout, cannot keep the client waiting past the reply's deadline.
TEST_F(ClientTest, SlowDribbledReplyTimesOut) {
  auto [out, elapsed] = StallAtMail("<dribble>");
  EXPECT_LT(elapsed, 1500ms);
  ASSERT_EQ(out.sends.size(), 1u);
  EXPECT_EQ(out.sends[0].mail.code, 0);
  EXPECT_NE(out.sends[0].mail.ToString().find("no reply"), std::string::npos);
}

TEST_F(ClientTest, MalformedRepliesEndTheConnection) {
  FakeSmtpServer::Script script;
  script.hook = [](const std::string& line) -> std::string {
    if (line.starts_with("MAIL")) return "250-ok\r\n251 mixed\r\n";
    return "";
  };
  FakeSmtpServer server(script);
  Plan plan;
  plan.envelopes.push_back(SimpleEnvelope({"a@example.net"}));
  Outcome out = Run(server, plan);
  EXPECT_EQ(out.sends[0].mail.code, 0);
  EXPECT_NE(out.sends[0].mail.ToString().find("mixes codes"), std::string::npos);
  EXPECT_FALSE(out.sends[0].connection_usable);
}

TEST_F(ClientTest, OverlongReplyLine) {
  FakeSmtpServer::Script script;
  script.ehlo = "250-fake\r\n250-" + std::string(100000, 'x') + "\r\n250 DSN\r\n";
  FakeSmtpServer server(script);
  Outcome out = Run(server, Plan());
  EXPECT_EQ(out.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(out.failure.code, 0);
  EXPECT_NE(out.failure.ToString().find("longer than 2048"), std::string::npos)
      << out.failure.ToString();
}

TEST_F(ClientTest, TooLargeForTheServerIsNotSent) {
  FakeSmtpServer::Script script;
  script.ehlo = "250-fake\r\n250 SIZE 10\r\n";
  FakeSmtpServer server(script);
  Plan plan;
  plan.envelopes.push_back(SimpleEnvelope({"a@example.net"}));
  Outcome out = Run(server, plan);
  EXPECT_EQ(out.sends[0].mail.code, 552);
  EXPECT_TRUE(out.sends[0].mail.permanent());
  EXPECT_TRUE(out.sends[0].connection_usable);
  EXPECT_EQ(server.commands, (std::vector<std::string>{"EHLO client.example.test", "QUIT"}));
}

TEST_F(ClientTest, NoAcceptedRecipientMeansRsetNotData) {
  FakeSmtpServer::Script script;
  script.refused_recipients = {"a@example.net"};
  FakeSmtpServer server(script);
  Plan plan;
  plan.envelopes.push_back(SimpleEnvelope({"a@example.net"}));
  Outcome out = Run(server, plan);
  EXPECT_EQ(out.sends[0].rcpt[0].code, 550);
  EXPECT_FALSE(out.sends[0].data.positive());
  EXPECT_TRUE(out.sends[0].connection_usable);
  EXPECT_EQ(server.commands, (std::vector<std::string>{"EHLO client.example.test",
                                                       "MAIL FROM:<sender@example.org> SIZE=25",
                                                       "RCPT TO:<a@example.net>", "RSET", "QUIT"}));
}

TEST_F(ClientTest, PipelinedMailRefusalStopsTheTransaction) {
  FakeSmtpServer::Script script;
  script.hook = [](const std::string& line) -> std::string {
    if (line.starts_with("MAIL")) return "550 5.7.1 sender refused\r\n";
    if (line.starts_with("RCPT")) return "503 5.5.1 need MAIL first\r\n";
    return "";
  };
  FakeSmtpServer server(script);
  Plan plan;
  plan.envelopes.push_back(SimpleEnvelope({"a@example.net", "b@example.net"}));
  Outcome out = Run(server, plan);
  const SendResult& result = out.sends[0];
  EXPECT_EQ(result.mail.ToString(), "550 5.7.1 sender refused");
  EXPECT_EQ(result.rcpt[1].code, 503) << "replies stay in step with the pipelined commands";
  EXPECT_FALSE(result.data.positive());
  EXPECT_TRUE(result.connection_usable);
  EXPECT_EQ(server.commands.back(), "QUIT");
  EXPECT_EQ(server.commands.size(), 5u) << "no DATA";
}

TEST_F(ClientTest, A421InTheMiddleEndsTheSession) {
  FakeSmtpServer::Script script;
  script.hook = [](const std::string& line) -> std::string {
    return line == "RCPT TO:<a@example.net>" ? "421 4.3.2 shutting down\r\n" : "";
  };
  FakeSmtpServer server(script);
  Plan plan;
  plan.envelopes.push_back(SimpleEnvelope({"a@example.net", "b@example.net"}));
  Outcome out = Run(server, plan);
  const SendResult& result = out.sends[0];
  EXPECT_EQ(result.rcpt[0].code, 421);
  EXPECT_EQ(result.rcpt[1].code, 0);
  EXPECT_TRUE(result.rcpt[1].transient());
  EXPECT_FALSE(result.connection_usable);
  EXPECT_FALSE(out.usable_after);
}

TEST_F(ClientTest, ResetAndASecondTransaction) {
  FakeSmtpServer server{FakeSmtpServer::Script()};
  Plan plan;
  plan.envelopes.push_back(SimpleEnvelope({"a@example.net"}));
  plan.envelopes.push_back(SimpleEnvelope({"b@example.net"}));
  plan.reset_between = true;
  Outcome out = Run(server, plan);
  ASSERT_EQ(out.sends.size(), 2u);
  EXPECT_TRUE(out.sends[0].data.positive());
  ASSERT_EQ(out.resets.size(), 1u);
  EXPECT_EQ(out.resets[0].code, 250);
  EXPECT_TRUE(out.sends[1].data.positive());
  EXPECT_EQ(server.messages.size(), 2u);
  ASSERT_GE(server.commands.size(), 7u);
  EXPECT_EQ(server.commands[4], "RSET");
  EXPECT_EQ(server.commands[6], "RCPT TO:<b@example.net>");
}

TEST_F(ClientTest, AuthLoginWhenPlainIsNotOffered) {
  FakeSmtpServer::Script script;
  script.ehlo = "250-fake.example.test\r\n250 AUTH LOGIN\r\n";
  script.hook = [](const std::string& line) -> std::string {
    if (line == "AUTH LOGIN") return "334 VXNlcm5hbWU6\r\n";
    if (line == EncodeBase64Strict("user")) return "334 UGFzc3dvcmQ6\r\n";
    if (line == EncodeBase64Strict("secret")) return "235 2.7.0 Authentication successful\r\n";
    return "";
  };
  FakeSmtpServer server(script);
  Plan plan;
  plan.user = "user";
  plan.password = "secret";
  Outcome out = Run(server, plan);
  EXPECT_EQ(out.auth.code, 235) << out.auth.ToString();
  EXPECT_EQ(server.commands, (std::vector<std::string>{"EHLO client.example.test", "AUTH LOGIN",
                                                       "dXNlcg==", "c2VjcmV0", "QUIT"}));
}

TEST_F(ClientTest, AuthWithoutAKnownMechanismIsNotSent) {
  FakeSmtpServer server{FakeSmtpServer::Script()};
  Plan plan;
  plan.user = "user";
  plan.password = "secret";
  Outcome out = Run(server, plan);
  EXPECT_EQ(out.auth.code, 504);
  EXPECT_EQ(server.commands, (std::vector<std::string>{"EHLO client.example.test", "QUIT"}));
}

class ClientTlsTest : public ClientTest {
 protected:
  static void SetUpTestSuite() {
    ClientTest::SetUpTestSuite();
    dir_ =
        std::filesystem::temp_directory_path() / ("smtpclient-tls-" + std::to_string(::getpid()));
    ASSERT_TRUE(net::GenerateSelfSignedCertificate("fake.example.test", (dir_ / "c.pem").string(),
                                                   (dir_ / "k.pem").string())
                    .ok());
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  static std::shared_ptr<asio::ssl::context> ServerContext() {
    auto ctx = net::MakeServerTlsContext((dir_ / "c.pem").string(), (dir_ / "k.pem").string());
    EXPECT_TRUE(ctx.ok());
    return *ctx;
  }

  static inline std::filesystem::path dir_;
};

TEST_F(ClientTlsTest, StartTlsThenEhloAgainThenAuthPlain) {
  FakeSmtpServer::Script script;
  script.ehlo = "250-fake.example.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n";
  script.ehlo_after_tls = "250-fake.example.test\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n";
  script.tls = ServerContext();
  // Sent in the clear after the 220; a client that read it as the reply to
  // its EHLO under TLS would think AUTH is missing.
  script.after_starttls_220 = "250 injected\r\n";
  script.auth_plain = EncodeBase64Strict(std::string("\0user\0secret", 12));
  FakeSmtpServer server(script);
  asio::ssl::context client_ctx(asio::ssl::context::tls_client);
  client_ctx.load_verify_file((dir_ / "c.pem").string());
  Plan plan;
  plan.tls = &client_ctx;
  plan.tls_options.sni = "fake.example.test";
  plan.tls_options.verify = net::ClientTls::Verify::kName;
  plan.tls_options.names = {"fake.example.test"};
  plan.user = "user";
  plan.password = "secret";
  plan.envelopes.push_back(SimpleEnvelope({"a@example.net"}));
  Outcome out = Run(server, plan);
  EXPECT_TRUE(out.tls.ok) << out.tls.error;
  EXPECT_TRUE(out.tls.verified);
  EXPECT_TRUE(out.tls_active);
  EXPECT_TRUE(server.tls_used);
  EXPECT_EQ(out.extensions.auth, (std::vector<std::string>{"PLAIN", "LOGIN"}));
  EXPECT_FALSE(out.extensions.starttls);
  EXPECT_EQ(out.auth.code, 235) << out.auth.ToString();
  ASSERT_EQ(out.sends.size(), 1u);
  EXPECT_TRUE(out.sends[0].data.positive());
  ASSERT_GE(server.commands.size(), 4u);
  EXPECT_EQ(server.commands[0], "EHLO client.example.test");
  EXPECT_EQ(server.commands[1], "STARTTLS");
  EXPECT_EQ(server.commands[2], "EHLO client.example.test");
  EXPECT_EQ(server.commands[3], "AUTH PLAIN " + script.auth_plain);
}

TEST_F(ClientTlsTest, FailedVerificationClosesTheConnection) {
  FakeSmtpServer::Script script;
  script.ehlo = "250-fake.example.test\r\n250 STARTTLS\r\n";
  script.tls = ServerContext();
  FakeSmtpServer server(script);
  asio::ssl::context client_ctx(asio::ssl::context::tls_client);  // trusts nothing
  Plan plan;
  plan.tls = &client_ctx;
  plan.tls_options.verify = net::ClientTls::Verify::kName;
  plan.tls_options.names = {"fake.example.test"};
  Outcome out = Run(server, plan);
  EXPECT_FALSE(out.tls.ok);
  EXPECT_NE(out.tls.error.find("verification failed"), std::string::npos) << out.tls.error;
  EXPECT_EQ(server.commands, (std::vector<std::string>{"EHLO client.example.test", "STARTTLS"}));
}

TEST_F(ClientTlsTest, ImplicitTlsHandshakesBeforeTheGreeting) {
  FakeSmtpServer::Script script;
  script.ehlo = "250-fake.example.test\r\n250 AUTH PLAIN\r\n";
  script.tls = ServerContext();
  script.implicit_tls = true;
  script.auth_plain = EncodeBase64Strict(std::string("\0user\0secret", 12));
  FakeSmtpServer server(script);
  asio::ssl::context client_ctx(asio::ssl::context::tls_client);
  client_ctx.load_verify_file((dir_ / "c.pem").string());
  options_.implicit_tls = &client_ctx;
  options_.implicit_tls_check.sni = "fake.example.test";
  options_.implicit_tls_check.verify = net::ClientTls::Verify::kName;
  options_.implicit_tls_check.names = {"fake.example.test"};
  Plan plan;
  plan.user = "user";
  plan.password = "secret";
  plan.envelopes.push_back(SimpleEnvelope({"a@example.net"}));
  Outcome out = Run(server, plan);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.greeting.code, 220);
  EXPECT_TRUE(out.tls_active);
  EXPECT_TRUE(out.implicit_tls_verified);
  EXPECT_TRUE(server.tls_used);
  EXPECT_EQ(out.auth.code, 235) << out.auth.ToString();
  ASSERT_EQ(out.sends.size(), 1u);
  EXPECT_TRUE(out.sends[0].data.positive());
  ASSERT_GE(server.commands.size(), 2u);
  EXPECT_EQ(server.commands[0], "EHLO client.example.test");  // no STARTTLS
  EXPECT_EQ(server.commands[1], "AUTH PLAIN " + script.auth_plain);
}

TEST_F(ClientTlsTest, ImplicitTlsWithAnUntrustedCertificateSendsNothing) {
  FakeSmtpServer::Script script;
  script.tls = ServerContext();
  script.implicit_tls = true;
  FakeSmtpServer server(script);
  asio::ssl::context client_ctx(asio::ssl::context::tls_client);  // trusts nothing
  options_.implicit_tls = &client_ctx;
  options_.implicit_tls_check.verify = net::ClientTls::Verify::kName;
  options_.implicit_tls_check.names = {"fake.example.test"};
  Plan plan;
  plan.envelopes.push_back(SimpleEnvelope({"a@example.net"}));
  Outcome out = Run(server, plan);
  EXPECT_EQ(out.status.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(out.status.message().find("TLS with 127.0.0.1 failed"), std::string::npos)
      << out.status.ToString();
  EXPECT_EQ(out.failure.code, 0);
  EXPECT_TRUE(server.commands.empty());
}

// Postfix's smtp-sink as the peer: a real server's EHLO, PIPELINING and DSN.
TEST_F(ClientTest, DeliversToPostfixSmtpSink) {
  const char* sink = "/usr/sbin/smtp-sink";
  ASSERT_EQ(::access(sink, X_OK), 0) << sink << " is missing: install the postfix package";
  uint16_t port;
  {
    asio::io_context probe;
    asio::ip::tcp::acceptor acceptor(probe, {asio::ip::make_address("127.0.0.1"), 0});
    port = acceptor.local_endpoint().port();
  }
  std::string listen = "127.0.0.1:" + std::to_string(port);
  std::vector<std::string> args = {sink};
  if (::geteuid() == 0) args.insert(args.end(), {"-u", "nobody"});
  args.insert(args.end(), {"-c", listen, "100"});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  ASSERT_EQ(::posix_spawn(&pid, sink, &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  bool ready = false;
  for (int i = 0; i < 100 && !ready; ++i) {
    asio::io_context probe;
    asio::ip::tcp::socket s(probe);
    error_code ec;
    s.connect(endpoint, ec);
    ready = !ec;
    if (!ready) std::this_thread::sleep_for(50ms);
  }
  Outcome out;
  if (ready) {
    Plan plan;
    plan.envelopes.push_back(DsnEnvelope());
    plan.envelopes.push_back(SimpleEnvelope({"x@example.net"}));
    plan.message = "Subject: to smtp-sink\r\n\r\n.dot\r\nbody\r\n";
    out = Run(endpoint, plan);
  }
  ::kill(pid, SIGTERM);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  ASSERT_TRUE(ready) << "smtp-sink did not start on " << listen;
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_TRUE(out.extensions.pipelining);
  EXPECT_TRUE(out.extensions.dsn);
  ASSERT_EQ(out.sends.size(), 2u);
  for (const auto& send : out.sends) {
    EXPECT_EQ(send.mail.code, 250) << send.mail.ToString();
    for (const auto& rcpt : send.rcpt) EXPECT_EQ(rcpt.code, 250) << rcpt.ToString();
    EXPECT_EQ(send.data.code, 250) << send.data.ToString();
    EXPECT_TRUE(send.connection_usable);
  }
}

}  // namespace
}  // namespace postern::smtpclient
