// Byte-level POP3 transcripts: a real Pop3Server on loopback over a real
// SqliteStore in a temporary directory, driven by raw lines from a blocking
// client socket.
#include "pop3server/session.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>

#include "directory/password.h"
#include "message/codec.h"
#include "pop3server/pop3_server.h"
#include "sasl/credentials.h"
#include "store/test_store.h"

namespace postern::pop3server {
namespace {

using namespace std::chrono_literals;

constexpr char kUser[] = "u@example.test";
constexpr char kPassword[] = "correct horse battery";
// Line starting with dots, a bare-LF free CRLF message as the store keeps it.
constexpr char kDotted[] = "Subject: dots\r\n\r\n.hidden\r\n..two\r\n.\r\nend\r\n";

class Pop3SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = store::FreshTestDir("pop3");
    auto s = store::OpenTestStore(dir_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->AddDomain("example.test").ok());
    auto hash = directory::HashPassword(kPassword);
    ASSERT_TRUE(hash.ok());
    auto account = store_->AddAccount(kUser, *hash, 0, 0);
    ASSERT_TRUE(account.ok()) << account.status().ToString();
    account_ = account->id;
    auto inbox = store_->GetMailbox(account_, "INBOX");
    ASSERT_TRUE(inbox.ok() && inbox->has_value());
    inbox_ = (*inbox)->id;
    Append("Subject: one\r\n\r\nfirst body\r\n");
    Append(kDotted);
    Append("Subject: three\r\n\r\nl1\r\nl2\r\nl3\r\n");
    token_ = notifier_.Subscribe(account_, [this](const mailbox::MailboxChange&) { ++published_; });
  }

