// The job queue end to end: real worker and beat processes of the real binary against one real
// PostgreSQL. Exactly-once completion of 10,000 jobs over three workers, a worker killed with
// SIGKILL mid-job (its job is rescued and completes elsewhere), the late result of a frozen
// worker whose job was rescued (discarded), a rescue on the last attempt (failed for good),
// retries with backoff, final failure, timeouts, unique keys, cancellation and retry, jobs
// enqueued inside a transaction that commits or rolls back, per-queue concurrency limits,
// priority order, two beats firing each schedule once (and a take-over when the leader dies),
// missed ticks firing once, run-task, a worker stopping with SIGTERM (finishing a job, or
// returning one without counting its attempt), the staff API, and workers that do not rescue
// each other after a database outage.
//
// Runs that must last until the test says so wait at a gate (testkit's waitForGate): a test
// opens it with openGate() instead of guessing how long a sleep has to be.
#include "HostProcess.h"
#include "HttpClient.h"
#include "PgFixture.h"
#include "ProblemCheck.h"

#include <QtCore/QDateTime>
#include <QtCore/QDeadlineTimer>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QScopeGuard>
#include <QtCore/QThread>
#include <QtCore/QUrl>
#include <QtTest/QtTest>

#include <csignal>
#include <functional>

using namespace yieldhost::test;

namespace {

using Headers = QList<QPair<QByteArray, QByteArray>>;

QByteArray compact(const QJsonObject &o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); }

} // namespace

class TestJobs : public QObject
{
    Q_OBJECT

    PgFixture m_pg;
    QString m_dbUrl;
    QString m_dbName;
    std::unique_ptr<HostProcess> m_api; // `serve` only: tests start their own workers and beats
    QByteArray m_staff;
    QByteArray m_user;

    QProcessEnvironment env() const
    {
        QProcessEnvironment e;
        e.insert(QStringLiteral("YIELDHOST_DATABASE_URL"), m_dbUrl);
        // Several processes, each with its own data directory, accept one staff token: they share
        // a secret, as an installation's processes do in production.
        e.insert(QStringLiteral("YIELDHOST_JWT_SECRET"), QStringLiteral("jobs-test-secret-0123456789abcdef0123456789"));
        e.insert(QStringLiteral("YIELDHOST_JOBS__HEARTBEAT_INTERVAL_MS"), QStringLiteral("200"));
        e.insert(QStringLiteral("YIELDHOST_JOBS__WORKER_TIMEOUT_MS"), QStringLiteral("1500"));
        e.insert(QStringLiteral("YIELDHOST_JOBS__RETRY_BASE_MS"), QStringLiteral("200"));
        e.insert(QStringLiteral("YIELDHOST_JOBS__POLL_INTERVAL_MS"), QStringLiteral("200"));
        e.insert(QStringLiteral("YIELDHOST_JOBS__BEAT_INTERVAL_MS"), QStringLiteral("200"));
        e.insert(QStringLiteral("YIELDHOST_JOBS__METRICS_REFRESH_MS"), QStringLiteral("200"));
        e.insert(QStringLiteral("YIELDHOST_HTTP__ACCESS_LOG"), QStringLiteral("0"));
        return e;
    }

    QString sql(const QString &statement)
    {
        QString error;
        const QString out = m_pg.psql(m_dbName, statement, &error);
        if (!error.isEmpty())
            qWarning("psql: %s", qPrintable(error));
        return out;
    }
    qint64 count(const QString &where, const QString &table = QStringLiteral("host_job"))
    {
        return sql(QStringLiteral("SELECT count(*) FROM %1 WHERE %2").arg(table, where)).toLongLong();
    }

    std::unique_ptr<HostProcess> startProcess(const QStringList &arguments, QProcessEnvironment extra = {})
    {
        QProcessEnvironment e = env();
        for (const QString &key : extra.keys())
            e.insert(key, extra.value(key));
        auto p = std::make_unique<HostProcess>(e, arguments);
        QString error;
        if (!p->start(&error, 60000)) {
            qWarning("%s", qPrintable(error));
            return nullptr;
        }
        return p;
    }
    std::unique_ptr<HostProcess> startWorker(const QStringList &extra = {})
    {
        return startProcess(QStringList{QStringLiteral("worker"), QStringLiteral("--queues"), QStringLiteral("testkit")} + extra);
    }

    std::optional<HttpReply> call(const QByteArray &method, const QByteArray &path, const QByteArray &body = {}, const QByteArray &token = {})
    {
        const Headers headers = token.isEmpty() ? Headers{} : Headers{{QByteArrayLiteral("Authorization"), QByteArray("Bearer " + token)}};
        return HttpClient::request(m_api->host(), m_api->port(), method, path, body, "application/json", headers);
    }
    std::optional<HttpReply> admin(const QByteArray &method, const QByteArray &path, const QJsonObject &body = {})
    {
        return call(method, path, method == "POST" && !body.isEmpty() ? compact(body) : QByteArray(), m_staff);
    }
    // POST /api/v1/admin/jobs → the new job (empty when not 202).
    QJsonObject enqueue(const QJsonObject &body)
    {
        const auto r = admin("POST", "/api/v1/admin/jobs", body);
        if (!r || r->status != 202) {
            qWarning("enqueue: %s", qPrintable(describe(r)));
            return {};
        }
        return r->json();
    }
    QJsonObject job(const QString &id)
    {
        const auto r = admin("GET", "/api/v1/admin/jobs/" + id.toLatin1());
        return r && r->status == 200 ? r->json() : QJsonObject{};
    }
    bool waitForState(const QString &id, const QString &state, int timeoutMs)
    {
        const bool ok = waitUntil([&] { return job(id).value(QLatin1String("state")).toString() == state; }, timeoutMs);
        if (!ok)
            qWarning("job %s: %s", qPrintable(id), QJsonDocument(job(id)).toJson().constData());
        return ok;
    }
    QString enqueueId(const QJsonObject &body) { return enqueue(body).value(QLatin1String("id")).toString(); }
    // Lets the testkit runs held at `gate` go on: "late" opens every attempt, "late:2" only the second.
    void openGate(const QString &gate) { sql(QStringLiteral("INSERT INTO testkit_note (body) VALUES ('open %1')").arg(gate)); }
    // "attempt pid" of each recorded run of a job, in attempt order.
    QString runs(const QString &id)
    {
        return sql(QStringLiteral("SELECT string_agg(attempt || ' ' || pid, ',' ORDER BY attempt, id) FROM testkit_job_run WHERE job_id = %1").arg(id));
    }
    static qint64 pid(HostProcess &p) { return p.process().processId(); }
    static void sendSignal(HostProcess &p, int number) { ::kill(pid_t(p.process().processId()), number); }
    // testkit.occupy runs of `group` going on now, and the most that ever went on at once.
    qint64 occupying(const QString &group)
    {
        return sql(QStringLiteral("SELECT COALESCE(sum(CASE WHEN body LIKE '%+1' THEN 1 ELSE -1 END), 0) FROM testkit_note "
                                  "WHERE body IN ('occupy %1 +1', 'occupy %1 -1')").arg(group)).toLongLong();
    }
    // The postmaster and every process it forked, stopped: the server neither answers nor
    // refuses, as when its disk stalls or its machine is paused. The postmaster goes first, so
    // that it forks no backend while the others are being stopped.
    QList<pid_t> freezeServer()
    {
        const pid_t postmaster = pid_t(m_pg.server().postmasterPid());
        QList<pid_t> frozen;
        if (postmaster <= 0)
            return frozen;
        ::kill(postmaster, SIGSTOP);
        frozen.append(postmaster);
        for (const QString &entry : QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
            bool numeric = false;
            const pid_t child = pid_t(entry.toInt(&numeric));
            QFile stat(QStringLiteral("/proc/%1/stat").arg(entry));
            if (!numeric || !stat.open(QIODevice::ReadOnly))
                continue;
            // "pid (comm) state ppid …", where comm may hold spaces and parentheses.
            const QByteArray line = stat.readAll();
            const QList<QByteArray> fields = line.mid(line.lastIndexOf(')') + 2).split(' ');
            if (fields.size() > 1 && fields[1].toLongLong() == postmaster) {
                ::kill(child, SIGSTOP);
                frozen.append(child);
            }
        }
        return frozen;
    }
    static void thawServer(const QList<pid_t> &frozen)
    {
        for (auto it = frozen.crbegin(); it != frozen.crend(); ++it)
            ::kill(*it, SIGCONT);
    }
    qint64 mostOccupyingAtOnce(const QString &group)
    {
        return sql(QStringLiteral("SELECT COALESCE(max(running), 0) FROM (SELECT sum(CASE WHEN body LIKE '%+1' THEN 1 ELSE -1 END) OVER (ORDER BY id) AS running "
                                  "FROM testkit_note WHERE body IN ('occupy %1 +1', 'occupy %1 -1')) s").arg(group)).toLongLong();
    }

