// Tests for DataDecoder: dot-unstuffing and the end of DATA (RFC 5321
// §4.1.1.4, §4.5.2), bare CR / LF handling against the SMTP smuggling
// vectors, chunk-boundary independence, limits, Received: counting, BDAT.
#include "smtp/data_decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postern::smtp {
namespace {

using Mode = DataDecoder::Mode;

struct Outcome {
  std::string content;
  size_t consumed = 0;
  bool done = false;
  uint64_t size = 0;
  bool size_exceeded = false;
  bool line_too_long = false;
  bool bare_line_ending = false;
  int received_headers = 0;

  bool operator==(const Outcome&) const = default;
};

DataDecoder::Options MakeOptions(Mode mode, BareLineEndings bare = BareLineEndings::kNormalize) {
  DataDecoder::Options options;
  options.mode = mode;
  options.bare_line_endings = bare;
  return options;
}

// Feeds `input` in pieces cut at `cuts` (ascending offsets), as a session
// would: after the decoder is done, the rest is not fed.
Outcome Decode(std::string_view input, const DataDecoder::Options& options,
               const std::vector<size_t>& cuts = {}) {
  DataDecoder decoder(options);
  Outcome outcome;
  size_t start = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  for (size_t end : ends) {
    if (decoder.done()) break;
    std::string_view piece = input.substr(start, end - start);
    size_t used = decoder.Feed(piece, &outcome.content);
    EXPECT_LE(used, piece.size());
    if (!decoder.done()) {
      EXPECT_EQ(used, piece.size());
    }
    outcome.consumed += used;
    start = end;
  }
  if (options.mode == Mode::kChunked) decoder.Finish(&outcome.content);
  outcome.done = decoder.done();
  outcome.size = decoder.size();
  outcome.size_exceeded = decoder.size_exceeded();
  outcome.line_too_long = decoder.line_too_long();
  outcome.bare_line_ending = decoder.bare_line_ending();
  outcome.received_headers = decoder.received_headers();
  return outcome;
}

// The same outcome for every 2-way split and for byte-by-byte feeding.
void ExpectSplitIndependent(std::string_view input, const DataDecoder::Options& options) {
  Outcome whole = Decode(input, options);
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    ASSERT_EQ(Decode(input, options, {cut}), whole) << "split at " << cut;
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < input.size(); ++i) every.push_back(i);
  ASSERT_EQ(Decode(input, options, every), whole) << "byte by byte";
}

Outcome DotStuffed(std::string_view input, BareLineEndings bare = BareLineEndings::kNormalize) {
  return Decode(input, MakeOptions(Mode::kDotStuffed, bare));
}

TEST(DataDecoderTest, SimpleMessage) {
  std::string input = "Subject: hi\r\n\r\nbody line\r\n.\r\n";
  Outcome o = DotStuffed(input);
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.consumed, input.size());
  EXPECT_EQ(o.content, "Subject: hi\r\n\r\nbody line\r\n");
  EXPECT_EQ(o.size, o.content.size());
  EXPECT_FALSE(o.bare_line_ending);
  EXPECT_FALSE(o.size_exceeded);
  EXPECT_FALSE(o.line_too_long);
}

TEST(DataDecoderTest, EmptyMessage) {
  Outcome o = DotStuffed(".\r\n");
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.consumed, 3u);
  EXPECT_EQ(o.content, "");
  o = DotStuffed("\r\n.\r\n");
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.content, "\r\n");
}

TEST(DataDecoderTest, DotUnstuffing) {
  EXPECT_EQ(DotStuffed("..a\r\n.\r\n").content, ".a\r\n");
  EXPECT_EQ(DotStuffed("..\r\n.\r\n").content, ".\r\n");
  EXPECT_EQ(DotStuffed("...\r\n.\r\n").content, "..\r\n");
  EXPECT_EQ(DotStuffed(". \r\n.\r\n").content, " \r\n");
  EXPECT_EQ(DotStuffed(".a\r\n.\r\n").content, "a\r\n");  // lenient: a lone stuffing dot
  EXPECT_EQ(DotStuffed("a.b\r\na.\r\n.\r\n").content, "a.b\r\na.\r\n");
  EXPECT_EQ(DotStuffed("x\r\n..\r\n..\r\n.\r\n").content, "x\r\n.\r\n.\r\n");
  EXPECT_EQ(DotStuffed(" .\r\n.\r\n").content, " .\r\n");
}

