// `postern dkim` (signing keys) and `postern dns` (the records a domain
// publishes for this server).
#include <cstdio>
#include <set>

#include "base/clock.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "directory/directory.h"
#include "dkim/key_directory.h"

namespace postern::cli {
namespace {

using nlohmann::json;

std::string KeyRoot(const config::Config& config) { return config.server.data_dir + "/dkim"; }

// The domain, normalized, if it is served here.
Result<std::string> LocalDomain(Context& ctx, const std::string& name) {
  PT_ASSIGN_OR_RETURN(std::string domain, directory::NormalizeDomainName(name));
  PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
  PT_ASSIGN_OR_RETURN(bool local, store->IsLocalDomain(domain));
  if (!local) {
    return NotFound(domain + " is not a domain served here (add it with: postern domain add " +
                    domain + ")");
  }
  return domain;
}

// A TXT value as zone-file text: quoted strings of at most 255 bytes each
// (RFC 1035 §3.3.14; RFC 6376 §3.6.2.2 joins them back).
std::string QuotedTxt(std::string_view text) {
  std::string out;
  for (size_t pos = 0; pos < text.size() || pos == 0; pos += 255) {
    if (!out.empty()) out += ' ';
    out += '"';
    for (char c : text.substr(pos, 255)) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
    if (text.empty()) break;
  }
  return out;
}

struct Record {
  std::string name;  // fully qualified, with the final dot
  std::string type;
  std::string value;  // as it goes after the type in a zone file
  std::string purpose;
};

json RecordJson(const Record& r) {
  return {{"name", r.name}, {"type", r.type}, {"value", r.value}, {"purpose", r.purpose}};
}

void PrintRecords(const std::vector<Record>& records) {
  std::string last_purpose;
  for (const Record& r : records) {
    if (r.purpose != last_purpose) std::printf("; %s\n", r.purpose.c_str());
    last_purpose = r.purpose;
    std::printf("%s IN %s %s\n", r.name.c_str(), r.type.c_str(), r.value.c_str());
  }
}

Record DkimRecord(const dkim::KeyInfo& key) {
  return {key.selector + "._domainkey." + key.domain + ".", "TXT", QuotedTxt(key.record),
          "DKIM key " + key.selector + " (" + std::string(dkim::AlgorithmName(key.algorithm)) +
              "), RFC 6376 §3.6.2"};
}

json KeyJson(const dkim::KeyInfo& key) {
  return {{"domain", key.domain},
          {"selector", key.selector},
          {"algorithm", std::string(dkim::AlgorithmName(key.algorithm))},
          {"active", key.active},
          {"created", key.created},
          {"path", key.path},
          {"name", key.selector + "._domainkey." + key.domain + "."},
          {"record", key.record}};
}

// The port of the first "ip:port" / "[ipv6]:port" of `listen`, 0 if none.
int FirstPort(const std::vector<std::string>& listen) {
  for (const std::string& address : listen) {
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos) continue;
    try {
      return std::stoi(address.substr(colon + 1));
    } catch (const std::exception&) {
      continue;
    }
  }
  return 0;
}

// RFC 6186 §3 (and RFC 8314 §5.1 for implicit TLS, preferred: priority 0).
// A service not offered gets target "." (RFC 6186 §4, RFC 2782).
void AddSrv(std::vector<Record>& records, const std::string& service, int priority, int port,
            const std::string& domain, const std::string& host) {
  const std::string purpose = "Client configuration (RFC 6186, RFC 8314)";
  records.push_back(
      {"_" + service + "._tcp." + domain + ".", "SRV",
       port > 0 ? std::to_string(priority) + " 1 " + std::to_string(port) + " " + host + "."
                : "0 0 0 .",
       purpose});
}

// The MTA-STS policy (RFC 8461 §3.2) served at
// https://mta-sts.DOMAIN/.well-known/mta-sts.txt.
std::string MtaStsPolicy(const std::string& host) {
  return "version: STSv1\nmode: testing\nmx: " + host + "\nmax_age: 604800\n";
}

std::string HexPrefix(std::string_view bytes, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes.substr(0, n / 2)) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::vector<Record> DomainRecords(const config::Config& config, const std::string& domain,
                                  const std::vector<dkim::KeyInfo>& keys) {
  const std::string& host = config.server.hostname;
  const std::string d = domain + ".";
  const std::string reports = "mailto:postmaster@" + domain;
  std::vector<Record> r;
  r.push_back({d, "MX", "10 " + host + ".", "Mail for the domain comes here (RFC 5321 §5.1)"});
  r.push_back({d, "TXT", QuotedTxt("v=spf1 mx -all"), "SPF: only the MX hosts send (RFC 7208)"});
  for (const dkim::KeyInfo& key : keys) {
    if (key.active) r.push_back(DkimRecord(key));
  }
  r.push_back({"_dmarc." + d, "TXT", QuotedTxt("v=DMARC1; p=quarantine; rua=" + reports),
               "DMARC policy and aggregate reports (RFC 7489)"});
  const std::string policy_id = HexPrefix(dkim::Sha256(MtaStsPolicy(host)), 16);
  r.push_back({"_mta-sts." + d, "TXT", QuotedTxt("v=STSv1; id=" + policy_id),
               "MTA-STS (RFC 8461): the policy below, served over HTTPS"});
  r.push_back({"mta-sts." + d, "CNAME", host + ".",
               "MTA-STS (RFC 8461): the policy below, served over HTTPS"});
  r.push_back({"_smtp._tls." + d, "TXT", QuotedTxt("v=TLSRPTv1; rua=" + reports),
               "TLS reporting (RFC 8460)"});
  AddSrv(r, "submissions", 0, FirstPort(config.submission.listen_tls), domain, host);
  AddSrv(r, "submission", 10, FirstPort(config.submission.listen), domain, host);
  AddSrv(r, "imaps", 0, FirstPort(config.imap.listen_tls), domain, host);
  AddSrv(r, "imap", 10, FirstPort(config.imap.listen), domain, host);
  AddSrv(r, "pop3s", 0, FirstPort(config.pop3.listen_tls), domain, host);
  AddSrv(r, "pop3", 10, FirstPort(config.pop3.listen), domain, host);
  const std::string autoconfig = "Mail client autoconfiguration (Thunderbird, Outlook)";
  r.push_back({"autoconfig." + d, "CNAME", host + ".", autoconfig});
  r.push_back({"autodiscover." + d, "CNAME", host + ".", autoconfig});
  return r;
}

Result<dkim::Algorithm> ParseAlgorithm(const std::string& name) {
  if (name == "ed25519") return dkim::Algorithm::kEd25519Sha256;
  if (name == "rsa2048" || name == "rsa") return dkim::Algorithm::kRsaSha256;
  return InvalidArgument("unknown --algorithm \"" + name + "\": use ed25519, rsa2048 or both");
}

}  // namespace

