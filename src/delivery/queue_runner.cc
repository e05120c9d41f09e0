#include "delivery/queue_runner.h"

#include <map>

#include "base/log.h"
#include "directory/resolver.h"
#include "net/async.h"
#include "queue/dsn.h"
#include "queue/queue_id.h"

namespace postern::delivery {

QueueRunner::QueueRunner(store::Store& store, asio::thread_pool& blocking,
                         mailbox::ChangeNotifier& notifier, QueueRunnerOptions options,
                         const Clock& clock)
    : store_(store),
      blocking_(blocking),
      notifier_(notifier),
      options_(std::move(options)),
      clock_(clock) {}

QueueRunner::~QueueRunner() = default;

void QueueRunner::Start(asio::io_context& context) {
  timer_ = std::make_unique<asio::steady_timer>(context);
  asio::co_spawn(context, Loop(), [this](std::exception_ptr e) {
    LogException(e, "delivery: queue runner stopped by an exception");
    std::lock_guard lock(mu_);
    stopped_ = true;
    stopped_cv_.notify_all();
  });
}

void QueueRunner::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  if (!timer_) return;
  asio::post(timer_->get_executor(), [this] { timer_->cancel(); });
}

void QueueRunner::Submit(store::QueueEntry entry) {
  {
    std::lock_guard lock(mu_);
    inbox_.push_back(std::move(entry));
  }
  Wake();
}

void QueueRunner::Kick() {
  {
    std::lock_guard lock(mu_);
    rescan_ = true;
  }
  Wake();
}

void QueueRunner::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  Wake();
}

bool QueueRunner::WaitStopped(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return stopped_cv_.wait_for(lock, timeout, [this] { return stopped_ || !timer_; });
}

QueueRunnerStats QueueRunner::stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

asio::awaitable<void> QueueRunner::Recover() {
  // Entries acknowledged but never attempted (the server stopped or crashed
  // before delivering them) go first, ignoring their retry time.
  while (true) {
    auto load = [this] { return store_.LoadDueLocal(clock_.NowUnix(), true, options_.batch); };
    auto entries = co_await Offload(blocking_, std::move(load));
    if (!entries.ok()) {
      LOG_ERROR("delivery: cannot read the queue: {}", entries.status().ToString());
      co_return;
    }
    if (entries->empty()) break;
    LOG_INFO("delivery: recovering {} queued messages", entries->size());
    const size_t n = entries->size();
    co_await Deliver(std::move(*entries));
    if (n < static_cast<size_t>(options_.batch)) break;
  }
  co_await ReturnFailures();
}

asio::awaitable<void> QueueRunner::Loop() {
  co_await Recover();
  while (true) {
    std::vector<store::QueueEntry> batch;
    std::vector<store::LocalDelivery> notices;
    bool scan = false;
    bool stop = false;
    {
      std::lock_guard lock(mu_);
      notices.swap(notices_);  // reports of deliveries already made: even when stopping
      stop = stopping_;
      woken_ = false;
      next_scan_ = std::min(next_scan_, requested_scan_);
      requested_scan_ = INT64_MAX;
      while (!stop && !inbox_.empty() && batch.size() < static_cast<size_t>(options_.batch)) {
        batch.push_back(std::move(inbox_.front()));
        inbox_.pop_front();
      }
      if (!stop && batch.empty() && (rescan_ || clock_.NowUnix() >= next_scan_)) {
        scan = true;
        rescan_ = false;
      }
    }
    if (!notices.empty()) co_await SendSuccessNotices(std::move(notices));
    if (stop) break;
    if (scan) {
      auto load = [this] { return store_.LoadDueLocal(clock_.NowUnix(), false, options_.batch); };
      auto due = co_await Offload(blocking_, std::move(load));
      auto next = [this] { return store_.NextLocalAttempt(); };
      auto when = co_await Offload(blocking_, std::move(next));
      int64_t now = clock_.NowUnix();
      next_scan_ = now + options_.rescan_interval;
      if (when.ok() && when->has_value()) next_scan_ = std::min(next_scan_, std::max(now, **when));
      if (due.ok()) {
        batch = std::move(*due);
      } else {
        LOG_ERROR("delivery: cannot read the queue: {}", due.status().ToString());
      }
      co_await ReturnFailures();
      co_await WarnDelayed(now);
      if (batch.size() == static_cast<size_t>(options_.batch)) rescan_ = true;
    }
    if (!batch.empty()) {
      co_await Deliver(std::move(batch));
      continue;
    }
    if (scan && next_scan_ <= clock_.NowUnix()) continue;
    int64_t wait = std::max<int64_t>(1, next_scan_ - clock_.NowUnix());
    {
      // A wake-up that came while the loop was busy (its cancel found no
      // wait to cancel) must not be lost: look again instead of sleeping.
      // Nothing between this check and async_wait lets the cancel run.
      std::lock_guard lock(mu_);
      if (woken_) continue;
    }
    timer_->expires_after(std::chrono::seconds(wait));
    co_await timer_->async_wait(kAwait);
  }
  LOG_INFO("delivery: queue runner stopped");
}

