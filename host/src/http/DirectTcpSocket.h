// DirectTcpSocket.h — a QTcpSocket whose writes go straight to the kernel when nothing is queued,
// and the listening QTcpServer that makes its connections of this kind.
//
// A buffered QTcpSocket copies every write into a ring buffer and sends it on a later turn of
// the event loop, after switching the socket's write notifier on and off again. The buffer's
// 32 KiB chunk then stays allocated for the connection's whole life (heaptrack: QAbstractSocket::
// writeData → QRingBuffer::reserve, one chunk per socket): with 10,000 open WebSockets the host's
// RSS fell from 296 to 212 MB without it (docs/benchmarks.md). The notifier switching also made
// each push to a socket cost a round of the dispatcher's lists. Here a write with an empty queue
// is one non-blocking send(); only what the kernel does not take goes to Qt's buffer, which then
// sends it in order as before. bytesWritten(), when anyone listens for it, still comes from the
// event loop, never from inside write(), as callers that count queued bytes after write() expect.
//
// A WebSocket writes each frame as two writes (header, then payload): with coalescing on, the
// writes of one turn of the event loop are gathered and leave in one send() at its end.
#pragma once

#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>

namespace yieldhost {

class DirectTcpSocket final : public QTcpSocket
{
    Q_OBJECT
public:
    using QTcpSocket::QTcpSocket;

    void setCoalescing(bool on);
    qint64 bytesToWrite() const override;
    void disconnectFromHost() override;
    void close() override;

protected:
    qint64 writeData(const char *data, qint64 size) override;

private:
    qint64 send(const char *data, qint64 size);
    void flushGathered();
    void announceWritten(qint64 bytes);

    bool m_coalescing = false;
    QByteArray m_gathered; // written this turn, sent at its end (coalescing only)
    qint64 m_unannounced = 0; // sent directly, bytesWritten() not emitted yet
};

class DirectTcpServer final : public QTcpServer
{
    Q_OBJECT
public:
    using QTcpServer::QTcpServer;

protected:
    void incomingConnection(qintptr descriptor) override;
};

} // namespace yieldhost
