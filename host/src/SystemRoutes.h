// SystemRoutes.h — the host's own public routes: /healthz, /metrics, /api/openapi.json and
// /api/v1/plugins. Registered under the pseudo-plugin id "host".
#pragma once

#include <QtCore/QJsonArray>
#include <QtCore/QMutex>

namespace yieldhost {

struct HostServices;
class Metrics;

// The plugin list as last published by the main thread; HTTP threads read copies.
class PluginListSnapshot
{
public:
    void publish(const QJsonArray &plugins)
    {
        QMutexLocker lock(&m_mutex);
        m_plugins = plugins;
    }
    QJsonArray read() const
    {
        QMutexLocker lock(&m_mutex);
        return m_plugins;
    }

private:
    mutable QMutex m_mutex;
    QJsonArray m_plugins;
};

void registerSystemRoutes(HostServices &services, Metrics &metrics, PluginListSnapshot &plugins);

} // namespace yieldhost