std::vector<store::LocalDelivery> QueueRunner::Plan(const store::QueueEntry& e, int64_t now) const {
  std::vector<store::LocalDelivery> plan;
  const bool last_chance = queue::IsLastChance(options_.retry, e.created, now);
  for (size_t i = 0; i < e.recipients.size(); ++i) {
    const store::QueueRecipient& r = e.recipients[i];
    if (!r.local || r.state != store::RecipientState::kPending) continue;
    store::LocalDelivery d;
    d.queue_id = e.id;
    d.recipient_id = r.id;
    d.recipient_index = static_cast<int>(i);
    d.address = r.address;
    d.blob = e.blob;
    d.blob_size = e.size;
    // RFC 5321 §4.4: Return-Path is added at final delivery.
    d.header_prefix = "Return-Path: <" + e.mail_from + ">\r\nDelivered-To: " + r.address + "\r\n";
    d.internal_date = now;
    d.retry_at = queue::NextAttempt(options_.retry, now, r.attempts + 1);
    d.last_chance = last_chance;
    if (queue::WantsSuccessNotice(e.mail_from, r.notify)) {
      d.success_notice = store::LocalDelivery::Notice{e.mail_from, e.dsn_envid, r.orcpt, e.created};
    }
    plan.push_back(std::move(d));
  }
  return plan;
}

void QueueRunner::Report(const std::vector<store::LocalDelivery>& plan,
                         const std::vector<store::DeliveryOutcome>& outcomes) {
  QueueRunnerStats delta;
  int64_t retry = INT64_MAX;
  std::vector<store::LocalDelivery> notices;
  for (size_t i = 0; i < plan.size() && i < outcomes.size(); ++i) {
    const store::DeliveryOutcome& o = outcomes[i];
    const store::LocalDelivery& d = plan[i];
    switch (o.kind) {
      case store::DeliveryOutcome::kDelivered:
        ++delta.delivered;
        LOG_INFO("delivery: {} to=<{}> status=delivered uid={}", d.queue_id, d.address, o.uid);
        notifier_.Publish({o.account_id, o.mailbox_id, o.modseq, o.uid});
        if (d.success_notice) notices.push_back(d);
        break;
      case store::DeliveryOutcome::kDeferred:
        ++delta.deferred;
        retry = std::min(retry, d.retry_at);
        LOG_INFO("delivery: {} to=<{}> status=deferred ({})", d.queue_id, d.address, o.error);
        break;
      case store::DeliveryOutcome::kFailed:
        ++delta.failed;
        LOG_INFO("delivery: {} to=<{}> status=bounced ({})", d.queue_id, d.address, o.error);
        break;
      case store::DeliveryOutcome::kSkipped:  // delivered or removed meanwhile
        break;
    }
  }
  {
    std::lock_guard lock(stats_mu_);
    stats_.delivered += delta.delivered;
    stats_.deferred += delta.deferred;
    stats_.failed += delta.failed;
  }
  if (retry != INT64_MAX || delta.failed > 0) ScheduleScan(retry, delta.failed > 0);
  AddNotices(std::move(notices));
}