    QByteArray login(const QString &email, const QString &password)
    {
        const auto r = call("POST", "/api/v1/auth/token", compact({{QStringLiteral("email"), email}, {QStringLiteral("password"), password}}));
        return r && r->status == 200 ? r->json().value(QLatin1String("access")).toString().toLatin1() : QByteArray();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_pg.start(&error), qPrintable(error));
        m_dbUrl = m_pg.createDatabase(&error);
        QVERIFY2(!m_dbUrl.isEmpty(), qPrintable(error));
        m_dbName = QUrl(m_dbUrl).path().mid(1);
        m_api = startProcess({QStringLiteral("serve")});
        QVERIFY(m_api);
        QVERIFY2(m_api->waitReady(60000), qPrintable(m_api->output().right(2000)));

        const QString password = QStringLiteral("staff password 0123");
        QString out;
        const int created = HostProcess::runCommand(env(), {QStringLiteral("createuser"), QStringLiteral("--email"), QStringLiteral("ops@example.com"),
                                                            QStringLiteral("--staff"), QStringLiteral("--password-stdin")},
                                                    &out, password.toUtf8() + '\n');
        QVERIFY2(created == 0, qPrintable(out.right(2000)));
        m_staff = login(QStringLiteral("ops@example.com"), password);
        QVERIFY(!m_staff.isEmpty());

