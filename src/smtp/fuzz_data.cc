// Fuzz target for DataDecoder: the input is a byte stream as the session
// would read it after "DATA" or "BDAT". Every mode / bare-line policy / limit
// combination is run whole, byte by byte, and in pseudo-random pieces derived
// from the input. Invariants: the outcome does not depend on the split,
// consumption never exceeds the input and stops after the terminator, kept
// content is bounded by max_size, done() is stable, normalized content has
// no bare CR or LF, and re-encoding the content decodes to the same content.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/data_decoder.h"
#include "smtp/fuzz_check.h"

namespace {

using postern::smtp::BareLineEndings;
using postern::smtp::DataDecoder;

struct Outcome {
  std::string content;
  size_t consumed = 0;
  bool done = false;
  uint64_t size = 0;
  bool line_too_long = false;
  bool bare = false;
  int received = 0;
  bool operator==(const Outcome&) const = default;
};

Outcome Run(std::string_view input, const DataDecoder::Options& options,
            const std::vector<size_t>& piece_sizes) {
  DataDecoder decoder(options);
  Outcome o;
  size_t pos = 0;
  size_t next_piece = 0;
  while (pos < input.size()) {
    size_t n = piece_sizes.empty() ? input.size() : piece_sizes[next_piece++ % piece_sizes.size()];
    n = std::min(n, input.size() - pos);
    std::string_view piece = input.substr(pos, n);
    bool was_done = decoder.done();
    size_t used = decoder.Feed(piece, &o.content);
    FUZZ_CHECK(used <= piece.size());
    if (was_done) FUZZ_CHECK(used == 0 && decoder.done());
    if (!decoder.done()) FUZZ_CHECK(used == piece.size());
    o.consumed += used;
    if (decoder.done()) break;
    pos += n;
  }
  if (decoder.done()) FUZZ_CHECK(decoder.Feed(input, &o.content) == 0 && decoder.done());
  if (options.mode == DataDecoder::Mode::kChunked) {
    decoder.Finish(&o.content);
    FUZZ_CHECK(!decoder.done());
    FUZZ_CHECK(o.consumed == input.size());
  }
  o.done = decoder.done();
  o.size = decoder.size();
  o.line_too_long = decoder.line_too_long();
  o.bare = decoder.bare_line_ending();
  o.received = decoder.received_headers();
  FUZZ_CHECK(o.consumed <= input.size());
  FUZZ_CHECK(o.content.size() <= options.max_size);
  FUZZ_CHECK(o.content.size() == std::min<uint64_t>(o.size, options.max_size));
  FUZZ_CHECK(decoder.size_exceeded() == (o.size > options.max_size));
  return o;
}

// True if every CR is followed by LF and every LF preceded by CR.
bool OnlyCrLf(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) return false;
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return false;
  }
  return true;
}

// Dot-stuffs CRLF-separated content and appends the terminator.
std::string Encode(std::string_view content) {
  std::string out;
  bool line_start = true;
  for (size_t i = 0; i < content.size(); ++i) {
    if (line_start && content[i] == '.') out.push_back('.');
    out.push_back(content[i]);
    line_start = content[i] == '\n';
  }
  if (!content.empty() && !line_start) out.append("\r\n");
  out.append(".\r\n");
  return out;
}

void CheckOneConfiguration(std::string_view input, const DataDecoder::Options& options,
                           uint64_t seed) {
  Outcome whole = Run(input, options, {});
  if (input.size() <= 256) FUZZ_CHECK(Run(input, options, {1}) == whole);
  std::vector<size_t> pieces;
  for (int i = 0; i < 8; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    pieces.push_back(1 + (seed >> 33) % 17);
  }
  FUZZ_CHECK(Run(input, options, pieces) == whole);

  const bool dot = options.mode == DataDecoder::Mode::kDotStuffed;
  const bool normalize = options.bare_line_endings == BareLineEndings::kNormalize;
  if (!whole.bare && !dot) FUZZ_CHECK(whole.size == input.size());
  if (dot && whole.done) {
    // The terminator is CR LF "." CR LF (or ".\r\n" right at the start).
    std::string_view used = input.substr(0, whole.consumed);
    FUZZ_CHECK(used.size() >= 3 && used.substr(used.size() - 3) == ".\r\n");
    FUZZ_CHECK(used.size() == 3 || used.substr(used.size() - 5, 2) == "\r\n");
  }
  if (dot && !whole.done) FUZZ_CHECK(whole.consumed == input.size());
  if (normalize && whole.size <= options.max_size) {
    // A trailing CR may still be pending (kDotStuffed, not done).
    std::string_view content = whole.content;
    if (!whole.done && dot && !content.empty() && content.back() == '\r') content.remove_suffix(1);
    FUZZ_CHECK(OnlyCrLf(content));
    if (dot && whole.done && options.max_size > 2 * whole.size + 8) {
      DataDecoder::Options again = options;
      Outcome second = Run(Encode(whole.content), again, {});
      FUZZ_CHECK(second.done && second.content == whole.content && !second.bare);
      FUZZ_CHECK(second.received == whole.received);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  uint64_t seed = 1469598103934665603ULL;
  for (unsigned char c : input) seed = (seed ^ c) * 1099511628211ULL;
  for (auto mode : {DataDecoder::Mode::kDotStuffed, DataDecoder::Mode::kChunked}) {
    for (auto bare : {BareLineEndings::kNormalize, BareLineEndings::kReject}) {
      DataDecoder::Options options;
      options.mode = mode;
      options.bare_line_endings = bare;
      CheckOneConfiguration(input, options, seed);
      options.max_size = 1 + seed % 64;
      options.max_line_length = seed % 16;
      CheckOneConfiguration(input, options, seed >> 7);
    }
  }
  return 0;
}