void QueueRunner::AddNotices(std::vector<store::LocalDelivery> notices) {
  if (notices.empty()) return;
  // The reports are written by the loop. A crash before that loses a report
  // (not mail): the delivery itself is already committed.
  {
    std::lock_guard lock(mu_);
    notices_.insert(notices_.end(), std::make_move_iterator(notices.begin()),
                    std::make_move_iterator(notices.end()));
  }
  Wake();
}

void QueueRunner::ScheduleScan(int64_t when, bool failures) {
  if (!timer_) return;
  {
    std::lock_guard lock(mu_);
    requested_scan_ = std::min(requested_scan_, when);
    if (failures) rescan_ = true;
  }
  Wake();
}

asio::awaitable<void> QueueRunner::Deliver(std::vector<store::QueueEntry> entries) {
  const int64_t now = clock_.NowUnix();
  std::vector<store::LocalDelivery> plan;
  for (const auto& e : entries) {
    auto part = Plan(e, now);
    plan.insert(plan.end(), std::make_move_iterator(part.begin()),
                std::make_move_iterator(part.end()));
  }
  if (plan.empty()) co_return;
  auto deliver = [this, &plan] { return store_.DeliverLocal(plan); };
  auto outcomes = co_await Offload(blocking_, std::move(deliver));
  if (!outcomes.ok()) {
    // Nothing was applied; the entries stay queued and the rescan retries.
    LOG_ERROR("delivery: batch of {} failed, will retry: {}", plan.size(),
              outcomes.status().ToString());
    next_scan_ = std::min(next_scan_, now + options_.retry.retry_min);
    co_return;
  }
  Report(plan, *outcomes);
}

Result<std::optional<store::QueueEntry>> QueueRunner::BuildBounce(const store::QueueEntry& failed,
                                                                  std::vector<int64_t>* notified) {
  queue::BounceInput in;
  in.queue_id = failed.id;
  in.envelope_sender = failed.mail_from;
  in.envid = failed.dsn_envid;
  in.ret = failed.dsn_ret;
  in.arrival = failed.created;
  for (const auto& r : failed.recipients) {
    notified->push_back(r.id);
    if (!queue::WantsFailureNotice(failed.mail_from, r.notify)) continue;
    in.recipients.push_back(
        {r.address, r.orcpt, queue::EnhancedCodeOf(r.last_error), r.last_error});
  }
  return BuildNotice(std::move(in), failed.blob);
}

