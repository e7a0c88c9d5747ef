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
//
// Reads: a buffered QAbstractSocket asks the kernel how much is waiting (ioctl FIONREAD) before
// every read, one syscall per request of three on a keep-alive connection (`strace -c`; without
// it /healthz served ~12 % more). A copy opened Unbuffered by duplicate() reads with one recv()
// into the caller's memory instead; the HTTP connection switches to one after its first request
// (docs/http.md). Its end of stream closes the socket from the event loop, as the buffered one
// does, since Qt's unbuffered path only marks it unconnected; a failed send() closes it too (Qt's
// unbuffered write path would close the descriptor and go on using its number). A buffered copy
// can start with a preface: bytes an earlier reader took from the kernel (a WebSocket handshake),
// put in Qt's read buffer ahead of anything the kernel holds.
#pragma once

#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>

namespace yieldhost {

class DirectTcpSocket final : public QTcpSocket
{
    Q_OBJECT
public:
    using QTcpSocket::QTcpSocket;

    // A second socket on a duplicate of `from`'s connected descriptor, opened with `mode`
    // (ReadWrite, optionally Unbuffered), first serving `preface` to its readers; null when the
    // descriptor cannot be duplicated. `from` keeps its own descriptor: abort it afterwards.
    static DirectTcpSocket *duplicate(QTcpSocket *from, QIODevice::OpenMode mode, QByteArray preface, QObject *parent);

    void setCoalescing(bool on);
    qint64 bytesToWrite() const override;
    void disconnectFromHost() override;
    void close() override;

protected:
    qint64 readData(char *data, qint64 maxSize) override;
    qint64 writeData(const char *data, qint64 size) override;

private:
    qint64 send(const char *data, qint64 size);
    void flushGathered();
    void announceWritten(qint64 bytes);

    qint64 receive(char *data, qint64 maxSize);
    void end(bool graceful);
    qint64 qtWrite(const char *data, qint64 size); // Qt's own write path, for what send() leaves

    bool m_coalescing = false;
    bool m_ended = false; // unbuffered: the peer closed or the connection failed; closing
    bool m_failed = false; // the connection failed: nothing more is written
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
