#include "http/HttpThread.h"

#include "core/Logging.h"
#include "core/Metrics.h"
#include "http/ConnectionLimits.h"
#include "http/DirectTcpSocket.h"
#include "http/HttpConnection.h"
#include "http/Router.h"
#include "http/WebSocketSessionImpl.h"

#include <QtCore/QDateTime>
#include <QtCore/QLocale>
#include <QtCore/QRandomGenerator>
#include <QtNetwork/QTcpServer>
#include <QtWebSockets/QWebSocket>
#include <QtWebSockets/QWebSocketServer>

namespace yieldhost {

HttpThread::HttpThread(int index, const HttpSettings &settings, std::shared_ptr<ConnectionLimits> limits, RequestDispatcher &dispatcher,
                       Router &router, Metrics &metrics, AccessLog *accessLog)
    : m_index(index)
    , m_settings(settings)
    , m_limits(std::move(limits))
    , m_dispatcher(dispatcher)
    , m_router(router)
    , m_metrics(metrics)
    , m_shard(metrics.addShard())
    , m_accessLog(accessLog)
    , m_sweep(this)
    , m_webSocketSweep(this)
{
    m_clock.start();
    m_requestPrefix = QStringLiteral("%1-%2-").arg(QRandomGenerator::global()->generate() & 0xffffff, 6, 16, QLatin1Char('0')).arg(index);
}

HttpThread::~HttpThread() = default;

void HttpThread::start(qintptr listeningDescriptor)
{
    m_server = new DirectTcpServer(this);
    m_server->setMaxPendingConnections(1024);
    if (!m_server->setSocketDescriptor(listeningDescriptor))
        qCCritical(lcHttp) << "HTTP thread" << m_index << "cannot use its listening socket:" << m_server->errorString();
    connect(m_server, &QTcpServer::newConnection, this, &HttpThread::onNewConnection);

    m_webSocketServer = new QWebSocketServer(QStringLiteral("yieldhost"), QWebSocketServer::NonSecureMode, this);
    m_webSocketServer->setHandshakeTimeout(std::chrono::milliseconds(m_settings.headerTimeoutMs));
    connect(m_webSocketServer, &QWebSocketServer::newConnection, this, &HttpThread::onWebSocket);

    connect(&m_sweep, &QTimer::timeout, this, &HttpThread::sweep);
    m_sweep.start(1000);
    // Fine enough for both deadlines: a ping goes out, and a missing pong is noticed, at most a
    // tick late (a second with the defaults of 30 s and 10 s).
    const qint64 tick = std::clamp<qint64>(std::min(m_settings.wsPingIntervalMs, m_settings.wsPongTimeoutMs) / 4, 50, 1000);
    connect(&m_webSocketSweep, &QTimer::timeout, this, &HttpThread::sweepWebSockets);
    m_webSocketSweep.start(int(tick));
}

void HttpThread::onNewConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        const ConnectionLimits::Verdict verdict = m_draining ? ConnectionLimits::Verdict::TotalLimit : m_limits->admit(socket);
        if (verdict != ConnectionLimits::Verdict::Admitted) {
            if (!m_draining)
                logRefusal(socket->peerAddress(), verdict);
            socket->abort();
            socket->deleteLater();
            continue;
        }
        auto *connection = new HttpConnection(socket, this);
        connect(connection, &HttpConnection::finished, this, &HttpThread::onConnectionFinished);
        m_connections.insert(connection);
        ++m_metrics.httpConnections;
    }
}

