// The access log's writer: lines formatted off the request path, in text or JSON, nothing lost
// on a clean shutdown, and lines dropped (and counted) rather than a caller blocked when the
// output does not drain.
#include "http/AccessLog.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtTest/QtTest>

#include <fcntl.h>
#include <thread>
#include <unistd.h>

using namespace yieldhost;

namespace {

struct Pipe
{
    int fds[2] = {-1, -1};
    Pipe() { QVERIFY(::pipe(fds) == 0); }
    ~Pipe()
    {
        closeWrite();
        if (fds[0] >= 0)
            ::close(fds[0]);
    }
    void closeWrite()
    {
        if (fds[1] >= 0)
            ::close(fds[1]);
        fds[1] = -1;
    }
    // Everything until the write end is closed.
    QByteArray readAll() const
    {
        QByteArray all;
        char buffer[65536];
        for (;;) {
            const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
            if (n <= 0)
                return all;
            all.append(buffer, n);
        }
    }
};

AccessLog::Entry entry(int i)
{
    AccessLog::Entry e;
    e.timeMs = 1796095478123 + i; // 2026-12-01T03:24:38.123Z
    e.client = QHostAddress(QStringLiteral("203.0.113.7"));
    e.method = "GET";
    e.target = "/api/v1/things?i=" + QByteArray::number(i);
    e.status = 200;
    e.bytes = 17;
    e.milliseconds = 1.234;
    e.requestId = "abc-0-" + QByteArray::number(i);
    return e;
}

} // namespace

