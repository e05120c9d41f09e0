// DKIM key files under data_dir/dkim.
#include "dkim/key_directory.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dkim/signature.h"

namespace postern::dkim {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kRetired = "retired";

std::string_view Suffix(Algorithm a) { return a == Algorithm::kRsaSha256 ? "rsa" : "ed25519"; }

// "SELECTOR.ALG.pem" -> selector and algorithm.
bool ParseFileName(const std::string& name, std::string* selector, Algorithm* algorithm) {
  for (Algorithm a : {Algorithm::kEd25519Sha256, Algorithm::kRsaSha256}) {
    const std::string suffix = "." + std::string(Suffix(a)) + ".pem";
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      *selector = name.substr(0, name.size() - suffix.size());
      *algorithm = a;
      return KeyDirectory::ValidSelector(*selector);
    }
  }
  return false;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes `data` to a new file `path` (mode 0600), durably.
Status WriteNewFile(const std::string& path, const std::string& data) {
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return PermissionDenied("cannot create " + temp + ": " + std::strerror(errno));
  const bool written = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written) {
    ::unlink(temp.c_str());
    return Internal("cannot write " + temp);
  }
  if (::link(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    if (error == EEXIST) return AlreadyExists(path + " exists");
    return Internal("cannot create " + path + ": " + std::strerror(error));
  }
  ::unlink(temp.c_str());
  return Status::Ok();
}

// Run as root (the CLI usually is), files take the owner of the data
// directory, ROOT/.., so that the server can read them after dropping
// privileges.
void OwnLikeDataDirectory(const std::string& root, const std::string& path) {
  struct stat st {};
  if (::geteuid() != 0 || ::stat((root + "/..").c_str(), &st) != 0) return;
  (void)::chown(path.c_str(), st.st_uid, st.st_gid);
}

Status MakePrivateDirectory(const std::string& root, const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return PermissionDenied("cannot create " + path + ": " + ec.message());
  ::chmod(path.c_str(), 0700);
  OwnLikeDataDirectory(root, path);
  return Status::Ok();
}

std::string YearMonth(int64_t now) {
  const std::time_t t = static_cast<std::time_t>(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[32];
  std::snprintf(out, sizeof out, "%04d%02d", tm.tm_year + 1900, tm.tm_mon + 1);
  return out;
}

}  // namespace

bool KeyDirectory::ValidSelector(std::string_view selector) {
  if (selector.empty() || selector.size() > 63 || selector.front() == '-' ||
      selector.back() == '-') {
    return false;
  }
  return std::all_of(selector.begin(), selector.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool KeyDirectory::ValidDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  size_t start = 0;
  while (start <= domain.size()) {
    size_t dot = domain.find('.', start);
    if (dot == std::string_view::npos) dot = domain.size();
    const std::string_view label = domain.substr(start, dot - start);
    if (!ValidSelector(label)) return false;
    for (char c : label) {
      if (c >= 'A' && c <= 'Z') return false;  // stored lowercase
    }
    start = dot + 1;
  }
  return true;
}

Result<KeyInfo> KeyDirectory::Generate(const std::string& domain, Algorithm algorithm,
                                       std::string selector, int64_t now) {
  if (!ValidDomain(domain)) return InvalidArgument("not a valid domain name: " + domain);
  PT_ASSIGN_OR_RETURN(std::vector<KeyInfo> existing, List(domain));
  auto taken = [&existing](const std::string& s) {
    return std::any_of(existing.begin(), existing.end(),
                       [&s](const KeyInfo& k) { return k.selector == s; });
  };
  if (selector.empty()) {
    const std::string base = YearMonth(now) + (algorithm == Algorithm::kRsaSha256 ? "r" : "e");
    selector = base;
    for (int n = 2; taken(selector); ++n) selector = base + std::to_string(n);
  } else if (!ValidSelector(selector)) {
    return InvalidArgument("not a valid selector: \"" + selector +
                           "\" (letters, digits and '-', up to 63)");
  } else if (taken(selector)) {
    return AlreadyExists("selector " + selector + " already exists for " + domain +
                         " (choose another with --selector)");
  }
  PT_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::Generate(algorithm));
  const std::string dir = root_ + "/" + domain;
  PT_RETURN_IF_ERROR(MakePrivateDirectory(root_, root_));
  PT_RETURN_IF_ERROR(MakePrivateDirectory(root_, dir));
  KeyInfo info;
  info.domain = domain;
  info.selector = selector;
  info.algorithm = algorithm;
  info.created = now;
  info.path = dir + "/" + selector + "." + std::string(Suffix(algorithm)) + ".pem";
  info.record = KeyRecord(key);
  PT_RETURN_IF_ERROR(WriteNewFile(info.path, key.ToPem()));
  OwnLikeDataDirectory(root_, info.path);
  return info;
}

Result<std::vector<KeyInfo>> KeyDirectory::List(const std::string& domain) const {
  std::vector<std::string> domains;
  std::error_code ec;
  if (!domain.empty()) {
    if (!ValidDomain(domain)) return InvalidArgument("not a valid domain name: " + domain);
    domains.push_back(domain);
  } else if (fs::is_directory(root_, ec)) {
    for (const auto& entry : fs::directory_iterator(root_, ec)) {
      const std::string name = entry.path().filename().string();
      if (entry.is_directory(ec) && ValidDomain(name)) domains.push_back(name);
    }
  }
  std::vector<KeyInfo> keys;
  for (const std::string& d : domains) {
    for (bool active : {true, false}) {
      const std::string dir = root_ + "/" + d + (active ? "" : "/" + std::string(kRetired));
      if (!fs::is_directory(dir, ec)) continue;
      for (const auto& entry : fs::directory_iterator(dir, ec)) {
        KeyInfo info;
        if (!entry.is_regular_file(ec) ||
            !ParseFileName(entry.path().filename().string(), &info.selector, &info.algorithm)) {
          continue;
        }
        info.domain = d;
        info.active = active;
        info.path = entry.path().string();
        struct stat st {};
        if (::stat(info.path.c_str(), &st) == 0) info.created = st.st_mtim.tv_sec;
        PT_ASSIGN_OR_RETURN(std::string pem, ReadFile(info.path));
        auto key = PrivateKey::FromPem(pem);
        if (!key.ok()) return key.status().WithContext(info.path);
        info.record = KeyRecord(*key);
        keys.push_back(std::move(info));
      }
    }
  }
  std::sort(keys.begin(), keys.end(), [](const KeyInfo& a, const KeyInfo& b) {
    return std::tie(a.domain, b.active, a.selector) < std::tie(b.domain, a.active, b.selector);
  });
  return keys;
}

Status KeyDirectory::Retire(const std::string& domain, const std::string& selector) {
  PT_ASSIGN_OR_RETURN(std::vector<KeyInfo> keys, List(domain));
  bool found = false;
  for (const KeyInfo& k : keys) {
    if (k.selector != selector || !k.active) continue;
    const std::string dir = root_ + "/" + domain + "/" + std::string(kRetired);
    PT_RETURN_IF_ERROR(MakePrivateDirectory(root_, dir));
    const std::string target = dir + "/" + fs::path(k.path).filename().string();
    if (::rename(k.path.c_str(), target.c_str()) != 0) {
      return Internal("cannot move " + k.path + " to " + target + ": " + std::strerror(errno));
    }
    found = true;
  }
  if (!found) {
    return NotFound("no signing key with selector " + selector + " for " + domain +
                    " (see postern dkim list " + domain + ")");
  }
  return Status::Ok();
}

bool KeyDirectory::MayHaveKeys(const std::string& domain) const {
  if (!ValidDomain(domain)) return false;
  struct stat st {};
  return ::stat((root_ + "/" + domain).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::vector<SigningKey>> KeyDirectory::ActiveKeys(const std::string& domain) {
  std::vector<SigningKey> keys;
  if (!MayHaveKeys(domain)) return keys;
  const std::string dir = root_ + "/" + domain;
  std::error_code ec;
  std::vector<std::pair<std::string, std::string>> files;  // selector, path
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string selector;
    Algorithm algorithm;
    if (entry.is_regular_file(ec) &&
        ParseFileName(entry.path().filename().string(), &selector, &algorithm)) {
      files.emplace_back(selector, entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  std::lock_guard lock(mutex_);
  for (const auto& [selector, path] : files) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) continue;  // retired meanwhile
    const int64_t mtime_ns = st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
    Cached& cached = cache_[path];
    if (!cached.key || cached.mtime_ns != mtime_ns || cached.size != uint64_t(st.st_size)) {
      PT_ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
      auto key = PrivateKey::FromPem(pem);
      if (!key.ok()) return key.status().WithContext(path);
      cached = Cached{mtime_ns, uint64_t(st.st_size),
                      std::make_shared<const PrivateKey>(std::move(*key))};
    }
    keys.push_back(SigningKey{selector, cached.key});
  }
  return keys;
}

Result<std::string> KeyDirectory::SignatureFields(const std::string& domain,
                                                  std::string_view message, int64_t now) {
  PT_ASSIGN_OR_RETURN(std::vector<SigningKey> keys, ActiveKeys(domain));
  std::string fields;
  for (const SigningKey& k : keys) {
    SignOptions options;
    options.domain = domain;
    options.selector = k.selector;
    options.timestamp = now;
    PT_ASSIGN_OR_RETURN(std::string field, Sign(message, options, *k.key));
    fields += field;
  }
  return fields;
}

}  // namespace postern::dkim
