// WebSocket on the HTTP port, end to end: upgrade, echo, the 64 KiB message limit (1009), also
// for a message sent in fragments, server pings with a pong deadline that a healthy client meets,
// the bound on data queued for a slow reader (1008), and limits that are per message, not per
// connection. Raw clients speak the frames themselves where a test must misbehave or look at them.
#include "HostProcess.h"
#include "HttpClient.h"

#include <QtCore/QFile>
#include <QtNetwork/QTcpServer>
#include <QtTest/QtTest>
#include <QtWebSockets/QWebSocket>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace yieldhost::test;

namespace {

constexpr quint8 opContinuation = 0x0;
constexpr quint8 opText = 0x1;
constexpr quint8 opClose = 0x8;
constexpr quint8 opPing = 0x9;
constexpr quint8 opPong = 0xa;

// The second host's message limit: above the 64 KiB an HTTP connection reads ahead, which the
// WebSocket it becomes must not inherit.
constexpr int quietMaxMessageBytes = 128 * 1024;

struct Frame
{
    quint8 opcode = 0;
    QByteArray payload;
};

// A client frame, masked as RFC 6455 §5.3 requires of every frame a client sends.
QByteArray clientFrame(quint8 opcode, const QByteArray &payload, bool fin = true)
{
    QByteArray out;
    out += char((fin ? 0x80 : 0x00) | opcode);
    const quint64 n = quint64(payload.size());
    if (n < 126) {
        out += char(0x80 | n);
    } else if (n <= 0xffff) {
        out += char(0x80 | 126);
        out += char(n >> 8);
        out += char(n & 0xff);
    } else {
        out += char(0x80 | 127);
        for (int shift = 56; shift >= 0; shift -= 8)
            out += char((n >> shift) & 0xff);
    }
    const QByteArray mask("\x37\xfa\x21\x3d", 4);
    out += mask;
    for (qsizetype i = 0; i < payload.size(); ++i)
        out += char(payload[i] ^ mask[i % 4]);
    return out;
}

// Takes the first whole frame off the front of `buffer`, nullopt while it is incomplete.
std::optional<Frame> takeFrame(QByteArray &buffer)
{
    const auto byte = [&buffer](qsizetype i) { return quint64(quint8(buffer[i])); };
    if (buffer.size() < 2)
        return std::nullopt;
    qsizetype pos = 2;
    quint64 length = byte(1) & 0x7f;
    if (length >= 126) {
        const qsizetype bytes = length == 126 ? 2 : 8;
        if (buffer.size() < pos + bytes)
            return std::nullopt;
        length = 0;
        for (qsizetype i = 0; i < bytes; ++i)
            length = (length << 8) | byte(pos + i);
        pos += bytes;
    }
    const bool masked = (byte(1) & 0x80) != 0;
    const QByteArray mask = masked ? buffer.mid(pos, 4) : QByteArray();
    pos += mask.size();
    if (quint64(buffer.size()) < quint64(pos) + length || (masked && mask.size() < 4))
        return std::nullopt;
    Frame frame{quint8(byte(0) & 0x0f), buffer.mid(pos, qsizetype(length))};
    for (qsizetype i = 0; masked && i < frame.payload.size(); ++i)
        frame.payload[i] = char(frame.payload[i] ^ mask[i % 4]);
    buffer.remove(0, pos + qsizetype(length));
    return frame;
}

// The status code a close frame carries (RFC 6455 §5.5.1); 1005 when it has none.
int closeCode(const Frame &frame)
{
    return frame.payload.size() >= 2 ? (quint8(frame.payload[0]) << 8) | quint8(frame.payload[1]) : 1005;
}

// The next frame the host sends on a raw client's socket, nullopt if none came in time.
std::optional<Frame> readFrame(HttpClient &c, QByteArray &buffer, int timeoutMs = 5000)
{
    QDeadlineTimer deadline(timeoutMs);
    for (;;) {
        if (auto frame = takeFrame(buffer))
            return frame;
        if (c.socket().bytesAvailable() == 0
            && (c.socket().state() != QAbstractSocket::ConnectedState || deadline.hasExpired()
                || !c.socket().waitForReadyRead(int(std::max<qint64>(1, deadline.remainingTime())))))
            return std::nullopt;
        buffer += c.socket().readAll();
    }
}

// A relay between a client and the host that notes the opcode of every frame going each way, so
// a test sees the pings and pongs QWebSocket exchanges without telling anyone.
class FrameTap : public QObject
{
public:
    explicit FrameTap(quint16 hostPort)
    {
        m_server.listen(QHostAddress::LocalHost);
        QObject::connect(&m_server, &QTcpServer::newConnection, this, [this, hostPort] {
            m_client = m_server.nextPendingConnection();
            m_host.connectToHost(QHostAddress::LocalHost, hostPort);
            m_host.waitForConnected(5000);
            QObject::connect(m_client, &QTcpSocket::readyRead, this, [this] { relay(*m_client, m_host, m_fromClient); });
            QObject::connect(&m_host, &QTcpSocket::readyRead, this, [this] { relay(m_host, *m_client, m_fromHost); });
            QObject::connect(m_client, &QTcpSocket::disconnected, &m_host, &QTcpSocket::disconnectFromHost);
            QObject::connect(&m_host, &QTcpSocket::disconnected, m_client, &QTcpSocket::disconnectFromHost);
            relay(*m_client, m_host, m_fromClient);
        });
    }

