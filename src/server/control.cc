#include "server/control.h"

#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "base/log.h"
#include "base/strings.h"

namespace postern::server {

using asio::local::stream_protocol;

ControlSocket::ControlSocket(asio::io_context& context, std::string path)
    : context_(context), path_(std::move(path)) {}

ControlSocket::~ControlSocket() = default;

Status ControlSocket::Listen() {
  if (path_.size() >= sizeof(sockaddr_un::sun_path)) {
    return InvalidArgument("no control socket: the path " + path_ +
                           " is too long for a Unix socket (move server.data_dir)");
  }
  ::unlink(path_.c_str());
  acceptor_ = std::make_unique<stream_protocol::acceptor>(context_);
  error_code ec;
  acceptor_->open(stream_protocol(), ec);
  mode_t old = ::umask(077);
  if (!ec) acceptor_->bind(stream_protocol::endpoint(path_), ec);
  ::umask(old);
  if (!ec) acceptor_->listen(16, ec);
  if (ec) return Unavailable("cannot create the control socket " + path_ + ": " + ec.message());
  asio::co_spawn(context_, Accept(), asio::detached);
  return Status::Ok();
}

void ControlSocket::Close() {
  if (!acceptor_) return;
  asio::post(context_, [this] {
    error_code ec;
    acceptor_->close(ec);
  });
  ::unlink(path_.c_str());
}

asio::awaitable<void> ControlSocket::Accept() {
  while (acceptor_->is_open()) {
    auto [ec, socket] = co_await acceptor_->async_accept(kAwait);
    if (ec) break;
    asio::co_spawn(context_, Serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> ControlSocket::Serve(stream_protocol::socket socket) {
  asio::streambuf buf(256);
  auto [ec, n] = co_await asio::async_read_until(socket, buf, '\n', kAwait);
  if (ec) co_return;
  std::string line(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n);
  std::string command(TrimWhitespace(line));
  auto it = handlers_.find(command);
  std::string reply = it == handlers_.end() ? "error unknown command" : it->second();
  LOG_DEBUG("control: {} -> {}", SanitizeForLog(command), reply);
  reply += "\n";
  co_await asio::async_write(socket, asio::buffer(reply), kAwait);
}

Result<std::string> SendControl(const std::string& path, const std::string& command) {
  asio::io_context ctx;
  stream_protocol::socket socket(ctx);
  error_code ec;
  socket.connect(stream_protocol::endpoint(path), ec);
  if (ec) return Unavailable("the server is not running (no answer on " + path + ")");
  std::string line = command + "\n";
  asio::write(socket, asio::buffer(line), ec);
  asio::streambuf buf(4096);
  size_t n = ec ? 0 : asio::read_until(socket, buf, '\n', ec);
  if (ec) return Unavailable("no reply from the server on " + path + ": " + ec.message());
  std::string reply(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n);
  return std::string(TrimWhitespace(reply));
}

}  // namespace postern::server
