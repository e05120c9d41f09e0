#include "mtasts/http_response.h"

#include <gtest/gtest.h>

namespace postern::mtasts {
namespace {

using State = HttpResponseReader::State;

// Feeds `response` in pieces of `step` bytes, then EOF when `eof`.
State FeedAll(HttpResponseReader& reader, std::string_view response, size_t step, bool eof = true) {
  State state = State::kNeedMore;
  for (size_t i = 0; i < response.size() && state == State::kNeedMore; i += step) {
    state = reader.Feed(response.substr(i, step));
  }
  if (state == State::kNeedMore && eof) state = reader.Finish();
  return state;
}

TEST(HttpResponseReaderTest, ContentLength) {
  for (size_t step : {1, 3, 1000}) {
    HttpResponseReader reader(100);
    EXPECT_EQ(FeedAll(reader,
                      "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                      "Content-Length: 5\r\n\r\nhelloEXTRA",
                      step, false),
              State::kDone);
    EXPECT_EQ(reader.status(), 200);
    EXPECT_EQ(reader.content_type(), "text/plain; charset=utf-8");
    EXPECT_EQ(reader.body(), "hello");
  }
}

TEST(HttpResponseReaderTest, Chunked) {
  for (size_t step : {1, 7, 1000}) {
    HttpResponseReader reader(100);
    EXPECT_EQ(FeedAll(reader,
                      "HTTP/1.1 200 OK\nTransfer-Encoding: Chunked\n\n"
                      "5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n",
                      step, false),
              State::kDone)
        << reader.error();
    EXPECT_EQ(reader.body(), "hello 0123456789");
  }
}

TEST(HttpResponseReaderTest, CloseDelimitedAndInterim) {
  HttpResponseReader reader(100);
  EXPECT_EQ(FeedAll(reader, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nall of it", 4),
            State::kDone);
  EXPECT_EQ(reader.status(), 200);
  EXPECT_EQ(reader.body(), "all of it");
}

TEST(HttpResponseReaderTest, Errors) {
  const char* cases[] = {
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",  // short body
      "HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n",   // over the limit
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
      "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFF\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n",          // 101 > limit
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",  // no last chunk
      "HTTP/1.1 200 OK\r\n\r\n" /* then 101 bytes */,
      "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n",
      "HTTP/1.1 20 OK\r\n\r\n",
      "HTTP/2 200 OK\r\n\r\n",
      "HTTP/1.1 200OK\r\n\r\n",
      "SMTP/1.1 200 OK\r\n\r\n",
      "HTTP/1.1 101 Switching\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Type: a\r\nContent-Type: b\r\n\r\n",
      "HTTP/1.1 200 OK\r\n",  // closed inside the header
  };
  for (std::string response : cases) {
    if (response == "HTTP/1.1 200 OK\r\n\r\n") response += std::string(101, 'x');
    HttpResponseReader reader(100);
    EXPECT_EQ(FeedAll(reader, response, 1000), State::kError) << response;
    EXPECT_FALSE(reader.error().empty());
  }
}

TEST(HttpResponseReaderTest, HeaderLimit) {
  HttpResponseReader reader(100);
  std::string response = "HTTP/1.1 200 OK\r\n";
  while (response.size() <= HttpResponseReader::kMaxHeaderBytes) response += "X-Pad: aaaaaaaa\r\n";
  EXPECT_EQ(FeedAll(reader, response, 4096, false), State::kError);
}

TEST(HttpResponseReaderTest, StatusKnownBeforeTheBody) {
  HttpResponseReader reader(100);
  EXPECT_EQ(reader.Feed("HTTP/1.1 301 Moved\r\nLocation: https://elsewhere/\r\n"
                        "Content-Length: 100000\r\n\r\n"),
            State::kError);  // the body would be too large, but the status is in
  EXPECT_TRUE(reader.headers_complete());
  EXPECT_EQ(reader.status(), 301);
}

}  // namespace
}  // namespace postern::mtasts
