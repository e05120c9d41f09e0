#include "directory/scram_secrets.h"

#include <gtest/gtest.h>

#include "base/base64.h"
#include "directory/password.h"

namespace postern::directory {
namespace {

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) out += {kDigits[c >> 4], kDigits[c & 15]};
  return out;
}

TEST(ScramSecretsTest, Pbkdf2Vector) {
  // RFC 7914 §11: PBKDF2-HMAC-SHA256("passwd", "salt", 1), the first block.
  EXPECT_EQ(Hex(SaltedPassword("passwd", "salt", 1)),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
}

TEST(ScramSecretsTest, DerivedKeysFollowRfc5802) {
  const std::string salt = *DecodeBase64Strict("W22ZaJ0SNY7soEsUEjb6gQ==");
  ScramSecrets s = DeriveScramSecrets("pencil", salt, 4096);
  const std::string salted = SaltedPassword("pencil", salt, 4096);
  EXPECT_EQ(s.stored_key, Sha256(HmacSha256(salted, "Client Key")));
  EXPECT_EQ(s.server_key, HmacSha256(salted, "Server Key"));
  EXPECT_EQ(s.stored_key.size(), kScramKeySize);
  EXPECT_NE(s.stored_key, s.server_key);
}

TEST(ScramSecretsTest, TextFormRoundTrips) {
  Result<ScramSecrets> made = NewScramSecrets("correct horse", 4096);
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(made->salt.size(), kScramSaltSize);
  std::string text = FormatScramSecrets(*made);
  EXPECT_TRUE(text.starts_with("SCRAM-SHA-256$4096:")) << text;
  EXPECT_EQ(text.find("correct horse"), std::string::npos);
  Result<ScramSecrets> parsed = ParseScramSecrets(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->salt, made->salt);
  EXPECT_EQ(parsed->iterations, 4096u);
  EXPECT_EQ(parsed->stored_key, made->stored_key);
  EXPECT_EQ(parsed->server_key, made->server_key);
  // Two passwords set alike never share a salt.
  EXPECT_NE(NewScramSecrets("correct horse", 4096)->salt, made->salt);
}

TEST(ScramSecretsTest, IterationBounds) {
  EXPECT_FALSE(NewScramSecrets("pw", 4095).ok());
  EXPECT_FALSE(NewScramSecrets("pw", kScramMaxIterations + 1).ok());
  Result<ScramSecrets> high = NewScramSecrets("pw", 10000);
  ASSERT_TRUE(high.ok());
  EXPECT_EQ(ParseScramSecrets(FormatScramSecrets(*high))->iterations, 10000u);
}

TEST(ScramSecretsTest, RefusesMalformedText) {
  ScramSecrets good = DeriveScramSecrets("pw", "0123456789abcdef", 4096);
  const std::string key = EncodeBase64Strict(good.stored_key);
  const std::string salt = EncodeBase64Strict(good.salt);
  for (const std::string& bad : {
           std::string(""),
           "SCRAM-SHA-1$4096:" + salt + "$" + key + ":" + key,
           "SCRAM-SHA-256$4096:" + salt + "$" + key,
           "SCRAM-SHA-256$4096:" + salt + ":" + key + ":" + key,
           "SCRAM-SHA-256$4095:" + salt + "$" + key + ":" + key,
           "SCRAM-SHA-256$99999999999:" + salt + "$" + key + ":" + key,
           "SCRAM-SHA-256$4096x:" + salt + "$" + key + ":" + key,
           "SCRAM-SHA-256$:" + salt + "$" + key + ":" + key,
           "SCRAM-SHA-256$4096:c2FsdA==$" + key + ":" + key,  // 4-byte salt
           "SCRAM-SHA-256$4096:" + salt + "$" + salt + ":" + key,
           "SCRAM-SHA-256$4096:" + salt + "$" + key + ":" + key + "!",
           "SCRAM-SHA-256$4096:" + salt + "$" + key + ":" + key + "$x",
       }) {
    EXPECT_FALSE(ParseScramSecrets(bad).ok()) << bad;
  }
}

TEST(ScramSecretsTest, ProtectPasswordMakesBothForms) {
  Result<StoredPassword> stored = ProtectPassword("correct horse battery", 4096);
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(VerifyPassword("correct horse battery", stored->hash));
  Result<ScramSecrets> scram = ParseScramSecrets(stored->scram_sha256);
  ASSERT_TRUE(scram.ok());
  EXPECT_EQ(DeriveScramSecrets("correct horse battery", scram->salt, 4096).stored_key,
            scram->stored_key);
  EXPECT_FALSE(ProtectPassword("correct horse battery", 100).ok());
}

}  // namespace
}  // namespace postern::directory
