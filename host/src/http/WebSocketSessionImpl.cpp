#include "http/WebSocketSessionImpl.h"

#include "core/Logging.h"

#include <QtCore/QMetaMethod>
#include <QtNetwork/QNetworkRequest>
#include <QtWebSockets/QWebSocket>

namespace yieldhost {

WebSocketSessionImpl::WebSocketSessionImpl(QWebSocket *socket, const HttpSettings &settings, qint64 nowMs, QObject *parent)
    : WebSocketSession(parent)
    , m_socket(socket)
    , m_settings(settings)
    , m_pingSentMs(nowMs)
{
    m_socket->setParent(this);
    m_socket->setMaxAllowedIncomingMessageSize(quint64(settings.wsMaxMessageBytes));
    m_socket->setMaxAllowedIncomingFrameSize(quint64(settings.wsMaxMessageBytes));

    connect(m_socket, &QWebSocket::textMessageReceived, this, &WebSocketSession::textReceived);
    connect(m_socket, &QWebSocket::binaryMessageReceived, this, [this](const QByteArray &message) {
        static const QMetaMethod binarySignal = QMetaMethod::fromSignal(&WebSocketSession::binaryReceived);
        if (isSignalConnected(binarySignal))
            Q_EMIT binaryReceived(message);
        else
            close(QWebSocketProtocol::CloseCodeDatatypeNotSupported, QStringLiteral("only text messages are accepted"));
    });
    connect(m_socket, &QWebSocket::pong, this, [this] { m_awaitingPong = false; });
    connect(m_socket, &QWebSocket::bytesWritten, this, [this](qint64 bytes) { m_queuedBytes = std::max<qint64>(0, m_queuedBytes - bytes); });
    connect(m_socket, &QWebSocket::disconnected, this, [this] { Q_EMIT closed(int(m_socket->closeCode())); });
    const QByteArray forwarded = header(settings.clientAddress.headerName());
    m_clientAddress = settings.clientAddress.resolve(m_socket->peerAddress(), forwarded.isEmpty() ? QByteArrayList() : QByteArrayList{forwarded});
}

WebSocketSessionImpl::~WebSocketSessionImpl() = default;

QUrl WebSocketSessionImpl::requestUrl() const { return m_socket->requestUrl(); }

QByteArray WebSocketSessionImpl::header(QByteArrayView name) const
{
    return m_socket->request().rawHeader(name.toByteArray());
}

QHostAddress WebSocketSessionImpl::peerAddress() const { return m_clientAddress; }

void WebSocketSessionImpl::sendText(const QString &message)
{
    if (m_closing)
        return;
    m_queuedBytes += m_socket->sendTextMessage(message);
    if (m_queuedBytes > m_settings.wsMaxOutgoingBytes) {
        qCWarning(lcWebSocket) << "closing WebSocket of" << m_clientAddress.toString() << ":" << m_queuedBytes
                               << "bytes queued, limit" << m_settings.wsMaxOutgoingBytes;
        close(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("client reads too slowly"));
    }
}

void WebSocketSessionImpl::close(int code, const QString &reason)
{
    if (m_closing)
        return;
    m_closing = true;
    m_socket->close(QWebSocketProtocol::CloseCode(code), reason);
}

void WebSocketSessionImpl::keepAlive(qint64 nowMs)
{
    if (m_closing)
        return;
    if (m_awaitingPong) {
        if (nowMs - m_pingSentMs > m_settings.wsPongTimeoutMs) {
            qCInfo(lcWebSocket) << "WebSocket of" << m_clientAddress.toString() << "missed its pong; closing";
            m_socket->abort();
        }
        return;
    }
    if (nowMs - m_pingSentMs >= m_settings.wsPingIntervalMs) {
        m_awaitingPong = true;
        m_pingSentMs = nowMs;
        m_socket->ping();
    }
}

} // namespace yieldhost