Result<std::optional<store::QueueEntry>> QueueRunner::BuildNotice(queue::BounceInput in,
                                                                  const std::string& blob) {
  if (in.recipients.empty()) return std::optional<store::QueueEntry>();
  // Where does the notice go? Local senders get it in their INBOX.
  auto sender = directory::NormalizeAddress(in.envelope_sender);
  if (!sender.ok()) return std::optional<store::QueueEntry>();
  directory::ResolverOptions ropts;
  ropts.recipient_delimiter = options_.recipient_delimiter;
  PT_ASSIGN_OR_RETURN(auto resolution, directory::Resolve(store_, *sender, ropts));
  if (resolution.kind == directory::Resolution::kNotLocal) {
    resolution.destinations = {directory::Destination{*sender, false, {}}};
  }
  if (resolution.destinations.empty()) {
    LOG_INFO("delivery: no notice for {}: sender <{}> is unknown here", in.queue_id,
             in.envelope_sender);
    return std::optional<store::QueueEntry>();
  }

  // The notice goes out even when the original cannot be read (a damaged
  // store, or a report whose message was expunged meanwhile): without it.
  if (auto body = store_.ReadBody(blob); body.ok()) {
    in.original_message = std::move(*body);
  } else {
    LOG_WARN("delivery: notice for {} without the original message: {}", in.queue_id,
             body.status().ToString());
  }
  in.reporting_host = options_.hostname;
  in.bounce_id = queue::NewQueueId();
  in.now = clock_.NowUnix();
  PT_ASSIGN_OR_RETURN(store::Body body, store_.EncodeBody(queue::BuildBounce(in)));
  if (body.in_file) PT_RETURN_IF_ERROR(store_.WriteBodyFile(body));

  store::QueueEntry bounce;
  bounce.id = in.bounce_id;
  bounce.created = in.now;
  bounce.mail_from = "";  // RFC 5321 §4.5.5 / RFC 3461 §6.2: notices use the null reverse-path
  bounce.blob = body.ref.hash;
  bounce.size = body.ref.size;
  bounce.stored_size = body.ref.stored_size;
  if (!body.in_file) bounce.inline_body = std::move(body.compressed);
  bounce.client = (in.delivered ? "delivery report of "
                   : in.delay   ? "delay warning of "
                                : "bounce of ") +
                  in.queue_id;
  bounce.kind = in.delivered ? "report" : in.delay ? "delay" : "bounce";
  for (const auto& d : resolution.destinations) {
    store::QueueRecipient r;
    r.address = d.address;
    r.original = *sender;
    r.local = d.local;
    r.next_attempt = in.now;
    bounce.recipients.push_back(std::move(r));
  }
  return std::optional<store::QueueEntry>(std::move(bounce));
}

asio::awaitable<void> QueueRunner::ReturnFailures() {
  auto load = [this] { return store_.LoadFailed(options_.batch); };
  auto failed = co_await Offload(blocking_, std::move(load));
  if (!failed.ok()) {
    LOG_ERROR("delivery: cannot read failed recipients: {}", failed.status().ToString());
    co_return;
  }
  for (const auto& entry : *failed) {
    // Building (blob write) and queuing are blocking; do both off the loop.
    auto work = [this, &entry]() -> Result<std::optional<store::QueueEntry>> {
      std::vector<int64_t> notified;
      auto bounce = BuildBounce(entry, &notified);
      if (!bounce.ok()) {
        // Temporary trouble: try again at the next scan. Anything else would
        // fail every time and keep this entry (and those after it) from
        // being returned: give up on this bounce, loudly.
        if (bounce.status().code() == StatusCode::kUnavailable) return bounce.status();
        LOG_ERROR(
            "delivery: {}: no bounce can be built ({}); the failed recipients are "
            "marked as notified",
            entry.id, bounce.status().ToString());
        PT_RETURN_IF_ERROR(store_.QueueBounce(std::nullopt, notified));
        return std::optional<store::QueueEntry>();
      }
      PT_RETURN_IF_ERROR(store_.QueueBounce(*bounce, notified));
      return bounce;
    };
    auto result = co_await Offload(blocking_, std::move(work));
    if (!result.ok()) {
      LOG_ERROR("delivery: cannot queue the bounce for {}: {}", entry.id,
                result.status().ToString());
      continue;
    }
    if (result->has_value()) {
      LOG_INFO("delivery: {} bounce {} queued to <{}>", entry.id, (*result)->id, entry.mail_from);
      {
        std::lock_guard lock(stats_mu_);
        ++stats_.bounces;
      }
      co_await DeliverNotice(std::move(**result));
    }
  }
}

