// Typed server configuration, read from one TOML file (docs/configuration.md).
// Every key is declared once in config.cc with its type, default and help
// text; Load() validates against those declarations and the reference
// document (docs/config-reference.md) is generated from them.
// A Config is an immutable value after Load(); share it by const reference.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace postern::config {

struct ServerConfig {
  std::string hostname;  // our name in greetings and Received: fields
  std::string data_dir;  // absolute after Load()
  std::string user;      // drop to this user after binding, when started as root
  std::string log_level;
  std::string log_file;      // absolute after Load(); empty = stderr
  int64_t shutdown_timeout;  // seconds
  int64_t io_threads;        // 0 = one per core
};

struct TlsConfig {
  std::string certificate;  // PEM chain, absolute after Load()
  std::string key;          // PEM private key, absolute after Load()
};

struct SmtpConfig {
  std::vector<std::string> listen;  // "ip:port" / "[ipv6]:port"
  int64_t max_message_size;
  int64_t max_recipients;
  int64_t max_command_line;
  int64_t max_data_line;
  int64_t command_timeout;  // seconds
  int64_t data_timeout;     // seconds
  int64_t max_errors;
  int64_t max_connections;
  int64_t max_connections_per_ip;
  int64_t max_hops;
  int64_t memory_limit;
  std::string bare_line_endings;  // "normalize" | "reject"
  bool vrfy;
  std::string recipient_delimiter;  // "" disables sub-addressing
};

// The keys IMAP and POP3 share: mail access on a plain port (STARTTLS/STLS)
// and an implicit-TLS one.
struct AccessConfig {
  std::vector<std::string> listen;      // STARTTLS/STLS (143, 110)
  std::vector<std::string> listen_tls;  // implicit TLS (993, 995)
  bool allow_plaintext_auth;
  int64_t max_connections;
  int64_t max_connections_per_ip;
  int64_t idle_timeout;        // seconds
  int64_t failed_login_delay;  // milliseconds
};

struct ImapConfig : AccessConfig {
  int64_t append_limit;  // bytes
};

using Pop3Config = AccessConfig;

// Message submission (RFC 6409) on 587 (STARTTLS) and 465 (implicit TLS,
// RFC 8314): authenticated users send mail through us. `idle_timeout` is the
// command timeout.
struct SubmissionConfig : AccessConfig {
  bool reveal_client_ip;  // put the client's address in our Received: field
};

struct QueueConfig {
  int64_t retry_min;       // seconds: first retry delay
  int64_t retry_max;       // seconds: backoff cap
  int64_t max_age;         // seconds: bounce after this long
  int64_t delivery_batch;  // queue entries delivered per transaction at most
  int64_t delay_warning;   // seconds; 0 = no delay warnings
};

// Outbound delivery to other hosts (delivery/outbound.h).
struct DeliveryConfig {
  int64_t remote_port;  // TCP port of remote MX hosts (25; tests use a high port)
  int64_t max_connections;
  int64_t max_connections_per_domain;
  int64_t messages_per_connection;
  int64_t connect_timeout;  // seconds
  int64_t command_timeout;  // seconds
  int64_t data_timeout;     // seconds: the reply to the end of DATA
  bool dane;
  bool mta_sts;
  int64_t mta_sts_port;       // HTTPS port of policy hosts (443; tests use a high port)
  std::string ca_file;        // extra trusted CAs (PEM), absolute after Load(); "" = system only
  std::string smarthost;      // "host:port" relay for everything (or smarthost_domains)
  std::string smarthost_tls;  // "starttls" | "none"
  std::string smarthost_user;
  std::string smarthost_password;
  std::vector<std::string> smarthost_domains;  // empty: every domain
};

struct StoreConfig {
  int64_t compression_level;  // zstd level for message blobs
  int64_t inline_max;         // bodies up to this (compressed) size live in the database
  int64_t parse_cache;        // bytes of memory for parses read back (store/parse_cache.h)
};

// Authentication, for every protocol (docs/authentication.md).
struct AuthConfig {
  int64_t scram_iterations;  // PBKDF2 rounds of new SCRAM-SHA-256 secrets
  // Failed logins over every protocol (sasl/guard.h).
  int64_t max_failures_per_ip;
  int64_t max_failures_per_account;
  int64_t failure_window;  // seconds
  int64_t block_time;      // seconds
};

// Name resolution for outbound delivery (dns/resolver.h, docs/dns.md).
struct DnsConfig {
  std::vector<std::string> resolvers;  // "ip" or "ip@port"; empty = /etc/resolv.conf
  bool dnssec;                         // validate with trust_anchor
  std::string trust_anchor;            // absolute after Load()
  int64_t timeout;                     // seconds, per query
  std::string static_zone;             // tests only: answer from this file alone; absolute
  bool static_zone_secure;             // report static answers as DNSSEC-validated
};

struct Config {
  std::string path;  // the file it was read from (absolute)
  ServerConfig server;
  TlsConfig tls;
  SmtpConfig smtp;
  ImapConfig imap;
  Pop3Config pop3;
  SubmissionConfig submission;
  QueueConfig queue;
  DeliveryConfig delivery;
  StoreConfig store;
  AuthConfig auth;
  DnsConfig dns;
};

// Reads and validates `path`. Relative paths inside are resolved against the
// file's directory. Errors name the file, the key and what to write instead.
Result<Config> Load(const std::string& path);

// Parses TOML text; `base_dir` resolves relative paths. For tests.
Result<Config> Parse(const std::string& toml_text, const std::string& base_dir,
                     const std::string& source_name = "config");

// The configuration file to use: `flag` if set, else $POSTERN_CONFIG, else
// ./postern.toml, else /etc/postern/postern.toml (the first that exists).
// Errors explain the search order and point at `postern init`.
Result<std::string> FindConfigFile(const std::string& flag);

// Markdown reference of every key, generated from the declarations.
std::string ReferenceMarkdown();

// Parses "50M", "4 KiB", "1024" into bytes; "30s", "5m", "2h", "5d", "90" into seconds.
Result<int64_t> ParseByteSize(const std::string& text);
Result<int64_t> ParseDuration(const std::string& text);

}  // namespace postern::config