TEST(DataDecoderTest, PipelinedBytesAfterTheEndAreNotConsumed) {
  std::string message = "a\r\n.\r\n";
  std::string input = message + "QUIT\r\n";
  DataDecoder decoder(MakeOptions(Mode::kDotStuffed));
  std::string content;
  EXPECT_EQ(decoder.Feed(input, &content), message.size());
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(content, "a\r\n");
  // done() is stable and nothing more is taken.
  EXPECT_EQ(decoder.Feed("more\r\n.\r\n", &content), 0u);
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(content, "a\r\n");
  // Also when the terminator arrives split and the next command follows.
  Outcome o = Decode(input, MakeOptions(Mode::kDotStuffed), {4});
  EXPECT_EQ(o.consumed, message.size());
  o = Decode(".\r\nMAIL FROM:<a@b>\r\n", MakeOptions(Mode::kDotStuffed));
  EXPECT_EQ(o.consumed, 3u);
  EXPECT_EQ(o.content, "");
}

TEST(DataDecoderTest, NotDoneUntilTheRealTerminator) {
  DataDecoder decoder(MakeOptions(Mode::kDotStuffed));
  std::string content;
  EXPECT_EQ(decoder.Feed("a\r\n.", &content), 4u);
  EXPECT_FALSE(decoder.done());
  EXPECT_EQ(decoder.Feed("\r", &content), 1u);
  EXPECT_FALSE(decoder.done());
  EXPECT_EQ(decoder.Feed("\nX", &content), 1u);
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(content, "a\r\n");
  EXPECT_EQ(decoder.Feed("", &content), 0u);
}

TEST(DataDecoderTest, BareLineFeed) {
  Outcome o = DotStuffed("a\nb\r\n.\r\n");
  EXPECT_TRUE(o.done);
  EXPECT_TRUE(o.bare_line_ending);
  EXPECT_EQ(o.content, "a\r\nb\r\n");
  o = DotStuffed("a\nb\r\n.\r\n", BareLineEndings::kReject);
  EXPECT_TRUE(o.done);
  EXPECT_TRUE(o.bare_line_ending);
  EXPECT_EQ(o.content, "a\nb\r\n");
}

TEST(DataDecoderTest, BareCarriageReturn) {
  Outcome o = DotStuffed("a\rb\r\n.\r\n");
  EXPECT_TRUE(o.bare_line_ending);
  EXPECT_EQ(o.content, "a\r\nb\r\n");
  o = DotStuffed("a\r\r\n.\r\n");
  EXPECT_EQ(o.content, "a\r\n\r\n");
  o = DotStuffed("a\r\r\n.\r\n", BareLineEndings::kReject);
  EXPECT_EQ(o.content, "a\r\r\n");
  EXPECT_TRUE(o.bare_line_ending);
  o = DotStuffed("a\r\r\r\r\n.\r\n");
  EXPECT_EQ(o.content, "a\r\n\r\n\r\n\r\n");
}

TEST(DataDecoderTest, BareEndingsNeverStartALineForDots) {
  // Dot-unstuffing only after a real CR LF: these dots stay.
  EXPECT_EQ(DotStuffed("a\n..b\r\n.\r\n").content, "a\r\n..b\r\n");
  EXPECT_EQ(DotStuffed("a\r..b\r\n.\r\n").content, "a\r\n..b\r\n");
  // "\n.\r\n" is not the end: the data goes on to the real terminator.
  Outcome o = DotStuffed("a\n.\r\nb\r\n.\r\n");
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.content, "a\r\n.\r\nb\r\n");
}