void AddDkimCommands(CLI::App& app, Context& ctx, Action* action) {
  CLI::App* dkim_cmd = app.add_subcommand("dkim", "Manage the DKIM keys that sign outgoing mail");
  dkim_cmd->require_subcommand(0, 1);

  auto domain = std::make_shared<std::string>();
  auto algorithm = std::make_shared<std::string>("both");
  auto selector = std::make_shared<std::string>();
  CLI::App* generate = dkim_cmd->add_subcommand(
      "generate",
      "Create a signing key for a domain and print its DNS record. Mail from the domain is "
      "signed with every active key at once: generate a new selector, publish it, then retire "
      "the old one.");
  generate->add_option("DOMAIN", *domain, "A domain served here")->required();
  generate->add_option("--algorithm", *algorithm,
                       "ed25519, rsa2048, or both (default: both; receivers that know only RSA "
                       "check the RSA signature)");
  generate->add_option("--selector", *selector,
                       "The selector (default: YYYYMM and e for Ed25519 or r for RSA, e.g. "
                       "202506e); only with one algorithm");
  generate->add_flag("--json", ctx.globals().json, "Print JSON");
  generate->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      std::vector<dkim::Algorithm> algorithms;
      if (*algorithm == "both") {
        if (!selector->empty()) {
          return InvalidArgument("--selector names one key: add --algorithm ed25519 or rsa2048");
        }
        algorithms = {dkim::Algorithm::kEd25519Sha256, dkim::Algorithm::kRsaSha256};
      } else {
        PT_ASSIGN_OR_RETURN(dkim::Algorithm a, ParseAlgorithm(*algorithm));
        algorithms = {a};
      }
      PT_ASSIGN_OR_RETURN(std::string d, LocalDomain(ctx, *domain));
      PT_ASSIGN_OR_RETURN(const config::Config* config, ctx.Config());
      dkim::KeyDirectory keys(KeyRoot(*config));
      std::vector<dkim::KeyInfo> made;
      for (dkim::Algorithm a : algorithms) {
        PT_ASSIGN_OR_RETURN(dkim::KeyInfo key,
                            keys.Generate(d, a, *selector, Clock::Real().NowUnix()));
        made.push_back(std::move(key));
      }
      if (ctx.globals().json) {
        json out = json::array();
        for (const auto& k : made) out.push_back(KeyJson(k));
        PrintJson(out);
        return Status::Ok();
      }
      for (const auto& k : made) {
        std::printf("Created %s key %s for %s (%s); mail from %s is signed with it now.\n",
                    std::string(dkim::KeyTypeName(k.algorithm)).c_str(), k.selector.c_str(),
                    d.c_str(), k.path.c_str(), d.c_str());
      }
      std::printf("Publish in DNS:\n");
      for (const auto& k : made) {
        const Record r = DkimRecord(k);
        std::printf("%s IN TXT %s\n", r.name.c_str(), r.value.c_str());
      }
      return Status::Ok();
    };
  });

  auto list_domain = std::make_shared<std::string>();
  CLI::App* list = dkim_cmd->add_subcommand("list", "List DKIM keys, active and retired");
  list->add_option("DOMAIN", *list_domain, "Only this domain");
  list->add_flag("--json", ctx.globals().json, "Print JSON (with each key's DNS record)");
  list->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      std::string d;
      if (!list_domain->empty()) {
        PT_ASSIGN_OR_RETURN(d, directory::NormalizeDomainName(*list_domain));
      }
      PT_ASSIGN_OR_RETURN(const config::Config* config, ctx.Config());
      PT_ASSIGN_OR_RETURN(auto keys, dkim::KeyDirectory(KeyRoot(*config)).List(d));
      if (ctx.globals().json) {
        json out = json::array();
        for (const auto& k : keys) out.push_back(KeyJson(k));
        PrintJson(out);
        return Status::Ok();
      }
      Table t({"DOMAIN", "SELECTOR", "ALGORITHM", "STATUS", "CREATED"});
      for (const auto& k : keys) {
        t.Add({k.domain, k.selector, std::string(dkim::AlgorithmName(k.algorithm)),
               k.active ? "signing" : "retired", Age(k.created)});
      }
      t.Print(d.empty() ? "No DKIM keys (create one with: postern dkim generate DOMAIN)"
                        : "No DKIM keys for " + d + " (create one with: postern dkim generate " +
                              d + ")");
      return Status::Ok();
    };
  });

  auto retire_selector = std::make_shared<std::string>();
  CLI::App* retire = dkim_cmd->add_subcommand(
      "retire",
      "Stop signing with a key. Keep its DNS record published for a few days so that mail "
      "already sent still verifies.");
  retire->add_option("DOMAIN", *domain, "The domain")->required();
  retire->add_option("SELECTOR", *retire_selector, "The key's selector")->required();
  retire->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(std::string d, directory::NormalizeDomainName(*domain));
      PT_ASSIGN_OR_RETURN(const config::Config* config, ctx.Config());
      dkim::KeyDirectory keys(KeyRoot(*config));
      PT_RETURN_IF_ERROR(keys.Retire(d, *retire_selector));
      PT_ASSIGN_OR_RETURN(auto left, keys.ActiveKeys(d));
      std::printf("Retired %s for %s: it no longer signs. %zu key%s still sign%s.\n",
                  retire_selector->c_str(), d.c_str(), left.size(), left.size() == 1 ? "" : "s",
                  left.size() == 1 ? "s" : "");
      if (left.empty()) {
        std::fprintf(stderr,
                     "warning: mail from %s is no longer signed; create a key with: postern "
                     "dkim generate %s\n",
                     d.c_str(), d.c_str());
      }
      return Status::Ok();
    };
  });
}

