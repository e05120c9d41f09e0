// DATA / BDAT content decoding: dot-unstuffing and end-of-data detection
// (RFC 5321 §4.1.1.4, §4.5.2), bare CR / LF handling (SMTP smuggling,
// CVE-2023-51764/5/6), size and line limits, Received: counting (§6.3).
// The decoder is a byte-level state machine, so Feed() gives the same result
// however the input is split between calls.
#include "smtp/data_decoder.h"

#include <algorithm>
#include <cstring>

#include "base/strings.h"

namespace postern::smtp {

namespace {

// The first CR or LF at or after `from` (in.size() if none). Lines end in LF,
// so find that first and look for a CR only before it: two memchr passes
// over the line instead of a set lookup per byte.
size_t FindLineBreak(std::string_view in, size_t from) {
  const char* begin = in.data() + from;
  const size_t len = in.size() - from;
  const void* lf = std::memchr(begin, '\n', len);
  const size_t lf_at = lf ? static_cast<size_t>(static_cast<const char*>(lf) - begin) : len;
  const void* cr = std::memchr(begin, '\r', lf_at);
  const size_t cr_at = cr ? static_cast<size_t>(static_cast<const char*>(cr) - begin) : lf_at;
  return from + cr_at;
}

}  // namespace

DataDecoder::DataDecoder(const Options& options) : options_(options) {}

void DataDecoder::Append(std::string_view bytes, std::string* out) {
  // Content past max_size is counted but not kept (RFC 1870 §6.3: the
  // session answers 552 at the end of data).
  if (size_ < options_.max_size) {
    uint64_t room = options_.max_size - size_;
    out->append(bytes.substr(0, static_cast<size_t>(std::min<uint64_t>(room, bytes.size()))));
  }
  size_ += bytes.size();
}

void DataDecoder::EmitText(std::string_view text, std::string* out) {
  if (text.empty()) return;
  Append(text, out);
  if (in_header_ && field_prefix_length_ < kFieldPrefixLength) {
    size_t take = std::min(kFieldPrefixLength - field_prefix_length_, text.size());
    std::copy_n(text.data(), take, field_prefix_ + field_prefix_length_);
    field_prefix_length_ += take;
    if (field_prefix_length_ == kFieldPrefixLength &&
        EqualsIgnoreCase(std::string_view(field_prefix_, kFieldPrefixLength), "Received:")) {
      ++received_headers_;
    }
  }
  line_length_ += text.size();
  if (line_length_ > options_.max_line_length) line_too_long_ = true;
}

void DataDecoder::EmitLineBreak(std::string* out) {
  Append("\r\n", out);
  // RFC 5322 §2.1: the header section ends at the first empty line.
  if (line_length_ == 0) in_header_ = false;
  line_length_ = 0;
  field_prefix_length_ = 0;
}

void DataDecoder::BareLineEnding(char c, std::string* out) {
  bare_line_ending_ = true;
  if (options_.bare_line_endings == BareLineEndings::kNormalize) {
    EmitLineBreak(out);
  } else {
    EmitText(std::string_view(&c, 1), out);
  }
}

size_t DataDecoder::Feed(std::string_view in, std::string* out) {
  if (done_) return 0;
  const bool dot_stuffed = options_.mode == Mode::kDotStuffed;
  size_t i = 0;
  while (i < in.size()) {
    const char c = in[i];
    switch (state_) {
      case State::kLineStart:
        // RFC 5321 §4.5.2: a line that starts with "." loses that dot; a line
        // that is exactly "." ends the data (§4.1.1.4).
        if (dot_stuffed && c == '.') {
          state_ = State::kDot;
          ++i;
        } else {
          state_ = State::kInLine;
        }
        break;
      case State::kInLine: {
        size_t stop = FindLineBreak(in, i);
        EmitText(in.substr(i, stop - i), out);
        i = stop;
        if (i == in.size()) break;
        if (in[i] == '\r') {
          state_ = State::kCr;
        } else {
          BareLineEnding('\n', out);  // an LF without CR: not a line end
        }
        ++i;
        break;
      }
      case State::kDot:
        if (c == '\r') {
          state_ = State::kDotCr;
          ++i;
        } else {
          state_ = State::kInLine;  // the stuffing dot is dropped; c is content
        }
        break;
      case State::kDotCr:
        if (c == '\n') {
          done_ = true;
          return i + 1;
        }
        // "." CR x: the dot was stuffing and the CR is bare; c is looked at again.
        state_ = State::kCr;
        break;
      case State::kCr:
        if (c == '\n') {
          EmitLineBreak(out);
          state_ = State::kLineStart;
          ++i;
        } else {
          BareLineEnding('\r', out);
          state_ = State::kInLine;  // c is looked at again: it may be a CR itself
        }
        break;
    }
  }
  return in.size();
}

void DataDecoder::Finish(std::string* out) {
  if (options_.mode != Mode::kChunked) return;
  if (state_ == State::kCr) {
    BareLineEnding('\r', out);
    state_ = State::kInLine;
  }
}

}  // namespace postern::smtp
