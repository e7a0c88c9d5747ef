#include "TestkitPlugin.h"

#include "ClockTasks.h"
#include "MoneyRoutes.h"
#include "OutboxProbe.h"
#include "ServiceProbes.h"

#include <QCoro/QCoroTimer>

#include <QtCore/QCoreApplication>
#include <QtCore/QJsonDocument>
#include <QtCore/QThread>
#include <QtCore/QTimer>

#include <stdexcept>

using namespace yieldhost;

namespace {

HttpResponse invalidId()
{
    return Problem::validation({{QStringLiteral("id"), {QStringLiteral("must be an integer")}}}).toResponse();
}

QCoro::Task<> sleepFor(int ms)
{
    QTimer timer;
    timer.setSingleShot(true);
    timer.start(ms);
    co_await timer;
}

// Holds a job's run until the test opens its gate: a testkit_note "open <gate>" opens it for every
// attempt, "open <gate>:<attempt>" for that attempt only. A database error is waited out, not
// returned, so a held run outlives a database outage and only the test decides when it ends.
QCoro::Task<> waitForGate(Database &db, QString gate, int attempt)
{
    const QVariantList params{QStringLiteral("open %1").arg(gate), QStringLiteral("open %1:%2").arg(gate).arg(attempt)};
    for (;;) {
        const SqlResult r = co_await db.query(QStringLiteral("SELECT 1 FROM testkit_note WHERE body IN (?, ?)"), params);
        if (!r.error() && !r.isEmpty())
            co_return;
        co_await sleepFor(50);
    }
}

} // namespace

