// NotificationSocket.h — one /ws/notifications connection: authentication (the Authorization
// header, ?token=, or a first {"command":"auth"} within the auth timeout; 4401 otherwise and when
// the access token expires), the portfolio and ping commands, and the pushes of the user's
// events from whichever host process published them (keyed delivery through the EventBus).
#pragma once

#include "UserSocketLimit.h"

#include "yieldhost/PluginContext.h"

#include <QtCore/QJsonObject>
#include <QtCore/QObject>
#include <QtCore/QTimer>

#include <QCoro/QCoroTask>

namespace yieldhost {
class Authenticator;
class Portfolio;
} // namespace yieldhost

namespace yieldhost::notifications {

// What every socket shares; owned by the plugin, which outlives its sockets.
struct SocketServices
{
    PluginContext *context = nullptr;
    Authenticator *authenticator = nullptr;
    Portfolio *portfolio = nullptr; // optional: the investments plugin
    UserSocketLimit *limit = nullptr;
    int authTimeoutMs = 10000;
};

class NotificationSocket : public QObject
{
    Q_OBJECT
public:
    // WebSocket close codes of API.md beyond RFC 6455's.
    static constexpr int CloseUnauthenticated = 4401;
    // The topics pushed to a user's sockets.
    static const QStringList &pushedTopics();

    // Lives as the session's child: it goes when the session does.
    NotificationSocket(WebSocketSession *session, const SocketServices &services);
    ~NotificationSocket() override;

private:
    enum class Credentials { Header, Message };

    void textReceived(const QString &message);
    void handle(const QString &message);
    QCoro::Task<> authenticate(QByteArray credentials, Credentials via);
    QCoro::Task<> portfolio(QJsonObject command);
    void subscribe(const QString &userId);
    void error(const char *code, const QString &detail);
    void closeUnauthenticated(const QString &reason);

    WebSocketSession *m_session;
    SocketServices m_services;
    QTimer m_authTimer;
    QTimer m_expiryTimer;
    QString m_countedUser; // the user m_services.limit counts this socket for
    bool m_authenticating = false;
    QStringList m_early; // messages that arrived while the header's token was being checked
};

} // namespace yieldhost::notifications
