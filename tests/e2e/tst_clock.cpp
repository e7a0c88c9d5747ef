// The test clock of API.md, end to end, with separate serve, worker and beat processes of the
// real binary against one real PostgreSQL: staff only (401/403), forward only with clear 422s,
// a jump made through `serve` seen by a separate worker within a second (NOTIFY) and by a worker
// whose notification was lost (periodic re-read), a daily schedule firing once after a 31-day
// jump, a job delayed by seconds running seconds later (not 31 days later), tokens that survive
// the jump (security windows are real time), the routes in the OpenAPI document, and 404 for
// both routes outside sandbox mode.
#include "HostCluster.h"
#include "HostProcess.h"
#include "HttpClient.h"
#include "ProblemCheck.h"

#include <QtCore/QDateTime>
#include <QtCore/QElapsedTimer>
#include <QtCore/QJsonDocument>
#include <QtCore/QUrl>
#include <QtTest/QtTest>

using namespace yieldhost::test;

namespace {

using Headers = QList<QPair<QByteArray, QByteArray>>;

QByteArray compact(const QJsonObject &o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); }

constexpr qint64 Day = 86400;

} // namespace

class TestClock : public QObject
{
    Q_OBJECT

    HostCluster m_cluster;
    std::unique_ptr<HostProcess> m_api;
    std::unique_ptr<HostProcess> m_worker;
    std::unique_ptr<HostProcess> m_beat;
    QByteArray m_staff;
    QByteArray m_user;

    std::optional<HttpReply> call(HostProcess &host, const QByteArray &method, const QByteArray &path, const QByteArray &body = {},
                                  const QByteArray &token = {})
    {
        const Headers headers = token.isEmpty() ? Headers{} : Headers{{QByteArrayLiteral("Authorization"), QByteArray("Bearer " + token)}};
        return HttpClient::request(host.host(), host.port(), method, path, body, "application/json", headers);
    }
    std::optional<HttpReply> advance(const QJsonObject &body, const QByteArray &token)
    {
        return call(*m_api, "POST", "/api/v1/admin/clock", compact(body), token);
    }
    QDateTime hostNow()
    {
        const auto r = call(*m_api, "GET", "/api/v1/admin/clock", {}, m_staff);
        if (!r || r->status != 200)
            return {};
        return QDateTime::fromString(r->json().value(QLatin1String("now")).toString(), Qt::ISODateWithMs);
    }
    QString enqueue(const QJsonObject &body)
    {
        const auto r = call(*m_api, "POST", "/api/v1/admin/jobs", compact(body), m_staff);
        if (!r || r->status != 202) {
            qWarning("enqueue: %s", qPrintable(describe(r)));
            return {};
        }
        return r->json().value(QLatin1String("id")).toString();
    }
    QString jobState(const QString &id)
    {
        return m_cluster.sql(QStringLiteral("SELECT state FROM host_job WHERE id = %1").arg(id.toLongLong()));
    }
    // What the worker with `pid` believed the time was when it last ran testkit.clock.
    // Whether `host` logged that its clock is `offsetSeconds` ahead (ClockSync::apply).
    static bool hostClockLogged(HostProcess &host, qint64 offsetSeconds)
    {
        return host.output().contains(QStringLiteral("host clock: %1 s ahead").arg(offsetSeconds));
    }
    QDateTime clockSeenBy(qint64 pid)
    {
        const QString note = m_cluster.sql(QStringLiteral("SELECT body FROM testkit_note WHERE body LIKE 'clock %1 %%' ORDER BY id DESC LIMIT 1").arg(pid));
        return QDateTime::fromString(note.section(u' ', 2), Qt::ISODateWithMs);
    }
    QByteArray login(const QString &email, const QString &password)
    {
        const auto r = call(*m_api, "POST", "/api/v1/auth/token", compact({{QStringLiteral("email"), email}, {QStringLiteral("password"), password}}));
        return r && r->status == 200 ? r->json().value(QLatin1String("access")).toString().toLatin1() : QByteArray();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_cluster.open(&error), qPrintable(error));
        m_cluster.setShared(QStringLiteral("YIELDHOST_JOBS__POLL_INTERVAL_MS"), QStringLiteral("200"));
        m_cluster.setShared(QStringLiteral("YIELDHOST_JOBS__BEAT_INTERVAL_MS"), QStringLiteral("200"));
        m_cluster.setShared(QStringLiteral("YIELDHOST_TESTKIT__DAILY_SCHEDULE"), QStringLiteral("1"));
        // Only NOTIFY can bring a jump to these processes within the tests' deadlines.
        m_cluster.setShared(QStringLiteral("YIELDHOST_CLOCK__RESYNC_MS"), QStringLiteral("600000"));
        m_api = m_cluster.start({QStringLiteral("serve")});
        QVERIFY(m_api);
        QVERIFY2(m_api->waitReady(60000), qPrintable(m_api->output().right(2000)));
        m_worker = m_cluster.start({QStringLiteral("worker"), QStringLiteral("--queues"), QStringLiteral("testkit")});
        QVERIFY(m_worker);
        m_beat = m_cluster.start({QStringLiteral("beat")});
        QVERIFY(m_beat);

