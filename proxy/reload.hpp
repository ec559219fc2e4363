// What the main thread does on SIGHUP and SIGUSR1: reload the config file, reopen the logs.
#pragma once

#include "proxy/server.hpp"

namespace cacheproxy {

// SIGHUP: parses the same command line again (so the config file is read afresh and flags
// still override it). A file with an error is rejected with a log line naming the line and
// the reason, and the running config stays; a valid one is installed with Server::reload(),
// logging each setting that needs a restart. Tells systemd RELOADING=1, then READY=1.
// Returns true if the new config was installed.
bool reload_config(Server& server, int argc, const char* const* argv);

// SIGUSR1: reopens the access log under its configured path (logrotate has renamed it).
void reopen_logs(Server& server);

}  // namespace cacheproxy
