#include "delivery/outbound.h"

#include <algorithm>

#include "base/log.h"
#include "base/strings.h"
#include "mtasts/fetch.h"
#include "mtasts/policy.h"
#include "net/async.h"
#include "queue/dsn.h"

namespace postern::delivery {
namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// Finished job keys remembered against duplicate sends (see finished_).
constexpr size_t kRecentFinishes = 20000;
// Messages offered in memory are kept with their jobs up to this size each
// and this much in all; others are read back from the store when sent.
constexpr size_t kMaxKeptContent = 1 << 20;
constexpr uint64_t kMaxKeptContentTotal = 64 << 20;

std::string DomainOf(const std::string& address) {
  size_t at = address.rfind('@');
  return AsciiToLower(at == std::string::npos ? address : address.substr(at + 1));
}

// "550 5.1.1 text" from a reply, with an enhanced code even when the server
// gave none, so the DSN can name a status (RFC 3464 §2.3.4).
std::string ReplyText(const smtpclient::Reply& r) {
  if (r.code == 0) {
    return "451 4.4.2 " + (r.lines.empty() ? std::string("connection lost") : r.lines.front());
  }
  if (!r.enhanced.empty()) return r.ToString();
  std::string text = r.ToString();
  std::string code = std::to_string(r.code);
  std::string rest = text.size() > 4 ? text.substr(4) : "";
  return code + " " + code.substr(0, 1) + ".0.0 " + rest;
}

// The check a TLS handshake with `host` must pass under `policy`: none
// (opportunistic), the certificate's name (kVerify) or the TLSA records
// (kDane). The same for STARTTLS and for implicit TLS.
net::ClientTls TlsCheck(const std::string& host, const TlsPolicy& policy) {
  net::ClientTls tls;
  tls.sni = host;
  tls.names = policy.names;
  if (policy.mode == TlsPolicy::Mode::kVerify) tls.verify = net::ClientTls::Verify::kName;
  if (policy.mode == TlsPolicy::Mode::kDane) {
    tls.verify = net::ClientTls::Verify::kDane;
    for (const auto& r : policy.tlsa) {
      tls.tlsa.push_back({r.usage, r.selector, r.matching, r.data});
    }
  }
  return tls;
}

bool NonAscii(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// Whether the message uses what SMTPUTF8 allows: UTF-8 in the envelope or in
// the header section.
bool NeedsSmtpUtf8(const store::QueueEntry& entry, std::string_view message) {
  if (NonAscii(entry.mail_from)) return true;
  for (const auto& r : entry.recipients) {
    if (NonAscii(r.address)) return true;
  }
  size_t end = message.find("\r\n\r\n");
  return NonAscii(message.substr(0, end == std::string_view::npos ? message.size() : end));
}

}  // namespace

struct OutboundAgent::Link {
  std::unique_ptr<smtpclient::Client> client;
  std::string host;       // the MX host name
  std::string where;      // "mx.example.net[192.0.2.1]" for logs and diagnostics
  bool verified = false;  // TLS with an authenticated certificate (DANE or PKIX)
  bool clean = true;      // ready for MAIL (no transaction left open)
};

OutboundAgent::OutboundAgent(store::Store& store, asio::thread_pool& blocking,
                             dns::Resolver& resolver, std::shared_ptr<asio::ssl::context> tls,
                             OutboundOptions options, const Clock& clock)
    : store_(store),
      blocking_(blocking),
      resolver_(resolver),
      tls_(std::move(tls)),
      options_(std::move(options)),
      clock_(clock),
      schedule_(options_.limits) {}

OutboundAgent::~OutboundAgent() = default;

void OutboundAgent::Start(asio::io_context& context) {
  context_ = &context;
  timer_ = std::make_unique<asio::steady_timer>(context);
  asio::co_spawn(context, Loop(), [this](std::exception_ptr e) {
    LogException(e, "outbound: delivery loop failed");
    std::lock_guard lock(mu_);
    stopped_ = true;
    stopped_cv_.notify_all();
  });
}

void OutboundAgent::Kick() {
  if (!context_) return;
  asio::post(*context_, [this] { Wake(); });
}

void OutboundAgent::Offer(store::QueueEntry entry, std::shared_ptr<const std::string> content) {
  if (!context_) return;
  asio::post(*context_, [this, entry = std::move(entry), content = std::move(content)]() mutable {
    TakeOffer(std::move(entry), std::move(content));
  });
}

void OutboundAgent::TakeOffer(store::QueueEntry entry, std::shared_ptr<const std::string> content) {
  // A backlog is the scans' business: they take the queue in order.
  if (entry.held || static_cast<int>(jobs_.size()) >= options_.batch) {
    Wake();
    return;
  }
  const int64_t now = clock_.NowUnix();
  std::erase_if(entry.recipients, [now](const store::QueueRecipient& r) {
    return r.local || r.state != store::RecipientState::kPending || r.next_attempt > now;
  });
  entry.parse.reset();
  entry.inline_body.clear();
  // New work for the loop to open connections for (no scan needed).
  if (AddJobs(entry, std::move(content), 0) > 0 && timer_) timer_->cancel();
}

int OutboundAgent::AddJobs(store::QueueEntry& entry, std::shared_ptr<const std::string> content,
                           uint64_t finished_after) {
  std::map<std::string, std::vector<store::QueueRecipient>> by_destination;
  for (store::QueueRecipient& r : entry.recipients) {
    by_destination[DestinationOf(r.address)].push_back(std::move(r));
  }
  entry.recipients.clear();
  int added = 0;
  for (auto& [destination, recipients] : by_destination) {
    std::string key = entry.id + " " + destination;
    if (schedule_.Known(key)) continue;  // being sent right now
    // Sent since the caller's view of the queue was taken: its outcome may
    // be newer than that view.
    if (auto f = finished_.find(key); f != finished_.end() && f->second > finished_after) continue;
    Job job;
    job.key = key;
    job.destination = destination;
    job.entry = entry;  // the envelope; recipients below
    job.entry.recipients = std::move(recipients);
    if (content && content->size() <= kMaxKeptContent &&
        content_bytes_ + content->size() <= kMaxKeptContentTotal) {
      job.content = content;
      content_bytes_ += content->size();
    }
    schedule_.Add(destination, key);
    jobs_.emplace(std::move(key), std::move(job));
    ++added;
  }
  return added;
}

void OutboundAgent::Wake() {
  rescan_ = true;
  if (timer_) timer_->cancel();
}

void OutboundAgent::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  Kick();
}

