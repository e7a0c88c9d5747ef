// The real binary on real PostgreSQL: the embedded default, readiness, migrations from the CLI
// (progress, two at once, a tampered file), and a database restart while the host serves.
#include "HostProcess.h"
#include "HttpClient.h"
#include "PgFixture.h"

#include <QtCore/QFile>
#include <QtTest/QtTest>

using namespace yieldhost::test;

class TestDatabase : public QObject
{
    Q_OBJECT

    PgFixture m_pg;

    QProcessEnvironment withDatabase(QString *url)
    {
        QString error;
        *url = m_pg.createDatabase(&error);
        QProcessEnvironment env;
        env.insert(QStringLiteral("YIELDHOST_DATABASE_URL"), *url);
        return env;
    }
    static QString dbName(const QString &url) { return url.section(u'/', -1); }

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_pg.start(&error), qPrintable(error));
    }

    void embeddedClusterIsTheDefaultAndStopsWithTheHost()
    {
        QString dataDir;
        {
            HostProcess host; // no database URL: the embedded cluster in a temporary data dir
            QString error;
            QVERIFY2(host.start(&error, 60000), qPrintable(error));
            QVERIFY2(host.waitReady(60000), qPrintable(host.output().right(1500)));
            const auto r = HttpClient::request(host.host(), host.port(), "GET", "/test/db/7");
            QVERIFY(r);
            QCOMPARE(r->status, 200);
            QCOMPARE(r->json().value(QLatin1String("name")).toString(), QStringLiteral("item 7"));
            QCOMPARE(r->json().value(QLatin1String("amount")).toString(), QStringLiteral("0.007000000049000000"));
            dataDir = host.process().processEnvironment().value(QStringLiteral("YIELDHOST_DATA_DIR"));
            QVERIFY(QFile::exists(dataDir + QStringLiteral("/postgres/postmaster.pid")));
            QCOMPARE(host.terminate(), 0);
            QVERIFY2(!QFile::exists(dataDir + QStringLiteral("/postgres/postmaster.pid")), "the embedded server was left running");
            QVERIFY(host.output().contains(QLatin1String("applied testkit/0001_items")));
        }
    }

    void readinessFollowsTheDatabase()
    {
        QString url;
        HostProcess host(withDatabase(&url));
        QString error;
        QVERIFY2(host.start(&error), qPrintable(error));
        QVERIFY2(host.waitReady(60000), qPrintable(host.output().right(1500)));
        const auto ready = HttpClient::request(host.host(), host.port(), "GET", "/readyz");
        QCOMPARE(ready->json().value(QLatin1String("status")).toString(), QStringLiteral("ready"));
        const auto metrics = HttpClient::request(host.host(), host.port(), "GET", "/metrics");
        QVERIFY(metrics->body.contains("yieldhost_db_pool_size 4"));
        QCOMPARE(host.terminate(), 0);
    }

    void migrateCommandReportsProgressThenNothingToDo()
    {
        QString url;
        const QProcessEnvironment env = withDatabase(&url);
        HostProcess first(env, {QStringLiteral("migrate")});
        first.process().start(qEnvironmentVariable("YIELDHOST_BINARY"), {QStringLiteral("migrate")});
        QVERIFY(first.waitForExit(60000));
        QVERIFY2(first.exitCode() == 0, qPrintable(first.output().right(1500)));
        QVERIFY2(first.output().contains(QLatin1String("] applied testkit/0001_items")), qPrintable(first.output().right(1500)));
        QVERIFY(first.output().contains(QLatin1String("] applied testkit/0002_notes")));

        HostProcess second(env, {QStringLiteral("migrate")});
        second.process().start(qEnvironmentVariable("YIELDHOST_BINARY"), {QStringLiteral("migrate")});
        QVERIFY(second.waitForExit(60000));
        QVERIFY2(second.exitCode() == 0, qPrintable(second.output().right(1500)));
        QVERIFY(second.output().contains(QLatin1String("database schema is up to date")));
    }

    void twoHostsMigratingAtOnceApplyEachMigrationOnce()
    {
        QString url;
        const QProcessEnvironment env = withDatabase(&url);
        HostProcess a(env), b(env);
        a.process().start(qEnvironmentVariable("YIELDHOST_BINARY"), {QStringLiteral("migrate")});
        b.process().start(qEnvironmentVariable("YIELDHOST_BINARY"), {QStringLiteral("migrate")});
        QVERIFY(a.waitForExit(60000) && b.waitForExit(60000));
        QVERIFY2(a.exitCode() == 0, qPrintable(a.output().right(1500)));
        QVERIFY2(b.exitCode() == 0, qPrintable(b.output().right(1500)));
        // testkit ships three migrations; each is recorded exactly once.
        QCOMPARE(m_pg.psql(dbName(url), QStringLiteral("SELECT count(*) || ' ' || count(DISTINCT version) FROM yieldhost_migrations WHERE plugin = 'testkit'")),
                 QStringLiteral("4 4"));
        QCOMPARE(m_pg.psql(dbName(url), QStringLiteral("SELECT count(*) FROM testkit_item")), QStringLiteral("10000"));
    }

    void tamperedMigrationStopsTheHostWithAClearMessage()
    {
        QString url;
        const QProcessEnvironment env = withDatabase(&url);
        HostProcess migrate(env);
        migrate.process().start(qEnvironmentVariable("YIELDHOST_BINARY"), {QStringLiteral("migrate")});
        QVERIFY(migrate.waitForExit(60000));
        QVERIFY2(migrate.exitCode() == 0, qPrintable(migrate.output().right(1500)));
        // As if testkit/0001_items.sql had been edited after it was applied.
        m_pg.psql(dbName(url), QStringLiteral("UPDATE yieldhost_migrations SET checksum = repeat('0', 64) WHERE plugin = 'testkit' AND version = 1"));

        HostProcess again(env);
        again.process().start(qEnvironmentVariable("YIELDHOST_BINARY"), {QStringLiteral("migrate")});
        QVERIFY(again.waitForExit(60000));
        QCOMPARE(again.exitCode(), 1);
        QVERIFY2(again.output().contains(QLatin1String("migration testkit/0001_items was changed after it was applied")), qPrintable(again.output().right(1500)));

        HostProcess serving(env);
        QString error;
        QVERIFY2(serving.start(&error), qPrintable(error));
        QVERIFY(serving.waitForExit(30000));
        QCOMPARE(serving.exitCode(), 1);
        QVERIFY(serving.output().contains(QLatin1String("stopping: migration testkit/0001_items was changed")));
    }

    // Last: it stops the shared server.
    void databaseRestartWhileTheHostServes()
    {
        QString url;
        HostProcess host(withDatabase(&url));
        QString error;
        QVERIFY2(host.start(&error), qPrintable(error));
        QVERIFY2(host.waitReady(60000), qPrintable(host.output().right(1500)));
        QCOMPARE(HttpClient::request(host.host(), host.port(), "GET", "/test/db/1")->status, 200);

        m_pg.stopServer();
        const auto down = HttpClient::request(host.host(), host.port(), "GET", "/test/db/1");
        QVERIFY(down);
        QCOMPARE(down->status, 503);
        QVERIFY(down->header("retry-after").toInt() > 0);
        QCOMPARE(down->header("content-type"), QByteArray("application/problem+json"));
        const auto notReady = HttpClient::request(host.host(), host.port(), "GET", "/readyz");
        QCOMPARE(notReady->status, 503);
        QCOMPARE(HttpClient::request(host.host(), host.port(), "GET", "/healthz")->status, 200); // alive, just not ready

        QVERIFY2(m_pg.restartServer(&error), qPrintable(error));
        QVERIFY2(host.waitReady(15000), qPrintable(host.output().right(1500)));
        bool served = false;
        for (int i = 0; i < 20 && !served; ++i) {
            served = HttpClient::request(host.host(), host.port(), "GET", "/test/db/1")->status == 200;
            if (!served)
                QTest::qWait(200);
        }
        QVERIFY(served);
        QCOMPARE(host.process().state(), QProcess::Running);
        QVERIFY2(host.terminate() == 0, qPrintable(host.output().right(4000)));
    }
};

QTEST_GUILESS_MAIN(TestDatabase)
#include "tst_database.moc"
