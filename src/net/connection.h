// A client connection: a TCP socket, optionally upgraded to TLS, with an
// input buffer the connection owns (pipelined bytes are never lost), an
// output buffer flushed on demand, a deadline on every read and write, and
// drain support for graceful shutdown.
//
// Memory: an idle connection (waiting for a command with nothing buffered)
// holds no input or output buffer, and TLS runs OpenSSL directly on the
// non-blocking socket with SSL_MODE_RELEASE_BUFFERS (Asio's ssl::stream
// keeps four 17 KB buffers per connection), so thousands of IDLE sessions
// cost a few KB each. With COMPRESS (RFC 4978) the zlib states are let go
// too once the connection has been idle for a moment (net/deflate.h).
//
// Every method runs on the connection's executor (one io_context thread),
// except Drain(), which may be called from any thread.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "net/asio.h"

namespace postern::net {

using Duration = std::chrono::steady_clock::duration;

enum class ReadStatus {
  kOk,
  kTooLong,  // a line exceeded the limit; it was discarded up to its end
  kEof,      // the peer closed the connection
  kTimeout,  // the deadline passed
  kDrained,  // the server is shutting down and the session was idle
  kError,    // a network or TLS error
};

// Client-side TLS (SMTP STARTTLS towards another server): what to send and
// how to authenticate the peer.
struct ClientTls {
  std::string sni;  // server name to send (empty: none)
  // kNone: opportunistic, any certificate is accepted. kName: the chain must
  // verify against the context's trust store and a name below must match.
  // kDane: the certificate must match one of `tlsa` (RFC 7672) through
  // OpenSSL's DANE support; DANE-TA(2) also checks `names`.
  enum class Verify { kNone, kName, kDane } verify = Verify::kNone;
  // Acceptable names. "*.example.net" is an MTA-STS pattern (RFC 8461 §4.1):
  // it matches a certificate name of exactly one more label (or the same
  // pattern). The certificate's own wildcards cover the leftmost label only
  // (RFC 6125 §6.4.3, no partial-label wildcards). For kDane, names[0] is
  // the base domain given to SSL_dane_enable (sni when names is empty).
  std::vector<std::string> names;
  struct Tlsa {
    uint8_t usage = 0, selector = 0, matching = 0;
    std::string data;  // the association data as raw bytes (not hex)
  };
  // kDane: records OpenSSL rejects as unusable are skipped; none usable is
  // a failure before any handshake.
  std::vector<Tlsa> tlsa;
};

struct ClientTlsResult {
  // The handshake succeeded and the peer passed the verification that was
  // asked for (always, for kNone). When false, the connection must not carry
  // mail: close it.
  bool ok = false;
  // The peer was authenticated: chain and name (kName; with kNone, against
  // `names`, or `sni` when names is empty), or a TLSA match (kDane). Reported
  // honestly for kNone too.
  bool verified = false;
  std::string error;  // why the handshake or the verification failed
};

struct Line {
  ReadStatus status = ReadStatus::kOk;
  // The line without its LF and without one CR before it. Valid until the
  // next read or Consume().
  std::string_view text;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  explicit Connection(asio::ip::tcp::socket socket);
  // Opens a TCP connection to `endpoint` within `timeout`, from `local` when
  // given (port chosen by the system). The connection is not Start()ed.
  static asio::awaitable<Result<std::shared_ptr<Connection>>> Connect(
      asio::any_io_executor executor, asio::ip::tcp::endpoint endpoint, Duration timeout,
      std::optional<asio::ip::address> local = std::nullopt);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts the deadline watchdog. Call once, on the connection's executor.
  void Start();

  // Reads one line. `max_length` counts the line ending. With `idle`, a
  // Drain() interrupts the wait (kDrained).
  asio::awaitable<Line> ReadLine(size_t max_length, Duration timeout, bool idle);
  // Reads one line that must be complete by `deadline` however slowly its
  // bytes arrive (a client reading a hostile server's reply).
  asio::awaitable<Line> ReadLineBefore(size_t max_length,
                                       std::chrono::steady_clock::time_point deadline);

  // Makes at least one byte available and returns every buffered byte.
  // The caller Consume()s what it used.
  asio::awaitable<std::pair<ReadStatus, std::string_view>> ReadSome(Duration timeout);
  void Consume(size_t n);
  bool HasBufferedInput() const { return begin_ < end_; }
  // True when a whole line (up to LF) is buffered: the next ReadLine will not wait.
  bool HasBufferedLine() const {
    return end_ > begin_ && std::memchr(buf_.get() + begin_, '\n', end_ - begin_) != nullptr;
  }
  size_t pending_output() const { return out_.size(); }

  // Output: Queue() appends, Flush() sends everything queued.
  void Queue(std::string_view data) { out_.append(data); }
  asio::awaitable<bool> Flush(Duration timeout);

