#include "NotificationsPlugin.h"

#include "NotificationRoutes.h"
#include "NotificationStore.h"
#include "UserSocketLimit.h"

#include "yieldhost/Services.h"

namespace yieldhost::notifications {

NotificationsPlugin::NotificationsPlugin() = default;
NotificationsPlugin::~NotificationsPlugin() = default;

yieldhost::Status NotificationsPlugin::initialize(yieldhost::PluginContext &context)
{
    m_context = &context;
    const Settings &settings = context.settings();
    Authenticator *authenticator = context.service<Authenticator>();
    if (!authenticator)
        return Status::failure(QStringLiteral("notifications needs the Authenticator service (users plugin)"));

    m_limit = std::make_unique<UserSocketLimit>(int(settings.integer(QStringLiteral("max_sockets_per_user"))));
    m_store = std::make_unique<NotificationStore>(context, settings.decimal(QStringLiteral("large_deposit_usd")).value_or(Decimal()));
    m_routes = std::make_unique<NotificationRoutes>(context);
    m_routes->registerRoutes();

    m_sockets.context = &context;
    m_sockets.authenticator = authenticator;
    m_sockets.limit = m_limit.get();
    m_sockets.authTimeoutMs = int(settings.integer(QStringLiteral("auth_timeout_ms")));
    // The handler reads m_sockets when a socket opens, after start() filled in the optional services.
    context.addWebSocket(QStringLiteral("/ws/notifications"), [this](WebSocketSession *session) { new NotificationSocket(session, m_sockets); });
    return {};
}

void NotificationsPlugin::start()
{
    m_sockets.portfolio = m_context->service<Portfolio>();
    ExchangeRates *rates = m_context->service<ExchangeRates>();
    m_store->start(rates);
    if (!m_sockets.portfolio)
        qCInfo(m_context->log()) << "no Portfolio service (investments plugin): the portfolio command answers \"unavailable\"";
    if (!rates)
        qCInfo(m_context->log()) << "no ExchangeRates service (integrations plugin): only USD deposits can count as large";
}

} // namespace yieldhost::notifications