bool OutboundAgent::WaitStopped(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return stopped_cv_.wait_for(lock, timeout, [this] { return stopped_; });
}

OutboundStats OutboundAgent::stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

std::string OutboundAgent::DestinationOf(const std::string& address) const {
  std::string domain = DomainOf(address);
  if (options_.smarthost) {
    const auto& only = options_.smarthost->domains;
    if (only.empty() || std::any_of(only.begin(), only.end(), [&](const std::string& d) {
          return EqualsIgnoreCase(d, domain);
        })) {
      return "[smarthost]";
    }
  }
  return domain;
}

asio::awaitable<void> OutboundAgent::Loop() {
  LOG_INFO("outbound: delivery agent started{}",
           options_.smarthost ? " (smarthost " + options_.smarthost->host + ")" : "");
  while (true) {
    bool stopping;
    {
      std::lock_guard lock(mu_);
      stopping = stopping_;
    }
    if (stopping) break;
    const int64_t now = clock_.NowUnix();
    if (schedule_.open_connections() < options_.limits.max_connections &&
        (rescan_ || now >= next_scan_)) {
      rescan_ = false;
      co_await Scan(now);
    }
    for (std::string& destination : schedule_.Open()) {
      ++running_;
      asio::co_spawn(*context_, RunConnection(std::move(destination)),
                     [this](std::exception_ptr e) {
                       --running_;
                       LogException(e, "outbound: connection task failed");
                     });
    }
    // With every connection slot taken a pending rescan waits (a closing
    // connection wakes the loop); looping on it here would spin this thread
    // and starve the very connections that free a slot.
    if (rescan_ && schedule_.open_connections() < options_.limits.max_connections) continue;
    int64_t wait = std::clamp<int64_t>(next_scan_ - clock_.NowUnix(), 1, options_.rescan_interval);
    timer_->expires_after(std::chrono::seconds(wait));
    co_await timer_->async_wait(kAwait);
  }
  // Let the connections finish the message they are sending; they take no
  // new jobs once stopping_ is set.
  while (running_ > 0) {
    timer_->expires_after(std::chrono::milliseconds(50));
    co_await timer_->async_wait(kAwait);
  }
  LOG_INFO("outbound: delivery agent stopped");
}

