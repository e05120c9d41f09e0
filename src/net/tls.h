// TLS server contexts (TLS 1.2 and 1.3 only) and the self-signed certificate
// `postern init` creates. Contexts are immutable after creation and shared by
// all connections (thread-safe in OpenSSL 3).
#pragma once

#include <openssl/x509.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace postern::net {

// Loads the PEM chain and key; errors name the file and what to do.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const std::string& certificate_path, const std::string& key_path);

// Writes a new RSA-2048 key and a self-signed certificate for `hostname`
// (also valid for localhost and 127.0.0.1), valid for `days`.
Status GenerateSelfSignedCertificate(const std::string& hostname, const std::string& cert_path,
                                     const std::string& key_path, int days = 3650);

// True if `certificate` is valid for `name` (DNS names of subjectAltName, or
// the subject CN when there are none). The certificate's wildcards cover the
// whole leftmost label only (RFC 6125 §6.4.3). A `name` of the form
// "*.example.net" is an MTA-STS pattern (RFC 8461 §4.1): it matches a
// certificate name with exactly one label before "example.net", or the same
// wildcard. Case-insensitive.
bool CertificateMatchesName(X509* certificate, std::string_view name);

}  // namespace postern::net
