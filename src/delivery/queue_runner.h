// Local delivery: the queue consumer that puts accepted messages into the
// INBOX of each local recipient, tells waiting readers, retries temporary
// failures with backoff and returns permanent failures to the sender as DSN
// bounces.
//
// Freshly queued entries are handed over in memory (Submit) and delivered at
// once, many per store transaction; the queue in the store is rescanned at
// startup (for entries acknowledged before a crash), when retries fall due
// and on Kick(). Delivery is idempotent: a recipient is claimed inside the
// delivery transaction, so an entry seen twice is delivered once.
// Submit/Kick/Stop are thread-safe; the loop runs on one io_context.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

#include "base/clock.h"
#include "mailbox/notifier.h"
#include "net/asio.h"
#include "queue/dsn.h"
#include "queue/schedule.h"
#include "store/store.h"

namespace postern::delivery {

struct QueueRunnerOptions {
  std::string hostname;  // in bounces
  queue::RetryPolicy retry;
  int batch = 256;
  std::string recipient_delimiter = "+";
  int64_t rescan_interval = 60;      // seconds between safety-net rescans
  int64_t delay_warning = 4 * 3600;  // seconds queued before a delay DSN; 0: none
};

struct QueueRunnerStats {
  uint64_t delivered = 0;
  uint64_t deferred = 0;
  uint64_t failed = 0;
  uint64_t bounces = 0;
};

class QueueRunner {
 public:
  QueueRunner(store::Store& store, asio::thread_pool& blocking, mailbox::ChangeNotifier& notifier,
              QueueRunnerOptions options, const Clock& clock = Clock::Real());
  ~QueueRunner();

  void Start(asio::io_context& context);
  void Submit(store::QueueEntry entry);

  // The local deliveries to attempt for `entry` now (pending local
  // recipients), with Return-Path/Delivered-To and the retry policy applied.
  // recipient_index names each recipient in entry.recipients. Thread-safe.
  std::vector<store::LocalDelivery> Plan(const store::QueueEntry& entry, int64_t now) const;
  // Logs the outcomes, tells readers about new mail, and schedules what must
  // happen next (a retry, a bounce). Thread-safe: used by the SMTP backend for
  // deliveries made while accepting a message.
  void Report(const std::vector<store::LocalDelivery>& plan,
              const std::vector<store::DeliveryOutcome>& outcomes);
  // Reports of successful delivery to send (LocalDelivery::success_notice
  // set), for deliveries that have committed. Thread-safe.
  void AddNotices(std::vector<store::LocalDelivery> notices);
  void Kick();
  // Called (on the runner's thread) when a notice for another host has been
  // queued: the outbound agent's Kick.
  void OnRemoteQueued(std::function<void()> kick) { on_remote_queued_ = std::move(kick); }
  // Ends the loop after the batch in progress; WaitStopped() blocks until then.
  void Stop();
  bool WaitStopped(std::chrono::milliseconds timeout);
  QueueRunnerStats stats() const;

 private:
  asio::awaitable<void> Loop();
  asio::awaitable<void> Recover();
  asio::awaitable<void> Deliver(std::vector<store::QueueEntry> entries);
  asio::awaitable<void> ReturnFailures();
  // Delay warnings (RFC 3464 Action: delayed) for mail queued longer than
  // options_.delay_warning, once per recipient.
  asio::awaitable<void> WarnDelayed(int64_t now);
  Result<std::optional<store::QueueEntry>> BuildBounce(const store::QueueEntry& failed,
                                                       std::vector<int64_t>* notified);
  // The notice described by `in` (queue id, sender, recipients...; the rest
  // is filled in here, the original read from `blob`) as a queue entry from
  // the null sender, its body stored; none when nobody is to get it.
  Result<std::optional<store::QueueEntry>> BuildNotice(queue::BounceInput in,
                                                       const std::string& blob);
  // Hands a queued notice with local recipients to delivery.
  asio::awaitable<void> DeliverNotice(store::QueueEntry notice);
  asio::awaitable<void> SendSuccessNotices(std::vector<store::LocalDelivery> delivered);
  void Wake();
  // Makes the loop come back by `when` (and return failures when asked).
  void ScheduleScan(int64_t when, bool failures);

  store::Store& store_;
  asio::thread_pool& blocking_;
  mailbox::ChangeNotifier& notifier_;
  QueueRunnerOptions options_;
  const Clock& clock_;
  std::function<void()> on_remote_queued_;

  std::unique_ptr<asio::steady_timer> timer_;
  std::mutex mu_;
  std::deque<store::QueueEntry> inbox_;
  std::vector<store::LocalDelivery> notices_;  // delivered, the sender wants a report
  bool rescan_ = true;
  bool woken_ = false;                  // a Wake() the loop has not seen yet
  int64_t requested_scan_ = INT64_MAX;  // ScheduleScan() times not yet taken

  bool stopping_ = false;
  bool stopped_ = false;
  std::condition_variable stopped_cv_;
  int64_t next_scan_ = 0;  // loop thread only

  mutable std::mutex stats_mu_;
  QueueRunnerStats stats_;
};

}  // namespace postern::delivery
