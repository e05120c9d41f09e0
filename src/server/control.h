// The control socket: DATA_DIR/control.sock, a Unix socket through which the
// `postern` CLI asks the running server to act at once (for example "flush":
// retry the queue now). One line in, one line out. Only the server's user
// can connect (mode 0600).
#pragma once

#include <boost/asio/local/stream_protocol.hpp>
#include <functional>
#include <map>
#include <string>

#include "base/status.h"
#include "net/asio.h"

namespace postern::server {

class ControlSocket {
 public:
  using Handler = std::function<std::string()>;  // returns the reply line

  ControlSocket(asio::io_context& context, std::string path);
  ~ControlSocket();
  void On(const std::string& command, Handler handler) { handlers_[command] = std::move(handler); }
  Status Listen();
  void Close();

 private:
  asio::awaitable<void> Accept();
  asio::awaitable<void> Serve(asio::local::stream_protocol::socket socket);

  asio::io_context& context_;
  std::string path_;
  std::map<std::string, Handler> handlers_;
  std::unique_ptr<asio::local::stream_protocol::acceptor> acceptor_;
};

// Client side, for the CLI: sends `command`, returns the reply line.
// Unavailable when no server listens (it is not running).
Result<std::string> SendControl(const std::string& path, const std::string& command);

}  // namespace postern::server
