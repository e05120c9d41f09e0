#include "net/connection.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <boost/asio/write.hpp>
#include <cstring>
#include <mutex>

#include "net/deflate.h"
#include "net/tls.h"

namespace postern::net {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 16 * 1024;
// How long a compressed connection waits for input before its zlib states
// are released (about 80 KB while active; see net/deflate.h). Rebuilding
// them takes microseconds, so a human-paced client hardly notices; IDLE
// sessions spend nearly all their life released.
constexpr auto kCompressionReleaseDelay = std::chrono::seconds(2);
// TlsCall's result when the socket wait was cancelled (not an SSL_ERROR_*
// code; the SSL object stays usable).
constexpr int kTlsWaitAborted = -1;

}  // namespace

struct Connection::Compression {
  Deflater out;
  Inflater in;
  Clock::time_point release_at = Clock::time_point::max();  // see ScheduleCompressionRelease
};

Connection::Connection(asio::ip::tcp::socket socket)
    : socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      deadline_(Clock::time_point::max()) {
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

asio::awaitable<Result<std::shared_ptr<Connection>>> Connection::Connect(
    asio::any_io_executor executor, asio::ip::tcp::endpoint endpoint, Duration timeout,
    std::optional<asio::ip::address> local) {
  // Shared with the timer's handler, which may run after this frame is gone.
  auto socket = std::make_shared<asio::ip::tcp::socket>(executor);
  const std::string where =
      endpoint.address().to_string() + " port " + std::to_string(endpoint.port());
  error_code ec;
  socket->open(endpoint.protocol(), ec);
  if (!ec && local) socket->bind(asio::ip::tcp::endpoint(*local, 0), ec);
  if (ec) co_return Unavailable("cannot open a socket for " + where + ": " + ec.message());
  auto expired = std::make_shared<bool>(false);
  asio::steady_timer timer(executor, timeout);
  auto on_expiry = [socket, expired](error_code timer_ec) {
    if (timer_ec) return;
    *expired = true;
    error_code ignored;
    socket->close(ignored);
  };
  timer.async_wait(std::move(on_expiry));
  std::tie(ec) = co_await socket->async_connect(endpoint, kAwait);
  timer.cancel();
  if (*expired) co_return DeadlineExceeded("connection to " + where + " timed out");
  if (ec) co_return Unavailable("cannot connect to " + where + ": " + ec.message());
  co_return std::make_shared<Connection>(std::move(*socket));
}

void Connection::Start() { ArmWatchdog(); }

// The deadline actor: one timer per connection, re-armed only when the
// deadline moves earlier, so a read costs no timer operation. It also
// releases an idle connection's compression state. Its pending wait keeps
// the connection alive until Close().
void Connection::ArmWatchdog() {
  timer_.expires_at(compression_ ? std::min(deadline_, compression_->release_at) : deadline_);
  auto on_expiry = [self = shared_from_this()](error_code) { self->OnWatchdog(); };
  timer_.async_wait(std::move(on_expiry));
}

void Connection::OnWatchdog() {
  if (closed_) return;
  const auto now = Clock::now();
  if (compression_ && compression_->release_at <= now) {
    compression_->release_at = Clock::time_point::max();
    // Only while ReadMore waits for readability: no inflate is under way
    // and nothing is buffered. The deflater refuses in mid-flush.
    if (waiting_idle_) {
      compression_->in.Release();
      compression_->out.Release();
    }
  }
  if (deadline_ <= now) {
    timed_out_ = true;
    deadline_ = Clock::time_point::max();
    error_code ec;
    socket_.cancel(ec);
  }
  ArmWatchdog();
}

void Connection::SetDeadline(Duration timeout) {
  deadline_ = Clock::now() + timeout;
  timed_out_ = false;
  if (deadline_ < timer_.expiry()) timer_.cancel();
}

void Connection::ClearDeadline() { deadline_ = Clock::time_point::max(); }

void Connection::ScheduleCompressionRelease() {
  compression_->release_at = Clock::now() + kCompressionReleaseDelay;
  if (compression_->release_at < timer_.expiry()) timer_.cancel();
}

bool Connection::StartCompression() {
  if (compression_) return false;
  auto compression = std::make_unique<Compression>();
  compression->in.Adopt(Buffered());
  begin_ = end_ = scan_ = 0;
  discarding_ = false;
  compression_ = std::move(compression);
  return true;
}

size_t Connection::CompressionMemory() const {
  return compression_ ? compression_->in.MemoryHeld() + compression_->out.MemoryHeld() : 0;
}

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
    auto what =
        err == SSL_ERROR_WANT_READ ? asio::socket_base::wait_read : asio::socket_base::wait_write;
    auto [ec] = co_await socket_.async_wait(what, kAwait);
    if (ec) co_return kTlsWaitAborted;  // a deadline or drain cancelled it
  }
}

