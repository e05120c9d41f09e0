#include "smtpserver/store_backend.h"

#include <algorithm>
#include <optional>
#include <set>

#include "base/clock.h"
#include "base/log.h"
#include "mailbox/structure.h"
#include "net/async.h"

namespace postern::smtpserver {

using smtp::Reply;

namespace {
// Bodies up to this size are hashed and compressed on the session's own
// thread (tens of microseconds); larger ones on the blocking pool.
constexpr size_t kEncodeInPlace = 256 * 1024;
// Directory lookups tried on the session's own thread; a recipient whose
// aliases need more is resolved on the blocking pool.
constexpr int kInPlaceLookups = 64;

}  // namespace

StoreBackend::StoreBackend(store::Store& store, asio::thread_pool& blocking,
                           delivery::QueueRunner& runner, StoreBackendOptions options)
    : store_(store), blocking_(blocking), runner_(runner), options_(std::move(options)) {}

RecipientCheck StoreBackend::Judge(const std::string& address,
                                   const Result<directory::Resolution>& resolution,
                                   uint64_t declared_size, bool relay) {
  RecipientCheck out;
  const std::string who = "<" + address + ">: ";
  if (!resolution.ok()) {
    if (resolution.status().code() == StatusCode::kResourceExhausted &&
        !store::ScopedNoWait::active()) {
      LOG_ERROR("smtp: recipient <{}> deferred: {}; check its aliases (postern alias list)",
                address, resolution.status().message());
      out.reply = Reply(451, "4.3.0", who + "Recipient expands to too many addresses, try later");
      return out;
    }
    out.reply = Reply(451, "4.3.0", who + "Temporary lookup failure, try again later");
    return out;
  }
  switch (resolution->kind) {
    case directory::Resolution::kNotLocal:
      if (relay) {
        out.reply = Reply(250, "2.1.5", "Ok");
        out.destinations.push_back(directory::Destination{address, false, {}});
        return out;
      }
      out.reply = Reply(554, "5.7.1", who + "Relay access denied");
      return out;
    case directory::Resolution::kUnknownUser:
      out.reply = Reply(550, "5.1.1", who + "Recipient address rejected: User unknown");
      return out;
    case directory::Resolution::kDeliverable:
      break;
  }
  // Refuse only when no destination can take the message at all.
  bool any_usable = false, any_enabled = false;
  for (const auto& d : resolution->destinations) {
    if (!d.local) {
      any_usable = any_enabled = true;
      continue;
    }
    if (d.account.disabled) continue;
    any_enabled = true;
    if (!d.account.OverQuota() && !d.account.WouldExceedQuota(declared_size)) any_usable = true;
  }
  if (!any_enabled) {
    out.reply = Reply(550, "5.2.1", who + "Mailbox disabled");
  } else if (!any_usable) {
    // RFC 1870 §6.2 / RFC 3463 X.2.2: temporary, the user may make room.
    out.reply = Reply(452, "4.2.2", who + "Mailbox full, try again later");
  } else {
    out.reply = Reply(250, "2.1.5", "Ok");
    // Only what delivery needs travels with the transaction (not, say, the
    // accounts' password hashes).
    out.destinations.reserve(resolution->destinations.size());
    for (const auto& d : resolution->destinations) {
      out.destinations.push_back(directory::Destination{d.address, d.local, {}});
    }
  }
  return out;
}

directory::ResolverOptions StoreBackend::ResolverOptionsHere() const {
  directory::ResolverOptions opts;
  opts.recipient_delimiter = options_.recipient_delimiter;
  if (store::ScopedNoWait::active()) opts.max_lookups = kInPlaceLookups;
  return opts;
}

RecipientCheck StoreBackend::CheckBlocking(const std::string& address, bool postmaster,
                                           uint64_t declared_size, bool relay) {
  std::string target = address;
  if (postmaster) {
    // RFC 5321 §4.5.1: <Postmaster> without a domain means ours. Use the
    // domain of our host name if we serve it, else the first domain.
    auto domains = store_.ListDomains();
    if (!domains.ok()) return Judge("postmaster", domains.status(), 0);
    std::string domain;
    for (const auto& d : *domains) {
      if (options_.hostname == d.name ||
          (options_.hostname.size() > d.name.size() &&
           options_.hostname.compare(options_.hostname.size() - d.name.size() - 1,
                                     std::string::npos, "." + d.name) == 0)) {
        domain = d.name;
      }
    }
    if (domain.empty() && !domains->empty()) domain = domains->front().name;
    target = "postmaster@" + domain;
  }
  auto view = store_.DirectoryView();
  if (!view.ok()) return Judge(target, view.status(), declared_size);
  return Judge(target, directory::Resolve(**view, target, ResolverOptionsHere()), declared_size,
               relay);
}

asio::awaitable<RecipientCheck> StoreBackend::CheckRecipient(std::string address, bool postmaster,
                                                             uint64_t declared_size) {
  co_return co_await Check(std::move(address), postmaster, declared_size, false);
}

asio::awaitable<RecipientCheck> StoreBackend::CheckRelayRecipient(std::string address,
                                                                  uint64_t declared_size) {
  co_return co_await Check(std::move(address), false, declared_size, true);
}

asio::awaitable<RecipientCheck> StoreBackend::Check(std::string address, bool postmaster,
                                                    uint64_t declared_size, bool relay) {
  // Directory lookups are point reads of small, hot tables, and in WAL mode
  // a reader does not wait for the writer: try them right here, without a
  // trip to the blocking pool (two thread wake-ups, the costliest part of a
  // lookup). If SQLite would have to wait, ask again on the pool.
  {
    store::ScopedNoWait no_wait;
    RecipientCheck quick = CheckBlocking(address, postmaster, declared_size, relay);
    if (quick.reply.code != 451) co_return quick;
  }
  auto check = [this, address = std::move(address), postmaster, declared_size, relay] {
    return CheckBlocking(address, postmaster, declared_size, relay);
  };
  co_return co_await Offload(blocking_, std::move(check));
}

asio::awaitable<AuthOutcome> StoreBackend::Authenticate(std::string mechanism_name,
                                                        std::optional<std::string> initial_response,
                                                        sasl::Ask ask) {
  if (!credentials_) co_return AuthOutcome{false};
  co_return co_await AuthenticateWith(blocking_, *credentials_, std::move(mechanism_name),
                                      std::move(initial_response), std::move(ask));
}

asio::awaitable<Result<bool>> StoreBackend::MaySendAs(std::string account, std::string sender) {
  auto check = [this, account = std::move(account), sender = std::move(sender)]() -> Result<bool> {
    PT_ASSIGN_OR_RETURN(auto view, store_.DirectoryView());
    return directory::MaySendAs(*view, account, sender, ResolverOptionsHere());
  };
  // Point reads, as in Check: here when SQLite need not wait, else on the pool.
  {
    store::ScopedNoWait no_wait;
    Result<bool> quick = check();
    if (quick.ok()) co_return quick;
  }
  co_return co_await Offload(blocking_, std::move(check));
}

asio::awaitable<std::string> StoreBackend::DkimSignatures(std::string author_domain,
                                                          std::string_view message) {
  if (dkim_keys_ == nullptr || !dkim_keys_->MayHaveKeys(author_domain)) co_return std::string();
  // Reading the key files and RSA signing are blocking work.
  auto sign = [this, &author_domain, message]() -> Result<std::string> {
    return dkim_keys_->SignatureFields(author_domain, message, Clock::Real().NowUnix());
  };
  Result<std::string> fields = co_await Offload(blocking_, std::move(sign));
  if (!fields.ok()) {
    LOG_ERROR("dkim: cannot sign mail from {}: {}", author_domain, fields.status().ToString());
    co_return std::string();
  }
  co_return std::move(*fields);
}

asio::awaitable<Status> StoreBackend::Accept(Envelope env, std::string content) {
  // Encode (hash, compress) and parse the structure IMAP will ask for: in
  // place when small, on the blocking pool when large. A message only passing
  // through (no local recipient) is neither parsed nor indexed for search:
  // no mailbox will show it, and parsing and indexing would cost more than
  // relaying it. Both are caches, filled on first use if it ever is shown.
  const bool any_local =
      std::any_of(env.recipients.begin(), env.recipients.end(), [](const auto& r) {
        return std::any_of(r.destinations.begin(), r.destinations.end(),
                           [](const auto& d) { return d.local; });
      });
  Result<store::Body> body = Internal("not encoded");
  std::optional<store::MessageParse> parse;
  if (content.size() <= kEncodeInPlace) {
    body = store_.EncodeBody(content);
    if (any_local) parse = mailbox::StructureOf(content);
  } else {
    auto encode = [this, &content, &parse, any_local] {
      if (any_local) parse = mailbox::StructureOf(content);
      return store_.EncodeBody(content);
    };
    body = co_await Offload(blocking_, std::move(encode));
  }
  if (!body.ok()) co_return body.status();
  if (body->in_file) {
    auto write = [this, &body] { return store_.WriteBodyFile(*body); };
    Status written = co_await Offload(blocking_, std::move(write));
    if (!written.ok()) co_return written;
  }

  const int64_t now = Clock::Real().NowUnix();
  store::QueueEntry entry;
  entry.id = env.queue_id;
  entry.created = now;
  entry.mail_from = env.mail_from;
  entry.blob = body->ref.hash;
  entry.size = body->ref.size;
  entry.stored_size = body->ref.stored_size;
  if (!body->in_file) entry.inline_body = std::move(body->compressed);
  entry.parse = std::move(parse);
  entry.body_type = env.params.body == smtp::BodyType::k8BitMime ? "8BITMIME" : "7BIT";
  entry.smtputf8 = env.params.smtputf8;
  entry.dsn_ret = env.params.ret == smtp::DsnRet::kFull      ? "FULL"
                  : env.params.ret == smtp::DsnRet::kHeaders ? "HDRS"
                                                             : "";
  entry.dsn_envid = env.params.envid;
  entry.requiretls = env.params.requiretls;
  entry.client = env.client;
  // One queue recipient per final destination: an address reached through
  // several RCPTs or aliases gets one copy.
  std::set<std::string> seen;
  bool remote = false;
  std::vector<store::LocalDelivery> expanded;  // "expanded" reports, sent once accepted
  for (const auto& rcpt : env.recipients) {
    // RFC 3461 §5.2.7.3 (c): an alias of several addresses passes NOTIFY on
    // without SUCCESS (and says nothing of its members); if SUCCESS was asked
    // for, the sender is told the alias was expanded.
    const std::string orcpt =
        rcpt.params.orcpt.empty() ? "" : rcpt.params.orcpt_type + ";" + rcpt.params.orcpt;
    unsigned notify = rcpt.params.notify;
    if (rcpt.destinations.size() > 1 && (notify & smtp::kNotifySuccess)) {
      notify &= ~static_cast<unsigned>(smtp::kNotifySuccess);
      if (notify == 0) notify = smtp::kNotifyNever;
      if (!env.mail_from.empty()) {
        store::LocalDelivery report;
        report.queue_id = env.queue_id;
        report.address = rcpt.address;
        report.blob = body->ref.hash;
        report.success_notice =
            store::LocalDelivery::Notice{env.mail_from, env.params.envid, orcpt, now, "expanded"};
        expanded.push_back(std::move(report));
      }
    }
    for (const auto& dest : rcpt.destinations) {
      if (!seen.insert(dest.address).second) continue;
      store::QueueRecipient r;
      r.address = dest.address;
      r.original = rcpt.address;
      r.orcpt = orcpt;
      r.notify = notify;
      r.local = dest.local;
      // Local recipients are delivered in the accepting transaction; this is
      // when whatever stays queued is first retried. Remote ones are for the
      // outbound agent, now.
      r.next_attempt = r.local ? now + options_.first_retry : now;
      remote = remote || !r.local;
      entry.recipients.push_back(std::move(r));
    }
  }

  struct Committed {
    Status status;
    store::QueueEntry entry;
    std::vector<store::DeliveryOutcome> outcomes;
  };
  std::vector<store::LocalDelivery> plan = runner_.Plan(entry, now);
  const bool alone = active_sessions_ && active_sessions_() <= 1;
  auto start = [this, &entry, &plan, alone](std::function<void(Committed)> done) {
    store_.AcceptAsync(
        std::move(entry), plan,
        [done = std::move(done)](Status s, store::QueueEntry committed_entry,
                                 std::vector<store::DeliveryOutcome> outcomes) {
          done(Committed{std::move(s), std::move(committed_entry), std::move(outcomes)});
        },
        /*may_block=*/alone);
  };
  Committed committed = co_await AwaitCallback<Committed>(std::move(start));
  if (committed.status.ok()) {
    runner_.Report(plan, committed.outcomes);
    runner_.AddNotices(std::move(expanded));
    if (remote && on_remote_queued_) {
      on_remote_queued_(std::move(committed.entry),
                        std::make_shared<const std::string>(std::move(content)));
    }
  }
  co_return committed.status;
}

}  // namespace postern::smtpserver
