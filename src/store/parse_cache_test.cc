// ParseCache: what is kept and returned, the generation guard against a read
// older than an erase, and the byte bound. The store's use of it (erased when
// a parse is completed or its body released) is tested in
// sqlite_store_test.cc and sqlite_store_access_test.cc.
#include "store/parse_cache.h"

#include <gtest/gtest.h>

namespace postern::store {
namespace {

MessageParse Parse(const std::string& tag) {
  return MessageParse{"env " + tag,          "body " + tag,    "bs " + tag,
                      MessageText{"h", "b"}, "preview " + tag, "header " + tag};
}

TEST(ParseCacheTest, KeepsTheStructureAndTheHeaderApart) {
  ParseCache cache(1 << 20);
  EXPECT_FALSE(cache.Structure("a").has_value());
  EXPECT_FALSE(cache.Header("a").has_value());
  cache.PutStructure("a", Parse("a"), cache.Generation());
  std::optional<MessageParse> got = cache.Structure("a");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->envelope, "env a");
  EXPECT_EQ(got->body, "body a");
  EXPECT_EQ(got->body_structure, "bs a");
  EXPECT_EQ(got->preview, "preview a");
  EXPECT_FALSE(got->text.has_value()) << "the index's text is never kept";
  EXPECT_FALSE(got->header.has_value()) << "the header is read on its own";
  EXPECT_FALSE(cache.Header("a").has_value());
  cache.PutHeader("a", "Subject: a\r\n\r\n", cache.Generation());
  EXPECT_EQ(cache.Header("a"), "Subject: a\r\n\r\n");
  EXPECT_EQ(cache.Structure("a")->envelope, "env a");
  EXPECT_FALSE(cache.Structure("b").has_value());
  EXPECT_EQ(cache.entries(), 1u);
}

TEST(ParseCacheTest, AReadOlderThanAnEraseIsNotKept) {
  ParseCache cache(1 << 20);
  cache.PutStructure("a", Parse("old"), cache.Generation());
  const uint64_t before = cache.Generation();  // a reader starts its read...
  cache.Erase("a");                            // ...a writer completes the parse and commits
  cache.PutStructure("a", Parse("old"), before);
  cache.PutHeader("a", "old", before);
  EXPECT_FALSE(cache.Structure("a").has_value());
  EXPECT_FALSE(cache.Header("a").has_value());
  // Any erase counts, not only the same hash's (a generation, not a version).
  const uint64_t again = cache.Generation();
  cache.Erase("unrelated");
  cache.PutStructure("a", Parse("old"), again);
  EXPECT_FALSE(cache.Structure("a").has_value());
  cache.PutStructure("a", Parse("new"), cache.Generation());
  EXPECT_EQ(cache.Structure("a")->envelope, "env new");
  EXPECT_EQ(cache.entries(), 1u);
}

TEST(ParseCacheTest, StaysWithinItsBytesDroppingTheLeastRecentlyUsed) {
  const std::string big(1000, 'x');
  MessageParse parse{big, big, big, std::nullopt, std::nullopt, std::nullopt};
  ParseCache cache(20'000);  // about five entries of 3 KB and some
  for (int i = 0; i < 5; ++i) cache.PutStructure(std::to_string(i), parse, cache.Generation());
  EXPECT_LE(cache.bytes(), 20'000u);
  ASSERT_TRUE(cache.Structure("0").has_value());  // now the most recently used
  for (int i = 5; i < 10; ++i) cache.PutStructure(std::to_string(i), parse, cache.Generation());
  EXPECT_LE(cache.bytes(), 20'000u);
  EXPECT_GE(cache.entries(), 4u);
  EXPECT_TRUE(cache.Structure("0").has_value()) << "used recently";
  EXPECT_FALSE(cache.Structure("1").has_value()) << "the oldest unused";
  EXPECT_TRUE(cache.Structure("9").has_value());
  // A value larger than the whole cache is not kept, and pushes nothing out.
  const size_t entries = cache.entries();
  cache.PutHeader("huge", std::string(30'000, 'h'), cache.Generation());
  EXPECT_FALSE(cache.Header("huge").has_value());
  EXPECT_EQ(cache.entries(), entries);
  EXPECT_LE(cache.bytes(), 20'000u);
  cache.Erase("9");
  EXPECT_FALSE(cache.Structure("9").has_value());
}

TEST(ParseCacheTest, ZeroBytesKeepsNothing) {
  ParseCache cache(0);
  cache.PutStructure("a", Parse("a"), cache.Generation());
  cache.PutHeader("a", "h", cache.Generation());
  EXPECT_FALSE(cache.Structure("a").has_value());
  EXPECT_FALSE(cache.Header("a").has_value());
  EXPECT_EQ(cache.bytes(), 0u);
}

}  // namespace
}  // namespace postern::store
