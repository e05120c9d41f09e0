// A process-wide memory of the cached parse of bodies (store::MessageParse:
// ENVELOPE, BODY, BODYSTRUCTURE, preview, top-level header), by content hash.
//
// Why: a body's parse never changes, but SQLite cannot keep it warm. In WAL
// mode every commit by another connection empties a reader's page cache, so
// with many IMAP sessions storing flags and appending, each FETCH of 50
// headers or envelopes read its B-tree pages again through pread(). This
// cache answers those reads from memory.
//
// Correctness: entries are keyed by the hash of the body's bytes, and the
// parse of given bytes is what it is. What does change is whether the store
// has a parse (or a preview, or a header) for a hash: SaveParse fills them in
// and releasing a body's last reference deletes them. The store calls Erase
// for such hashes after the commit; Erase bumps a generation, and a reader
// passes the generation it saw before its read transaction to Put, which
// drops the value if anything was erased meanwhile (it may be older than
// the commit). Negative answers (no parse, no header) are never kept.
//
// Bounded by bytes (least recently used out first). Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/store.h"

namespace postern::store {

class ParseCache {
 public:
  // 0: keeps nothing.
  explicit ParseCache(size_t max_bytes);
  ParseCache(const ParseCache&) = delete;
  ParseCache& operator=(const ParseCache&) = delete;

  // Take this before the read whose result goes to Put.
  uint64_t Generation() const;

  // The structure (envelope, body, body_structure, preview; never text or
  // header), if kept.
  std::optional<MessageParse> Structure(const std::string& hash);
  // The top-level header, if kept.
  std::optional<std::string> Header(const std::string& hash);

  // Keep what a read found, unless something was erased since `generation`
  // or the value alone is larger than the cache. `parse.text` and
  // `parse.header` are not kept by PutStructure.
  void PutStructure(const std::string& hash, const MessageParse& parse, uint64_t generation);
  void PutHeader(const std::string& hash, const std::string& header, uint64_t generation);

  // Forget the hash (its parse was changed or deleted; call after the commit).
  void Erase(const std::string& hash);

  size_t bytes() const;
  size_t entries() const;
  ParseCacheStats stats() const;

 private:
  struct Entry {
    std::string hash;
    std::optional<MessageParse> structure;
    std::optional<std::string> header;
    size_t bytes = 0;
  };
  using List = std::list<Entry>;

  // With mu_ held: a copy of the entry's `field` if kept (the entry then
  // becomes the most recently used); counts a hit or a miss.
  template <typename T>
  std::optional<T> Find(const std::string& hash, std::optional<T> Entry::*field);
  // With mu_ held: the entry for `hash` (created at the front if absent) to
  // receive a value of `size` bytes read at `generation`; null when the value
  // alone is larger than the cache or the read is older than an erase.
  Entry* Admit(const std::string& hash, size_t size, uint64_t generation);
  void Account(Entry& entry);  // recompute entry.bytes and bytes_
  void Shrink();               // evict from the back until within max_bytes_

  const size_t max_bytes_;
  mutable std::mutex mu_;
  uint64_t generation_ = 0;
  size_t bytes_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
  List lru_;                                                    // most recently used first
  std::unordered_map<std::string_view, List::iterator> index_;  // keys point into lru_
};

}  // namespace postern::store