asio::awaitable<void> OutboundAgent::Scan(int64_t now) {
  const uint64_t finished_before = finishes_;
  const int limit = options_.batch + static_cast<int>(jobs_.size());
  auto load = [this, now, limit] { return store_.LoadDueRemote(now, limit); };
  auto due = co_await Offload(blocking_, std::move(load));
  auto next_fn = [this] { return store_.NextRemoteAttempt(); };
  auto next = co_await Offload(blocking_, std::move(next_fn));
  next_scan_ = now + options_.rescan_interval;
  if (next.ok() && next->has_value()) next_scan_ = std::min(next_scan_, std::max(now, **next));
  if (!due.ok()) {
    LOG_ERROR("outbound: cannot read the queue: {}", due.status().ToString());
    next_scan_ = now + options_.retry.retry_min;
    co_return;
  }
  int added = 0;
  for (store::QueueEntry& entry : *due) added += AddJobs(entry, nullptr, finished_before);
  // Entries loaded but all in flight may hide others that are due: with a
  // full batch of new work, look again soon.
  if (added > 0 && static_cast<int>(due->size()) >= limit) rescan_ = true;
}

void OutboundAgent::Finish(std::string key) {
  // By value: `key` is often the job's own, which erase() frees.
  schedule_.Finish(key);
  if (auto it = jobs_.find(key); it != jobs_.end()) {
    if (it->second.content) content_bytes_ -= it->second.content->size();
    jobs_.erase(it);
  }
  finished_[key] = ++finishes_;
  finish_order_.emplace_back(std::move(key), finishes_);
  while (finish_order_.size() > kRecentFinishes) {
    auto& [old, number] = finish_order_.front();
    if (auto f = finished_.find(old); f != finished_.end() && f->second == number)
      finished_.erase(f);
    finish_order_.pop_front();
  }
}

asio::awaitable<void> OutboundAgent::RunConnection(std::string destination) {
  std::string error;
  bool permanent = false;
  std::unique_ptr<Link> link = co_await Connect(destination, &error, &permanent);
  if (!link) {
    // Every job waiting for this destination shares the verdict: no point
    // in each of them trying the same dead hosts again now.
    std::vector<std::string> keys = schedule_.TakeAll(destination);
    LOG_INFO("outbound: {}: {} ({} messages {})", destination, error, keys.size(),
             permanent ? "returned" : "deferred");
    co_await Conclude(std::move(keys), error, permanent);
    schedule_.Close(destination);
    Wake();
    co_return;
  }
  {
    std::lock_guard lock(stats_mu_);
    ++stats_.connections;
  }
  int sent = 0;
  while (true) {
    bool stopping;
    {
      std::lock_guard lock(mu_);
      stopping = stopping_;
    }
    if (stopping) break;
    std::optional<std::string> key = schedule_.Next(destination, sent);
    if (!key) break;
    auto it = jobs_.find(*key);
    if (it == jobs_.end()) {
      schedule_.Finish(*key);
      continue;
    }
    ++sent;
    bool go_on = co_await Send(*link, it->second);
    if (!go_on) break;
  }
  co_await link->client->Quit();
  schedule_.Close(destination);
  Wake();
}

