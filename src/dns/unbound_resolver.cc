// The Resolver over libunbound: its background thread does the queries, and
// its result pipe (ub_fd) is watched from the io_context, where ub_process
// runs the callbacks. One steady_timer per query is both its timeout and its
// wake-up: the callback cancels it.
#include <unbound.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <fstream>
#include <unordered_set>

#include "base/strings.h"
#include "dns/rdata.h"
#include "dns/resolver.h"

namespace postern::dns {
namespace {

constexpr int kTypeA = 1;
constexpr int kTypeMx = 15;
constexpr int kTypeTxt = 16;
constexpr int kTypeAaaa = 28;
constexpr int kTypeTlsa = 52;
constexpr int kClassIn = 1;
constexpr int kRcodeNxdomain = 3;

// Removes a `;` comment, minding quoted strings (TXT data may hold `;`).
std::string_view StripComment(std::string_view line) {
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\') {
      ++i;
    } else if (line[i] == '"') {
      quoted = !quoted;
    } else if (line[i] == ';' && !quoted) {
      return line.substr(0, i);
    }
  }
  return line;
}

// Loads every record of the static zone file into `ctx` as local data.
Status LoadStaticZone(ub_ctx* ctx, const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read dns.static_zone " + path);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string record(TrimWhitespace(StripComment(line)));
    if (record.empty()) continue;
    if (int rc = ub_ctx_data_add(ctx, record.c_str()); rc != 0) {
      return InvalidArgument(path + " line " + std::to_string(number) + ": " + ub_strerror(rc) +
                             ": " + record);
    }
  }
  return Status::Ok();
}

Status Check(int rc, const std::string& what) {
  if (rc == 0) return Status::Ok();
  return InvalidArgument(what + ": " + ub_strerror(rc));
}

// Applies `config` to a new context, before its first query.
Status Configure(ub_ctx* ctx, const config::DnsConfig& config) {
  // A thread, not a forked process (docs: TOOLCHAIN.md).
  PT_RETURN_IF_ERROR(Check(ub_ctx_async(ctx, 1), "libunbound async mode"));
  if (!config.static_zone.empty()) {
    // Every name below the root is answered from local data or not at all,
    // and the dead forwarder keeps anything from leaving the machine. The
    // forwarder first: adding a zone finalizes the settings.
    PT_RETURN_IF_ERROR(Check(ub_ctx_set_fwd(ctx, "127.0.0.1@9"), "dns.static_zone"));
    PT_RETURN_IF_ERROR(Check(ub_ctx_zone_add(ctx, ".", "static"), "dns.static_zone"));
    return LoadStaticZone(ctx, config.static_zone);
  }
  if (config.resolvers.empty()) {
    PT_RETURN_IF_ERROR(Check(ub_ctx_resolvconf(ctx, nullptr), "reading /etc/resolv.conf"));
  }
  for (const std::string& resolver : config.resolvers) {
    PT_RETURN_IF_ERROR(Check(ub_ctx_set_fwd(ctx, resolver.c_str()), "dns.resolvers " + resolver));
  }
  if (config.dnssec) {
    // libunbound reads the file only at the first query: check it now.
    if (!std::ifstream(config.trust_anchor)) {
      return NotFound("cannot read dns.trust_anchor " + config.trust_anchor +
                      " (Debian: apt-get install dns-root-data)");
    }
    PT_RETURN_IF_ERROR(Check(ub_ctx_add_ta_file(ctx, config.trust_anchor.c_str()),
                             "dns.trust_anchor " + config.trust_anchor));
  }
  return Status::Ok();
}

class UnboundResolver final : public Resolver {
 public:
  UnboundResolver(asio::io_context& context, ub_ctx* ctx, const config::DnsConfig& config)
      : context_(context),
        ctx_(ctx),
        fd_(context, ub_fd(ctx)),
        timeout_(config.timeout),
        force_secure_(!config.static_zone.empty() && config.static_zone_secure) {}

  ~UnboundResolver() override {
    for (Lookup* lookup : pending_) {
      ub_cancel(ctx_, lookup->async_id);
      lookup->owner = nullptr;
      lookup->abandoned = true;
      lookup->timer.cancel();
    }
    pending_.clear();
    alive_.reset();
    fd_.release();  // libunbound owns the descriptor (and closes it)
    ub_ctx_delete(ctx_);
  }