void HttpThread::logRefusal(const QHostAddress &peer, ConnectionLimits::Verdict verdict)
{
    // A flood would log a line per connection: one line per second per thread is enough to see it.
    ++m_refusedSinceLog;
    if (m_refusalLog.isValid() && m_refusalLog.elapsed() < 1000)
        return;
    m_refusalLog.start();
    const bool total = verdict == ConnectionLimits::Verdict::TotalLimit;
    qCWarning(lcHttp).noquote() << QStringLiteral("refused %1 connection(s), the last from %2: %3 (%4) reached")
                                       .arg(m_refusedSinceLog)
                                       .arg(peer.toString(),
                                            total ? QStringLiteral("http.max_connections") : QStringLiteral("http.max_connections_per_address"))
                                       .arg(total ? m_limits->maxTotal() : m_limits->maxPerAddress());
    m_refusedSinceLog = 0;
}

void HttpThread::onConnectionFinished(HttpConnection *connection)
{
    if (!m_connections.remove(connection))
        return; // already finished (disconnected can follow a close we started)
    --m_metrics.httpConnections;
    connection->deleteLater();
    checkDrained();
}

void HttpThread::adoptWebSocket(QTcpSocket *socket)
{
    socket->setParent(nullptr);
    if (auto *direct = qobject_cast<DirectTcpSocket *>(socket))
        direct->setCoalescing(true); // a frame's header and payload in one send()
    // QWebSocket reads a frame only once its whole payload is buffered, so the read-ahead cap the
    // HTTP connection set must hold the largest frame we accept (plus a 14-byte header): with
    // websocket.max_message_bytes over that cap, a bigger frame would never be read.
    socket->setReadBufferSize(std::max<qint64>(socket->readBufferSize(), m_settings.wsMaxMessageBytes + 14));
    m_webSocketServer->handleConnection(socket);
}

void HttpThread::countDirectReads()
{
    ++m_metrics.httpDirectReadConnections;
}

void HttpThread::onWebSocket()
{
    while (QWebSocket *socket = m_webSocketServer->nextPendingConnection()) {
        const WebSocketHandler *handler = m_router.webSocket(socket->requestUrl().path());
        if (!handler || m_draining) {
            socket->close(QWebSocketProtocol::CloseCodeGoingAway);
            socket->deleteLater();
            continue;
        }
        auto *session = new WebSocketSessionImpl(socket, m_settings, nowMs(), this);
        m_sessions.insert(session);
        ++m_metrics.webSocketConnections;
        connect(session, &WebSocketSession::closed, this, [this, session] {
            if (m_sessions.remove(session)) {
                --m_metrics.webSocketConnections;
                session->deleteLater();
                checkDrained();
            }
        });
        (*handler)(session);
    }
}

void HttpThread::sweep()
{
    const qint64 now = nowMs();
    const auto connections = m_connections; // a timeout may finish a connection
    for (HttpConnection *c : connections)
        c->checkTimeouts(now);
}

void HttpThread::sweepWebSockets()
{
    const qint64 now = nowMs();
    const auto sessions = m_sessions; // an abort may close a session
    for (WebSocketSessionImpl *s : sessions)
        s->keepAlive(now);
}

void HttpThread::drain()
{
    m_draining = true;
    if (m_server)
        m_server->close();
    const auto connections = m_connections;
    for (HttpConnection *c : connections)
        c->beginShutdown();
    const auto sessions = m_sessions;
    for (WebSocketSessionImpl *s : sessions)
        s->close(QWebSocketProtocol::CloseCodeGoingAway, QStringLiteral("server shutting down"));
    checkDrained();
}

void HttpThread::checkDrained()
{
    if (m_draining && m_connections.isEmpty() && m_sessions.isEmpty())
        Q_EMIT drained();
}

const QByteArray &HttpThread::dateHeader()
{
    const qint64 second = QDateTime::currentSecsSinceEpoch();
    if (second != m_dateSecond) {
        m_dateSecond = second;
        m_date = QLocale::c().toString(QDateTime::fromSecsSinceEpoch(second, Qt::UTC), u"ddd, dd MMM yyyy hh:mm:ss 'GMT'").toLatin1();
    }
    return m_date;
}

QString HttpThread::nextRequestId()
{
    return m_requestPrefix + QString::number(++m_requestCounter);
}

} // namespace yieldhost
