#include "net/tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <vector>

namespace postern::net {
namespace {

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

bool AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

}  // namespace

Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const std::string& certificate_path, const std::string& key_path) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::no_compression | ssl::context::single_dh_use);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_cipher_list(native, "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES:!CAMELLIA:!ARIA");
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(certificate_path, ec);
  if (ec) {
    return InvalidArgument("cannot load the TLS certificate " + certificate_path + ": " +
                           ec.message() + " (check tls.certificate in the config)");
  }
  ctx->use_private_key_file(key_path, ssl::context::pem, ec);
  if (ec) {
    return InvalidArgument("cannot load the TLS key " + key_path + ": " + ec.message() +
                           " (check tls.key in the config)");
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return InvalidArgument("the TLS key " + key_path + " does not match the certificate " +
                           certificate_path);
  }
  return ctx;
}

Status GenerateSelfSignedCertificate(const std::string& hostname, const std::string& cert_path,
                                     const std::string& key_path, int days) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  if (!key) return Internal("cannot generate an RSA key: " + OpenSslError());
  X509* cert = X509_new();
  Status status;
  auto fail = [&](const std::string& what) { status = Internal(what + ": " + OpenSslError()); };
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), static_cast<long>(std::time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), static_cast<long>(days) * 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(hostname.c_str()), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("Postern self-signed"), -1, -1,
                             0);
  X509_set_issuer_name(cert, name);
  std::string san = "DNS:" + hostname + ",DNS:localhost,IP:127.0.0.1,IP:::1";
  if (!AddExtension(cert, NID_subject_alt_name, san.c_str()) ||
      !AddExtension(cert, NID_basic_constraints, "critical,CA:FALSE") ||
      !AddExtension(cert, NID_ext_key_usage, "serverAuth")) {
    fail("cannot add certificate extensions");
  } else if (X509_sign(cert, key, EVP_sha256()) == 0) {
    fail("cannot sign the certificate");
  }
  if (status.ok()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(cert_path).parent_path(), ec);
    std::filesystem::create_directories(std::filesystem::path(key_path).parent_path(), ec);
    mode_t old = umask(077);
    FILE* kf = std::fopen(key_path.c_str(), "w");
    umask(old);
    FILE* cf = std::fopen(cert_path.c_str(), "w");
    if (!kf || !cf) {
      status = Unavailable("cannot write " + (kf ? cert_path : key_path));
    } else if (PEM_write_PrivateKey(kf, key, nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
               PEM_write_X509(cf, cert) != 1) {
      fail("cannot write PEM files");
    }
    if (kf) std::fclose(kf);
    if (cf) std::fclose(cf);
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return status;
}

namespace {

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// A certificate's DNS identifiers: subjectAltName dNSNames, or the subject
// CNs when there are none (RFC 6125 §6.4.4).
std::vector<std::string> CertificateNames(X509* certificate) {
  std::vector<std::string> names;
  auto* sans = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* general = sk_GENERAL_NAME_value(sans, i);
    if (general->type != GEN_DNS) continue;
    const ASN1_IA5STRING* dns = general->d.dNSName;
    names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                       static_cast<size_t>(ASN1_STRING_length(dns)));
  }
  GENERAL_NAMES_free(sans);
  if (!names.empty()) return names;
  X509_NAME* subject = X509_get_subject_name(certificate);
  for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) {
    const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
    names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(cn)),
                       static_cast<size_t>(ASN1_STRING_length(cn)));
  }
  return names;
}

// "a.example.net" without its first label: "example.net" ("" if only one).
std::string_view ParentDomain(std::string_view name) {
  size_t dot = name.find('.');
  return dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
}

bool IsWildcard(std::string_view name) { return name.size() > 2 && name.starts_with("*."); }

// One certificate identifier against one reference name or pattern.
bool NameMatches(std::string_view presented, std::string_view reference) {
  if (presented.empty() || reference.empty()) return false;
  if (presented.find('\0') != std::string_view::npos) return false;
  if (presented.back() == '.') presented.remove_suffix(1);
  if (reference.back() == '.') reference.remove_suffix(1);
  if (EqualsIgnoringCase(presented, reference)) return true;
  const bool presented_wild = IsWildcard(presented);
  const bool reference_wild = IsWildcard(reference);
  if (presented_wild == reference_wild) return false;  // both exact, or two different wildcards
  std::string_view wild = presented_wild ? presented : reference;
  std::string_view exact = presented_wild ? reference : presented;
  std::string_view parent = ParentDomain(exact);
  // "*.net" style wildcards over a public suffix are not honoured: at least
  // two labels after the star.
  const std::string_view suffix = wild.substr(2);
  if (suffix.find('.') == std::string_view::npos) return false;
  if (exact.starts_with("*") || ParentDomain(exact).empty()) return false;
  return EqualsIgnoringCase(parent, suffix);
}

}  // namespace

bool CertificateMatchesName(X509* certificate, std::string_view name) {
  for (const std::string& presented : CertificateNames(certificate)) {
    if (NameMatches(presented, name)) return true;
  }
  return false;
}

}  // namespace postern::net
