#include "net/deflate.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "net/zlib_peer_test_util.h"

namespace postern::net {
namespace {

std::string CompressAll(Deflater& d, std::string_view in) {
  std::string out;
  EXPECT_TRUE(d.Begin(in));
  std::span<const char> piece;
  while (d.Next(&piece) && !piece.empty()) out.append(piece.data(), piece.size());
  return out;
}

// Feeds `compressed` to `in` and returns everything it inflates, reading
// into `room`-sized pieces.
std::string InflateAll(Inflater& in, std::string_view compressed, size_t room = 1000) {
  std::string out;
  std::string buf(room, '\0');
  size_t fed = 0;
  while (true) {
    size_t n = 0;
    Inflater::Outcome outcome = in.Inflate(buf.data(), buf.size(), &n);
    EXPECT_EQ(outcome, Inflater::Outcome::kOk);
    if (outcome != Inflater::Outcome::kOk) break;
    EXPECT_LE(n, room);
    out.append(buf.data(), n);
    if (n > 0) continue;
    if (fed == compressed.size()) break;
    std::span<char> space = in.InputRoom();
    size_t take = std::min(space.size(), compressed.size() - fed);
    std::copy_n(compressed.data() + fed, take, space.data());
    in.Commit(take);
    fed += take;
  }
  return out;
}

std::string Text(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  static const char* words[] = {"FETCH", "UID",      "FLAGS", "(\\Seen)", "BODY[]", "mail",
                                "from",  "Subject:", "hello", "world",    "\r\n"};
  std::string out;
  while (out.size() < n) {
    out += words[rng() % std::size(words)];
    out += ' ';
  }
  return out;
}

TEST(DeflaterTest, EveryFlushIsReadableAtOnce) {
  Deflater d;
  PeerInflater peer;
  for (int i = 0; i < 5; ++i) {
    std::string batch = Text(100 + 30000 * i, i);
    std::string wire = CompressAll(d, batch);
    // Z_SYNC_FLUSH ends with an empty stored block (RFC 1951 §3.2.4).
    ASSERT_GE(wire.size(), 4u);
    EXPECT_EQ(wire.substr(wire.size() - 4), std::string("\0\0\xff\xff", 4));
    EXPECT_EQ(peer.Inflate(wire), batch) << "batch " << i << " must not wait for more output";
  }
}

TEST(DeflaterTest, ReleaseBetweenFlushesKeepsOneValidStream) {
  Deflater d;
  PeerInflater peer;
  std::string first = Text(5000, 1);
  EXPECT_EQ(peer.Inflate(CompressAll(d, first)), first);
  EXPECT_GT(d.MemoryHeld(), 20'000u);
  d.Release();
  EXPECT_EQ(d.MemoryHeld(), 0u);
  EXPECT_FALSE(d.active());
  std::string second = Text(5000, 2);
  EXPECT_EQ(peer.Inflate(CompressAll(d, second)), second);
}

TEST(DeflaterTest, StateIsFarBelowZlibsDefault) {
  Deflater d;
  CompressAll(d, Text(1000, 3));
  // windowBits 15 / memLevel 8 would take about 268 KB.
  EXPECT_LT(d.MemoryHeld(), 64u * 1024);
}

TEST(DeflaterTest, ReleaseInMidFlushIsRefused) {
  Deflater d;
  std::string big = Text(200'000, 4);
  ASSERT_TRUE(d.Begin(big));
  std::span<const char> piece;
  ASSERT_TRUE(d.Next(&piece));
  ASSERT_FALSE(piece.empty());
  std::string wire(piece.data(), piece.size());
  d.Release();
  EXPECT_TRUE(d.active());
  while (d.Next(&piece) && !piece.empty()) wire.append(piece.data(), piece.size());
  PeerInflater peer;
  EXPECT_EQ(peer.Inflate(wire), big);
}

TEST(InflaterTest, ReadsThePeersMessages) {
  PeerCompressor peer;
  Inflater in;
  for (int i = 0; i < 4; ++i) {
    std::string message = Text(50 + 20000 * i, 10 + i);
    EXPECT_EQ(InflateAll(in, peer.Compress(message)), message);
  }
}

TEST(InflaterTest, ReleaseKeepsTheHistoryThePeerRefersTo) {
  PeerCompressor peer;
  Inflater in;
  std::string message = Text(3000, 20);
  std::string first = peer.Compress(message);
  EXPECT_EQ(InflateAll(in, first), message);
  EXPECT_GT(in.MemoryHeld(), 32'000u);
  ASSERT_TRUE(in.Release());
  // Only the 3,000 bytes of history are left.
  EXPECT_EQ(in.MemoryHeld(), message.size());
  std::string again = peer.Compress(message);
  ASSERT_LT(again.size(), first.size() / 4) << "the repeat must refer back to the first message";
  EXPECT_EQ(InflateAll(in, again), message);
}

TEST(InflaterTest, NoReleaseInsideABlock) {
  PeerCompressor peer;
  Inflater in;
  std::string message = Text(3000, 21);
  std::string wire = peer.Compress(message);
  std::string got = InflateAll(in, wire.substr(0, wire.size() - 6));
  EXPECT_FALSE(in.Release()) << "the stream stopped in the middle of a block";
  got += InflateAll(in, wire.substr(wire.size() - 6));
  EXPECT_EQ(got, message);
  EXPECT_TRUE(in.Release());
}

TEST(InflaterTest, BombIsInflatedOnlyAsFarAsThereIsRoom) {
  PeerCompressor peer;
  Inflater in;
  std::string wire = peer.Compress(std::string(50'000'000, 'A'));
  ASSERT_LT(wire.size(), 100'000u);
  std::span<char> space = in.InputRoom();
  ASSERT_GE(space.size(), 1000u);
  std::copy_n(wire.data(), 1000, space.data());
  in.Commit(1000);
  char out[4096];
  size_t n = 0;
  ASSERT_EQ(in.Inflate(out, sizeof out, &n), Inflater::Outcome::kOk);
  EXPECT_EQ(n, sizeof out);
  EXPECT_TRUE(in.HasPending());
  // zlib state, 32 KB window and one input chunk: the 50 MB exist nowhere.
  EXPECT_LT(in.MemoryHeld(), 64u * 1024);
}

TEST(InflaterTest, GarbageIsCorrupt) {
  Inflater in;
  in.Adopt("\xff\xff\xff\xff garbage");
  char out[100];
  size_t n = 0;
  EXPECT_EQ(in.Inflate(out, sizeof out, &n), Inflater::Outcome::kCorrupt);
}

TEST(InflaterTest, AFinalBlockEndsTheStream) {
  PeerCompressor peer;
  Inflater in;
  in.Adopt(peer.Compress("last words\r\n", Z_FINISH) + "more");
  char out[100];
  size_t n = 0;
  ASSERT_EQ(in.Inflate(out, sizeof out, &n), Inflater::Outcome::kOk);
  EXPECT_EQ(std::string(out, n), "last words\r\n");
  EXPECT_EQ(in.Inflate(out, sizeof out, &n), Inflater::Outcome::kEnded);
}

TEST(InflaterTest, AdoptedBytesComeFirst) {
  PeerCompressor peer;
  Inflater in;
  std::string wire = peer.Compress("a1 NOOP\r\n");
  wire += peer.Compress("a2 NOOP\r\n");
  in.Adopt(wire.substr(0, 5));
  EXPECT_EQ(InflateAll(in, wire.substr(5)), "a1 NOOP\r\na2 NOOP\r\n");
}

}  // namespace
}  // namespace postern::net