Status TestkitPlugin::initialize(PluginContext &context)
{
    m_context = &context;
    context.addRoute(HttpMethod::Post, QStringLiteral("/test/echo"), [](HttpRequest req) -> QCoro::Task<HttpResponse> {
        co_return HttpResponse::json(200, QJsonObject{{QStringLiteral("json"), req.json()},
                                                      {QStringLiteral("bytes"), req.body().size()}});
    }).auth(AuthLevel::Public).summary(QStringLiteral("Echoes a JSON body"));

    context.addRoute(HttpMethod::Post, QStringLiteral("/test/upload"), [](HttpRequest req) -> QCoro::Task<HttpResponse> {
        co_return HttpResponse::json(200, QJsonObject{{QStringLiteral("bytes"), req.body().size()}});
    }).auth(AuthLevel::Public).accepts({"application/octet-stream"});

    // The client address the host resolved (behind trusted proxies, the one they name).
    context.addRoute(HttpMethod::Get, QStringLiteral("/test/whoami"), [](HttpRequest req) -> QCoro::Task<HttpResponse> {
        co_return HttpResponse::json(200, QJsonObject{{QStringLiteral("address"), req.peerAddress().toString()}});
    }).auth(AuthLevel::Public);

    // Answers after ?ms= milliseconds, naming the request so tests can check ordering.
    context.addRoute(HttpMethod::Get, QStringLiteral("/test/slow/{tag}"), [](HttpRequest req) -> QCoro::Task<HttpResponse> {
        const int ms = std::clamp(req.queryItem(QStringLiteral("ms")).toInt(), 0, 30000);
        co_await sleepFor(ms);
        co_return HttpResponse::json(200, QJsonObject{{QStringLiteral("tag"), req.pathParam(QStringLiteral("tag"))}});
    }).auth(AuthLevel::Public);

    // Which thread does a handler resume on after awaiting a timer? It must be the one it began on.
    context.addRoute(HttpMethod::Get, QStringLiteral("/test/thread"), [](HttpRequest) -> QCoro::Task<HttpResponse> {
        QThread *before = QThread::currentThread();
        co_await sleepFor(5);
        QThread *after = QThread::currentThread();
        co_return HttpResponse::json(200, QJsonObject{{QStringLiteral("same_thread"), before == after},
                                                      {QStringLiteral("thread"), after->objectName()}});
    }).auth(AuthLevel::Public);

    context.addRoute(HttpMethod::Get, QStringLiteral("/test/throw"), [](HttpRequest) -> QCoro::Task<HttpResponse> {
        throw std::runtime_error("deliberate failure");
        co_return HttpResponse(200);
    }).auth(AuthLevel::Public);

    // A handler that tries to smuggle a header line through a value (the host must drop it).
    context.addRoute(HttpMethod::Get, QStringLiteral("/test/bad-header"), [](HttpRequest) -> QCoro::Task<HttpResponse> {
        HttpResponse r = HttpResponse::json(200, QJsonObject{{QStringLiteral("ok"), true}});
        r.addHeader("X-Injected", "a\r\nSet-Cookie: stolen=1");
        r.addHeader("X-Fine", "yes");
        co_return r;
    }).auth(AuthLevel::Public);

    context.addRoute(HttpMethod::Get, QStringLiteral("/test/private"), [](HttpRequest) -> QCoro::Task<HttpResponse> {
        co_return HttpResponse::json(200, QJsonObject{{QStringLiteral("secret"), true}});
    }).auth(AuthLevel::User);

    // One small indexed query per request (the database benchmark route).
    Database &db = context.database();
    const QLoggingCategory &log = context.log();
    context.addRoute(HttpMethod::Get, QStringLiteral("/test/db/{id}"), [&db, &log](HttpRequest req) -> QCoro::Task<HttpResponse> {
        bool ok = false;
        const int id = req.pathParam(QStringLiteral("id")).toInt(&ok);
        if (!ok)
            co_return invalidId();
        // Parameters live in a variable: GCC 12 rejects a braced initializer list inside a
        // co_await expression ("array used as initializer").
        const QVariantList params{id};
        const SqlResult r = co_await db.query(QStringLiteral("SELECT id, name, amount FROM testkit_item WHERE id = ?"), params);
        if (r.error())
            co_return problemFor(r.error()).toResponse();
        if (r.isEmpty())
            co_return Problem::notFound(QStringLiteral("No item %1.").arg(id)).toResponse();
        QString why;
        const std::optional<Decimal> amount = r.decimal(0, QStringLiteral("amount"), &why);
        if (!amount) {
            qCWarning(log).noquote() << why;
            co_return Problem::make(500).detail(QStringLiteral("The amount cannot be read.")).toResponse();
        }
        co_return HttpResponse::json(200, QJsonObject{{QStringLiteral("id"), r.integer(0, QStringLiteral("id"))},
                                                      {QStringLiteral("name"), r.string(0, QStringLiteral("name"))},
                                                      {QStringLiteral("amount"), amount->toString()}});
    }).auth(AuthLevel::Public);

    // Tasks for the job queue tests. testkit.record writes one row per run (so a test can count
    // runs per job), optionally held until its gate opens (see waitForGate), sleeping first (only
    // on attempt 1 with sleep_first_ms) and failing while attempt <= fail_times.
    TaskOptions recordOptions;
    recordOptions.queue = QStringLiteral("testkit");
    if (Status s = context.jobs().registerTask(QStringLiteral("testkit.record"), recordOptions, [&db](JobContext &job) -> QCoro::Task<Status> {
            const QJsonObject args = job.args();
            if (const QString gate = args.value(QLatin1String("gate")).toString(); !gate.isEmpty())
                co_await waitForGate(db, gate, job.attempt());
            const int sleepMs = args.value(QLatin1String("sleep_ms")).toInt() + (job.attempt() == 1 ? args.value(QLatin1String("sleep_first_ms")).toInt() : 0);
            if (sleepMs > 0)
                co_await sleepFor(sleepMs);
            const QVariantList params{job.jobId().toLongLong(), job.task(), job.attempt(), QCoreApplication::applicationPid()};
            const SqlResult r = co_await db.query(QStringLiteral("INSERT INTO testkit_job_run (job_id, task, attempt, pid) VALUES (?, ?, ?, ?)"), params);
            if (r.error())
                co_return Status::failure(r.error().message);
            job.progress(QStringLiteral("recorded attempt %1").arg(job.attempt()));
            if (job.attempt() <= args.value(QLatin1String("fail_times")).toInt())
                co_return Status::failure(QStringLiteral("deliberate failure on attempt %1").arg(job.attempt()));
            co_return Status{};
        }); !s)
        return s;
    // testkit.occupy notes "occupy <group> +1" when it starts and "occupy <group> -1" when it ends,
    // held in between until its gate opens. The notes' ids follow the runs' causal order (a slot
    // is freed only after its run's last note is written), so summing them in id order gives how
    // many runs of the group were going at once, across processes and without trusting clocks.
    if (Status s = context.jobs().registerTask(QStringLiteral("testkit.occupy"), recordOptions, [&db](JobContext &job) -> QCoro::Task<Status> {
            const QJsonObject args = job.args();
            const QString group = args.value(QLatin1String("group")).toString();
            const QVariantList started{QStringLiteral("occupy %1 +1").arg(group)};
            const SqlResult in = co_await db.query(QStringLiteral("INSERT INTO testkit_note (body) VALUES (?)"), started);
            if (in.error())
                co_return Status::failure(in.error().message);
            if (const QString gate = args.value(QLatin1String("gate")).toString(); !gate.isEmpty())
                co_await waitForGate(db, gate, job.attempt());
            const QVariantList ended{QStringLiteral("occupy %1 -1").arg(group)};
            const SqlResult out = co_await db.query(QStringLiteral("INSERT INTO testkit_note (body) VALUES (?)"), ended);
            if (out.error())
                co_return Status::failure(out.error().message);
            co_return Status{};
        }); !s)
        return s;
    TaskOptions noopOptions;
    noopOptions.queue = QStringLiteral("bench");
    if (Status s = context.jobs().registerTask(QStringLiteral("testkit.noop"), noopOptions, [](JobContext &) -> QCoro::Task<Status> {
            co_return Status{};
        }); !s)
        return s;
    TaskOptions slowOptions;
    slowOptions.queue = QStringLiteral("testkit");
    slowOptions.timeoutSeconds = 1;
    slowOptions.maxAttempts = 1;
    if (Status s = context.jobs().registerTask(QStringLiteral("testkit.too_slow"), slowOptions, [](JobContext &) -> QCoro::Task<Status> {
            co_await sleepFor(3000);
            co_return Status{};
        }); !s)
        return s;
    if (Status s = context.jobs().registerTask(QStringLiteral("testkit.tick"), recordOptions, [&db](JobContext &job) -> QCoro::Task<Status> {
            const QVariantList params{job.jobId().toLongLong(), job.task(), job.attempt(), QCoreApplication::applicationPid()};
            const SqlResult r = co_await db.query(QStringLiteral("INSERT INTO testkit_job_run (job_id, task, attempt, pid) VALUES (?, ?, ?, ?)"), params);
            if (r.error())
                co_return Status::failure(r.error().message);
            co_return Status{};
        }); !s)
        return s;
    if (Status s = context.jobs().addSchedule(QStringLiteral("testkit.tick"), QStringLiteral("0 0 1 1 *")); !s)
        return s;
    if (Status s = registerClockTasks(context); !s)
        return s;
    registerMoneyRoutes(context);
    registerServiceProbes(context);
    if (Status s = registerOutboxProbe(context, this); !s)
        return s;
    context.jobs().addCleanup(QStringLiteral("forget job runs older than a day"), [&db](JobContext &job) -> QCoro::Task<Status> {
        const SqlResult r = co_await db.query(QStringLiteral("DELETE FROM testkit_job_run WHERE at < now() - interval '1 day'"));
        if (r.error())
            co_return Status::failure(r.error().message);
        job.progress(QStringLiteral("deleted %1 job runs").arg(r.rowsAffected()));
        co_return Status{};
    });

    // Enqueues testkit.record inside a transaction that commits only when {"commit": true}: the
    // job must exist exactly when the business change does.
    Jobs &jobs = context.jobs();
    context.addRoute(HttpMethod::Post, QStringLiteral("/test/jobs/in-transaction"), [&db, &jobs](HttpRequest req) -> QCoro::Task<HttpResponse> {
        const bool commit = req.json().toObject().value(QLatin1String("commit")).toBool();
        const QString body = QStringLiteral("job enqueued with commit=%1").arg(commit);
        QString jobId;
        auto work = [&](SqlTransaction &tx) -> Status {
            const SqlResult note = tx.exec(QStringLiteral("INSERT INTO testkit_note (body) VALUES (?)"), {body});
            if (note.error())
                return Status::failure(note.error().message);
            const EnqueueResult job = jobs.enqueueIn(tx, QStringLiteral("testkit.record"), QJsonObject{{QStringLiteral("note"), body}});
            if (!job)
                return Status::failure(job.failure.isEmpty() ? job.error.message : job.failure);
            jobId = job.id;
            return commit ? Status{} : Status::failure(QStringLiteral("rolled back on purpose"));
        };
        const TransactionOutcome outcome = co_await db.transaction(work);
        co_return HttpResponse::json(200, QJsonObject{{QStringLiteral("committed"), outcome.committed}, {QStringLiteral("job_id"), jobId}});
    }).auth(AuthLevel::Public);

    context.addWebSocket(QStringLiteral("/ws/test/echo"), [](WebSocketSession *session) {
        QObject::connect(session, &WebSocketSession::textReceived, session, [session](const QString &message) {
            session->sendText(message);
        });
    });
    // Sends ?n= messages of ?size= bytes at once: a client that does not read trips the outgoing bound.
    context.addWebSocket(QStringLiteral("/ws/test/flood"), [](WebSocketSession *session) {
        QObject::connect(session, &WebSocketSession::textReceived, session, [session](const QString &message) {
            const QJsonObject cmd = QJsonDocument::fromJson(message.toUtf8()).object();
            const QString chunk(cmd.value(QLatin1String("size")).toInt(1024), u'x');
            for (int i = 0; i < cmd.value(QLatin1String("n")).toInt(1); ++i)
                session->sendText(chunk);
        });
    });
    return {};
}

void TestkitPlugin::start()
{
    m_rates = m_context->service<ExchangeRates>();
    if (m_rates)
        m_rates->addProvider(&m_rateSource);
}

void TestkitPlugin::stop()
{
    if (m_rates)
        m_rates->removeProvider(&m_rateSource);
    m_rates = nullptr;
}
