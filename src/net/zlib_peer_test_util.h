// The peer's side of RFC 4978 in tests, written against zlib directly (not
// net/deflate.h): a raw-DEFLATE compressor with zlib's defaults (32 KB
// window) that sync-flushes each message, and a raw inflater, as clients
// use them.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <string_view>

namespace postern::net {

// Calls `step(z)` (deflate or inflate) on `in` with 4 KB of output room at a
// time, until zlib leaves room unused; returns the output.
template <typename Step>
std::string PumpZlib(z_stream& z, std::string_view in, Step step) {
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  do {
    char buf[4096];
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    step(z);
    out.append(buf, sizeof buf - z.avail_out);
  } while (z.avail_out == 0);
  return out;
}

class PeerCompressor {
 public:
  PeerCompressor() { deflateInit2(&z_, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY); }
  ~PeerCompressor() { deflateEnd(&z_); }
  std::string Compress(std::string_view in, int flush = Z_SYNC_FLUSH) {
    auto step = [flush](z_stream& z) { deflate(&z, flush); };
    return PumpZlib(z_, in, step);
  }

 private:
  z_stream z_{};
};

class PeerInflater {
 public:
  PeerInflater() { inflateInit2(&z_, -15); }
  ~PeerInflater() { inflateEnd(&z_); }
  // Everything these bytes decode to; fails the test on a stream error.
  std::string Inflate(std::string_view in) {
    auto step = [](z_stream& z) {
      int rc = inflate(&z, Z_SYNC_FLUSH);
      EXPECT_TRUE(rc == Z_OK || rc == Z_BUF_ERROR) << rc;
    };
    return PumpZlib(z_, in, step);
  }

 private:
  z_stream z_{};
};

}  // namespace postern::net
