#include "directory/resolver.h"

#include <map>
#include <set>

namespace postern::directory {
namespace {

struct Split {
  std::string local;
  std::string domain;
};

Split SplitAddress(const std::string& address) {
  size_t at = address.rfind('@');
  if (at == std::string::npos) return {address, ""};
  return {address.substr(0, at), address.substr(at + 1)};
}

class Expander {
 public:
  Expander(DirectoryLookup& lookup, const ResolverOptions& options)
      : lookup_(lookup), options_(options) {}

  // Appends the destinations of `address` (in a local domain) to out_.
  // Returns false when nothing matched at all.
  Result<bool> Expand(const std::string& address, int depth) {
    if (depth > kMaxAliasDepth || visiting_.count(address)) {
      return true;  // a loop or too deep: contributes nothing, but is not "unknown"
    }
    // An address reached again (a "diamond" of aliases) adds nothing new
    // unless this time it is nearer the top and so may go deeper.
    auto done = expanded_.find(address);
    if (done != expanded_.end() && done->second.depth <= depth) return done->second.matched;
    visiting_.insert(address);
    Split parts = SplitAddress(address);
    PT_ASSIGN_OR_RETURN(bool matched, ExpandExact(address, depth));
    if (!matched && !options_.recipient_delimiter.empty()) {
      size_t cut = parts.local.find(options_.recipient_delimiter[0]);
      if (cut != std::string::npos && cut > 0) {
        std::string base = parts.local.substr(0, cut) + "@" + parts.domain;
        if (visiting_.insert(base).second) {
          PT_ASSIGN_OR_RETURN(matched, ExpandExact(base, depth));
          visiting_.erase(base);
        } else {
          matched = true;
        }
      }
    }
    if (!matched) {
      PT_ASSIGN_OR_RETURN(auto targets, FindAliasTargets("@" + parts.domain));
      if (!targets.empty()) {
        matched = true;
        PT_RETURN_IF_ERROR(ExpandTargets(address, parts.local, targets, depth));
      }
    }
    visiting_.erase(address);
    expanded_[address] = {depth, matched};
    return matched;
  }

  std::vector<Destination> take() { return std::move(out_); }

 private:
  // Alias or account for exactly `address`.
  Result<bool> ExpandExact(const std::string& address, int depth) {
    PT_ASSIGN_OR_RETURN(auto targets, FindAliasTargets(address));
    if (!targets.empty()) {
      PT_RETURN_IF_ERROR(ExpandTargets(address, SplitAddress(address).local, targets, depth));
      return true;
    }
    PT_ASSIGN_OR_RETURN(auto account, FindAccount(address));
    if (account) {
      PT_RETURN_IF_ERROR(Add(Destination{address, true, *account}));
      return true;
    }
    return false;
  }

  Status ExpandTargets(const std::string& source, const std::string& local_part,
                       const std::vector<std::string>& targets, int depth) {
    for (std::string target : targets) {
      if (!target.empty() && target[0] == '@') target = local_part + target;  // domain alias
      if (target == source) {
        // "Keep a copy": the alias names itself, so deliver to the account.
        PT_ASSIGN_OR_RETURN(auto account, FindAccount(target));
        if (account) PT_RETURN_IF_ERROR(Add(Destination{target, true, *account}));
        continue;
      }
      Split parts = SplitAddress(target);
      PT_ASSIGN_OR_RETURN(bool local, IsLocalDomain(parts.domain));
      if (!local) {
        PT_RETURN_IF_ERROR(Add(Destination{target, false, {}}));
        continue;
      }
      // A local target that resolves to nobody is dropped (a stale alias
      // must not make the other targets unreachable).
      PT_ASSIGN_OR_RETURN(bool matched, Expand(target, depth + 1));
      (void)matched;
    }
    return Status::Ok();
  }

  Status Add(Destination d) {
    if (!seen_.emplace(d.address, d.local).second) return Status::Ok();
    if (out_.size() >= options_.max_destinations) {
      return ResourceExhausted("alias expansion exceeds " +
                               std::to_string(options_.max_destinations) + " destinations");
    }
    out_.push_back(std::move(d));
    return Status::Ok();
  }

  // The lookups, counted: a tangle of aliases costs bounded work.
  Status Count() {
    if (++lookups_ > options_.max_lookups) {
      return ResourceExhausted("alias expansion needs more than " +
                               std::to_string(options_.max_lookups) + " lookups");
    }
    return Status::Ok();
  }
  Result<std::vector<std::string>> FindAliasTargets(const std::string& source) {
    PT_RETURN_IF_ERROR(Count());
    return lookup_.FindAliasTargets(source);
  }
  Result<std::optional<AccountInfo>> FindAccount(const std::string& address) {
    PT_RETURN_IF_ERROR(Count());
    return lookup_.FindAccount(address);
  }
  Result<bool> IsLocalDomain(const std::string& domain) {
    PT_RETURN_IF_ERROR(Count());
    return lookup_.IsLocalDomain(domain);
  }

  struct Expanded {
    int depth;
    bool matched;
  };

  DirectoryLookup& lookup_;
  const ResolverOptions& options_;
  std::set<std::string> visiting_;
  std::map<std::string, Expanded> expanded_;
  std::set<std::pair<std::string, bool>> seen_;
  std::vector<Destination> out_;
  int lookups_ = 0;
};

}  // namespace

Result<Resolution> Resolve(DirectoryLookup& lookup, const std::string& address,
                           const ResolverOptions& options) {
  Resolution r;
  Split parts = SplitAddress(address);
  PT_ASSIGN_OR_RETURN(bool local, lookup.IsLocalDomain(parts.domain));
  if (!local) {
    r.kind = Resolution::kNotLocal;
    return r;
  }
  Expander expander(lookup, options);
  PT_ASSIGN_OR_RETURN(bool matched, expander.Expand(address, 0));
  r.destinations = expander.take();
  r.kind = matched && !r.destinations.empty() ? Resolution::kDeliverable : Resolution::kUnknownUser;
  return r;
}

Result<bool> MaySendAs(DirectoryLookup& lookup, const std::string& account,
                       const std::string& sender, const ResolverOptions& options) {
  if (sender == account) return true;
  std::vector<std::string> candidates = {sender};
  const size_t at = sender.rfind('@');
  if (at != std::string::npos && !options.recipient_delimiter.empty()) {
    const size_t tag = sender.find(options.recipient_delimiter[0]);
    if (tag != std::string::npos && tag < at) {
      std::string base = sender.substr(0, tag) + sender.substr(at);
      if (base == account) return true;
      candidates.push_back(std::move(base));
    }
  }
  for (const std::string& candidate : candidates) {
    PT_ASSIGN_OR_RETURN(std::vector<std::string> targets, lookup.FindAliasTargets(candidate));
    if (targets.empty()) continue;
    PT_ASSIGN_OR_RETURN(Resolution resolution, Resolve(lookup, candidate, options));
    for (const Destination& d : resolution.destinations) {
      if (d.local && d.address == account) return true;
    }
  }
  return false;
}

}  // namespace postern::directory
