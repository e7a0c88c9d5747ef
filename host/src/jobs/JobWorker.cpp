#include "jobs/JobWorker.h"

#include "core/Logging.h"
#include "db/DbPool.h"
#include "db/PgSession.h"
#include "jobs/JobRunner.h"
#include "jobs/RunningJob.h"

#include <QtCore/QPointer>
#include <QtCore/QRandomGenerator>

#include <QCoro/QCoroTimer>

#include <cmath>



namespace yieldhost {

namespace {

QCoro::Task<> sleepMs(int ms)
{
    return QCoro::sleepFor(std::chrono::milliseconds(ms));
}

} // namespace

std::optional<JobWorker::Settings> JobWorker::Settings::fromConfig(const Config &config, const JobRegistry &registry,
                                                                   const QStringList &onlyQueues, int concurrency, QString *error)
{
    Settings s;
    const QJsonObject configured = config.value(QStringLiteral("jobs.queues")).toObject();
    const int fallback = int(std::max<qint64>(1, config.integer(QStringLiteral("jobs.default_concurrency"))));
    QStringList names = onlyQueues;
    if (names.isEmpty()) {
        names = configured.keys();
        for (const QString &q : registry.queues())
            if (!names.contains(q))
                names.append(q);
    }
    for (const QString &name : names) {
        if (!JobRegistry::isValidQueueName(name)) {
            *error = QStringLiteral("queue \"%1\" must be 1-40 lower-case letters, digits or _").arg(name);
            return std::nullopt;
        }
        // A queue the defaults do not name arrives from the environment as text
        // (YIELDHOST_JOBS__QUEUES__STATEMENTS_EU=3): read it, rather than silently falling back.
        const QJsonValue configuredLimit = configured.value(name);
        qint64 limit = fallback;
        if (configuredLimit.isString()) {
            bool ok = false;
            limit = configuredLimit.toString().trimmed().toLongLong(&ok);
            if (!ok) {
                *error = QStringLiteral("jobs.queues.%1 must be an integer, not \"%2\"").arg(name, configuredLimit.toString());
                return std::nullopt;
            }
        } else if (!configuredLimit.isUndefined()) {
            limit = configuredLimit.toInteger(fallback);
        }
        if (concurrency > 0)
            limit = concurrency;
        s.queues.insert(name, int(std::clamp<qint64>(limit, 1, 1000)));
    }
    auto ms = [&](const char *key, qint64 minimum) { return std::max(minimum, config.integer(QLatin1String("jobs.") + QLatin1String(key))); };
    s.pollIntervalMs = int(ms("poll_interval_ms", 10));
    s.heartbeatIntervalMs = int(ms("heartbeat_interval_ms", 50));
    s.workerTimeoutMs = int(ms("worker_timeout_ms", 200));
    s.claimBatch = int(ms("claim_batch", 1));
    s.retryBaseMs = ms("retry_base_ms", 0);
    s.retryMaxMs = ms("retry_max_ms", 0);
    s.shutdownTimeoutMs = int(ms("shutdown_timeout_ms", 0));
    if (s.workerTimeoutMs <= s.heartbeatIntervalMs) {
        *error = QStringLiteral("jobs.worker_timeout_ms must be longer than jobs.heartbeat_interval_ms");
        return std::nullopt;
    }
    return s;
}

qint64 JobWorker::backoffMs(int attempt, qint64 baseMs, qint64 maxMs)
{
    const double exponential = double(baseMs) * std::pow(2.0, std::clamp(attempt - 1, 0, 40));
    const double capped = std::min(exponential, double(maxMs));
    const double jitter = 0.8 + 0.4 * QRandomGenerator::global()->generateDouble();
    return qint64(capped * jitter);
}

JobWorker::JobWorker(Settings settings, DbPool &db, JobRegistry &registry, QObject *parent)
    : QObject(parent)
    , m_settings(std::move(settings))
    , m_db(db)
    , m_registry(registry)
    , m_store(db, registry)
{
    m_info = JobRunner::identity();
    m_info.queues = m_settings.queues.keys();
    for (auto it = m_settings.queues.cbegin(); it != m_settings.queues.cend(); ++it) {
        m_queues[it.key()].limit = it.value();
        m_info.concurrency += it.value();
    }
    m_poll.setInterval(m_settings.pollIntervalMs);
    connect(&m_poll, &QTimer::timeout, this, [this] { wake(QStringLiteral("*")); });
    m_heartbeat.setInterval(m_settings.heartbeatIntervalMs);
    connect(&m_heartbeat, &QTimer::timeout, this, [this] { keepAlive(); });
}

JobWorker::~JobWorker() = default;

int JobWorker::runningJobs() const
{
    int n = 0;
    for (const QueueState &q : m_queues)
        n += q.running;
    return n;
}

QCoro::Task<Status> JobWorker::start()
{
    QPointer<JobWorker> self(this);
    m_heartbeatSession = std::make_unique<PgSession>(m_db.primaryUrl(), QStringLiteral("yieldhost-heartbeat"));
    const DbError registered = co_await m_store.heartbeat(*m_heartbeatSession, m_info);
    if (!self)
        co_return Status::failure(QStringLiteral("stopped"));
    if (registered)
        co_return Status::failure(QStringLiteral("cannot register the worker: %1").arg(registered.message));
    if (m_stopping)
        co_return Status::failure(QStringLiteral("stopped while starting"));
    m_healthySince.start();
    m_lastHeartbeat.start();
    m_listener = std::make_unique<PgSession>(m_db.primaryUrl(), QStringLiteral("yieldhost-worker"));
    connect(m_listener.get(), &PgSession::notified, this, [this](const QString &, const QString &payload) { wake(payload); });
    connect(m_listener.get(), &PgSession::disconnected, this, [this] { listen(); });
    listen();
    m_poll.start();
    m_heartbeat.start();
    qCInfo(lcJobs).noquote() << "worker" << m_info.id << "serving" << QStringList(m_info.queues).join(QStringLiteral(", "))
                             << QStringLiteral("(%1 slots)").arg(m_info.concurrency);
    wake(QStringLiteral("*"));
    co_return Status{};
}

QCoro::Task<> JobWorker::listen()
{
    if (m_listening)
        co_return;
    m_listening = true;
    QPointer<JobWorker> self(this);
    while (self && !m_stopping) {
        const QStringList channels{QString::fromLatin1(JobStore::NotifyChannel)};
        const bool ok = co_await m_listener->listen(channels);
        if (!self)
            co_return;
        if (ok) {
            wake(QStringLiteral("*")); // whatever was enqueued while we were not listening
            break;
        }
        co_await sleepMs(1000);
    }
    if (self)
        m_listening = false;
}

void JobWorker::wake(const QString &queue)
{
    if (m_stopping)
        return;
    if (queue == QLatin1String("*")) {
        for (auto it = m_queues.cbegin(); it != m_queues.cend(); ++it)
            claimLoop(it.key());
    } else if (m_queues.contains(queue)) {
        claimLoop(queue);
    }
}

bool JobWorker::isClaiming() const
{
    for (const QueueState &q : m_queues)
        if (q.claiming)
            return true;
    return false;
}

QCoro::Task<> JobWorker::claimLoop(QString queue)
{
    QueueState &state = m_queues[queue]; // m_queues never changes shape after construction
    if (state.claiming) {
        state.again = true; // the running loop claims once more when its round trip returns
        co_return;
    }
    state.claiming = true;
    QPointer<JobWorker> self(this);
    do {
        state.again = false;
        const int free = state.limit - state.running;
        if (free <= 0 || m_stopping)
            break;
        const int wanted = std::min(free, m_settings.claimBatch);
        DbError error;
        const QList<ClaimedJob> jobs = co_await m_store.claim(queue, wanted, m_info.id, &error);
        if (!self)
            co_return;
        if (error) {
            if (!m_lastClaimError.isValid() || m_lastClaimError.elapsed() > 10000) {
                qCWarning(lcJobs).noquote() << "cannot claim jobs of queue" << queue << "—" << error.message;
                m_lastClaimError.start();
            }
            break; // the poll timer tries again
        }
        state.running += int(jobs.size());
        if (!jobs.isEmpty())
            Q_EMIT sharedClockSeen(jobs.constLast().clockOffsetMs);
        if (jobs.size() == wanted)
            state.again = true; // there may be more waiting
        // Claimed jobs run even when a stop began meanwhile: they are ours now, and stop()
        // waits for them.
        for (const ClaimedJob &job : jobs)
            run(job);
    } while (state.again && !m_stopping);
    state.claiming = false;
}

QCoro::Task<> JobWorker::run(ClaimedJob job)
{
    QPointer<JobWorker> self(this);
    auto runState = std::make_shared<RunState>();
    const std::optional<TaskSpec> spec = m_registry.task(job.task);
    if (!spec) {
        finish(job, Status::failure(QStringLiteral("task %1 is not registered in worker %2").arg(job.task, m_info.id)), *runState);
        co_return;
    }
    ++m_unfinishedRuns;
    auto sink = [](const ClaimedJob &j, const QString &message) { qCInfo(lcJobs).noquote() << QStringLiteral("job %1 (%2): %3").arg(j.id).arg(j.task, message); };
    RunningJob context(job, sink);
    std::unique_ptr<QTimer> deadline;
    auto armDeadline = [&] {
        deadline = std::make_unique<QTimer>();
        deadline->setSingleShot(true);
        connect(deadline.get(), &QTimer::timeout, this, [this, job, runState] {
            qCWarning(lcJobs).noquote() << QStringLiteral("job %1 (%2) timed out after %3 s; its result will be ignored").arg(job.id).arg(job.task).arg(job.timeoutSeconds);
            finish(job, Status::failure(QStringLiteral("timed out after %1 s").arg(job.timeoutSeconds)), *runState);
        });
        deadline->start(std::chrono::seconds(job.timeoutSeconds));
    };
    const Status status = co_await JobRunner::call(spec->handler, context, armDeadline);
    if (!self)
        co_return;
    --m_unfinishedRuns;
    finish(job, status, *runState);
}

void JobWorker::finish(const ClaimedJob &job, const Status &status, RunState &run)
{
    if (run.finished)
        return; // already finished by its deadline
    run.finished = true;
    Outcome outcome;
    outcome.id = job.id;
    outcome.attempts = job.attempts;
    outcome.ok = status.ok();
    if (!outcome.ok) {
        outcome.error = status.error();
        outcome.retryDelayMs = backoffMs(job.attempts, m_settings.retryBaseMs, m_settings.retryMaxMs);
        if (job.attempts >= job.maxAttempts)
            qCWarning(lcJobs).noquote() << QStringLiteral("job %1 (%2) failed for good after %3 attempts: %4").arg(job.id).arg(job.task).arg(job.attempts).arg(status.error());
        else
            qCInfo(lcJobs).noquote() << QStringLiteral("job %1 (%2) attempt %3 failed: %4 — retrying in %5 ms").arg(job.id).arg(job.task).arg(job.attempts).arg(status.error()).arg(outcome.retryDelayMs);
    }
    m_outcomes.append(outcome);
    if (!m_flushing)
        flushOutcomes();
    --m_queues[job.queue].running;
    wake(job.queue);
}

QCoro::Task<> JobWorker::flushOutcomes()
{
    QPointer<JobWorker> self(this);
    m_flushing = true;
    while (self && !m_outcomes.isEmpty()) {
        QList<Outcome> batch;
        batch.swap(m_outcomes);
        QList<QPair<qint64, int>> done;
        QList<Outcome> unsaved;
        DbError error;
        for (const Outcome &o : std::as_const(batch)) {
            if (o.ok)
                done.append({o.id, o.attempts});
        }
        if (!done.isEmpty()) {
            error = co_await m_store.complete(done, m_info.id);
            if (!self)
                co_return;
            if (error)
                for (const Outcome &o : std::as_const(batch))
                    if (o.ok)
                        unsaved.append(o);
        }
        for (const Outcome &o : std::as_const(batch)) {
            if (o.ok)
                continue;
            const DbError failed = co_await m_store.fail(o.id, o.attempts, m_info.id, o.error, o.retryDelayMs);
            if (!self)
                co_return;
            if (failed) {
                error = failed;
                unsaved.append(o);
            }
        }
        if (!unsaved.isEmpty()) {
            // Keep them: a result that is never written would leave its job running until this
            // worker stops, and then run it again.
            qCWarning(lcJobs).noquote() << "cannot record" << unsaved.size() << "job results, retrying in 1 s:" << error.message;
            m_outcomes = unsaved + m_outcomes;
            co_await sleepMs(1000);
        }
    }
    if (self)
        m_flushing = false;
}

QCoro::Task<> JobWorker::keepAlive()
{
    QPointer<JobWorker> self(this);
    ++m_heartbeatsInFlight;
    const DbError error = co_await m_store.heartbeat(*m_heartbeatSession, m_info);
    if (!self)
        co_return;
    --m_heartbeatsInFlight;
    if (error) {
        qCWarning(lcJobs).noquote() << "heartbeat failed:" << error.message;
        m_healthySince.invalidate();
        co_return;
    }
    // A heartbeat that comes back after a silence ends an outage as surely as a failed one does:
    // the database hung rather than refused, or this process was frozen, and no heartbeat failed.
    // One missed beat is enough: a rescue that waits costs a timeout, a wrong one runs a job twice.
    const qint64 silence = std::min<qint64>(2 * qint64(m_settings.heartbeatIntervalMs), m_settings.workerTimeoutMs);
    if (!m_healthySince.isValid() || !m_lastHeartbeat.isValid() || m_lastHeartbeat.elapsed() > silence)
        m_healthySince.start();
    m_lastHeartbeat.start();
    // Only a worker whose own heartbeats have gone through for a full timeout judges others:
    // after an outage every worker's heartbeat is stale, and none of them is dead.
    if (m_stopping || m_healthySince.elapsed() < m_settings.workerTimeoutMs)
        co_return;
    DbError rescueError;
    const qint64 rescued = co_await m_store.rescue(m_settings.workerTimeoutMs, &rescueError);
    if (self && rescued > 0)
        qCWarning(lcJobs).noquote() << "rescued" << rescued << "jobs of workers that stopped sending heartbeats";
}

QCoro::Task<> JobWorker::stop()
{
    QPointer<JobWorker> self(this);
    m_stopping = true;
    m_poll.stop();
    // Heartbeats go on while we drain, or others would rescue the jobs we are finishing.
    QElapsedTimer waited;
    waited.start();
    while (self && (isClaiming() || runningJobs() > 0 || m_unfinishedRuns > 0) && waited.elapsed() < m_settings.shutdownTimeoutMs)
        co_await sleepMs(20);
    while (self && (m_flushing || !m_outcomes.isEmpty()) && waited.elapsed() < m_settings.shutdownTimeoutMs + 5000) {
        if (!m_flushing)
            flushOutcomes();
        co_await sleepMs(10);
    }
    if (!self)
        co_return;
    m_heartbeat.stop();
    // A heartbeat still on its way is an upsert: landing after the DELETE below it would register
    // this worker again, a row that outlives the process (until a rescue reaps it).
    while (self && m_heartbeatsInFlight > 0 && waited.elapsed() < m_settings.shutdownTimeoutMs + 10000)
        co_await sleepMs(5);
    if (!self)
        co_return;
    if (runningJobs() > 0)
        qCWarning(lcJobs) << runningJobs() << "jobs still running at shutdown go back to their queues";
    const DbError error = co_await m_store.unregister(m_info.id);
    if (self && error)
        qCWarning(lcJobs).noquote() << "cannot unregister the worker:" << error.message;
    while (self && m_listening)
        co_await sleepMs(10);
    if (self) {
        m_listener.reset();
        m_heartbeatSession.reset();
    }
}

} // namespace yieldhost
