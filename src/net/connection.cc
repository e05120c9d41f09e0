#include "net/connection.h"

#include <boost/asio/read.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

namespace postern::net {
namespace {

constexpr size_t kReadChunk = 16 * 1024;

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket)
    : socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      deadline_(std::chrono::steady_clock::time_point::max()) {
  error_code ec;
  auto remote = socket_.remote_endpoint(ec);
  if (!ec) {
    auto addr = remote.address();
    if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
      addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    }
    remote_ip_ = addr.to_string();
    remote_port_ = remote.port();
  }
  auto local = socket_.local_endpoint(ec);
  if (!ec) local_port_ = local.port();
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

Connection::~Connection() = default;

void Connection::Start() {
  auto self = shared_from_this();
  auto watchdog = Watchdog(self);
  asio::co_spawn(socket_.get_executor(), std::move(watchdog), asio::detached);
}

// The deadline actor: one timer per connection, re-armed only when the
// deadline moves earlier, so a read costs no timer operation.
asio::awaitable<void> Connection::Watchdog(std::shared_ptr<Connection> self) {
  (void)self;  // keeps the connection alive while the watchdog runs
  while (!closed_) {
    timer_.expires_at(deadline_);
    co_await timer_.async_wait(kAwait);
    if (closed_) break;
    if (deadline_ <= std::chrono::steady_clock::now()) {
      timed_out_ = true;
      deadline_ = std::chrono::steady_clock::time_point::max();
      error_code ec;
      socket_.cancel(ec);
    }
  }
}

void Connection::SetDeadline(Duration timeout) {
  deadline_ = std::chrono::steady_clock::now() + timeout;
  timed_out_ = false;
  if (deadline_ < timer_.expiry()) timer_.cancel();
}

void Connection::ClearDeadline() { deadline_ = std::chrono::steady_clock::time_point::max(); }

void Connection::Drain() {
  auto self = shared_from_this();
  asio::post(socket_.get_executor(), [self] {
    self->draining_ = true;
    if (self->idle_) {
      self->drained_ = true;
      error_code ec;
      self->socket_.cancel(ec);
    }
  });
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

std::string Connection::TlsDescription() const {
  if (!tls_) return "";
  SSL* ssl = const_cast<asio::ssl::stream<asio::ip::tcp::socket&>&>(*tls_).native_handle();
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
  int alg_bits = 0;
  int bits = cipher ? SSL_CIPHER_get_bits(cipher, &alg_bits) : 0;
  std::string out = SSL_get_version(ssl);
  out += " with cipher ";
  out += cipher ? SSL_CIPHER_get_name(cipher) : "unknown";
  out += " (" + std::to_string(bits) + "/" + std::to_string(alg_bits) + " bits)";
  return out;
}

// Appends newly received bytes to in_. Returns how many (0 on any failure).
asio::awaitable<size_t> Connection::ReadMore(Duration timeout, ReadStatus* status) {
  if (in_begin_ > 0 && (in_begin_ == in_.size() || in_begin_ > kReadChunk)) {
    in_.erase(0, in_begin_);
    scan_ -= std::min(scan_, in_begin_);
    in_begin_ = 0;
  }
  size_t old = in_.size();
  in_.resize(old + kReadChunk);
  SetDeadline(timeout);
  error_code ec;
  size_t n;
  if (tls_) {
    std::tie(ec, n) =
        co_await tls_->async_read_some(asio::buffer(in_.data() + old, kReadChunk), kAwait);
  } else {
    std::tie(ec, n) =
        co_await socket_.async_read_some(asio::buffer(in_.data() + old, kReadChunk), kAwait);
  }
  ClearDeadline();
  in_.resize(old + (ec ? 0 : n));
  if (!ec) {
    *status = ReadStatus::kOk;
    co_return n;
  }
  if (drained_) {
    *status = ReadStatus::kDrained;
  } else if (timed_out_) {
    *status = ReadStatus::kTimeout;
  } else if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
             ec == asio::error::connection_reset) {
    *status = ReadStatus::kEof;
  } else {
    *status = ReadStatus::kError;
  }
  co_return 0;
}

asio::awaitable<Line> Connection::ReadLine(size_t max_length, Duration timeout, bool idle) {
  if (scan_ < in_begin_) scan_ = in_begin_;
  while (true) {
    size_t lf = in_.find('\n', scan_);
    if (lf != std::string::npos) {
      size_t start = in_begin_;
      in_begin_ = scan_ = lf + 1;
      if (discarding_ || lf + 1 - start > max_length) {
        discarding_ = false;
        co_return Line{ReadStatus::kTooLong, {}};
      }
      size_t end = lf;
      if (end > start && in_[end - 1] == '\r') --end;
      co_return Line{ReadStatus::kOk, std::string_view(in_).substr(start, end - start)};
    }
    scan_ = in_.size();
    if (in_.size() - in_begin_ >= max_length) {
      // Too long: drop what we have and keep dropping until the LF.
      discarding_ = true;
      in_.erase(in_begin_);
      scan_ = in_begin_;
    }
    if (idle && draining_) co_return Line{ReadStatus::kDrained, {}};
    idle_ = idle;
    ReadStatus status;
    size_t n = co_await ReadMore(timeout, &status);
    idle_ = false;
    if (n == 0) co_return Line{status, {}};
  }
}

asio::awaitable<std::pair<ReadStatus, std::string_view>> Connection::ReadSome(Duration timeout) {
  if (!HasBufferedInput()) {
    ReadStatus status;
    size_t n = co_await ReadMore(timeout, &status);
    if (n == 0) co_return std::make_pair(status, std::string_view());
  }
  co_return std::make_pair(ReadStatus::kOk, std::string_view(in_).substr(in_begin_));
}

void Connection::Consume(size_t n) {
  in_begin_ = std::min(in_.size(), in_begin_ + n);
  if (scan_ < in_begin_) scan_ = in_begin_;
}

asio::awaitable<bool> Connection::Flush(Duration timeout) {
  if (out_.empty()) co_return true;
  SetDeadline(timeout);
  error_code ec;
  if (tls_) {
    std::tie(ec, std::ignore) = co_await asio::async_write(*tls_, asio::buffer(out_), kAwait);
  } else {
    std::tie(ec, std::ignore) = co_await asio::async_write(socket_, asio::buffer(out_), kAwait);
  }
  ClearDeadline();
  out_.clear();
  co_return !ec;
}

asio::awaitable<bool> Connection::StartTls(asio::ssl::context& context, Duration timeout) {
  in_.clear();
  in_begin_ = scan_ = 0;
  discarding_ = false;
  tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(socket_, context);
  SetDeadline(timeout);
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, kAwait);
  ClearDeadline();
  co_return !ec;
}

}  // namespace postern::net
