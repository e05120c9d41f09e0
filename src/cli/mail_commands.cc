// `postern mailbox`, `postern message`, `postern queue` and `postern config`.
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <map>

#include "base/clock.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "directory/directory.h"
#include "server/control.h"
#include "server/server.h"

namespace postern::cli {
namespace {

using nlohmann::json;

Result<store::AccountInfo> NeedAccount(store::Store* store, const std::string& raw) {
  PT_ASSIGN_OR_RETURN(std::string address, directory::NormalizeAddress(raw));
  PT_ASSIGN_OR_RETURN(auto account, store->FindAccount(address));
  if (!account) return NotFound("no user " + address + ": see postern user list");
  return *account;
}

const char* StateName(store::RecipientState s) {
  switch (s) {
    case store::RecipientState::kPending:
      return "pending";
    case store::RecipientState::kDelivered:
      return "delivered";
    case store::RecipientState::kFailed:
      return "failed";
    case store::RecipientState::kFailedNotified:
      return "bounced";
  }
  return "?";
}

json EntryJson(const store::QueueEntry& e) {
  json rcpts = json::array();
  for (const auto& r : e.recipients) {
    rcpts.push_back({{"address", r.address},
                     {"original", r.original},
                     {"local", r.local},
                     {"state", StateName(r.state)},
                     {"attempts", r.attempts},
                     {"next_attempt", FormatIsoUtc(r.next_attempt)},
                     {"last_error", r.last_error},
                     {"warned", r.warned}});
  }
  return {{"id", e.id},          {"created", FormatIsoUtc(e.created)},
          {"from", e.mail_from}, {"size", e.size},
          {"kind", e.kind},      {"client", e.client},
          {"held", e.held},      {"requiretls", e.requiretls},
          {"recipients", rcpts}};
}

// last_error of recipients returned by `postern queue bounce`; the DSN's
// Status field is its enhanced code (RFC 3463 §3.1: 5.0.0, other or undefined).
constexpr char kReturnedByAdministrator[] = "554 5.0.0 returned to the sender by the administrator";

// Asks a running server to look at its queue at once (the control socket's
// "flush", as `postern queue flush` does) and prints `now` if it answered,
// else `later` with the reason.
void TellServer(Context& ctx, const std::string& now, const std::string& later) {
  auto config = ctx.Config();
  Result<std::string> reply =
      config.ok() ? server::SendControl(server::ControlSocketPath(**config), "flush")
                  : Result<std::string>(config.status());
  if (reply.ok()) {
    std::printf("%s\n", now.c_str());
  } else {
    std::printf("%s (%s)\n", later.c_str(), reply.status().message().c_str());
  }
}

// "1 delivery", "3 deliveries".
std::string Deliveries(int64_t n) {
  return std::to_string(n) + (n == 1 ? " delivery" : " deliveries");
}

}  // namespace

void AddMailCommands(CLI::App& app, Context& ctx, Action* action) {
  auto address = std::make_shared<std::string>();
  auto mailbox_name = std::make_shared<std::string>();
  auto uid = std::make_shared<uint32_t>(0);

  CLI::App* mailbox = app.add_subcommand("mailbox", "Look at a user's mailboxes");
  mailbox->require_subcommand(0, 1);
  CLI::App* list = mailbox->add_subcommand("list", "Mailboxes of a user, with counts");
  list->add_option("ADDRESS", *address, "user@domain")->required();
  list->add_flag("--json", ctx.globals().json, "Print JSON");
  list->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_ASSIGN_OR_RETURN(auto account, NeedAccount(store, *address));
      PT_ASSIGN_OR_RETURN(auto boxes, store->ListMailboxes(account.id));
      if (ctx.globals().json) {
        json out = json::array();
        for (const auto& b : boxes) {
          out.push_back({{"name", b.name},
                         {"role", b.role},
                         {"messages", b.messages},
                         {"unseen", b.unseen},
                         {"size", b.size},
                         {"uidnext", b.uidnext},
                         {"uidvalidity", b.uidvalidity},
                         {"highestmodseq", b.highestmodseq}});
        }
        PrintJson(out);
        return Status::Ok();
      }
      Table t({"MAILBOX", "ROLE", "MESSAGES", "UNSEEN", "SIZE", "UIDNEXT", "UIDVALIDITY"});
      for (const auto& b : boxes) {
        t.Add({b.name, b.role, std::to_string(b.messages), std::to_string(b.unseen),
               FormatBytes(b.size), std::to_string(b.uidnext), std::to_string(b.uidvalidity)});
      }
      t.Print("No mailboxes");
      return Status::Ok();
    };
  });

  CLI::App* message = app.add_subcommand("message", "Look at stored messages");
  message->require_subcommand(0, 1);
  CLI::App* show = message->add_subcommand("show", "Print a message exactly as stored");
  show->add_option("ADDRESS", *address, "user@domain")->required();
  show->add_option("MAILBOX", *mailbox_name, "Mailbox name, e.g. INBOX")->required();
  show->add_option("UID", *uid, "The message's UID (see mailbox list for UIDNEXT)")->required();
  show->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_ASSIGN_OR_RETURN(auto account, NeedAccount(store, *address));
      PT_ASSIGN_OR_RETURN(auto msg, store->FindMessage(account.id, *mailbox_name, *uid));
      if (!msg) {
        return NotFound("no message with UID " + std::to_string(*uid) + " in " + *mailbox_name +
                        " of " + account.address + ": see postern mailbox list " + account.address);
      }
      PT_ASSIGN_OR_RETURN(std::string text, store->ReadMessage(*msg));
      std::fwrite(text.data(), 1, text.size(), stdout);
      return Status::Ok();
    };
  });
}

