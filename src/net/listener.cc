#include "net/listener.h"

#include <unistd.h>

#include <boost/asio/ip/v6_only.hpp>
#include <cerrno>
#include <cstring>

#include "base/log.h"

namespace postern::net {

Result<asio::ip::tcp::endpoint> ParseEndpoint(const std::string& text) {
  std::string host;
  std::string port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return InvalidArgument("\"" + text + "\" is not an address like [::1]:25");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) {
      return InvalidArgument("\"" + text + "\" is not an address like 0.0.0.0:25");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return InvalidArgument("\"" + host + "\" in \"" + text + "\" is not an IP address");
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535) {
    return InvalidArgument("\"" + port + "\" in \"" + text + "\" is not a port number");
  }
  return asio::ip::tcp::endpoint(addr, static_cast<uint16_t>(std::stoi(port)));
}

std::string ConnectionLimiter::KeyFor(const std::string& ip) {
  error_code ec;
  auto addr = asio::ip::make_address(ip, ec);
  if (ec || !addr.is_v6()) return ip;
  auto bytes = addr.to_v6().to_bytes();
  for (size_t i = 8; i < bytes.size(); ++i) bytes[i] = 0;
  return asio::ip::address_v6(bytes).to_string() + "/64";
}

ConnectionLimiter::Verdict ConnectionLimiter::Acquire(const std::string& key) {
  std::lock_guard lock(mu_);
  if (total_ >= max_total_) return Verdict::kTooManyTotal;
  size_t& n = per_client_[key];
  if (n >= max_per_client_) {
    if (n == 0) per_client_.erase(key);
    return Verdict::kTooManyFromClient;
  }
  ++n;
  ++total_;
  return Verdict::kOk;
}

void ConnectionLimiter::Release(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = per_client_.find(key);
  if (it == per_client_.end()) return;
  if (--it->second == 0) per_client_.erase(it);
  --total_;
}

size_t ConnectionLimiter::total() const {
  std::lock_guard lock(mu_);
  return total_;
}

Result<std::unique_ptr<Listener>> Listener::Bind(asio::io_context& context,
                                                 const std::string& endpoint) {
  PT_ASSIGN_OR_RETURN(auto ep, ParseEndpoint(endpoint));
  std::unique_ptr<Listener> l(new Listener(context, endpoint));
  error_code ec;
  l->acceptors_[0]->open(ep.protocol(), ec);
  if (!ec) l->acceptors_[0]->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && ep.address().is_v6()) l->acceptors_[0]->set_option(asio::ip::v6_only(true), ec);
  if (!ec) l->acceptors_[0]->bind(ep, ec);
  if (!ec) l->acceptors_[0]->listen(1024, ec);
  if (ec) {
    std::string hint;
    if (ec == asio::error::address_in_use) {
      hint = ": another program is listening there (find it with `ss -ltnp`)";
    } else if (ec == asio::error::access_denied) {
      hint = ": ports below 1024 need root (postern drops privileges after binding)";
    } else if (ec == boost::system::errc::address_not_available) {
      hint = ": this machine has no such address";
    }
    return Unavailable("cannot listen on " + endpoint + ": " + ec.message() + hint);
  }
  return l;
}

uint16_t Listener::port() const {
  error_code ec;
  auto ep = acceptors_[0]->local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void Listener::Start(IoContextPool& pool, std::function<void(asio::ip::tcp::socket)> on_accept) {
  asio::ip::tcp::acceptor& first = *acceptors_[0];
  for (size_t i = 1; i < pool.size(); ++i) {
    const int fd = ::dup(first.native_handle());
    if (fd < 0) {
      LOG_WARN("{}: accepting on {} of {} threads only: dup: {}", endpoint_, i, pool.size(),
               std::strerror(errno));
      break;
    }
    auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(pool.At(i));
    error_code ec;
    acceptor->assign(first.local_endpoint(ec).protocol(), fd, ec);
    if (ec) {
      ::close(fd);
      LOG_WARN("{}: accepting on {} of {} threads only: {}", endpoint_, i, pool.size(),
               ec.message());
      break;
    }
    acceptors_.push_back(std::move(acceptor));
  }
  for (auto& acceptor : acceptors_) {
    asio::co_spawn(acceptor->get_executor(), Run(*acceptor, endpoint_, on_accept), asio::detached);
  }
}

asio::awaitable<void> Listener::Run(asio::ip::tcp::acceptor& acceptor, std::string endpoint,
                                    std::function<void(asio::ip::tcp::socket)> on_accept) {
  while (acceptor.is_open()) {
    auto [ec, socket] = co_await acceptor.async_accept(kAwait);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
      // EMFILE and friends: log, wait a little, go on.
      LOG_WARN("accept on {} failed: {}", endpoint, ec.message());
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(kAwait);
      continue;
    }
    on_accept(std::move(socket));
  }
}

void Listener::Stop() {
  for (auto& acceptor : acceptors_) {
    asio::post(acceptor->get_executor(), [a = acceptor.get()] {
      error_code ec;
      a->close(ec);
    });
  }
}

}  // namespace postern::net
