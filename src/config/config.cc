#include "config/config.h"

#include <arpa/inet.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <variant>

#include "base/strings.h"

namespace postern::config {
namespace {

namespace fs = std::filesystem;

enum class Type { kString, kPath, kInt, kBytes, kDuration, kBool, kStringList, kEnum };

using Value = std::variant<std::string, int64_t, bool, std::vector<std::string>>;

struct Key {
  const char* section;
  const char* name;
  Type type;
  const char* default_toml;  // the default as a TOML value
  const char* help;
  const char* choices;  // kEnum: "a|b|c"
  std::function<void(Config&, const Value&)> set;
};

template <typename T>
const T& As(const Value& v) {
  return std::get<T>(v);
}

// The declarations. Order is the order of the reference document.
const std::vector<Key>& Keys() {
  static const std::vector<Key> keys = {
      {"server", "hostname", Type::kString, R"("")",
       "Fully qualified name of this server, used in the SMTP greeting, EHLO and Received: "
       "fields. Empty means the machine's host name.",
       nullptr, [](Config& c, const Value& v) { c.server.hostname = As<std::string>(v); }},
      {"server", "data_dir", Type::kPath, R"("data")",
       "Where the store lives (database, message blobs, spool). Relative to the config file.",
       nullptr, [](Config& c, const Value& v) { c.server.data_dir = As<std::string>(v); }},
      {"server", "user", Type::kString, R"("")",
       "When started as root, switch to this user after binding the listeners. Empty keeps "
       "the current user (a warning is logged when that is root).",
       nullptr, [](Config& c, const Value& v) { c.server.user = As<std::string>(v); }},
      {"server", "log_level", Type::kEnum, R"("info")", "Log verbosity.", "debug|info|warn|error",
       [](Config& c, const Value& v) { c.server.log_level = As<std::string>(v); }},
      {"server", "log_file", Type::kPath, R"("")",
       "Log to this file instead of standard error. Relative to the config file.", nullptr,
       [](Config& c, const Value& v) { c.server.log_file = As<std::string>(v); }},
      {"server", "shutdown_timeout", Type::kDuration, R"("30s")",
       "On SIGTERM, how long running sessions may take to finish before they are closed.", nullptr,
       [](Config& c, const Value& v) { c.server.shutdown_timeout = As<int64_t>(v); }},
      {"server", "io_threads", Type::kInt, "0",
       "Threads running network sessions. 0 means one per CPU core.", nullptr,
       [](Config& c, const Value& v) { c.server.io_threads = As<int64_t>(v); }},

      {"tls", "certificate", Type::kPath, R"("tls/cert.pem")",
       "PEM certificate chain offered by STARTTLS. Relative to the config file.", nullptr,
       [](Config& c, const Value& v) { c.tls.certificate = As<std::string>(v); }},
      {"tls", "key", Type::kPath, R"("tls/key.pem")",
       "PEM private key of the certificate. Relative to the config file.", nullptr,
       [](Config& c, const Value& v) { c.tls.key = As<std::string>(v); }},

      {"smtp", "listen", Type::kStringList, R"(["0.0.0.0:25"])",
       "Addresses of the inbound SMTP (MX) listener, as \"ip:port\" or \"[ipv6]:port\".", nullptr,
       [](Config& c, const Value& v) { c.smtp.listen = As<std::vector<std::string>>(v); }},
      {"smtp", "max_message_size", Type::kBytes, R"("50M")",
       "Largest message accepted. Announced in EHLO (SIZE, RFC 1870); larger messages get "
       "552 5.3.4.",
       nullptr, [](Config& c, const Value& v) { c.smtp.max_message_size = As<int64_t>(v); }},
      {"smtp", "max_recipients", Type::kInt, "1000",
       "Recipients accepted per message; further RCPT commands get 452 4.5.3 (RFC 5321 "
       "§4.5.3.1.10) and the client sends them in another transaction.",
       nullptr, [](Config& c, const Value& v) { c.smtp.max_recipients = As<int64_t>(v); }},
      {"smtp", "max_command_line", Type::kBytes, "2048",
       "Longest command line, CRLF included (RFC 5321 §4.5.3.1.4 sets 512 before extensions). "
       "Longer lines get 500 5.5.2.",
       nullptr, [](Config& c, const Value& v) { c.smtp.max_command_line = As<int64_t>(v); }},
      {"smtp", "max_data_line", Type::kBytes, R"("1M")",
       "Longest line inside a message. A message with a longer line is refused with 554 5.6.0.",
       nullptr, [](Config& c, const Value& v) { c.smtp.max_data_line = As<int64_t>(v); }},
      {"smtp", "command_timeout", Type::kDuration, R"("5m")",
       "How long to wait for the next command (RFC 5321 §4.5.3.2.7: at least 5 minutes).", nullptr,
       [](Config& c, const Value& v) { c.smtp.command_timeout = As<int64_t>(v); }},
      {"smtp", "data_timeout", Type::kDuration, R"("5m")",
       "How long to wait for each block of message data (RFC 5321 §4.5.3.2.5/6).", nullptr,
       [](Config& c, const Value& v) { c.smtp.data_timeout = As<int64_t>(v); }},
      {"smtp", "max_errors", Type::kInt, "20",
       "Protocol errors (bad commands, unknown recipients) tolerated in one session before "
       "it is closed with 421 4.7.0.",
       nullptr, [](Config& c, const Value& v) { c.smtp.max_errors = As<int64_t>(v); }},
      {"smtp", "max_connections", Type::kInt, "1000",
       "Concurrent SMTP connections overall; more are greeted with 421 4.7.0 and closed.", nullptr,
       [](Config& c, const Value& v) { c.smtp.max_connections = As<int64_t>(v); }},
      {"smtp", "max_connections_per_ip", Type::kInt, "100",
       "Concurrent SMTP connections from one IP address (IPv6: one /64).", nullptr,
       [](Config& c, const Value& v) { c.smtp.max_connections_per_ip = As<int64_t>(v); }},
      {"smtp", "max_hops", Type::kInt, "50",
       "A message with more Received: fields is refused with 554 5.4.6 as a mail loop "
       "(RFC 5321 §6.3).",
       nullptr, [](Config& c, const Value& v) { c.smtp.max_hops = As<int64_t>(v); }},
      {"smtp", "memory_limit", Type::kBytes, R"("512M")",
       "Message data all SMTP sessions together may hold in memory while receiving. Past it, "
       "messages get 452 4.3.1 and their senders retry later, instead of the server running "
       "out of memory.",
       nullptr, [](Config& c, const Value& v) { c.smtp.memory_limit = As<int64_t>(v); }},
      {"smtp", "bare_line_endings", Type::kEnum, R"("normalize")",
       "What to do with a bare CR or LF inside DATA (they never end a message, see SMTP "
       "smuggling): \"normalize\" stores them as CRLF, \"reject\" refuses the message with "
       "554 5.6.0.",
       "normalize|reject",
       [](Config& c, const Value& v) { c.smtp.bare_line_endings = As<std::string>(v); }},
      {"smtp", "vrfy", Type::kBool, "false",
       "Answer VRFY truthfully. Off by default: VRFY then answers 252 and reveals nothing.",
       nullptr, [](Config& c, const Value& v) { c.smtp.vrfy = As<bool>(v); }},
      {"smtp", "recipient_delimiter", Type::kString, R"("+")",
       "Sub-addressing: mail to user+tag@domain goes to user@domain. Empty turns it off.", nullptr,
       [](Config& c, const Value& v) { c.smtp.recipient_delimiter = As<std::string>(v); }},

      {"imap", "listen", Type::kStringList, R"(["0.0.0.0:143"])",
       "Addresses of the IMAP listener (STARTTLS offered; RFC 9051), as \"ip:port\". Empty "
       "turns it off.",
       nullptr, [](Config& c, const Value& v) { c.imap.listen = As<std::vector<std::string>>(v); }},
      {"imap", "listen_tls", Type::kStringList, R"(["0.0.0.0:993"])",
       "Addresses of the IMAP listener with implicit TLS (RFC 8314). Empty turns it off.", nullptr,
       [](Config& c, const Value& v) { c.imap.listen_tls = As<std::vector<std::string>>(v); }},
      {"imap", "allow_plaintext_auth", Type::kBool, "false",
       "Allow LOGIN and AUTHENTICATE before TLS. Off: clients see LOGINDISABLED until they "
       "use STARTTLS (or port 993), so passwords never cross the network in clear.",
       nullptr, [](Config& c, const Value& v) { c.imap.allow_plaintext_auth = As<bool>(v); }},
      {"imap", "max_connections", Type::kInt, "10000",
       "Concurrent IMAP connections overall (each idle session costs a few KiB).", nullptr,
       [](Config& c, const Value& v) { c.imap.max_connections = As<int64_t>(v); }},
      {"imap", "max_connections_per_ip", Type::kInt, "50",
       "Concurrent IMAP connections from one IP address (IPv6: one /64).", nullptr,
       [](Config& c, const Value& v) { c.imap.max_connections_per_ip = As<int64_t>(v); }},
      {"imap", "idle_timeout", Type::kDuration, R"("30m")",
       "A session silent this long is logged out (RFC 9051 §5.4: at least 30 minutes).", nullptr,
       [](Config& c, const Value& v) { c.imap.idle_timeout = As<int64_t>(v); }},
      {"imap", "append_limit", Type::kBytes, R"("50M")",
       "Largest message APPEND accepts, and largest literal in any command (APPENDLIMIT, "
       "RFC 7889).",
       nullptr, [](Config& c, const Value& v) { c.imap.append_limit = As<int64_t>(v); }},
      {"imap", "failed_login_delay", Type::kDuration, R"("2s")",
       "Pause after a failed login, times the failures so far in the session; after three the "
       "session is closed.",
       nullptr,
       [](Config& c, const Value& v) { c.imap.failed_login_delay = As<int64_t>(v) * 1000; }},

      {"pop3", "listen", Type::kStringList, R"(["0.0.0.0:110"])",
       "Addresses of the POP3 listener (STLS offered; RFC 1939, RFC 2595), as \"ip:port\". "
       "Empty turns it off.",
       nullptr, [](Config& c, const Value& v) { c.pop3.listen = As<std::vector<std::string>>(v); }},
      {"pop3", "listen_tls", Type::kStringList, R"(["0.0.0.0:995"])",
       "Addresses of the POP3 listener with implicit TLS (RFC 8314). Empty turns it off.", nullptr,
       [](Config& c, const Value& v) { c.pop3.listen_tls = As<std::vector<std::string>>(v); }},
      {"pop3", "allow_plaintext_auth", Type::kBool, "false",
       "Allow USER/PASS and AUTH before TLS. Off: they are refused with -ERR [AUTH] until the "
       "client uses STLS (or port 995), so passwords never cross the network in clear.",
       nullptr, [](Config& c, const Value& v) { c.pop3.allow_plaintext_auth = As<bool>(v); }},
      {"pop3", "max_connections", Type::kInt, "1000",
       "Concurrent POP3 connections overall; more get -ERR [SYS/TEMP] and are closed.", nullptr,
       [](Config& c, const Value& v) { c.pop3.max_connections = As<int64_t>(v); }},
      {"pop3", "max_connections_per_ip", Type::kInt, "20",
       "Concurrent POP3 connections from one IP address (IPv6: one /64).", nullptr,
       [](Config& c, const Value& v) { c.pop3.max_connections_per_ip = As<int64_t>(v); }},
      {"pop3", "idle_timeout", Type::kDuration, R"("10m")",
       "A session silent this long is closed, deleting nothing (RFC 1939 §3: at least 10 "
       "minutes).",
       nullptr, [](Config& c, const Value& v) { c.pop3.idle_timeout = As<int64_t>(v); }},
      {"pop3", "failed_login_delay", Type::kDuration, R"("2s")",
       "Pause after a failed login, times the failures so far in the session; after three the "
       "session is closed.",
       nullptr,
       [](Config& c, const Value& v) { c.pop3.failed_login_delay = As<int64_t>(v) * 1000; }},

      {"submission", "listen", Type::kStringList, R"(["0.0.0.0:587"])",
       "Addresses of the message submission listener (STARTTLS offered; RFC 6409), where "
       "users' mail clients send mail. Empty turns it off.",
       nullptr,
       [](Config& c, const Value& v) { c.submission.listen = As<std::vector<std::string>>(v); }},
      {"submission", "listen_tls", Type::kStringList, R"(["0.0.0.0:465"])",
       "Addresses of the submission listener with implicit TLS (RFC 8314, preferred). Empty "
       "turns it off.",
       nullptr,
       [](Config& c, const Value& v) {
         c.submission.listen_tls = As<std::vector<std::string>>(v);
       }},
      {"submission", "allow_plaintext_auth", Type::kBool, "false",
       "Offer AUTH before TLS. Off: AUTH appears only after STARTTLS (or on port 465), so "
       "passwords never cross the network in clear.",
       nullptr, [](Config& c, const Value& v) { c.submission.allow_plaintext_auth = As<bool>(v); }},
      {"submission", "max_connections", Type::kInt, "1000",
       "Concurrent submission connections overall.", nullptr,
       [](Config& c, const Value& v) { c.submission.max_connections = As<int64_t>(v); }},
      {"submission", "max_connections_per_ip", Type::kInt, "20",
       "Concurrent submission connections from one IP address (IPv6: one /64).", nullptr,
       [](Config& c, const Value& v) { c.submission.max_connections_per_ip = As<int64_t>(v); }},
      {"submission", "idle_timeout", Type::kDuration, R"("5m")",
       "A session waiting this long for a command is closed (RFC 5321 §4.5.3.2.7).", nullptr,
       [](Config& c, const Value& v) { c.submission.idle_timeout = As<int64_t>(v); }},
      {"submission", "failed_login_delay", Type::kDuration, R"("2s")",
       "Pause after a failed AUTH, times the failures so far in the session; after three the "
       "session is closed.",
       nullptr,
       [](Config& c, const Value& v) { c.submission.failed_login_delay = As<int64_t>(v) * 1000; }},
      {"submission", "reveal_client_ip", Type::kBool, "false",
       "Name the sending client's IP address in the Received: field of submitted mail. Off: "
       "the field says only that the message was submitted with authentication, so a user's "
       "home or office address does not travel with every message.",
       nullptr, [](Config& c, const Value& v) { c.submission.reveal_client_ip = As<bool>(v); }},

      {"queue", "retry_min", Type::kDuration, R"("1m")",
       "First delay before a temporarily failed delivery is retried; it doubles each time.",
       nullptr, [](Config& c, const Value& v) { c.queue.retry_min = As<int64_t>(v); }},
      {"queue", "retry_max", Type::kDuration, R"("1h")", "Longest delay between retries.", nullptr,
       [](Config& c, const Value& v) { c.queue.retry_max = As<int64_t>(v); }},
      {"queue", "max_age", Type::kDuration, R"("5d")",
       "A message still undeliverable after this long is returned to its sender (a DSN "
       "bounce, RFC 3464).",
       nullptr, [](Config& c, const Value& v) { c.queue.max_age = As<int64_t>(v); }},
      {"queue", "delivery_batch", Type::kInt, "256",
       "Most queue entries delivered together in one store transaction.", nullptr,
       [](Config& c, const Value& v) { c.queue.delivery_batch = As<int64_t>(v); }},

      {"queue", "delay_warning", Type::kDuration, R"("4h")",
       "Tell the sender when a message has waited this long without being delivered (a DSN "
       "with Action: delayed, RFC 3464), once per recipient, unless the sender asked for no "
       "delay notices (NOTIFY without DELAY). 0 sends none.",
       nullptr, [](Config& c, const Value& v) { c.queue.delay_warning = As<int64_t>(v); }},

      {"delivery", "remote_port", Type::kInt, "25",
       "TCP port of the mail exchangers of other domains. Leave at 25; tests point it at a "
       "peer MTA on a loopback high port.",
       nullptr, [](Config& c, const Value& v) { c.delivery.remote_port = As<int64_t>(v); }},
      {"delivery", "max_connections", Type::kInt, "100",
       "Outbound SMTP connections open at once, to all destinations together.", nullptr,
       [](Config& c, const Value& v) { c.delivery.max_connections = As<int64_t>(v); }},
      {"delivery", "max_connections_per_domain", Type::kInt, "10",
       "Outbound SMTP connections open at once to one destination domain (or the smarthost).",
       nullptr,
       [](Config& c, const Value& v) { c.delivery.max_connections_per_domain = As<int64_t>(v); }},
      {"delivery", "messages_per_connection", Type::kInt, "100",
       "Messages sent over one connection (RSET between them) before it is closed.", nullptr,
       [](Config& c, const Value& v) { c.delivery.messages_per_connection = As<int64_t>(v); }},
      {"delivery", "connect_timeout", Type::kDuration, R"("30s")",
       "How long to wait for a TCP connection to a remote host.", nullptr,
       [](Config& c, const Value& v) { c.delivery.connect_timeout = As<int64_t>(v); }},
      {"delivery", "command_timeout", Type::kDuration, R"("5m")",
       "How long to wait for the greeting and for each reply (RFC 5321 §4.5.3.2).", nullptr,
       [](Config& c, const Value& v) { c.delivery.command_timeout = As<int64_t>(v); }},
      {"delivery", "data_timeout", Type::kDuration, R"("10m")",
       "How long to wait for the reply after a whole message (RFC 5321 §4.5.3.2.6).", nullptr,
       [](Config& c, const Value& v) { c.delivery.data_timeout = As<int64_t>(v); }},
      {"delivery", "dane", Type::kBool, "true",
       "Authenticate remote servers with DANE (RFC 7672) when their TLSA records are "
       "DNSSEC-validated; a server that fails the check is not used.",
       nullptr, [](Config& c, const Value& v) { c.delivery.dane = As<bool>(v); }},
      {"delivery", "mta_sts", Type::kBool, "true",
       "Fetch, cache and obey the MTA-STS policies of recipient domains (RFC 8461): with "
       "mode enforce, mail goes only to listed MX hosts over verified TLS, or waits.",
       nullptr, [](Config& c, const Value& v) { c.delivery.mta_sts = As<bool>(v); }},
      {"delivery", "mta_sts_port", Type::kInt, "443",
       "HTTPS port of MTA-STS policy hosts. Leave at 443; tests use a high port.", nullptr,
       [](Config& c, const Value& v) { c.delivery.mta_sts_port = As<int64_t>(v); }},
      {"delivery", "ca_file", Type::kPath, R"("")",
       "Extra certificate authorities (PEM) trusted when verifying remote servers, besides the "
       "system's. Relative to the config file.",
       nullptr, [](Config& c, const Value& v) { c.delivery.ca_file = As<std::string>(v); }},
      {"delivery", "smarthost", Type::kString, R"("")",
       "Relay outbound mail through this server (\"host:port\", e.g. "
       "\"smtp.provider.example:587\") instead of the recipients' MX hosts: for networks "
       "where port 25 is blocked. Empty: deliver directly.",
       nullptr, [](Config& c, const Value& v) { c.delivery.smarthost = As<std::string>(v); }},
      {"delivery", "smarthost_tls", Type::kEnum, R"("starttls")",
       "TLS to the smarthost: STARTTLS (a submission port, 587), tls (implicit TLS from the "
       "first byte, RFC 8314: a submissions port, 465), or none (only for a relay on this "
       "machine or a trusted network). With STARTTLS or tls its certificate must verify.",
       "starttls|tls|none",
       [](Config& c, const Value& v) { c.delivery.smarthost_tls = As<std::string>(v); }},
      {"delivery", "smarthost_user", Type::kString, R"("")",
       "User name for AUTH at the smarthost; empty: no authentication.", nullptr,
       [](Config& c, const Value& v) { c.delivery.smarthost_user = As<std::string>(v); }},
      {"delivery", "smarthost_password", Type::kString, R"("")",
       "Password for AUTH at the smarthost.", nullptr,
       [](Config& c, const Value& v) { c.delivery.smarthost_password = As<std::string>(v); }},
      {"delivery", "smarthost_domains", Type::kStringList, "[]",
       "Relay only mail for these recipient domains through the smarthost; empty: all mail.",
       nullptr,
       [](Config& c,
          const Value& v) { c.delivery.smarthost_domains = As<std::vector<std::string>>(v); }},

      {"store", "compression_level", Type::kInt, "3",
       "zstd level for stored messages (1 fastest … 19 smallest).", nullptr,
       [](Config& c, const Value& v) { c.store.compression_level = As<int64_t>(v); }},
      {"store", "inline_max", Type::kBytes, R"("64K")",
       "Message bodies up to this size (compressed) are kept inside the database, so one "
       "commit makes a message durable; larger ones are files under data/blobs. 0 puts every "
       "body in a file.",
       nullptr, [](Config& c, const Value& v) { c.store.inline_max = As<int64_t>(v); }},
      {"store", "parse_cache", Type::kBytes, R"("32M")",
       "Memory for the structures and headers of messages that IMAP reads (ENVELOPE, "
       "BODYSTRUCTURE, header fields), so that busy mailboxes serve them without reading the "
       "database again. 0 turns it off.",
       nullptr, [](Config& c, const Value& v) { c.store.parse_cache = As<int64_t>(v); }},

      {"auth", "scram_iterations", Type::kInt, "4096",
       "PBKDF2 iterations of the SCRAM-SHA-256 secrets stored when a password is set, or at a "
       "user's next plaintext login when theirs have fewer (RFC 7677: at least 4096, at most "
       "1000000). Clients repeat this work at every SCRAM login.",
       nullptr, [](Config& c, const Value& v) { c.auth.scram_iterations = As<int64_t>(v); }},
      {"auth", "max_failures_per_ip", Type::kInt, "10",
       "Failed logins (IMAP, POP3, submission together) from one IP address (IPv6: one /64) "
       "within auth.failure_window after which that address may not log in for "
       "auth.block_time; its attempts are refused without checking any password.",
       nullptr, [](Config& c, const Value& v) { c.auth.max_failures_per_ip = As<int64_t>(v); }},
      {"auth", "max_failures_per_account", Type::kInt, "30",
       "Failed logins for one account, from anywhere, within auth.failure_window after which "
       "the account is closed for auth.block_time to every address it has not logged in from "
       "before (guessing spread over many addresses stops; its owner still gets in).",
       nullptr,
       [](Config& c, const Value& v) { c.auth.max_failures_per_account = As<int64_t>(v); }},
      {"auth", "failure_window", Type::kDuration, R"("10m")",
       "How long a failed login counts towards the limits above.", nullptr,
       [](Config& c, const Value& v) { c.auth.failure_window = As<int64_t>(v); }},
      {"auth", "block_time", Type::kDuration, R"("15m")",
       "How long an address or account stays blocked once a limit is reached.", nullptr,
       [](Config& c, const Value& v) { c.auth.block_time = As<int64_t>(v); }},

      {"dns", "resolvers", Type::kStringList, "[]",
       "DNS servers to forward queries to, as \"ip\" or \"ip@port\". Empty uses the "
       "name servers of /etc/resolv.conf. Best is a validating resolver on this machine "
       "(unbound, or systemd-resolved with DNSSEC): queries then never cross the network "
       "unprotected.",
       nullptr,
       [](Config& c, const Value& v) { c.dns.resolvers = As<std::vector<std::string>>(v); }},
      {"dns", "dnssec", Type::kBool, "true",
       "Validate answers with DNSSEC from dns.trust_anchor. Needed for DANE (RFC 7672): "
       "unvalidated TLSA records are never used.",
       nullptr, [](Config& c, const Value& v) { c.dns.dnssec = As<bool>(v); }},
      {"dns", "trust_anchor", Type::kPath, R"("/usr/share/dns/root.key")",
       "The DNSSEC root trust anchor, in zone-file syntax (Debian package dns-root-data).", nullptr,
       [](Config& c, const Value& v) { c.dns.trust_anchor = As<std::string>(v); }},
      {"dns", "timeout", Type::kDuration, R"("10s")",
       "How long one query may take; then it counts as a temporary failure and the delivery "
       "is retried later.",
       nullptr, [](Config& c, const Value& v) { c.dns.timeout = As<int64_t>(v); }},
      {"dns", "static_zone", Type::kPath, R"("")",
       "For tests only: answer every query from this file, one resource record per line in "
       "zone-file syntax (`example.net. 300 IN MX 10 mx.example.net.`, `;` starts a comment), "
       "and never send a query anywhere. Names not in the file do not exist. Relative to the "
       "config file.",
       nullptr, [](Config& c, const Value& v) { c.dns.static_zone = As<std::string>(v); }},
      {"dns", "static_zone_secure", Type::kBool, "false",
       "For tests only: report answers from dns.static_zone as DNSSEC-validated (to exercise "
       "DANE).",
       nullptr, [](Config& c, const Value& v) { c.dns.static_zone_secure = As<bool>(v); }},
  };
  return keys;
}

const char* TypeName(Type t) {
  switch (t) {
    case Type::kString:
      return "string";
    case Type::kPath:
      return "path";
    case Type::kInt:
      return "integer";
    case Type::kBytes:
      return "size";
    case Type::kDuration:
      return "duration";
    case Type::kBool:
      return "boolean";
    case Type::kStringList:
      return "list of strings";
    case Type::kEnum:
      return "one of";
  }
  return "?";
}

// Converts one TOML node to the key's type, or explains what is wrong.
Result<Value> Convert(const Key& key, const toml::node& node, const std::string& base_dir) {
  std::string where = std::string(key.section) + "." + key.name;
  switch (key.type) {
    case Type::kString:
    case Type::kPath:
    case Type::kEnum: {
      auto s = node.value<std::string>();
      if (!s) return InvalidArgument(where + " must be a string in quotes");
      if (key.type == Type::kPath && !s->empty() && (*s)[0] != '/') {
        *s = (fs::path(base_dir) / *s).lexically_normal().string();
      }
      if (key.type == Type::kEnum) {
        auto choices = Split(key.choices, '|');
        bool found = false;
        for (auto c : choices) found = found || c == *s;
        if (!found) {
          std::string list(key.choices);
          for (char& ch : list) ch = ch == '|' ? ',' : ch;
          return InvalidArgument(where + " is \"" + *s + "\"; use one of: " + list);
        }
      }
      return Value(*s);
    }
    case Type::kInt: {
      auto i = node.value<int64_t>();
      if (!i || node.is_floating_point()) return InvalidArgument(where + " must be an integer");
      if (*i < 0) return InvalidArgument(where + " must not be negative");
      return Value(*i);
    }
    case Type::kBytes:
    case Type::kDuration: {
      std::string text;
      if (node.is_integer()) {
        text = std::to_string(*node.value<int64_t>());
      } else if (auto s = node.value<std::string>()) {
        text = *s;
      } else {
        return InvalidArgument(where + (key.type == Type::kBytes
                                            ? " must be a size like 1024 or \"50M\""
                                            : " must be a duration like 30 or \"5m\""));
      }
      auto r = key.type == Type::kBytes ? ParseByteSize(text) : ParseDuration(text);
      if (!r.ok()) return r.status().WithContext(where);
      return Value(*r);
    }
    case Type::kBool: {
      auto b = node.value<bool>();
      if (!b) return InvalidArgument(where + " must be true or false");
      return Value(*b);
    }
    case Type::kStringList: {
      const toml::array* arr = node.as_array();
      if (!arr) return InvalidArgument(where + " must be a list of strings: [\"a\", \"b\"]");
      std::vector<std::string> out;
      for (const auto& el : *arr) {
        auto s = el.value<std::string>();
        if (!s) return InvalidArgument(where + " must contain only strings");
        out.push_back(*s);
      }
      return Value(out);
    }
  }
  return Internal("unhandled type");
}

// Levenshtein distance, for "did you mean" suggestions.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Suggest(const std::string& unknown) {
  std::string best;
  size_t best_d = 4;
  for (const Key& k : Keys()) {
    std::string full = std::string(k.section) + "." + k.name;
    size_t d = std::min(EditDistance(unknown, full), EditDistance(unknown, k.name) + 1);
    if (d < best_d) {
      best_d = d;
      best = full;
    }
  }
  return best.empty() ? "" : " (did you mean " + best + "?)";
}

// "ip" or "ip@port", the forms libunbound's ub_ctx_set_fwd takes.
bool ValidResolverAddress(const std::string& text) {
  std::string address = text;
  if (size_t at = text.find('@'); at != std::string::npos) {
    address = text.substr(0, at);
    std::string port = text.substr(at + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) == 0 ||
        std::stoi(port) > 65535) {
      return false;
    }
  }
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, address.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, address.c_str(), buf) == 1;
}

