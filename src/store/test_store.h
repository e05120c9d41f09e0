// For unit tests: a store in a fresh directory named after the running test.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite_store.h"

namespace postern::store {

// PREFIX-PID-TEST under the temporary directory, removed first.
inline std::filesystem::path FreshTestDir(std::string_view prefix) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              (std::string(prefix) + "-" + std::to_string(::getpid()) + "-" +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  return dir;
}

// A new store with its data in `dir` (and `clock`, if given, as its clock).
inline Result<std::unique_ptr<Store>> OpenTestStore(const std::filesystem::path& dir,
                                                    const Clock* clock = nullptr) {
  SqliteStoreOptions options;
  options.data_dir = dir.string();
  options.clock = clock;
  return OpenSqliteStore(options);
}

// A queue entry `id` from `sender`, created at `now`, its body `content`
// stored as a blob file; one recipient per address (the address is also its
// original), local, due at now + 60. Not queued yet.
inline QueueEntry TestQueueEntry(Store& store, const std::string& id, const std::string& content,
                                 const std::string& sender, const std::vector<std::string>& rcpts,
                                 int64_t now) {
  QueueEntry e;
  auto ref = store.blobs().Put(content);
  EXPECT_TRUE(ref.ok()) << ref.status().ToString();
  if (!ref.ok()) return e;
  e.id = id;
  e.created = now;
  e.mail_from = sender;
  e.blob = ref->hash;
  e.size = ref->size;
  e.stored_size = ref->stored_size;
  for (const auto& address : rcpts) {
    QueueRecipient r;
    r.address = address;
    r.original = address;
    r.next_attempt = now + 60;
    e.recipients.push_back(r);
  }
  return e;
}

}  // namespace postern::store
