#include "jobs/JobStore.h"

#include "db/PgSession.h"

#include "yieldhost/HostAccess.h"

#include <QtCore/QJsonDocument>

namespace yieldhost {

namespace {

QString jsonText(const QJsonObject &o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

QString idArray(const QList<qint64> &ids)
{
    QString out = QStringLiteral("{");
    for (qsizetype i = 0; i < ids.size(); ++i) {
        if (i)
            out += u',';
        out += QString::number(ids[i]);
    }
    return out + u'}';
}

DbError failure(const QString &message)
{
    DbError e;
    e.kind = DbError::Kind::Query;
    e.message = message;
    return e;
}

} // namespace

QString JobStore::jobColumns()
{
    return QStringLiteral(
        "id, task, queue, CASE WHEN state = 'pending' AND run_at > host_now() THEN 'scheduled' ELSE state END AS state, "
        "priority, attempts, max_attempts, args::text AS args, run_at, created_at, started_at, finished_at, last_error, worker, unique_key");
}

QString JobStore::timestamp(const QVariant &v)
{
    const QDateTime dt = v.toDateTime();
    return dt.isValid() ? dt.toUTC().toString(Qt::ISODateWithMs) : QString();
}

QJsonObject JobStore::jobJson(const SqlResult &r, qsizetype row)
{
    auto orNull = [&](const QString &column) -> QJsonValue {
        return r.isNull(row, column) ? QJsonValue(QJsonValue::Null) : QJsonValue(r.string(row, column));
    };
    auto time = [&](const QString &column) -> QJsonValue {
        return r.isNull(row, column) ? QJsonValue(QJsonValue::Null) : QJsonValue(timestamp(r.value(row, column)));
    };
    return QJsonObject{
        {QStringLiteral("id"), QString::number(r.integer(row, QStringLiteral("id")))},
        {QStringLiteral("task"), r.string(row, QStringLiteral("task"))},
        {QStringLiteral("queue"), r.string(row, QStringLiteral("queue"))},
        {QStringLiteral("state"), r.string(row, QStringLiteral("state"))},
        {QStringLiteral("priority"), r.integer(row, QStringLiteral("priority"))},
        {QStringLiteral("attempts"), r.integer(row, QStringLiteral("attempts"))},
        {QStringLiteral("max_attempts"), r.integer(row, QStringLiteral("max_attempts"))},
        {QStringLiteral("args"), QJsonDocument::fromJson(r.string(row, QStringLiteral("args")).toUtf8()).object()},
        {QStringLiteral("run_at"), time(QStringLiteral("run_at"))},
        {QStringLiteral("created_at"), time(QStringLiteral("created_at"))},
        {QStringLiteral("started_at"), time(QStringLiteral("started_at"))},
        {QStringLiteral("finished_at"), time(QStringLiteral("finished_at"))},
        {QStringLiteral("last_error"), orNull(QStringLiteral("last_error"))},
        {QStringLiteral("worker"), orNull(QStringLiteral("worker"))},
        {QStringLiteral("unique_key"), orNull(QStringLiteral("unique_key"))},
    };
}

EnqueueResult JobStore::enqueueIn(SqlTransaction &tx, const QString &task, const QJsonObject &args, const EnqueueOptions &options) const
{
    EnqueueResult out;
    const std::optional<TaskSpec> spec = m_registry.task(task);
    if (!spec) {
        out.failure = QStringLiteral("unknown task \"%1\"").arg(task);
        return out;
    }
    const QString queue = options.queue.isEmpty() ? spec->options.queue : options.queue;
    if (!JobRegistry::isValidQueueName(queue)) {
        out.failure = QStringLiteral("queue \"%1\" must be 1-40 lower-case letters, digits or _").arg(queue);
        return out;
    }
    const int maxAttempts = options.maxAttempts > 0 ? options.maxAttempts : spec->options.maxAttempts;
    if (options.uniqueKey.size() > 255 || options.uniqueKey.contains(QChar(0))) {
        out.failure = QStringLiteral("a unique key has at most 255 characters and no NUL");
        return out;
    }
    const QString argsText = jsonText(args);
    if (argsText.contains(QLatin1String("\\u0000"))) { // PostgreSQL's jsonb cannot store NUL
        out.failure = QStringLiteral("job arguments cannot contain NUL characters");
        return out;
    }
    if (options.runAt.isValid() && (options.runAt.toUTC().date().year() < 1 || options.runAt.toUTC().date().year() > 9999)) {
        out.failure = QStringLiteral("run_at must be between the years 1 and 9999");
        return out;
    }
    const QVariant runAt = options.runAt.isValid() ? QVariant(options.runAt.toUTC()) : QVariant();
    const QVariant uniqueKey = options.uniqueKey.isEmpty() ? QVariant() : QVariant(options.uniqueKey);
    for (int attempt = 0; attempt < 3; ++attempt) {
        const SqlResult inserted = tx.exec(QStringLiteral(
            "INSERT INTO host_job (task, queue, args, priority, max_attempts, timeout_s, unique_key, run_at) "
            "VALUES (?, ?, ?::jsonb, ?, ?, ?, ?, COALESCE(?::timestamptz, host_now())) "
            "ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN ('pending', 'running') DO NOTHING "
            "RETURNING id, run_at <= host_now() AS due"),
            {task, queue, argsText, options.priority, maxAttempts, spec->options.timeoutSeconds, uniqueKey, runAt});
        if (inserted.error()) {
            out.error = inserted.error();
            return out;
        }
        if (!inserted.isEmpty()) {
            out.id = QString::number(inserted.integer(0, QStringLiteral("id")));
            // Delivered at commit, and only if the transaction commits.
            if (inserted.value(0, QStringLiteral("due")).toBool()) {
                const SqlResult notified = tx.exec(QStringLiteral("SELECT pg_notify(?, ?)"), {QString::fromLatin1(NotifyChannel), queue});
                if (notified.error())
                    out.error = notified.error();
            }
            return out;
        }
        const SqlResult existing = tx.exec(QStringLiteral("SELECT id FROM host_job WHERE unique_key = ? AND state IN ('pending', 'running')"), {options.uniqueKey});
        if (existing.error()) {
            out.error = existing.error();
            return out;
        }
        if (!existing.isEmpty()) {
            out.id = QString::number(existing.integer(0, QStringLiteral("id")));
            out.duplicate = true;
            return out;
        }
        // The holder finished between the two statements: try the insert again.
    }
    out.error = failure(QStringLiteral("the unique key kept changing hands"));
    return out;
}

QCoro::Task<EnqueueResult> JobStore::enqueue(QString task, QJsonObject args, EnqueueOptions options) const
{
    EnqueueResult result;
    auto work = [&](SqlTransaction &tx) -> Status {
        result = enqueueIn(tx, task, args, options);
        return result ? Status{} : Status::failure(result.failure.isEmpty() ? result.error.message : result.failure);
    };
    const TransactionOutcome outcome = co_await m_db.transaction(work);
    if (!outcome.committed && !result.error && result.failure.isEmpty())
        result.error = outcome.error;
    co_return result;
}

QCoro::Task<QList<ClaimedJob>> JobStore::claim(QString queue, int limit, QString workerId, DbError *error) const
{
    const QVariantList params{queue, limit, workerId};
    const SqlResult r = co_await m_db.query(QStringLiteral(
        "WITH next AS ("
        "  SELECT id FROM host_job WHERE state = 'pending' AND queue = ? AND run_at <= host_now()"
        "  ORDER BY priority, run_at, id LIMIT ? FOR UPDATE SKIP LOCKED) "
        "UPDATE host_job j SET state = 'running', attempts = j.attempts + 1, started_at = host_now(), finished_at = NULL, worker = ? "
        "FROM next WHERE j.id = next.id "
        "RETURNING j.id, j.task, j.queue, j.args::text AS args, j.attempts, j.max_attempts, j.timeout_s, "
        "  (SELECT offset_ms FROM host_clock) AS clock_offset_ms"),
        params);
    QList<ClaimedJob> out;
    if (r.error()) {
        *error = r.error();
        co_return out;
    }
    out.reserve(r.size());
    for (qsizetype i = 0; i < r.size(); ++i) {
        ClaimedJob job;
        job.id = r.integer(i, QStringLiteral("id"));
        job.task = r.string(i, QStringLiteral("task"));
        job.queue = r.string(i, QStringLiteral("queue"));
        job.args = QJsonDocument::fromJson(r.string(i, QStringLiteral("args")).toUtf8()).object();
        job.attempts = int(r.integer(i, QStringLiteral("attempts")));
        job.maxAttempts = int(r.integer(i, QStringLiteral("max_attempts")));
        job.timeoutSeconds = int(r.integer(i, QStringLiteral("timeout_s")));
        job.clockOffsetMs = r.integer(i, QStringLiteral("clock_offset_ms"));
        out.append(job);
    }
    // Oldest first, so a batch runs in the order it was claimed.
    std::sort(out.begin(), out.end(), [](const ClaimedJob &a, const ClaimedJob &b) { return a.id < b.id; });
    co_return out;
}

QCoro::Task<DbError> JobStore::complete(QList<QPair<qint64, int>> runs, QString workerId) const
{
    QList<qint64> ids, attempts;
    for (const auto &[id, attempt] : runs) {
        ids.append(id);
        attempts.append(attempt);
    }
    const QVariantList params{idArray(ids), idArray(attempts), workerId};
    const SqlResult r = co_await m_db.query(QStringLiteral(
        "UPDATE host_job j SET state = 'done', finished_at = host_now(), last_error = NULL "
        "FROM unnest(?::bigint[], ?::int[]) AS run(id, attempts) "
        "WHERE j.id = run.id AND j.attempts = run.attempts AND j.state = 'running' AND j.worker = ?"), params);
    co_return r.error();
}

QCoro::Task<DbError> JobStore::fail(qint64 id, int attempts, QString workerId, QString error, qint64 retryDelayMs) const
{
    const QVariantList params{double(retryDelayMs) / 1000.0, error.left(4000), id, attempts, workerId};
    const SqlResult r = co_await m_db.query(QStringLiteral(
        "UPDATE host_job SET "
        "  state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'pending' END, "
        "  run_at = CASE WHEN attempts >= max_attempts THEN run_at ELSE host_now() + make_interval(secs => ?::float8) END, "
        "  finished_at = CASE WHEN attempts >= max_attempts THEN host_now() END, "
        "  last_error = ? "
        "WHERE id = ? AND attempts = ? AND state = 'running' AND worker = ?"), params);
    co_return r.error();
}

QCoro::Task<DbError> JobStore::heartbeat(PgSession &session, WorkerInfo worker) const
{
    const QVariantList params{worker.id, worker.host, worker.pid, QString(u'{' + worker.queues.join(u',') + u'}'), worker.concurrency};
    const SqlResult r = co_await session.exec(QStringLiteral(
        "INSERT INTO host_worker (id, host, pid, queues, concurrency) VALUES (?, ?, ?, ?::text[], ?) "
        "ON CONFLICT (id) DO UPDATE SET last_heartbeat = now()"), params);
    co_return r.error();
}

QCoro::Task<DbError> JobStore::heartbeat(WorkerInfo worker) const
{
    const QVariantList params{worker.id, worker.host, worker.pid, QString(u'{' + worker.queues.join(u',') + u'}'), worker.concurrency};
    const SqlResult r = co_await m_db.query(QStringLiteral(
        "INSERT INTO host_worker (id, host, pid, queues, concurrency) VALUES (?, ?, ?, ?::text[], ?) "
        "ON CONFLICT (id) DO UPDATE SET last_heartbeat = now()"), params);
    co_return r.error();
}

QCoro::Task<qint64> JobStore::rescue(qint64 staleMs, DbError *error) const
{
    const QVariantList params{double(staleMs) / 1000.0};
    // The DELETE's effect is invisible to the UPDATE (one snapshot), hence "IN dead".
    const SqlResult r = co_await m_db.query(QStringLiteral(
        "WITH dead AS (DELETE FROM host_worker WHERE last_heartbeat < now() - make_interval(secs => ?::float8) RETURNING id) "
        "UPDATE host_job j SET "
        "  state = CASE WHEN j.attempts >= j.max_attempts THEN 'failed' ELSE 'pending' END, "
        "  finished_at = CASE WHEN j.attempts >= j.max_attempts THEN host_now() END, "
        "  run_at = host_now(), "
        "  last_error = 'worker ' || j.worker || ' stopped sending heartbeats during this attempt' "
        "WHERE j.state = 'running' AND (j.worker IN (SELECT id FROM dead) "
        "  OR NOT EXISTS (SELECT 1 FROM host_worker w WHERE w.id = j.worker)) "
        "RETURNING j.id"), params);
    if (r.error()) {
        *error = r.error();
        co_return 0;
    }
    if (r.size() > 0) {
        const QVariantList channel{QString::fromLatin1(NotifyChannel)}; // GCC 12: no braced list inside co_await
        co_await m_db.query(QStringLiteral("SELECT pg_notify(?, '*')"), channel);
    }
    co_return r.size();
}

QCoro::Task<std::optional<ClaimedJob>> JobStore::startForeground(QString task, QString queue, QJsonObject args, int timeoutSeconds,
                                                                 QString workerId, DbError *error) const
{
    const QVariantList params{task, queue, jsonText(args), timeoutSeconds, workerId};
    const SqlResult r = co_await m_db.query(QStringLiteral(
        "INSERT INTO host_job (task, queue, args, state, attempts, max_attempts, timeout_s, started_at, worker) "
        "VALUES (?, ?, ?::jsonb, 'running', 1, 1, ?, host_now(), ?) RETURNING id"), params);
    if (r.error() || r.isEmpty()) {
        *error = r.error();
        co_return std::nullopt;
    }
    ClaimedJob job;
    job.id = r.integer(0, QStringLiteral("id"));
    job.task = task;
    job.queue = queue;
    job.args = args;
    job.attempts = 1;
    job.maxAttempts = 1;
    job.timeoutSeconds = timeoutSeconds;
    co_return job;
}

QCoro::Task<DbError> JobStore::unregister(QString workerId) const
{
    auto work = [&](SqlTransaction &tx) -> Status {
        const SqlResult released = tx.exec(QStringLiteral(
            "UPDATE host_job SET state = 'pending', run_at = host_now(), attempts = greatest(attempts - 1, 0), "
            "  last_error = 'worker ' || worker || ' stopped before the job finished' "
            "WHERE state = 'running' AND worker = ?"), {workerId});
        if (released.error())
            return Status::failure(released.error().message);
        const SqlResult removed = tx.exec(QStringLiteral("DELETE FROM host_worker WHERE id = ?"), {workerId});
        if (removed.error())
            return Status::failure(removed.error().message);
        if (released.rowsAffected() > 0)
            tx.exec(QStringLiteral("SELECT pg_notify(?, '*')"), {QString::fromLatin1(NotifyChannel)});
        return {};
    };
    const TransactionOutcome outcome = co_await m_db.transaction(work);
    if (outcome.committed)
        co_return DbError{};
    if (outcome.error)
        co_return outcome.error;
    co_return failure(outcome.failure);
}

QCoro::Task<SqlResult> JobStore::list(QString state, QString queue, int limit, qint64 beforeId) const
{
    // "scheduled" and "pending" share the stored state and differ by run_at.
    const QString stored = state == QLatin1String("scheduled") ? QStringLiteral("pending") : state;
    const QVariantList params{stored, stored, state, state, queue, queue, beforeId, beforeId, limit};
    const QString sql = u"SELECT " + jobColumns() + QStringLiteral(
        " FROM host_job WHERE (? = '' OR state = ?)"
        " AND (? <> 'scheduled' OR run_at > host_now()) AND (? <> 'pending' OR run_at <= host_now())"
        " AND (? = '' OR queue = ?) AND (?::bigint = 0 OR id < ?::bigint)"
        " ORDER BY id DESC LIMIT ?");
    co_return co_await m_db.query(sql, params);
}

QCoro::Task<SqlResult> JobStore::get(qint64 id) const
{
    const QVariantList params{id};
    co_return co_await m_db.query(u"SELECT " + jobColumns() + QStringLiteral(" FROM host_job WHERE id = ?"), params);
}

QCoro::Task<SqlResult> JobStore::retry(qint64 id) const
{
    SqlResult out;
    auto work = [&](SqlTransaction &tx) -> Status {
        out = tx.exec(QStringLiteral(
            "UPDATE host_job SET state = 'pending', run_at = host_now(), finished_at = NULL, worker = NULL, "
            "  max_attempts = greatest(max_attempts, attempts + 1) "
            "WHERE id = ? AND state IN ('failed', 'cancelled') RETURNING queue"), {id});
        if (out.error())
            return Status::failure(out.error().message);
        if (!out.isEmpty())
            tx.exec(QStringLiteral("SELECT pg_notify(?, ?)"), {QString::fromLatin1(NotifyChannel), out.string(0, QStringLiteral("queue"))});
        return {};
    };
    const TransactionOutcome outcome = co_await m_db.transaction(work);
    if (!outcome.committed && !out.error()) {
        out = SqlResult();
        SqlResultWriter::setError(out, outcome.error ? outcome.error : failure(outcome.failure));
    }
    co_return out;
}

QCoro::Task<SqlResult> JobStore::cancel(qint64 id) const
{
    const QVariantList params{id};
    co_return co_await m_db.query(QStringLiteral(
        "UPDATE host_job SET state = 'cancelled', finished_at = host_now() "
        "WHERE id = ? AND state IN ('pending', 'running') RETURNING id"), params);
}

QCoro::Task<SqlResult> JobStore::queueStats() const
{
    // Finished jobs are most of the table (kept for days): count only the last hour of them,
    // through the (state, finished_at) index, and never scan the rest.
    co_return co_await m_db.query(QStringLiteral(
        "WITH live AS ("
        "  SELECT queue, state, run_at FROM host_job WHERE state IN ('pending', 'running', 'failed', 'cancelled')"
        "  UNION ALL"
        "  SELECT queue, state, run_at FROM host_job WHERE state = 'done' AND finished_at > host_now() - interval '1 hour') "
        "SELECT queue, "
        "  count(*) FILTER (WHERE state = 'pending' AND run_at <= host_now()) AS pending, "
        "  count(*) FILTER (WHERE state = 'pending' AND run_at > host_now()) AS scheduled, "
        "  count(*) FILTER (WHERE state = 'running') AS running, "
        "  count(*) FILTER (WHERE state = 'failed') AS failed, "
        "  count(*) FILTER (WHERE state = 'cancelled') AS cancelled, "
        "  count(*) FILTER (WHERE state = 'done') AS done_last_hour, "
        "  COALESCE(floor(extract(epoch FROM host_now() - min(run_at) FILTER (WHERE state = 'pending' AND run_at <= host_now()))), 0)::bigint AS oldest_pending_age "
        "FROM live GROUP BY queue ORDER BY queue"));
}

QCoro::Task<SqlResult> JobStore::workers() const
{
    co_return co_await m_db.query(QStringLiteral(
        "SELECT w.id, w.host, w.pid, array_to_string(w.queues, ',') AS queues, w.concurrency, w.started_at, w.last_heartbeat, "
        "  (SELECT count(*) FROM host_job j WHERE j.state = 'running' AND j.worker = w.id) AS running "
        "FROM host_worker w ORDER BY w.started_at, w.id"));
}

QCoro::Task<SqlResult> JobStore::schedules() const
{
    co_return co_await m_db.query(QStringLiteral(
        "SELECT task, cron, args::text AS args, next_run_at, last_run_at, last_job_id FROM host_schedule ORDER BY task"));
}

QCoro::Task<SqlResult> JobStore::purgeFinished(int retentionDays) const
{
    const QVariantList params{retentionDays};
    co_return co_await m_db.query(QStringLiteral(
        "DELETE FROM host_job WHERE state IN ('done', 'failed', 'cancelled') "
        "AND finished_at < host_now() - make_interval(days => ?::int)"), params);
}

} // namespace yieldhost
