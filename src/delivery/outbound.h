// Outbound delivery: the queue consumer that sends mail for other domains to
// their mail exchangers (or to a smarthost) over SMTP.
//
// For each due recipient the agent finds the destination (the recipient's
// domain, or the smarthost), groups the queue entry's recipients there into
// one job, and lets queue::ConnectionSchedule decide which connections to
// open. A connection finds the route (MX hosts, RFC 5321 §5.1, RFC 7505),
// the TLS policy (DANE, RFC 7672; MTA-STS, RFC 8461; otherwise opportunistic
// STARTTLS), connects to each host's addresses in turn, and then sends the
// destination's waiting jobs one after another (RSET between them) up to the
// per-connection limit. Every recipient's outcome is written to the store:
// delivered, deferred with exponential backoff, or failed (then the local
// queue runner returns it to the sender in a DSN). A policy failure is a
// deferral, never a fallback to plaintext.
//
// All of the agent's state lives on one io_context thread (Start's); Kick,
// Stop and stats are thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>

#include "base/clock.h"
#include "delivery/route.h"
#include "dns/resolver.h"
#include "net/asio.h"
#include "queue/connection_schedule.h"
#include "queue/schedule.h"
#include "smtpclient/client.h"
#include "store/store.h"

namespace postern::delivery {

struct Smarthost {
  std::string host;
  uint16_t port = 587;
  enum class Tls { kStartTls, kImplicit, kNone } tls = Tls::kStartTls;
  std::string user;
  std::string password;
  std::vector<std::string> domains;  // empty: every domain
};

struct OutboundOptions {
  std::string hostname;  // EHLO name; an MX with this name is ourselves
  queue::RetryPolicy retry;
  queue::ConnectionLimits limits;
  uint16_t remote_port = 25;
  net::Duration connect_timeout = std::chrono::seconds(30);
  net::Duration command_timeout = std::chrono::minutes(5);
  net::Duration data_timeout = std::chrono::minutes(10);
  bool dane = true;
  bool mta_sts = true;
  uint16_t mta_sts_port = 443;
  std::optional<Smarthost> smarthost;
  int batch = 500;               // queue entries loaded per scan
  int64_t rescan_interval = 60;  // seconds between scans when nothing is due sooner
};

struct OutboundStats {
  uint64_t delivered = 0;  // recipients
  uint64_t deferred = 0;
  uint64_t failed = 0;
  uint64_t connections = 0;
};

class OutboundAgent {
 public:
  // `tls` verifies remote certificates (system CAs and delivery.ca_file).
  // `failed` runs (on the agent's thread) after recipients failed for good,
  // so the local queue runner returns them to their senders; `relayed` gets
  // the reports of relay to servers without DSN (NOTIFY=SUCCESS, RFC 3461
  // §4.2: Action: relayed).
  OutboundAgent(store::Store& store, asio::thread_pool& blocking, dns::Resolver& resolver,
                std::shared_ptr<asio::ssl::context> tls, OutboundOptions options,
                const Clock& clock = Clock::Real());
  ~OutboundAgent();

  void OnFailures(std::function<void()> failed) { on_failures_ = std::move(failed); }
  void OnRelayed(std::function<void(std::vector<store::LocalDelivery>)> relayed) {
    on_relayed_ = std::move(relayed);
  }

  void Start(asio::io_context& context);
  // New remote recipients are queued, or an administrator asked for a retry.
  void Kick();
  // An entry just committed to the queue, handed over in memory so that no
  // scan has to read it back; `content` (may be null) is its message, kept
  // with its jobs (within a memory budget) so sending need not read the
  // store either. Only pending remote recipients due now are taken. With
  // many jobs already waiting this is a Kick. Thread-safe.
  void Offer(store::QueueEntry entry, std::shared_ptr<const std::string> content);
  // Ends the loop once the connections in progress have finished their
  // current message; WaitStopped() blocks until then.
  void Stop();
  bool WaitStopped(std::chrono::milliseconds timeout);
  OutboundStats stats() const;

 private:
  struct Job {
    std::string key;
    std::string destination;
    store::QueueEntry entry;                     // only the recipients at this destination
    std::shared_ptr<const std::string> content;  // the message, when offered in memory
  };
  struct Link;  // an open SMTP connection and what it is allowed to carry

  asio::awaitable<void> Loop();
  asio::awaitable<void> Scan(int64_t now);
  asio::awaitable<void> RunConnection(std::string destination);
  // A connection to `destination` that satisfies its TLS policy, or why none
  // could be made (`*error`, `*permanent`).
  asio::awaitable<std::unique_ptr<Link>> Connect(const std::string& destination, std::string* error,
                                                 bool* permanent);
  asio::awaitable<std::unique_ptr<Link>> ConnectHost(const std::string& host, uint16_t port,
                                                     const TlsPolicy& policy, bool authenticate,
                                                     std::string* error, bool* permanent);
  asio::awaitable<TlsPolicy> PolicyFor(const std::string& domain, const Route& route);
  asio::awaitable<std::optional<std::string>> MtaStsPolicyText(const std::string& domain);
  // Sends one job over `link`; false when the connection cannot go on.
  asio::awaitable<bool> Send(Link& link, Job& job);
  // Records the same outcome for every recipient of the given jobs.
  asio::awaitable<void> Conclude(std::vector<std::string> keys, const std::string& error,
                                 bool permanent);
  asio::awaitable<void> Record(std::vector<store::RemoteOutcome> outcomes, bool any_failed);
  // The outcome of a temporary failure now: deferred with backoff, or
  // failed when the message has been queued too long.
  store::RemoteOutcome Temporary(const store::QueueEntry& entry, const store::QueueRecipient& r,
                                 const std::string& error, int64_t now) const;
  std::string DestinationOf(const std::string& address) const;
  void Wake();
  void Finish(std::string key);
  // Adds a job per destination of `entry`'s recipients (moved out), except
  // for keys being sent or finished since `finished_after` (a scan's view may
  // predate their outcome); returns how many were added.
  int AddJobs(store::QueueEntry& entry, std::shared_ptr<const std::string> content,
              uint64_t finished_after);
  void TakeOffer(store::QueueEntry entry, std::shared_ptr<const std::string> content);

  store::Store& store_;
  asio::thread_pool& blocking_;
  dns::Resolver& resolver_;
  std::shared_ptr<asio::ssl::context> tls_;
  OutboundOptions options_;
  const Clock& clock_;
  std::function<void()> on_failures_;
  std::function<void(std::vector<store::LocalDelivery>)> on_relayed_;

  asio::io_context* context_ = nullptr;
  std::unique_ptr<asio::steady_timer> timer_;
  queue::ConnectionSchedule schedule_;
  std::map<std::string, Job> jobs_;
  // Keys of jobs finished lately, by finish number (finishes_), so that a
  // scan or an offer that raced with a delivery does not send it again.
  // Pruned to the last kRecentFinishes.
  std::map<std::string, uint64_t> finished_;
  std::deque<std::pair<std::string, uint64_t>> finish_order_;
  uint64_t finishes_ = 0;
  uint64_t content_bytes_ = 0;  // of Job::content, summed over jobs
  std::mt19937_64 rng_{std::random_device{}()};
  bool rescan_ = true;
  int64_t next_scan_ = 0;
  int running_ = 0;  // RunConnection coroutines

  std::mutex mu_;
  bool stopping_ = false;
  bool stopped_ = false;
  std::condition_variable stopped_cv_;

  mutable std::mutex stats_mu_;
  OutboundStats stats_;
};

}  // namespace postern::delivery