    quint16 port() const { return m_server.serverPort(); }
    qsizetype fromHost(quint8 opcode) const { return m_fromHost.opcodes.count(opcode); }
    qsizetype fromClient(quint8 opcode) const { return m_fromClient.opcodes.count(opcode); }

private:
    struct Direction
    {
        QByteArray buffer;
        bool upgraded = false; // past the HTTP handshake
        QList<quint8> opcodes;
    };

    static void relay(QTcpSocket &from, QTcpSocket &to, Direction &direction)
    {
        const QByteArray bytes = from.readAll();
        to.write(bytes);
        direction.buffer += bytes;
        if (!direction.upgraded) {
            const qsizetype end = direction.buffer.indexOf("\r\n\r\n");
            if (end < 0)
                return;
            direction.buffer.remove(0, end + 4);
            direction.upgraded = true;
        }
        while (const auto frame = takeFrame(direction.buffer))
            direction.opcodes.append(frame->opcode);
    }

    QTcpSocket m_host;
    QTcpServer m_server; // after m_host: its client socket, which signals m_host, goes first
    QTcpSocket *m_client = nullptr; // a child of m_server
    Direction m_fromClient;
    Direction m_fromHost;
};

// A TCP socket to the host whose receive buffer was made small before connecting, when the kernel
// sizes the window it offers: so the host's data cannot pile up in our kernel instead of in the
// host. Returns the descriptor, -1 on failure.
int connectWithSmallReceiveBuffer(quint16 port, int bytes)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) != 0
        || ::connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// The most a socket's kernel send buffer may grow to (tcp_wmem's maximum): how much the host's
// kernel can take off its hands for a client that reads nothing.
// The most a TCP socket's kernel buffer grows to (the third field of tcp_wmem or tcp_rmem).
qint64 maxKernelBuffer(const char *which)
{
    QFile file(QStringLiteral("/proc/sys/net/ipv4/") + QLatin1String(which));
    const QList<QByteArray> values = file.open(QIODevice::ReadOnly) ? file.readAll().simplified().split(' ') : QList<QByteArray>();
    const qint64 max = values.size() == 3 ? values[2].toLongLong() : 0;
    return max > 0 ? max : 6 << 20;
}

} // namespace

class TestWebSocket : public QObject
{
    Q_OBJECT

    std::unique_ptr<HostProcess> m_host;      // pings every 300 ms
    std::unique_ptr<HostProcess> m_quietHost; // no pings during a test, for raw clients that do not answer them

    QUrl url(const QString &path, const HostProcess *host = nullptr) const
    {
        return QUrl(QStringLiteral("ws://127.0.0.1:%1%2").arg((host ? host : m_host.get())->port()).arg(path));
    }

