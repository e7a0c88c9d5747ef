// PluginEnvironment.h — the parts of the host a plugin reaches through its PluginContext:
// configuration, clock, event bus, routes, services of other plugins, the job registry and the
// database. The host owns each part; the plugin system holds references, and nothing else in the
// host sees this set (every other component takes only the parts it uses).
#pragma once

#include "core/Config.h"
#include "core/HostClock.h"
#include "core/ServiceRegistry.h"
#include "db/DbPool.h"
#include "http/Router.h"
#include "jobs/JobRegistry.h"

#include "yieldhost/Events.h"

#include <memory>

namespace yieldhost {

struct PluginEnvironment
{
    const Config &config;
    HostClock &clock;
    EventBus &events;
    Router &router;
    ServiceRegistry &services;
    JobRegistry &jobs;
    // The host's slot: empty until (and unless) the host opens a database; read on each use.
    const std::unique_ptr<DbPool> &database;
};

} // namespace yieldhost
