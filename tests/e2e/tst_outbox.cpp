// The transactional outbox end to end, with a `serve` and a `worker` process of the real binary
// against one real PostgreSQL, each relaying host_outbox to its own event bus where testkit's
// subscriber notes every delivery ("outbox <pid> <n>"): an event of a rolled-back transaction is
// never delivered and a committed one once in each process; an event a worker's job writes
// reaches the separate serve process within a second (on a slow build, as many seconds as its
// time factor, with the outbox poll stretched alike: TestTiming.h); and with the relays'
// listening sessions killed while 8 writers write 1,000 events — some in long transactions that
// commit out of id order — every event is still delivered exactly once in each process. Also: a
// process that starts fresh begins at the current end, host.cleanup purges old rows, /metrics
// counts.
#include "HostCluster.h"
#include "HostProcess.h"
#include "HttpClient.h"
#include "ProblemCheck.h"
#include "TestTiming.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QJsonDocument>
#include <QtCore/QUrl>
#include <QtTest/QtTest>

using namespace yieldhost::test;

namespace {

QByteArray compact(const QJsonObject &o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); }

} // namespace

class TestOutbox : public QObject
{
    Q_OBJECT

    HostCluster m_cluster;
    std::unique_ptr<HostProcess> m_api;
    std::unique_ptr<HostProcess> m_worker;
    qint64 m_next = 1; // event numbers, unique across the tests

