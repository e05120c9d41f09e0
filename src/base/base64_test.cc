#include "base/base64.h"

#include <gtest/gtest.h>

namespace postern {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  // RFC 4648 §10.
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(EncodeBase64Strict(plain), encoded);
    EXPECT_EQ(DecodeBase64Strict(encoded), std::optional<std::string>(plain)) << encoded;
  }
  const std::string binary("\x00\xff\x10", 3);
  EXPECT_EQ(DecodeBase64Strict(EncodeBase64Strict(binary)), binary);
}

TEST(Base64Test, RefusesWhatIsNotCanonical) {
  for (const char* bad : {"Zg", "Zg=", "Z===", "Zm9v\r\n", "Zm 9", "Zm9-", "Zh==", "Zm9=Zm9v",
                          "=Zm9", "Zm=v", "===="}) {
    EXPECT_FALSE(DecodeBase64Strict(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace postern