    // A raw upgrade on a plain TCP socket, for tests that must misbehave as a client; on `host`
    // (the pinging one by default), over the connected descriptor `fd` when one is given.
    std::unique_ptr<HttpClient> rawUpgrade(const QByteArray &path, int *status, HostProcess *host = nullptr, int fd = -1)
    {
        host = host ? host : m_host.get();
        auto c = std::make_unique<HttpClient>(host->host(), host->port());
        if (fd >= 0 ? !c->socket().setSocketDescriptor(fd) : !c->open())
            return nullptr;
        c->send("GET " + path + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        QByteArray head;
        QDeadlineTimer deadline(5000);
        while (!head.contains("\r\n\r\n") && !deadline.hasExpired()) {
            if (c->socket().bytesAvailable() == 0)
                c->socket().waitForReadyRead(200);
            head += c->socket().read(1);
        }
        *status = head.mid(9, 3).toInt();
        return c;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("YIELDHOST_WEBSOCKET__PING_INTERVAL_MS"), QStringLiteral("300"));
        env.insert(QStringLiteral("YIELDHOST_WEBSOCKET__PONG_TIMEOUT_MS"), QStringLiteral("600"));
        m_host = std::make_unique<HostProcess>(env);
        QProcessEnvironment quiet;
        quiet.insert(QStringLiteral("YIELDHOST_WEBSOCKET__PING_INTERVAL_MS"), QStringLiteral("600000"));
        quiet.insert(QStringLiteral("YIELDHOST_WEBSOCKET__PONG_TIMEOUT_MS"), QStringLiteral("600000"));
        quiet.insert(QStringLiteral("YIELDHOST_WEBSOCKET__MAX_MESSAGE_BYTES"), QString::number(quietMaxMessageBytes));
        m_quietHost = std::make_unique<HostProcess>(quiet);
        QString error;
        QVERIFY2(m_host->start(&error), qPrintable(error));
        QVERIFY2(m_quietHost->start(&error), qPrintable(error));
    }
    void cleanupTestCase()
    {
        if (m_host)
            QCOMPARE(m_host->terminate(), 0);
        if (m_quietHost)
            QCOMPARE(m_quietHost->terminate(), 0);
    }

    void echoesTextMessages()
    {
        QWebSocket ws;
        QSignalSpy connected(&ws, &QWebSocket::connected);
        QSignalSpy received(&ws, &QWebSocket::textMessageReceived);
        ws.open(url(QStringLiteral("/ws/test/echo")));
        QVERIFY(connected.wait(5000));
        ws.sendTextMessage(QStringLiteral("{\"command\":\"ping\"}"));
        QVERIFY(received.wait(5000));
        QCOMPARE(received.first().first().toString(), QStringLiteral("{\"command\":\"ping\"}"));
        // The connection counts in /metrics while it is open.
        const auto metrics = HttpClient::request(m_host->host(), m_host->port(), "GET", "/metrics");
        QVERIFY(metrics);
        QVERIFY(metrics->body.contains("yieldhost_websocket_connections 1"));
        ws.close();
    }

    void messageOver64KiBClosesWith1009()
    {
        QWebSocket ws;
        QSignalSpy connected(&ws, &QWebSocket::connected);
        QSignalSpy disconnected(&ws, &QWebSocket::disconnected);
        ws.open(url(QStringLiteral("/ws/test/echo")));
        QVERIFY(connected.wait(5000));
        ws.sendTextMessage(QString(70 * 1024, u'x'));
        QVERIFY(disconnected.wait(5000));
        QCOMPARE(int(ws.closeCode()), 1009);
    }

    void aBinaryMessageNobodyListensForClosesWith1003()
    {
        // The echo route connects textReceived only: without a plugin listening for binary
        // messages (SDK 1.1's binaryReceived), the host answers one itself, as SDK 1.0 did.
        QWebSocket ws;
        QSignalSpy connected(&ws, &QWebSocket::connected);
        QSignalSpy disconnected(&ws, &QWebSocket::disconnected);
        QSignalSpy received(&ws, &QWebSocket::binaryMessageReceived);
        ws.open(url(QStringLiteral("/ws/test/echo")));
        QVERIFY(connected.wait(5000));
        ws.sendBinaryMessage(QByteArrayLiteral("\x01\x02\x03"));
        QVERIFY(disconnected.wait(5000));
        QCOMPARE(int(ws.closeCode()), 1003);
        QCOMPARE(ws.closeReason(), QStringLiteral("only text messages are accepted"));
        QCOMPARE(received.size(), 0);
    }

