// `postern domain`, `postern user` and `postern alias`.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>

#include "base/clock.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "directory/directory.h"
#include "directory/password.h"
#include "directory/scram_secrets.h"

namespace postern::cli {
namespace {

using nlohmann::json;

Result<std::string> ReadPasswordFromStdin() {
  std::string all((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  if (!all.empty() && all.back() == '\n') all.pop_back();
  if (!all.empty() && all.back() == '\r') all.pop_back();
  if (all.find('\n') != std::string::npos) {
    return InvalidArgument("--password-stdin expects one line: the password");
  }
  PT_RETURN_IF_ERROR(directory::CheckPasswordPolicy(all));
  return all;
}

// What to store for `password`: its argon2id hash and SCRAM-SHA-256 secrets
// with the configured iteration count.
Result<directory::StoredPassword> Protect(Context& ctx, const std::string& password) {
  PT_ASSIGN_OR_RETURN(const config::Config* config, ctx.Config());
  return directory::ProtectPassword(password, static_cast<uint32_t>(config->auth.scram_iterations));
}

// The password to set: from stdin, or a new random one that is printed.
Result<std::string> ChoosePassword(bool from_stdin, bool* generated) {
  *generated = !from_stdin;
  if (from_stdin) return ReadPasswordFromStdin();
  return directory::GeneratePassword();
}

// Postfix virtual(5) syntax: "source target, target", whitespace-led
// continuation lines, # comments. Errors name the line.
Result<std::vector<store::AliasInfo>> ParseAliasFile(const std::string& path) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path);
    if (!file) return NotFound("cannot read " + path);
    in = &file;
  }
  std::vector<std::pair<int, std::string>> entries;  // line number, joined text
  std::string line;
  for (int n = 1; std::getline(*in, line); ++n) {
    if (size_t hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    if (TrimWhitespace(line).empty()) continue;
    if ((line[0] == ' ' || line[0] == '\t') && !entries.empty()) {
      entries.back().second += " " + line;
    } else {
      entries.emplace_back(n, line);
    }
  }
  std::vector<store::AliasInfo> out;
  for (auto& [n, text] : entries) {
    for (char& c : text) {
      if (c == ',' || c == '\t') c = ' ';
    }
    std::vector<std::string> words;
    for (auto w : Split(text, ' ')) {
      if (!w.empty()) words.emplace_back(w);
    }
    const std::string where = path + " line " + std::to_string(n) + ": ";
    if (words.size() < 2) return InvalidArgument(where + "expected \"source target\"");
    store::AliasInfo alias;
    auto source = directory::NormalizeAddress(words[0], true);
    if (!source.ok()) return InvalidArgument(where + source.status().message());
    alias.source = *source;
    for (size_t i = 1; i < words.size(); ++i) {
      auto target = directory::NormalizeAddress(words[i], true);
      if (!target.ok()) return InvalidArgument(where + target.status().message());
      alias.targets.push_back(*target);
    }
    out.push_back(std::move(alias));
  }
  return out;
}

std::string DomainOf(const std::string& address) { return address.substr(address.rfind('@') + 1); }

// Forwarding to other hosts: say what happens to such mail, and what can go
// wrong with it.
void WarnAboutRemoteTargets(store::Store& store, const std::vector<std::string>& targets) {
  std::set<std::string> remote;
  for (const auto& t : targets) {
    auto local = store.IsLocalDomain(DomainOf(t));
    if (local.ok() && !*local) remote.insert(t);
  }
  for (const auto& t : remote) {
    std::fprintf(stderr,
                 "note: %s is not in a domain served here: mail for it is sent on to that "
                 "domain's mail servers (see postern queue list while it waits). The original "
                 "senders' SPF records do not name this server, so strict receivers may refuse "
                 "forwarded mail.\n",
                 t.c_str());
  }
}

std::string Quota(uint64_t used, uint64_t limit, bool bytes) {
  std::string u = bytes ? FormatBytes(used) : std::to_string(used);
  if (limit == 0) return u;
  return u + " / " + (bytes ? FormatBytes(limit) : std::to_string(limit));
}

}  // namespace

void AddDomainCommands(CLI::App& app, Context& ctx, Action* action) {
  CLI::App* domain = app.add_subcommand("domain", "Add, remove and list mail domains");
  domain->require_subcommand(0, 1);

  auto name = std::make_shared<std::string>();
  CLI::App* add = domain->add_subcommand("add", "Serve mail for a domain");
  add->add_option("DOMAIN", *name, "The domain, e.g. example.org")->required();
  add->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(std::string d, directory::NormalizeDomainName(*name));
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_RETURN_IF_ERROR(store->AddDomain(d).status());
      std::printf("Added domain %s. Add users with: postern user add USER@%s\n", d.c_str(),
                  d.c_str());
      return Status::Ok();
    };
  });

  auto force = std::make_shared<bool>(false);
  CLI::App* remove = domain->add_subcommand("remove", "Stop serving a domain");
  remove->add_option("DOMAIN", *name, "The domain")->required();
  remove->add_flag("--force", *force, "Also remove its users (and their mail) and aliases");
  remove->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(std::string d, directory::NormalizeDomainName(*name));
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_RETURN_IF_ERROR(store->RemoveDomain(d, *force));
      std::printf("Removed domain %s\n", d.c_str());
      return Status::Ok();
    };
  });

  CLI::App* list = domain->add_subcommand("list", "List the domains served here");
  list->add_flag("--json", ctx.globals().json, "Print JSON");
  list->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_ASSIGN_OR_RETURN(auto domains, store->ListDomains());
      if (ctx.globals().json) {
        json out = json::array();
        for (const auto& d : domains) {
          out.push_back({{"name", d.name},
                         {"users", d.accounts},
                         {"aliases", d.aliases},
                         {"created", FormatIsoUtc(d.created)}});
        }
        PrintJson(out);
        return Status::Ok();
      }
      Table t({"DOMAIN", "USERS", "ALIASES", "CREATED"});
      for (const auto& d : domains) {
        t.Add({d.name, std::to_string(d.accounts), std::to_string(d.aliases),
               FormatIsoUtc(d.created)});
      }
      t.Print("No domains yet: postern domain add example.org");
      return Status::Ok();
    };
  });
}

