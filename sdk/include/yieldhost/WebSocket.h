// WebSocket.h — a plugin's view of one WebSocket connection, upgraded by the host on the HTTP port.
//
// The host enforces the limits (64 KiB messages → close 1009, a bound on queued outgoing data,
// pings and idle detection); a handler only deals with messages.
// Example (snippet "websocket-echo", compiled in sdk/examples/snippets):
//   ctx.addWebSocket(u"/ws/snippets/echo"_s, [](WebSocketSession *s) {
//       QObject::connect(s, &WebSocketSession::textReceived, s,
//                        [s](const QString &m) { s->sendText(m); });
//   });
// The session is owned by the host and deleted after `closed`; connect with the session as the
// context object so nothing outlives it.
#pragma once

#include "yieldhost/Global.h"
#include "yieldhost/Http.h"

#include <QtCore/QJsonObject>
#include <QtCore/QObject>
#include <QtCore/QUrl>

#include <functional>
#include <optional>

namespace yieldhost {

class YIELDHOST_SDK_EXPORT WebSocketSession : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    ~WebSocketSession() override;

    virtual QUrl requestUrl() const = 0;
    virtual QByteArray header(QByteArrayView name) const = 0; // from the upgrade request
    virtual QHostAddress peerAddress() const = 0;

    virtual void sendText(const QString &message) = 0;
    void sendJson(const QJsonObject &message);
    virtual void close(int code, const QString &reason) = 0;

    // Set by whoever authenticated the socket (e.g. from ?token= or a first "auth" message).
    // SDK 1.1: out of line, and it emits userChanged() when the user's id changes, so the host
    // (and anyone else) can index sessions by user without polling.
    const std::optional<AuthenticatedUser> &user() const { return m_user; }
    void setUser(std::optional<AuthenticatedUser> user);

Q_SIGNALS:
    void textReceived(const QString &message);
    void closed(int code);
    // SDK 1.1 (appended). After setUser() changed the user's id: the previous one, empty when the
    // socket had none.
    void userChanged(const QString &previousUserId);
    // SDK 1.1 (appended). A binary message. While nothing is connected to it the host keeps the
    // 1.0 behaviour and closes the socket with 1003 (unsupported data); a plugin that connects
    // answers binary frames itself.
    void binaryReceived(const QByteArray &message);

private:
    std::optional<AuthenticatedUser> m_user;
};

using WebSocketHandler = std::function<void(WebSocketSession *session)>;

} // namespace yieldhost
