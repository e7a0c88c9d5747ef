// JobStore.h — every SQL statement of the job queue, in one place.
//
// States on disk: pending, running, done, failed, cancelled. A pending job whose run_at is in
// the future is shown as "scheduled". Claiming is one UPDATE over a FOR UPDATE SKIP LOCKED
// subselect, so concurrent workers never take the same job; completion and failure only apply
// while the row is still running under the same worker, so a job rescued from a worker that was
// presumed dead is not overwritten by that worker's late result.
#pragma once

#include "jobs/JobRegistry.h"

#include "yieldhost/Database.h"
#include "yieldhost/Jobs.h"


namespace yieldhost {

class PgSession;

struct ClaimedJob
{
    qint64 id = 0;
    QString task;
    QString queue;
    QJsonObject args;
    int attempts = 0; // including this run
    int maxAttempts = 1;
    int timeoutSeconds = 300;
    // The shared clock's offset when the job was claimed: a job that reads the clock must not run
    // on an offset older than the one that made it due (a staff clock jump, then a job at once).
    qint64 clockOffsetMs = 0;
};

struct WorkerInfo
{
    QString id;
    QString host;
    qint64 pid = 0;
    QStringList queues;
    int concurrency = 0;
};

class JobStore
{
public:
    static constexpr const char *NotifyChannel = "yieldhost_jobs";

    JobStore(Database &db, const JobRegistry &registry) : m_db(db), m_registry(registry) {}

    EnqueueResult enqueueIn(SqlTransaction &tx, const QString &task, const QJsonObject &args, const EnqueueOptions &options) const;
    QCoro::Task<EnqueueResult> enqueue(QString task, QJsonObject args, EnqueueOptions options) const;

    // Worker side.
    QCoro::Task<QList<ClaimedJob>> claim(QString queue, int limit, QString workerId, DbError *error) const;
    // (id, attempts) of each run: a newer run of the same job is never marked by an older one.
    QCoro::Task<DbError> complete(QList<QPair<qint64, int>> runs, QString workerId) const;
    // Back to pending after `retryDelayMs` while attempts remain, else failed for good.
    QCoro::Task<DbError> fail(qint64 id, int attempts, QString workerId, QString error, qint64 retryDelayMs) const;
    QCoro::Task<DbError> heartbeat(WorkerInfo worker) const;
    QCoro::Task<DbError> heartbeat(PgSession &session, WorkerInfo worker) const; // on a dedicated session
    // Puts back the running jobs of workers whose heartbeat is older than `staleMs` (and of
    // workers that are gone) and forgets those workers. Returns how many jobs were rescued.
    QCoro::Task<qint64> rescue(qint64 staleMs, DbError *error) const;
    // run-task: a job recorded as already running in this process, with a single attempt.
    QCoro::Task<std::optional<ClaimedJob>> startForeground(QString task, QString queue, QJsonObject args, int timeoutSeconds,
                                                           QString workerId, DbError *error) const;
    // A worker stopping: its unfinished jobs go back to pending (their attempt not counted).
    QCoro::Task<DbError> unregister(QString workerId) const;

    // Admin side. Each returns the job as JSON (or a null object when unknown).
    QCoro::Task<SqlResult> list(QString state, QString queue, int limit, qint64 beforeId) const;
    QCoro::Task<SqlResult> get(qint64 id) const;
    QCoro::Task<SqlResult> retry(qint64 id) const;
    QCoro::Task<SqlResult> cancel(qint64 id) const;
    QCoro::Task<SqlResult> queueStats() const;
    QCoro::Task<SqlResult> workers() const;
    QCoro::Task<SqlResult> schedules() const;
    // Deletes finished jobs older than the retention; returns how many.
    QCoro::Task<SqlResult> purgeFinished(int retentionDays) const;

    static QJsonObject jobJson(const SqlResult &r, qsizetype row);
    static QString timestamp(const QVariant &v); // RFC 3339 UTC or null
    static QString jobColumns();                 // the SELECT list jobJson() reads

private:
    Database &m_db;
    const JobRegistry &m_registry;
};

} // namespace yieldhost