void AddUserCommands(CLI::App& app, Context& ctx, Action* action) {
  CLI::App* user = app.add_subcommand("user", "Add, remove, list users and set passwords");
  user->require_subcommand(0, 1);

  struct UserOptions {
    std::string address;
    bool password_stdin = false;
    std::string quota = "0";
    uint64_t quota_messages = 0;
    std::string domain;
  };
  auto o = std::make_shared<UserOptions>();

  CLI::App* add = user->add_subcommand("add", "Create a user with the standard mailboxes");
  add->add_option("ADDRESS", o->address, "user@domain; the domain must be served here")->required();
  add->add_flag("--password-stdin", o->password_stdin,
                "Read the password from standard input (otherwise one is generated and printed)");
  add->add_option("--quota", o->quota, "Storage quota, e.g. 2G or 500M (0 = unlimited)");
  add->add_option("--quota-messages", o->quota_messages, "Message quota (0 = unlimited)");
  add->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(std::string address, directory::NormalizeAddress(o->address));
      PT_ASSIGN_OR_RETURN(int64_t quota, config::ParseByteSize(o->quota));
      bool generated = false;
      PT_ASSIGN_OR_RETURN(std::string password, ChoosePassword(o->password_stdin, &generated));
      PT_ASSIGN_OR_RETURN(directory::StoredPassword stored, Protect(ctx, password));
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_ASSIGN_OR_RETURN(
          auto account,
          store->AddAccount(address, stored, static_cast<uint64_t>(quota), o->quota_messages));
      std::printf("Created user %s with mailboxes INBOX, Sent, Drafts, Trash, Junk, Archive\n",
                  account.address.c_str());
      if (generated) {
        std::printf("Password: %s\n(shown only now; change it with: postern user passwd %s)\n",
                    password.c_str(), address.c_str());
      }
      // RFC 5321 §4.5.1 and RFC 2142: every domain needs postmaster@ (and
      // abuse@). The first user of a domain receives them unless they exist.
      const std::string domain = DomainOf(address);
      for (const char* role : {"postmaster", "abuse"}) {
        std::string role_address = std::string(role) + "@" + domain;
        if (role_address == address) continue;
        PT_ASSIGN_OR_RETURN(auto existing, store->FindAccount(role_address));
        PT_ASSIGN_OR_RETURN(auto targets, store->FindAliasTargets(role_address));
        if (existing || !targets.empty()) continue;
        PT_RETURN_IF_ERROR(store->AddAlias(role_address, {address}));
        std::printf("Mail to %s now goes to %s (postern alias list)\n", role_address.c_str(),
                    address.c_str());
      }
      return Status::Ok();
    };
  });

  CLI::App* remove = user->add_subcommand("remove", "Delete a user and all of its mail");
  remove->add_option("ADDRESS", o->address, "user@domain")->required();
  remove->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(std::string address, directory::NormalizeAddress(o->address));
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_RETURN_IF_ERROR(store->RemoveAccount(address));
      std::printf("Removed user %s and its mail\n", address.c_str());
      return Status::Ok();
    };
  });

  CLI::App* passwd = user->add_subcommand("passwd", "Set a user's password");
  passwd->add_option("ADDRESS", o->address, "user@domain")->required();
  passwd->add_flag("--password-stdin", o->password_stdin,
                   "Read the password from standard input (otherwise one is generated and "
                   "printed)");
  passwd->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(std::string address, directory::NormalizeAddress(o->address));
      bool generated = false;
      PT_ASSIGN_OR_RETURN(std::string password, ChoosePassword(o->password_stdin, &generated));
      PT_ASSIGN_OR_RETURN(directory::StoredPassword stored, Protect(ctx, password));
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_RETURN_IF_ERROR(store->SetPassword(address, stored));
      std::printf("Password of %s changed\n", address.c_str());
      if (generated) std::printf("Password: %s\n(shown only now)\n", password.c_str());
      return Status::Ok();
    };
  });

  // App passwords: one per device or program, each revocable alone.
  CLI::App* app_password = user->add_subcommand(
      "app-password", "Passwords for one device or program each (add, list, remove)");
  app_password->require_subcommand(1);
  auto app_name = std::make_shared<std::string>();
  CLI::App* app_add = app_password->add_subcommand(
      "add", "Create an app password, print it once; it works wherever the password does");
  app_add->add_option("ADDRESS", o->address, "user@domain")->required();
  app_add->add_option("NAME", *app_name, "What it is for, e.g. phone or laptop-thunderbird")
      ->required();
  app_add->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(std::string address, directory::NormalizeAddress(o->address));
      if (app_name->empty() || app_name->size() > 64) {
        return InvalidArgument("NAME must be 1 to 64 characters, e.g. phone");
      }
      const std::string password = directory::GenerateAppPassword();
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_RETURN_IF_ERROR(
          store->AddAppPassword(address, *app_name, directory::AppPasswordHash(password)));
      if (ctx.globals().json) {
        PrintJson({{"address", address}, {"name", *app_name}, {"password", password}});
        return Status::Ok();
      }
      std::printf("App password \"%s\" of %s: %s\n", app_name->c_str(), address.c_str(),
                  password.c_str());
      std::printf(
          "(shown only now; use it instead of the password in that device's IMAP, POP3 and "
          "SMTP settings;\n remove it with: postern user app-password remove %s %s)\n",
          address.c_str(), app_name->c_str());
      return Status::Ok();
    };
  });
  app_add->add_flag("--json", ctx.globals().json, "Print JSON");
  CLI::App* app_list = app_password->add_subcommand("list", "List a user's app passwords");
  app_list->add_option("ADDRESS", o->address, "user@domain")->required();
  app_list->add_flag("--json", ctx.globals().json, "Print JSON");
  app_list->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(std::string address, directory::NormalizeAddress(o->address));
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_ASSIGN_OR_RETURN(auto passwords, store->ListAppPasswords(address));
      if (ctx.globals().json) {
        json out = json::array();
        for (const auto& p : passwords) {
          out.push_back({{"name", p.name}, {"created", FormatIsoUtc(p.created)}});
        }
        PrintJson(out);
        return Status::Ok();
      }
      Table t({"NAME", "CREATED"});
      for (const auto& p : passwords) t.Add({p.name, FormatIsoUtc(p.created)});
      t.Print("No app passwords");
      return Status::Ok();
    };
  });
  CLI::App* app_remove = app_password->add_subcommand(
      "remove", "Revoke an app password: logins with it fail from now on");
  app_remove->add_option("ADDRESS", o->address, "user@domain")->required();
  app_remove->add_option("NAME", *app_name, "As listed by app-password list")->required();
  app_remove->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(std::string address, directory::NormalizeAddress(o->address));
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_RETURN_IF_ERROR(store->RemoveAppPassword(address, *app_name));
      std::printf("Removed app password \"%s\" of %s\n", app_name->c_str(), address.c_str());
      return Status::Ok();
    };
  });

  CLI::App* quota = user->add_subcommand("quota", "Set a user's storage and message quotas");
  quota->add_option("ADDRESS", o->address, "user@domain")->required();
  quota->add_option("--quota", o->quota, "Storage quota, e.g. 2G (0 = unlimited)");
  quota->add_option("--quota-messages", o->quota_messages, "Message quota (0 = unlimited)");
  quota->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(std::string address, directory::NormalizeAddress(o->address));
      PT_ASSIGN_OR_RETURN(int64_t bytes, config::ParseByteSize(o->quota));
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_RETURN_IF_ERROR(store->SetQuota(address, static_cast<uint64_t>(bytes), o->quota_messages));
      std::printf("Quota of %s: %s, %s messages\n", address.c_str(),
                  bytes ? FormatBytes(static_cast<uint64_t>(bytes)).c_str() : "unlimited",
                  o->quota_messages ? std::to_string(o->quota_messages).c_str() : "unlimited");
      return Status::Ok();
    };
  });

  CLI::App* list = user->add_subcommand("list", "List users, of one domain or all");
  list->add_option("DOMAIN", o->domain, "Only this domain");
  list->add_flag("--json", ctx.globals().json, "Print JSON");
  list->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      std::string domain;
      if (!o->domain.empty()) {
        PT_ASSIGN_OR_RETURN(domain, directory::NormalizeDomainName(o->domain));
      }
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_ASSIGN_OR_RETURN(auto accounts, store->ListAccounts(domain));
      if (ctx.globals().json) {
        json out = json::array();
        for (const auto& a : accounts) {
          out.push_back({{"address", a.address},
                         {"quota_bytes", a.quota_bytes},
                         {"quota_messages", a.quota_messages},
                         {"used_bytes", a.used_bytes},
                         {"used_messages", a.used_messages},
                         {"disabled", a.disabled},
                         {"created", FormatIsoUtc(a.created)}});
        }
        PrintJson(out);
        return Status::Ok();
      }
      Table t({"USER", "STORAGE", "MESSAGES", "CREATED"});
      for (const auto& a : accounts) {
        t.Add({a.address + (a.disabled ? " (disabled)" : ""),
               Quota(a.used_bytes, a.quota_bytes, true),
               Quota(a.used_messages, a.quota_messages, false), FormatIsoUtc(a.created)});
      }
      t.Print("No users yet: postern user add user@example.org");
      return Status::Ok();
    };
  });
}