        const QString password = QStringLiteral("staff password 0123");
        QString out;
        const int created = HostProcess::runCommand(m_cluster.environment(), {QStringLiteral("createuser"), QStringLiteral("--email"), QStringLiteral("ops@example.com"),
                                                            QStringLiteral("--staff"), QStringLiteral("--password-stdin")},
                                                    &out, password.toUtf8() + '\n');
        QVERIFY2(created == 0, qPrintable(out.right(2000)));
        m_staff = login(QStringLiteral("ops@example.com"), password);
        QVERIFY(!m_staff.isEmpty());
        const auto reg = call(*m_api, "POST", "/api/v1/auth/register",
                              compact({{QStringLiteral("email"), QStringLiteral("user@example.com")}, {QStringLiteral("password"), password}}));
        QVERIFY2(reg && reg->status == 201, qPrintable(describe(reg)));
        m_user = login(QStringLiteral("user@example.com"), password);
        QVERIFY(!m_user.isEmpty());
        // The beat has recorded the daily schedule before anything moves the clock.
        QVERIFY2(waitUntil([&] { return m_cluster.sql(QStringLiteral("SELECT count(*) FROM host_schedule WHERE task = 'testkit.daily'")) == QLatin1String("1"); }, 30000),
                 qPrintable(m_beat->output().right(2000)));
        // Its next run is the coming 00:05 UTC: a run crossing it would fire the schedule by real
        // time, before any jump. A day later instead, only the 31-day jump makes it due (the beat
        // keeps a recorded next_run_at while the cron stays the same).
        QCOMPARE(m_cluster.sql(QStringLiteral("WITH pushed AS (UPDATE host_schedule SET next_run_at = host_now() + interval '1 day' "
                                              "WHERE task = 'testkit.daily' RETURNING 1) SELECT count(*) FROM pushed")),
                 QStringLiteral("1"));
    }

    void cleanupTestCase()
    {
        for (auto *p : {&m_beat, &m_worker, &m_api})
            if (*p)
                QVERIFY2((*p)->terminate() == 0, qPrintable((*p)->output().right(3000)));
    }

    void clockRoutesNeedStaff()
    {
        verifyProblem(call(*m_api, "GET", "/api/v1/admin/clock"), 401);
        verifyProblem(call(*m_api, "POST", "/api/v1/admin/clock", compact({{QStringLiteral("advance_days"), 1}})), 401);
        verifyProblem(call(*m_api, "GET", "/api/v1/admin/clock", {}, m_user), 403);
        verifyProblem(advance({{QStringLiteral("advance_days"), 1}}, m_user), 403);
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT offset_ms FROM host_clock")), QStringLiteral("0"));
    }

    void readingShowsRealTimeBeforeAnyJump()
    {
        const auto r = call(*m_api, "GET", "/api/v1/admin/clock", {}, m_staff);
        QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
        const QDateTime now = QDateTime::fromString(r->json().value(QLatin1String("now")).toString(), Qt::ISODateWithMs);
        QVERIFY(now.isValid());
        QCOMPARE(now.timeSpec(), Qt::UTC);
        QVERIFY(std::abs(now.secsTo(QDateTime::currentDateTimeUtc())) < 5);
        QCOMPARE(r->json().value(QLatin1String("offset_seconds")).toInteger(), 0);
    }

    void advanceRefusesWhatIsNotAForwardStep_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::newRow("zero days") << QByteArray(R"({"advance_days": 0})") << 422;
        QTest::newRow("negative days") << QByteArray(R"({"advance_days": -3})") << 422;
        QTest::newRow("negative seconds") << QByteArray(R"({"advance_seconds": -60})") << 422;
        QTest::newRow("fraction") << QByteArray(R"({"advance_days": 1.5})") << 422;
        QTest::newRow("string") << QByteArray(R"({"advance_days": "2"})") << 422;
        QTest::newRow("both") << QByteArray(R"({"advance_days": 1, "advance_seconds": 1})") << 422;
        QTest::newRow("neither") << QByteArray(R"({})") << 422;
        QTest::newRow("absurd days") << QByteArray(R"({"advance_days": 100000})") << 422;
        QTest::newRow("absurd seconds") << QByteArray(R"({"advance_seconds": 1e300})") << 422;
        QTest::newRow("not an object") << QByteArray(R"([31])") << 400;
        QTest::newRow("malformed") << QByteArray(R"({"advance_days": )") << 400;
    }
    void advanceRefusesWhatIsNotAForwardStep()
    {
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        verifyProblem(call(*m_api, "POST", "/api/v1/admin/clock", body, m_staff), status);
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT offset_ms FROM host_clock")), QStringLiteral("0"));
    }

    void aJumpReachesTheWorkerAndTheBeatOnce()
    {
        const QDateTime before = QDateTime::currentDateTimeUtc();
        const auto r = advance({{QStringLiteral("advance_days"), 31}}, m_staff);
        QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
        QCOMPARE(r->json().value(QLatin1String("offset_seconds")).toInteger(), 31 * Day);
        const QDateTime moved = QDateTime::fromString(r->json().value(QLatin1String("now")).toString(), Qt::ISODateWithMs);
        QVERIFY(std::abs(before.addDays(31).secsTo(moved)) < 5);

        // Within a second, the separate worker process reads the moved clock.
        QTest::qWait(1000);
        const QString id = enqueue({{QStringLiteral("task"), QStringLiteral("testkit.clock")}});
        QVERIFY(!id.isEmpty());
        QVERIFY2(waitUntil([&] { return jobState(id) == QLatin1String("done"); }, 15000), qPrintable(m_worker->output().right(2000)));
        const QDateTime seen = clockSeenBy(m_worker->process().processId());
        QVERIFY2(seen.isValid() && seen >= before.addDays(31).addSecs(-2), qPrintable(seen.toString(Qt::ISODateWithMs)));

        // The daily schedule missed 31 times fires once, and its next run is tomorrow (host time).
        QVERIFY2(waitUntil([&] { return m_cluster.sql(QStringLiteral("SELECT count(*) FROM host_job WHERE task = 'testkit.daily'")) == QLatin1String("1"); }, 10000),
                 qPrintable(m_beat->output().right(2000)));
        QTest::qWait(2000); // ten more beat ticks
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(*) FROM host_job WHERE task = 'testkit.daily'")), QStringLiteral("1"));
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT next_run_at > host_now() AND next_run_at <= host_now() + interval '1 day' FROM host_schedule WHERE task = 'testkit.daily'")),
                 QStringLiteral("t"));
        // The fired job ran on the worker like any other.
        QVERIFY(waitUntil([&] { return m_cluster.sql(QStringLiteral("SELECT count(*) FROM testkit_job_run WHERE task = 'testkit.daily'")) == QLatin1String("1"); }, 15000));
    }

    void aDelayedJobRunsSecondsLaterAfterTheJump()
    {
        // Long enough that the job enqueued after it is done well before it is due, even on a
        // slow sanitized build.
        constexpr int delaySeconds = 10;
        const QDateTime now = hostNow();
        QVERIFY(now > QDateTime::currentDateTimeUtc().addDays(30));
        QElapsedTimer real;
        real.start();
        const QString delayed = enqueue({{QStringLiteral("task"), QStringLiteral("testkit.record")},
                                         {QStringLiteral("run_at"), now.addSecs(delaySeconds).toString(Qt::ISODateWithMs)}});
        const QString immediate = enqueue({{QStringLiteral("task"), QStringLiteral("testkit.record")}});
        QVERIFY(!delayed.isEmpty() && !immediate.isEmpty());
        QVERIFY(waitUntil([&] { return jobState(immediate) == QLatin1String("done"); }, 10000));
        QVERIFY2(jobState(delayed) == QLatin1String("pending"),
                 qPrintable(QStringLiteral("a job due in %1 s must wait (%2 ms after it was enqueued)").arg(delaySeconds).arg(real.elapsed())));
        QVERIFY2(waitUntil([&] { return jobState(delayed) == QLatin1String("done"); }, delaySeconds * 1000 + 15000),
                 qPrintable(m_worker->output().right(2000)));
        QVERIFY2(real.elapsed() >= delaySeconds * 1000 - 500, qPrintable(QString::number(real.elapsed())));
        // created_at and run_at are host times too.
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT created_at > now() + interval '30 days' FROM host_job WHERE id = %1").arg(immediate.toLongLong())), QStringLiteral("t"));
    }

    void tokensIssuedBeforeTheJumpStillWork()
    {
        // Access tokens live 15 real minutes: a 31-day jump of the test clock must not end them.
        const auto me = call(*m_api, "GET", "/api/v1/users/me", {}, m_user);
        QVERIFY2(me && me->status == 200, qPrintable(describe(me)));
    }

    void aLostNotificationIsCaughtByThePeriodicReread()
    {
        QProcessEnvironment fast;
        fast.insert(QStringLiteral("YIELDHOST_CLOCK__RESYNC_MS"), QStringLiteral("300"));
        std::unique_ptr<HostProcess> rereading = m_cluster.start({QStringLiteral("worker"), QStringLiteral("--queues"), QStringLiteral("clockcheck")}, fast);
        QVERIFY(rereading);
        // A change that notifies nobody, as if every listening session were reconnecting.
        m_cluster.sql(QStringLiteral("BEGIN; ALTER TABLE host_clock DISABLE TRIGGER host_clock_notify; "
                           "UPDATE host_clock SET offset_ms = offset_ms + 86400000; "
                           "ALTER TABLE host_clock ENABLE TRIGGER host_clock_notify; COMMIT"));
        // The reread alone moves it (a claimed job would bring the offset too, see below).
        QVERIFY2(waitUntil([&] { return hostClockLogged(*rereading, 32 * Day); }, 5000),
                 qPrintable(rereading->output().right(2000)));
        const QString id = enqueue({{QStringLiteral("task"), QStringLiteral("testkit.clock")}, {QStringLiteral("queue"), QStringLiteral("clockcheck")}});
        QVERIFY(!id.isEmpty());
        QVERIFY2(waitUntil([&] { return jobState(id) == QLatin1String("done"); }, 15000), qPrintable(rereading->output().right(2000)));
        const QDateTime seen = clockSeenBy(rereading->process().processId());
        QVERIFY2(seen.isValid() && seen >= QDateTime::currentDateTimeUtc().addDays(32).addSecs(-5), qPrintable(seen.toString(Qt::ISODateWithMs)));
        QCOMPARE(rereading->terminate(), 0);
    }

    void aJobClaimedRightAfterAJumpRunsOnTheJumpedClock()
    {
        // The default reread is a minute away and the notification is lost: only the claim itself
        // can tell the worker. A staff jump followed at once by a job (a yield run "as of today")
        // must not run on yesterday.
        std::unique_ptr<HostProcess> worker = m_cluster.start({QStringLiteral("worker"), QStringLiteral("--queues"), QStringLiteral("clockclaim")});
        QVERIFY(worker);
        const QString warm = enqueue({{QStringLiteral("task"), QStringLiteral("testkit.clock")}, {QStringLiteral("queue"), QStringLiteral("clockclaim")}});
        QVERIFY2(waitUntil([&] { return jobState(warm) == QLatin1String("done"); }, 15000), qPrintable(worker->output().right(2000)));
        m_cluster.sql(QStringLiteral("BEGIN; ALTER TABLE host_clock DISABLE TRIGGER host_clock_notify; "
                           "UPDATE host_clock SET offset_ms = offset_ms + 86400000; "
                           "ALTER TABLE host_clock ENABLE TRIGGER host_clock_notify; COMMIT"));
        const QDateTime expected = hostNow();
        const QString id = enqueue({{QStringLiteral("task"), QStringLiteral("testkit.clock")}, {QStringLiteral("queue"), QStringLiteral("clockclaim")}});
        QVERIFY(!id.isEmpty());
        QVERIFY2(waitUntil([&] { return jobState(id) == QLatin1String("done"); }, 15000), qPrintable(worker->output().right(2000)));
        const QDateTime seen = clockSeenBy(worker->process().processId());
        QVERIFY2(seen.isValid() && seen >= expected.addSecs(-5), qPrintable(seen.toString(Qt::ISODateWithMs) + u" < " + expected.toString(Qt::ISODateWithMs)));
        QCOMPARE(worker->terminate(), 0);
    }

    void theOpenApiDocumentListsTheClock()
    {
        const auto r = call(*m_api, "GET", "/api/openapi.json");
        QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
        const QJsonObject path = r->json().value(QLatin1String("paths")).toObject().value(QLatin1String("/api/v1/admin/clock")).toObject();
        QVERIFY(path.contains(QLatin1String("get")));
        QVERIFY(path.contains(QLatin1String("post")));
    }

    void outsideSandboxTheClockDoesNotExist()
    {
        QProcessEnvironment production;
        production.insert(QStringLiteral("YIELDHOST_SANDBOX"), QStringLiteral("0"));
        std::unique_ptr<HostProcess> prod = m_cluster.start({QStringLiteral("serve")}, production);
        QVERIFY(prod);
        QVERIFY(prod->waitReady(30000));
        verifyProblem(call(*prod, "GET", "/api/v1/admin/clock", {}, m_staff), 404);
        verifyProblem(call(*prod, "POST", "/api/v1/admin/clock", compact({{QStringLiteral("advance_days"), 1}}), m_staff), 404);
        QCOMPARE(prod->terminate(), 0);
    }
};

QTEST_GUILESS_MAIN(TestClock)
#include "tst_clock.moc"
