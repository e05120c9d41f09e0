#include "store/blob_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace postern::store {
namespace {

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("blobs-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    auto s = FileBlobStore::Open(root_.string(), 3);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::filesystem::path root_;
  std::unique_ptr<FileBlobStore> store_;
};

TEST_F(BlobStoreTest, PutGetRoundTrip) {
  std::string content = "Subject: hi\r\n\r\n" + std::string(10000, 'x') + "\r\n";
  auto ref = store_->Put(content);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(ref->hash, Sha256Hex(content));
  EXPECT_EQ(ref->size, content.size());
  EXPECT_LT(ref->stored_size, content.size());  // compressed
  EXPECT_TRUE(std::filesystem::exists(store_->PathOf(ref->hash)));
  auto got = store_->Get(ref->hash);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, content);
}

TEST_F(BlobStoreTest, EmptyBlob) {
  auto ref = store_->Put("");
  ASSERT_TRUE(ref.ok());
  auto got = store_->Get(ref->hash);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "");
}

TEST_F(BlobStoreTest, IdenticalContentSharesOneFile) {
  auto a = store_->Put("same");
  auto b = store_->Put("same");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->hash, b->hash);
  int files = 0;
  ASSERT_TRUE(store_->ForEach([&](const std::string&, int64_t) { ++files; }).ok());
  EXPECT_EQ(files, 1);
}

TEST_F(BlobStoreTest, RemoveSparesPinnedBlobs) {
  auto ref = store_->Put("pinned");
  ASSERT_TRUE(ref.ok());
  ASSERT_TRUE(store_->Remove(ref->hash).ok());
  EXPECT_TRUE(store_->Get(ref->hash).ok()) << "a pinned blob must survive Remove";
  store_->Unpin(ref->hash);
  ASSERT_TRUE(store_->Remove(ref->hash).ok());
  auto gone = store_->Get(ref->hash);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(store_->Remove(ref->hash).ok()) << "removing a missing blob is fine";
}

TEST_F(BlobStoreTest, DetectsCorruption) {
  auto ref = store_->Put("will be damaged");
  ASSERT_TRUE(ref.ok());
  {
    std::ofstream out(store_->PathOf(ref->hash), std::ios::binary | std::ios::trunc);
    out << "garbage";
  }
  auto got = store_->Get(ref->hash);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kDataLoss);
}

TEST_F(BlobStoreTest, RejectsBadHashes) {
  EXPECT_EQ(store_->Get("../../etc/passwd").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(store_->Remove("zz").ok());
}

TEST_F(BlobStoreTest, OpenClearsStaleTemporaryFiles) {
  { std::ofstream((root_ / "tmp" / "123.456").string()) << "half written"; }
  // A second process (the CLI beside a running server) must leave them: one
  // may be a blob the server is writing right now.
  auto cli = FileBlobStore::Open(root_.string(), 3, /*clear_tmp=*/false);
  ASSERT_TRUE(cli.ok());
  EXPECT_TRUE(std::filesystem::exists(root_ / "tmp" / "123.456"));
  auto again = FileBlobStore::Open(root_.string(), 3);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(std::filesystem::is_empty(root_ / "tmp"));
}

}  // namespace
}  // namespace postern::store