  asio::awaitable<MxAnswer> Mx(std::string domain) override {
    return Query(std::move(domain), kTypeMx, &ParseMxRdata, &MxAnswer::records);
  }

  asio::awaitable<AddressAnswer> Addresses(std::string host) override {
    // Both queries at once; neither waits for the other.
    Lookup a(context_.get_executor());
    Lookup aaaa(context_.get_executor());
    Start(a, host, kTypeA);
    Start(aaaa, host, kTypeAaaa);
    co_await Wait(a);
    co_await Wait(aaaa);
    AddressAnswer answer;
    Answer from_a = a.Outcome();
    Answer from_aaaa = aaaa.Outcome();
    for (Lookup* lookup : {&a, &aaaa}) {
      lookup->ForEachRecord([&](std::string_view rdata) {
        if (auto address = ParseAddressRdata(rdata)) answer.addresses.push_back(*address);
      });
    }
    // One family failing does not hide the addresses of the other, unless
    // it failed validation: then someone is tampering with the answers.
    if (from_a.bogus || from_aaaa.bogus) {
      answer.addresses.clear();
      answer.status = from_a.bogus ? from_a.status : from_aaaa.status;
    } else if (from_a.status.ok() && from_aaaa.status.ok()) {
      answer.status = Status::Ok();
    } else if (!answer.addresses.empty()) {
      answer.status = Status::Ok();
    } else {
      answer.status = from_a.status.ok() ? from_aaaa.status : from_a.status;
    }
    answer.nxdomain = from_a.nxdomain && (from_aaaa.nxdomain || !from_aaaa.status.ok());
    answer.secure = from_a.secure && from_aaaa.secure;
    answer.bogus = from_a.bogus || from_aaaa.bogus;
    co_return answer;
  }

  asio::awaitable<TlsaAnswer> Tlsa(std::string name) override {
    return Query(std::move(name), kTypeTlsa, &ParseTlsaRdata, &TlsaAnswer::records);
  }

  asio::awaitable<TxtAnswer> Txt(std::string name) override {
    return Query(std::move(name), kTypeTxt, &ParseTxtRdata, &TxtAnswer::texts);
  }

 private:
  // One query, living in the awaiting coroutine's frame. Once the resolver
  // is gone (`abandoned`) nothing here touches it.
  struct Lookup {
    explicit Lookup(asio::any_io_executor executor) : timer(std::move(executor)) {}
    Lookup(const Lookup&) = delete;
    Lookup& operator=(const Lookup&) = delete;
    ~Lookup() {
      if (owner) owner->Forget(*this);  // the frame was destroyed while waiting
      if (result) ub_resolve_free(result);
    }

    // The status and flags of the answer (records follow separately).
    Answer Outcome() const {
      Answer answer;
      if (!start_error.ok()) {
        answer.status = start_error;
      } else if (abandoned) {
        answer.status = Unavailable("DNS lookup of " + name + ": the resolver was shut down");
      } else if (!answered) {
        answer.status = Unavailable("DNS lookup of " + name + " timed out");
      } else if (err != 0 || !result) {
        answer.status = Unavailable("DNS lookup of " + name + ": " + ub_strerror(err));
      } else if (result->bogus) {
        answer.bogus = true;
        answer.status = Unavailable(
            "DNS lookup of " + name + ": DNSSEC validation failed" +
            (result->why_bogus ? std::string(": ") + result->why_bogus : std::string()));
      } else if (result->rcode != 0 && result->rcode != kRcodeNxdomain) {
        answer.status = Unavailable("DNS lookup of " + name + ": server answered RCODE " +
                                    std::to_string(result->rcode));
      } else {
        answer.nxdomain = result->rcode == kRcodeNxdomain;
        answer.secure = result->secure || force_secure;
      }
      return answer;
    }

    // Calls fn(rdata) for every record of a successful answer.
    template <typename Fn>
    void ForEachRecord(Fn fn) const {
      if (!Outcome().status.ok() || !result->havedata) return;
      for (int i = 0; result->data[i]; ++i) {
        fn(std::string_view(result->data[i], static_cast<size_t>(result->len[i])));
      }
    }

