#include "net/connection.h"

#include <openssl/err.h>

#include <boost/asio/write.hpp>
#include <cstring>

namespace postern::net {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
// TlsCall's result when the socket wait was cancelled (not an SSL_ERROR_*
// code; the SSL object stays usable).
constexpr int kTlsWaitAborted = -1;

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
  if (ssl_ && !tls_failed_ && SSL_is_init_finished(ssl_.get())) {
    // Best effort close_notify (RFC 8446 §6.1); the socket is non-blocking.
    ERR_clear_error();
    SSL_shutdown(ssl_.get());
    ERR_clear_error();
  }
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

std::string Connection::TlsDescription() const {
  if (!ssl_) return "";
  const SSL* ssl = ssl_.get();
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
  int alg_bits = 0;
  int bits = cipher ? SSL_CIPHER_get_bits(cipher, &alg_bits) : 0;
  std::string out = SSL_get_version(ssl);
  out += " with cipher ";
  out += cipher ? SSL_CIPHER_get_name(cipher) : "unknown";
  out += " (" + std::to_string(bits) + "/" + std::to_string(alg_bits) + " bits)";
  return out;
}

asio::awaitable<error_code> Connection::Wait(asio::socket_base::wait_type what) {
  auto [ec] = co_await socket_.async_wait(what, kAwait);
  co_return ec;
}

template <typename Op>
asio::awaitable<int> Connection::TlsCall(Op op) {
  while (true) {
    ERR_clear_error();
    int rc = op();
    if (rc == 1) co_return SSL_ERROR_NONE;
    int err = SSL_get_error(ssl_.get(), rc);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      ERR_clear_error();
      // After SSL_ERROR_SYSCALL or SSL_ERROR_SSL, no further I/O (not even
      // a close_notify) may be attempted on this SSL object.
      if (err != SSL_ERROR_ZERO_RETURN) tls_failed_ = true;
      co_return err;
    }
    // OpenSSL read the socket (or wrote it) until EAGAIN, so a new edge
    // will wake this wait.
    error_code ec = co_await Wait(err == SSL_ERROR_WANT_READ ? asio::socket_base::wait_read
                                                             : asio::socket_base::wait_write);
    if (ec) co_return kTlsWaitAborted;  // a deadline or drain cancelled it
  }
}

// Appends newly received bytes to the input buffer. Returns how many (0 on
// any failure, with *status saying why).
asio::awaitable<size_t> Connection::ReadMore(Duration timeout, ReadStatus* status, bool idle) {
  SetDeadline(timeout);
  error_code ec;
  if (idle && begin_ == end_) {
    // Waiting for the next command: most sessions spend their life here
    // (IDLE), so let go of the buffer and wait for the socket first. Data
    // already in the kernel or in OpenSSL's record buffer would bring no new
    // readiness edge, so only wait when there is none.
    buf_.reset();
    capacity_ = begin_ = end_ = scan_ = 0;
    bool pending = ssl_ && SSL_has_pending(ssl_.get());
    if (!pending && socket_.available(ec) == 0 && !ec)
      ec = co_await Wait(asio::socket_base::wait_read);
  }
  size_t n = 0;
  if (!ec) {
    // Make room for one more chunk: move unread bytes to the front, and grow
    // only when unread bytes fill most of the buffer (a long line).
    if (begin_ > 0 && (begin_ == end_ || capacity_ - end_ < kReadChunk)) {
      std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      scan_ -= std::min(scan_, begin_);
      begin_ = 0;
    }
    if (capacity_ - end_ < kReadChunk) {
      size_t capacity = std::max<size_t>(2 * capacity_, end_ + kReadChunk);
      auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
      if (end_ > 0) std::memcpy(bigger.get(), buf_.get(), end_);
      buf_ = std::move(bigger);
      capacity_ = capacity;
    }
    char* room = buf_.get() + end_;
    const size_t room_size = capacity_ - end_;
    if (ssl_) {
      auto read = [&] { return SSL_read_ex(ssl_.get(), room, room_size, &n); };
      int err = co_await TlsCall(read);
      if (err == SSL_ERROR_ZERO_RETURN) {
        ec = asio::error::eof;
      } else if (err == SSL_ERROR_SYSCALL) {
        // A TCP close without close_notify ends the session like an EOF.
        ec = asio::error::connection_reset;
      } else if (err != SSL_ERROR_NONE) {
        ec = asio::error::operation_aborted;  // cancelled, or a TLS protocol error
      }
    } else {
      std::tie(ec, n) = co_await socket_.async_read_some(asio::buffer(room, room_size), kAwait);
    }
  }
  ClearDeadline();
  if (!ec) {
    end_ += n;
    *status = ReadStatus::kOk;
    co_return n;
  }
  if (drained_) {
    *status = ReadStatus::kDrained;
  } else if (timed_out_) {
    *status = ReadStatus::kTimeout;
  } else if (ec == asio::error::eof || ec == asio::error::connection_reset) {
    *status = ReadStatus::kEof;
  } else {
    *status = ReadStatus::kError;
  }
  co_return 0;
}