void AddDnsCommand(CLI::App& app, Context& ctx, Action* action) {
  auto domain = std::make_shared<std::string>();
  CLI::App* dns = app.add_subcommand(
      "dns",
      "Print the DNS records a domain should publish for this server: MX, SPF, DKIM, DMARC, "
      "MTA-STS, TLS-RPT, SRV and autoconfiguration");
  dns->add_option("DOMAIN", *domain, "A domain served here")->required();
  dns->add_flag("--json", ctx.globals().json, "Print JSON");
  dns->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(std::string d, LocalDomain(ctx, *domain));
      PT_ASSIGN_OR_RETURN(const config::Config* config, ctx.Config());
      PT_ASSIGN_OR_RETURN(auto keys, dkim::KeyDirectory(KeyRoot(*config)).List(d));
      const std::vector<Record> records = DomainRecords(*config, d, keys);
      const std::string policy = MtaStsPolicy(config->server.hostname);
      const bool signing = std::any_of(keys.begin(), keys.end(), [](auto& k) { return k.active; });
      if (ctx.globals().json) {
        json out = {
            {"domain", d}, {"hostname", config->server.hostname}, {"mta_sts_policy", policy}};
        out["records"] = json::array();
        for (const Record& r : records) out["records"].push_back(RecordJson(r));
        PrintJson(out);
        return Status::Ok();
      }
      std::printf(
          "; DNS records for %s, served by %s. %s needs A/AAAA records (and\n"
          "; matching PTR records) of its own.\n",
          d.c_str(), config->server.hostname.c_str(), config->server.hostname.c_str());
      PrintRecords(records);
      if (!signing) {
        std::printf("; No DKIM key yet: create them with: postern dkim generate %s\n", d.c_str());
      }
      std::printf(
          "\n; The MTA-STS policy, to serve at https://mta-sts.%s/.well-known/mta-sts.txt\n"
          "; (mode testing: switch to enforce once reports show no failures)\n%s",
          d.c_str(), policy.c_str());
      return Status::Ok();
    };
  });
}

}  // namespace postern::cli
