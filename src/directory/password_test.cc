#include "directory/password.h"

#include <gtest/gtest.h>

namespace postern::directory {
namespace {

TEST(PasswordTest, HashAndVerify) {
  auto hash = HashPassword("correct horse");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("{ARGON2ID}$argon2id$", 0), 0u) << *hash;
  EXPECT_TRUE(VerifyPassword("correct horse", *hash));
  EXPECT_FALSE(VerifyPassword("correct horse ", *hash));
  EXPECT_FALSE(VerifyPassword("", *hash));
  EXPECT_NE(*HashPassword("correct horse"), *hash) << "hashes are salted";
}

TEST(PasswordTest, UnknownSchemesNeverVerify) {
  EXPECT_FALSE(VerifyPassword("x", "x"));
  EXPECT_FALSE(VerifyPassword("x", ""));
  EXPECT_FALSE(VerifyPassword("x", "{PLAIN}x"));
}

TEST(PasswordTest, Policy) {
  EXPECT_TRUE(CheckPasswordPolicy("long enough").ok());
  EXPECT_FALSE(CheckPasswordPolicy("short").ok());
  EXPECT_FALSE(CheckPasswordPolicy("        ").ok());
  EXPECT_FALSE(CheckPasswordPolicy(std::string("with\0nul!", 9)).ok());
  EXPECT_FALSE(CheckPasswordPolicy(std::string(2000, 'a')).ok());
}

TEST(PasswordTest, GeneratedPasswordsPassThePolicy) {
  std::string a = GeneratePassword(), b = GeneratePassword();
  EXPECT_EQ(a.size(), 16u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(CheckPasswordPolicy(a).ok());
}

}  // namespace
}  // namespace postern::directory
