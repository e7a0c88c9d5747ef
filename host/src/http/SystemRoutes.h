// SystemRoutes.h — the host's own public routes: /healthz, /readyz, /metrics,
// /api/openapi.json, the browsable reference at /api/docs and /api/v1/plugins. Registered under
// the owner id "host".
#pragma once

#include "http/Router.h"

#include "yieldhost/Status.h"

#include <QtCore/QJsonArray>
#include <QtCore/QMutex>

#include <functional>
#include <optional>

namespace yieldhost {

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

class SystemRoutes
{
public:
    // Why the host is not ready to serve (no database, migrations pending), or nullopt when it is.
    using ReadinessCheck = std::function<QCoro::Task<std::optional<QString>>()>;

    // `mode` ("sandbox" or "production") is reported by /readyz so a client can tell.
    SystemRoutes(Router &router, Metrics &metrics, const PluginListSnapshot &plugins, ReadinessCheck readiness, QString mode);
    Status registerRoutes();

    QCoro::Task<HttpResponse> health(HttpRequest request);
    QCoro::Task<HttpResponse> ready(HttpRequest request);
    QCoro::Task<HttpResponse> metrics(HttpRequest request);
    QCoro::Task<HttpResponse> openApi(HttpRequest request);
    QCoro::Task<HttpResponse> docs(HttpRequest request);
    QCoro::Task<HttpResponse> docsScript(HttpRequest request);
    QCoro::Task<HttpResponse> plugins(HttpRequest request);

private:
    Router &m_router;
    Metrics &m_metrics;
    const PluginListSnapshot &m_plugins;
    ReadinessCheck m_readiness;
    QString m_mode;
};

} // namespace yieldhost