    void messageJustUnderTheLimitIsEchoed()
    {
        QWebSocket ws;
        QSignalSpy connected(&ws, &QWebSocket::connected);
        QSignalSpy received(&ws, &QWebSocket::textMessageReceived);
        ws.open(url(QStringLiteral("/ws/test/echo")));
        QVERIFY(connected.wait(5000));
        ws.sendTextMessage(QString(60 * 1024, u'y'));
        QVERIFY(received.wait(5000));
        QCOMPARE(received.first().first().toString().size(), 60 * 1024);
    }

    void anUpgradeLaterOnAKeepAliveConnectionIsHandedOver()
    {
        // A proxy may reuse a kept-alive connection for an upgrade. By then the host reads that
        // connection itself (DirectTcpSocket), so QWebSocketServer is handed a copy that serves it
        // the handshake again. On the quiet host: this raw client answers no ping, and the
        // pinging host would drop it after one missed pong.
        auto c = std::make_unique<HttpClient>(m_quietHost->host(), m_quietHost->port());
        QVERIFY(c->open());
        for (int i = 0; i < 2; ++i) {
            c->send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
            const auto r = c->read();
            QVERIFY(r);
            QCOMPARE(r->status, 200);
        }
        c->send("GET /ws/test/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        QByteArray buffer;
        QDeadlineTimer deadline(5000);
        while (!buffer.contains("\r\n\r\n") && !deadline.hasExpired()) {
            if (c->socket().bytesAvailable() == 0)
                c->socket().waitForReadyRead(200);
            buffer += c->socket().readAll();
        }
        QVERIFY2(buffer.startsWith("HTTP/1.1 101"), buffer.left(200).constData());
        buffer.remove(0, buffer.indexOf("\r\n\r\n") + 4);
        c->send(clientFrame(opText, "after two requests"));
        std::optional<Frame> frame;
        do
            frame = readFrame(*c, buffer);
        while (frame && frame->opcode == opPing);
        QVERIFY(frame);
        QCOMPARE(frame->opcode, opText);
        QCOMPARE(frame->payload, QByteArray("after two requests"));
    }

    void unknownPathIs404()
    {
        int status = 0;
        auto c = rawUpgrade("/ws/nothing", &status);
        QVERIFY(c);
        QCOMPARE(status, 404);
    }

    void plainHttpRoutesIgnoreOtherUpgrades()
    {
        const auto r = HttpClient::request(m_host->host(), m_host->port(), "GET", "/healthz", {}, {},
                                           {{"Connection", "Upgrade, HTTP2-Settings"}, {"Upgrade", "h2c"}, {"HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"}});
        QVERIFY(r);
        QCOMPARE(r->status, 200);
    }

    void serverPingsAndDropsAClientThatNeverPongs()
    {
        int status = 0;
        auto c = rawUpgrade("/ws/test/echo", &status);
        QVERIFY(c);
        QCOMPARE(status, 101);
        // Read frames without ever answering: a ping (opcode 0x9) must come, then the close.
        bool sawPing = false;
        QDeadlineTimer deadline(5000);
        QByteArray data;
        while (c->socket().state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
            c->socket().waitForReadyRead(100);
            data += c->socket().readAll();
            if (!data.isEmpty() && (quint8(data.at(0)) & 0x0f) == 0x9)
                sawPing = true;
        }
        QVERIFY2(sawPing, "the server never pinged");
        QVERIFY2(c->socket().state() != QAbstractSocket::ConnectedState, "a client that never pongs was kept");
    }

    void slowReaderIsCutOffInsteadOfBufferedForever()
    {
        QWebSocket ws;
        QSignalSpy connected(&ws, &QWebSocket::connected);
        QSignalSpy disconnected(&ws, &QWebSocket::disconnected);
        ws.open(url(QStringLiteral("/ws/test/flood")));
        QVERIFY(connected.wait(5000));
        // 200 x 60 KB = 12 MB queued at once, far over the 1 MiB outgoing bound.
        ws.sendTextMessage(QStringLiteral("{\"n\":200,\"size\":60000}"));
        QVERIFY(disconnected.wait(10000));
        QCOMPARE(int(ws.closeCode()), 1008);
    }

    void aClientThatAnswersPingsStaysConnected()
    {
        FrameTap tap(m_host->port());
        QWebSocket ws;
        QSignalSpy connected(&ws, &QWebSocket::connected);
        QSignalSpy disconnected(&ws, &QWebSocket::disconnected);
        ws.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/ws/test/echo").arg(tap.port())));
        QVERIFY(connected.wait(5000));
        // A ping every 300 ms, each to be answered within 600 ms; QWebSocket answers while this
        // loop runs its events. A host that missed a pong would ping no more, and drop the client.
        QTRY_VERIFY_WITH_TIMEOUT(tap.fromHost(opPing) >= 4, 10000);
        QCOMPARE(disconnected.count(), 0);
        QCOMPARE(ws.state(), QAbstractSocket::ConnectedState);
        QVERIFY(tap.fromClient(opPong) >= 3);
        QSignalSpy received(&ws, &QWebSocket::textMessageReceived);
        ws.sendTextMessage(QStringLiteral("still here"));
        QTRY_COMPARE_WITH_TIMEOUT(received.count(), 1, 5000);
    }

    void messagesAddingUpToOverAMebibyteAreAllEchoed()
    {
        // Each under the 64 KiB limit, 1.2 MB together: the message limit is per message and the
        // outgoing bound counts what is queued, not what was ever sent.
        QWebSocket ws;
        QSignalSpy connected(&ws, &QWebSocket::connected);
        QSignalSpy received(&ws, &QWebSocket::textMessageReceived);
        ws.open(url(QStringLiteral("/ws/test/echo")));
        QVERIFY(connected.wait(5000));
        constexpr int count = 20;
        constexpr int size = 60 * 1024;
        static_assert(qint64(count) * size > (1 << 20));
        for (int i = 0; i < count; ++i) {
            const QString message(size, QChar(u'a' + i));
            ws.sendTextMessage(message);
            QTRY_COMPARE_WITH_TIMEOUT(received.count(), i + 1, 5000);
            QVERIFY(received.last().first().toString() == message);
        }
        QCOMPARE(ws.state(), QAbstractSocket::ConnectedState);
    }

    void aFragmentedMessageIsReassembled()
    {
        int status = 0;
        auto c = rawUpgrade("/ws/test/echo", &status, m_quietHost.get());
        QVERIFY(c);
        QCOMPARE(status, 101);
        // A ping may come between the fragments of a message (RFC 6455 §5.4).
        c->send(clientFrame(opText, "Hello, ", false));
        c->send(clientFrame(opPing, "between"));
        c->send(clientFrame(opContinuation, "fragmented ", false));
        c->send(clientFrame(opContinuation, "world"));
        QByteArray buffer;
        const auto pong = readFrame(*c, buffer);
        QVERIFY(pong);
        QCOMPARE(pong->opcode, opPong);
        QCOMPARE(pong->payload, QByteArray("between"));
        const auto echo = readFrame(*c, buffer);
        QVERIFY(echo);
        QCOMPARE(echo->opcode, opText);
        QCOMPARE(echo->payload, QByteArray("Hello, fragmented world"));
    }

    void aFragmentedMessageOverTheLimitIsClosedWith1009()
    {
        // Every fragment is within the limit; the message they make is not.
        int status = 0;
        auto c = rawUpgrade("/ws/test/echo", &status, m_quietHost.get());
        QVERIFY(c);
        QCOMPARE(status, 101);
        const QByteArray third(quietMaxMessageBytes / 2 - 1, 'f');
        c->send(clientFrame(opText, third, false));
        c->send(clientFrame(opContinuation, third, false));
        c->send(clientFrame(opContinuation, third));
        QByteArray buffer;
        const auto frame = readFrame(*c, buffer);
        QVERIFY2(frame, "no answer to an oversized fragmented message");
        QCOMPARE(frame->opcode, opClose);
        QCOMPARE(closeCode(*frame), 1009);
    }

    void aMessageOverTheHttpReadAheadIsReadWhenTheLimitAllowsIt()
    {
        // 100 KiB in one frame, within this host's 128 KiB limit but over the 64 KiB read-ahead
        // the connection had while it spoke HTTP.
        QWebSocket ws;
        QSignalSpy connected(&ws, &QWebSocket::connected);
        QSignalSpy received(&ws, &QWebSocket::textMessageReceived);
        ws.open(url(QStringLiteral("/ws/test/echo"), m_quietHost.get()));
        QVERIFY(connected.wait(5000));
        const QString message(100 * 1024, u'm');
        ws.sendTextMessage(message);
        QTRY_COMPARE_WITH_TIMEOUT(received.count(), 1, 5000);
        QVERIFY(received.first().first().toString() == message);
    }

    void aClientThatStopsReadingIsCutOff()
    {
        // A raw client with a small receive buffer sends messages to the echo endpoint and reads no
        // echo. Once the kernels' buffers are full the echoes queue in the host, and past
        // websocket.max_outgoing_bytes (1 MiB) it closes the connection with 1008.
        const int fd = connectWithSmallReceiveBuffer(m_quietHost->port(), 4096);
        QVERIFY(fd >= 0);
        int status = 0;
        auto c = rawUpgrade("/ws/test/echo", &status, m_quietHost.get(), fd);
        QVERIFY(c);
        QCOMPARE(status, 101);
        QTcpSocket &socket = c->socket();
        socket.setReadBufferSize(4096); // nor may Qt read the echoes for us while we write

        // Send, one message ahead of what the host takes, until it says it cut us off. Its log only
        // saves time: without it we stop after more than its kernel, ours and the bound can hold.
        const QByteArray message = clientFrame(opText, QByteArray(60 * 1024, 'q'));
        // What sent can get ahead of the host's echoing: our send buffer and the host's receive
        // buffer hold messages it has not read yet (a slow host, e.g. under AddressSanitizer,
        // lags behind by up to both), its send buffer holds echoes; then the bound, with room.
        const qint64 budget = 2 * maxKernelBuffer("tcp_wmem") + maxKernelBuffer("tcp_rmem") + (3 << 20);
        const auto cutOff = [this] { return m_quietHost->output().contains(QLatin1String("bytes queued")); };
        qint64 sent = 0;
        QDeadlineTimer sending(30000);
        while (sent < budget && socket.state() == QAbstractSocket::ConnectedState && !cutOff() && !sending.hasExpired()) {
            if (socket.bytesToWrite() < message.size()) {
                socket.write(message);
                sent += message.size();
            }
            socket.waitForBytesWritten(100);
        }

        // Catch up. The close frame comes after everything queued before it; but a host that
        // closes with our last messages unread resets the connection instead (Linux does that to a
        // socket closed with unread data), and the reset drops what its kernel still held.
        socket.setReadBufferSize(0);
        QByteArray buffer;
        std::optional<int> code;
        qint64 echoed = 0;
        bool ended = false;
        while (!ended) {
            const auto frame = readFrame(*c, buffer, 5000);
            if (!frame) {
                ended = socket.state() != QAbstractSocket::ConnectedState;
                break;
            }
            if (frame->opcode == opClose) {
                code = closeCode(*frame);
                ended = true;
            }
            echoed += frame->payload.size();
        }
        QVERIFY2(ended, qPrintable(QStringLiteral("still connected after %1 of %2 bytes echoed").arg(echoed).arg(sent)));
        if (code)
            QCOMPARE(*code, 1008);
        QVERIFY2(cutOff(), "the host did not log why it cut the client off");
    }
};

QTEST_GUILESS_MAIN(TestWebSocket)
#include "tst_websocket.moc"
