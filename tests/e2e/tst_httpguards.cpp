// The guards in front of the handlers, against the real binary over loopback: connection limits
// (total and per client network), the total body deadline, strict chunked framing, and the client
// address taken from X-Forwarded-For only through trusted proxies. Every 127/8 address is
// loopback, so a test plays several clients (127.0.0.x) and a trusted proxy (127.0.0.1).
#include "HostProcess.h"
#include "HttpClient.h"
#include "ProblemCheck.h"

#include <QtCore/QThread>
#include <QtTest/QtTest>

using namespace yieldhost::test;

namespace {

constexpr int maxConnections = 12;
constexpr int maxPerAddress = 4;

QHostAddress loopback(int last) { return QHostAddress(QStringLiteral("127.0.0.%1").arg(last)); }

} // namespace

class TestHttpGuards : public QObject
{
    Q_OBJECT

    std::unique_ptr<HostProcess> m_host;

    std::unique_ptr<HttpClient> connectFrom(const QHostAddress &from)
    {
        auto c = std::make_unique<HttpClient>(m_host->host(), m_host->port());
        if (!c->open(5000, from))
            return nullptr;
        return c;
    }
    // True when a request on `c` is answered: a connection over a limit is accepted by the
    // kernel and then closed by the host without a reply.
    static bool served(HttpClient &c)
    {
        c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        const auto r = c.read(5000);
        return r && r->status == 200;
    }
    // A closed connection's place comes back once the host has seen the close, an event-loop turn
    // or two later on its side (longer on a loaded CI machine): poll with fresh connections.
    bool servedWithin(const QHostAddress &from, int timeoutMs)
    {
        QElapsedTimer elapsed;
        elapsed.start();
        do {
            auto c = connectFrom(from);
            if (c && served(*c))
                return true;
            QTest::qWait(100);
        } while (elapsed.elapsed() < timeoutMs);
        return false;
    }
    std::optional<HttpReply> whoami(const QHostAddress &from, const QList<QPair<QByteArray, QByteArray>> &headers)
    {
        return HttpClient::request(m_host->host(), m_host->port(), "GET", "/test/whoami", {}, "application/json", headers, from);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("YIELDHOST_HTTP__THREADS"), QStringLiteral("2")); // the limits hold across threads
        env.insert(QStringLiteral("YIELDHOST_HTTP__MAX_CONNECTIONS"), QString::number(maxConnections));
        env.insert(QStringLiteral("YIELDHOST_HTTP__MAX_CONNECTIONS_PER_ADDRESS"), QString::number(maxPerAddress));
        env.insert(QStringLiteral("YIELDHOST_HTTP__BODY_TIMEOUT_MS"), QStringLiteral("1500"));
        env.insert(QStringLiteral("YIELDHOST_HTTP__IDLE_TIMEOUT_MS"), QStringLiteral("20000"));
        env.insert(QStringLiteral("YIELDHOST_HTTP__TRUSTED_PROXIES"), QStringLiteral("127.0.0.1/32,127.0.1.0/24"));
        m_host = std::make_unique<HostProcess>(env);
        QString error;
        QVERIFY2(m_host->start(&error), qPrintable(error));
    }
    void cleanupTestCase()
    {
        if (m_host)
            QCOMPARE(m_host->terminate(), 0);
    }

    void oneAddressGetsAtMostItsShareOfConnections()
    {
        std::vector<std::unique_ptr<HttpClient>> held;
        for (int i = 0; i < maxPerAddress; ++i) {
            held.push_back(connectFrom(loopback(20)));
            QVERIFY(held.back());
            QVERIFY2(served(*held.back()), "a connection within the per-address limit was not served");
        }
        auto over = connectFrom(loopback(20));
        QVERIFY(over);
        QVERIFY2(!served(*over), "the connection over the per-address limit was served");
        // Another address is not affected, and a closed connection gives its place back.
        auto other = connectFrom(loopback(21));
        QVERIFY(other);
        QVERIFY(served(*other));
        held.front()->close();
        held.erase(held.begin());
        QVERIFY2(servedWithin(loopback(20), 15000), "a closed connection did not give its place back");
    }

    void placesHoldWhileConnectionsServeManyRequests()
    {
        // After its first reply a connection goes on in a duplicate of its descriptor
        // (DirectTcpSocket); its place must go with it, held until the client leaves.
        std::vector<std::unique_ptr<HttpClient>> held;
        for (int i = 0; i < maxPerAddress; ++i) {
            held.push_back(connectFrom(loopback(24)));
            QVERIFY(held.back());
            for (int request = 0; request < 3; ++request)
                QVERIFY2(served(*held.back()), "a connection within the per-address limit was not served");
        }
        auto over = connectFrom(loopback(24));
        QVERIFY(over);
        QVERIFY2(!served(*over), "a place was given back while its connection was still open");
        held.clear();
        QVERIFY2(servedWithin(loopback(24), 15000), "closed connections did not give their places back");
    }

    void theTotalLimitHoldsAcrossThreadsAndPlacesComeBack()
    {
        // The trusted proxy is exempt from the per-address limit (its clients share its address),
        // so it can fill the server.
        std::vector<std::unique_ptr<HttpClient>> held;
        for (int i = 0; i < maxConnections; ++i) {
            held.push_back(connectFrom(loopback(1)));
            QVERIFY(held.back());
            QVERIFY2(served(*held.back()), qPrintable(QStringLiteral("connection %1 of %2 was not served").arg(i + 1).arg(maxConnections)));
        }
        auto over = connectFrom(loopback(22));
        QVERIFY(over);
        QVERIFY2(!served(*over), "a connection over http.max_connections was served");
        QVERIFY(m_host->output().contains(QLatin1String("http.max_connections")));
        held.clear();
        QVERIFY2(servedWithin(loopback(22), 15000), "closed connections did not give their places back");
    }

    void aBodyTricklingInIsCutOffAtTheDeadline()
    {
        // One byte every 200 ms never looks stalled (idle timeout 20 s here); the body deadline
        // (1.5 s here) is what ends it.
        auto c = connectFrom(loopback(23));
        QVERIFY(c);
        QElapsedTimer elapsed;
        elapsed.start();
        c->send("POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{");
        bool closed = false;
        for (int i = 0; i < 60 && !closed; ++i) {
            c->send(" ");
            closed = c->socket().waitForReadyRead(200);
        }
        QVERIFY2(closed, "the host kept reading a trickling body past its deadline");
        verifyProblem(c->read(2000), 408);
        QVERIFY2(elapsed.elapsed() < 8000, qPrintable(QStringLiteral("cut off after %1 ms").arg(elapsed.elapsed())));
        QVERIFY(c->waitForClose());
    }

    void chunkedBodiesAreFramedStrictly()
    {
        const QByteArray head = "POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        {
            // Valid chunks arriving a piece at a time, with a pipelined request behind them.
            auto c = connectFrom(loopback(24));
            QVERIFY(c);
            c->send(head + "7\r\n{\"a\"");
            QThread::msleep(50);
            c->send(":1}\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
            const auto echo = c->read();
            QVERIFY(echo);
            QCOMPARE(echo->status, 200);
            QCOMPARE(echo->json().value(QLatin1String("bytes")).toInt(), 7);
            const auto next = c->read();
            QVERIFY(next);
            QCOMPARE(next->status, 200);
        }
        const QList<QPair<QByteArray, QByteArray>> broken = {
            {"bare LF after the size", "7\n{\"a\":1}\r\n0\r\n\r\n"},
            {"bare LF after the data", "7\r\n{\"a\":1}\n0\r\n\r\n"},
            {"space after the size", "7 \r\n{\"a\":1}\r\n0\r\n\r\n"},
            {"data longer than its size", "3\r\n{\"a\":1}\r\n0\r\n\r\n"},
        };
        for (const auto &[what, body] : broken) {
            auto c = connectFrom(loopback(24));
            QVERIFY(c);
            c->send(head + body);
            const auto r = c->read();
            QVERIFY2(r && r->status == 400, what.constData());
            QVERIFY2(c->waitForClose(), what.constData());
        }
    }

    void onlyChunkedAloneIsAcceptedAsTransferEncoding()
    {
        const auto gzip = HttpClient::request(m_host->host(), m_host->port(), "POST", "/test/echo", "{}", "application/json",
                                              {{"Transfer-Encoding", "gzip, chunked"}}, loopback(25));
        // format() adds a Content-Length for the body; the host refuses the pair before anything else.
        QVERIFY(gzip);
        QVERIFY2(gzip->status == 400 || gzip->status == 501, QByteArray::number(gzip->status).constData());

        auto c = connectFrom(loopback(25));
        QVERIFY(c);
        c->send("POST /test/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
        verifyProblem(c->read(), 501);
        auto old = connectFrom(loopback(25));
        QVERIFY(old);
        old->send("POST /test/echo HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
        verifyProblem(old->read(), 400);
    }

    void theClientAddressComesThroughTrustedProxiesOnly()
    {
        const QList<QPair<QByteArray, QByteArray>> forged = {{"X-Forwarded-For", "6.6.6.6, 203.0.113.9"}};
        // Through the trusted proxy: the rightmost address it vouches for.
        auto viaProxy = whoami(loopback(1), forged);
        QVERIFY(viaProxy);
        QCOMPARE(viaProxy->status, 200);
        QCOMPARE(viaProxy->json().value(QLatin1String("address")).toString(), QStringLiteral("203.0.113.9"));
        // Two trusted hops (127.0.1.0/24 is trusted too).
        auto twoHops = whoami(loopback(1), {{"X-Forwarded-For", "203.0.113.10, 127.0.1.5"}});
        QVERIFY(twoHops);
        QCOMPARE(twoHops->json().value(QLatin1String("address")).toString(), QStringLiteral("203.0.113.10"));
        // A direct client cannot name an address; nor can it use the header the proxies do not write.
        auto direct = whoami(loopback(26), forged);
        QVERIFY(direct);
        QCOMPARE(direct->json().value(QLatin1String("address")).toString(), QStringLiteral("127.0.0.26"));
        auto rfc = whoami(loopback(1), {{"Forwarded", "for=6.6.6.6"}});
        QVERIFY(rfc);
        QCOMPARE(rfc->json().value(QLatin1String("address")).toString(), QStringLiteral("127.0.0.1"));
        // The access log names the same client.
        QTRY_VERIFY_WITH_TIMEOUT(m_host->output().contains(QLatin1String("203.0.113.9 \"GET /test/whoami")), 5000);
    }
};

QTEST_GUILESS_MAIN(TestHttpGuards)
#include "tst_httpguards.moc"