asio::awaitable<std::unique_ptr<OutboundAgent::Link>> OutboundAgent::Connect(
    const std::string& destination, std::string* error, bool* permanent) {
  *permanent = false;
  if (destination == "[smarthost]") {
    const Smarthost& relay = *options_.smarthost;
    TlsPolicy policy;
    policy.source = "smarthost";
    if (relay.tls != Smarthost::Tls::kNone) {
      policy.mode = TlsPolicy::Mode::kVerify;
      policy.names = {relay.host};
      policy.implicit = relay.tls == Smarthost::Tls::kImplicit;
    }
    co_return co_await ConnectHost(relay.host, relay.port, policy, /*authenticate=*/true, error,
                                   permanent);
  }

  auto mx = co_await resolver_.Mx(destination);
  Route route = PlanRoute(destination, mx, options_.hostname, rng_);
  if (route.kind != Route::Kind::kHosts) {
    *error = route.error;
    *permanent = route.kind == Route::Kind::kPermanent;
    co_return nullptr;
  }
  TlsPolicy base = co_await PolicyFor(destination, route);
  std::vector<std::string> hosts = route.hosts;
  if (base.mode == TlsPolicy::Mode::kVerify && base.source == "MTA-STS") {
    hosts = FilterByMtaSts(route.hosts, base.names);
    if (hosts.empty()) {
      *error = "451 4.7.5 no mail exchanger of " + destination +
               " is allowed by its MTA-STS policy (RFC 8461 §4.1)";
      co_return nullptr;
    }
  }
  bool all_permanent = true;
  std::vector<std::string> errors;
  for (const std::string& host : hosts) {
    TlsPolicy policy = base;
    if (policy.mode == TlsPolicy::Mode::kVerify) policy.names = {host};
    if (options_.dane && route.secure) {
      // RFC 7672 §2.2: TLSA records of a host reached through a secure MX
      // answer decide; a failed lookup makes the host unusable.
      auto tlsa =
          co_await resolver_.Tlsa("_" + std::to_string(options_.remote_port) + "._tcp." + host);
      if (!tlsa.status.ok() || tlsa.bogus) {
        errors.push_back("451 4.7.5 cannot look up the TLSA records of " + host);
        all_permanent = false;
        continue;
      }
      if (tlsa.secure && !tlsa.records.empty()) {
        policy.mode = TlsPolicy::Mode::kDane;
        policy.tlsa = tlsa.records;
        policy.names = {host};
        policy.source = "DANE";
      }
    }
    std::string host_error;
    bool host_permanent = false;
    auto link = co_await ConnectHost(host, options_.remote_port, policy,
                                     /*authenticate=*/false, &host_error, &host_permanent);
    if (link) co_return link;
    errors.push_back(host_error);
    all_permanent = all_permanent && host_permanent;
  }
  *error = errors.empty() ? "451 4.4.4 no usable mail exchanger for " + destination : errors.back();
  *permanent = all_permanent && !errors.empty();
  co_return nullptr;
}