asio::awaitable<Line> Connection::ReadLine(size_t max_length, Duration timeout, bool idle) {
  if (scan_ < begin_) scan_ = begin_;
  while (true) {
    const void* hit = end_ > scan_ ? std::memchr(buf_.get() + scan_, '\n', end_ - scan_) : nullptr;
    if (hit) {
      size_t lf = static_cast<size_t>(static_cast<const char*>(hit) - buf_.get());
      size_t start = begin_;
      begin_ = scan_ = lf + 1;
      if (discarding_ || lf + 1 - start > max_length) {
        discarding_ = false;
        co_return Line{ReadStatus::kTooLong, {}};
      }
      size_t end = lf;
      if (end > start && buf_[end - 1] == '\r') --end;
      co_return Line{ReadStatus::kOk, std::string_view(buf_.get() + start, end - start)};
    }
    scan_ = end_;
    if (end_ - begin_ >= max_length) {
      // Too long: drop what we have and keep dropping until the LF.
      discarding_ = true;
      end_ = scan_ = begin_;
    }
    if (idle && draining_) co_return Line{ReadStatus::kDrained, {}};
    idle_ = idle;
    ReadStatus status;
    size_t n = co_await ReadMore(timeout, &status, idle);
    idle_ = false;
    if (n == 0) co_return Line{status, {}};
  }
}

asio::awaitable<std::pair<ReadStatus, std::string_view>> Connection::ReadSome(Duration timeout) {
  if (!HasBufferedInput()) {
    ReadStatus status;
    size_t n = co_await ReadMore(timeout, &status, false);
    if (n == 0) co_return std::make_pair(status, std::string_view());
  }
  co_return std::make_pair(ReadStatus::kOk, Buffered());
}

void Connection::Consume(size_t n) {
  begin_ = std::min(end_, begin_ + n);
  if (scan_ < begin_) scan_ = begin_;
}

asio::awaitable<bool> Connection::Flush(Duration timeout) {
  if (out_.empty()) co_return true;
  SetDeadline(timeout);
  error_code ec;
  if (ssl_) {
    size_t done = 0;
    while (done < out_.size() && !ec) {
      size_t n = 0;
      auto write = [&] {
        return SSL_write_ex(ssl_.get(), out_.data() + done, out_.size() - done, &n);
      };
      int err = co_await TlsCall(write);
      if (err != SSL_ERROR_NONE) ec = asio::error::broken_pipe;
      done += n;
    }
  } else {
    std::tie(ec, std::ignore) = co_await asio::async_write(socket_, asio::buffer(out_), kAwait);
  }
  ClearDeadline();
  // Give the memory back: a large response must not stay with the session.
  std::string().swap(out_);
  co_return !ec;
}

asio::awaitable<bool> Connection::StartTls(asio::ssl::context& context, Duration timeout) {
  begin_ = end_ = scan_ = 0;
  discarding_ = false;
  ssl_.reset(SSL_new(context.native_handle()));
  error_code ec;
  socket_.non_blocking(true, ec);
  if (!ssl_ || ec || SSL_set_fd(ssl_.get(), socket_.native_handle()) != 1) {
    ERR_clear_error();
    tls_failed_ = true;
    co_return false;
  }
  // SSL_MODE_RELEASE_BUFFERS: OpenSSL frees its record buffers whenever they
  // are empty, which is almost always for an idle session.
  SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                               SSL_MODE_RELEASE_BUFFERS);
  SSL_set_accept_state(ssl_.get());
  SetDeadline(timeout);
  auto handshake = [this] { return SSL_do_handshake(ssl_.get()); };
  int err = co_await TlsCall(handshake);
  ClearDeadline();
  co_return err == SSL_ERROR_NONE;
}

}  // namespace postern::net
