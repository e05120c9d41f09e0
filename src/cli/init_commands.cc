// `postern init` and `postern serve`.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "directory/directory.h"
#include "net/tls.h"
#include "server/server.h"

namespace postern::cli {
namespace {

namespace fs = std::filesystem;

struct InitOptions {
  std::string dir;
  std::string hostname;
  std::string domain;
  int port_base = 0;
  std::string bind = "0.0.0.0";
  bool force = false;
};

std::string SystemHostname() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

std::string ConfigText(const InitOptions& o, const std::string& hostname) {
  auto listen = [&](int port) {
    std::string host = o.bind.find(':') != std::string::npos ? "[" + o.bind + "]" : o.bind;
    return "\"" + host + ":" + std::to_string(o.port_base + port) + "\"";
  };
  std::string t;
  t += "# Postern configuration, written by `postern init`.\n";
  t += "# Every key and its default: docs/config-reference.md (or `postern config reference`).\n";
  t += "# Domains, users and aliases live in the store: manage them with `postern domain`,\n";
  t += "# `postern user` and `postern alias`.\n\n";
  t += "[server]\n";
  t += "hostname = \"" + hostname + "\"\n";
  t += "data_dir = \"data\"\n";
  t += "# When started as root (to bind port 25), switch to this user afterwards:\n";
  t += "# user = \"postern\"\n\n";
  t += "[tls]\n";
  t += "certificate = \"tls/cert.pem\"\n";
  t += "key = \"tls/key.pem\"\n\n";
  t += "[smtp]\n";
  t += "# Inbound mail (MX). Add \"[::]:" + std::to_string(o.port_base + 25) +
       "\" to accept IPv6 as well.\n";
  t += "listen = [" + listen(25) + "]\n\n";
  t += "[imap]\n";
  t += "# Mail access: STARTTLS on the first, TLS from the start on the second (RFC 8314).\n";
  t += "listen = [" + listen(143) + "]\n";
  t += "listen_tls = [" + listen(993) + "]\n\n";
  t += "[pop3]\n";
  t += "# POP3: STLS on the first, TLS from the start on the second.\n";
  t += "listen = [" + listen(110) + "]\n";
  t += "listen_tls = [" + listen(995) + "]\n\n";
  t += "[submission]\n";
  t += "# Sending mail from clients (users authenticate): STARTTLS on the first, TLS from the\n";
  t += "# start on the second (RFC 8314).\n";
  t += "listen = [" + listen(587) + "]\n";
  t += "listen_tls = [" + listen(465) + "]\n";
  return t;
}

Status RunInit(const InitOptions& o) {
  if (o.port_base < 0 || o.port_base + 4190 > 65535) {
    return InvalidArgument("--port-base must be between 0 and 61345");
  }
  fs::path dir = fs::absolute(o.dir).lexically_normal();
  fs::path config_path = dir / "postern.toml";
  if (fs::exists(config_path) && !o.force) {
    return AlreadyExists(config_path.string() + " exists already: use it (postern --config " +
                         config_path.string() + " serve), or add --force to start over");
  }
  std::string domain;
  if (!o.domain.empty()) {
    PT_ASSIGN_OR_RETURN(domain, directory::NormalizeDomainName(o.domain));
  }
  std::string hostname = o.hostname;
  if (hostname.empty()) {
    hostname = SystemHostname();
    if (hostname.find('.') == std::string::npos && !domain.empty()) hostname = "mail." + domain;
  }
  PT_ASSIGN_OR_RETURN(hostname, directory::NormalizeDomainName(hostname));

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create " + dir.string() + ": " + ec.message());
  {
    std::ofstream out(config_path, std::ios::trunc);
    out << ConfigText(o, hostname);
    if (!out) return Unavailable("cannot write " + config_path.string());
  }
  PT_ASSIGN_OR_RETURN(config::Config config, config::Load(config_path.string()));

  store::SqliteStoreOptions so;
  so.data_dir = config.server.data_dir;
  so.unlink_blobs = false;
  PT_ASSIGN_OR_RETURN(auto store, store::OpenSqliteStore(so));
  if (!domain.empty()) {
    auto added = store->AddDomain(domain);
    if (!added.ok() && added.status().code() != StatusCode::kAlreadyExists) {
      return added.status();
    }
  }
  bool new_cert = !fs::exists(config.tls.certificate) || !fs::exists(config.tls.key) || o.force;
  if (new_cert) {
    PT_RETURN_IF_ERROR(
        net::GenerateSelfSignedCertificate(hostname, config.tls.certificate, config.tls.key));
  }

  const std::string cfg = config_path.string();
  std::printf("Created %s\n", cfg.c_str());
  std::printf("  host name:   %s\n", hostname.c_str());
  std::printf("  data:        %s\n", config.server.data_dir.c_str());
  std::printf("  certificate: %s%s\n", config.tls.certificate.c_str(),
              new_cert ? " (self-signed; replace it with a real one for production)" : "");
  for (const auto& l : config.smtp.listen) std::printf("  SMTP (MX):   %s\n", l.c_str());
  for (const auto& l : config.imap.listen) std::printf("  IMAP:        %s (STARTTLS)\n", l.c_str());
  for (const auto& l : config.imap.listen_tls) std::printf("  IMAPS:       %s\n", l.c_str());
  for (const auto& l : config.pop3.listen) std::printf("  POP3:        %s (STLS)\n", l.c_str());
  for (const auto& l : config.pop3.listen_tls) std::printf("  POP3S:       %s\n", l.c_str());
  if (!domain.empty()) std::printf("  domain:      %s\n", domain.c_str());
  std::printf("\nNext:\n");
  std::string d = domain.empty() ? "example.org" : domain;
  if (domain.empty()) std::printf("  postern --config %s domain add %s\n", cfg.c_str(), d.c_str());
  std::printf("  postern --config %s user add you@%s\n", cfg.c_str(), d.c_str());
  std::printf("  postern --config %s serve\n", cfg.c_str());
  std::printf("\nPublish in DNS so the world sends %s mail here:\n", d.c_str());
  std::printf("  %s.  MX  10 %s.\n", d.c_str(), hostname.c_str());
  std::printf("  %s.  A   <this server's public IPv4 address>\n", hostname.c_str());
  return Status::Ok();
}

}  // namespace

void AddInitCommand(CLI::App& app, Context& /*ctx*/, Action* action) {
  auto opts = std::make_shared<InitOptions>();
  CLI::App* cmd = app.add_subcommand(
      "init", "Create a configuration, a data directory and a self-signed certificate");
  cmd->add_option("--dir", opts->dir, "Directory to set up (created if missing)")->required();
  cmd->add_option("--hostname", opts->hostname,
                  "This server's name (default: the machine's name, or mail.DOMAIN)");
  cmd->add_option("--domain", opts->domain, "A first mail domain to serve");
  cmd->add_option("--port-base", opts->port_base,
                  "Move every listener to BASE + its standard port (SMTP at BASE+25), so "
                  "no root is needed")
      ->check(CLI::Range(0, 61345));
  cmd->add_option("--bind", opts->bind, "IP address to listen on (default 0.0.0.0)");
  cmd->add_flag("--force", opts->force, "Overwrite an existing configuration and certificate");
  cmd->callback([opts, action] { *action = [opts] { return RunInit(*opts); }; });
}

void AddServeCommand(CLI::App& app, Context& ctx, Action* action) {
  auto opts = std::make_shared<server::ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "Run the mail server until SIGTERM or SIGINT");
  cmd->add_option("--pid-file", opts->pid_file, "Write the process id to this file");
  cmd->callback([opts, action, &ctx] {
    *action = [opts, &ctx]() -> Status {
      PT_ASSIGN_OR_RETURN(const config::Config* config, ctx.Config());
      int rc = server::Serve(*config, *opts);
      if (rc != 0) return Internal("");  // Serve() has explained already
      return Status::Ok();
    };
  });
}

}  // namespace postern::cli
