// HostParts.h — the parts of a host a plugin reaches, owned by a test that drives the plugin
// system directly (no HTTP server, no database).
#pragma once

#include "pluginsystem/PluginEnvironment.h"

#include <QtCore/QTemporaryDir>

namespace yieldhost::test {

struct HostParts
{
    // Plugins that keep files (the users plugin's sandbox secret) get a private data directory.
    explicit HostParts(Config c) : config(std::move(c)) { config.set(QStringLiteral("data_dir"), dataDir.path()); }

    PluginEnvironment environment() { return PluginEnvironment{config, clock, events, router, services, jobs, database}; }

    QTemporaryDir dataDir;
    Config config;
    HostClock clock;
    EventBus events;
    Router router;
    ServiceRegistry services;
    JobRegistry jobs;
    std::unique_ptr<DbPool> database; // none
};

} // namespace yieldhost::test
