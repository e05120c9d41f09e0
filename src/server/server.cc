#include "server/server.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>

#include "base/log.h"
#include "base/strings.h"
#include "delivery/outbound.h"
#include "delivery/queue_runner.h"
#include "dkim/key_directory.h"
#include "dns/resolver.h"
#include "imapserver/imap_server.h"
#include "mailbox/notifier.h"
#include "net/async.h"
#include "net/io_pool.h"
#include "net/tls.h"
#include "pop3server/pop3_server.h"
#include "sasl/credentials.h"
#include "server/control.h"
#include "smtpserver/smtp_server.h"
#include "smtpserver/store_backend.h"
#include "store/store.h"

namespace postern::server {
namespace {

constexpr int64_t kGarbageMinAge = 3600;  // an unreferenced blob older than this goes
constexpr auto kGarbageInterval = std::chrono::hours(24);

Status DropPrivileges(const std::string& user) {
  if (::geteuid() != 0) {
    if (!user.empty()) LOG_INFO("not root: staying user {} (server.user ignored)", ::geteuid());
    return Status::Ok();
  }
  if (user.empty()) {
    LOG_WARN("running as root: set server.user to an unprivileged account");
    return Status::Ok();
  }
  struct passwd* pw = ::getpwnam(user.c_str());
  if (!pw) {
    return InvalidArgument("server.user \"" + user +
                           "\" does not exist: create it (adduser --system " + user +
                           ") or change server.user");
  }
  if (::initgroups(pw->pw_name, pw->pw_gid) != 0 || ::setgid(pw->pw_gid) != 0 ||
      ::setuid(pw->pw_uid) != 0) {
    return PermissionDenied("cannot switch to user " + user);
  }
  LOG_INFO("switched to user {}", user);
  return Status::Ok();
}

// Verifies the certificates of remote servers (MTA-STS, DANE-TA, smarthost):
// the system's CAs, and delivery.ca_file's.
Result<std::shared_ptr<asio::ssl::context>> MakeClientTlsContext(const std::string& ca_file) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  error_code ec;
  ctx->set_default_verify_paths(ec);
  if (ec) LOG_WARN("no system certificate authorities: {}", ec.message());
  if (!ca_file.empty()) {
    ctx->load_verify_file(ca_file, ec);
    if (ec) {
      return InvalidArgument("delivery.ca_file " + ca_file + " cannot be read: " + ec.message());
    }
  }
  return ctx;
}

delivery::OutboundOptions OutboundOptions(const config::Config& c) {
  delivery::OutboundOptions o;
  o.hostname = c.server.hostname;
  o.retry = {c.queue.retry_min, c.queue.retry_max, c.queue.max_age};
  o.limits.max_connections = static_cast<int>(c.delivery.max_connections);
  o.limits.max_per_destination = static_cast<int>(c.delivery.max_connections_per_domain);
  o.limits.messages_per_connection = static_cast<int>(c.delivery.messages_per_connection);
  o.remote_port = static_cast<uint16_t>(c.delivery.remote_port);
  o.connect_timeout = std::chrono::seconds(c.delivery.connect_timeout);
  o.command_timeout = std::chrono::seconds(c.delivery.command_timeout);
  o.data_timeout = std::chrono::seconds(c.delivery.data_timeout);
  o.dane = c.delivery.dane;
  o.mta_sts = c.delivery.mta_sts;
  o.mta_sts_port = static_cast<uint16_t>(c.delivery.mta_sts_port);
  if (!c.delivery.smarthost.empty()) {
    delivery::Smarthost relay;
    size_t colon = c.delivery.smarthost.rfind(':');  // validated by config::Load
    relay.host = c.delivery.smarthost.substr(0, colon);
    relay.port = static_cast<uint16_t>(std::stoi(c.delivery.smarthost.substr(colon + 1)));
    relay.tls = c.delivery.smarthost_tls == "none"  ? delivery::Smarthost::Tls::kNone
                : c.delivery.smarthost_tls == "tls" ? delivery::Smarthost::Tls::kImplicit
                                                    : delivery::Smarthost::Tls::kStartTls;
    relay.user = c.delivery.smarthost_user;
    relay.password = c.delivery.smarthost_password;
    relay.domains = c.delivery.smarthost_domains;
    o.smarthost = std::move(relay);
  }
  return o;
}

// The options IMAP and POP3 servers share, from their config section.
template <typename ServerOptions>
ServerOptions AccessOptions(const config::Config& c, const config::AccessConfig& access,
                            std::shared_ptr<asio::ssl::context> tls) {
  ServerOptions o;
  auto& s = o.session;
  s.hostname = c.server.hostname;
  s.tls = std::move(tls);
  s.allow_plaintext_auth = access.allow_plaintext_auth;
  s.idle_timeout = std::chrono::seconds(access.idle_timeout);
  s.failed_login_delay = std::chrono::milliseconds(access.failed_login_delay);
  o.max_connections = static_cast<size_t>(access.max_connections);
  o.max_connections_per_ip = static_cast<size_t>(access.max_connections_per_ip);
  return o;
}

smtpserver::SmtpServerOptions SmtpOptions(const config::Config& c,
                                          std::shared_ptr<asio::ssl::context> tls) {
  smtpserver::SmtpServerOptions o;
  auto& s = o.session;
  s.hostname = c.server.hostname;
  s.max_message_size = static_cast<uint64_t>(c.smtp.max_message_size);
  s.max_recipients = static_cast<size_t>(c.smtp.max_recipients);
  s.max_command_line = static_cast<size_t>(c.smtp.max_command_line);
  s.max_data_line = static_cast<size_t>(c.smtp.max_data_line);
  s.command_timeout = std::chrono::seconds(c.smtp.command_timeout);
  s.data_timeout = std::chrono::seconds(c.smtp.data_timeout);
  s.max_errors = static_cast<int>(c.smtp.max_errors);
  s.max_hops = static_cast<int>(c.smtp.max_hops);
  s.bare_line_endings = c.smtp.bare_line_endings == "reject" ? smtp::BareLineEndings::kReject
                                                             : smtp::BareLineEndings::kNormalize;
  s.vrfy = c.smtp.vrfy;
  s.tls = std::move(tls);
  s.memory = std::make_shared<smtpserver::MemoryBudget>(static_cast<uint64_t>(c.smtp.memory_limit));
  o.max_connections = static_cast<size_t>(c.smtp.max_connections);
  o.max_connections_per_ip = static_cast<size_t>(c.smtp.max_connections_per_ip);
  return o;
}

// Submission shares the SMTP limits on messages; its own ports, connection
// limits, timeout and authentication settings.
smtpserver::SmtpServerOptions SubmissionOptions(const config::Config& c,
                                                std::shared_ptr<asio::ssl::context> tls) {
  smtpserver::SmtpServerOptions o = SmtpOptions(c, std::move(tls));
  auto& s = o.session;
  s.submission = true;
  s.allow_plaintext_auth = c.submission.allow_plaintext_auth;
  s.reveal_client_ip = c.submission.reveal_client_ip;
  s.failed_login_delay = std::chrono::milliseconds(c.submission.failed_login_delay);
  s.command_timeout = std::chrono::seconds(c.submission.idle_timeout);
  o.max_connections = static_cast<size_t>(c.submission.max_connections);
  o.max_connections_per_ip = static_cast<size_t>(c.submission.max_connections_per_ip);
  return o;
}

// Removes blob files nothing refers to: left over when the process died
// between writing a message and committing it.
asio::awaitable<void> CollectGarbage(store::Store& store, asio::thread_pool& blocking) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(std::chrono::minutes(1));
  while (true) {
    auto [ec] = co_await timer.async_wait(kAwait);
    if (ec) co_return;
    auto collect = [&store] { return store.CollectGarbage(kGarbageMinAge); };
    auto removed = co_await Offload(blocking, std::move(collect));
    if (!removed.ok()) {
      LOG_WARN("store: garbage collection failed: {}", removed.status().ToString());
    } else if (*removed > 0) {
      LOG_INFO("store: removed {} unreferenced message files", *removed);
    }
    timer.expires_after(kGarbageInterval);
  }
}

