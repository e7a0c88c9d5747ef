// HostParts.h — the parts of a host a plugin reaches, owned by a test that drives the plugin
// system directly (no HTTP server, no database).
#pragma once

#include "pluginsystem/PluginEnvironment.h"

namespace yieldhost::test {

struct HostParts
{
    explicit HostParts(Config c) : config(std::move(c)) {}

    PluginEnvironment environment() { return PluginEnvironment{config, clock, events, router, services, jobs, database}; }

    Config config;
    HostClock clock;
    EventBus events;
    Router router;
    ServiceRegistry services;
    JobRegistry jobs;
    std::unique_ptr<DbPool> database; // none
};

} // namespace yieldhost::test