TEST(DataDecoderTest, CrAtTheEndOfAFeed) {
  DataDecoder decoder(MakeOptions(Mode::kDotStuffed));
  std::string content;
  decoder.Feed("a\r", &content);
  EXPECT_EQ(content, "a");
  EXPECT_FALSE(decoder.bare_line_ending());
  decoder.Feed("\n.\r", &content);
  EXPECT_EQ(content, "a\r\n");
  EXPECT_FALSE(decoder.done());
  EXPECT_EQ(decoder.Feed("\n", &content), 1u);
  EXPECT_TRUE(decoder.done());
  EXPECT_FALSE(decoder.bare_line_ending());
}

// The vectors of SEC Consult's SMTP smuggling research (CVE-2023-51764/5/6)
// as collected in testdata/smtp/smuggling-vectors.yml (four from mox's
// TestSmuggle, two bare-CR combinations). Each is sent after "DATA\r\n" +
// "\r\n" and followed by the real terminator.
struct SmugglingVector {
  const char* name;
  const char* data;
  const char* normalized;  // expected content under kNormalize
  const char* kept;        // expected content under kReject
};

constexpr SmugglingVector kSmugglingVectors[] = {
    {"crlf-dot-lf", "\r\n.\n", "\r\n\r\n\r\n\r\n", "\r\n\r\n\n\r\n"},
    {"lf-dot-lf", "\n.\n", "\r\n\r\n.\r\n\r\n", "\r\n\n.\n\r\n"},
    {"cr-dot-cr", "\r.\r", "\r\n\r\n.\r\n\r\n", "\r\n\r.\r\r\n"},
    {"lf-dot-crlf", "\n.\r\n", "\r\n\r\n.\r\n\r\n", "\r\n\n.\r\n\r\n"},
    {"crlf-dot-cr", "\r\n.\r", "\r\n\r\n\r\n\r\n", "\r\n\r\n\r\r\n"},
    {"cr-dot-crlf", "\r.\r\n", "\r\n\r\n.\r\n\r\n", "\r\n\r.\r\n\r\n"},
};

TEST(DataDecoderSmugglingTest, VectorsDoNotEndTheMessage) {
  for (const SmugglingVector& v : kSmugglingVectors) {
    SCOPED_TRACE(v.name);
    std::string input = std::string("\r\n") + v.data + "\r\n.\r\n";
    for (BareLineEndings bare : {BareLineEndings::kNormalize, BareLineEndings::kReject}) {
      Outcome o = DotStuffed(input, bare);
      EXPECT_TRUE(o.done);
      EXPECT_EQ(o.consumed, input.size());
      EXPECT_TRUE(o.bare_line_ending);
      EXPECT_EQ(o.content, bare == BareLineEndings::kNormalize ? v.normalized : v.kept);
      ExpectSplitIndependent(input, MakeOptions(Mode::kDotStuffed, bare));
    }
  }
}

TEST(DataDecoderSmugglingTest, SmuggledCommandsStayInTheContent) {
  const std::string smuggled =
      "MAIL FROM:<admin@victim.example>\r\nRCPT TO:<target@victim.example>\r\nDATA\r\n\r\n"
      "From: admin@victim.example\r\n\r\nsmuggled\r\n";
  const std::string pipelined = "QUIT\r\n";
  for (const SmugglingVector& v : kSmugglingVectors) {
    SCOPED_TRACE(v.name);
    std::string message = "\r\nfirst\r\n" + std::string(v.data) + smuggled + "\r\n.\r\n";
    std::string input = message + pipelined;
    for (BareLineEndings bare : {BareLineEndings::kNormalize, BareLineEndings::kReject}) {
      Outcome o = DotStuffed(input, bare);
      EXPECT_TRUE(o.done);
      EXPECT_EQ(o.consumed, message.size());  // up to the real terminator only
      EXPECT_TRUE(o.bare_line_ending);
      EXPECT_NE(o.content.find("MAIL FROM:<admin@victim.example>\r\n"), std::string::npos);
      EXPECT_NE(o.content.find("\r\nsmuggled\r\n"), std::string::npos);
      ExpectSplitIndependent(input, MakeOptions(Mode::kDotStuffed, bare));
    }
  }
}

