// `postern mailbox`, `postern message`, `postern queue` and `postern config`.
#include <unistd.h>

#include <cstdio>

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
                     {"last_error", r.last_error}});
  }
  return {{"id", e.id},          {"created", FormatIsoUtc(e.created)},
          {"from", e.mail_from}, {"size", e.size},
          {"kind", e.kind},      {"client", e.client},
          {"recipients", rcpts}};
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
      Table t({"ID", "ARRIVED", "SIZE", "FROM", "RECIPIENTS"});
      for (const auto& e : entries) {
        std::string rcpts;
        for (const auto& r : e.recipients) {
          rcpts += (rcpts.empty() ? "" : ", ") + r.address + " (" + StateName(r.state) + ")";
        }
        t.Add({e.id, Age(e.created), FormatBytes(e.size), "<" + e.mail_from + ">", rcpts});
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
      std::printf("ID:       %s\nArrived:  %s (%s)\nFrom:     <%s>\nSize:     %s\nClient:   %s\n",
                  entry->id.c_str(), FormatIsoUtc(entry->created).c_str(),
                  Age(entry->created).c_str(), entry->mail_from.c_str(),
                  FormatBytes(entry->size).c_str(), entry->client.c_str());
      Table t({"RECIPIENT", "STATE", "ATTEMPTS", "NEXT ATTEMPT", "LAST ERROR"});
      for (const auto& r : entry->recipients) {
        t.Add({r.address + (r.local ? "" : " (remote)"), StateName(r.state),
               std::to_string(r.attempts),
               r.state == store::RecipientState::kPending ? FormatIsoUtc(r.next_attempt) : "-",
               r.last_error});
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

  CLI::App* flush = queue->add_subcommand("flush", "Retry every waiting delivery now");
  flush->callback([=, &ctx] {
    *action = [=, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_ASSIGN_OR_RETURN(int64_t n, store->FlushQueue());
      PT_ASSIGN_OR_RETURN(const config::Config* config, ctx.Config());
      auto reply = server::SendControl(server::ControlSocketPath(*config), "flush");
      if (reply.ok()) {
        std::printf("%lld deliveries are being retried now\n", static_cast<long long>(n));
      } else {
        std::printf("%lld deliveries will be retried when the server starts (%s)\n",
                    static_cast<long long>(n), reply.status().message().c_str());
      }
      return Status::Ok();
    };
  });
}

void AddStatsCommand(CLI::App& app, Context& ctx, Action* action) {
  CLI::App* stats = app.add_subcommand("stats", "Totals: domains, users, stored mail, queue");
  stats->add_flag("--json", ctx.globals().json, "Print JSON");
  stats->callback([=, &ctx] {
    *action = [&ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(store::Store * store, ctx.Store());
      PT_ASSIGN_OR_RETURN(store::StoreStats s, store->Stats());
      if (ctx.globals().json) {
        PrintJson({{"domains", s.domains},
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
