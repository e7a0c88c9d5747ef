// PluginManager.h — finds plugins on the plugin path, resolves them (SDK range, dependencies,
// cycles), then loads, initializes and starts them in dependency order and stops them in reverse.
//
// Every refusal is one log line naming the plugin and the reason; plugins that do not depend on a
// refused one still load. Order is deterministic: dependencies first, ties broken by id.
#pragma once

#include "pluginsystem/PluginEnvironment.h"
#include "pluginsystem/PluginSpec.h"

#include <QtCore/QJsonArray>

#include <memory>
#include <vector>

namespace yieldhost {

class PluginManager
{
public:
    explicit PluginManager(PluginEnvironment env);
    ~PluginManager();

    // The default path: $YIELDHOST_PLUGIN_PATH / config "plugin_path" (':'-separated) first, then
    // <binary dir>/../lib/yieldhost/plugins, which holds in the build tree and in an install.
    static QStringList defaultSearchPath(const QString &configured);

    void discover(const QStringList &directories);
    void resolve();            // Read -> Resolved or Failed
    // Checks each resolved plugin's configuration section against its declared settings
    // (PluginSettings.h). A wrong declaration refuses that plugin; a wrong value fails the
    // whole call with one line naming the variable or key: the host then stops.
    Status configure(const Config &config);
    void loadAndInitialize();  // Resolved -> Initialized or Failed, in order
    void start();              // Initialized -> Running
    void stop();               // Running -> Stopped, reverse order

    const std::vector<std::unique_ptr<PluginSpec>> &plugins() const { return m_specs; }
    const PluginSpec *find(const QString &id) const;
    QJsonArray describe() const;
    // The resolved start order (ids), for tests and `yieldhost plugins`.
    QStringList order() const;

private:
    PluginSpec *findMutable(const QString &id);
    void refuse(PluginSpec &spec, const QString &why);

    PluginEnvironment m_env;
    std::vector<std::unique_ptr<PluginSpec>> m_specs;
    std::vector<PluginSpec *> m_order;
};

} // namespace yieldhost