TEST(DataDecoderTest, SplitIndependenceOnAMixedMessage) {
  std::string input =
      "Received: from a\r\nreceived: from b\r\n\tcontinued\r\nSubject: x\ny\r\n\r\n"
      "..stuffed\r\nbare\rcr\r\r\n.\r.\n.\r\nend\r\n.\r\nNEXT";
  for (BareLineEndings bare : {BareLineEndings::kNormalize, BareLineEndings::kReject}) {
    DataDecoder::Options options = MakeOptions(Mode::kDotStuffed, bare);
    ExpectSplitIndependent(input, options);
    options.max_size = 20;
    options.max_line_length = 6;
    ExpectSplitIndependent(input, options);
    ExpectSplitIndependent(input, MakeOptions(Mode::kChunked, bare));
  }
}

TEST(DataDecoderTest, SizeLimit) {
  DataDecoder::Options options = MakeOptions(Mode::kDotStuffed);
  options.max_size = 10;
  Outcome o = Decode("0123456789abc\r\n.\r\n", options);
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.content, "0123456789");
  EXPECT_EQ(o.size, 15u);
  EXPECT_TRUE(o.size_exceeded);
  // Exactly at the limit is fine.
  o = Decode("01234567\r\n.\r\n", options);
  EXPECT_EQ(o.content, "01234567\r\n");
  EXPECT_EQ(o.size, 10u);
  EXPECT_FALSE(o.size_exceeded);
  o = Decode("012345678\r\n.\r\n", options);
  EXPECT_EQ(o.content, "012345678\r");
  EXPECT_EQ(o.size, 11u);
  EXPECT_TRUE(o.size_exceeded);
  // The stuffing dot does not count.
  o = Decode("..2345678\r\n.\r\n", options);
  EXPECT_EQ(o.size, 10u);
  EXPECT_FALSE(o.size_exceeded);
  // Content appended to a non-empty buffer is still bounded by the decoder's count.
  DataDecoder decoder(options);
  std::string content = "prefix";
  decoder.Feed(std::string(100, 'x'), &content);
  EXPECT_EQ(content.size(), 6u + 10u);
  EXPECT_EQ(decoder.size(), 100u);
}

TEST(DataDecoderTest, LineLengthLimit) {
  DataDecoder::Options options = MakeOptions(Mode::kDotStuffed);
  options.max_line_length = 10;
  Outcome o = Decode("0123456789\r\n.\r\n", options);
  EXPECT_FALSE(o.line_too_long);
  o = Decode("0123456789a\r\nshort\r\n.\r\n", options);
  EXPECT_TRUE(o.line_too_long);
  EXPECT_TRUE(o.done);  // decoding went on
  EXPECT_EQ(o.content, "0123456789a\r\nshort\r\n");
  // A stuffed dot is not part of the content line.
  EXPECT_FALSE(Decode(".0123456789\r\n.\r\n", options).line_too_long);
  // Normalized bare line endings end a content line; kept ones do not.
  EXPECT_FALSE(Decode("01234\n56789\r\n.\r\n", options).line_too_long);
  options.bare_line_endings = BareLineEndings::kReject;
  EXPECT_TRUE(Decode("01234\n56789\r\n.\r\n", options).line_too_long);
}

