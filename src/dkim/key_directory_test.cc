#include "dkim/key_directory.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>

#include "dkim/signature.h"

namespace postern::dkim {
namespace {

constexpr int64_t kJune2025 = 1748779200;  // 2025-06-01T12:00:00Z

class KeyDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/dkim-keys-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::string root_;
};

TEST_F(KeyDirectoryTest, GenerateNamesSelectorsAndProtectsFiles) {
  KeyDirectory keys(root_);
  auto ed = keys.Generate("example.org", Algorithm::kEd25519Sha256, "", kJune2025);
  ASSERT_TRUE(ed.ok()) << ed.status().ToString();
  EXPECT_EQ(ed->selector, "202506e");
  EXPECT_EQ(ed->path, root_ + "/example.org/202506e.ed25519.pem");
  EXPECT_TRUE(ed->record.starts_with("v=DKIM1; k=ed25519; p="));
  struct stat st {};
  ASSERT_EQ(::stat(ed->path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto rsa = keys.Generate("example.org", Algorithm::kRsaSha256, "", kJune2025);
  ASSERT_TRUE(rsa.ok());
  EXPECT_EQ(rsa->selector, "202506r");
  auto second = keys.Generate("example.org", Algorithm::kEd25519Sha256, "", kJune2025);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->selector, "202506e2");
  EXPECT_EQ(
      keys.Generate("example.org", Algorithm::kRsaSha256, "202506r", kJune2025).status().code(),
      StatusCode::kAlreadyExists);
  EXPECT_FALSE(keys.Generate("example.org", Algorithm::kRsaSha256, "../x", kJune2025).ok());
  EXPECT_FALSE(keys.Generate("../etc", Algorithm::kRsaSha256, "", kJune2025).ok());
  EXPECT_FALSE(keys.Generate("Example.org", Algorithm::kRsaSha256, "", kJune2025).ok());
}

TEST_F(KeyDirectoryTest, RetiredKeysStopSigningButStayListed) {
  KeyDirectory keys(root_);
  ASSERT_TRUE(keys.Generate("example.org", Algorithm::kEd25519Sha256, "old", kJune2025).ok());
  ASSERT_TRUE(keys.Generate("example.org", Algorithm::kRsaSha256, "rsa1", kJune2025).ok());
  ASSERT_TRUE(keys.Generate("example.org", Algorithm::kEd25519Sha256, "new", kJune2025).ok());
  ASSERT_TRUE(keys.Generate("other.test", Algorithm::kEd25519Sha256, "x", kJune2025).ok());
  EXPECT_EQ(keys.ActiveKeys("example.org")->size(), 3u);
  ASSERT_TRUE(keys.Retire("example.org", "old").ok());
  EXPECT_EQ(keys.Retire("example.org", "old").code(), StatusCode::kNotFound);
  auto active = keys.ActiveKeys("example.org");
  ASSERT_EQ(active->size(), 2u);
  EXPECT_EQ((*active)[0].selector, "new");
  EXPECT_EQ((*active)[1].selector, "rsa1");
  auto listed = keys.List("example.org");
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_FALSE(listed->back().active);
  EXPECT_EQ(listed->back().selector, "old");
  EXPECT_EQ(keys.List("")->size(), 4u);
  EXPECT_TRUE(keys.ActiveKeys("none.test")->empty());
}

TEST_F(KeyDirectoryTest, SignsWithEveryActiveKey) {
  KeyDirectory keys(root_);
  auto ed = keys.Generate("example.org", Algorithm::kEd25519Sha256, "", kJune2025);
  auto rsa = keys.Generate("example.org", Algorithm::kRsaSha256, "", kJune2025);
  const std::string message =
      "From: a@example.org\r\nTo: b@example.net\r\nSubject: hi\r\n\r\nHello.\r\n";
  auto fields = keys.SignatureFields("example.org", message, kJune2025);
  ASSERT_TRUE(fields.ok()) << fields.status().ToString();
  std::map<std::string, std::string> zone = {{ed->selector, ed->record},
                                             {rsa->selector, rsa->record}};
  auto results = Verify(*fields + message, [&](std::string_view s, std::string_view d) {
    EXPECT_EQ(d, "example.org");
    return zone.contains(std::string(s)) ? Result<std::string>(zone[std::string(s)])
                                         : Result<std::string>(NotFound("none"));
  });
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(*keys.SignatureFields("none.test", message, kJune2025), "");
}

TEST_F(KeyDirectoryTest, MayHaveKeysOnlyForDomainsWithADirectory) {
  KeyDirectory keys(root_);
  EXPECT_FALSE(keys.MayHaveKeys("example.org"));
  ASSERT_TRUE(keys.Generate("example.org", Algorithm::kEd25519Sha256, "", kJune2025).ok());
  EXPECT_TRUE(keys.MayHaveKeys("example.org"));  // at once, like the signing itself
  EXPECT_FALSE(keys.MayHaveKeys("other.test"));
  EXPECT_FALSE(keys.MayHaveKeys("../example.org"));
  EXPECT_FALSE(keys.MayHaveKeys(""));
}

}  // namespace
}  // namespace postern::dkim