  void TearDown() override {
    if (server_) {  // a drain ends the idle sessions left open
      server_->StopAccepting();
      server_->Drain();
      EXPECT_TRUE(server_->WaitForSessions(5s));
    }
    pool_.Stop();
    blocking_.join();
    notifier_.Unsubscribe(token_);
    server_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Start(bool allow_plaintext = true) {
    Pop3ServerOptions options;
    options.session.hostname = "mx.example.test";
    options.session.allow_plaintext_auth = allow_plaintext;
    options.session.failed_login_delay = 0ms;
    credentials_ = std::make_unique<sasl::StoreCredentials>(*store_, 4096);
    server_ = std::make_unique<Pop3Server>(
        pool_, SessionContext{*store_, blocking_, notifier_, *credentials_}, options);
    ASSERT_TRUE(server_->Bind({"127.0.0.1:0"}, {}).ok());
    server_->Start();
    pool_.Start();
    port_ = server_->plain_ports()[0];
  }

  void Append(const std::string& content) {
    auto body = store_->EncodeBody(content);
    ASSERT_TRUE(body.ok());
    store::AppendOptions o;
    o.internal_date = 1'700'000'000;
    ASSERT_TRUE(store_->Append(inbox_, *body, o).ok());
  }

  std::vector<store::MessageInfo> Inbox() {
    auto list = store_->ListMessages(inbox_, 0);
    EXPECT_TRUE(list.ok());
    return list.ok() ? *list : std::vector<store::MessageInfo>{};
  }

  // A POP3 client: status lines and multi-line bodies.
  struct Client {
    asio::io_context ctx;
    asio::ip::tcp::socket sock{ctx};
    std::string buf;

    void Write(std::string_view s) { asio::write(sock, asio::buffer(s)); }
    // One line with its CRLF, or "" once the server has closed.
    std::string Line() {
      error_code ec;
      size_t n = asio::read_until(sock, asio::dynamic_buffer(buf), "\r\n", ec);
      if (ec) return "";
      std::string line = buf.substr(0, n);
      buf.erase(0, n);
      return line;
    }
    std::string Cmd(std::string_view line) {
      Write(std::string(line) + "\r\n");
      return Line();
    }
    // The body of a multi-line response, up to and including ".\r\n".
    std::string Body() {
      std::string out, line;
      do {
        line = Line();
        out += line;
      } while (!line.empty() && line != ".\r\n");
      return out;
    }
    // True when the server closes the connection (what it sent first stays in buf).
    bool Closed() {
      error_code ec;
      asio::read(sock, asio::dynamic_buffer(buf), ec);
      return ec == asio::error::eof || ec == asio::error::connection_reset;
    }
  };

  std::unique_ptr<Client> Connect() {
    auto c = std::make_unique<Client>();
    c->sock.connect({asio::ip::make_address("127.0.0.1"), port_});
    struct timeval tv = {10, 0};  // a broken server fails the test, not hangs it
    setsockopt(c->sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    EXPECT_EQ(c->Line(), "+OK Postern POP3 ready\r\n");
    return c;
  }

  std::unique_ptr<Client> LoggedIn() {
    auto c = Connect();
    EXPECT_EQ(c->Cmd(std::string("USER ") + kUser), "+OK\r\n");
    EXPECT_EQ(c->Cmd(std::string("PASS ") + kPassword).substr(0, 14), "+OK Logged in,");
    return c;
  }

  static std::string Status(const std::string& line) { return line.substr(0, line.find(' ')); }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  int64_t account_ = 0;
  int64_t inbox_ = 0;
  net::IoContextPool pool_{1};
  asio::thread_pool blocking_{2};
  mailbox::ChangeNotifier notifier_;
  uint64_t token_ = 0;
  std::atomic<int> published_{0};
  std::unique_ptr<sasl::StoreCredentials> credentials_;
  std::unique_ptr<Pop3Server> server_;
  uint16_t port_ = 0;
};

TEST_F(Pop3SessionTest, CapabilitiesAndAuthorizationState) {
  Start();
  auto c = Connect();
  EXPECT_EQ(c->Cmd("CAPA"), "+OK Capability list follows\r\n");
  EXPECT_EQ(c->Body(),
            "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nUSER\r\n"
            "SASL SCRAM-SHA-256 PLAIN LOGIN\r\n"
            "EXPIRE NEVER\r\nIMPLEMENTATION Postern\r\n.\r\n");
  for (const char* cmd : {"STAT", "LIST", "RETR 1", "DELE 1", "NOOP", "RSET", "UIDL"}) {
    EXPECT_EQ(Status(c->Cmd(cmd)), "-ERR") << cmd;
  }
  EXPECT_EQ(c->Cmd("STLS"), "-ERR STLS not available\r\n");
  EXPECT_EQ(c->Cmd("PASS secret"), "-ERR No user name given; send USER first\r\n");
  EXPECT_EQ(c->Cmd("APOP u 0123"), "-ERR APOP is not supported; use USER/PASS or AUTH\r\n");
  EXPECT_EQ(c->Cmd("AUTH"), "+OK Mechanisms follow\r\n");
  EXPECT_EQ(c->Body(), "SCRAM-SHA-256\r\nPLAIN\r\nLOGIN\r\n.\r\n");
  EXPECT_EQ(c->Cmd("QUIT"), "+OK Logging out\r\n");
  EXPECT_TRUE(c->Closed());
}

TEST_F(Pop3SessionTest, ListRetrTopUidlWithExactSizes) {
  Start();
  auto c = LoggedIn();
  std::vector<store::MessageInfo> stored = Inbox();
  ASSERT_EQ(stored.size(), 3u);
  uint64_t total = 0;
  for (const auto& m : stored) total += m.size;
  EXPECT_EQ(c->Cmd("STAT"), "+OK 3 " + std::to_string(total) + "\r\n");
  EXPECT_EQ(c->Cmd("LIST").substr(0, 14), "+OK 3 messages");
  std::string list = c->Body();
  EXPECT_EQ(list, "1 " + std::to_string(stored[0].size) + "\r\n2 " +
                      std::to_string(stored[1].size) + "\r\n3 " + std::to_string(stored[2].size) +
                      "\r\n.\r\n");
  EXPECT_EQ(c->Cmd("LIST 2"), "+OK 2 " + std::to_string(stored[1].size) + "\r\n");
  EXPECT_EQ(c->Cmd("LIST 4"), "-ERR No such message\r\n");

  // RETR: dot-stuffed; undone, exactly the LIST size.
  EXPECT_EQ(c->Cmd("RETR 2"), "+OK " + std::to_string(stored[1].size) + " octets\r\n");
  std::string body = c->Body();
  EXPECT_EQ(body, "Subject: dots\r\n\r\n..hidden\r\n...two\r\n..\r\nend\r\n.\r\n");
  EXPECT_EQ(std::string(kDotted).size(), stored[1].size);

  EXPECT_EQ(c->Cmd("TOP 3 1"), "+OK Top of message follows\r\n");
  EXPECT_EQ(c->Body(), "Subject: three\r\n\r\nl1\r\n.\r\n");
  EXPECT_EQ(c->Cmd("TOP 3 0"), "+OK Top of message follows\r\n");
  EXPECT_EQ(c->Body(), "Subject: three\r\n\r\n.\r\n");

  auto inbox = store_->GetMailbox(account_, "INBOX");
  ASSERT_TRUE(inbox.ok() && inbox->has_value());
  char expect[32];
  std::snprintf(expect, sizeof expect, "+OK 1 %08X%08X\r\n", stored[0].uid, (*inbox)->uidvalidity);
  EXPECT_EQ(c->Cmd("UIDL 1"), expect);
  EXPECT_EQ(c->Cmd("UIDL"), "+OK Unique-ID listing follows\r\n");
  std::string uidl = c->Body();
  EXPECT_EQ(uidl.substr(0, 2), "1 ");
  EXPECT_NE(uidl.find("\r\n3 "), std::string::npos);
  EXPECT_EQ(c->Cmd("NOOP"), "+OK\r\n");
  EXPECT_EQ(c->Cmd("USER x"), "-ERR USER is not valid after login\r\n");
  EXPECT_EQ(c->Cmd("QUIT"), "+OK Logging out, 0 messages deleted\r\n");
  EXPECT_TRUE(c->Closed());
  // RETR set \Seen (as Dovecot does); TOP did not.
  stored = Inbox();
  EXPECT_EQ(stored[0].flags & store::kFlagSeen, 0u);
  EXPECT_NE(stored[1].flags & store::kFlagSeen, 0u);
  EXPECT_EQ(stored[2].flags & store::kFlagSeen, 0u);
}

TEST_F(Pop3SessionTest, DeleteTakesEffectOnlyAtQuit) {
  Start();
  auto c = LoggedIn();
  EXPECT_EQ(c->Cmd("DELE 1"), "+OK Marked to be deleted\r\n");
  EXPECT_EQ(c->Cmd("DELE 1"), "-ERR Message 1 is deleted\r\n");
  EXPECT_EQ(c->Cmd("RETR 1"), "-ERR Message 1 is deleted\r\n");
  EXPECT_EQ(c->Cmd("STAT").substr(0, 6), "+OK 2 ");
  EXPECT_EQ(c->Cmd("RSET").substr(0, 6), "+OK 3 ");
  EXPECT_EQ(c->Cmd("DELE 1"), "+OK Marked to be deleted\r\n");
  EXPECT_EQ(c->Cmd("DELE 3"), "+OK Marked to be deleted\r\n");
  EXPECT_EQ(Inbox().size(), 3u) << "nothing removed before QUIT";
  const int before = published_;
  EXPECT_EQ(c->Cmd("QUIT"), "+OK Logging out, 2 messages deleted\r\n");
  EXPECT_TRUE(c->Closed());
  std::vector<store::MessageInfo> left = Inbox();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_NE(left[0].size, 0u);
  EXPECT_GT(published_.load(), before) << "IMAP sessions are told of the expunge";
  // The next session numbers what is left from 1.
  auto d = LoggedIn();
  EXPECT_EQ(d->Cmd("STAT"), "+OK 1 " + std::to_string(left[0].size) + "\r\n");
}

TEST_F(Pop3SessionTest, DroppedConnectionDeletesNothing) {
  Start();
  {
    auto c = LoggedIn();
    EXPECT_EQ(c->Cmd("DELE 1"), "+OK Marked to be deleted\r\n");
    EXPECT_EQ(c->Cmd("RETR 3").substr(0, 4), "+OK ");
    c->Body();
  }  // closed without QUIT
  ASSERT_TRUE(server_->WaitForSessions(5s));
  std::vector<store::MessageInfo> stored = Inbox();
  ASSERT_EQ(stored.size(), 3u);
  EXPECT_EQ(stored[0].flags & store::kFlagDeleted, 0u);
  EXPECT_NE(stored[2].flags & store::kFlagSeen, 0u) << "what was retrieved is \\Seen";
}

TEST_F(Pop3SessionTest, OneSessionPerMaildrop) {
  Start();
  auto first = LoggedIn();
  auto second = Connect();
  EXPECT_EQ(second->Cmd(std::string("USER ") + kUser), "+OK\r\n");
  EXPECT_EQ(second->Cmd(std::string("PASS ") + kPassword),
            "-ERR [IN-USE] Mailbox is in use by another POP3 session\r\n");
  EXPECT_EQ(first->Cmd("QUIT").substr(0, 3), "+OK");
  EXPECT_TRUE(first->Closed());
  EXPECT_EQ(second->Cmd(std::string("USER ") + kUser), "+OK\r\n");
  EXPECT_EQ(second->Cmd(std::string("PASS ") + kPassword).substr(0, 14), "+OK Logged in,");
}

TEST_F(Pop3SessionTest, MessageExpungedElsewhereAnswersErr) {
  Start();
  auto c = LoggedIn();
  std::vector<store::MessageInfo> stored = Inbox();
  store::FlagChange deleted{store::FlagChange::kAdd, store::kFlagDeleted};
  ASSERT_TRUE(store_->ChangeFlags(inbox_, {stored[0].uid}, deleted).ok());
  ASSERT_TRUE(store_->Expunge(inbox_, std::nullopt).ok());
  EXPECT_EQ(c->Cmd("RETR 1"), "-ERR Message 1 was removed by another session\r\n");
  EXPECT_EQ(c->Cmd("TOP 1 0"), "-ERR Message 1 was removed by another session\r\n");
  EXPECT_EQ(c->Cmd("DELE 1"), "+OK Marked to be deleted\r\n");
  EXPECT_EQ(c->Cmd("QUIT"), "+OK Logging out, 1 message deleted\r\n");
  EXPECT_EQ(Inbox().size(), 2u);
}

TEST_F(Pop3SessionTest, AuthPlain) {
  Start();
  const std::string creds = message::EncodeBase64(std::string("\0", 1) + kUser + '\0' + kPassword);
  auto c = Connect();
  EXPECT_EQ(c->Cmd("AUTH PLAIN"), "+ \r\n");
  EXPECT_EQ(c->Cmd("*"), "-ERR Authentication cancelled\r\n");
  EXPECT_EQ(c->Cmd("AUTH PLAIN not-base64!"),
            "-ERR Invalid base64 data in the authentication response\r\n");
  EXPECT_EQ(c->Cmd("AUTH PLAIN " + message::EncodeBase64("no nuls")),
            "-ERR Malformed PLAIN response\r\n");
  EXPECT_EQ(c->Cmd("AUTH PLAIN " + message::EncodeBase64(std::string("other@example.test\0", 19) +
                                                         kUser + '\0' + kPassword)),
            "-ERR [AUTH] Cannot act as another user\r\n");
  EXPECT_EQ(c->Cmd("AUTH CRAM-MD5"), "-ERR Unsupported authentication mechanism\r\n");
  EXPECT_EQ(c->Cmd("AUTH PLAIN"), "+ \r\n");
  EXPECT_EQ(c->Cmd(creds).substr(0, 14), "+OK Logged in,");
  EXPECT_EQ(c->Cmd("AUTH PLAIN"), "-ERR AUTH is not valid after login\r\n");
  c->Cmd("QUIT");
  // With the initial response on the command line.
  auto d = Connect();
  EXPECT_EQ(d->Cmd("AUTH PLAIN " + creds).substr(0, 14), "+OK Logged in,");
}

TEST_F(Pop3SessionTest, FailedLoginsAreCountedAndClose) {
  Start();
  auto c = Connect();
  EXPECT_EQ(c->Cmd(std::string("USER ") + kUser), "+OK\r\n");
  EXPECT_EQ(c->Cmd("PASS wrong"), "-ERR [AUTH] Authentication failed\r\n");
  EXPECT_EQ(c->Cmd("USER nobody@example.test"), "+OK\r\n");
  EXPECT_EQ(c->Cmd("PASS wrong"), "-ERR [AUTH] Authentication failed\r\n");
  const std::string bad =
      message::EncodeBase64(std::string("\0", 1) + kUser + std::string("\0nope", 5));
  EXPECT_EQ(c->Cmd("AUTH PLAIN " + bad), "-ERR [AUTH] Authentication failed\r\n");
  EXPECT_EQ(c->Line(), "-ERR Too many failed logins\r\n");
  EXPECT_TRUE(c->Closed());
}

TEST_F(Pop3SessionTest, PlaintextLoginRefusedWithoutTls) {
  Start(false);
  auto c = Connect();
  EXPECT_EQ(c->Cmd("CAPA"), "+OK Capability list follows\r\n");
  std::string caps = c->Body();
  EXPECT_EQ(caps.find("USER"), std::string::npos);
  EXPECT_EQ(caps.find("SASL"), std::string::npos);
  const std::string refused =
      "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections\r\n";
  EXPECT_EQ(c->Cmd(std::string("USER ") + kUser), refused);
  EXPECT_EQ(c->Cmd(std::string("PASS ") + kPassword),
            "-ERR No user name given; send USER first\r\n");
  EXPECT_EQ(c->Cmd("AUTH PLAIN ="), refused);
  EXPECT_EQ(c->Cmd("AUTH"), "+OK Mechanisms follow\r\n");
  EXPECT_EQ(c->Body(), ".\r\n");
}

TEST_F(Pop3SessionTest, HostileInputIsAnsweredAndSurvived) {
  Start();
  auto c = Connect();
  EXPECT_EQ(c->Cmd(std::string(300, 'A')), "-ERR Command line too long\r\n");
  EXPECT_EQ(c->Cmd(std::string("NO\0P", 4)), "-ERR Invalid character in command\r\n");
  EXPECT_EQ(c->Cmd("XYZZY"), "-ERR Unknown command\r\n");
  EXPECT_EQ(c->Cmd("RETR 99999999999"), "-ERR Invalid message number\r\n");
  EXPECT_EQ(c->Cmd("CAPA"), "+OK Capability list follows\r\n");
  c->Body();
  // Pipelined commands are answered in order.
  c->Write("CAPA\r\nUSER " + std::string(kUser) + "\r\nPASS " + kPassword + "\r\nSTAT\r\n");
  EXPECT_EQ(c->Line(), "+OK Capability list follows\r\n");
  c->Body();
  EXPECT_EQ(c->Line(), "+OK\r\n");
  EXPECT_EQ(c->Line().substr(0, 14), "+OK Logged in,");
  EXPECT_EQ(c->Line().substr(0, 6), "+OK 3 ");
  // Twenty bad commands in all (four above) close the session.
  std::string line;
  for (int i = 0; i < 16; ++i) line = c->Cmd("BOGUS");
  EXPECT_EQ(line, "-ERR Unknown command\r\n");
  EXPECT_EQ(c->Line(), "-ERR Too many invalid commands\r\n");
  EXPECT_TRUE(c->Closed());
  EXPECT_EQ(Inbox().size(), 3u);
}

}  // namespace
}  // namespace postern::pop3server
