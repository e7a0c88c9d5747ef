// HttpThread.h — one HTTP thread: its own listening socket (SO_REUSEPORT, so the kernel spreads
// connections across threads), its own connections, WebSocket sessions and metrics shard.
// Share-nothing, as in Cutelyst: nothing on the request path takes a lock another thread holds.
#pragma once

#include "http/ConnectionLimits.h"
#include "http/HttpSettings.h"

#include <QtCore/QObject>
#include <QtCore/QElapsedTimer>
#include <QtCore/QSet>
#include <QtCore/QTimer>

#include <memory>

class QTcpServer;
class QTcpSocket;
class QWebSocket;
class QWebSocketServer;

namespace yieldhost {

class AccessLog;
class HttpConnection;
class Metrics;
class MetricsShard;
class RequestDispatcher;
class Router;
class WebSocketSessionImpl;

class HttpThread : public QObject
{
    Q_OBJECT
public:
    HttpThread(int index, const HttpSettings &settings, std::shared_ptr<ConnectionLimits> limits, RequestDispatcher &dispatcher, Router &router, Metrics &metrics,
               AccessLog *accessLog);
    ~HttpThread() override;

    // Runs on the worker's thread: start accepting on an already listening socket.
    void start(qintptr listeningDescriptor);
    // Stop accepting; close idle connections; emit drained() when the last one is gone.
    void drain();

    const HttpSettings &settings() const { return m_settings; }
    RequestDispatcher &dispatcher() { return m_dispatcher; }
    const Router &router() const { return m_router; }
    MetricsShard &metrics() { return *m_shard; }
    AccessLog *accessLog() const { return m_accessLog; } // null when the access log is off
    qint64 nowMs() const { return m_clock.elapsed(); }
    const QByteArray &dateHeader();
    QString nextRequestId();
    void adoptWebSocket(QTcpSocket *socket);
    void countDirectReads();

Q_SIGNALS:
    void drained();

private:
    void onNewConnection();
    void onConnectionFinished(HttpConnection *connection);
    void onWebSocket();
    void sweep();
    void sweepWebSockets();
    void checkDrained();
    void logRefusal(const QHostAddress &peer, ConnectionLimits::Verdict verdict);

    int m_index;
    HttpSettings m_settings;
    std::shared_ptr<ConnectionLimits> m_limits;
    RequestDispatcher &m_dispatcher;
    Router &m_router;
    Metrics &m_metrics;
    MetricsShard *m_shard;
    AccessLog *m_accessLog;
    QTcpServer *m_server = nullptr;
    QWebSocketServer *m_webSocketServer = nullptr;
    QSet<HttpConnection *> m_connections;
    QSet<WebSocketSessionImpl *> m_sessions;
    QTimer m_sweep;
    QTimer m_webSocketSweep; // pings and pong deadlines of every session, in one pass
    QElapsedTimer m_clock;
    bool m_draining = false;
    qint64 m_dateSecond = -1;
    QByteArray m_date;
    quint64 m_requestCounter = 0;
    QString m_requestPrefix;
    QElapsedTimer m_refusalLog;
    qint64 m_refusedSinceLog = 0;
};

} // namespace yieldhost
