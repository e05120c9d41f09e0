// Test only: a scripted SMTP server on 127.0.0.1 for the client's tests. It
// serves one connection on its own thread with blocking I/O and records
// what it received. Read the records after Join().
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "net/asio.h"

namespace postern::smtpclient {

class FakeSmtpServer {
 public:
  struct Script {
    std::string greeting = "220 fake.example.test ESMTP\r\n";
    std::string ehlo =
        "250-fake.example.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 1000000\r\n"
        "250 DSN\r\n";
    std::string ehlo_after_tls;                // "" : the same as ehlo
    std::set<std::string> refused_recipients;  // RCPT TO these gets 550 5.1.1
    std::string data_reply = "250 2.0.0 Ok: queued as FAKE\r\n";
    std::string auth_plain;  // the base64 AUTH PLAIN response that gets 235
    // Sent right after STARTTLS's 220, in the same write: must be discarded.
    std::string after_starttls_220;
    std::shared_ptr<boost::asio::ssl::context> tls;  // STARTTLS works when set
    bool implicit_tls = false;  // with `tls`: the handshake first, then the greeting (port 465)
    // Closes the connection once this many DATA octets have arrived.
    size_t drop_after_data_octets = 0;
    // Called for every command line first: a non-empty result is sent
    // instead of the default reply; "<close>" closes the connection,
    // "<silent>" never answers again, "<dribble>" sends a continuation line
    // every 50 ms for 3 s, then closes.
    std::function<std::string(const std::string& line)> hook;
  };

  explicit FakeSmtpServer(Script script);
  ~FakeSmtpServer();

  asio::ip::tcp::endpoint endpoint() const { return endpoint_; }
  // Waits until the connection is over.
  void Join();

  // Every command line received (not DATA content), in order.
  std::vector<std::string> commands;
  // For each command, which socket read delivered it: commands with the same
  // number arrived together (pipelined).
  std::vector<int> reads;
  // Each message as received between DATA's 354 and the final ".": still
  // dot-stuffed, lines joined with CRLF.
  std::vector<std::string> messages;
  bool tls_used = false;

 private:
  void Serve();
  bool ReadLine(std::string* line);
  bool Write(std::string_view data);

  Script script_;
  asio::io_context context_;
  asio::ip::tcp::acceptor acceptor_{context_};
  asio::ip::tcp::endpoint endpoint_;
  std::unique_ptr<asio::ip::tcp::socket> socket_;
  struct Tls;
  std::unique_ptr<Tls> tls_;
  std::string buffer_;
  int read_count_ = 0;
  std::thread thread_;
};

}  // namespace postern::smtpclient
