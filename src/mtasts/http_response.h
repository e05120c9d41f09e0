// A small HTTP/1.1 response reader (RFC 9112) for fetching MTA-STS policies:
// sans-I/O, fed the bytes as they arrive, with limits on every part so a
// hostile server costs bounded memory. Handles Content-Length, chunked and
// close-delimited bodies and skips 1xx interim responses. Not thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace postern::mtasts {

class HttpResponseReader {
 public:
  enum class State { kNeedMore, kDone, kError };

  static constexpr size_t kMaxHeaderBytes = 16 * 1024;
  static constexpr size_t kMaxChunkLine = 1024;

  explicit HttpResponseReader(size_t max_body) : max_body_(max_body) {}

  // Consumes the next bytes of the response; bytes after a complete response
  // are ignored.
  State Feed(std::string_view bytes);
  // The peer closed the connection cleanly: ends a close-delimited body.
  State Finish();

  State state() const { return state_; }
  bool headers_complete() const { return headers_complete_; }        // of the final response
  int status() const { return status_; }                             // once headers_complete()
  const std::string& content_type() const { return content_type_; }  // "" when absent
  const std::string& body() const { return body_; }
  const std::string& error() const { return error_; }

 private:
  enum class Phase {
    kHeaders,
    kLength,
    kChunkSize,
    kChunkData,
    kChunkEnd,
    kTrailers,
    kToEof,
    kEnd
  };

  State Fail(std::string message);
  State Run();
  bool ParseHeaders(std::string_view block);
  // Takes one line (LF or CRLF) from buffer_, or returns false.
  bool TakeLine(std::string* line);
  bool AppendBody(std::string_view bytes);

  size_t max_body_;
  State state_ = State::kNeedMore;
  Phase phase_ = Phase::kHeaders;
  std::string buffer_;         // received, not yet consumed
  size_t header_scanned_ = 0;  // where the search for the header's end resumes
  bool headers_complete_ = false;
  int status_ = 0;
  std::string content_type_;
  std::string body_;
  size_t remaining_ = 0;  // of the Content-Length or the current chunk
  std::string error_;
};

}  // namespace postern::mtasts
