// HostPluginContext.h — the host's implementation of PluginContext, one per plugin.
#pragma once

#include "HostServices.h"

#include "yieldhost/PluginContext.h"

#include <memory>

namespace yieldhost {

class HostPluginContext final : public PluginContext
{
public:
    HostPluginContext(HostServices &services, const QString &pluginId, const QJsonObject &metadata);
    ~HostPluginContext() override;

    QString pluginId() const override { return m_id; }
    QJsonObject metadata() const override { return m_metadata; }
    const QLoggingCategory &log() const override { return *m_category; }
    QJsonObject config() const override { return m_services.config.section(m_id); }
    QJsonValue hostConfig(const QString &key) const override { return m_services.config.value(key); }
    Clock &clock() override { return m_services.clock; }
    EventBus &events() override { return m_services.events; }
    Database &database() override;
    RouteOptions &addRoute(HttpMethod method, const QString &pattern, HttpHandler handler) override;
    void addWebSocket(const QString &path, WebSocketHandler handler) override;

    // Registration mistakes (duplicate routes, bad patterns) fail the plugin after initialize().
    const QStringList &registrationErrors() const { return m_errors; }

protected:
    void provideService(const char *id, void *implementation) override { m_services.services.provide(id, implementation); }
    void *findService(const char *id) const override { return m_services.services.find(id); }

private:
    HostServices &m_services;
    QString m_id;
    QJsonObject m_metadata;
    QByteArray m_categoryName; // must outlive m_category
    std::unique_ptr<QLoggingCategory> m_category;
    QStringList m_errors;
    Route m_discarded; // handed out for a refused route so a builder chain stays harmless
};

} // namespace yieldhost
