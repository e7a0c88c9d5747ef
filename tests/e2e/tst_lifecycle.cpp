// The process as an operator sees it: the CLI, clear one-line refusals, graceful shutdown.
#include "HostProcess.h"
#include "HttpClient.h"

#include <QtNetwork/QTcpServer>
#include <QtTest/QtTest>

using namespace yieldhost::test;

class TestLifecycle : public QObject
{
    Q_OBJECT

    static QString run(const QStringList &args, int *exitCode, QProcessEnvironment extra = {})
    {
        HostProcess p(extra, args);
        QString error;
        p.process().start(qEnvironmentVariable("YIELDHOST_BINARY"), args);
        p.process().waitForFinished(20000);
        *exitCode = p.process().exitCode();
        return p.output();
    }

private Q_SLOTS:
    void versionAndHelpAnswer()
    {
        int code = -1;
        QVERIFY(run({QStringLiteral("--version")}, &code).contains(QLatin1String("yieldhost 0.1.0")));
        QCOMPARE(code, 0);
        const QString help = run({QStringLiteral("--help")}, &code);
        for (const char *word : {"serve", "worker", "beat", "migrate", "plugins", "--config"})
            QVERIFY2(help.contains(QLatin1String(word)), word);
    }

    void unknownCommandIsOneClearLine()
    {
        int code = -1;
        const QString out = run({QStringLiteral("dance")}, &code);
        QCOMPARE(code, 2);
        QVERIFY(out.contains(QLatin1String("unknown command \"dance\"")));
    }

    void pluginsCommandListsStates()
    {
        int code = -1;
        QProcessEnvironment env;
        env.insert(QStringLiteral("YIELDHOST_PLUGIN_PATH"), qEnvironmentVariable("YIELDHOST_FIXTURE_PLUGINS"));
        const QString out = run({QStringLiteral("plugins")}, &code, env);
        QCOMPARE(code, 0);
        QVERIFY2(out.contains(QRegularExpression(QStringLiteral("wallets\\s+\\d+\\.\\d+\\.\\d+\\s+1\\.1\\s+initialized"))), qPrintable(out));
        QVERIFY2(out.contains(QRegularExpression(QStringLiteral("futuresdk.*failed.*built for SDK 2\\.0"))), qPrintable(out));
        QVERIFY(out.contains(QLatin1String("plugin cycle-a refused: dependency cycle")));
    }

    void badEnvironmentValueStopsStartWithOneLine()
    {
        int code = -1;
        QProcessEnvironment env;
        env.insert(QStringLiteral("YIELDHOST_HTTP__THREADS"), QStringLiteral("lots"));
        const QString out = run({QStringLiteral("serve")}, &code, env);
        QCOMPARE(code, 1);
        QVERIFY2(out.contains(QLatin1String("YIELDHOST_HTTP__THREADS=\"lots\" is not a valid integer")), qPrintable(out));
    }

    void addressInUseIsRefusedClearly()
    {
        QTcpServer occupier;
        QVERIFY(occupier.listen(QHostAddress::LocalHost));
        int code = -1;
        QProcessEnvironment env;
        env.insert(QStringLiteral("YIELDHOST_LISTEN"), QStringLiteral("127.0.0.1:%1").arg(occupier.serverPort()));
        const QString out = run({QStringLiteral("serve")}, &code, env);
        QCOMPARE(code, 1);
        QVERIFY2(out.contains(QLatin1String("Address already in use")), qPrintable(out));
    }

    void sigtermFinishesInFlightRequestsThenExits()
    {
        HostProcess host;
        QString error;
        QVERIFY2(host.start(&error), qPrintable(error));
        // Started up first (a stop during start-up is the next test's): the stop must land while
        // the slow request, and only it, is being handled.
        QVERIFY2(host.waitReady(60000), qPrintable(host.output().right(2000)));
        HttpClient slow(host.host(), host.port());
        QVERIFY(slow.open());
        slow.send("GET /test/slow/inflight?ms=3000 HTTP/1.1\r\nHost: x\r\n\r\n");
        HttpClient idle(host.host(), host.port());
        QVERIFY(idle.open());
        QTest::qWait(1000); // the request is being handled, far from its end

        host.signalTerminate();
        QVERIFY(idle.waitForClose(3000)); // idle connections go at once
        const auto r = slow.read(15000);  // the request in flight still gets its answer
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        QCOMPARE(r->json().value(QLatin1String("tag")).toString(), QStringLiteral("inflight"));
        QCOMPARE(r->header("connection"), QByteArray("close"));
        QVERIFY2(host.waitForExit(30000), qPrintable(host.output().right(2000)));
        QCOMPARE(host.exitCode(), 0);
        QVERIFY(host.output().contains(QLatin1String("plugin users stopped")));

        HttpClient late(host.host(), host.port());
        QVERIFY(!late.open(1000)); // nobody listens any more
    }

    void sigtermDuringStartUpWaitsForItThenExits()
    {
        // Listening comes before migrations are applied: a stop at once lands while they run on
        // a database thread. Shutdown waits for them, so the process ends with nothing left
        // suspended (under AddressSanitizer a leaked coroutine frame fails the exit code).
        HostProcess host;
        QString error;
        QVERIFY2(host.start(&error), qPrintable(error));
        host.signalTerminate();
        QVERIFY2(host.waitForExit(30000), qPrintable(host.output().right(2000)));
        QVERIFY2(host.exitCode() == 0, qPrintable(host.output().right(4000)));
        QVERIFY(host.output().contains(QLatin1String("plugin users stopped")));
    }
};

QTEST_GUILESS_MAIN(TestLifecycle)
#include "tst_lifecycle.moc"
