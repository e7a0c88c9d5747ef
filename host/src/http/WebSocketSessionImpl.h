// WebSocketSessionImpl.h — the host's WebSocketSession over QWebSocket, with the limits
// QtWebSockets 6.4 lacks by default: a 64 KiB incoming message cap (close 1009; its default is
// ~2 GiB), pings with a pong deadline (it never pings), and a bound on queued outgoing bytes
// (it has none) so a slow reader cannot grow our memory without limit. The pings are driven by
// the HTTP thread's sweep (keepAlive), not a timer per session: 10,000 timers cost the idle host
// several percent of a core in the dispatcher's timer list.
#pragma once

#include "http/HttpSettings.h"

#include "yieldhost/WebSocket.h"


class QWebSocket;

namespace yieldhost {

class WebSocketSessionImpl final : public WebSocketSession
{
    Q_OBJECT
public:
    // `nowMs` is the HTTP thread's clock, the one keepAlive() is called with.
    WebSocketSessionImpl(QWebSocket *socket, const HttpSettings &settings, qint64 nowMs, QObject *parent);
    ~WebSocketSessionImpl() override;

    QUrl requestUrl() const override;
    QByteArray header(QByteArrayView name) const override;
    QHostAddress peerAddress() const override;
    void sendText(const QString &message) override;
    void close(int code, const QString &reason) override;
    // Pings when the interval has passed since the last ping; aborts when a pong is overdue.
    void keepAlive(qint64 nowMs);

private:
    QWebSocket *m_socket;
    const HttpSettings &m_settings;
    qint64 m_pingSentMs; // when the last ping went out (or the session began)
    bool m_awaitingPong = false;
    qint64 m_queuedBytes = 0;
    bool m_closing = false;
    QHostAddress m_clientAddress; // behind trusted proxies, the client they name
};

} // namespace yieldhost
