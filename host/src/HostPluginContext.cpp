#include "HostPluginContext.h"

namespace yieldhost {

HostPluginContext::HostPluginContext(HostServices &services, const QString &pluginId, const QJsonObject &metadata)
    : m_services(services)
    , m_id(pluginId)
    , m_metadata(metadata)
    , m_categoryName("yieldhost.plugin." + pluginId.toUtf8())
    , m_category(std::make_unique<QLoggingCategory>(m_categoryName.constData(), QtInfoMsg))
{
}

HostPluginContext::~HostPluginContext() = default;

RouteOptions &HostPluginContext::addRoute(HttpMethod method, const QString &pattern, HttpHandler handler)
{
    QString error;
    Route *route = m_services.router.add(m_id, method, pattern, std::move(handler), &error);
    if (!route) {
        m_errors.append(error);
        return m_discarded;
    }
    return *route;
}

void HostPluginContext::addWebSocket(const QString &path, WebSocketHandler handler)
{
    QString error;
    if (!m_services.router.addWebSocket(m_id, path, std::move(handler), &error))
        m_errors.append(error);
}

} // namespace yieldhost