    // "<deliveries> <distinct events>" noted by process `pid` for events first..last.
    QString delivered(qint64 pid, qint64 first, qint64 last)
    {
        return m_cluster.sql(QStringLiteral("SELECT count(*) || ' ' || count(DISTINCT n) FROM (SELECT split_part(body, ' ', 3)::bigint AS n "
                                  "FROM testkit_note WHERE body LIKE 'outbox %1 %%') d WHERE n BETWEEN %2 AND %3")
                       .arg(pid).arg(first).arg(last));
    }
    std::optional<HttpReply> publish(const QJsonObject &args)
    {
        return HttpClient::request(m_api->host(), m_api->port(), "POST", "/test/outbox/publish", compact(args));
    }
    static qint64 pid(HostProcess &p) { return p.process().processId(); }

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_cluster.open(&error), qPrintable(error));
        m_cluster.setShared(QStringLiteral("YIELDHOST_DB__POOL_SIZE"), QStringLiteral("10"));
        m_cluster.setShared(QStringLiteral("YIELDHOST_JOBS__POLL_INTERVAL_MS"), QStringLiteral("200"));
        // Only LISTEN can meet the one-second deadline; the poll is the slow safety net. Both
        // stretch alike on a slow build, so the poll cannot meet the stretched deadline either.
        m_cluster.setShared(QStringLiteral("YIELDHOST_OUTBOX__POLL_MS"), QString::number(scaledMs(2000)));
        m_api = m_cluster.start({QStringLiteral("serve")});
        QVERIFY(m_api);
        QVERIFY2(m_api->waitReady(60000), qPrintable(m_api->output().right(2000)));
        m_worker = m_cluster.start({QStringLiteral("worker"), QStringLiteral("--queues"), QStringLiteral("testkit")});
        QVERIFY(m_worker);
        // Both relays are running once a committed event reaches both.
        const qint64 n = m_next++;
        QVERIFY(waitUntil([&] {
            publish({{QStringLiteral("n"), n}});
            return delivered(pid(*m_api), n, n).startsWith(u'1') && delivered(pid(*m_worker), n, n).startsWith(u'1');
        }, 30000));
    }

    void cleanupTestCase()
    {
        for (auto *p : {&m_worker, &m_api})
            if (*p)
                QVERIFY2((*p)->terminate() == 0, qPrintable((*p)->output().right(3000)));
    }

    void aRolledBackEventIsNeverDeliveredACommittedOneOnce()
    {
        const qint64 rolledBack = m_next++, committed = m_next++;
        const auto r = publish({{QStringLiteral("n"), rolledBack}, {QStringLiteral("commit"), false}});
        QVERIFY2(r && r->status == 409, qPrintable(describe(r)));
        const auto c = publish({{QStringLiteral("n"), committed}});
        QVERIFY2(c && c->status == 201, qPrintable(describe(c)));
        QVERIFY(waitUntil([&] { return delivered(pid(*m_api), committed, committed) == QLatin1String("1 1")
                                       && delivered(pid(*m_worker), committed, committed) == QLatin1String("1 1"); }, 10000));
        QTest::qWait(scaledMs(2500)); // beyond a poll: nothing more arrives
        QCOMPARE(delivered(pid(*m_api), committed, committed), QStringLiteral("1 1"));
        QCOMPARE(delivered(pid(*m_api), rolledBack, rolledBack), QStringLiteral("0 0"));
        QCOMPARE(delivered(pid(*m_worker), rolledBack, rolledBack), QStringLiteral("0 0"));
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(*) FROM host_outbox WHERE data->>'n' = '%1'").arg(rolledBack)), QStringLiteral("0"));
    }

    void anEventAWorkerWritesReachesServeWithinASecond()
    {
        const qint64 n = m_next++;
        m_cluster.sql(QStringLiteral("INSERT INTO host_job (task, queue, args) VALUES ('testkit.outbox_publish', 'testkit', '{\"n\": %1}'); "
                           "SELECT pg_notify('yieldhost_jobs', 'testkit')").arg(n));
        QVERIFY2(waitUntil([&] { return delivered(pid(*m_api), n, n) == QLatin1String("1 1"); }, 5000), qPrintable(m_api->output().right(2000)));
        // The job ran in the worker (the event's writer), and serve heard of it by LISTEN. The
        // worker records the job done after the event's commit, so serve may hear first.
        const QString jobState = QStringLiteral("SELECT state FROM host_job WHERE task = 'testkit.outbox_publish'");
        QVERIFY2(waitUntil([&] { return m_cluster.sql(jobState) == QLatin1String("done"); }, 5000), qPrintable(m_cluster.sql(jobState)));
        QCOMPARE(m_cluster.sql(jobState), QStringLiteral("done"));
        // Commit (the outbox row's INSERT) to delivery in serve, measured by PostgreSQL's clock.
        const QString latency = m_cluster.sql(QStringLiteral("SELECT (extract(epoch FROM n.created_at - o.created_at) * 1000)::int FROM host_outbox o "
                                                   "JOIN testkit_note n ON n.body = 'outbox %1 ' || (o.data->>'n') WHERE o.data->>'n' = '%2'")
                                        .arg(pid(*m_api)).arg(n));
        bool measured = false;
        const int latencyMs = latency.toInt(&measured);
        QVERIFY2(measured, qPrintable(QStringLiteral("no latency: \"%1\"").arg(latency)));
        QVERIFY2(latencyMs < scaledMs(1000), qPrintable(QStringLiteral("%1 ms (limit %2 ms)").arg(latencyMs).arg(scaledMs(1000))));
    }

    void killedListenersAndOutOfOrderCommitsLoseAndRepeatNothing()
    {
        const qint64 first = m_next;
        m_next += 1000;
        // 8 writers, 5 transactions of 25 events each; writers 0 and 1 hold their first
        // transaction open for 1.5 s, so its low ids commit after many higher ones.
        std::vector<std::unique_ptr<HttpClient>> writers;
        for (int w = 0; w < 8; ++w) {
            writers.push_back(std::make_unique<HttpClient>(m_api->host(), m_api->port()));
            QVERIFY(writers.back()->open());
        }
        for (int round = 0; round < 5; ++round) {
            for (int w = 0; w < 8; ++w) {
                const qint64 n = first + (round * 8 + w) * 25;
                const QJsonObject args{{QStringLiteral("n"), n}, {QStringLiteral("count"), 25},
                                       {QStringLiteral("hold_ms"), round == 0 && w < 2 ? 1500 : 0}};
                writers[w]->send(HttpClient::format(m_api->host(), "POST", "/test/outbox/publish", compact(args)));
            }
            if (round == 1) // the listening sessions of both processes die mid-stream
                QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'yieldhost-outbox'")),
                         QStringLiteral("2"));
            for (int w = 0; w < 8; ++w) {
                const auto r = writers[w]->read(30000);
                QVERIFY2(r && r->status == 201, qPrintable(describe(r)));
            }
        }
        for (HostProcess *p : {m_api.get(), m_worker.get()}) {
            QVERIFY2(waitUntil([&] { return delivered(pid(*p), first, first + 999) == QLatin1String("1000 1000"); }, 30000),
                     qPrintable(delivered(pid(*p), first, first + 999)));
        }
        QTest::qWait(scaledMs(2500)); // beyond a poll: no late duplicates either
        QCOMPARE(delivered(pid(*m_api), first, first + 999), QStringLiteral("1000 1000"));
        QCOMPARE(delivered(pid(*m_worker), first, first + 999), QStringLiteral("1000 1000"));
    }

    void aFreshProcessStartsAtTheCurrentEnd()
    {
        const qint64 old = m_next++;
        QVERIFY(publish({{QStringLiteral("n"), old}})->status == 201);
        QVERIFY(waitUntil([&] { return delivered(pid(*m_api), old, old) == QLatin1String("1 1"); }, 10000));
        auto late = m_cluster.start({QStringLiteral("worker"), QStringLiteral("--queues"), QStringLiteral("unused")});
        QVERIFY(late);
        const qint64 fresh = m_next++;
        QVERIFY(waitUntil([&] {
            publish({{QStringLiteral("n"), fresh}});
            return delivered(pid(*late), fresh, fresh).startsWith(u'1');
        }, 30000));
        QCOMPARE(delivered(pid(*late), old, old), QStringLiteral("0 0"));
        QCOMPARE(late->terminate(), 0);
    }

    void metricsCountRelayedEvents()
    {
        const QRegularExpression relayed(QStringLiteral("yieldhost_outbox_relayed_total (\\d+)"));
        const QRegularExpression count(QStringLiteral("yieldhost_outbox_relay_lag_seconds_count (\\d+)"));
        std::optional<HttpReply> r;
        QRegularExpressionMatch m, c;
        // An event still being relayed (the previous test's last publish) may be counted by one
        // and not yet by the other when /metrics is read: read again until they agree.
        waitUntil([&] {
            r = HttpClient::request(m_api->host(), m_api->port(), "GET", "/metrics");
            if (!r || r->status != 200)
                return false;
            m = relayed.match(QString::fromUtf8(r->body));
            c = count.match(QString::fromUtf8(r->body));
            return m.hasMatch() && c.hasMatch() && c.captured(1) == m.captured(1);
        }, 5000);
        QVERIFY(r && r->status == 200);
        QVERIFY2(m.hasMatch() && m.captured(1).toLongLong() >= 1000, r->body.constData());
        QVERIFY2(c.hasMatch() && c.captured(1) == m.captured(1), r->body.constData()); // every relayed event has its lag recorded
        QVERIFY(r->body.contains("yieldhost_outbox_relay_lag_seconds_bucket{le=\"0.1\"}"));
        // serve wrote the 1,000 of the concurrency test itself (and the rolled-back one, counted too)
        const QRegularExpression written(QStringLiteral("yieldhost_outbox_written_total (\\d+)"));
        const auto w = written.match(QString::fromUtf8(r->body));
        QVERIFY2(w.hasMatch() && w.captured(1).toLongLong() >= 1001, r->body.constData());
    }

    void cleanupPurgesOldEvents()
    {
        // initTestCase publishes n = 1 until both relays have it: once, or a few times on a slow machine.
        const qint64 aged = m_cluster.sql(QStringLiteral(
            "WITH aged AS (UPDATE host_outbox SET created_at = now() - interval '25 hours' WHERE data->>'n' = '1' RETURNING 1) "
            "SELECT count(*) FROM aged")).toLongLong();
        QVERIFY(aged >= 1);
        const QString before = m_cluster.sql(QStringLiteral("SELECT count(*) FROM host_outbox"));
        QString out;
        QCOMPARE(HostProcess::runCommand(m_cluster.environment(), {QStringLiteral("run-task"), QStringLiteral("host.cleanup")}, &out), 0);
        QVERIFY2(out.contains(QLatin1String("outbox events")), qPrintable(out.right(2000)));
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(*) FROM host_outbox")).toLongLong(), before.toLongLong() - aged);
    }
};

QTEST_GUILESS_MAIN(TestOutbox)
#include "tst_outbox.moc"
