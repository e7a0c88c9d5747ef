// WebSocket on the HTTP port, end to end: upgrade, echo, the 64 KiB message limit (1009),
// server pings with a pong deadline, and the bound on data queued for a slow reader.
#include "HostProcess.h"
#include "HttpClient.h"

#include <QtTest/QtTest>
#include <QtWebSockets/QWebSocket>

using namespace yieldhost::test;

class TestWebSocket : public QObject
{
    Q_OBJECT

    std::unique_ptr<HostProcess> m_host;

    QUrl url(const QString &path) const { return QUrl(QStringLiteral("ws://127.0.0.1:%1%2").arg(m_host->port()).arg(path)); }

    // A raw upgrade on a plain TCP socket, for tests that must misbehave as a client.
    std::unique_ptr<HttpClient> rawUpgrade(const QByteArray &path, int *status)
    {
        auto c = std::make_unique<HttpClient>(m_host->host(), m_host->port());
        if (!c->open())
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
        QString error;
        QVERIFY2(m_host->start(&error), qPrintable(error));
    }
    void cleanupTestCase()
    {
        if (m_host)
            QCOMPARE(m_host->terminate(), 0);
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
};

QTEST_GUILESS_MAIN(TestWebSocket)
#include "tst_websocket.moc"
