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
TEST(PasswordTest, AppPasswords) {
  const std::string a = GenerateAppPassword(), b = GenerateAppPassword();
  ASSERT_EQ(a.size(), 19u);
  EXPECT_NE(a, b);
  for (size_t i = 0; i < a.size(); ++i) {
    if (i % 5 == 4) {
      EXPECT_EQ(a[i], '-') << a;
    } else {
      EXPECT_NE(std::string_view("abcdefghjkmnpqrstuvwxyz023456789").find(a[i]),
                std::string_view::npos)
          << a;
    }
  }
  // Typed with or without dashes, in either case: the same password.
  std::string plain = a;
  std::erase(plain, '-');
  std::string upper = a;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(AppPasswordHash(a), AppPasswordHash(plain));
  EXPECT_EQ(AppPasswordHash(a), AppPasswordHash(upper));
  EXPECT_NE(AppPasswordHash(a), AppPasswordHash(b));
  EXPECT_EQ(AppPasswordHash(a).size(), 64u);
  // SHA-256 of "abc".
  EXPECT_EQ(AppPasswordHash("a-b-c"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace postern::directory
