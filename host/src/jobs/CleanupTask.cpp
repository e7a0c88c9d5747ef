#include "jobs/CleanupTask.h"

#include "jobs/JobStore.h"

namespace yieldhost {

CleanupTask::CleanupTask(JobRegistry &jobs, Database *database, int retentionDays, int idempotencyRetentionHours, int outboxRetentionHours)
    : m_jobs(jobs)
    , m_db(database)
    , m_retentionDays(std::max(1, retentionDays))
    , m_idempotencyRetentionHours(std::max(24, idempotencyRetentionHours)) // API.md: kept at least 24 h
    , m_outboxRetentionHours(std::max(1, outboxRetentionHours))
{
}

Status CleanupTask::registerTask()
{
    TaskOptions options;
    options.queue = QStringLiteral("maintenance");
    options.maxAttempts = 3;
    options.timeoutSeconds = 3600;
    const QString owner = QStringLiteral("host");
    const QString name = QString::fromLatin1(Name);
    if (Status s = m_jobs.registerTask(owner, name, options, [this](JobContext &job) { return run(job); }); !s)
        return s;
    return m_jobs.addSchedule(owner, name, QStringLiteral("0 3 * * *"), {});
}

QCoro::Task<Status> CleanupTask::run(JobContext &job)
{
    if (!m_db)
        co_return Status::failure(QStringLiteral("no database is configured"));
    const JobStore store(*m_db, m_jobs);
    const SqlResult purged = co_await store.purgeFinished(m_retentionDays);
    if (purged.error())
        co_return Status::failure(QStringLiteral("purging finished jobs: %1").arg(purged.error().message));
    job.progress(QStringLiteral("purged %1 finished jobs older than %2 days").arg(purged.rowsAffected()).arg(m_retentionDays));
    const QVariantList hours{m_idempotencyRetentionHours};
    const SqlResult keys = co_await m_db->query(QStringLiteral(
        "DELETE FROM host_idempotency_key WHERE created_at < now() - make_interval(hours => ?::int)"), hours);
    if (keys.error())
        co_return Status::failure(QStringLiteral("purging idempotency keys: %1").arg(keys.error().message));
    job.progress(QStringLiteral("purged %1 idempotency keys older than %2 hours").arg(keys.rowsAffected()).arg(m_idempotencyRetentionHours));
    // Live push only: every process relays a row within seconds of its commit, so an hour-old row
    // is long delivered (stored history is the notifications plugin's own table).
    const QVariantList outboxHours{m_outboxRetentionHours};
    const SqlResult events = co_await m_db->query(QStringLiteral(
        "DELETE FROM host_outbox WHERE created_at < now() - make_interval(hours => ?::int)"), outboxHours);
    if (events.error())
        co_return Status::failure(QStringLiteral("purging outbox events: %1").arg(events.error().message));
    job.progress(QStringLiteral("purged %1 outbox events older than %2 hours").arg(events.rowsAffected()).arg(m_outboxRetentionHours));
    for (const CleanupSpec &step : m_jobs.cleanups()) {
        job.progress(QStringLiteral("%1: %2").arg(step.plugin, step.description));
        const Status done = co_await step.step(job);
        if (!done)
            co_return Status::failure(QStringLiteral("%1: %2").arg(step.description, done.error()));
    }
    co_return Status{};
}

} // namespace yieldhost
