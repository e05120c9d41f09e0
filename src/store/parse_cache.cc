#include "store/parse_cache.h"

namespace postern::store {

namespace {

// What an entry costs besides its strings' bytes: the list node, the index
// slot and the strings' own headers, roughly.
constexpr size_t kEntryOverhead = 256;

size_t SizeOf(const std::optional<std::string>& s) { return s ? s->size() : 0; }

}  // namespace

ParseCache::ParseCache(size_t max_bytes) : max_bytes_(max_bytes) {}

uint64_t ParseCache::Generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

template <typename T>
std::optional<T> ParseCache::Find(const std::string& hash, std::optional<T> Entry::*field) {
  auto it = index_.find(hash);
  if (it == index_.end() || !((*it->second).*field)) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return (*it->second).*field;
}

std::optional<MessageParse> ParseCache::Structure(const std::string& hash) {
  std::lock_guard lock(mu_);
  return Find(hash, &Entry::structure);
}

std::optional<std::string> ParseCache::Header(const std::string& hash) {
  std::lock_guard lock(mu_);
  return Find(hash, &Entry::header);
}

void ParseCache::PutStructure(const std::string& hash, const MessageParse& parse,
                              uint64_t generation) {
  const size_t size = parse.envelope.size() + parse.body.size() + parse.body_structure.size() +
                      SizeOf(parse.preview);
  std::lock_guard lock(mu_);
  Entry* entry = Admit(hash, size, generation);
  if (!entry) return;
  entry->structure = MessageParse{parse.envelope, parse.body,    parse.body_structure,
                                  std::nullopt,   parse.preview, std::nullopt};
  Account(*entry);
  Shrink();
}

void ParseCache::PutHeader(const std::string& hash, const std::string& header,
                           uint64_t generation) {
  std::lock_guard lock(mu_);
  Entry* entry = Admit(hash, header.size(), generation);
  if (!entry) return;
  entry->header = header;
  Account(*entry);
  Shrink();
}

void ParseCache::Erase(const std::string& hash) {
  std::lock_guard lock(mu_);
  ++generation_;
  auto it = index_.find(hash);
  if (it == index_.end()) return;
  List::iterator node = it->second;
  index_.erase(it);
  bytes_ -= node->bytes;
  lru_.erase(node);
}

size_t ParseCache::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

size_t ParseCache::entries() const {
  std::lock_guard lock(mu_);
  return index_.size();
}

ParseCacheStats ParseCache::stats() const {
  std::lock_guard lock(mu_);
  return ParseCacheStats{bytes_, max_bytes_, index_.size(), hits_, misses_};
}

ParseCache::Entry* ParseCache::Admit(const std::string& hash, size_t size, uint64_t generation) {
  if (kEntryOverhead + size > max_bytes_) return nullptr;  // would push out everything else
  if (generation != generation_) return nullptr;           // older than an erase
  auto it = index_.find(hash);
  if (it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return &*it->second;
  }
  lru_.push_front(Entry{hash, std::nullopt, std::nullopt, 0});
  index_.emplace(lru_.front().hash, lru_.begin());
  return &lru_.front();
}

void ParseCache::Account(Entry& entry) {
  size_t bytes = kEntryOverhead + 2 * entry.hash.size() + SizeOf(entry.header);
  if (entry.structure) {
    bytes += entry.structure->envelope.size() + entry.structure->body.size() +
             entry.structure->body_structure.size() + SizeOf(entry.structure->preview);
  }
  bytes_ = bytes_ - entry.bytes + bytes;
  entry.bytes = bytes;
}

void ParseCache::Shrink() {
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    Entry& last = lru_.back();
    bytes_ -= last.bytes;
    index_.erase(last.hash);
    lru_.pop_back();
  }
}

}  // namespace postern::store