asio::awaitable<void> QueueRunner::WarnDelayed(int64_t now) {
  if (options_.delay_warning <= 0) co_return;
  auto load = [this, now] {
    return store_.LoadDelayed(now - options_.delay_warning, options_.batch);
  };
  auto delayed = co_await Offload(blocking_, std::move(load));
  if (!delayed.ok()) {
    LOG_ERROR("delivery: cannot read delayed recipients: {}", delayed.status().ToString());
    co_return;
  }
  for (const auto& entry : *delayed) {
    auto work = [this, &entry]() -> Result<std::optional<store::QueueEntry>> {
      queue::BounceInput in;
      in.queue_id = entry.id;
      in.envelope_sender = entry.mail_from;
      in.envid = entry.dsn_envid;
      in.arrival = entry.created;
      in.delay = true;
      in.will_retry_until = entry.created + options_.retry.max_age;
      std::vector<int64_t> warned;
      for (const auto& r : entry.recipients) {
        warned.push_back(r.id);
        if (!queue::WantsDelayNotice(entry.mail_from, r.notify)) continue;
        std::string error = r.last_error.empty() ? "451 4.4.7 not delivered yet" : r.last_error;
        std::string status = queue::EnhancedCodeOf(error);
        if (status[0] != '4') status = "4.4.7";
        in.recipients.push_back({r.address, r.orcpt, status, error});
      }
      PT_ASSIGN_OR_RETURN(auto notice, BuildNotice(std::move(in), entry.blob));
      PT_RETURN_IF_ERROR(store_.QueueDelayNotice(notice, warned));
      return notice;
    };
    auto result = co_await Offload(blocking_, std::move(work));
    if (!result.ok()) {
      LOG_ERROR("delivery: cannot queue the delay warning for {}: {}", entry.id,
                result.status().ToString());
      continue;
    }
    if (result->has_value()) {
      LOG_INFO("delivery: {} delay warning {} queued to <{}>", entry.id, (*result)->id,
               entry.mail_from);
      co_await DeliverNotice(std::move(**result));
    }
  }
}

asio::awaitable<void> QueueRunner::DeliverNotice(store::QueueEntry notice) {
  bool local = false;
  for (const auto& r : notice.recipients) local = local || r.local;
  if (!local) {  // the outbound agent sends it
    if (on_remote_queued_) on_remote_queued_();
    co_return;
  }
  // Recipient ids are assigned by the store; load the entry as stored.
  auto get = [this, id = notice.id] { return store_.GetQueueEntry(id); };
  auto stored = co_await Offload(blocking_, std::move(get));
  if (stored.ok() && stored->has_value()) Submit(std::move(**stored));
}

asio::awaitable<void> QueueRunner::SendSuccessNotices(std::vector<store::LocalDelivery> items) {
  // One report per message, naming every recipient that asked for it.
  struct Report {
    queue::BounceInput in;
    std::string blob;
  };
  std::map<std::string, Report> by_message;
  for (const auto& d : items) {
    Report& report = by_message[d.queue_id];
    report.blob = d.blob;
    queue::BounceInput& n = report.in;
    n.queue_id = d.queue_id;
    n.envelope_sender = d.success_notice->sender;
    n.envid = d.success_notice->envid;
    n.arrival = d.success_notice->arrival;
    n.delivered = true;
    const std::string& action = d.success_notice->action;
    n.recipients.push_back(
        {d.address, d.success_notice->orcpt, "2.0.0",
         action == "expanded" ? "250 2.0.0 delivered to the members of this alias"
         : action == "relayed"
             ? "250 2.0.0 relayed to a server that does not report delivery (no DSN support)"
             : "250 2.0.0 delivered to the mailbox",
         action});
  }
  for (auto& entry : by_message) {
    const std::string& id = entry.first;
    const Report& report = entry.second;
    auto work = [this, &report]() -> Result<std::optional<store::QueueEntry>> {
      PT_ASSIGN_OR_RETURN(auto notice, BuildNotice(report.in, report.blob));
      if (notice) PT_RETURN_IF_ERROR(store_.QueueBounce(notice, {}));
      return notice;
    };
    auto result = co_await Offload(blocking_, std::move(work));
    if (!result.ok()) {
      LOG_ERROR("delivery: cannot send the delivery report for {}: {}", id,
                result.status().ToString());
      continue;
    }
    if (result->has_value()) {
      LOG_INFO("delivery: {} delivery report {} queued to <{}>", id, (*result)->id,
               report.in.envelope_sender);
      co_await DeliverNotice(std::move(**result));
    }
  }
}

}  // namespace postern::delivery
