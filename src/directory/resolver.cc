#include "directory/resolver.h"

#include <algorithm>
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
    if (depth > kMaxAliasDepth || !visiting_.insert(address).second) {
      return true;  // a loop or too deep: contributes nothing, but is not "unknown"
    }
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
      PT_ASSIGN_OR_RETURN(auto targets, lookup_.FindAliasTargets("@" + parts.domain));
      if (!targets.empty()) {
        matched = true;
        PT_RETURN_IF_ERROR(ExpandTargets(address, parts.local, targets, depth));
      }
    }
    visiting_.erase(address);
    return matched;
  }

  std::vector<Destination> take() { return std::move(out_); }

 private:
  // Alias or account for exactly `address`.
  Result<bool> ExpandExact(const std::string& address, int depth) {
    PT_ASSIGN_OR_RETURN(auto targets, lookup_.FindAliasTargets(address));
    if (!targets.empty()) {
      PT_RETURN_IF_ERROR(ExpandTargets(address, SplitAddress(address).local, targets, depth));
      return true;
    }
    PT_ASSIGN_OR_RETURN(auto account, lookup_.FindAccount(address));
    if (account) {
      Add(Destination{address, true, *account});
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
        PT_ASSIGN_OR_RETURN(auto account, lookup_.FindAccount(target));
        if (account) Add(Destination{target, true, *account});
        continue;
      }
      Split parts = SplitAddress(target);
      PT_ASSIGN_OR_RETURN(bool local, lookup_.IsLocalDomain(parts.domain));
      if (!local) {
        Add(Destination{target, false, {}});
        continue;
      }
      // A local target that resolves to nobody is dropped (a stale alias
      // must not make the other targets unreachable).
      PT_ASSIGN_OR_RETURN(bool matched, Expand(target, depth + 1));
      (void)matched;
    }
    return Status::Ok();
  }

  void Add(Destination d) {
    if (std::find(out_.begin(), out_.end(), d) == out_.end()) out_.push_back(std::move(d));
  }

  DirectoryLookup& lookup_;
  const ResolverOptions& options_;
  std::set<std::string> visiting_;
  std::vector<Destination> out_;
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

}  // namespace postern::directory
