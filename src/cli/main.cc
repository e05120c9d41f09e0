// postern: the mail server and its administration commands.
#include <cstdio>

#include "base/log.h"
#include "cli/commands.h"

namespace postern::cli {

Result<const config::Config*> Context::Config() {
  if (!config_) {
    PT_ASSIGN_OR_RETURN(std::string path, config::FindConfigFile(globals_.config_path));
    PT_ASSIGN_OR_RETURN(config::Config c, config::Load(path));
    config_ = std::make_unique<config::Config>(std::move(c));
  }
  return config_.get();
}

Result<store::Store*> Context::Store() {
  if (!store_) {
    PT_ASSIGN_OR_RETURN(const config::Config* c, Config());
    store::SqliteStoreOptions o;
    o.data_dir = c->server.data_dir;
    o.compression_level = static_cast<int>(c->store.compression_level);
    o.create = false;
    o.unlink_blobs = false;
    PT_ASSIGN_OR_RETURN(store_, store::OpenSqliteStore(o));
  }
  return store_.get();
}

}  // namespace postern::cli

int main(int argc, char** argv) {
  using namespace postern;
  // The CLI logs only warnings and errors (migrations, for example).
  (void)InitLogging("warn", "");
  cli::Globals globals;
  cli::Context ctx(globals);
  CLI::App app{
      "Postern: a complete mail server in one program.\n"
      "Set up with `postern init`, run with `postern serve`, administer with the "
      "other commands.",
      "postern"};
  app.set_version_flag("--version", "postern " POSTERN_VERSION);
  app.add_option("-c,--config", globals.config_path,
                 "Configuration file (default: $POSTERN_CONFIG, ./postern.toml, "
                 "/etc/postern/postern.toml)");
  app.require_subcommand(0, 1);
  app.fallthrough();
  cli::Action action;
  cli::AddInitCommand(app, ctx, &action);
  cli::AddServeCommand(app, ctx, &action);
  cli::AddDomainCommands(app, ctx, &action);
  cli::AddUserCommands(app, ctx, &action);
  cli::AddAliasCommands(app, ctx, &action);
  cli::AddMailCommands(app, ctx, &action);
  cli::AddQueueCommands(app, ctx, &action);
  cli::AddDkimCommands(app, ctx, &action);
  cli::AddDnsCommand(app, ctx, &action);
  cli::AddStatsCommand(app, ctx, &action);
  cli::AddConfigCommands(app, ctx, &action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ExtrasError& e) {
    // An unknown command or a stray argument: name it, and where to look.
    std::string where = "postern";
    for (const CLI::App* sub = &app; !sub->get_subcommands().empty();) {
      sub = sub->get_subcommands().front();
      where += " " + sub->get_name();
    }
    std::string extra;
    for (const auto& word : app.remaining()) extra += (extra.empty() ? "" : " ") + word;
    std::fprintf(stderr, "postern: unknown command or argument \"%s\" for `%s`; see %s --help\n",
                 extra.c_str(), where.c_str(), where.c_str());
    return 2;
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!action) {
    // A command group without its subcommand: list what it offers.
    const CLI::App* group = &app;
    std::string where = "postern";
    while (!group->get_subcommands().empty()) {
      group = group->get_subcommands().front();
      where += " " + group->get_name();
    }
    std::string choices;
    for (const CLI::App* sub : group->get_subcommands({})) {
      choices += (choices.empty() ? "" : ", ") + sub->get_name();
    }
    std::fprintf(stderr, "postern: `%s` needs a command: %s (see %s --help)\n", where.c_str(),
                 choices.c_str(), where.c_str());
    return 2;
  }
  Status status = action();
  if (!status.ok()) {
    if (!status.message().empty()) std::fprintf(stderr, "postern: %s\n", status.message().c_str());
    return 1;
  }
  return 0;
}