asio::awaitable<std::unique_ptr<OutboundAgent::Link>> OutboundAgent::ConnectHost(
    const std::string& host, uint16_t port, const TlsPolicy& policy, bool authenticate,
    std::string* error, bool* permanent) {
  *permanent = false;
  auto addresses = co_await resolver_.Addresses(host);
  if (!addresses.status.ok() || addresses.bogus) {
    *error = "451 4.4.3 cannot look up the address of " + host;
    co_return nullptr;
  }
  if (addresses.addresses.empty()) {
    *error = "451 4.4.4 " + host + " has no address";
    co_return nullptr;
  }
  smtpclient::Options client_options;
  client_options.helo_name = options_.hostname;
  client_options.connect_timeout = options_.connect_timeout;
  client_options.greeting_timeout = options_.command_timeout;
  client_options.command_timeout = options_.command_timeout;
  client_options.data_block_timeout = options_.command_timeout;
  client_options.data_end_timeout = options_.data_timeout;
  if (policy.implicit) {
    if (!tls_) {
      *error = "451 4.7.5 no TLS context for the implicit TLS of " + host;
      co_return nullptr;
    }
    client_options.implicit_tls = tls_.get();
    client_options.implicit_tls_check = TlsCheck(host, policy);
  }
  bool any_permanent = false;
  bool all_permanent = true;
  for (const asio::ip::address& address : addresses.addresses) {
    asio::ip::tcp::endpoint endpoint(address, port);
    const std::string where = host + "[" + address.to_string() + "]";
    bool try_plain = false;  // a retry without STARTTLS after a failed opportunistic handshake
    for (int round = 0; round < 2; ++round) {
      smtpclient::Reply refused;
      auto ex = co_await asio::this_coro::executor;
      auto connected = co_await smtpclient::Client::Connect(ex, endpoint, client_options, &refused);
      if (!connected.ok()) {
        if (refused.code >= 500) {
          *error = ReplyText(refused) + " (greeting from " + where + ")";
          any_permanent = true;
        } else {
          const bool tls_failed = connected.status().code() == StatusCode::kPermissionDenied;
          *error = refused.code != 0 ? ReplyText(refused) + " (greeting from " + where + ")"
                   : tls_failed      ? "451 4.7.5 " + connected.status().message() + " (" +
                                      policy.source + " requires a verified certificate)"
                                : "451 4.4.1 cannot connect to " + where + ": " +
                                      connected.status().message();
          all_permanent = false;
        }
        break;
      }
      auto link = std::make_unique<Link>();
      link->client = std::move(*connected);
      link->host = host;
      link->where = where;
      const bool offered = link->client->extensions().starttls;
      if (policy.implicit) {
        // Connect verified the certificate before the greeting, or failed.
        link->verified = link->client->implicit_tls_verified();
      } else if (policy.mode != TlsPolicy::Mode::kOpportunistic && !offered) {
        *error =
            "451 4.7.4 " + where + " does not offer STARTTLS, which " + policy.source + " requires";
        all_permanent = false;
        co_await link->client->Quit();
        break;
      }
      if (!policy.implicit && offered && !try_plain && tls_) {
        net::ClientTls check = TlsCheck(host, policy);  // named: g++ 12 and co_await arguments
        net::ClientTlsResult result = co_await link->client->StartTls(*tls_, std::move(check));
        if (!result.ok) {
          if (policy.mode == TlsPolicy::Mode::kOpportunistic) {
            // Opportunistic TLS that fails is retried in plaintext on a new
            // connection (the server may have a broken TLS stack); a policy
            // that requires TLS never falls back.
            LOG_INFO("outbound: TLS with {} failed ({}), retrying without TLS", where,
                     result.error);
            try_plain = true;
            continue;
          }
          *error = "451 4.7.5 TLS with " + where + " failed the " + policy.source +
                   " check: " + result.error;
          all_permanent = false;
          break;
        }
        link->verified = result.verified && policy.mode != TlsPolicy::Mode::kOpportunistic;
      }
      const char* security = !link->client->tls()                    ? "plaintext"
                             : !link->verified                       ? "TLS, unverified"
                             : policy.mode == TlsPolicy::Mode::kDane ? "TLS, DANE-verified"
                                                                     : "TLS, certificate verified";
      LOG_INFO("outbound: connected to {} ({}{})", where, security,
               policy.mode == TlsPolicy::Mode::kVerify ? ", " + policy.source : "");
      if (authenticate && !options_.smarthost->user.empty()) {
        smtpclient::Reply auth = co_await link->client->Authenticate(options_.smarthost->user,
                                                                     options_.smarthost->password);
        if (!auth.positive()) {
          *error = ReplyText(auth) + " (AUTH at " + where + ")";
          // A refused login is an administrator's problem to fix, not the
          // sender's: keep the mail.
          all_permanent = false;
          co_await link->client->Quit();
          break;
        }
      }
      co_return link;
    }
  }
  *permanent = any_permanent && all_permanent;
  co_return nullptr;
}

