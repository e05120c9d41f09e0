#include "store/blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <random>
#include <unordered_map>

#include "base/strings.h"

namespace postern::store {
namespace {

Status ErrnoStatus(const std::string& what) {
  int e = errno;
  std::string msg = what + ": " + std::strerror(e);
  // A full disk is said as such, so SMTP can answer 452 4.3.1 (RFC 3463).
  if (e == ENOSPC || e == EDQUOT) return ResourceExhausted(msg);
  if (e == EIO || e == EMFILE || e == ENFILE || e == ENOMEM) {
    return Unavailable(msg);
  }
  if (e == ENOENT) return NotFound(msg);
  if (e == EACCES || e == EPERM) return PermissionDenied(msg);
  return Internal(msg);
}

Status FsyncPath(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open " + path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ErrnoStatus("cannot fsync " + path);
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot write " + path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

bool IsHexHash(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

struct FileBlobStore::Pins {
  std::mutex mu;
  std::unordered_map<std::string, int> count;
};

std::string Sha256Hex(std::string_view content) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(content.data(), content.size(), digest, &len, EVP_sha256(), nullptr);
  return HexEncode(std::span<const uint8_t>(digest, len));
}

FileBlobStore::FileBlobStore(std::string root, int level)
    : root_(std::move(root)), level_(level), pins_(std::make_unique<Pins>()) {}

FileBlobStore::~FileBlobStore() = default;

Result<std::unique_ptr<FileBlobStore>> FileBlobStore::Open(const std::string& root, int level,
                                                           bool clear_tmp) {
  std::error_code ec;
  std::filesystem::create_directories(root + "/tmp", ec);
  if (ec) return Unavailable("cannot create " + root + "/tmp: " + ec.message());
  // Temporary files are only ever half-written blobs of a crashed process,
  // but only the server knows that no other process is writing one now.
  if (!clear_tmp) return std::unique_ptr<FileBlobStore>(new FileBlobStore(root, level));
  for (const auto& entry : std::filesystem::directory_iterator(root + "/tmp", ec)) {
    std::filesystem::remove(entry.path(), ec);
  }
  return std::unique_ptr<FileBlobStore>(new FileBlobStore(root, level));
}

std::string FileBlobStore::PathOf(const std::string& hash) const {
  return root_ + "/" + hash.substr(0, 2) + "/" + hash.substr(2, 2) + "/" + hash;
}

Status FileBlobStore::EnsureDir(const std::string& dir, const std::string& parent) {
  if (::mkdir(dir.c_str(), 0750) == 0) return FsyncPath(parent);
  if (errno == EEXIST) return Status::Ok();
  return ErrnoStatus("cannot create " + dir);
}

Result<EncodedBlob> EncodeBlob(std::string_view content, int compression_level) {
  // One compression context per thread: creating one per message costs more
  // than compressing a small message.
  struct Context {
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    ~Context() { ZSTD_freeCCtx(cctx); }
  };
  thread_local Context context;
  EncodedBlob out;
  out.ref.hash = Sha256Hex(content);
  out.ref.size = content.size();
  out.compressed.resize(ZSTD_compressBound(content.size()));
  size_t n = ZSTD_compressCCtx(context.cctx, out.compressed.data(), out.compressed.size(),
                               content.data(), content.size(), compression_level);
  if (ZSTD_isError(n)) return Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
  out.compressed.resize(n);
  out.ref.stored_size = n;
  return out;
}

Result<std::string> DecodeBlob(std::string_view compressed, const std::string& hash) {
  unsigned long long raw = ZSTD_getFrameContentSize(compressed.data(), compressed.size());
  if (raw == ZSTD_CONTENTSIZE_ERROR || raw == ZSTD_CONTENTSIZE_UNKNOWN || raw > (1ull << 34)) {
    return DataLoss("message blob " + hash + " is corrupt (bad zstd frame)");
  }
  std::string out(static_cast<size_t>(raw), '\0');
  size_t n = ZSTD_decompress(out.data(), out.size(), compressed.data(), compressed.size());
  if (ZSTD_isError(n) || n != raw) {
    return DataLoss("message blob " + hash +
                    " is corrupt: " + (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame"));
  }
  return out;
}

Result<BlobRef> FileBlobStore::Put(std::string_view content) {
  PT_ASSIGN_OR_RETURN(EncodedBlob blob, EncodeBlob(content, level_));
  PT_RETURN_IF_ERROR(PutEncoded(blob.ref, blob.compressed));
  return blob.ref;
}

Status FileBlobStore::PutEncoded(const BlobRef& ref, std::string_view compressed) {
  {
    std::lock_guard lock(pins_->mu);
    ++pins_->count[ref.hash];
  }
  auto unpin_on_error = [&](Status s) {
    Unpin(ref.hash);
    return s;
  };

  std::string d1 = root_ + "/" + ref.hash.substr(0, 2);
  std::string d2 = d1 + "/" + ref.hash.substr(2, 2);
  if (Status s = EnsureDir(d1, root_); !s.ok()) return unpin_on_error(s);
  if (Status s = EnsureDir(d2, d1); !s.ok()) return unpin_on_error(s);

  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = std::random_device{}();
  std::string tmp = root_ + "/tmp/" + std::to_string(::getpid()) + "." +
                    std::to_string(salt ^ counter.fetch_add(1));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return unpin_on_error(ErrnoStatus("cannot create " + tmp));
  Status s = WriteAll(fd, compressed, tmp);
  if (s.ok() && ::fdatasync(fd) != 0) s = ErrnoStatus("cannot fsync " + tmp);
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), PathOf(ref.hash).c_str()) != 0) {
    s = ErrnoStatus("cannot rename blob into place");
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return unpin_on_error(s);
  }
  if (Status ds = FsyncPath(d2); !ds.ok()) return unpin_on_error(ds);
  return Status::Ok();
}

void FileBlobStore::Unpin(const std::string& hash) {
  std::lock_guard lock(pins_->mu);
  auto it = pins_->count.find(hash);
  if (it != pins_->count.end() && --it->second <= 0) pins_->count.erase(it);
}

Result<std::string> FileBlobStore::Get(const std::string& hash) const {
  if (!IsHexHash(hash)) return InvalidArgument("not a blob hash: " + SanitizeForLog(hash));
  std::string path = PathOf(hash);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return DataLoss("message blob " + hash + " is missing from " + root_);
    return ErrnoStatus("cannot open " + path);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status s = ErrnoStatus("cannot stat " + path);
    ::close(fd);
    return s;
  }
  std::string compressed(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < compressed.size()) {
    ssize_t n = ::read(fd, compressed.data() + got, compressed.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = ErrnoStatus("cannot read " + path);
      ::close(fd);
      return s;
    }
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  return DecodeBlob(compressed, hash);
}

Status FileBlobStore::Remove(const std::string& hash) {
  if (!IsHexHash(hash)) return InvalidArgument("not a blob hash");
  std::lock_guard lock(pins_->mu);
  if (pins_->count.count(hash)) return Status::Ok();
  if (::unlink(PathOf(hash).c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus("cannot remove blob " + hash);
  }
  return Status::Ok();
}

Status FileBlobStore::ForEach(const std::function<void(const std::string&, int64_t)>& fn) const {
  std::error_code ec;
  const int64_t now = std::time(nullptr);
  for (auto it = std::filesystem::recursive_directory_iterator(root_, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Unavailable("cannot scan " + root_ + ": " + ec.message());
    if (it->path().filename() == "tmp" && it.depth() == 0) {
      it.disable_recursion_pending();
      continue;
    }
    std::string name = it->path().filename().string();
    if (!it->is_regular_file() || !IsHexHash(name)) continue;
    struct stat st;
    int64_t age = 0;
    // File times come from the kernel's coarse clock, which can be a tick
    // ahead of time(): a file written this instant may look a second in
    // the future. Never report a negative age.
    if (::stat(it->path().c_str(), &st) == 0) age = std::max<int64_t>(0, now - st.st_mtime);
    fn(name, age);
  }
  return Status::Ok();
}

}  // namespace postern::store
