// The DATA (RFC 5321 §4.1.1.4, §4.5.2) and BDAT (RFC 3030) content decoder.
// Sans-I/O: the session feeds the bytes it read and gets back message content.
//
// Only CR LF "." CR LF ends a DATA message. A bare LF or bare CR never ends a
// line, a header or the message (the SMTP smuggling class, CVE-2023-51764/5/6):
// under kNormalize each one becomes CR LF in the stored content (dot-unstuffing
// still applies only after a real CR LF); under kReject the decoder reads on to
// the real end and reports bare_line_ending() so the session can refuse.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace postern::smtp {

enum class BareLineEndings { kNormalize, kReject };

class DataDecoder {
 public:
  enum class Mode { kDotStuffed, kChunked };

  struct Options {
    Mode mode = Mode::kDotStuffed;
    uint64_t max_size = 50u << 20;      // content bytes kept; beyond this they are dropped
    size_t max_line_length = 1u << 20;  // content line limit, CRLF excluded
    BareLineEndings bare_line_endings = BareLineEndings::kNormalize;
  };

  explicit DataDecoder(const Options& options);

  // Consumes bytes of `in`, appending decoded content to `*out` as long as the
  // total stays within max_size. kDotStuffed: stops right after the terminating
  // CRLF.CRLF and returns the number of bytes used (the rest of `in` belongs to
  // the next command); kChunked: consumes all of `in`.
  size_t Feed(std::string_view in, std::string* out);

  // kChunked only: the last chunk has been fed. Flushes a pending CR (a bare
  // CR at the very end of the content). A no-op in kDotStuffed mode.
  void Finish(std::string* out);

  bool done() const { return done_; }  // kDotStuffed: end of data seen
  // Content size after decoding, counting bytes dropped past max_size.
  uint64_t size() const { return size_; }
  bool size_exceeded() const { return size_ > options_.max_size; }
  bool line_too_long() const { return line_too_long_; }
  bool bare_line_ending() const { return bare_line_ending_; }
  // Number of "Received:" fields in the header section (loop detection,
  // RFC 5321 §6.3).
  int received_headers() const { return received_headers_; }

 private:
  // Where the decoder stands between two input bytes.
  enum class State : uint8_t {
    kLineStart,  // after a real CR LF (or at the start): a '.' is special
    kInLine,     // inside a line
    kDot,        // kDotStuffed: a '.' started the line
    kDotCr,      // kDotStuffed: "." CR at the start of a line; LF ends the message
    kCr,         // a CR whose successor has not been seen yet
  };
  static constexpr size_t kFieldPrefixLength = 9;  // "Received:"

  void EmitText(std::string_view text, std::string* out);
  void EmitLineBreak(std::string* out);
  void BareLineEnding(char c, std::string* out);
  void Append(std::string_view bytes, std::string* out);

  Options options_;
  State state_ = State::kLineStart;
  // The current content line (decoded output, between two CR LF).
  uint64_t line_length_ = 0;
  bool in_header_ = true;  // before the first empty content line
  char field_prefix_[kFieldPrefixLength] = {};
  size_t field_prefix_length_ = 0;
  bool done_ = false;
  uint64_t size_ = 0;
  bool line_too_long_ = false;
  bool bare_line_ending_ = false;
  int received_headers_ = 0;
};

}  // namespace postern::smtp
