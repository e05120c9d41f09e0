// The `postern` subcommands. Each registers itself on the CLI11 app and runs
// with the shared global options. Errors are returned as Status and printed
// by main(): one line, what went wrong and what to do.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "config/config.h"
#include "store/store.h"

namespace postern::cli {

struct Globals {
  std::string config_path;  // --config
  bool json = false;        // --json
};

// What a command needs, loaded on demand.
class Context {
 public:
  explicit Context(Globals& globals) : globals_(globals) {}
  Globals& globals() { return globals_; }
  Result<const config::Config*> Config();
  // The store in CLI mode (never removes blob files; the server does).
  Result<store::Store*> Store();

 private:
  Globals& globals_;
  std::unique_ptr<config::Config> config_;
  std::unique_ptr<store::Store> store_;
};

using Action = std::function<Status()>;

// Each adds its subcommand(s) to `app`; `*action` is set to what to run.
void AddInitCommand(CLI::App& app, Context& ctx, Action* action);
void AddServeCommand(CLI::App& app, Context& ctx, Action* action);
void AddDomainCommands(CLI::App& app, Context& ctx, Action* action);
void AddUserCommands(CLI::App& app, Context& ctx, Action* action);
void AddAliasCommands(CLI::App& app, Context& ctx, Action* action);
void AddMailCommands(CLI::App& app, Context& ctx, Action* action);  // mailbox, message
void AddQueueCommands(CLI::App& app, Context& ctx, Action* action);
void AddConfigCommands(CLI::App& app, Context& ctx, Action* action);
void AddStatsCommand(CLI::App& app, Context& ctx, Action* action);
void AddDkimCommands(CLI::App& app, Context& ctx, Action* action);
void AddDnsCommand(CLI::App& app, Context& ctx, Action* action);

}  // namespace postern::cli