asio::awaitable<TlsPolicy> OutboundAgent::PolicyFor(const std::string& domain, const Route& route) {
  (void)route;
  TlsPolicy policy;
  policy.source = "opportunistic TLS";
  if (!options_.mta_sts) co_return policy;
  std::optional<std::string> text = co_await MtaStsPolicyText(domain);
  if (!text) co_return policy;
  auto parsed = mtasts::ParsePolicy(*text);
  if (!parsed.ok() || parsed->mode != mtasts::Policy::kEnforce) co_return policy;
  policy.mode = TlsPolicy::Mode::kVerify;
  policy.names = parsed->mx;
  policy.source = "MTA-STS";
  co_return policy;
}

asio::awaitable<std::optional<std::string>> OutboundAgent::MtaStsPolicyText(
    const std::string& domain) {
  // RFC 8461 §3.1 and §5.1: the TXT record's id says whether the cached
  // policy is current; a policy that cannot be fetched leaves the cached one
  // in force until it expires.
  const int64_t now = clock_.NowUnix();
  auto get = [this, domain] { return store_.GetMtaStsPolicy(domain); };
  auto cached_result = co_await Offload(blocking_, std::move(get));
  std::optional<store::MtaStsRecord> cached;
  if (cached_result.ok() && cached_result->has_value() && (*cached_result)->expires > now) {
    cached = **cached_result;
  }
  auto txt = co_await resolver_.Txt("_mta-sts." + domain);
  std::optional<std::string> id;
  int records = 0;
  if (txt.status.ok()) {
    for (const std::string& t : txt.texts) {
      if (auto parsed_id = mtasts::ParseTxtId(t)) {
        id = parsed_id;
        ++records;
      }
    }
    if (records != 1) id.reset();  // §3.1: more than one record is no record
  }
  if (!id) {
    if (cached) co_return cached->policy;
    co_return std::nullopt;
  }
  if (cached && cached->policy_id == *id) co_return cached->policy;
  auto ex = co_await asio::this_coro::executor;
  auto fetched = co_await mtasts::FetchPolicy(ex, resolver_, domain, *tls_, options_.mta_sts_port,
                                              std::chrono::seconds(60));
  if (!fetched.ok()) {
    LOG_WARN("outbound: cannot fetch the MTA-STS policy of {}: {}", domain,
             fetched.status().message());
    if (cached) co_return cached->policy;
    co_return std::nullopt;
  }
  auto parsed = mtasts::ParsePolicy(*fetched);
  if (!parsed.ok()) {
    LOG_WARN("outbound: the MTA-STS policy of {} is invalid: {}", domain,
             parsed.status().message());
    if (cached) co_return cached->policy;
    co_return std::nullopt;
  }
  store::MtaStsRecord record{domain, *id, *fetched, now, now + parsed->max_age};
  auto put = [this, record] { return store_.PutMtaStsPolicy(record); };
  Status saved = co_await Offload(blocking_, std::move(put));
  if (!saved.ok()) LOG_WARN("outbound: cannot cache the MTA-STS policy of {}", domain);
  co_return *fetched;
}

store::RemoteOutcome OutboundAgent::Temporary(const store::QueueEntry& entry,
                                              const store::QueueRecipient& r,
                                              const std::string& error, int64_t now) const {
  store::RemoteOutcome o;
  o.recipient_id = r.id;
  if (queue::IsLastChance(options_.retry, entry.created, now)) {
    o.kind = store::RemoteOutcome::kFailed;
    // RFC 3463: 4.4.7 is "delivery time expired"; the last error says why.
    o.error = "554 5.4.7 delivery time expired; last error: " + error;
  } else {
    o.kind = store::RemoteOutcome::kDeferred;
    o.error = error;
    o.next_attempt = queue::NextAttempt(options_.retry, now, r.attempts + 1);
  }
  return o;
}