        const auto reg = call("POST", "/api/v1/auth/register",
                              compact({{QStringLiteral("email"), QStringLiteral("user@example.com")}, {QStringLiteral("password"), password}}));
        QVERIFY2(reg && reg->status == 201, qPrintable(describe(reg)));
        m_user = login(QStringLiteral("user@example.com"), password);
        QVERIFY(!m_user.isEmpty());
    }

    void init()
    {
        sql(QStringLiteral("TRUNCATE host_job, testkit_job_run, testkit_note; DELETE FROM host_worker; DELETE FROM host_schedule"));
    }

    void cleanupTestCase()
    {
        if (m_api)
            QVERIFY2(m_api->terminate() == 0, qPrintable(m_api->output().right(3000)));
    }

    // --- the worker ---

    void tenThousandJobsOverThreeWorkersCompleteExactlyOnce()
    {
        // Nobody dies here: a worker whose heartbeat a busy (sanitized) machine delays past the
        // short timeout of the rescue tests must not be taken for dead, its jobs run twice.
        QProcessEnvironment alive;
        alive.insert(QStringLiteral("YIELDHOST_JOBS__WORKER_TIMEOUT_MS"), QStringLiteral("10000"));
        std::vector<std::unique_ptr<HostProcess>> workers;
        for (int i = 0; i < 3; ++i) {
            workers.push_back(startProcess({QStringLiteral("worker"), QStringLiteral("--queues"), QStringLiteral("testkit"),
                                            QStringLiteral("--concurrency"), QStringLiteral("20")}, alive));
            QVERIFY(workers.back());
        }
        QCOMPARE(count(QStringLiteral("true"), QStringLiteral("host_worker")), 3);
        // Bulk enqueue in one statement; NOTIFY wakes the (idle, listening) workers.
        sql(QStringLiteral("INSERT INTO host_job (task, queue, args) SELECT 'testkit.record', 'testkit', jsonb_build_object('n', g) "
                           "FROM generate_series(1, 10000) g; SELECT pg_notify('yieldhost_jobs', 'testkit')"));
        QVERIFY2(waitUntil([&] { return count(QStringLiteral("state = 'done'")) == 10000; }, 180000),
                 qPrintable(sql(QStringLiteral("SELECT state, count(*) FROM host_job GROUP BY state"))));
        // Every job ran exactly once: one run row per job, none twice, none lost.
        QCOMPARE(sql(QStringLiteral("SELECT count(*) || ' ' || count(DISTINCT job_id) FROM testkit_job_run")), QStringLiteral("10000 10000"));
        QCOMPARE(count(QStringLiteral("attempts <> 1")), 0);
        // All three workers took part.
        QCOMPARE(sql(QStringLiteral("SELECT count(DISTINCT pid) FROM testkit_job_run")), QStringLiteral("3"));
        QCOMPARE(sql(QStringLiteral("SELECT count(DISTINCT worker) FROM host_job")), QStringLiteral("3"));
        for (auto &w : workers)
            QVERIFY2(w->terminate() == 0, qPrintable(w->output().right(3000)));
        QCOMPARE(count(QStringLiteral("true"), QStringLiteral("host_worker")), 0); // unregistered on stop
    }

    void aJobOfAKilledWorkerIsRescuedAndCompletes()
    {
        auto first = startWorker();
        QVERIFY(first);
        const QString id = enqueue({{QStringLiteral("task"), QStringLiteral("testkit.record")},
                                    {QStringLiteral("args"), QJsonObject{{QStringLiteral("sleep_first_ms"), 60000}}}})
                               .value(QLatin1String("id")).toString();
        QVERIFY(!id.isEmpty());
        QVERIFY(waitForState(id, QStringLiteral("running"), 10000));
        const QString firstWorker = job(id).value(QLatin1String("worker")).toString();
        QVERIFY(firstWorker.contains(QString::number(first->process().processId())));
        ::kill(pid_t(first->process().processId()), SIGKILL);
        QVERIFY(first->waitForExit(5000));

        auto second = startWorker();
        QVERIFY(second);
        QVERIFY(waitForState(id, QStringLiteral("done"), 20000));
        const QJsonObject done = job(id);
        QCOMPARE(done.value(QLatin1String("attempts")).toInt(), 2);
        QVERIFY(done.value(QLatin1String("worker")).toString() != firstWorker);
        // The first attempt never got past its sleep; the second ran once, in the second worker.
        QCOMPARE(sql(QStringLiteral("SELECT attempt || ' ' || pid FROM testkit_job_run WHERE job_id = %1").arg(id)),
                 QStringLiteral("2 %1").arg(second->process().processId()));
        QVERIFY2(second->output().contains(QLatin1String("rescued 1 jobs")), qPrintable(second->output().right(2000)));
        QVERIFY2(second->terminate() == 0, qPrintable(second->output().right(3000)));
    }

    void aLateResultOfARescuedWorkerIsDiscarded_data()
    {
        QTest::addColumn<int>("failTimes");
        QTest::newRow("late success") << 0;
        QTest::newRow("late failure") << 1; // the frozen worker's attempt fails, the rescuer's succeeds
    }

    void aLateResultOfARescuedWorkerIsDiscarded()
    {
        QFETCH(int, failTimes);
        auto first = startWorker();
        QVERIFY(first);
        const qint64 firstPid = pid(*first); // QProcess forgets it once the process has exited
        const QString id = enqueueId({{QStringLiteral("task"), QStringLiteral("testkit.record")},
                                      {QStringLiteral("args"), QJsonObject{{QStringLiteral("gate"), QStringLiteral("late")},
                                                                           {QStringLiteral("fail_times"), failTimes}}}});
        QVERIFY(!id.isEmpty());
        QVERIFY(waitForState(id, QStringLiteral("running"), 10000));
        const QString firstWorker = job(id).value(QLatin1String("worker")).toString();
        QVERIFY(firstWorker.contains(QString::number(firstPid)));
        // Frozen, not dead: past worker_timeout it looks dead to the others, yet it still holds
        // its run and reports it when it goes on. (Should a check fail while it is frozen, its
        // HostProcess kills it: SIGKILL needs no SIGCONT.)
        sendSignal(*first, SIGSTOP);
        auto second = startWorker();
        QVERIFY(second);
        QVERIFY(waitUntil([&] {
            const QJsonObject j = job(id);
            return j.value(QLatin1String("state")).toString() == QLatin1String("running") && j.value(QLatin1String("attempts")).toInt() == 2;
        }, 30000));
        const QString secondWorker = job(id).value(QLatin1String("worker")).toString();
        QVERIFY(secondWorker.contains(QString::number(pid(*second))));

        // The first run ends and reports while the rescuer's run still holds the job: the moment
        // when only the (attempt, worker) guard keeps the late result out.
        sendSignal(*first, SIGCONT);
        openGate(QStringLiteral("late:1"));
        QVERIFY(waitUntil([&] { return count(QStringLiteral("job_id = %1 AND attempt = 1").arg(id), QStringLiteral("testkit_job_run")) == 1; }, 20000));
        // A stopping worker writes its results before it unregisters, so once it has exited its
        // late result has been offered to the database.
        QVERIFY2(first->terminate() == 0, qPrintable(first->output().right(3000)));
        const QJsonObject meanwhile = job(id);
        QCOMPARE(meanwhile.value(QLatin1String("state")).toString(), QStringLiteral("running"));
        QCOMPARE(meanwhile.value(QLatin1String("attempts")).toInt(), 2);
        QCOMPARE(meanwhile.value(QLatin1String("worker")).toString(), secondWorker);
        QCOMPARE(meanwhile.value(QLatin1String("last_error")).toString(),
                 QStringLiteral("worker %1 stopped sending heartbeats during this attempt").arg(firstWorker));

        openGate(QStringLiteral("late:2"));
        QVERIFY(waitForState(id, QStringLiteral("done"), 20000));
        const QJsonObject done = job(id);
        QCOMPARE(done.value(QLatin1String("attempts")).toInt(), 2);
        QCOMPARE(done.value(QLatin1String("worker")).toString(), secondWorker);
        QVERIFY(done.value(QLatin1String("last_error")).isNull());
        // Each worker ran its attempt once; the late result started no third.
        QCOMPARE(runs(id), QStringLiteral("1 %1,2 %2").arg(firstPid).arg(pid(*second)));
        QVERIFY2(second->terminate() == 0, qPrintable(second->output().right(3000)));
    }

    void aRescueOnTheLastAttemptFailsTheJob()
    {
        // Two attempts: the first fails on purpose, the second (the last) is held until its
        // worker dies. max_attempts is not part of the staff API, hence the INSERT.
        openGate(QStringLiteral("last:1"));
        const QString id = sql(QStringLiteral("INSERT INTO host_job (task, queue, args, max_attempts) VALUES "
                                              "('testkit.record', 'testkit', '{\"gate\": \"last\", \"fail_times\": 1}', 2) RETURNING id"));
        QVERIFY(!id.isEmpty());
        auto first = startWorker();
        QVERIFY(first);
        const qint64 firstPid = pid(*first);
        QVERIFY(waitUntil([&] {
            const QJsonObject j = job(id);
            return j.value(QLatin1String("state")).toString() == QLatin1String("running") && j.value(QLatin1String("attempts")).toInt() == 2;
        }, 20000));
        const QString firstWorker = job(id).value(QLatin1String("worker")).toString();
        sendSignal(*first, SIGKILL);
        QVERIFY(first->waitForExit(5000));

        auto second = startWorker();
        QVERIFY(second);
        QVERIFY(waitForState(id, QStringLiteral("failed"), 20000));
        const QJsonObject failed = job(id);
        QCOMPARE(failed.value(QLatin1String("attempts")).toInt(), 2);
        QCOMPARE(failed.value(QLatin1String("last_error")).toString(),
                 QStringLiteral("worker %1 stopped sending heartbeats during this attempt").arg(firstWorker));
        QVERIFY(!failed.value(QLatin1String("finished_at")).isNull());
        // Logged after the rescue's notification, so a moment after the state changed.
        QVERIFY2(waitUntil([&] { return second->output().contains(QLatin1String("rescued 1 jobs")); }, 10000), qPrintable(second->output().right(2000)));
        // Only the first attempt got past its gate, and no third attempt was started.
        QCOMPARE(runs(id), QStringLiteral("1 %1").arg(firstPid));
        QVERIFY2(second->terminate() == 0, qPrintable(second->output().right(3000)));
        QCOMPARE(job(id).value(QLatin1String("attempts")).toInt(), 2);
    }

    void failedAttemptsAreRetriedWithGrowingBackoffThenFailForGood()
    {
        auto worker = startWorker();
        QVERIFY(worker);
        const QString flaky = enqueue({{QStringLiteral("task"), QStringLiteral("testkit.record")},
                                       {QStringLiteral("args"), QJsonObject{{QStringLiteral("fail_times"), 2}}}})
                                  .value(QLatin1String("id")).toString();
        const QString hopeless = enqueue({{QStringLiteral("task"), QStringLiteral("testkit.record")},
                                          {QStringLiteral("args"), QJsonObject{{QStringLiteral("fail_times"), 100}}}})
                                     .value(QLatin1String("id")).toString();
        QVERIFY(!flaky.isEmpty() && !hopeless.isEmpty());
        QVERIFY(waitForState(flaky, QStringLiteral("done"), 20000));
        QCOMPARE(job(flaky).value(QLatin1String("attempts")).toInt(), 3);
        // Backoff: base 200 ms doubling, ±20 % jitter → at least 160 ms, then at least 320 ms.
        const QStringList gaps = sql(QStringLiteral("SELECT round(extract(epoch FROM at - lag(at) OVER (ORDER BY at)) * 1000) FROM testkit_job_run "
                                                    "WHERE job_id = %1 ORDER BY at OFFSET 1").arg(flaky)).split(u'\n');
        QCOMPARE(gaps.size(), 2);
        QVERIFY2(gaps[0].toDouble() >= 160, qPrintable(gaps.join(u' ')));
        QVERIFY2(gaps[1].toDouble() >= 320, qPrintable(gaps.join(u' ')));

        QVERIFY(waitForState(hopeless, QStringLiteral("failed"), 30000));
        QJsonObject failed = job(hopeless);
        QCOMPARE(failed.value(QLatin1String("attempts")).toInt(), 5);
        QCOMPARE(failed.value(QLatin1String("max_attempts")).toInt(), 5);
        QCOMPARE(failed.value(QLatin1String("last_error")).toString(), QStringLiteral("deliberate failure on attempt 5"));
        QVERIFY(!failed.value(QLatin1String("finished_at")).isNull());

        // A staff retry gives it one more attempt, which runs at once (and fails again here).
        const auto retried = admin("POST", "/api/v1/admin/jobs/" + hopeless.toLatin1() + "/retry");
        QVERIFY2(retried && retried->status == 200, qPrintable(describe(retried)));
        QVERIFY(QStringList({QStringLiteral("pending"), QStringLiteral("running"), QStringLiteral("failed")})
                    .contains(retried->json().value(QLatin1String("state")).toString()));
        QVERIFY(waitUntil([&] { return job(hopeless).value(QLatin1String("attempts")).toInt() == 6; }, 10000));
        QVERIFY(waitForState(hopeless, QStringLiteral("failed"), 10000));
        QCOMPARE(job(hopeless).value(QLatin1String("last_error")).toString(), QStringLiteral("deliberate failure on attempt 6"));
        QVERIFY2(worker->terminate() == 0, qPrintable(worker->output().right(3000)));
    }

    void aRunPastItsTimeoutIsAFailedAttempt()
    {
        auto worker = startWorker();
        QVERIFY(worker);
        const QString id = enqueue({{QStringLiteral("task"), QStringLiteral("testkit.too_slow")}}).value(QLatin1String("id")).toString();
        QVERIFY(waitForState(id, QStringLiteral("failed"), 10000));
        QCOMPARE(job(id).value(QLatin1String("last_error")).toString(), QStringLiteral("timed out after 1 s"));
        QVERIFY2(worker->terminate() == 0, qPrintable(worker->output().right(3000)));
    }

    void uniqueKeysRefuseDuplicatesWhilePendingOrRunning()
    {
        const QJsonObject body{{QStringLiteral("task"), QStringLiteral("testkit.record")},
                               {QStringLiteral("unique_key"), QStringLiteral("statement:2026-10")},
                               {QStringLiteral("run_at"), QDateTime::currentDateTimeUtc().addSecs(3600).toString(Qt::ISODate)}};
        const QJsonObject first = enqueue(body);
        QCOMPARE(first.value(QLatin1String("state")).toString(), QStringLiteral("scheduled"));
        const auto duplicate = admin("POST", "/api/v1/admin/jobs", body);
        QVERIFY(duplicate);
        CHECK(verifyProblem(duplicate, 409));
        QVERIFY(duplicate->json().value(QLatin1String("detail")).toString().contains(first.value(QLatin1String("id")).toString()));
        QJsonObject other = body;
        other.insert(QStringLiteral("unique_key"), QStringLiteral("statement:2026-11"));
        QVERIFY(!enqueue(other).isEmpty());
        // Once the holder is finished (here: cancelled) the key is free again.
        const auto cancelled = admin("POST", "/api/v1/admin/jobs/" + first.value(QLatin1String("id")).toString().toLatin1() + "/cancel");
        QVERIFY(cancelled && cancelled->status == 200);
        QVERIFY(!enqueue(body).isEmpty());
        QCOMPARE(count(QStringLiteral("unique_key = 'statement:2026-10'")), 2);
    }

    void staffChangesToTheQueueAreAudited()
    {
        // Who enqueued, cancelled and retried what, from where: one audit line per change, tied to
        // the access log by the request id. A refused change (409) is not a change.
        const QJsonObject scheduled = enqueue({{QStringLiteral("task"), QStringLiteral("testkit.record")},
                                               {QStringLiteral("run_at"), QDateTime::currentDateTimeUtc().addSecs(3600).toString(Qt::ISODate)}});
        const QString id = scheduled.value(QLatin1String("id")).toString();
        QVERIFY(!id.isEmpty());
        const auto cancel = admin("POST", "/api/v1/admin/jobs/" + id.toLatin1() + "/cancel");
        QVERIFY(cancel && cancel->status == 200);
        const auto again = admin("POST", "/api/v1/admin/jobs/" + id.toLatin1() + "/cancel");
        QVERIFY(again);
        CHECK(verifyProblem(again, 409));
        const auto retry = admin("POST", "/api/v1/admin/jobs/" + id.toLatin1() + "/retry");
        QVERIFY(retry && retry->status == 200);
        const QString who = QStringLiteral("<ops@example.com> from 127.0.0.1: ");
        for (const QString &what : {QStringLiteral("enqueued job %1 (task testkit.record, queue testkit)"), QStringLiteral("cancelled job %1 (task testkit.record)"),
                                    QStringLiteral("retried job %1 (task testkit.record)")}) {
            const QString line = who + what.arg(id);
            QVERIFY2(waitUntil([&] { return m_api->output().count(line) == 1; }, 5000), qPrintable(line));
        }
        QVERIFY2(m_api->output().contains(QStringLiteral("rid=%1").arg(QString::fromLatin1(retry->header("x-request-id")))), "the audit line lacks the request id");
        QCOMPARE(m_api->output().count(QStringLiteral("cancelled job %1 ").arg(id)), 1);
    }

    void cancelAndRetryFollowTheJobState()
    {
        const QJsonObject scheduled = enqueue({{QStringLiteral("task"), QStringLiteral("testkit.record")},
                                               {QStringLiteral("run_at"), QDateTime::currentDateTimeUtc().addSecs(3600).toString(Qt::ISODate)}});
        const QByteArray id = scheduled.value(QLatin1String("id")).toString().toLatin1();
        QCOMPARE(scheduled.value(QLatin1String("state")).toString(), QStringLiteral("scheduled"));
        const auto listed = admin("GET", "/api/v1/admin/jobs?state=scheduled");
        QVERIFY(listed && listed->status == 200);
        QCOMPARE(listed->json().value(QLatin1String("results")).toArray().size(), 1);

        auto cancel = admin("POST", "/api/v1/admin/jobs/" + id + "/cancel");
        QVERIFY(cancel && cancel->status == 200);
        QCOMPARE(cancel->json().value(QLatin1String("state")).toString(), QStringLiteral("cancelled"));
        cancel = admin("POST", "/api/v1/admin/jobs/" + id + "/cancel");
        QVERIFY(cancel);
        CHECK(verifyProblem(cancel, 409));

        auto worker = startWorker();
        QVERIFY(worker);
        QTest::qWait(500);
        QCOMPARE(job(QString::fromLatin1(id)).value(QLatin1String("state")).toString(), QStringLiteral("cancelled")); // not run
        const auto retry = admin("POST", "/api/v1/admin/jobs/" + id + "/retry");
        QVERIFY(retry && retry->status == 200);
        QVERIFY(waitForState(QString::fromLatin1(id), QStringLiteral("done"), 10000));
        const auto retryDone = admin("POST", "/api/v1/admin/jobs/" + id + "/retry");
        QVERIFY(retryDone);
        CHECK(verifyProblem(retryDone, 409));
        const auto cancelDone = admin("POST", "/api/v1/admin/jobs/" + id + "/cancel");
        QVERIFY(cancelDone);
        CHECK(verifyProblem(cancelDone, 409));

        // Cancelling a running job: its late result does not overwrite the cancellation. The run
        // is held at its gate until the cancellation is in, then ends and reports.
        const QString running = enqueue({{QStringLiteral("task"), QStringLiteral("testkit.record")},
                                         {QStringLiteral("args"), QJsonObject{{QStringLiteral("gate"), QStringLiteral("cancel")}}}})
                                    .value(QLatin1String("id")).toString();
        QVERIFY(waitForState(running, QStringLiteral("running"), 10000));
        cancel = admin("POST", "/api/v1/admin/jobs/" + running.toLatin1() + "/cancel");
        QVERIFY2(cancel && cancel->status == 200, qPrintable(describe(cancel)));
        QCOMPARE(count(QStringLiteral("job_id = %1").arg(running), QStringLiteral("testkit_job_run")), 0); // still held
        openGate(QStringLiteral("cancel"));
        QVERIFY(waitUntil([&] { return count(QStringLiteral("job_id = %1").arg(running), QStringLiteral("testkit_job_run")) == 1; }, 10000));
        QTest::qWait(300);
        QCOMPARE(job(running).value(QLatin1String("state")).toString(), QStringLiteral("cancelled"));

        for (const QByteArray &unknown : {QByteArrayLiteral("999999"), QByteArrayLiteral("abc"), QByteArrayLiteral("-1")}) {
            for (const QByteArray &suffix : {QByteArray(), QByteArrayLiteral("/retry"), QByteArrayLiteral("/cancel")}) {
                const auto r = admin(suffix.isEmpty() ? "GET" : "POST", "/api/v1/admin/jobs/" + unknown + suffix);
                QVERIFY(r);
                CHECK(verifyProblem(r, 404));
            }
        }
        QVERIFY2(worker->terminate() == 0, qPrintable(worker->output().right(3000)));
    }

    void aJobEnqueuedInATransactionExistsOnlyIfItCommits()
    {
        for (const bool commit : {false, true}) {
            const auto r = call("POST", "/test/jobs/in-transaction", compact({{QStringLiteral("commit"), commit}}));
            QVERIFY(r && r->status == 200);
            QCOMPARE(r->json().value(QLatin1String("committed")).toBool(), commit);
            const QString id = r->json().value(QLatin1String("job_id")).toString();
            QVERIFY(!id.isEmpty());
            QCOMPARE(count(QStringLiteral("id = %1").arg(id)), commit ? 1 : 0);
        }
    }

    void aStoppingWorkerFinishesItsRunningJob()
    {
        auto worker = startWorker();
        QVERIFY(worker);
        const QString id = enqueue({{QStringLiteral("task"), QStringLiteral("testkit.record")},
                                    {QStringLiteral("args"), QJsonObject{{QStringLiteral("sleep_first_ms"), 800}}}})
                               .value(QLatin1String("id")).toString();
        QVERIFY(waitForState(id, QStringLiteral("running"), 10000));
        QVERIFY2(worker->terminate() == 0, qPrintable(worker->output().right(3000)));
        QCOMPARE(job(id).value(QLatin1String("state")).toString(), QStringLiteral("done"));
    }

    void aStoppingWorkerReturnsAJobItCannotFinishWithoutCountingTheAttempt()
    {
        QProcessEnvironment quick;
        quick.insert(QStringLiteral("YIELDHOST_JOBS__SHUTDOWN_TIMEOUT_MS"), QStringLiteral("500"));
        // The held run is abandoned when the worker exits (SDK 1.0 has no way to ask a job to
        // stop), so its coroutine frames are still allocated at exit: by design, not a leak for
        // the sanitizer pass to fail this process for.
        const QString asan = qEnvironmentVariable("ASAN_OPTIONS");
        quick.insert(QStringLiteral("ASAN_OPTIONS"), asan.isEmpty() ? QStringLiteral("detect_leaks=0") : asan + QStringLiteral(":detect_leaks=0"));
        auto first = startProcess({QStringLiteral("worker"), QStringLiteral("--queues"), QStringLiteral("testkit")}, quick);
        QVERIFY(first);
        const QString id = enqueueId({{QStringLiteral("task"), QStringLiteral("testkit.record")},
                                      {QStringLiteral("args"), QJsonObject{{QStringLiteral("gate"), QStringLiteral("stop")}}}});
        QVERIFY(!id.isEmpty());
        QVERIFY(waitForState(id, QStringLiteral("running"), 10000));
        QCOMPARE(job(id).value(QLatin1String("attempts")).toInt(), 1);
        const QString firstWorker = job(id).value(QLatin1String("worker")).toString();

        QVERIFY2(first->terminate() == 0, qPrintable(first->output().right(3000)));
        const QJsonObject returned = job(id);
        QCOMPARE(returned.value(QLatin1String("state")).toString(), QStringLiteral("pending"));
        QCOMPARE(returned.value(QLatin1String("attempts")).toInt(), 0);
        QCOMPARE(returned.value(QLatin1String("last_error")).toString(), QStringLiteral("worker %1 stopped before the job finished").arg(firstWorker));
        QCOMPARE(count(QStringLiteral("true"), QStringLiteral("host_worker")), 0);
        QVERIFY2(first->output().contains(QLatin1String("1 jobs still running at shutdown go back to their queues")), qPrintable(first->output().right(2000)));

        // Its next run is its first counted attempt.
        openGate(QStringLiteral("stop"));
        auto second = startWorker();
        QVERIFY(second);
        QVERIFY(waitForState(id, QStringLiteral("done"), 20000));
        QCOMPARE(job(id).value(QLatin1String("attempts")).toInt(), 1);
        QCOMPARE(runs(id), QStringLiteral("1 %1").arg(pid(*second)));
        QVERIFY2(second->terminate() == 0, qPrintable(second->output().right(3000)));
    }

    void eachQueueRunsAtMostItsConcurrencyAtOnce()
    {
        // A queue the defaults do not name, set from the environment, and a second one beside it.
        QProcessEnvironment limits;
        limits.insert(QStringLiteral("YIELDHOST_JOBS__QUEUES__TESTKIT"), QStringLiteral("2"));
        limits.insert(QStringLiteral("YIELDHOST_JOBS__QUEUES__TESTKIT_WIDE"), QStringLiteral("3"));
        // All waiting before the worker starts, so its first claim could take every one of them.
        QStringList ids;
        for (const QString &queue : {QStringLiteral("testkit"), QStringLiteral("testkit_wide")}) {
            for (int i = 0; i < 8; ++i)
                ids.append(enqueueId({{QStringLiteral("task"), QStringLiteral("testkit.occupy")}, {QStringLiteral("queue"), queue},
                                      {QStringLiteral("args"), QJsonObject{{QStringLiteral("group"), queue}, {QStringLiteral("gate"), QStringLiteral("slots")}}}}));
        }
        QVERIFY(!ids.contains(QString()));
        auto worker = startProcess({QStringLiteral("worker"), QStringLiteral("--queues"), QStringLiteral("testkit,testkit_wide")}, limits);
        QVERIFY(worker);
        // Held at the gate, each queue fills its own slots at the same time: neither limit is
        // shared with, or starved by, the other.
        QVERIFY2(waitUntil([&] { return occupying(QStringLiteral("testkit")) == 2 && occupying(QStringLiteral("testkit_wide")) == 3; }, 20000),
                 qPrintable(QStringLiteral("running now: %1 and %2").arg(occupying(QStringLiteral("testkit"))).arg(occupying(QStringLiteral("testkit_wide")))));
        openGate(QStringLiteral("slots"));
        QVERIFY2(waitUntil([&] { return count(QStringLiteral("state = 'done'")) == 16; }, 30000),
                 qPrintable(sql(QStringLiteral("SELECT state, count(*) FROM host_job GROUP BY state"))));
        // Measured by the runs themselves, over the whole drain.
        QCOMPARE(mostOccupyingAtOnce(QStringLiteral("testkit")), 2);
        QCOMPARE(mostOccupyingAtOnce(QStringLiteral("testkit_wide")), 3);
        QCOMPARE(occupying(QStringLiteral("testkit")) + occupying(QStringLiteral("testkit_wide")), 0);
        QVERIFY2(worker->terminate() == 0, qPrintable(worker->output().right(3000)));
    }

    void jobsAreTakenLowestPriorityNumberFirst()
    {
        // Waiting before the worker starts, which then takes them one at a time.
        const QList<int> priorities{0, 5, -10, 0, -10, 3};
        QStringList ids;
        for (const int priority : priorities)
            ids.append(enqueueId({{QStringLiteral("task"), QStringLiteral("testkit.record")}, {QStringLiteral("priority"), priority}}));
        QVERIFY(!ids.contains(QString()));
        // Lower numbers first; equal priorities in the order they were enqueued.
        const QStringList expected{ids[2], ids[4], ids[0], ids[3], ids[5], ids[1]};
        auto worker = startWorker({QStringLiteral("--concurrency"), QStringLiteral("1")});
        QVERIFY(worker);
        QVERIFY(waitUntil([&] { return count(QStringLiteral("state = 'done'")) == 6; }, 20000));
        QCOMPARE(sql(QStringLiteral("SELECT string_agg(job_id::text, ',' ORDER BY id) FROM testkit_job_run")), expected.join(u','));
        QVERIFY2(worker->terminate() == 0, qPrintable(worker->output().right(3000)));
    }

    // --- the beat ---

    void twoBeatsFireEachTickOnceAndTheOtherTakesOver()
    {
        auto a = startProcess({QStringLiteral("beat")});
        auto b = startProcess({QStringLiteral("beat")});
        QVERIFY(a && b);
        // host.cleanup, testkit.tick, and the integrations and investments plugins' two each.
        QVERIFY(waitUntil([&] { return count(QStringLiteral("true"), QStringLiteral("host_schedule")) == 6; }, 10000));
        QCOMPARE(sql(QStringLiteral("SELECT cron || ' ' || to_char(next_run_at AT TIME ZONE 'UTC', 'MM-DD HH24:MI') FROM host_schedule WHERE task = 'testkit.tick'")),
                 QStringLiteral("0 0 1 1 * 01-01 00:00"));

        // Five missed daily ticks of host.cleanup fire once, and the next run is the next 03:00.
        sql(QStringLiteral("UPDATE host_schedule SET next_run_at = now() - interval '5 days' WHERE task = 'host.cleanup'"));
        QVERIFY(waitUntil([&] { return count(QStringLiteral("task = 'host.cleanup'")) >= 1; }, 5000));
        QTest::qWait(800);
        QCOMPARE(count(QStringLiteral("task = 'host.cleanup'")), 1);
        QCOMPARE(count(QStringLiteral("task = 'host.cleanup' AND queue = 'maintenance'")), 1);
        QCOMPARE(sql(QStringLiteral("SELECT to_char(next_run_at AT TIME ZONE 'UTC', 'HH24:MI') || ' ' || (next_run_at > now()) || ' ' || "
                                    "(last_job_id = (SELECT id FROM host_job WHERE task = 'host.cleanup')) FROM host_schedule WHERE task = 'host.cleanup'")),
                 QStringLiteral("03:00 true true"));

        // Exactly one process leads.
        HostProcess *leader = nullptr, *follower = nullptr;
        QVERIFY(waitUntil([&] { return a->output().contains(QLatin1String("now leads")) || b->output().contains(QLatin1String("now leads")); }, 5000));
        QVERIFY(!(a->output().contains(QLatin1String("now leads")) && b->output().contains(QLatin1String("now leads"))));
        leader = a->output().contains(QLatin1String("now leads")) ? a.get() : b.get();
        follower = leader == a.get() ? b.get() : a.get();

        ::kill(pid_t(leader->process().processId()), SIGKILL);
        QVERIFY(leader->waitForExit(5000));
        QVERIFY2(waitUntil([&] { return follower->output().contains(QLatin1String("now leads")); }, 10000), qPrintable(follower->output().right(2000)));
        sql(QStringLiteral("UPDATE host_schedule SET next_run_at = now() - interval '1 minute' WHERE task = 'testkit.tick'"));
        QVERIFY(waitUntil([&] { return count(QStringLiteral("task = 'testkit.tick'")) == 1; }, 5000));
        QTest::qWait(800);
        QCOMPARE(count(QStringLiteral("task = 'testkit.tick'")), 1);
        QVERIFY2(follower->terminate() == 0, qPrintable(follower->output().right(3000)));
    }

    // --- run-task ---

    void runTaskRunsInTheForegroundWithProgress()
    {
        auto run = [&](const QStringList &args, QString *output) { return HostProcess::runCommand(env(), args, output); };
        QString out;
        QCOMPARE(run({QStringLiteral("run-task"), QStringLiteral("testkit.record"), QStringLiteral("--arg"), QStringLiteral("fail_times=0"),
                      QStringLiteral("--arg"), QStringLiteral("note=hello world")}, &out), 0);
        QVERIFY2(out.contains(QLatin1String("recorded attempt 1")) && out.contains(QLatin1String("testkit.record done")), qPrintable(out));
        QCOMPARE(sql(QStringLiteral("SELECT state || ' ' || (args->>'note') || ' ' || (args->>'fail_times') || ' ' || (worker LIKE 'run-task:%') FROM host_job")),
                 QStringLiteral("done hello world 0 true"));

        QCOMPARE(run({QStringLiteral("run-task"), QStringLiteral("testkit.record"), QStringLiteral("--arg"), QStringLiteral("fail_times=1")}, &out), 1);
        QVERIFY2(out.contains(QLatin1String("deliberate failure on attempt 1")), qPrintable(out));
        QCOMPARE(count(QStringLiteral("state = 'failed'")), 1);

        QCOMPARE(run({QStringLiteral("run-task"), QStringLiteral("host.cleanup")}, &out), 0);
        QVERIFY2(out.contains(QLatin1String("purged 0 finished jobs")) && out.contains(QLatin1String("deleted 0 job runs")), qPrintable(out));

        QCOMPARE(run({QStringLiteral("run-task"), QStringLiteral("nope.nothing")}, &out), 1);
        QVERIFY2(out.contains(QLatin1String("unknown task")) && out.contains(QLatin1String("host.cleanup")), qPrintable(out));
        QCOMPARE(count(QStringLiteral("true"), QStringLiteral("host_worker")), 0);
    }

    void cleanupPurgesFinishedJobsPastRetention()
    {
        sql(QStringLiteral("INSERT INTO host_job (task, queue, state, finished_at) VALUES "
                           "('testkit.record', 'testkit', 'done', now() - interval '8 days'), "
                           "('testkit.record', 'testkit', 'failed', now() - interval '9 days'), "
                           "('testkit.record', 'testkit', 'done', now() - interval '1 day'), "
                           "('testkit.record', 'testkit', 'pending', NULL)"));
        // The users plugin's step: expired refresh tokens and login failures past the window go.
        const qint64 tokens = count(QStringLiteral("true"), QStringLiteral("users_refresh_token"));
        QVERIFY(tokens >= 2);
        sql(QStringLiteral("UPDATE users_refresh_token SET expires_at = now() - interval '1 minute' "
                           "WHERE user_id = (SELECT id FROM users_user WHERE email = 'user@example.com')"));
        sql(QStringLiteral("INSERT INTO users_login_failure (scope, key, failed_at) VALUES "
                           "('account', 'old@example.com', now() - interval '2 hours'), ('account', 'new@example.com', now())"));
        auto worker = startProcess({QStringLiteral("worker"), QStringLiteral("--queues"), QStringLiteral("maintenance")});
        QVERIFY(worker);
        const QString id = enqueue({{QStringLiteral("task"), QStringLiteral("host.cleanup")}}).value(QLatin1String("id")).toString();
        QVERIFY(waitForState(id, QStringLiteral("done"), 10000));
        QCOMPARE(count(QStringLiteral("task = 'testkit.record'")), 2); // the recent one and the pending one
        QCOMPARE(count(QStringLiteral("true"), QStringLiteral("users_refresh_token")), tokens - 1);
        QCOMPARE(sql(QStringLiteral("SELECT string_agg(key, ',') FROM users_login_failure WHERE key LIKE '%@example.com' AND key IN ('old@example.com', 'new@example.com')")),
                 QStringLiteral("new@example.com"));
        QVERIFY2(worker->output().contains(QLatin1String("deleted 1 expired refresh tokens and 1 old login failures")), qPrintable(worker->output().right(1500)));
        QVERIFY2(worker->terminate() == 0, qPrintable(worker->output().right(3000)));
    }

    // --- the staff API ---

    void adminRoutesAreForStaffOnly()
    {
        const QList<QPair<QByteArray, QByteArray>> routes{
            {"GET", "/api/v1/admin/queues"},          {"GET", "/api/v1/admin/jobs"},        {"POST", "/api/v1/admin/jobs"},
            {"GET", "/api/v1/admin/jobs/1"},          {"POST", "/api/v1/admin/jobs/1/retry"}, {"POST", "/api/v1/admin/jobs/1/cancel"},
            {"GET", "/api/v1/admin/workers"},         {"GET", "/api/v1/admin/schedules"},   {"GET", "/api/v1/admin/tasks"}};
        for (const auto &[method, path] : routes) {
            const auto anonymous = call(method, path, "{}");
            QVERIFY(anonymous);
            CHECK(verifyProblem(anonymous, 401));
            const auto user = call(method, path, "{}", m_user);
            QVERIFY(user);
            CHECK(verifyProblem(user, 403));
        }
    }

    void adminListsShowQueuesTasksSchedulesWorkersAndJobs()
    {
        auto worker = startWorker();
        QVERIFY(worker);
        QStringList ids;
        for (int i = 0; i < 5; ++i)
            ids.append(enqueue({{QStringLiteral("task"), QStringLiteral("testkit.record")}, {QStringLiteral("args"), QJsonObject{{QStringLiteral("i"), i}}}})
                           .value(QLatin1String("id")).toString());
        for (const QString &id : ids)
            QVERIFY(waitForState(id, QStringLiteral("done"), 10000));

        const auto tasks = admin("GET", "/api/v1/admin/tasks");
        QVERIFY(tasks && tasks->status == 200);
        QJsonObject cleanup;
        for (const QJsonValue &t : tasks->json().value(QLatin1String("results")).toArray())
            if (t.toObject().value(QLatin1String("name")).toString() == QLatin1String("host.cleanup"))
                cleanup = t.toObject();
        QCOMPARE(cleanup.value(QLatin1String("plugin")).toString(), QStringLiteral("host"));
        QCOMPARE(cleanup.value(QLatin1String("queue")).toString(), QStringLiteral("maintenance"));
        QCOMPARE(cleanup.value(QLatin1String("max_attempts")).toInt(), 3);
        QCOMPARE(cleanup.value(QLatin1String("timeout")).toInt(), 3600);
        QCOMPARE(cleanup.value(QLatin1String("schedule")).toString(), QStringLiteral("0 3 * * *"));
        // The money plugins' tasks on the queues and schedules their issues give.
        QHash<QString, QJsonObject> byName;
        for (const QJsonValue &t : tasks->json().value(QLatin1String("results")).toArray())
            byName.insert(t.toObject().value(QLatin1String("name")).toString(), t.toObject());
        const struct { const char *task, *queue, *schedule; } money[] = {
            {"integrations.update_rates", "rates", "*/5 * * * *"},
            {"integrations.confirm_settlements", nullptr, "* * * * *"},
            {"investments.process_yield_payments", "yields", "5 0 * * *"},
            {"investments.generate_statements", "statements", nullptr},
        };
        for (const auto &m : money) {
            const QJsonObject t = byName.value(QLatin1String(m.task));
            QVERIFY2(!t.isEmpty(), m.task);
            if (m.queue)
                QCOMPARE(t.value(QLatin1String("queue")).toString(), QLatin1String(m.queue));
            if (m.schedule)
                QCOMPARE(t.value(QLatin1String("schedule")).toString(), QLatin1String(m.schedule));
        }

        const auto schedules = admin("GET", "/api/v1/admin/schedules");
        QVERIFY(schedules && schedules->status == 200);
        QStringList scheduled;
        for (const QJsonValue &s : schedules->json().value(QLatin1String("results")).toArray()) {
            scheduled.append(s.toObject().value(QLatin1String("task")).toString());
            QVERIFY(s.toObject().value(QLatin1String("next_run_at")).toString().endsWith(u'Z'));
            QVERIFY(s.toObject().contains(QLatin1String("last_run_at")));
        }
        QCOMPARE(scheduled, QStringList({QStringLiteral("host.cleanup"), QStringLiteral("integrations.confirm_settlements"),
                                         QStringLiteral("integrations.update_rates"), QStringLiteral("investments.generate_statements"),
                                         QStringLiteral("investments.process_yield_payments"), QStringLiteral("testkit.tick")}));

        const auto workers = admin("GET", "/api/v1/admin/workers");
        QVERIFY(workers && workers->status == 200);
        const QJsonArray live = workers->json().value(QLatin1String("results")).toArray();
        QCOMPARE(live.size(), 1);
        QCOMPARE(live[0].toObject().value(QLatin1String("pid")).toInteger(), worker->process().processId());
        QCOMPARE(live[0].toObject().value(QLatin1String("queues")).toArray(), QJsonArray({QStringLiteral("testkit")}));
        for (const char *key : {"id", "host", "started_at", "last_heartbeat", "running_jobs"})
            QVERIFY2(live[0].toObject().contains(QLatin1String(key)), key);

        const auto queues = admin("GET", "/api/v1/admin/queues");
        QVERIFY(queues && queues->status == 200);
        QJsonObject testkit;
        QStringList names;
        for (const QJsonValue &q : queues->json().value(QLatin1String("results")).toArray()) {
            names.append(q.toObject().value(QLatin1String("queue")).toString());
            if (names.last() == QLatin1String("testkit"))
                testkit = q.toObject();
        }
        for (const char *queue : {"default", "maintenance", "rates", "statements", "testkit", "yields"})
            QVERIFY2(names.contains(QLatin1String(queue)), queue);
        QCOMPARE(testkit.value(QLatin1String("done_last_hour")).toInt(), 5);
        QCOMPARE(testkit.value(QLatin1String("pending")).toInt(), 0);
        QVERIFY(testkit.contains(QLatin1String("oldest_pending_age_seconds")));

        // Paging through done jobs two at a time, newest first, every job exactly once.
        QStringList seen;
        QByteArray path = "/api/v1/admin/jobs?state=done&queue=testkit&limit=2";
        for (int page = 0; page < 5 && !path.isEmpty(); ++page) {
            const auto r = admin("GET", path);
            QVERIFY(r && r->status == 200);
            for (const QJsonValue &j : r->json().value(QLatin1String("results")).toArray()) {
                const QJsonObject o = j.toObject();
                seen.append(o.value(QLatin1String("id")).toString());
                for (const char *key : {"task", "queue", "state", "attempts", "max_attempts", "args", "run_at", "started_at", "finished_at", "last_error", "worker"})
                    QVERIFY2(o.contains(QLatin1String(key)), key);
                QCOMPARE(o.value(QLatin1String("state")).toString(), QStringLiteral("done"));
            }
            const QJsonValue next = r->json().value(QLatin1String("next"));
            path = next.isNull() ? QByteArray() : "/api/v1/admin/jobs?state=done&queue=testkit&limit=2&cursor=" + next.toString().toLatin1();
        }
        std::reverse(seen.begin(), seen.end());
        QCOMPARE(seen, ids);

        // /metrics counts jobs by queue and state.
        QVERIFY(waitUntil([&] {
            const auto m = call("GET", "/metrics");
            return m && m->body.contains("yieldhost_jobs{queue=\"testkit\",state=\"done\"} 5");
        }, 5000));
        QVERIFY2(worker->terminate() == 0, qPrintable(worker->output().right(3000)));
    }

    void badAdminInputGetsAClearError()
    {
        struct Case { QByteArray method, path, body; int status; };
        const QList<Case> cases{
            {"GET", "/api/v1/admin/jobs?state=sleeping", {}, 422},
            {"GET", "/api/v1/admin/jobs?limit=0", {}, 422},
            {"GET", "/api/v1/admin/jobs?limit=501", {}, 422},
            {"GET", "/api/v1/admin/jobs?limit=ten", {}, 422},
            {"GET", "/api/v1/admin/jobs?cursor=%21%21", {}, 422},
            {"POST", "/api/v1/admin/jobs", "{not json", 400},
            {"POST", "/api/v1/admin/jobs", "[]", 400},
            {"POST", "/api/v1/admin/jobs", "{}", 422},
            {"POST", "/api/v1/admin/jobs", R"({"task":"nope.nothing"})", 422},
            {"POST", "/api/v1/admin/jobs", R"({"task":42})", 422},
            {"POST", "/api/v1/admin/jobs", R"({"task":"testkit.record","args":[1]})", 422},
            {"POST", "/api/v1/admin/jobs", R"({"task":"testkit.record","queue":"Bad Queue"})", 422},
            {"POST", "/api/v1/admin/jobs", R"({"task":"testkit.record","run_at":"tomorrow"})", 422},
            {"POST", "/api/v1/admin/jobs", R"({"task":"testkit.record","run_at":"2026-11-24T10:15:00"})", 422},
            {"POST", "/api/v1/admin/jobs", R"({"task":"testkit.record","priority":1.5})", 422},
            {"POST", "/api/v1/admin/jobs", R"({"task":"testkit.record","unique_key":""})", 422},
            {"POST", "/api/v1/admin/jobs", R"({"task":"testkit.record","unique_key":"a\u0000b"})", 422},
            {"POST", "/api/v1/admin/jobs", R"({"task":"testkit.record","args":{"a":"x\u0000y"}})", 422},
            {"POST", "/api/v1/admin/jobs", R"({"task":"testkit.record","run_at":"9999-12-31T23:00:00-05:00"})", 422},
        };
        for (const Case &c : cases) {
            const auto r = call(c.method, c.path, c.body, m_staff);
            QVERIFY2(r, c.path.constData());
            CHECK(verifyProblem(r, c.status));
        }
        QCOMPARE(count(QStringLiteral("true")), 0);
    }

    void allRoleRunsJobsAndTheBeat()
    {
        auto all = startProcess({QStringLiteral("all")});
        QVERIFY(all);
        QVERIFY(all->waitReady(30000));
        const auto r = HttpClient::request(all->host(), all->port(), "POST", "/api/v1/admin/jobs",
                                           compact({{QStringLiteral("task"), QStringLiteral("testkit.record")}}), "application/json",
                                           {{QByteArrayLiteral("Authorization"), QByteArray("Bearer " + m_staff)}});
        QVERIFY2(r && r->status == 202, qPrintable(describe(r)));
        QVERIFY(waitForState(r->json().value(QLatin1String("id")).toString(), QStringLiteral("done"), 10000));
        QVERIFY(waitUntil([&] { return all->output().contains(QLatin1String("now leads")); }, 5000));
        QVERIFY2(all->terminate() == 0, qPrintable(all->output().right(3000)));
    }

    // Last: it takes the shared PostgreSQL server away for a while.
    void workersDoNotRescueEachOtherAfterADatabaseOutage_data()
    {
        QTest::addColumn<bool>("hangs");
        QTest::newRow("the server is down") << false; // connections are refused: heartbeats fail
        QTest::newRow("the server hangs") << true;    // nothing fails: heartbeats only stop coming back
    }

    void workersDoNotRescueEachOtherAfterADatabaseOutage()
    {
        QFETCH(bool, hangs);
        // Much longer than the other tests' timeout, so that "has a worker judged yet?" is no close
        // race: B, thawed a second after A's first heartbeat since the outage, has the rest of
        // it to reconnect and send its own, however slowly a sanitized build does that.
        const int timeoutMs = 8000;
        QProcessEnvironment patient;
        patient.insert(QStringLiteral("YIELDHOST_JOBS__WORKER_TIMEOUT_MS"), QString::number(timeoutMs));
        const QStringList oneSlot{QStringLiteral("worker"), QStringLiteral("--queues"), QStringLiteral("testkit"), QStringLiteral("--concurrency"), QStringLiteral("1")};
        const QJsonObject held{{QStringLiteral("task"), QStringLiteral("testkit.record")},
                               {QStringLiteral("args"), QJsonObject{{QStringLiteral("gate"), QStringLiteral("outage")}}}};
        auto a = startProcess(oneSlot, patient);
        QVERIFY(a);
        const QString jobA = enqueueId(held);
        QVERIFY(!jobA.isEmpty());
        QVERIFY(waitForState(jobA, QStringLiteral("running"), 10000));
        auto b = startProcess(oneSlot, patient);
        QVERIFY(b);
        const QString jobB = enqueueId(held);
        QVERIFY(!jobB.isEmpty());
        QVERIFY(waitForState(jobB, QStringLiteral("running"), 10000));
        const QString workerA = job(jobA).value(QLatin1String("worker")).toString();
        const QString workerB = job(jobB).value(QLatin1String("worker")).toString();
        QVERIFY(workerA.contains(QString::number(pid(*a))));
        QVERIFY(workerB.contains(QString::number(pid(*b))));

        // B is frozen through the outage and a while after it, as a worker slow to come back
        // would be: the first heartbeat A gets through finds B's row stale. Frozen before the
        // server goes, so no heartbeat of B's is left in flight to land when it returns.
        sendSignal(*b, SIGSTOP);
        bool down = true;
        QList<pid_t> frozen;
        if (hangs)
            frozen = freezeServer();
        else
            m_pg.stopServer();
        const auto backUp = qScopeGuard([&] {
            QString error;
            if (down && hangs)
                thawServer(frozen);
            else if (down && !m_pg.restartServer(&error))
                qWarning("cannot restart PostgreSQL: %s", qPrintable(error));
        });
        QVERIFY(!hangs || !frozen.isEmpty());
        // The outage itself outlasts worker_timeout: when the server is back, every heartbeat is stale.
        QTest::qWait(timeoutMs + 1000);
        QString error;
        if (hangs)
            thawServer(frozen);
        else
            QVERIFY2(m_pg.restartServer(&error), qPrintable(error));
        down = false;
        // A worker that really died during the outage, with its running job: the first judgement
        // must rescue it (that is how the test knows a judgement happened) and spare A and B.
        const QString orphan = sql(QStringLiteral(
            "INSERT INTO host_worker (id, host, pid, queues, concurrency, last_heartbeat) VALUES ('gone', 'nowhere', 1, '{elsewhere}', 1, now() - interval '1 hour'); "
            "INSERT INTO host_job (task, queue, state, attempts, worker, started_at) VALUES ('testkit.record', 'elsewhere', 'running', 1, 'gone', now()) RETURNING id"));
        QVERIFY(!orphan.isEmpty());
        QVERIFY(waitUntil([&] {
            return sql(QStringLiteral("SELECT now() - last_heartbeat < interval '1 second' FROM host_worker WHERE id = '%1'").arg(workerA)) == QLatin1String("t");
        }, 30000));
        QTest::qWait(1000); // B's delay: well inside the timeout A waits before it judges anyone
        sendSignal(*b, SIGCONT);

        QVERIFY2(waitUntil([&] { return count(QStringLiteral("id = 'gone'"), QStringLiteral("host_worker")) == 0; }, 60000),
                 qPrintable(a->output().right(2000)));
        QCOMPARE(sql(QStringLiteral("SELECT state || ' ' || last_error FROM host_job WHERE id = %1").arg(orphan)),
                 QStringLiteral("pending worker gone stopped sending heartbeats during this attempt"));
        QVERIFY2(m_api->waitReady(30000), qPrintable(m_api->output().right(2000)));
        for (const auto &[id, worker] : {std::pair{jobA, workerA}, std::pair{jobB, workerB}}) {
            const QJsonObject j = job(id);
            QCOMPARE(j.value(QLatin1String("state")).toString(), QStringLiteral("running"));
            QCOMPARE(j.value(QLatin1String("attempts")).toInt(), 1);
            QCOMPARE(j.value(QLatin1String("worker")).toString(), worker);
        }
        QCOMPARE(count(QStringLiteral("id IN ('%1', '%2')").arg(workerA, workerB), QStringLiteral("host_worker")), 2);

        // Both runs end in the workers that held them all along, each its only attempt.
        openGate(QStringLiteral("outage"));
        QVERIFY(waitForState(jobA, QStringLiteral("done"), 20000));
        QVERIFY(waitForState(jobB, QStringLiteral("done"), 20000));
        QCOMPARE(runs(jobA), QStringLiteral("1 %1").arg(pid(*a)));
        QCOMPARE(runs(jobB), QStringLiteral("1 %1").arg(pid(*b)));
        QCOMPARE(count(QStringLiteral("id IN (%1, %2) AND attempts = 1").arg(jobA, jobB)), 2);
        QVERIFY2(a->terminate() == 0, qPrintable(a->output().right(3000)));
        QVERIFY2(b->terminate() == 0, qPrintable(b->output().right(3000)));
    }
};

QTEST_GUILESS_MAIN(TestJobs)
#include "tst_jobs.moc"
