// Raw DEFLATE (RFC 1951) for a connection's two directions, as IMAP's
// COMPRESS=DEFLATE (RFC 4978) uses it: no zlib header or checksum, one
// endless stream each way, the sender flushing to a byte boundary
// (Z_SYNC_FLUSH) whenever it waits for the peer. Sans-I/O: the connection
// moves the bytes.
//
// Memory: zlib's state is large (a 15-bit compressor takes about 260 KB, an
// inflater 7 KB plus its 32 KB window), so both sides can be released while
// the connection is idle and rebuilt on the next use. The compressor starts
// afresh (a sync flush ends on a block boundary, and new blocks need not
// refer back); the inflater keeps the history the peer may still refer to.
// Not thread-safe; each object belongs to one connection.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

namespace postern::net {

// Compresses output. The window is smaller than zlib's default: the peer's
// inflater accepts any window up to 32 KB, and at 4 KB (memLevel 5) the state
// is about 40 KB instead of 260 KB for a few per cent more bytes on IMAP
// responses (docs/performance.md).
class Deflater {
 public:
  static constexpr int kLevel = 1;
  static constexpr int kWindowBits = 12;
  static constexpr int kMemLevel = 5;

  Deflater() = default;
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // Takes `input` (which must stay valid until Next() returns an empty
  // span) to compress and flush to a byte boundary. False if zlib could not
  // allocate its state.
  bool Begin(std::string_view input);
  // Sets *out to the next piece of compressed output (valid until the next
  // call), empty once everything given to Begin() is out and flushed. False
  // on a zlib error (none is expected with a valid state).
  bool Next(std::span<const char>* out);

  // Frees zlib's state between two flushes; the next Begin() starts a new
  // dictionary. Does nothing in the middle of a Begin()/Next() sequence.
  void Release();
  bool active() const { return active_; }
  // Bytes of memory held now (for tests and benchmarks).
  size_t MemoryHeld() const;

 private:
  z_stream z_{};
  bool active_ = false;    // deflateInit2 succeeded, deflateEnd not yet called
  bool flushing_ = false;  // between Begin() and the empty Next()
  bool flushed_ = false;   // the sync flush is complete; Next() returns empty
  std::unique_ptr<char[]> chunk_;
  size_t held_ = 0;  // bytes zlib allocated
};

// Decompresses input. Bytes from the network go into InputRoom()/Commit();
// Inflate() writes decompressed bytes into the caller's buffer, never more
// than it has room for, so the caller's own limits (line and literal sizes)
// bound what a compression bomb can make the connection hold.
class Inflater {
 public:
  static constexpr size_t kInputChunk = 16 * 1024;

  Inflater() = default;
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  enum class Outcome {
    kOk,        // `produced` bytes written (possibly 0: more input needed)
    kCorrupt,   // not a valid DEFLATE stream; the connection must end
    kEnded,     // the peer ended its stream (a final block): nothing more can come
    kNoMemory,  // zlib could not allocate its state
  };

  // Where the next network read goes (empty when compressed input is still
  // waiting to be inflated).
  std::span<char> InputRoom();
  void Commit(size_t n);
  // Bytes received before compression started, already compressed.
  void Adopt(std::string_view compressed);

  // Inflates buffered input into [out, out + size).
  Outcome Inflate(char* out, size_t size, size_t* produced);
  // True when Inflate() may produce bytes without new input.
  bool HasPending() const { return input_begin_ < input_end_ || output_pending_; }

  // Between two messages of the peer (nothing buffered, the stream at a
  // block boundary), keeps only the history and frees zlib's state; the next
  // Inflate() rebuilds it. Returns false (and keeps everything) otherwise.
  bool Release();
  size_t MemoryHeld() const;

 private:
  bool Restore();

  z_stream z_{};
  bool active_ = false;
  bool ended_ = false;
  bool output_pending_ = false;  // the last Inflate() filled its output
  std::unique_ptr<char[]> input_;
  size_t input_capacity_ = 0;
  size_t input_begin_ = 0;
  size_t input_end_ = 0;
  // While released: the last bytes of the peer's stream, which its next
  // blocks may copy from (up to 32 KB).
  std::unique_ptr<unsigned char[]> history_;
  size_t history_size_ = 0;
  size_t held_ = 0;  // bytes zlib allocated
};

}  // namespace postern::net
