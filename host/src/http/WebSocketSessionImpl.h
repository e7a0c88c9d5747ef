// WebSocketSessionImpl.h — the host's WebSocketSession over QWebSocket, with the limits
// QtWebSockets 6.4 lacks by default: a 64 KiB incoming message cap (close 1009; its default is
// ~2 GiB), pings with a pong deadline (it never pings), and a bound on queued outgoing bytes
// (it has none) so a slow reader cannot grow our memory without limit.
#pragma once

#include "http/HttpSettings.h"

#include "yieldhost/WebSocket.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QTimer>

class QWebSocket;

namespace yieldhost {

class WebSocketSessionImpl final : public WebSocketSession
{
    Q_OBJECT
public:
    WebSocketSessionImpl(QWebSocket *socket, const HttpSettings &settings, QObject *parent);
    ~WebSocketSessionImpl() override;

    QUrl requestUrl() const override;
    QByteArray header(QByteArrayView name) const override;
    QHostAddress peerAddress() const override;
    void sendText(const QString &message) override;
    void close(int code, const QString &reason) override;

private:
    void ping();

    QWebSocket *m_socket;
    const HttpSettings &m_settings;
    QTimer m_pingTimer;
    QElapsedTimer m_pingSent;
    bool m_awaitingPong = false;
    qint64 m_queuedBytes = 0;
    bool m_closing = false;
    QHostAddress m_clientAddress; // behind trusted proxies, the client they name
};

} // namespace yieldhost