// One server per data directory: blob pins and the queue runner's in-memory
// hand-over are per process, so a second server on the same store could
// remove a file another is about to reference. The lock dies with the
// process, so a crash never leaves a stale lock behind.
Result<int> LockDataDir(const std::string& data_dir) {
  std::string path = data_dir + "/postern.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return Unavailable("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {0};
    ssize_t n = ::pread(fd, pid, sizeof pid - 1, 0);
    ::close(fd);
    std::string who = n > 0 ? std::string(TrimWhitespace(std::string_view(pid, n))) : "?";
    return FailedPrecondition("another postern serve (pid " + who + ") is running on " + data_dir +
                              ": stop it first");
  }
  std::string me = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) < 0) {
    LOG_WARN("cannot write the pid into {}", path);
  }
  return fd;
}

}  // namespace

std::string ControlSocketPath(const config::Config& config) {
  return config.server.data_dir + "/control.sock";
}

int Serve(const config::Config& config, const ServeOptions& options) {
  if (Status s = InitLogging(config.server.log_level, config.server.log_file); !s.ok()) {
    std::fprintf(stderr, "postern: %s\n", s.message().c_str());
    return 1;
  }
  // Errors go to the log; when the log is a file, to the terminal as well.
  auto fail = [&config](const Status& s) {
    LOG_ERROR("{}", s.message());
    spdlog::default_logger()->flush();
    if (!config.server.log_file.empty()) std::fprintf(stderr, "postern: %s\n", s.message().c_str());
    return 1;
  };

  std::error_code dir_error;
  std::filesystem::create_directories(config.server.data_dir, dir_error);
  auto lock = LockDataDir(config.server.data_dir);
  if (!lock.ok()) return fail(lock.status());

  store::SqliteStoreOptions store_options;
  store_options.data_dir = config.server.data_dir;
  store_options.compression_level = static_cast<int>(config.store.compression_level);
  store_options.create = true;
  store_options.inline_max = static_cast<size_t>(config.store.inline_max);
  store_options.parse_cache_bytes = static_cast<size_t>(config.store.parse_cache);
  auto opened = store::OpenSqliteStore(store_options);
  if (!opened.ok()) return fail(opened.status());
  std::unique_ptr<store::Store> store = std::move(*opened);

  std::shared_ptr<asio::ssl::context> tls;
  if (std::filesystem::exists(config.tls.certificate) && std::filesystem::exists(config.tls.key)) {
    auto ctx = net::MakeServerTlsContext(config.tls.certificate, config.tls.key);
    if (!ctx.ok()) return fail(ctx.status());
    tls = *ctx;
  } else {
    LOG_WARN("STARTTLS is off: no certificate at {} (set tls.certificate and tls.key)",
             config.tls.certificate);
  }

  net::IoContextPool pool(static_cast<size_t>(config.server.io_threads));
  asio::thread_pool blocking(16);
  mailbox::ChangeNotifier notifier;

  delivery::QueueRunnerOptions runner_options;
  runner_options.hostname = config.server.hostname;
  runner_options.retry = {config.queue.retry_min, config.queue.retry_max, config.queue.max_age};
  runner_options.batch = static_cast<int>(config.queue.delivery_batch);
  runner_options.recipient_delimiter = config.smtp.recipient_delimiter;
  runner_options.delay_warning = config.queue.delay_warning;
  delivery::QueueRunner runner(*store, blocking, notifier, runner_options);

  // Outbound delivery runs on one I/O thread, with its resolver.
  asio::io_context& outbound_context = pool.Next();
  auto resolver = dns::MakeResolver(outbound_context, config.dns);
  if (!resolver.ok()) return fail(resolver.status());
  auto client_tls = MakeClientTlsContext(config.delivery.ca_file);
  if (!client_tls.ok()) return fail(client_tls.status());
  delivery::OutboundAgent outbound(*store, blocking, **resolver, *client_tls,
                                   OutboundOptions(config));
  outbound.OnFailures([&runner] { runner.Kick(); });
  outbound.OnRelayed([&runner](std::vector<store::LocalDelivery> relayed) {
    runner.AddNotices(std::move(relayed));
  });
  runner.OnRemoteQueued([&outbound] { outbound.Kick(); });

  smtpserver::StoreBackendOptions backend_options;
  backend_options.hostname = config.server.hostname;
  backend_options.recipient_delimiter = config.smtp.recipient_delimiter;
  backend_options.first_retry = config.queue.retry_min;
  smtpserver::StoreBackend backend(*store, blocking, runner, backend_options);
  backend.OnRemoteQueued(
      [&outbound](store::QueueEntry entry, std::shared_ptr<const std::string> content) {
        outbound.Offer(std::move(entry), std::move(content));
      });
  sasl::StoreCredentials credentials(*store, static_cast<uint32_t>(config.auth.scram_iterations));
  backend.UseCredentials(credentials);
  sasl::GuardOptions guard_options;
  guard_options.max_failures_per_client = static_cast<int>(config.auth.max_failures_per_ip);
  guard_options.max_failures_per_account = static_cast<int>(config.auth.max_failures_per_account);
  guard_options.window = config.auth.failure_window;
  guard_options.ban = config.auth.block_time;
  auto guard = std::make_shared<sasl::AuthGuard>(guard_options);
  dkim::KeyDirectory dkim_keys(config.server.data_dir + "/dkim");
  backend.UseDkimKeys(dkim_keys);
  smtpserver::SmtpServer smtp(pool, backend, SmtpOptions(config, tls));
  if (Status s = smtp.Bind(config.smtp.listen); !s.ok()) return fail(s);
  auto submission_options = SubmissionOptions(config, tls);
  submission_options.session.guard = guard;
  smtpserver::SubmissionServer submission(pool, backend, std::move(submission_options));
  if (Status s = submission.Bind(config.submission.listen,
                                 tls ? config.submission.listen_tls : std::vector<std::string>(),
                                 tls != nullptr);
      !s.ok()) {
    return fail(s);
  }
  backend.CountSessionsWith(
      [&smtp, &submission] { return smtp.active_sessions() + submission.active_sessions(); });
  auto imap_options = AccessOptions<imapserver::ImapServerOptions>(config, config.imap, tls);
  imap_options.session.max_literal = static_cast<uint64_t>(config.imap.append_limit);
  imap_options.session.guard = guard;
  imapserver::ImapServer imap(pool,
                              imapserver::SessionContext{*store, blocking, notifier, credentials},
                              std::move(imap_options));
  if (Status s =
          imap.Bind(config.imap.listen, tls ? config.imap.listen_tls : std::vector<std::string>());
      !s.ok()) {
    return fail(s);
  }
  auto pop3_options = AccessOptions<pop3server::Pop3ServerOptions>(config, config.pop3, tls);
  pop3_options.session.guard = guard;
  pop3server::Pop3Server pop3(pool,
                              pop3server::SessionContext{*store, blocking, notifier, credentials},
                              std::move(pop3_options));
  if (Status s =
          pop3.Bind(config.pop3.listen, tls ? config.pop3.listen_tls : std::vector<std::string>());
      !s.ok()) {
    return fail(s);
  }

  ControlSocket control(pool.First(), ControlSocketPath(config));
  control.On("flush", [&runner, &outbound] {
    runner.Kick();
    outbound.Kick();
    return std::string("ok");
  });
  control.On("status", [&runner, &outbound, &smtp, &submission, &imap, &pop3, &store] {
    auto st = runner.stats();
    auto out = outbound.stats();
    const store::ParseCacheStats cache = store->CacheStats();
    return "ok sessions=" + std::to_string(smtp.active_sessions()) +
           " submission_sessions=" + std::to_string(submission.active_sessions()) +
           " imap_sessions=" + std::to_string(imap.active_sessions()) +
           " pop3_sessions=" + std::to_string(pop3.active_sessions()) +
           " delivered=" + std::to_string(st.delivered) +
           " deferred=" + std::to_string(st.deferred) + " bounced=" + std::to_string(st.failed) +
           " sent=" + std::to_string(out.delivered) +
           " sent_deferred=" + std::to_string(out.deferred) +
           " sent_failed=" + std::to_string(out.failed) +
           " parse_cache_bytes=" + std::to_string(cache.bytes) +
           " parse_cache_limit=" + std::to_string(cache.limit) +
           " parse_cache_entries=" + std::to_string(cache.entries) +
           " parse_cache_hits=" + std::to_string(cache.hits) +
           " parse_cache_misses=" + std::to_string(cache.misses);
  });
  if (Status s = control.Listen(); !s.ok()) {
    // Not fatal: the CLI then says the server does not answer, and queue
    // flush takes effect at the next rescan.
    LOG_WARN("{}", s.message());
  }

  if (Status s = DropPrivileges(config.server.user); !s.ok()) return fail(s);

  if (!options.pid_file.empty()) {
    std::ofstream pid(options.pid_file, std::ios::trunc);
    pid << ::getpid() << "\n";
    if (!pid) return fail(Unavailable("cannot write the pid file " + options.pid_file));
  }

  std::promise<int> stop_signal;
  asio::signal_set signals(pool.First(), SIGTERM, SIGINT);
  signals.async_wait([&stop_signal](const error_code& ec, int sig) {
    if (!ec) stop_signal.set_value(sig);
  });
  ::signal(SIGPIPE, SIG_IGN);

  pool.Start();
  runner.Start(pool.First());
  outbound.Start(outbound_context);
  smtp.Start();
  submission.Start();
  imap.Start();
  pop3.Start();
  asio::co_spawn(pool.First(), CollectGarbage(*store, blocking), asio::detached);
  LOG_INFO(
      "postern started as {}: smtp on {}, submission on {}, submissions on {}, imap on {}, "
      "imaps on {}, pop3 on {}, pop3s on {}, data in {}",
      config.server.hostname, fmt::join(config.smtp.listen, ", "),
      fmt::join(config.submission.listen, ", "), fmt::join(config.submission.listen_tls, ", "),
      fmt::join(config.imap.listen, ", "), fmt::join(config.imap.listen_tls, ", "),
      fmt::join(config.pop3.listen, ", "), fmt::join(config.pop3.listen_tls, ", "),
      config.server.data_dir);

  int sig = stop_signal.get_future().get();
  LOG_INFO("signal {}: draining (up to {}s)", sig, config.server.shutdown_timeout);
  smtp.StopAccepting();
  submission.StopAccepting();
  imap.StopAccepting();
  pop3.StopAccepting();
  smtp.Drain();
  submission.Drain();
  imap.Drain();
  pop3.Drain();
  if (!smtp.WaitForSessions(std::chrono::seconds(config.server.shutdown_timeout))) {
    LOG_WARN("closing {} sessions that did not finish in time", smtp.active_sessions());
    smtp.CloseAll();
    smtp.WaitForSessions(std::chrono::seconds(5));
  }
  // Submission sessions may be in the middle of a message too.
  if (!submission.WaitForSessions(std::chrono::seconds(config.server.shutdown_timeout))) {
    LOG_WARN("closing {} submission sessions that did not finish in time",
             submission.active_sessions());
    submission.CloseAll();
    submission.WaitForSessions(std::chrono::seconds(5));
  }
  for (net::DualService* access :
       {static_cast<net::DualService*>(&imap), static_cast<net::DualService*>(&pop3)}) {
    if (!access->WaitForSessions(std::chrono::seconds(5))) {
      access->CloseAll();
      access->WaitForSessions(std::chrono::seconds(5));
    }
  }
  control.Close();
  outbound.Stop();
  outbound.WaitStopped(std::chrono::seconds(config.server.shutdown_timeout));
  runner.Stop();
  runner.WaitStopped(std::chrono::seconds(config.server.shutdown_timeout));
  pool.Stop();
  blocking.join();
  store.reset();  // the writer commits what it holds before it ends
  if (!options.pid_file.empty()) ::unlink(options.pid_file.c_str());
  ::close(*lock);
  LOG_INFO("postern stopped");
  spdlog::default_logger()->flush();
  return 0;
}

}  // namespace postern::server
