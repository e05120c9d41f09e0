// The DKIM keys this server signs with, one PEM file per key:
//   ROOT/DOMAIN/SELECTOR.ed25519.pem, ROOT/DOMAIN/SELECTOR.rsa.pem   (signing)
//   ROOT/DOMAIN/retired/SELECTOR.ALG.pem                             (retired)
// where ROOT is data_dir/dkim. Files are mode 0600, directories 0700. The
// server reads the directory for each message it signs (keys parsed once
// and cached by file), so `postern dkim generate/retire` take effect at once.
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "dkim/key.h"

namespace postern::dkim {

struct KeyInfo {
  std::string domain;
  std::string selector;
  Algorithm algorithm = Algorithm::kEd25519Sha256;
  bool active = true;   // false: retired, no longer signs
  int64_t created = 0;  // unix time (the file's modification time)
  std::string path;
  std::string record;  // the TXT record value, "v=DKIM1; k=...; p=..."
};

struct SigningKey {
  std::string selector;
  std::shared_ptr<const PrivateKey> key;
};

class KeyDirectory {
 public:
  explicit KeyDirectory(std::string root) : root_(std::move(root)) {}

  // Creates a key for `domain` (lowercase). An empty `selector` picks
  // YYYYMM plus "e" (Ed25519) or "r" (RSA), and a number when taken, from
  // `now` (unix time). Error when the selector exists (active or retired).
  Result<KeyInfo> Generate(const std::string& domain, Algorithm algorithm, std::string selector,
                           int64_t now);
  // Every key of `domain` ("" = of all domains), active first, then by selector.
  Result<std::vector<KeyInfo>> List(const std::string& domain) const;
  // Moves the key(s) of `selector` to retired/: they stop signing.
  Status Retire(const std::string& domain, const std::string& selector);
  // The active keys of `domain`, none when it has no directory.
  Result<std::vector<SigningKey>> ActiveKeys(const std::string& domain);

  // Whether `domain` may have signing keys (its directory exists): one stat,
  // cheap enough to ask on an I/O thread before handing the signing off.
  bool MayHaveKeys(const std::string& domain) const;

  // The DKIM-Signature fields (relaxed/relaxed, recommended headers, From
  // oversigned, t=`now`) of every active key of `domain` for `message`,
  // concatenated; "" when the domain has no active key.
  Result<std::string> SignatureFields(const std::string& domain, std::string_view message,
                                      int64_t now);

  // Selector and domain names that are safe as file names: letters, digits,
  // '-' (and '.' between labels for domains).
  static bool ValidSelector(std::string_view selector);
  static bool ValidDomain(std::string_view domain);

 private:
  struct Cached {
    int64_t mtime_ns = 0;
    uint64_t size = 0;
    std::shared_ptr<const PrivateKey> key;
  };
  std::string root_;
  std::mutex mutex_;
  std::map<std::string, Cached> cache_;  // by path
};

}  // namespace postern::dkim
