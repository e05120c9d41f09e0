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
  app.require_subcommand(1);
  app.fallthrough();
  cli::Action action;
  cli::AddInitCommand(app, ctx, &action);
  cli::AddServeCommand(app, ctx, &action);
  cli::AddDomainCommands(app, ctx, &action);
  cli::AddUserCommands(app, ctx, &action);
  cli::AddAliasCommands(app, ctx, &action);
  cli::AddMailCommands(app, ctx, &action);
  cli::AddQueueCommands(app, ctx, &action);
  cli::AddStatsCommand(app, ctx, &action);
  cli::AddConfigCommands(app, ctx, &action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!action) {
    std::fprintf(stderr, "postern: choose a command; see postern --help\n");
    return 2;
  }
  Status status = action();
  if (!status.ok()) {
    if (!status.message().empty()) std::fprintf(stderr, "postern: %s\n", status.message().c_str());
    return 1;
  }
  return 0;
}