void AddQueueCommands(CLI::App& app, Context& ctx, Action* action) {
  auto id = std::make_shared<std::string>();
  CLI::App* queue = app.add_subcommand("queue", "Messages waiting for delivery");
  queue->require_subcommand(0, 1);

  CLI::App* list = queue->add_subcommand("list", "List queued messages");
  list->add_flag("--json", ctx.globals().json, "Print JSON");
  list->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_ASSIGN_OR_RETURN(auto entries, store->ListQueue());
      if (ctx.globals().json) {
        json out = json::array();
        for (const auto& e : entries) out.push_back(EntryJson(e));
        PrintJson(out);
        return Status::Ok();
      }
      Table t({"ID", "ARRIVED", "SIZE", "FROM", "STATE", "RECIPIENTS"});
      for (const auto& e : entries) {
        std::string rcpts;
        for (const auto& r : e.recipients) {
          rcpts += (rcpts.empty() ? "" : ", ") + r.address + " (" + StateName(r.state) +
                   (r.local ? "" : ", remote") + ")";
        }
        t.Add({e.id, Age(e.created), FormatBytes(e.size), "<" + e.mail_from + ">",
               e.held ? "held" : "queued", rcpts});
      }
      t.Print("The queue is empty");
      return Status::Ok();
    };
  });

  CLI::App* show = queue->add_subcommand("show", "Show one queued message and its recipients");
  show->add_option("ID", *id, "Queue ID (from queue list)")->required();
  show->add_flag("--json", ctx.globals().json, "Print JSON");
  show->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_ASSIGN_OR_RETURN(auto entry, store->GetQueueEntry(*id));
      if (!entry)
        return NotFound("no queue entry " + SanitizeForLog(*id) + ": see postern queue list");
      if (ctx.globals().json) {
        PrintJson(EntryJson(*entry));
        return Status::Ok();
      }
      std::printf(
          "ID:         %s\nArrived:    %s (%s)\nFrom:       <%s>\nSize:       %s\n"
          "Client:     %s\n",
          entry->id.c_str(), FormatIsoUtc(entry->created).c_str(), Age(entry->created).c_str(),
          entry->mail_from.c_str(), FormatBytes(entry->size).c_str(), entry->client.c_str());
      std::printf("Held:       %s\nREQUIRETLS: %s\n",
                  entry->held ? "yes (postern queue release to deliver it)" : "no",
                  entry->requiretls ? "yes" : "no");
      Table t({"RECIPIENT", "STATE", "ATTEMPTS", "NEXT ATTEMPT", "WARNED", "LAST ERROR"});
      for (const auto& r : entry->recipients) {
        t.Add({r.address + (r.local ? "" : " (remote)"), StateName(r.state),
               std::to_string(r.attempts),
               r.state == store::RecipientState::kPending ? FormatIsoUtc(r.next_attempt) : "-",
               r.warned ? "yes" : "no", r.last_error});
      }
      std::printf("\n");
      t.Print("No recipients");
      return Status::Ok();
    };
  });

  CLI::App* remove = queue->add_subcommand("remove", "Delete a queued message (no bounce is sent)");
  remove->add_option("ID", *id, "Queue ID")->required();
  remove->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_RETURN_IF_ERROR(store->RemoveQueueEntry(*id));
      std::printf("Removed %s from the queue\n", id->c_str());
      return Status::Ok();
    };
  });

  CLI::App* retry =
      queue->add_subcommand("retry", "Retry the waiting deliveries of one queued message now");
  retry->add_option("ID", *id, "Queue ID (from queue list)")->required();
  retry->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_ASSIGN_OR_RETURN(int64_t n, store->RetryQueueEntry(*id));
      if (n == 0) {
        std::printf("%s has no delivery waiting\n", id->c_str());
        return Status::Ok();
      }
      PT_ASSIGN_OR_RETURN(auto entry, store->GetQueueEntry(*id));
      if (entry && entry->held) {
        std::printf("%s of %s made due, but the message is held: postern queue release %s\n",
                    Deliveries(n).c_str(), id->c_str(), id->c_str());
        return Status::Ok();
      }
      TellServer(ctx, "Retrying " + Deliveries(n) + " of " + *id + " now",
                 Deliveries(n) + " of " + *id + " will be retried when the server starts");
      return Status::Ok();
    };
  });

  CLI::App* hold = queue->add_subcommand(
      "hold", "Keep a queued message from being delivered (or warned or expired) until released");
  hold->add_option("ID", *id, "Queue ID (from queue list)")->required();
  hold->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_RETURN_IF_ERROR(store->HoldQueueEntry(*id, true));
      TellServer(ctx,
                 *id + " is held: nothing is delivered until `postern queue release " + *id + "`",
                 *id + " is held until `postern queue release " + *id + "`");
      return Status::Ok();
    };
  });

  CLI::App* release = queue->add_subcommand(
      "release", "Release a held message: its waiting deliveries are retried now");
  release->add_option("ID", *id, "Queue ID (from queue list)")->required();
  release->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_RETURN_IF_ERROR(store->HoldQueueEntry(*id, false));
      PT_ASSIGN_OR_RETURN(int64_t n, store->RetryQueueEntry(*id));
      TellServer(
          ctx, *id + " is released: retrying " + Deliveries(n) + " now",
          *id + " is released: " + Deliveries(n) + " will be retried when the server starts");
      return Status::Ok();
    };
  });

  CLI::App* bounce = queue->add_subcommand(
      "bounce",
      "Fail every waiting delivery of a queued message: the sender gets a bounce (DSN) saying "
      "it was returned by the administrator");
  bounce->add_option("ID", *id, "Queue ID (from queue list)")->required();
  bounce->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_ASSIGN_OR_RETURN(int64_t n, store->BounceQueueEntry(*id, kReturnedByAdministrator));
      if (n == 0) {
        std::printf("%s has no delivery waiting: nothing to return\n", id->c_str());
        return Status::Ok();
      }
      PT_ASSIGN_OR_RETURN(auto entry, store->GetQueueEntry(*id));
      const std::string sender = entry ? entry->mail_from : "";
      const std::string failed = Deliveries(n) + " of " + *id + " failed";
      if (sender.empty()) {
        // RFC 3461 §6.2 / RFC 5321 §6.1: never a bounce to the null sender.
        const std::string what = failed + "; no bounce (the message has the null sender): the " +
                                 "server removes it from the queue";
        TellServer(ctx, what + " now", what + " when it starts");
        return Status::Ok();
      }
      TellServer(
          ctx, failed + "; the server is sending the bounce (DSN) to <" + sender + "> now",
          failed + "; the bounce (DSN) to <" + sender + "> will be sent when the server starts");
      return Status::Ok();
    };
  });

  CLI::App* flush = queue->add_subcommand("flush", "Retry every waiting delivery now");
  flush->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_ASSIGN_OR_RETURN(int64_t n, store->FlushQueue());
      TellServer(ctx, std::to_string(n) + " deliveries are being retried now",
                 std::to_string(n) + " deliveries will be retried when the server starts");
      return Status::Ok();
    };
  });
}

