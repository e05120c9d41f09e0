// DKIM keys over OpenSSL 3's EVP interface.
#include "dkim/key.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "base/base64.h"

namespace postern::dkim {
namespace {

// RFC 8301 §3.2: verifiers must not consider RSA keys under 1024 bits valid.
constexpr int kMinRsaBits = 1024;

struct ContextDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  void operator()(BIO* b) const { BIO_free(b); }
};

Result<Algorithm> AlgorithmOf(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_ED25519:
      return Algorithm::kEd25519Sha256;
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(key) < kMinRsaBits) {
        return InvalidArgument("RSA key is shorter than 1024 bits (RFC 8301)");
      }
      return Algorithm::kRsaSha256;
    default:
      return InvalidArgument("not an RSA or Ed25519 key");
  }
}

std::string RemoveWhitespace(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') out += c;
  }
  return out;
}

}  // namespace

void KeyDeleter::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

std::string_view AlgorithmName(Algorithm a) {
  return a == Algorithm::kRsaSha256 ? "rsa-sha256" : "ed25519-sha256";
}

std::string_view KeyTypeName(Algorithm a) { return a == Algorithm::kRsaSha256 ? "rsa" : "ed25519"; }

std::string Sha256(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

Result<PrivateKey> PrivateKey::Generate(Algorithm algorithm, int rsa_bits) {
  EVP_PKEY* raw = algorithm == Algorithm::kEd25519Sha256
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(rsa_bits));
  if (raw == nullptr) return Internal("key generation failed");
  return PrivateKey(KeyHandle(raw), algorithm);
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  std::unique_ptr<BIO, ContextDeleter> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Internal("out of memory");
  KeyHandle key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return InvalidArgument("not a PEM private key");
  PT_ASSIGN_OR_RETURN(Algorithm algorithm, AlgorithmOf(key.get()));
  return PrivateKey(std::move(key), algorithm);
}

Result<PrivateKey> PrivateKey::FromEd25519Seed(std::string_view seed) {
  if (seed.size() != 32) return InvalidArgument("an Ed25519 seed is 32 bytes");
  KeyHandle key(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()), seed.size()));
  if (!key) return InvalidArgument("bad Ed25519 seed");
  return PrivateKey(std::move(key), Algorithm::kEd25519Sha256);
}

std::string PrivateKey::ToPem() const {
  std::unique_ptr<BIO, ContextDeleter> bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return {};
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string PrivateKey::PublicKeyBase64() const {
  if (algorithm_ == Algorithm::kEd25519Sha256) {
    unsigned char raw[32];
    size_t size = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(key_.get(), raw, &size) != 1) return {};
    return EncodeBase64Strict(std::string_view(reinterpret_cast<char*>(raw), size));
  }
  unsigned char* der = nullptr;
  const int size = i2d_PUBKEY(key_.get(), &der);
  if (size <= 0) return {};
  std::string out = EncodeBase64Strict(std::string_view(reinterpret_cast<char*>(der), size));
  OPENSSL_free(der);
  return out;
}

Result<std::string> PrivateKey::Sign(std::string_view data) const {
  std::unique_ptr<EVP_MD_CTX, ContextDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx) return Internal("out of memory");
  std::string input;
  const EVP_MD* md = EVP_sha256();
  if (algorithm_ == Algorithm::kEd25519Sha256) {
    input = Sha256(data);
    data = input;
    md = nullptr;  // Ed25519 takes no separate digest
  }
  if (EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key_.get()) != 1) {
    return Internal("signing setup failed");
  }
  size_t size = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &size, in, data.size()) != 1) {
    return Internal("signing failed");
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, in,
                     data.size()) != 1) {
    return Internal("signing failed");
  }
  signature.resize(size);
  return signature;
}

Result<PublicKey> PublicKey::FromRecord(Algorithm algorithm, std::string_view p_base64) {
  std::optional<std::string> raw = DecodeBase64Strict(RemoveWhitespace(p_base64));
  if (!raw || raw->empty()) return InvalidArgument("p= is not base64 (or the key is revoked)");
  KeyHandle key;
  if (algorithm == Algorithm::kEd25519Sha256) {
    if (raw->size() != 32) return InvalidArgument("an Ed25519 public key is 32 bytes");
    key.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                          reinterpret_cast<const unsigned char*>(raw->data()),
                                          raw->size()));
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(raw->data());
    key.reset(d2i_PUBKEY(nullptr, &p, static_cast<long>(raw->size())));
  }
  if (!key) return InvalidArgument("p= is not a public key");
  PT_ASSIGN_OR_RETURN(Algorithm found, AlgorithmOf(key.get()));
  if (found != algorithm) return InvalidArgument("p= holds a key of another type");
  return PublicKey(std::move(key), algorithm);
}

bool PublicKey::Verify(std::string_view data, std::string_view signature) const {
  std::unique_ptr<EVP_MD_CTX, ContextDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  std::string input;
  const EVP_MD* md = EVP_sha256();
  if (algorithm_ == Algorithm::kEd25519Sha256) {
    input = Sha256(data);
    data = input;
    md = nullptr;
  }
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key_.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

}  // namespace postern::dkim
