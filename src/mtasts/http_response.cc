#include "mtasts/http_response.h"

#include "base/strings.h"

namespace postern::mtasts {
namespace {

bool IsTchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

HttpResponseReader::State HttpResponseReader::Fail(std::string message) {
  error_ = std::move(message);
  state_ = State::kError;
  buffer_.clear();
  return state_;
}

HttpResponseReader::State HttpResponseReader::Feed(std::string_view bytes) {
  if (state_ != State::kNeedMore) return state_;
  buffer_.append(bytes);
  return Run();
}

HttpResponseReader::State HttpResponseReader::Finish() {
  if (state_ != State::kNeedMore) return state_;
  if (phase_ == Phase::kToEof) {
    phase_ = Phase::kEnd;
    return state_ = State::kDone;
  }
  return Fail(phase_ == Phase::kHeaders ? "connection closed before the response header ended"
                                        : "connection closed before the response body ended");
}

bool HttpResponseReader::TakeLine(std::string* line) {
  size_t lf = buffer_.find('\n');
  if (lf == std::string::npos) return false;
  size_t end = lf > 0 && buffer_[lf - 1] == '\r' ? lf - 1 : lf;
  line->assign(buffer_, 0, end);
  buffer_.erase(0, lf + 1);
  return true;
}

bool HttpResponseReader::AppendBody(std::string_view bytes) {
  if (body_.size() + bytes.size() > max_body_) {
    Fail("response body larger than " + std::to_string(max_body_) + " bytes");
    return false;
  }
  body_.append(bytes);
  return true;
}

// The status line and header fields up to the empty line (RFC 9112 §2-§6).
bool HttpResponseReader::ParseHeaders(std::string_view block) {
  std::vector<std::string_view> lines = Split(block, '\n');
  for (auto& line : lines) {
    if (line.ends_with('\r')) line.remove_suffix(1);
  }
  // status-line = HTTP-version SP status-code SP [ reason-phrase ]
  std::string_view status_line = lines[0];
  if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.") || status_line[8] != ' ' ||
      !IsDigits(status_line.substr(9, 3)) || (status_line.size() > 12 && status_line[12] != ' ')) {
    Fail("malformed HTTP status line");
    return false;
  }
  status_ = std::stoi(std::string(status_line.substr(9, 3)));
  bool chunked = false;
  bool have_length = false;
  size_t length = 0;
  content_type_.clear();
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line.empty()) continue;  // the final empty line
    size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) {
      Fail("malformed HTTP header field");  // obsolete line folding too
      return false;
    }
    std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!IsTchar(c)) {
        Fail("malformed HTTP header field name");
        return false;
      }
    }
    std::string_view value = TrimOws(line.substr(colon + 1));
    std::string lower = AsciiToLower(name);
    if (lower == "content-length") {
      // Digits only; repeated fields must agree (RFC 9112 §6.3).
      if (!IsDigits(value) || value.size() > 15) {
        Fail("malformed Content-Length");
        return false;
      }
      size_t n = std::stoull(std::string(value));
      if (have_length && n != length) {
        Fail("conflicting Content-Length fields");
        return false;
      }
      have_length = true;
      length = n;
    } else if (lower == "transfer-encoding") {
      if (chunked || AsciiToLower(value) != "chunked") {
        Fail("unsupported Transfer-Encoding: " + std::string(value.substr(0, 64)));
        return false;
      }
      chunked = true;
    } else if (lower == "content-type") {
      if (!content_type_.empty()) {
        Fail("more than one Content-Type");
        return false;
      }
      content_type_ = std::string(value);
    }
  }
  if (chunked && have_length) {
    Fail("both Content-Length and Transfer-Encoding");  // a smuggling sign (RFC 9112 §6.1)
    return false;
  }
  if (status_ >= 100 && status_ < 200) {
    if (status_ == 101) {
      Fail("unexpected 101 Switching Protocols");
      return false;
    }
    return true;  // interim: the real response follows
  }
  headers_complete_ = true;
  if (status_ == 204 || status_ == 304) {
    phase_ = Phase::kEnd;
  } else if (chunked) {
    phase_ = Phase::kChunkSize;
  } else if (have_length) {
    if (length > max_body_) {
      Fail("response body larger than " + std::to_string(max_body_) + " bytes");
      return false;
    }
    remaining_ = length;
    phase_ = length == 0 ? Phase::kEnd : Phase::kLength;
  } else {
    phase_ = Phase::kToEof;
  }
  return true;
}

