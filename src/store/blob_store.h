// Message bodies, stored once, addressed by the SHA-256 of their content.
//
// Put() makes a blob durable (file and directory fsynced) before it returns,
// so a transaction that references it may commit afterwards. A blob that was
// Put is "pinned" in this process until Unpin(): Remove() leaves pinned blobs
// alone, which closes the race between a new Put of identical content and the
// removal of the last old reference. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace postern::store {

struct BlobRef {
  std::string hash;          // lowercase hex SHA-256 of the content
  uint64_t size = 0;         // content bytes
  uint64_t stored_size = 0;  // bytes on disk
};

// A body hashed and compressed, not yet stored anywhere. Pure CPU work:
// EncodeBlob runs on any thread (it keeps one zstd context per thread).
struct EncodedBlob {
  BlobRef ref;
  std::string compressed;  // one zstd frame
};
Result<EncodedBlob> EncodeBlob(std::string_view content, int compression_level);
// The content of a zstd frame made by EncodeBlob; `hash` names it in errors.
Result<std::string> DecodeBlob(std::string_view compressed, const std::string& hash);

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  virtual Result<BlobRef> Put(std::string_view content) = 0;
  // Put() for a body already encoded (EncodeBlob).
  virtual Status PutEncoded(const BlobRef& ref, std::string_view compressed) = 0;
  virtual void Unpin(const std::string& hash) = 0;
  virtual Result<std::string> Get(const std::string& hash) const = 0;
  // Deletes the blob unless it is pinned. A missing blob is not an error.
  virtual Status Remove(const std::string& hash) = 0;
  // Calls `fn(hash, age_seconds)` for every stored blob (for garbage collection).
  virtual Status ForEach(const std::function<void(const std::string&, int64_t)>& fn) const = 0;
};

// zstd-compressed files under ROOT/ab/cd/<hash>, written to ROOT/tmp first.
class FileBlobStore final : public BlobStore {
 public:
  // Creates ROOT and ROOT/tmp when missing; with `clear_tmp` (the server,
  // which owns the data directory) also removes stale temporary files.
  static Result<std::unique_ptr<FileBlobStore>> Open(const std::string& root, int compression_level,
                                                     bool clear_tmp = true);
  ~FileBlobStore() override;

  Result<BlobRef> Put(std::string_view content) override;
  Status PutEncoded(const BlobRef& ref, std::string_view compressed) override;
  void Unpin(const std::string& hash) override;
  Result<std::string> Get(const std::string& hash) const override;
  Status Remove(const std::string& hash) override;
  Status ForEach(const std::function<void(const std::string&, int64_t)>& fn) const override;

  std::string PathOf(const std::string& hash) const;

 private:
  FileBlobStore(std::string root, int level);
  Status EnsureDir(const std::string& dir, const std::string& parent);

  struct Pins;
  std::string root_;
  int level_;
  std::unique_ptr<Pins> pins_;
};

// SHA-256 of `content` as lowercase hex.
std::string Sha256Hex(std::string_view content);

}  // namespace postern::store