  // Server-side TLS handshake. Buffered input is discarded first: bytes the
  // client pipelined after STARTTLS must not be read as if they had arrived
  // under TLS (CVE-2011-0411 class).
  asio::awaitable<bool> StartTls(asio::ssl::context& context, Duration timeout);

  // Client-side TLS handshake (SMTP STARTTLS as a client). Buffered input is
  // discarded first: a server that sent bytes after its 220 is not trusted
  // with them. The peer is checked as `options` asks (see ClientTls).
  // `context` is a client context with the trust store loaded (kName); for
  // kDane, DANE is enabled on it here (once; harmless to repeat).
  asio::awaitable<ClientTlsResult> StartTlsClient(asio::ssl::context& context,
                                                  const ClientTls& options, Duration timeout);

  // Asks an idle session to end (thread-safe; see ReadLine's `idle`).
  void Drain();
  bool draining() const { return draining_; }
  // Closes the socket now. Pending operations complete with errors.
  void Close();

  // RFC 4978: from now on both directions are raw DEFLATE, inside TLS when
  // TLS is on (§3: compress first, then encrypt). Input already buffered
  // arrived after the command that turned compression on, so it is the start
  // of the compressed stream. Output is compressed and sync-flushed on every
  // Flush(). False (nothing changed) if zlib cannot allocate, or if it is
  // already on.
  bool StartCompression();
  bool compressed() const { return compression_ != nullptr; }
  // Bytes of zlib state and compression buffers held now (0 without COMPRESS).
  size_t CompressionMemory() const;

  bool tls() const { return ssl_ != nullptr; }
  // "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)" for Received:.
  std::string TlsDescription() const;
  const std::string& remote_ip() const { return remote_ip_; }
  uint16_t remote_port() const { return remote_port_; }
  uint16_t local_port() const { return local_port_; }
  asio::any_io_executor executor() { return socket_.get_executor(); }

 private:
  // `idle`: nothing is expected soon, so the input buffer is let go while
  // waiting for the socket to become readable.
  asio::awaitable<size_t> ReadMore(Duration timeout, ReadStatus* status, bool idle);
  // ReadLine and ReadLineBefore: each wait for input gets `timeout`, or what
  // is left until `deadline` when one is given.
  asio::awaitable<Line> ReadLineWithin(size_t max_length, Duration timeout,
                                       std::chrono::steady_clock::time_point deadline, bool idle);
  // The SSL object for a handshake on this socket, or null (and tls_failed_).
  bool NewSsl(asio::ssl::context& context);
  // One TLS operation retried until OpenSSL stops asking for the socket:
  // `op` returns SSL_*_ex's result; the outcome is SSL_get_error's code
  // (SSL_ERROR_NONE on success).
  template <typename Op>
  asio::awaitable<int> TlsCall(Op op);
  // One read or one whole write on the transport: the socket, or TLS.
  asio::awaitable<error_code> ReadTransport(char* room, size_t size, size_t* n);
  asio::awaitable<error_code> WriteTransport(const char* data, size_t size);
  // Inflates into `room`, reading compressed bytes as needed, until at
  // least one byte comes out.
  asio::awaitable<error_code> ReadCompressed(char* room, size_t size, size_t* n);
  asio::awaitable<error_code> WriteCompressed(std::string_view data);
  // Asks the watchdog to release the zlib states if the connection is still
  // waiting for input a moment from now.
  void ScheduleCompressionRelease();
  void SetDeadline(Duration timeout);
  void ClearDeadline();
  // The watchdog: a completion handler on timer_ rather than a coroutine
  // (a coroutine and its co_spawn cost about 800 bytes per connection).
  void ArmWatchdog();
  void OnWatchdog();

  struct SslFree {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
  };

  asio::ip::tcp::socket socket_;
  std::unique_ptr<SSL, SslFree> ssl_;
  bool tls_failed_ = false;  // a fatal TLS error: no close_notify
  asio::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_;
  bool timed_out_ = false;
  bool idle_ = false;
  bool waiting_idle_ = false;  // in ReadMore's wait for readability, nothing buffered
  bool drained_ = false;       // a drain interrupted the current read
  bool draining_ = false;
  bool closed_ = false;

  // Input: bytes [begin_, end_) of buf_ are received and not yet consumed.
  // A plain array, not a std::string: growing it must not zero-fill.
  std::string_view Buffered() const { return {buf_.get() + begin_, end_ - begin_}; }
  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t scan_ = 0;          // where the search for LF resumes
  bool discarding_ = false;  // inside an over-long line
  std::string out_;

  struct Compression;                         // the zlib states and when to release them
  std::unique_ptr<Compression> compression_;  // null unless COMPRESS is on

  std::string remote_ip_;
  uint16_t remote_port_ = 0;
  uint16_t local_port_ = 0;
};

}  // namespace postern::net
