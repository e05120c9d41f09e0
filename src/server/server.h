// `postern serve`: wires the store, the queue runner and the SMTP service
// together, drops privileges, and runs until SIGTERM or SIGINT, which drain:
// no new connections, running sessions get `shutdown_timeout` to finish,
// every acknowledged message stays queued for the next start.
#pragma once

#include <string>

#include "config/config.h"

namespace postern::server {

struct ServeOptions {
  std::string pid_file;  // written once listening, removed at exit
};

// Returns the process exit status.
int Serve(const config::Config& config, const ServeOptions& options);

// The control socket of a data directory.
std::string ControlSocketPath(const config::Config& config);

}  // namespace postern::server
