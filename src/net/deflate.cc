#include "net/deflate.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace postern::net {
namespace {

constexpr size_t kOutputChunk = 16 * 1024;
// The inflater's window: the largest a peer may use (RFC 1951 §2).
constexpr int kInflateWindowBits = 15;

// zlib allocations through these count the bytes held (`opaque` is the
// counter), so tests and benchmarks can see what a connection costs.
struct alignas(std::max_align_t) AllocationHeader {
  size_t size;
};

voidpf CountingAlloc(voidpf opaque, uInt items, uInt size) {
  const size_t bytes = static_cast<size_t>(items) * size;
  auto* header = static_cast<AllocationHeader*>(std::malloc(sizeof(AllocationHeader) + bytes));
  if (header == nullptr) return Z_NULL;
  header->size = bytes;
  *static_cast<size_t*>(opaque) += bytes;
  return header + 1;
}

void CountingFree(voidpf opaque, voidpf address) {
  if (address == Z_NULL) return;
  auto* header = static_cast<AllocationHeader*>(address) - 1;
  *static_cast<size_t*>(opaque) -= header->size;
  std::free(header);
}

void UseCountingAllocator(z_stream& z, size_t* held) {
  z = z_stream{};
  z.zalloc = CountingAlloc;
  z.zfree = CountingFree;
  z.opaque = held;
}

}  // namespace

// ---- Deflater

Deflater::~Deflater() {
  if (active_) deflateEnd(&z_);
}

bool Deflater::Begin(std::string_view input) {
  if (!active_) {
    UseCountingAllocator(z_, &held_);
    // Negative window bits: raw DEFLATE, no zlib header (RFC 4978 §4).
    if (deflateInit2(&z_, kLevel, Z_DEFLATED, -kWindowBits, kMemLevel, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
      return false;
    }
    active_ = true;
  }
  chunk_ = std::make_unique_for_overwrite<char[]>(kOutputChunk);
  z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  z_.avail_in = static_cast<uInt>(input.size());
  flushing_ = true;
  flushed_ = false;
  return true;
}

bool Deflater::Next(std::span<const char>* out) {
  *out = {};
  if (!flushing_) return true;
  if (flushed_) {
    flushing_ = false;
    chunk_.reset();
    return true;
  }
  z_.next_out = reinterpret_cast<Bytef*>(chunk_.get());
  z_.avail_out = static_cast<uInt>(kOutputChunk);
  // Z_SYNC_FLUSH: everything so far reaches the peer, ending on a byte
  // boundary, so a client never waits for bytes held in the compressor.
  int rc = deflate(&z_, Z_SYNC_FLUSH);
  if (rc != Z_OK && rc != Z_BUF_ERROR) {
    flushing_ = false;
    chunk_.reset();
    return false;
  }
  const size_t produced = kOutputChunk - z_.avail_out;
  // zlib: the flush is complete when deflate() leaves output room unused.
  if (z_.avail_in == 0 && z_.avail_out != 0) flushed_ = true;
  *out = std::span<const char>(chunk_.get(), produced);
  if (produced == 0 && flushed_) return Next(out);
  return true;
}

void Deflater::Release() {
  if (!active_ || flushing_) return;
  deflateEnd(&z_);
  active_ = false;
}

size_t Deflater::MemoryHeld() const { return held_ + (chunk_ ? kOutputChunk : 0); }

// ---- Inflater

Inflater::~Inflater() {
  if (active_) inflateEnd(&z_);
}

std::span<char> Inflater::InputRoom() {
  if (!input_) {
    input_ = std::make_unique_for_overwrite<char[]>(kInputChunk);
    input_capacity_ = kInputChunk;
  }
  if (input_begin_ > 0) {
    std::memmove(input_.get(), input_.get() + input_begin_, input_end_ - input_begin_);
    input_end_ -= input_begin_;
    input_begin_ = 0;
  }
  return {input_.get() + input_end_, input_capacity_ - input_end_};
}

void Inflater::Commit(size_t n) { input_end_ = std::min(input_capacity_, input_end_ + n); }

void Inflater::Adopt(std::string_view compressed) {
  if (compressed.empty()) return;
  const size_t held = input_end_ - input_begin_;
  const size_t capacity = std::max(kInputChunk, held + compressed.size());
  auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
  if (held > 0) std::memcpy(bigger.get(), input_.get() + input_begin_, held);
  std::memcpy(bigger.get() + held, compressed.data(), compressed.size());
  input_ = std::move(bigger);
  input_capacity_ = capacity;
  input_begin_ = 0;
  input_end_ = held + compressed.size();
}

bool Inflater::Restore() {
  if (active_) return true;
  UseCountingAllocator(z_, &held_);
  if (inflateInit2(&z_, -kInflateWindowBits) != Z_OK) return false;
  active_ = true;
  if (history_size_ > 0) {
    // Raw inflate takes a dictionary at any point (zlib.h, inflateSetDictionary).
    int rc = inflateSetDictionary(&z_, history_.get(), static_cast<uInt>(history_size_));
    if (rc != Z_OK) return false;
  }
  history_.reset();
  history_size_ = 0;
  return true;
}

Inflater::Outcome Inflater::Inflate(char* out, size_t size, size_t* produced) {
  *produced = 0;
  if (ended_) return Outcome::kEnded;
  if (!HasPending() || size == 0) return Outcome::kOk;
  if (!Restore()) return Outcome::kNoMemory;
  z_.next_in = reinterpret_cast<Bytef*>(input_.get() + input_begin_);
  z_.avail_in = static_cast<uInt>(input_end_ - input_begin_);
  z_.next_out = reinterpret_cast<Bytef*>(out);
  z_.avail_out = static_cast<uInt>(std::min<size_t>(size, UINT32_MAX));
  const uInt room = z_.avail_out;
  int rc = inflate(&z_, Z_NO_FLUSH);
  input_begin_ = input_end_ - z_.avail_in;
  if (input_begin_ == input_end_) input_begin_ = input_end_ = 0;
  *produced = room - z_.avail_out;
  output_pending_ = z_.avail_out == 0;
  switch (rc) {
    case Z_OK:
    case Z_BUF_ERROR:  // no progress possible: more input needed
      return Outcome::kOk;
    case Z_STREAM_END:
      // The peer sent a final block; what follows it cannot be read.
      ended_ = true;
      output_pending_ = false;
      return *produced > 0 ? Outcome::kOk : Outcome::kEnded;
    case Z_MEM_ERROR:
      return Outcome::kNoMemory;
    default:  // Z_DATA_ERROR, Z_NEED_DICT (not in raw mode), Z_STREAM_ERROR
      return Outcome::kCorrupt;
  }
}

bool Inflater::Release() {
  if (HasPending()) return false;
  input_.reset();
  input_capacity_ = input_begin_ = input_end_ = 0;
  if (!active_) return true;
  // Only on a block boundary with no bits left over (zlib.h: data_type 128),
  // which is where the peer's sync flush leaves the stream.
  if (z_.data_type != 128) return false;
  uInt size = 0;
  if (inflateGetDictionary(&z_, nullptr, &size) != Z_OK) return false;
  std::unique_ptr<unsigned char[]> history;
  if (size > 0) {
    history = std::make_unique_for_overwrite<unsigned char[]>(size);
    inflateGetDictionary(&z_, history.get(), &size);
  }
  inflateEnd(&z_);
  active_ = false;
  history_ = std::move(history);
  history_size_ = size;
  return true;
}

size_t Inflater::MemoryHeld() const { return held_ + input_capacity_ + history_size_; }

}  // namespace postern::net
