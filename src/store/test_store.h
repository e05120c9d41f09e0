// For unit tests: a store in a fresh directory named after the running test.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

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

}  // namespace postern::store