HttpResponseReader::State HttpResponseReader::Run() {
  std::string line;
  while (state_ == State::kNeedMore) {
    switch (phase_) {
      case Phase::kHeaders: {
        // The header ends at an empty line: "\n\n" or "\n\r\n".
        size_t end = std::string::npos;
        size_t skip = 0;
        // Resumes where the last search stopped, so a trickle costs linear time.
        for (size_t i = buffer_.find('\n', header_scanned_); i != std::string::npos;
             i = buffer_.find('\n', i + 1)) {
          if (i + 1 < buffer_.size() && buffer_[i + 1] == '\n') {
            end = i + 1, skip = 1;
            break;
          }
          if (i + 2 < buffer_.size() && buffer_[i + 1] == '\r' && buffer_[i + 2] == '\n') {
            end = i + 1, skip = 2;
            break;
          }
        }
        if (end == std::string::npos) {
          if (buffer_.size() > kMaxHeaderBytes) return Fail("HTTP response header too long");
          header_scanned_ = buffer_.size() > 2 ? buffer_.size() - 2 : 0;
          return state_;
        }
        header_scanned_ = 0;
        if (end > kMaxHeaderBytes) return Fail("HTTP response header too long");
        std::string block = buffer_.substr(0, end - 1);  // without the last line's LF
        buffer_.erase(0, end + skip);
        if (!ParseHeaders(block)) return state_;
        break;
      }
      case Phase::kChunkSize: {
        // chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1)
        if (!TakeLine(&line)) {
          if (buffer_.size() > kMaxChunkLine) return Fail("chunk size line too long");
          return state_;
        }
        if (line.size() > kMaxChunkLine) return Fail("chunk size line too long");
        std::string_view size = line;
        if (size_t semicolon = size.find(';'); semicolon != std::string_view::npos) {
          size = size.substr(0, semicolon);
        }
        size = TrimOws(size);
        if (size.empty() || size.size() > 8 ||
            size.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos) {
          return Fail("malformed chunk size");
        }
        remaining_ = std::stoul(std::string(size), nullptr, 16);
        if (body_.size() + remaining_ > max_body_) {
          return Fail("response body larger than " + std::to_string(max_body_) + " bytes");
        }
        phase_ = remaining_ == 0 ? Phase::kTrailers : Phase::kChunkData;
        break;
      }
      case Phase::kLength:
      case Phase::kChunkData: {
        size_t n = std::min(remaining_, buffer_.size());
        if (!AppendBody(std::string_view(buffer_).substr(0, n))) return state_;
        buffer_.erase(0, n);
        remaining_ -= n;
        if (remaining_ > 0) return state_;
        phase_ = phase_ == Phase::kLength ? Phase::kEnd : Phase::kChunkEnd;
        break;
      }
      case Phase::kChunkEnd:
        if (!TakeLine(&line)) {
          if (buffer_.size() > 2) return Fail("chunk not followed by CRLF");
          return state_;
        }
        if (!line.empty()) return Fail("chunk not followed by CRLF");
        phase_ = Phase::kChunkSize;
        break;
      case Phase::kTrailers:
        // Trailer fields are read and ignored, within the header limit.
        if (!TakeLine(&line)) {
          if (buffer_.size() > kMaxHeaderBytes) return Fail("trailer section too long");
          return state_;
        }
        if (line.empty()) phase_ = Phase::kEnd;
        break;
      case Phase::kToEof:
        if (!AppendBody(buffer_)) return state_;
        buffer_.clear();
        return state_;
      case Phase::kEnd:
        buffer_.clear();
        state_ = State::kDone;
        break;
    }
  }
  return state_;
}

}  // namespace postern::mtasts