Status Validate(Config& c) {
  if (c.server.hostname.empty()) {
    char buf[256] = {0};
    if (gethostname(buf, sizeof buf - 1) == 0) c.server.hostname = buf;
    if (c.server.hostname.empty()) c.server.hostname = "localhost";
  }
  if (c.smtp.max_message_size < 1024) {
    return InvalidArgument("smtp.max_message_size must be at least 1K");
  }
  if (c.smtp.max_recipients < 1) return InvalidArgument("smtp.max_recipients must be at least 1");
  if (c.smtp.max_command_line < 512) {
    return InvalidArgument("smtp.max_command_line must be at least 512 (RFC 5321 §4.5.3.1.4)");
  }
  if (c.smtp.max_data_line < 1000) {
    return InvalidArgument("smtp.max_data_line must be at least 1000 (RFC 5321 §4.5.3.1.6)");
  }
  if (c.smtp.command_timeout < 1 || c.smtp.data_timeout < 1) {
    return InvalidArgument("smtp timeouts must be at least 1s");
  }
  if (c.smtp.max_connections < 1 || c.smtp.max_connections_per_ip < 1) {
    return InvalidArgument("smtp connection limits must be at least 1");
  }
  if (c.smtp.recipient_delimiter.size() > 1) {
    return InvalidArgument("smtp.recipient_delimiter must be one character or empty");
  }
  if (c.pop3.idle_timeout < 600) {
    return InvalidArgument("pop3.idle_timeout must be at least 10m (RFC 1939 §3)");
  }
  if (c.pop3.max_connections < 1 || c.pop3.max_connections_per_ip < 1) {
    return InvalidArgument("pop3 connection limits must be at least 1");
  }
  if (c.submission.idle_timeout < 60) {
    return InvalidArgument("submission.idle_timeout must be at least 1m");
  }
  if (c.submission.max_connections < 1 || c.submission.max_connections_per_ip < 1) {
    return InvalidArgument("submission connection limits must be at least 1");
  }
  if (c.queue.retry_min < 1 || c.queue.retry_max < c.queue.retry_min) {
    return InvalidArgument("queue.retry_max must be at least queue.retry_min (and both >= 1s)");
  }
  if (c.queue.delivery_batch < 1) return InvalidArgument("queue.delivery_batch must be >= 1");
  if (c.queue.delay_warning < 0) return InvalidArgument("queue.delay_warning must be >= 0");
  if (c.delivery.remote_port < 1 || c.delivery.remote_port > 65535 || c.delivery.mta_sts_port < 1 ||
      c.delivery.mta_sts_port > 65535) {
    return InvalidArgument("delivery.remote_port and delivery.mta_sts_port must be TCP ports");
  }
  if (c.delivery.max_connections < 1 || c.delivery.max_connections_per_domain < 1 ||
      c.delivery.messages_per_connection < 1) {
    return InvalidArgument(
        "delivery.max_connections, max_connections_per_domain and messages_per_connection "
        "must be at least 1");
  }
  if (c.delivery.connect_timeout < 1 || c.delivery.command_timeout < 1 ||
      c.delivery.data_timeout < 1) {
    return InvalidArgument("delivery timeouts must be at least 1s");
  }
  if (!c.delivery.smarthost.empty()) {
    size_t colon = c.delivery.smarthost.rfind(':');
    if (colon == std::string::npos || colon == 0 ||
        c.delivery.smarthost.find_first_not_of("0123456789", colon + 1) != std::string::npos ||
        colon + 1 == c.delivery.smarthost.size() || colon + 6 < c.delivery.smarthost.size() ||
        std::stoi(c.delivery.smarthost.substr(colon + 1)) > 65535) {
      return InvalidArgument(
          "delivery.smarthost must be \"host:port\", e.g. "
          "\"smtp.provider.example:587\"");
    }
  }
  if (c.store.compression_level < 1 || c.store.compression_level > 19) {
    return InvalidArgument("store.compression_level must be between 1 and 19");
  }
  // The bounds of directory/scram_secrets.h (config sits below directory).
  if (c.auth.max_failures_per_ip < 1 || c.auth.max_failures_per_account < 1) {
    return InvalidArgument(
        "auth.max_failures_per_ip and auth.max_failures_per_account must be "
        "at least 1");
  }
  if (c.auth.failure_window < 1 || c.auth.block_time < 1) {
    return InvalidArgument("auth.failure_window and auth.block_time must be at least 1s");
  }
  if (c.auth.scram_iterations < 4096 || c.auth.scram_iterations > 1000000) {
    return InvalidArgument("auth.scram_iterations must be between 4096 and 1000000");
  }
  for (const std::string& resolver : c.dns.resolvers) {
    if (!ValidResolverAddress(resolver)) {
      return InvalidArgument("dns.resolvers: \"" + resolver +
                             "\" is not an IP address, optionally with @port (\"192.0.2.53\", "
                             "\"::1@5353\")");
    }
  }
  if (c.dns.timeout < 1) return InvalidArgument("dns.timeout must be at least 1s");
  return Status::Ok();
}

}  // namespace