// The running server's counters (the control socket's "status": "ok k=v
// k=v ..."), or why there are none (not running).
Result<std::map<std::string, uint64_t>> ServerStatus(Context& ctx) {
  PT_ASSIGN_OR_RETURN(const config::Config* config, ctx.Config());
  PT_ASSIGN_OR_RETURN(std::string reply,
                      server::SendControl(server::ControlSocketPath(*config), "status"));
  std::vector<std::string_view> words = Split(TrimWhitespace(reply), ' ');
  if (words.empty() || words[0] != "ok") return Unavailable("unexpected reply: " + reply);
  std::map<std::string, uint64_t> out;
  for (size_t i = 1; i < words.size(); ++i) {
    const size_t eq = words[i].find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view number = words[i].substr(eq + 1);
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc() || end != number.data() + number.size()) continue;
    out[std::string(words[i].substr(0, eq))] = value;
  }
  return out;
}

void AddStatsCommand(CLI::App& app, Context& ctx, Action* action) {
  CLI::App* stats = app.add_subcommand("stats", "Totals: domains, users, stored mail, queue");
  stats->add_flag("--json", ctx.globals().json, "Print JSON");
  stats->callback([=, &ctx] {
    *action = [&ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_ASSIGN_OR_RETURN(store::StoreStats s, store->Stats());
      Result<std::map<std::string, uint64_t>> running = ServerStatus(ctx);
      if (ctx.globals().json) {
        nlohmann::json server = nullptr;
        if (running.ok()) server = *running;
        PrintJson({{"server", server},
                   {"domains", s.domains},
                   {"users", s.accounts},
                   {"aliases", s.aliases},
                   {"messages", s.messages},
                   {"message_bytes", s.message_bytes},
                   {"stored_bodies", s.blobs},
                   {"stored_bytes", s.blob_bytes},
                   {"queued", s.queued},
                   {"pending_recipients", s.pending_recipients}});
        return Status::Ok();
      }
      std::printf("domains:   %lld\nusers:     %lld\naliases:   %lld\n",
                  static_cast<long long>(s.domains), static_cast<long long>(s.accounts),
                  static_cast<long long>(s.aliases));
      std::printf("messages:  %lld (%s; %lld bodies, %s on disk)\n",
                  static_cast<long long>(s.messages),
                  FormatBytes(static_cast<uint64_t>(s.message_bytes)).c_str(),
                  static_cast<long long>(s.blobs),
                  FormatBytes(static_cast<uint64_t>(s.blob_bytes)).c_str());
      std::printf("queue:     %lld messages, %lld deliveries waiting\n",
                  static_cast<long long>(s.queued), static_cast<long long>(s.pending_recipients));
      if (!running.ok()) {
        std::printf("server:    not running (%s)\n", running.status().message().c_str());
        return Status::Ok();
      }
      std::map<std::string, uint64_t>& r = *running;
      std::printf(
          "server:    running; sessions: %llu IMAP, %llu POP3, %llu SMTP, %llu submission\n",
          static_cast<unsigned long long>(r["imap_sessions"]),
          static_cast<unsigned long long>(r["pop3_sessions"]),
          static_cast<unsigned long long>(r["sessions"]),
          static_cast<unsigned long long>(r["submission_sessions"]));
      const uint64_t reads = r["parse_cache_hits"] + r["parse_cache_misses"];
      std::printf("           memory of parses (store.parse_cache): %s of %s, %llu messages; %s\n",
                  FormatBytes(r["parse_cache_bytes"]).c_str(),
                  FormatBytes(r["parse_cache_limit"]).c_str(),
                  static_cast<unsigned long long>(r["parse_cache_entries"]),
                  reads == 0 ? "no reads yet"
                             : (std::to_string(r["parse_cache_hits"] * 100 / reads) + "% of " +
                                std::to_string(reads) + " reads answered from it")
                                   .c_str());
      return Status::Ok();
    };
  });
}

void AddConfigCommands(CLI::App& app, Context& ctx, Action* action) {
  CLI::App* cfg = app.add_subcommand("config", "Check the configuration, print its reference");
  cfg->require_subcommand(0, 1);
  CLI::App* reference =
      cfg->add_subcommand("reference", "Print every configuration key (Markdown)");
  reference->callback([=] {
    *action = [] {
      std::fputs(config::ReferenceMarkdown().c_str(), stdout);
      return Status::Ok();
    };
  });
  CLI::App* check = cfg->add_subcommand("check", "Read and validate the configuration file");
  check->callback([=, &ctx] {
    *action = [&ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(const config::Config* c, ctx.Config());
      std::printf("%s is valid\n", c->path.c_str());
      return Status::Ok();
    };
  });
}

}  // namespace postern::cli
