#include "http/DirectTcpSocket.h"

#include <QtCore/QMetaMethod>
// The private header uses Qt's `emit` keyword, which this project's QT_NO_KEYWORDS switches off.
#define emit
#include <QtNetwork/private/qabstractsocket_p.h>
#undef emit
#include <QtCore/QMetaObject>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>
#include <fcntl.h>
#include <unistd.h>
#include <sys/socket.h>

namespace yieldhost {

namespace {

// Reaches into the socket's private part (see duplicate()). Without UBSan's vptr check: it needs
// the private class's type information, which Qt does not export.
__attribute__((no_sanitize("vptr"))) bool adjustPrivate(QAbstractSocket *socket, bool unbuffered, const QByteArray &preface)
{
    auto *d = static_cast<QAbstractSocketPrivate *>(QObjectPrivate::get(socket));
    if (unbuffered)
        d->isBuffered = false;
    if (preface.isEmpty())
        return true;
    if (d->readChannelCount < 1)
        return false;
    d->buffer.append(preface); // ahead of anything Qt reads from the kernel later
    return true;
}

} // namespace

DirectTcpSocket *DirectTcpSocket::duplicate(QTcpSocket *from, QIODevice::OpenMode mode, QByteArray preface, QObject *parent)
{
    // Qt honours Unbuffered only in connectToHost(): setSocketDescriptor() leaves a socket buffered
    // whatever the mode says, so the flag is set in its private part — whose layout is the one we
    // were compiled against only when the Qt we run is that same version.
    const bool unbuffered = mode.testFlag(Unbuffered);
    if ((unbuffered || !preface.isEmpty()) && std::strcmp(qVersion(), QT_VERSION_STR) != 0)
        return nullptr;
    // A closed socket's number may already be another connection's.
    if (from->state() != ConnectedState || !from->isValid())
        return nullptr;
    const int descriptor = ::fcntl(int(from->socketDescriptor()), F_DUPFD_CLOEXEC, 0);
    if (descriptor < 0)
        return nullptr;
    auto socket = std::make_unique<DirectTcpSocket>();
    if (!socket->setSocketDescriptor(descriptor, ConnectedState, mode)) {
        ::close(descriptor); // setSocketDescriptor leaves a refused descriptor to us
        return nullptr;
    }
    if (!adjustPrivate(socket.get(), unbuffered, preface))
        return nullptr;
    socket->setParent(parent);
    return socket.release();
}

qint64 DirectTcpSocket::readData(char *data, qint64 maxSize)
{
    if (!(openMode() & Unbuffered))
        return QTcpSocket::readData(data, maxSize);
    return receive(data, maxSize);
}

void DirectTcpSocket::end(bool graceful)
{
    // From the event loop, not from inside read() or write(). Qt's read notifier stays off (only
    // a read that got somewhere re-arms it), so the end is not reported again meanwhile.
    if (!graceful)
        m_failed = true; // nothing more is written (after the client's own close, replies still go)
    if (std::exchange(m_ended, true))
        return;
    QMetaObject::invokeMethod(
        this,
        [this] {
            if (!m_failed)
                disconnectFromHost(); // what is queued still goes to a client that only half-closed
            else
                abort();
        },
        Qt::QueuedConnection);
}

qint64 DirectTcpSocket::receive(char *data, qint64 maxSize)
{
    if (m_ended || state() != ConnectedState)
        return maxSize > 0 ? -1 : 0;
    if (!isValid()) { // Qt's own write path closed the descriptor (a reset peer)
        end(false);
        return maxSize > 0 ? -1 : 0;
    }
    if (maxSize <= 0)
        return QTcpSocket::readData(data, 0);
    ssize_t got;
    do {
        got = ::recv(int(socketDescriptor()), data, size_t(maxSize), MSG_DONTWAIT);
    } while (got < 0 && errno == EINTR);
    if (got > 0 || (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))) {
        // An unbuffered socket's notifier stays off after it fired until the next read; this
        // zero-byte read through Qt switches it back on without another syscall.
        QTcpSocket::readData(data, 0);
        return got > 0 ? qint64(got) : 0;
    }
    end(got == 0); // the peer closed (0), or the connection failed
    return -1;
}

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
    if (m_failed)
        return -1;
    if (size <= 0 || QTcpSocket::bytesToWrite() > 0 || state() != ConnectedState || !isValid())
        return qtWrite(data, size);
    ssize_t sent;
    do {
        sent = ::send(int(socketDescriptor()), data, size_t(size), MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && (openMode() & Unbuffered)) {
        end(false); // a reset peer: Qt's unbuffered path would close the descriptor yet keep its number
        return -1;
    }
    if (sent <= 0)
        return qtWrite(data, size);
    announceWritten(sent);
    if (sent == size)
        return size;
    const qint64 queued = qtWrite(data + sent, size - sent);
    return queued < 0 ? qint64(sent) : sent + queued;
}

qint64 DirectTcpSocket::qtWrite(const char *data, qint64 size)
{
    const qint64 written = QTcpSocket::writeData(data, size);
    // Unbuffered, Qt writes at once; when that fails it closes the descriptor but stays
    // "connected" with the old number, and tells no one: end it here.
    if ((openMode() & Unbuffered) && state() == ConnectedState && !isValid())
        end(false);
    return written;
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