Result<int64_t> ParseByteSize(const std::string& text) {
  std::string_view s = TrimWhitespace(text);
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == 0 || i > 15) return InvalidArgument("\"" + text + "\" is not a size like 1024 or 50M");
  int64_t n = std::stoll(std::string(s.substr(0, i)));
  std::string unit = AsciiToLower(TrimWhitespace(s.substr(i)));
  int64_t mult;
  if (unit.empty() || unit == "b") {
    mult = 1;
  } else if (unit == "k" || unit == "kb" || unit == "kib") {
    mult = int64_t{1} << 10;
  } else if (unit == "m" || unit == "mb" || unit == "mib") {
    mult = int64_t{1} << 20;
  } else if (unit == "g" || unit == "gb" || unit == "gib") {
    mult = int64_t{1} << 30;
  } else {
    return InvalidArgument("\"" + text + "\" has an unknown unit; use K, M or G");
  }
  return n * mult;
}

Result<int64_t> ParseDuration(const std::string& text) {
  std::string_view s = TrimWhitespace(text);
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == 0 || i > 12) {
    return InvalidArgument("\"" + text + "\" is not a duration like 30s, 5m, 2h or 5d");
  }
  int64_t n = std::stoll(std::string(s.substr(0, i)));
  std::string unit = AsciiToLower(TrimWhitespace(s.substr(i)));
  if (unit.empty() || unit == "s") return n;
  if (unit == "m") return n * 60;
  if (unit == "h") return n * 3600;
  if (unit == "d") return n * 86400;
  return InvalidArgument("\"" + text + "\" has an unknown unit; use s, m, h or d");
}