asio::awaitable<bool> OutboundAgent::Send(Link& link, Job& job) {
  const store::QueueEntry& entry = job.entry;
  const int64_t now = clock_.NowUnix();
  std::vector<store::RemoteOutcome> outcomes;
  bool any_failed = false;
  // Below, one verdict for every recipient ends the job: Conclude records the
  // outcomes and finishes it (`job` is gone afterwards).

  // RFC 8689 §4.2.1: REQUIRETLS mail goes only over authenticated TLS to a
  // server that promises to keep requiring it.
  if (entry.requiretls && (!link.verified || !link.client->extensions().requiretls)) {
    // g++ 12: no braced or temporary arguments inside a co_await expression.
    std::vector<std::string> keys{job.key};
    std::string error = "550 5.7.30 REQUIRETLS support required: " + link.where +
                        (link.verified ? " does not offer REQUIRETLS"
                                       : " could not be authenticated (no DANE or MTA-STS)");
    co_await Conclude(std::move(keys), std::move(error), true);
    co_return true;
  }
  if (!link.clean) {
    smtpclient::Reply reset = co_await link.client->Reset();
    if (!reset.positive()) {
      schedule_.Return(job.destination, job.key);  // for the next connection
      co_return false;
    }
    link.clean = true;
  }
  // The message: kept in memory since it was offered, else from the store.
  std::shared_ptr<const std::string> body = job.content;
  if (!body) {
    auto read = [this, blob = entry.blob] { return store_.ReadBody(blob); };
    auto stored = co_await Offload(blocking_, std::move(read));
    if (!stored.ok()) {
      LOG_ERROR("outbound: {}: cannot read the message: {}", entry.id, stored.status().ToString());
      // g++ 12: no braced or temporary arguments inside a co_await expression.
      std::vector<std::string> keys{job.key};
      std::string error =
          "451 4.3.0 the queued message cannot be read: " + stored.status().message();
      co_await Conclude(std::move(keys), std::move(error), false);
      co_return true;
    }
    body = std::make_shared<const std::string>(std::move(*stored));
  }

  // RFC 6531 §3.5: a message that needs SMTPUTF8 (UTF-8 in an address or
  // the header; the SMTPUTF8 parameter alone does not make it so) must not
  // go to a server that does not offer it. It is returned, not mangled.
  if (entry.smtputf8 && !link.client->extensions().smtputf8 && NeedsSmtpUtf8(entry, *body)) {
    // g++ 12: no braced or temporary arguments inside a co_await expression.
    std::vector<std::string> keys{job.key};
    std::string error = "553 5.6.7 " + link.where +
                        " does not support SMTPUTF8, which this message needs for its non-ASCII "
                        "addresses or header fields";
    co_await Conclude(std::move(keys), std::move(error), true);
    co_return true;
  }

  smtpclient::Envelope env;
  env.mail_from = entry.mail_from;
  env.size = entry.size;
  env.body_type = entry.body_type;
  env.smtputf8 = entry.smtputf8;
  env.dsn_ret = entry.dsn_ret;
  env.dsn_envid = entry.dsn_envid;
  env.requiretls = entry.requiretls;
  for (const auto& r : entry.recipients) env.recipients.push_back({r.address, r.notify, r.orcpt});

  smtpclient::SendResult result = co_await link.client->Send(env, *body);
  link.clean = result.data.positive();
  const bool dsn = link.client->extensions().dsn;
  std::vector<store::LocalDelivery> relayed;
  for (size_t i = 0; i < entry.recipients.size(); ++i) {
    const store::QueueRecipient& r = entry.recipients[i];
    const smtpclient::Reply& rcpt = i < result.rcpt.size() ? result.rcpt[i] : smtpclient::Reply{};
    // The reply that decides this recipient's fate, and which command it answered.
    const smtpclient::Reply* verdict = &result.data;
    const char* stage = "end of data";
    if (!result.mail.positive()) {
      verdict = &result.mail;
      stage = "MAIL FROM";
    } else if (!rcpt.positive()) {
      verdict = &rcpt;
      stage = "RCPT TO";
    }
    if (verdict->positive()) {
      outcomes.push_back({r.id, store::RemoteOutcome::kDelivered, "", 0});
      LOG_INFO("outbound: {} to <{}> delivered to {}: {}", entry.id, r.address, link.where,
               verdict->ToString());
      // RFC 3461 §4.2: a server without DSN cannot report success, so we
      // tell the sender the message was relayed.
      if (!dsn && queue::WantsSuccessNotice(entry.mail_from, r.notify)) {
        store::LocalDelivery notice;
        notice.queue_id = entry.id;
        notice.address = r.address;
        notice.blob = entry.blob;
        notice.success_notice = store::LocalDelivery::Notice{entry.mail_from, entry.dsn_envid,
                                                             r.orcpt, entry.created, "relayed"};
        relayed.push_back(std::move(notice));
      }
      continue;
    }
    const std::string error =
        ReplyText(*verdict) + " (" + link.where + " in reply to " + stage + ")";
    if (verdict->permanent()) {
      outcomes.push_back({r.id, store::RemoteOutcome::kFailed, error, 0});
      any_failed = true;
    } else {
      outcomes.push_back(Temporary(entry, r, error, now));
      any_failed = any_failed || outcomes.back().kind == store::RemoteOutcome::kFailed;
    }
    LOG_INFO("outbound: {} to <{}>: {}", entry.id, r.address, error);
  }
  co_await Record(std::move(outcomes), any_failed);
  if (!relayed.empty() && on_relayed_) on_relayed_(std::move(relayed));
  Finish(job.key);
  co_return result.connection_usable;
}

