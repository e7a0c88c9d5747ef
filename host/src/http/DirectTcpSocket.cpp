#include "http/DirectTcpSocket.h"

#include <QtCore/QMetaMethod>
#include <QtCore/QMetaObject>

#include <cerrno>
#include <utility>
#include <unistd.h>
#include <sys/socket.h>

namespace yieldhost {

void DirectTcpSocket::setCoalescing(bool on)
{
    if (!on)
        flushGathered();
    m_coalescing = on;
}

qint64 DirectTcpSocket::bytesToWrite() const
{
    return QTcpSocket::bytesToWrite() + m_gathered.size();
}

void DirectTcpSocket::disconnectFromHost()
{
    flushGathered(); // what was written before the close goes first
    QTcpSocket::disconnectFromHost();
}

void DirectTcpSocket::close()
{
    flushGathered();
    QTcpSocket::close();
}

qint64 DirectTcpSocket::writeData(const char *data, qint64 size)
{
    if (m_coalescing && size > 0 && state() == ConnectedState) {
        if (m_gathered.isEmpty())
            QMetaObject::invokeMethod(this, &DirectTcpSocket::flushGathered, Qt::QueuedConnection);
        m_gathered.append(data, size);
        return size;
    }
    return send(data, size);
}

void DirectTcpSocket::flushGathered()
{
    if (m_gathered.isEmpty())
        return;
    const QByteArray out = std::exchange(m_gathered, QByteArray()); // the buffer goes with the turn
    if (state() == ConnectedState)
        send(out.constData(), out.size());
}

qint64 DirectTcpSocket::send(const char *data, qint64 size)
{
    // Only with nothing queued (bytes must leave in order) and a live connection; anything else,
    // including an error from send(), takes Qt's own path, which reports errors its usual way.
    if (size <= 0 || QTcpSocket::bytesToWrite() > 0 || state() != ConnectedState)
        return QTcpSocket::writeData(data, size);
    ssize_t sent;
    do {
        sent = ::send(int(socketDescriptor()), data, size_t(size), MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    if (sent <= 0)
        return QTcpSocket::writeData(data, size);
    announceWritten(sent);
    if (sent == size)
        return size;
    const qint64 queued = QTcpSocket::writeData(data + sent, size - sent);
    return queued < 0 ? qint64(sent) : sent + queued;
}

void DirectTcpSocket::announceWritten(qint64 bytes)
{
    // Nobody counts an HTTP connection's bytes: a queued call per response would only cost.
    static const QMetaMethod signal = QMetaMethod::fromSignal(&QIODevice::bytesWritten);
    if (!isSignalConnected(signal))
        return;
    // One queued call per turn of the event loop, however many writes it holds.
    const bool pending = m_unannounced > 0;
    m_unannounced += bytes;
    if (pending)
        return;
    QMetaObject::invokeMethod(
        this,
        [this] {
            const qint64 written = m_unannounced;
            m_unannounced = 0;
            Q_EMIT bytesWritten(written);
        },
        Qt::QueuedConnection);
}

void DirectTcpServer::incomingConnection(qintptr descriptor)
{
    auto *socket = new DirectTcpSocket(this);
    if (!socket->setSocketDescriptor(descriptor)) {
        delete socket; // never became a connection; setSocketDescriptor leaves the descriptor to us
        ::close(int(descriptor));
        return;
    }
    addPendingConnection(socket);
}

} // namespace yieldhost