Result<Config> Parse(const std::string& toml_text, const std::string& base_dir,
                     const std::string& source_name) {
  toml::table table;
  try {
    table = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source_name << " line " << e.source().begin.line << ": " << e.description();
    return InvalidArgument(msg.str());
  }

  Config config;
  std::set<std::string> known_sections;
  for (const Key& key : Keys()) known_sections.insert(key.section);

  // Unknown sections and keys are errors: a typo must not silently fall back
  // to a default.
  for (const auto& [section_name, section_node] : table) {
    std::string section(section_name.str());
    if (!known_sections.count(section)) {
      return InvalidArgument(source_name + ": unknown section [" + section + "]" +
                             Suggest(section));
    }
    const toml::table* section_table = section_node.as_table();
    if (!section_table) {
      return InvalidArgument(source_name + ": " + section + " must be a [section]");
    }
    for (const auto& [key_name, _] : *section_table) {
      bool found = false;
      for (const Key& key : Keys()) {
        found = found || (section == key.section && key_name.str() == key.name);
      }
      if (!found) {
        std::string full = section + "." + std::string(key_name.str());
        return InvalidArgument(source_name + ": unknown key " + full + Suggest(full));
      }
    }
  }

  for (const Key& key : Keys()) {
    const toml::node* node = table[key.section][key.name].node();
    toml::table defaults;
    if (!node) {
      defaults = toml::parse(std::string("v = ") + key.default_toml);
      node = defaults["v"].node();
    }
    auto value = Convert(key, *node, base_dir);
    if (!value.ok()) return value.status().WithContext(source_name);
    key.set(config, *value);
  }
  PT_RETURN_IF_ERROR(Validate(config).WithContext(source_name));
  return config;
}