class TestAccessLog : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void textLineLooksLikeTheRestOfTheLog()
    {
        const QByteArray line = AccessLog::format(entry(0), AccessLog::Format::Text);
        QCOMPARE(line, QByteArray("2026-12-01T03:24:38.123Z info yieldhost.access: 203.0.113.7 \"GET /api/v1/things?i=0 HTTP/1.1\" 200 17 1.23ms rid=abc-0-0\n"));
    }

    void aHostileTargetCannotForgeALine()
    {
        AccessLog::Entry e = entry(0);
        e.target = "/x\" 200 0 0ms rid=forged\n2026-01-01 info yieldhost.access: \\\xff";
        for (const AccessLog::Format f : {AccessLog::Format::Text, AccessLog::Format::Json}) {
            const QByteArray line = AccessLog::format(e, f);
            QCOMPARE(line.count('\n'), 1);
            QVERIFY2(line.contains("/x\\x22 200 0 0ms rid=forged\\x0a2026-01-01 info yieldhost.access: \\x5c\\xff"), line.constData());
        }
    }

    void credentialsInTheQueryAreRedacted()
    {
        AccessLog::Entry e = entry(0);
        e.target = "/ws/notificationz?token=eyJhbGciOi.secret.sig&x=1&Password=hunter2&refresh=r3fr3sh&tokens=kept";
        for (const AccessLog::Format f : {AccessLog::Format::Text, AccessLog::Format::Json}) {
            const QByteArray line = AccessLog::format(e, f);
            QVERIFY2(!line.contains("eyJhbGciOi") && !line.contains("hunter2") && !line.contains("r3fr3sh"), line.constData());
            QVERIFY2(line.contains("/ws/notificationz?token=REDACTED&x=1&Password=REDACTED&refresh=REDACTED&tokens=kept"), line.constData());
        }
    }

    void jsonLinesCarryEachField()
    {
        const QByteArray line = AccessLog::format(entry(3), AccessLog::Format::Json);
        QJsonParseError error;
        const QJsonObject o = QJsonDocument::fromJson(line, &error).object();
        QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString() + QLatin1Char(' ') + QString::fromLatin1(line)));
        QCOMPARE(o.value(QLatin1String("category")).toString(), QStringLiteral("yieldhost.access"));
        QCOMPARE(o.value(QLatin1String("level")).toString(), QStringLiteral("info"));
        QCOMPARE(o.value(QLatin1String("ts")).toString(), QStringLiteral("2026-12-01T03:24:38.126Z"));
        QCOMPARE(o.value(QLatin1String("client")).toString(), QStringLiteral("203.0.113.7"));
        QCOMPARE(o.value(QLatin1String("method")).toString(), QStringLiteral("GET"));
        QCOMPARE(o.value(QLatin1String("target")).toString(), QStringLiteral("/api/v1/things?i=3"));
        QCOMPARE(o.value(QLatin1String("status")).toInt(), 200);
        QCOMPARE(o.value(QLatin1String("bytes")).toInt(), 17);
        QCOMPARE(o.value(QLatin1String("ms")).toDouble(), 1.23);
        QCOMPARE(o.value(QLatin1String("rid")).toString(), QStringLiteral("abc-0-3"));
        QVERIFY(o.value(QLatin1String("msg")).toString().contains(QLatin1String("\"GET /api/v1/things?i=3 HTTP/1.1\" 200")));
    }

    void aCleanShutdownWritesEveryLineInOrder()
    {
        Pipe pipe;
        QByteArray out;
        std::thread reader([&] { out = pipe.readAll(); });
        {
            AccessLog log(AccessLog::Format::Text, pipe.fds[1]);
            // From four threads at once, as the HTTP threads do.
            std::vector<std::thread> writers;
            for (int t = 0; t < 4; ++t)
                writers.emplace_back([&log, t] {
                    for (int i = 0; i < 5000; ++i)
                        log.append(entry(t * 10000 + i));
                });
            for (std::thread &w : writers)
                w.join();
        } // the destructor writes what is pending
        pipe.closeWrite();
        reader.join();
        const QList<QByteArray> lines = out.split('\n');
        QCOMPARE(lines.size(), 20001); // the last split is the empty text after the final '\n'
        // Each thread's lines in its own order, none torn.
        QHash<int, int> last;
        for (qsizetype i = 0; i + 1 < lines.size(); ++i) {
            const QByteArray &line = lines[i];
            QVERIFY2(line.startsWith("2026-12-01T") && line.contains(" info yieldhost.access: 203.0.113.7 \"GET /api/v1/things?i="), line.constData());
            const int n = line.mid(line.indexOf("rid=abc-0-") + 10).toInt();
            QVERIFY2(n > last.value(n / 10000, -1), line.constData());
            last[n / 10000] = n;
        }
    }

    void flushWritesWhatWasAppended()
    {
        Pipe pipe;
        AccessLog log(AccessLog::Format::Text, pipe.fds[1]);
        log.append(entry(1));
        log.flush();
        QVERIFY(::fcntl(pipe.fds[0], F_SETFL, O_NONBLOCK) == 0);
        char buffer[4096];
        const ssize_t n = ::read(pipe.fds[0], buffer, sizeof buffer);
        QVERIFY(n > 0);
        QVERIFY(QByteArray(buffer, int(n)).endsWith("rid=abc-0-1\n"));
    }

    void aStuckOutputDropsAndCountsInsteadOfBlocking()
    {
        Pipe pipe; // nobody reads until the end: the writer blocks once the pipe's buffer is full
        QByteArray out;
        const qsizetype total = qsizetype(AccessLog::MaxPending) + 50000;
        {
            AccessLog log(AccessLog::Format::Text, pipe.fds[1]);
            QElapsedTimer timer;
            timer.start();
            for (qsizetype i = 0; i < total; ++i)
                log.append(entry(int(i % 10000)));
            // Appending never waited on the stuck pipe.
            QVERIFY2(timer.elapsed() < 10000, qPrintable(QString::number(timer.elapsed())));
            std::thread reader([&] { out = pipe.readAll(); });
            log.flush();
            pipe.closeWrite(); // everything was written: the reader sees the end
            reader.join();
        }
        const qsizetype lines = out.count('\n');
        QVERIFY2(lines < total, qPrintable(QString::number(lines)));
        const qsizetype at = out.indexOf(" access log lines dropped");
        QVERIFY2(at > 0, "no line says how many were dropped");
        const qsizetype start = out.lastIndexOf(' ', at - 1) + 1;
        const qint64 dropped = out.mid(start, at - start).toLongLong();
        // Every line is either written or counted as dropped; the warning line itself is extra.
        QCOMPARE(lines - 1 + dropped, total);
    }
};

QTEST_GUILESS_MAIN(TestAccessLog)
#include "tst_accesslog.moc"