asio::awaitable<void> OutboundAgent::Conclude(std::vector<std::string> keys,
                                              const std::string& error, bool permanent) {
  const int64_t now = clock_.NowUnix();
  std::vector<store::RemoteOutcome> outcomes;
  bool any_failed = false;
  for (const std::string& key : keys) {
    auto it = jobs_.find(key);
    if (it == jobs_.end()) continue;
    for (const auto& r : it->second.entry.recipients) {
      if (permanent) {
        outcomes.push_back({r.id, store::RemoteOutcome::kFailed, error, 0});
      } else {
        outcomes.push_back(Temporary(it->second.entry, r, error, now));
      }
      any_failed = any_failed || outcomes.back().kind == store::RemoteOutcome::kFailed;
    }
  }
  co_await Record(std::move(outcomes), any_failed);
  for (const std::string& key : keys) Finish(key);
}

asio::awaitable<void> OutboundAgent::Record(std::vector<store::RemoteOutcome> outcomes,
                                            bool any_failed) {
  if (outcomes.empty()) co_return;
  OutboundStats add;
  for (const auto& o : outcomes) {
    if (o.kind == store::RemoteOutcome::kDelivered) ++add.delivered;
    if (o.kind == store::RemoteOutcome::kDeferred) ++add.deferred;
    if (o.kind == store::RemoteOutcome::kFailed) ++add.failed;
  }
  // Asynchronous: no pool thread waits for the commit.
  auto start = [this, outcomes = std::move(outcomes)](std::function<void(Status)> done) mutable {
    store_.RecordRemoteOutcomesAsync(std::move(outcomes), std::move(done));
  };
  Status s = co_await AwaitCallback<Status>(std::move(start));
  if (!s.ok()) {
    // Nothing was recorded: the recipients stay due and are sent again at
    // the next scan (a duplicate is better than a loss).
    LOG_ERROR("outbound: cannot record delivery outcomes: {}", s.ToString());
    co_return;
  }
  {
    std::lock_guard lock(stats_mu_);
    stats_.delivered += add.delivered;
    stats_.deferred += add.deferred;
    stats_.failed += add.failed;
  }
  if (any_failed && on_failures_) on_failures_();
}

}  // namespace postern::delivery