Result<Config> Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return NotFound("cannot read config file " + path +
                    ": create one with `postern init --dir DIR`");
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::string abs = fs::absolute(path).lexically_normal().string();
  PT_ASSIGN_OR_RETURN(Config config, Parse(buf.str(), fs::path(abs).parent_path().string(), abs));
  config.path = abs;
  return config;
}

Result<std::string> FindConfigFile(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("POSTERN_CONFIG"); env && *env) return std::string(env);
  for (const char* candidate : {"postern.toml", "/etc/postern/postern.toml"}) {
    if (fs::exists(candidate)) return std::string(candidate);
  }
  return NotFound(
      "no configuration file: pass --config FILE, set POSTERN_CONFIG, or run in a folder with "
      "postern.toml (looked in ./postern.toml and /etc/postern/postern.toml); create one with "
      "`postern init --dir DIR`");
}

std::string ReferenceMarkdown() {
  std::ostringstream out;
  out << "# Configuration reference\n\n"
      << "Generated from the declarations in `src/config/config.cc` by "
      << "`postern config reference`; do not edit by hand.\n\n"
      << "Sizes take a unit (`K`, `M`, `G`, powers of 1024) or none (bytes). Durations take "
      << "`s`, `m`, `h` or `d`, or none (seconds). Relative paths are relative to the folder "
      << "of the configuration file.\n";
  std::string section;
  for (const Key& key : Keys()) {
    if (section != key.section) {
      section = key.section;
      out << "\n## [" << section << "]\n\n| key | type | default | meaning |\n|---|---|---|---|\n";
    }
    std::string type = TypeName(key.type);
    if (key.type == Type::kEnum) {
      type += " ";
      for (char c : std::string(key.choices))
        type += c == '|' ? std::string(", ") : std::string(1, c);
    }
    out << "| `" << key.name << "` | " << type << " | `" << key.default_toml << "` | " << key.help
        << " |\n";
  }
  return out.str();
}

}  // namespace postern::config
