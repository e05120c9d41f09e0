// External test vectors (../shared/testdata, through POSTERN_TESTDATA_DIR) for
// the header field tests of this folder. Test-only.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>

namespace postern::message::testing {

// Reads a JSON file under the test data directory; a missing or broken file
// fails the calling test.
inline nlohmann::json LoadTestVectors(std::string_view relative_path) {
  std::string path = std::string(POSTERN_TESTDATA_DIR) + "/" + std::string(relative_path);
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  if (!in.good()) return nlohmann::json::array();
  std::stringstream buffer;
  buffer << in.rdbuf();
  nlohmann::json parsed = nlohmann::json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(parsed.is_discarded()) << "bad JSON in " << path;
  return parsed.is_discarded() ? nlohmann::json::array() : parsed;
}

// mail-parser's header vectors hold the field body as it sits in a message:
// with its line end and sometimes the next field after it ("Re: x\nX-Mailer:
// y"). A header splitter hands the field codecs the body up to the first line
// break that is not followed by whitespace, without that line break; this
// does the same.
inline std::string FieldBody(std::string_view raw) {
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\n') continue;
    bool folded = i + 1 < raw.size() && (raw[i + 1] == ' ' || raw[i + 1] == '\t');
    if (folded) continue;
    size_t end = i > 0 && raw[i - 1] == '\r' ? i - 1 : i;
    return std::string(raw.substr(0, end));
  }
  return std::string(raw);
}

// Hostile input must cost time in proportion to its size. Runs `parse` on
// `prefix` + `pattern` repeated to 64 KiB and to 1 MiB; linear work takes
// about 16 times as long for the larger, quadratic work 256 times. Fails if
// the larger run is both slow (over 2 s, generous for sanitizer builds) and
// more than 64 times slower than the smaller. Times are this thread's CPU
// time, and the smaller run is the best of three: under `ctest -j` other
// tests share the cores, and wall-clock ratios then say more about them
// than about the parser.
template <typename Parse>
void ExpectLinearTime(std::string_view prefix, std::string_view pattern, Parse parse) {
  using Duration = std::chrono::nanoseconds;
  auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return Duration(static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec);
  };
  auto time = [&](size_t size) {
    std::string input(prefix);
    while (input.size() < size) input.append(pattern);
    Duration start = cpu_now();
    parse(input);
    return cpu_now() - start;
  };
  Duration small = std::min({time(64 << 10), time(64 << 10), time(64 << 10)});
  small = std::max<Duration>(small, std::chrono::milliseconds(1));
  Duration large = time(1 << 20);
  EXPECT_TRUE(large < std::chrono::seconds(2) || large < small * 64)
      << "pattern \"" << pattern << "\": 64 KiB in "
      << std::chrono::duration_cast<std::chrono::microseconds>(small).count() << " us, 1 MiB in "
      << std::chrono::duration_cast<std::chrono::microseconds>(large).count() << " us (CPU)";
}

}  // namespace postern::message::testing