asio::awaitable<error_code> Connection::ReadTransport(char* room, size_t size, size_t* n) {
  *n = 0;
  if (!ssl_) {
    auto [ec, got] = co_await socket_.async_read_some(asio::buffer(room, size), kAwait);
    *n = got;
    co_return ec;
  }
  auto read = [&] { return SSL_read_ex(ssl_.get(), room, size, n); };
  int err = co_await TlsCall(read);
  if (err == SSL_ERROR_NONE) co_return error_code();
  if (err == SSL_ERROR_ZERO_RETURN) co_return asio::error::eof;
  // A TCP close without close_notify ends the session like an EOF.
  if (err == SSL_ERROR_SYSCALL) co_return asio::error::connection_reset;
  co_return asio::error::operation_aborted;  // cancelled, or a TLS protocol error
}

asio::awaitable<error_code> Connection::ReadCompressed(char* room, size_t size, size_t* n) {
  Inflater& in = compression_->in;
  while (true) {
    // Never more than `room`: the caller's line and literal limits apply to
    // the inflated bytes, so a compression bomb is cut off like a long line.
    Inflater::Outcome outcome = in.Inflate(room, size, n);
    if (outcome == Inflater::Outcome::kEnded) co_return asio::error::eof;
    if (outcome != Inflater::Outcome::kOk) co_return asio::error::invalid_argument;
    if (*n > 0) co_return error_code();
    // Nothing came out, so every buffered compressed byte was consumed.
    std::span<char> input = in.InputRoom();
    if (input.empty()) co_return asio::error::invalid_argument;
    size_t got = 0;
    error_code ec = co_await ReadTransport(input.data(), input.size(), &got);
    if (ec) co_return ec;
    in.Commit(got);
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
    // already in the kernel, in OpenSSL's record buffer or in the inflater
    // would bring no new readiness edge, so only wait when there is none.
    buf_.reset();
    capacity_ = begin_ = end_ = scan_ = 0;
    bool pending =
        (ssl_ && SSL_has_pending(ssl_.get())) || (compression_ && compression_->in.HasPending());
    if (!pending && socket_.available(ec) == 0 && !ec) {
      waiting_idle_ = true;
      if (compression_) ScheduleCompressionRelease();
      std::tie(ec) = co_await socket_.async_wait(asio::socket_base::wait_read, kAwait);
      waiting_idle_ = false;
    }
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
    if (compression_) {
      ec = co_await ReadCompressed(room, room_size, &n);
    } else {
      ec = co_await ReadTransport(room, room_size, &n);
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
  return ReadLineWithin(max_length, timeout, Clock::time_point::max(), idle);
}

asio::awaitable<Line> Connection::ReadLineBefore(size_t max_length, Clock::time_point deadline) {
  return ReadLineWithin(max_length, Duration::zero(), deadline, false);
}

asio::awaitable<Line> Connection::ReadLineWithin(size_t max_length, Duration timeout,
                                                 Clock::time_point deadline, bool idle) {
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
    if (deadline != Clock::time_point::max()) {
      const auto now = Clock::now();
      if (now >= deadline) co_return Line{ReadStatus::kTimeout, {}};
      timeout = deadline - now;
    }
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

asio::awaitable<error_code> Connection::WriteTransport(const char* data, size_t size) {
  if (!ssl_) {
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(data, size), kAwait);
    co_return ec;
  }
  size_t done = 0;
  while (done < size) {
    size_t n = 0;
    auto write = [&] { return SSL_write_ex(ssl_.get(), data + done, size - done, &n); };
    int err = co_await TlsCall(write);
    if (err != SSL_ERROR_NONE) co_return asio::error::broken_pipe;
    done += n;
  }
  co_return error_code();
}

asio::awaitable<error_code> Connection::WriteCompressed(std::string_view data) {
  Deflater& out = compression_->out;
  if (!out.Begin(data)) co_return asio::error::no_memory;
  while (true) {
    std::span<const char> piece;
    if (!out.Next(&piece)) co_return asio::error::invalid_argument;
    if (piece.empty()) co_return error_code();
    error_code ec = co_await WriteTransport(piece.data(), piece.size());
    if (ec) {
      // Finish the flush without sending, so the deflater is not left
      // in mid-flush (the connection is lost anyway).
      while (out.Next(&piece) && !piece.empty()) {
      }
      co_return ec;
    }
  }
}

asio::awaitable<bool> Connection::Flush(Duration timeout) {
  if (out_.empty()) co_return true;
  // A notification written while a read waits (IDLE) must not take the
  // read's deadline away: it is put back afterwards.
  const auto read_deadline = deadline_;
  SetDeadline(timeout);
  // Taken out of out_, so that bytes queued while this write waits go with
  // the next Flush() instead of moving the buffer under the write.
  std::string data;
  data.swap(out_);
  error_code ec;
  if (compression_) {
    ec = co_await WriteCompressed(data);
    // A notification sent while the session waits for its next command.
    if (waiting_idle_) ScheduleCompressionRelease();
  } else {
    ec = co_await WriteTransport(data.data(), data.size());
  }
  deadline_ = read_deadline;
  // `data` goes out of scope: a large response's memory does not stay with
  // the session.
  co_return !ec;
}

bool Connection::NewSsl(asio::ssl::context& context) {
  begin_ = end_ = scan_ = 0;
  discarding_ = false;
  ssl_.reset(SSL_new(context.native_handle()));
  error_code ec;
  socket_.non_blocking(true, ec);
  if (!ssl_ || ec || SSL_set_fd(ssl_.get(), socket_.native_handle()) != 1) {
    ERR_clear_error();
    tls_failed_ = true;
    return false;
  }
  // SSL_MODE_RELEASE_BUFFERS: OpenSSL frees its record buffers whenever they
  // are empty, which is almost always for an idle session.
  SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                               SSL_MODE_RELEASE_BUFFERS);
  return true;
}

asio::awaitable<bool> Connection::StartTls(asio::ssl::context& context, Duration timeout) {
  // TLS goes under compression, never above it (RFC 4978 §3); IMAP allows
  // STARTTLS only before COMPRESS anyway.
  if (compression_) co_return false;
  if (!NewSsl(context)) co_return false;
  SSL_set_accept_state(ssl_.get());
  SetDeadline(timeout);
  auto handshake = [this] { return SSL_do_handshake(ssl_.get()); };
  int err = co_await TlsCall(handshake);
  ClearDeadline();
  co_return err == SSL_ERROR_NONE;
}

namespace {

// SSL_CTX_dane_enable changes the shared context; serialize the first call.
std::mutex dane_mutex;

std::string VerifyError(long code) {
  return std::string("certificate verification failed: ") + X509_verify_cert_error_string(code);
}

}  // namespace

asio::awaitable<ClientTlsResult> Connection::StartTlsClient(asio::ssl::context& context,
                                                            const ClientTls& options,
                                                            Duration timeout) {
  ClientTlsResult result;
  if (compression_) {
    result.error = "TLS cannot start under compression";
    co_return result;
  }
  using Verify = ClientTls::Verify;
  if (options.verify == Verify::kDane) {
    std::lock_guard lock(dane_mutex);
    if (SSL_CTX_dane_enable(context.native_handle()) <= 0) {
      ERR_clear_error();
      result.error = "cannot enable DANE on the TLS context";
      co_return result;
    }
  }
  if (!NewSsl(context)) {
    result.error = "cannot create a TLS session";
    co_return result;
  }
  SSL* ssl = ssl_.get();
  SSL_set_connect_state(ssl);
  // Verification never aborts the handshake: its outcome is read afterwards,
  // so opportunistic TLS can still tell whether the peer was authenticated.
  SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
  if (!options.sni.empty() && SSL_set_tlsext_host_name(ssl, options.sni.c_str()) != 1) {
    ERR_clear_error();
  }
  if (options.verify == Verify::kDane) {
    const std::string& base = options.names.empty() ? options.sni : options.names.front();
    if (SSL_dane_enable(ssl, base.empty() ? nullptr : base.c_str()) <= 0) {
      ERR_clear_error();
      tls_failed_ = true;
      result.error = "cannot enable DANE for this connection";
      co_return result;
    }
    // RFC 7672 §3.1.1: a DANE-EE(3) match authenticates the server by its
    // key alone; its certificate's names (and expiry) are not checked.
    SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    for (size_t i = 1; i < options.names.size(); ++i) {
      SSL_add1_host(ssl, options.names[i].c_str());
    }
    int usable = 0;
    for (const auto& record : options.tlsa) {
      const auto* data = reinterpret_cast<const unsigned char*>(record.data.data());
      if (SSL_dane_tlsa_add(ssl, record.usage, record.selector, record.matching, data,
                            record.data.size()) > 0) {
        ++usable;
      }
    }
    ERR_clear_error();
    if (usable == 0) {
      tls_failed_ = true;
      result.error = "no usable TLSA record";
      co_return result;
    }
  }
  SetDeadline(timeout);
  auto handshake = [this] { return SSL_do_handshake(ssl_.get()); };
  int err = co_await TlsCall(handshake);
  const bool timed_out = timed_out_;
  ClearDeadline();
  if (err != SSL_ERROR_NONE) {
    tls_failed_ = true;
    result.error = timed_out ? "TLS handshake timed out" : "TLS handshake failed";
    // The certificate check cannot have failed the handshake (SSL_VERIFY_NONE),
    // so this is the peer's or the protocol's doing.
    co_return result;
  }
  const long chain = SSL_get_verify_result(ssl);
  if (options.verify == Verify::kDane) {
    result.verified = chain == X509_V_OK && SSL_get0_dane_authority(ssl, nullptr, nullptr) >= 0;
    if (!result.verified) {
      result.error = chain != X509_V_OK ? VerifyError(chain) : "no TLSA record matched";
    }
    result.ok = result.verified;
    co_return result;
  }
  X509* peer = SSL_get0_peer_certificate(ssl);
  bool name_ok = false;
  if (peer) {
    if (options.names.empty()) {
      name_ok = !options.sni.empty() && CertificateMatchesName(peer, options.sni);
    } else {
      for (const auto& name : options.names) {
        if (CertificateMatchesName(peer, name)) {
          name_ok = true;
          break;
        }
      }
    }
  }
  result.verified = peer && chain == X509_V_OK && name_ok;
  if (!result.verified) {
    if (!peer) {
      result.error = "the server sent no certificate";
    } else if (chain != X509_V_OK) {
      result.error = VerifyError(chain);
    } else {
      result.error = "no certificate name matches";
    }
  }
  result.ok = options.verify == Verify::kNone || result.verified;
  co_return result;
}

}  // namespace postern::net