TEST(DataDecoderTest, CountsReceivedHeaders) {
  std::string input =
      "Received: from a\r\nreceived: from b\r\nRECEIVED:c\r\n\tReceived: folded\r\n"
      "X-Received: no\r\nReceivedX: no\r\nReceived\r\nSubject: s\r\nReceived: by d\r\n\r\n"
      "Received: in the body\r\n.\r\n";
  Outcome o = DotStuffed(input);
  EXPECT_EQ(o.received_headers, 4);
  ExpectSplitIndependent(input, MakeOptions(Mode::kDotStuffed));
  EXPECT_EQ(DotStuffed("\r\nReceived: x\r\n.\r\n").received_headers, 0);
  EXPECT_EQ(DotStuffed(".Received: x\r\n.\r\n").received_headers, 1);  // unstuffed content
  // A bare LF under kNormalize starts a content line.
  EXPECT_EQ(DotStuffed("A: b\nReceived: x\r\n.\r\n").received_headers, 1);
  EXPECT_EQ(DotStuffed("A: b\nReceived: x\r\n.\r\n", BareLineEndings::kReject).received_headers, 0);
  // Counting does not depend on the content being kept.
  DataDecoder::Options options = MakeOptions(Mode::kDotStuffed);
  options.max_size = 0;
  EXPECT_EQ(Decode(input, options).received_headers, 4);
}

TEST(DataDecoderChunkedTest, NoDotHandlingAndNoEnd) {
  DataDecoder decoder(MakeOptions(Mode::kChunked));
  std::string content;
  std::string chunk = "..a\r\n.\r\nb\r\n";
  EXPECT_EQ(decoder.Feed(chunk, &content), chunk.size());
  EXPECT_FALSE(decoder.done());
  decoder.Finish(&content);
  EXPECT_EQ(content, chunk);
  EXPECT_FALSE(decoder.bare_line_ending());
  EXPECT_EQ(decoder.size(), chunk.size());
}

TEST(DataDecoderChunkedTest, CrLfAcrossChunks) {
  DataDecoder decoder(MakeOptions(Mode::kChunked));
  std::string content;
  decoder.Feed("a\r", &content);
  decoder.Feed("\nb", &content);
  decoder.Finish(&content);
  EXPECT_EQ(content, "a\r\nb");
  EXPECT_FALSE(decoder.bare_line_ending());
}

TEST(DataDecoderChunkedTest, FinishFlushesAPendingCr) {
  DataDecoder normalize(MakeOptions(Mode::kChunked));
  std::string content;
  normalize.Feed("a\r", &content);
  EXPECT_EQ(content, "a");
  normalize.Finish(&content);
  EXPECT_EQ(content, "a\r\n");
  EXPECT_TRUE(normalize.bare_line_ending());

  DataDecoder reject(MakeOptions(Mode::kChunked, BareLineEndings::kReject));
  content.clear();
  reject.Feed("a\r", &content);
  reject.Finish(&content);
  EXPECT_EQ(content, "a\r");
  EXPECT_TRUE(reject.bare_line_ending());
}

TEST(DataDecoderChunkedTest, BareLineEndingsAndLimits) {
  DataDecoder::Options options = MakeOptions(Mode::kChunked);
  options.max_size = 8;
  options.max_line_length = 3;
  Outcome o = Decode("Received: x\nab\rc", options);
  EXPECT_TRUE(o.bare_line_ending);
  EXPECT_TRUE(o.line_too_long);
  EXPECT_TRUE(o.size_exceeded);
  EXPECT_EQ(o.content, "Received");
  EXPECT_EQ(o.size, std::string("Received: x\r\nab\r\nc").size());
  EXPECT_EQ(o.received_headers, 1);
  EXPECT_EQ(o.consumed, 16u);
}

TEST(DataDecoderTest, FinishIsANoOpForDotStuffing) {
  DataDecoder decoder(MakeOptions(Mode::kDotStuffed));
  std::string content;
  decoder.Feed("a\r", &content);
  decoder.Finish(&content);
  EXPECT_EQ(content, "a");
  EXPECT_FALSE(decoder.bare_line_ending());
}

TEST(DataDecoderTest, LargeInputInOneFeed) {
  std::string line(998, 'x');
  std::string input;
  for (int i = 0; i < 2000; ++i) input += line + "\r\n";
  input += ".\r\n";
  Outcome o = DotStuffed(input);
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.content.size(), input.size() - 3);
  EXPECT_FALSE(o.line_too_long);
}

}  // namespace
}  // namespace postern::smtp