void AddAliasCommands(CLI::App& app, Context& ctx, Action* action) {
  CLI::App* alias =
      app.add_subcommand("alias", "Aliases: forward an address to others; @domain is a catch-all");
  alias->require_subcommand(0, 1);
  struct AliasOptions {
    std::string source;
    std::vector<std::string> targets;
    std::string target;
    std::string domain;
  };
  auto o = std::make_shared<AliasOptions>();

  CLI::App* add = alias->add_subcommand("add", "Send mail for SOURCE to each TARGET");
  add->add_option("SOURCE", o->source,
                  "An address of a domain served here, or @domain for every address of the "
                  "domain that has no user or alias (catch-all)")
      ->required();
  add->add_option("TARGET", o->targets,
                  "Local or remote addresses; @otherdomain maps user@SOURCE to user@otherdomain")
      ->required();
  add->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(std::string source, directory::NormalizeAddress(o->source, true));
      std::vector<std::string> targets;
      for (const auto& t : o->targets) {
        PT_ASSIGN_OR_RETURN(std::string target, directory::NormalizeAddress(t, true));
        targets.push_back(target);
      }
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_RETURN_IF_ERROR(store->AddAlias(source, targets));
      std::string list;
      for (const auto& t : targets) list += (list.empty() ? "" : ", ") + t;
      std::printf("Mail to %s goes to %s\n", source.c_str(), list.c_str());
      WarnAboutRemoteTargets(*store, targets);
      return Status::Ok();
    };
  });

  auto file = std::make_shared<std::string>();
  CLI::App* import_cmd = alias->add_subcommand(
      "import", "Add many aliases from a file in Postfix virtual(5) format, all or nothing");
  import_cmd
      ->add_option("FILE", *file,
                   "Lines \"source target[, target...]\"; # starts a comment; - reads stdin")
      ->required();
  import_cmd->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(auto aliases, ParseAliasFile(*file));
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_RETURN_IF_ERROR(store->AddAliases(aliases));
      std::printf("Imported %zu aliases\n", aliases.size());
      std::vector<std::string> targets;
      for (const auto& a : aliases)
        targets.insert(targets.end(), a.targets.begin(), a.targets.end());
      WarnAboutRemoteTargets(*store, targets);
      return Status::Ok();
    };
  }  // namespace postern::cli
  );

  CLI::App* remove = alias->add_subcommand("remove", "Remove an alias, or one of its targets");
  remove->add_option("SOURCE", o->source, "The alias")->required();
  remove->add_option("TARGET", o->target, "Only this target");
  remove->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(std::string source, directory::NormalizeAddress(o->source, true));
      std::string target;
      if (!o->target.empty()) {
        PT_ASSIGN_OR_RETURN(target, directory::NormalizeAddress(o->target, true));
      }
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_RETURN_IF_ERROR(store->RemoveAlias(source, target));
      std::printf("Removed alias %s%s\n", source.c_str(),
                  target.empty() ? "" : (" -> " + target).c_str());
      return Status::Ok();
    };
  });

  CLI::App* list = alias->add_subcommand("list", "List aliases, of one domain or all");
  list->add_option("DOMAIN", o->domain, "Only this domain");
  list->add_flag("--json", ctx.globals().json, "Print JSON");
  list->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      std::string domain;
      if (!o->domain.empty()) {
        PT_ASSIGN_OR_RETURN(domain, directory::NormalizeDomainName(o->domain));
      }
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_ASSIGN_OR_RETURN(auto aliases, store->ListAliases(domain));
      if (ctx.globals().json) {
        json out = json::array();
        for (const auto& a : aliases) out.push_back({{"source", a.source}, {"targets", a.targets}});
        PrintJson(out);
        return Status::Ok();
      }
      Table t({"ALIAS", "TARGETS"});
      for (const auto& a : aliases) {
        std::string targets;
        for (const auto& x : a.targets) targets += (targets.empty() ? "" : ", ") + x;
        t.Add({a.source, targets});
      }
      t.Print("No aliases yet: postern alias add info@example.org you@example.org");
      return Status::Ok();
    };
  });
}

}  // namespace postern::cli
