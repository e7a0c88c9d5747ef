#include "jobs/JobBeat.h"

#include "core/Logging.h"
#include "db/DbPool.h"
#include "db/PgSession.h"
#include "jobs/JobWorker.h"

#include <QtCore/QHash>
#include <QtCore/QJsonDocument>
#include <QtCore/QPointer>

#include <QCoro/QCoroTimer>

namespace yieldhost {

JobBeat::JobBeat(int tickMs, DbPool &db, JobRegistry &registry, QObject *parent)
    : QObject(parent)
    , m_db(db)
    , m_registry(registry)
    , m_store(db, registry)
    , m_session(std::make_unique<PgSession>(db.primaryUrl(), QStringLiteral("yieldhost-beat")))
{
    m_timer.setInterval(tickMs);
    connect(&m_timer, &QTimer::timeout, this, [this] { tick(); });
}

JobBeat::~JobBeat() = default;

void JobBeat::start()
{
    qCInfo(lcJobs) << "beat started with" << m_registry.schedules().size() << "schedules";
    m_timer.start();
    tick();
}

QCoro::Task<> JobBeat::stop()
{
    m_stopping = true;
    m_timer.stop();
    QPointer<JobBeat> self(this);
    while (self && m_ticking)
        co_await QCoro::sleepFor(std::chrono::milliseconds(10));
}

QCoro::Task<> JobBeat::tick()
{
    if (m_ticking || m_stopping)
        co_return;
    m_ticking = true;
    QPointer<JobBeat> self(this);
    if (!m_leader) {
        const QVariantList params{LeaderLockKey};
        const SqlResult r = co_await m_session->exec(QStringLiteral("SELECT pg_try_advisory_lock(?::bigint) AS locked"), params);
        if (!self)
            co_return;
        if (!r.error() && r.value(0, QStringLiteral("locked")).toBool()) {
            m_leader = true;
            m_synced = false;
            qCInfo(lcJobs) << "beat: this process now leads the schedule";
        }
    } else {
        // The lock lives exactly as long as the session; a lost session means a lost lock.
        const SqlResult r = co_await m_session->exec(QStringLiteral("SELECT 1"));
        if (!self)
            co_return;
        if (r.error()) {
            m_leader = false;
            qCWarning(lcJobs).noquote() << "beat: lost the leader session:" << r.error().message;
        }
    }
    if (m_leader && !m_synced) {
        const bool synced = co_await syncSchedules();
        if (!self)
            co_return;
        m_synced = synced;
    }
    if (m_leader && m_synced)
        co_await fireDue();
    if (self)
        m_ticking = false;
}

QCoro::Task<bool> JobBeat::syncSchedules()
{
    const QList<ScheduleSpec> schedules = m_registry.schedules();
    auto work = [&](SqlTransaction &tx) -> Status {
        const SqlResult now = tx.exec(QStringLiteral("SELECT host_now() AS now"));
        if (now.error())
            return Status::failure(now.error().message);
        const QDateTime current = now.value(0, QStringLiteral("now")).toDateTime();
        QStringList tasks;
        for (const ScheduleSpec &s : schedules) {
            tasks.append(s.task);
            const SqlResult r = tx.exec(QStringLiteral(
                "INSERT INTO host_schedule (task, cron, args, next_run_at) VALUES (?, ?, ?::jsonb, ?) "
                "ON CONFLICT (task) DO UPDATE SET cron = EXCLUDED.cron, args = EXCLUDED.args, "
                "  next_run_at = CASE WHEN host_schedule.cron = EXCLUDED.cron THEN host_schedule.next_run_at ELSE EXCLUDED.next_run_at END"),
                {s.task, s.cron.expression(), QString::fromUtf8(QJsonDocument(s.args).toJson(QJsonDocument::Compact)), s.cron.next(current)});
            if (r.error())
                return Status::failure(r.error().message);
        }
        const SqlResult removed = tx.exec(QStringLiteral("DELETE FROM host_schedule WHERE NOT (task = ANY(?::text[]))"),
                                          {QString(u'{' + tasks.join(u',') + u'}')});
        if (removed.error())
            return Status::failure(removed.error().message);
        return {};
    };
    const TransactionOutcome outcome = co_await m_db.transaction(work);
    if (!outcome.committed)
        qCWarning(lcJobs).noquote() << "beat: cannot record the schedules:" << (outcome.error ? outcome.error.message : outcome.failure);
    co_return outcome.committed;
}

QCoro::Task<> JobBeat::fireDue()
{
    QStringList fired;
    QHash<QString, ScheduleSpec> schedules;
    for (const ScheduleSpec &s : m_registry.schedules())
        schedules.insert(s.task, s);
    auto work = [&](SqlTransaction &tx) -> Status {
        fired.clear();
        const SqlResult due = tx.exec(QStringLiteral(
            "SELECT task, args::text AS args, host_now() AS now FROM host_schedule WHERE next_run_at <= host_now() "
            "ORDER BY next_run_at FOR UPDATE SKIP LOCKED"));
        if (due.error())
            return Status::failure(due.error().message);
        for (qsizetype i = 0; i < due.size(); ++i) {
            const QString task = due.string(i, QStringLiteral("task"));
            const QDateTime now = due.value(i, QStringLiteral("now")).toDateTime();
            const auto spec = schedules.constFind(task);
            if (spec == schedules.cend())
                continue; // a schedule no plugin of this process declares
            const QJsonObject args = QJsonDocument::fromJson(due.string(i, QStringLiteral("args")).toUtf8()).object();
            const EnqueueResult job = m_store.enqueueIn(tx, task, args, {});
            if (!job)
                return Status::failure(job.failure.isEmpty() ? job.error.message : job.failure);
            const SqlResult advanced = tx.exec(QStringLiteral(
                "UPDATE host_schedule SET last_run_at = host_now(), next_run_at = ?, last_job_id = ? WHERE task = ?"),
                {spec->cron.next(now), job.id.toLongLong(), task});
            if (advanced.error())
                return Status::failure(advanced.error().message);
            fired.append(task + QStringLiteral(" → job ") + job.id);
        }
        return {};
    };
    const TransactionOutcome outcome = co_await m_db.transaction(work);
    if (!outcome.committed)
        qCWarning(lcJobs).noquote() << "beat: cannot fire due schedules:" << (outcome.error ? outcome.error.message : outcome.failure);
    else
        for (const QString &line : fired)
            qCInfo(lcJobs).noquote() << "beat: fired" << line;
}

} // namespace yieldhost
