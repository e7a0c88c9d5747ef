// NotificationsPlugin.h — the notifications plugin: /ws/notifications (authenticated sockets that
// get the user's events from every host process, and the portfolio and ping commands), and the
// stored notifications made from outbox events, over REST.
//
// It requires only users (the Authenticator). The Portfolio service (investments) and the
// ExchangeRates service (integrations, for the large-deposit threshold) are looked up in
// start() and may be absent: the portfolio command then answers an "unavailable" error.
#pragma once

#include "NotificationSocket.h"

#include "yieldhost/Plugin.h"
#include "yieldhost/PluginContext.h"

#include <QtCore/QObject>

#include <memory>

namespace yieldhost::notifications {

class NotificationRoutes;
class NotificationStore;
class UserSocketLimit;

class NotificationsPlugin : public QObject, public yieldhost::Plugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID YIELDHOST_PLUGIN_IID FILE "plugin.json")
    Q_INTERFACES(yieldhost::Plugin)

public:
    NotificationsPlugin();
    ~NotificationsPlugin() override;

    yieldhost::Status initialize(yieldhost::PluginContext &context) override;
    void start() override;

private:
    yieldhost::PluginContext *m_context = nullptr;
    std::unique_ptr<UserSocketLimit> m_limit;
    std::unique_ptr<NotificationStore> m_store;
    std::unique_ptr<NotificationRoutes> m_routes;
    SocketServices m_sockets;
};

} // namespace yieldhost::notifications
