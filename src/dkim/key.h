// DKIM keys (OpenSSL): private keys that sign and public keys that verify,
// for rsa-sha256 (RFC 6376 §3.3.1, at least 1024 bits per RFC 8301 §3.2)
// and ed25519-sha256 (RFC 8463). Immutable after construction; a const key
// may be used from several threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace postern::dkim {

enum class Algorithm { kRsaSha256, kEd25519Sha256 };

// "rsa-sha256" / "ed25519-sha256" (the a= tag), and the k= tag: "rsa" / "ed25519".
std::string_view AlgorithmName(Algorithm a);
std::string_view KeyTypeName(Algorithm a);

struct KeyDeleter {
  void operator()(EVP_PKEY* key) const;
};
using KeyHandle = std::unique_ptr<EVP_PKEY, KeyDeleter>;

class PrivateKey {
 public:
  // A new key: Ed25519, or RSA of `rsa_bits` (2048 unless told otherwise).
  static Result<PrivateKey> Generate(Algorithm algorithm, int rsa_bits = 2048);
  // A PEM private key (PKCS#8 or PKCS#1 "RSA PRIVATE KEY").
  static Result<PrivateKey> FromPem(std::string_view pem);
  // An Ed25519 key from its 32-byte seed (the form RFC 8463 §A.1 prints).
  static Result<PrivateKey> FromEd25519Seed(std::string_view seed);

  Algorithm algorithm() const { return algorithm_; }
  // PKCS#8 PEM, unencrypted.
  std::string ToPem() const;
  // The p= value of the key record: base64 of the SubjectPublicKeyInfo for
  // RSA (RFC 6376 §3.6.1), of the raw 32-byte public key for Ed25519
  // (RFC 8463 §4).
  std::string PublicKeyBase64() const;
  // The b= signature bytes over `data` (the canonicalized header fields):
  // RSASSA-PKCS1-v1_5 with SHA-256, or Ed25519 over SHA-256(data)
  // (RFC 8463 §3: PureEdDSA of the hash).
  Result<std::string> Sign(std::string_view data) const;

 private:
  PrivateKey(KeyHandle key, Algorithm algorithm) : key_(std::move(key)), algorithm_(algorithm) {}
  std::shared_ptr<EVP_PKEY> key_;
  Algorithm algorithm_;
};

class PublicKey {
 public:
  // From a key record's k= and p= (base64, whitespace allowed).
  static Result<PublicKey> FromRecord(Algorithm algorithm, std::string_view p_base64);
  Algorithm algorithm() const { return algorithm_; }
  // Whether `signature` is a valid signature of `data` (as for Sign()).
  bool Verify(std::string_view data, std::string_view signature) const;

 private:
  PublicKey(KeyHandle key, Algorithm algorithm) : key_(std::move(key)), algorithm_(algorithm) {}
  std::shared_ptr<EVP_PKEY> key_;
  Algorithm algorithm_;
};

// SHA-256 of `data` (32 bytes).
std::string Sha256(std::string_view data);

}  // namespace postern::dkim