    UnboundResolver* owner = nullptr;  // set while libunbound may call back
    std::string name;
    int async_id = 0;
    asio::steady_timer timer;
    bool force_secure = false;
    bool answered = false;
    bool abandoned = false;
    Status start_error;
    int err = 0;
    ub_result* result = nullptr;
  };

  // One query of `type`, each record parsed into `records` of the answer.
  template <typename AnswerType, typename Record>
  asio::awaitable<AnswerType> Query(std::string name, int type,
                                    std::optional<Record> (*parse)(std::string_view),
                                    std::vector<Record> AnswerType::*records) {
    Lookup lookup(context_.get_executor());
    Start(lookup, name, type);
    co_await Wait(lookup);
    AnswerType answer;
    static_cast<Answer&>(answer) = lookup.Outcome();
    lookup.ForEachRecord([&](std::string_view rdata) {
      if (auto record = parse(rdata)) (answer.*records).push_back(std::move(*record));
    });
    co_return answer;
  }

  // Sends the query; a failure is kept in lookup.start_error.
  void Start(Lookup& lookup, const std::string& name, int type) {
    lookup.name = name;
    lookup.force_secure = force_secure_;
    lookup.timer.expires_after(timeout_);
    lookup.owner = this;
    pending_.insert(&lookup);
    int rc = ub_resolve_async(ctx_, name.c_str(), type, kClassIn, &lookup,
                              &UnboundResolver::OnResult, &lookup.async_id);
    if (rc != 0) {
      pending_.erase(&lookup);
      lookup.owner = nullptr;
      lookup.start_error = Unavailable("DNS lookup of " + name + ": " + ub_strerror(rc));
      return;
    }
    WatchResults();
  }

  // Until the answer, the timeout, or the resolver's end. Touches the
  // resolver only when it still exists.
  asio::awaitable<void> Wait(Lookup& lookup) {
    if (lookup.owner && !lookup.answered) co_await lookup.timer.async_wait(kAwait);
    if (lookup.owner) Forget(lookup);  // timed out
  }

  // Withdraws a query libunbound has not answered.
  void Forget(Lookup& lookup) {
    ub_cancel(ctx_, lookup.async_id);
    pending_.erase(&lookup);
    lookup.owner = nullptr;
    // An idle resolver holds no wait, so io_context::run() can return.
    if (pending_.empty() && waiting_) fd_.cancel();
  }

  static void OnResult(void* data, int err, ub_result* result) {
    auto* lookup = static_cast<Lookup*>(data);
    lookup->err = err;
    lookup->result = result;
    lookup->answered = true;
    if (lookup->owner) {
      lookup->owner->pending_.erase(lookup);
      lookup->owner = nullptr;
    }
    lookup->timer.cancel();
  }

  // Keeps one wait on the result pipe while queries are outstanding.
  void WatchResults() {
    if (waiting_ || pending_.empty()) return;
    waiting_ = true;
    std::weak_ptr<int> alive = alive_;
    fd_.async_wait(asio::posix::descriptor_base::wait_read, [this, alive](error_code ec) {
      if (alive.expired()) return;
      waiting_ = false;
      if (!ec) ub_process(ctx_);
      if (!ec || ec == asio::error::operation_aborted) WatchResults();
    });
  }

  asio::io_context& context_;
  ub_ctx* ctx_;
  asio::posix::stream_descriptor fd_;
  std::chrono::seconds timeout_;
  bool force_secure_;
  bool waiting_ = false;
  std::unordered_set<Lookup*> pending_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // expires with the resolver
};

}  // namespace

Result<std::unique_ptr<Resolver>> MakeResolver(asio::io_context& context,
                                               const config::DnsConfig& config) {
  ub_ctx* ctx = ub_ctx_create();
  if (!ctx) return Internal("cannot create a libunbound context");
  if (Status status = Configure(ctx, config); !status.ok()) {
    ub_ctx_delete(ctx);
    return status;
  }
  return std::unique_ptr<Resolver>(std::make_unique<UnboundResolver>(context, ctx, config));
}

}  // namespace postern::dns
