#include "smtpclient/fake_smtp_server.h"

#include <sys/socket.h>

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <chrono>

namespace postern::smtpclient {

struct FakeSmtpServer::Tls {
  asio::ssl::stream<asio::ip::tcp::socket&> stream;
};

FakeSmtpServer::FakeSmtpServer(Script script) : script_(std::move(script)) {
  acceptor_.open(asio::ip::tcp::v4());
  acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
  acceptor_.listen();
  endpoint_ = acceptor_.local_endpoint();
  thread_ = std::thread([this] { Serve(); });
}

FakeSmtpServer::~FakeSmtpServer() {
  if (thread_.joinable()) {
    error_code ec;
    // shutdown() wakes an accept() still waiting for a client; close() alone does not.
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    acceptor_.close(ec);
    if (socket_) socket_->close(ec);
    thread_.join();
  }
}

void FakeSmtpServer::Join() { thread_.join(); }

bool FakeSmtpServer::Write(std::string_view data) {
  error_code ec;
  if (tls_) {
    asio::write(tls_->stream, asio::buffer(data), ec);
  } else {
    asio::write(*socket_, asio::buffer(data), ec);
  }
  return !ec;
}

bool FakeSmtpServer::ReadLine(std::string* line) {
  while (true) {
    size_t lf = buffer_.find('\n');
    if (lf != std::string::npos) {
      *line = buffer_.substr(0, lf);
      if (!line->empty() && line->back() == '\r') line->pop_back();
      buffer_.erase(0, lf + 1);
      return true;
    }
    char chunk[4096];
    error_code ec;
    size_t n = tls_ ? tls_->stream.read_some(asio::buffer(chunk), ec)
                    : socket_->read_some(asio::buffer(chunk), ec);
    if (ec) return false;
    ++read_count_;
    buffer_.append(chunk, n);
  }
}

void FakeSmtpServer::Serve() {
  error_code ec;
  socket_ = std::make_unique<asio::ip::tcp::socket>(context_);
  acceptor_.accept(*socket_, ec);
  if (ec) return;
  if (script_.implicit_tls && script_.tls) {
    tls_.reset(new Tls{asio::ssl::stream<asio::ip::tcp::socket&>(*socket_, *script_.tls)});
    tls_->stream.handshake(asio::ssl::stream_base::server, ec);
    if (ec) return;
    tls_used = true;
  }
  if (!Write(script_.greeting)) return;
  std::string line;
  while (ReadLine(&line)) {
    commands.push_back(line);
    reads.push_back(read_count_);
    std::string reply = script_.hook ? script_.hook(line) : "";
    if (reply == "<close>") break;
    if (reply == "<silent>") {
      while (ReadLine(&line)) {
      }
      break;
    }
    if (reply == "<dribble>") {
      for (int i = 0; i < 60 && Write("250-still working\r\n"); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      break;
    }
    if (!reply.empty()) {
      if (!Write(reply)) break;
      continue;
    }
    std::string verb = line.substr(0, line.find(' '));
    for (char& c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (verb == "EHLO") {
      reply = tls_ && !script_.ehlo_after_tls.empty() ? script_.ehlo_after_tls : script_.ehlo;
    } else if (verb == "HELO") {
      reply = "250 fake.example.test\r\n";
    } else if (verb == "MAIL") {
      reply = "250 2.1.0 Ok\r\n";
    } else if (verb == "RCPT") {
      size_t open = line.find('<');
      size_t close = line.find('>');
      std::string address = open < close ? line.substr(open + 1, close - open - 1) : "";
      reply = script_.refused_recipients.count(address)
                  ? "550 5.1.1 <" + address + ">: no such user\r\n"
                  : "250 2.1.5 Ok\r\n";
    } else if (verb == "DATA") {
      if (!Write("354 End data with <CR><LF>.<CR><LF>\r\n")) break;
      std::string message;
      size_t octets = 0;
      bool ended = false;
      while (ReadLine(&line)) {
        if (line == ".") {
          ended = true;
          break;
        }
        message += line + "\r\n";
        octets += line.size() + 2;
        if (script_.drop_after_data_octets > 0 && octets >= script_.drop_after_data_octets) break;
      }
      messages.push_back(message);
      if (!ended) break;
      reply = script_.data_reply;
    } else if (verb == "RSET" || verb == "NOOP") {
      reply = "250 2.0.0 Ok\r\n";
    } else if (verb == "QUIT") {
      Write("221 2.0.0 Bye\r\n");
      break;
    } else if (verb == "STARTTLS" && script_.tls && !tls_) {
      if (!Write("220 2.0.0 Ready to start TLS\r\n" + script_.after_starttls_220)) break;
      buffer_.clear();
      tls_.reset(new Tls{asio::ssl::stream<asio::ip::tcp::socket&>(*socket_, *script_.tls)});
      tls_->stream.handshake(asio::ssl::stream_base::server, ec);
      if (ec) break;
      tls_used = true;
      continue;
    } else if (verb == "AUTH") {
      reply = line == "AUTH PLAIN " + script_.auth_plain ? "235 2.7.0 Authentication successful\r\n"
                                                         : "535 5.7.8 Authentication failed\r\n";
    } else {
      reply = "502 5.5.2 Command not recognized\r\n";
    }
    if (!Write(reply)) break;
  }
  socket_->shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_->close(ec);
}

}  // namespace postern::smtpclient
