#include "jobs/JobRoutes.h"

#include "core/Logging.h"
#include "http/RouteTable.h"
#include "http/StaffAudit.h"

#include "yieldhost/Paging.h"
#include "jobs/JobStore.h"

#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>

namespace yieldhost {

namespace {

const QStringList &jobStates()
{
    static const QStringList states{QStringLiteral("scheduled"), QStringLiteral("pending"), QStringLiteral("running"),
                                    QStringLiteral("done"), QStringLiteral("failed"), QStringLiteral("cancelled")};
    return states;
}

HttpResponse noDatabase()
{
    return Problem::unavailable(QStringLiteral("No database is configured in this process."), 5).toResponse();
}

HttpResponse invalid(const QString &field, const QString &message)
{
    return Problem::validation({{field, {message}}}).toResponse();
}

std::optional<qint64> jobId(const HttpRequest &req)
{
    bool ok = false;
    const qint64 id = req.pathParam(QStringLiteral("id")).toLongLong(&ok);
    return ok && id > 0 ? std::optional<qint64>(id) : std::nullopt;
}

HttpResponse unknownJob(const HttpRequest &req)
{
    return Problem::notFound(QStringLiteral("No job %1.").arg(req.pathParam(QStringLiteral("id")))).toResponse();
}

QJsonObject list(const QJsonArray &results, const QJsonValue &next = QJsonValue::Null)
{
    return QJsonObject{{QStringLiteral("results"), results}, {QStringLiteral("next"), next}};
}

} // namespace

JobRoutes::JobRoutes(Router &router, JobRegistry &jobs, Database *database, const Config &config, const Clock &clock)
    : m_router(router)
    , m_jobs(jobs)
    , m_db(database)
    , m_config(config)
    , m_clock(clock)
{
}

Status JobRoutes::registerRoutes()
{
    static constexpr RouteRow<JobRoutes> rows[] = {
        {HttpMethod::Get, "/api/v1/admin/queues", AuthLevel::Staff, 200, "listQueues", "Per queue: pending, scheduled, running, failed, done in the last hour, oldest pending age", &JobRoutes::queues},
        {HttpMethod::Get, "/api/v1/admin/jobs", AuthLevel::Staff, 200, "listJobs", "Jobs, newest first, filtered by ?state= and ?queue=", &JobRoutes::listJobs},
        {HttpMethod::Post, "/api/v1/admin/jobs", AuthLevel::Staff, 202, "enqueueJob", "Enqueue a job: {task, args?, queue?, run_at?, priority?, unique_key?} → 202 job", &JobRoutes::enqueueJob},
        {HttpMethod::Get, "/api/v1/admin/jobs/{id}", AuthLevel::Staff, 200, "getJob", "One job", &JobRoutes::job},
        {HttpMethod::Post, "/api/v1/admin/jobs/{id}/retry", AuthLevel::Staff, 200, "retryJob", "Run a failed or cancelled job again now", &JobRoutes::retryJob},
        {HttpMethod::Post, "/api/v1/admin/jobs/{id}/cancel", AuthLevel::Staff, 200, "cancelJob", "Cancel a scheduled, pending or running job (a running task's result is then ignored)", &JobRoutes::cancelJob},
        {HttpMethod::Get, "/api/v1/admin/workers", AuthLevel::Staff, 200, "listWorkers", "Live workers: id, host, pid, queues, started_at, last_heartbeat, running jobs", &JobRoutes::workers},
        {HttpMethod::Get, "/api/v1/admin/schedules", AuthLevel::Staff, 200, "listSchedules", "Periodic tasks (beat): task, schedule, next_run_at, last_run_at", &JobRoutes::schedules},
        {HttpMethod::Get, "/api/v1/admin/tasks", AuthLevel::Staff, 200, "listTasks", "Registered tasks: name, plugin, queue, max_attempts, timeout (seconds)", &JobRoutes::tasks},
        {HttpMethod::Get, "/admin/jobs", AuthLevel::Public, 200, "getJobDashboard", "Job dashboard (HTML) for staff", &JobRoutes::dashboard},
    };
    return addRouteTable<JobRoutes>(m_router, QStringLiteral("host"), *this, rows);
}

QCoro::Task<HttpResponse> JobRoutes::jobAction(HttpRequest req, QString action)
{
    if (!m_db)
        co_return noDatabase();
    const std::optional<qint64> id = jobId(req);
    if (!id)
        co_return unknownJob(req);
    const JobStore store(*m_db, m_jobs);
    SqlResult changed;
    if (action == QLatin1String("retry"))
        changed = co_await store.retry(*id);
    else if (action == QLatin1String("cancel"))
        changed = co_await store.cancel(*id);
    if (changed.error()) {
        if (changed.error().kind == DbError::Kind::UniqueViolation)
            co_return Problem::conflict(QStringLiteral("duplicate-job"), QStringLiteral("Duplicate job"),
                                        QStringLiteral("Another job with this job's unique key is already pending or running.")).toResponse();
        co_return problemFor(changed.error()).toResponse();
    }
    const SqlResult job = co_await store.get(*id);
    if (job.error())
        co_return problemFor(job.error()).toResponse();
    if (job.isEmpty())
        co_return unknownJob(req);
    if (!action.isEmpty() && changed.isEmpty()) {
        const QString state = job.string(0, QStringLiteral("state"));
        const QString detail = action == QLatin1String("retry")
                                   ? QStringLiteral("Only failed or cancelled jobs can be retried; job %1 is %2.").arg(*id).arg(state)
                                   : QStringLiteral("Only scheduled, pending or running jobs can be cancelled; job %1 is %2.").arg(*id).arg(state);
        co_return Problem::conflict(QStringLiteral("job-state"), QStringLiteral("Job state does not allow this"), detail).toResponse();
    }
    if (!action.isEmpty())
        auditStaffChange(req, QStringLiteral("%1 job %2 (task %3)").arg(action == QLatin1String("retry") ? QStringLiteral("retried") : QStringLiteral("cancelled"))
                       .arg(*id)
                       .arg(job.string(0, QStringLiteral("task"))));
    co_return HttpResponse::json(200, JobStore::jobJson(job, 0));
}

QCoro::Task<HttpResponse> JobRoutes::queues(HttpRequest)
{
    if (!m_db)
        co_return noDatabase();
    const JobStore store(*m_db, m_jobs);
    const SqlResult r = co_await store.queueStats();
    if (r.error())
        co_return problemFor(r.error()).toResponse();
    QMap<QString, QJsonObject> queues;
    for (const QString &queue : m_jobs.queues())
        queues.insert(queue, QJsonObject{{QStringLiteral("queue"), queue}});
    const QJsonObject configured = m_config.value(QStringLiteral("jobs.queues")).toObject();
    for (auto it = configured.begin(); it != configured.end(); ++it)
        queues.insert(it.key(), QJsonObject{{QStringLiteral("queue"), it.key()}});
    static const char *const counts[] = {"pending", "scheduled", "running", "failed", "cancelled", "done_last_hour"};
    for (auto it = queues.begin(); it != queues.end(); ++it) {
        for (const char *c : counts)
            it->insert(QLatin1String(c), 0);
        it->insert(QLatin1String("oldest_pending_age_seconds"), 0);
    }
    for (qsizetype i = 0; i < r.size(); ++i) {
        const QString queue = r.string(i, QStringLiteral("queue"));
        QJsonObject o{{QStringLiteral("queue"), queue}};
        for (const char *c : counts)
            o.insert(QLatin1String(c), r.integer(i, QString::fromLatin1(c)));
        o.insert(QLatin1String("oldest_pending_age_seconds"), r.integer(i, QStringLiteral("oldest_pending_age")));
        queues.insert(queue, o);
    }
    QJsonArray out;
    for (const QJsonObject &q : std::as_const(queues))
        out.append(q);
    co_return HttpResponse::json(200, list(out));
}

QCoro::Task<HttpResponse> JobRoutes::listJobs(HttpRequest req)
{
    if (!m_db)
        co_return noDatabase();
    const QString state = req.queryItem(QStringLiteral("state")).isNull() ? QStringLiteral("") : req.queryItem(QStringLiteral("state"));
    if (!state.isEmpty() && !jobStates().contains(state))
        co_return invalid(QStringLiteral("state"), QStringLiteral("must be one of %1").arg(jobStates().join(QStringLiteral(", "))));
    // A null QString would bind as SQL NULL; "" means "any".
    const QString queue = req.queryItem(QStringLiteral("queue")).isNull() ? QStringLiteral("") : req.queryItem(QStringLiteral("queue"));
    Problem problem;
    const std::optional<PageRequest> page = PageRequest::fromRequest(req, &problem);
    if (!page)
        co_return problem.toResponse();
    const int limit = page->limit;
    const qint64 before = page->after.value(QLatin1String("id")).toInteger();
    const JobStore store(*m_db, m_jobs);
    const SqlResult r = co_await store.list(state, queue, limit + 1, before);
    if (r.error())
        co_return problemFor(r.error()).toResponse();
    QJsonArray out;
    for (qsizetype i = 0; i < std::min<qsizetype>(r.size(), limit); ++i)
        out.append(JobStore::jobJson(r, i));
    std::optional<QJsonObject> next;
    if (r.size() > limit)
        next = QJsonObject{{QStringLiteral("id"), r.integer(limit - 1, QStringLiteral("id"))}};
    co_return HttpResponse::json(200, page->reply(out, next));
}

QCoro::Task<HttpResponse> JobRoutes::enqueueJob(HttpRequest req)
{
    if (!m_db)
        co_return noDatabase();
    const QJsonValue body = req.json();
    if (!body.isObject())
        co_return Problem::badRequest(QStringLiteral("The body must be a JSON object.")).toResponse();
    const QJsonObject o = body.toObject();
    QMap<QString, QStringList> errors;
    const QString task = o.value(QLatin1String("task")).toString();
    if (!o.value(QLatin1String("task")).isString() || task.isEmpty())
        errors[QStringLiteral("task")].append(QStringLiteral("is required and must be a string"));
    else if (!m_jobs.task(task))
        errors[QStringLiteral("task")].append(QStringLiteral("is not a registered task"));
    const QJsonValue args = o.value(QLatin1String("args"));
    if (!args.isUndefined() && !args.isNull() && !args.isObject())
        errors[QStringLiteral("args")].append(QStringLiteral("must be a JSON object"));
    else if (QJsonDocument(args.toObject()).toJson(QJsonDocument::Compact).contains("\\u0000"))
        errors[QStringLiteral("args")].append(QStringLiteral("cannot contain NUL characters"));
    EnqueueOptions options;
    const QJsonValue queue = o.value(QLatin1String("queue"));
    if (!queue.isUndefined() && !queue.isNull()) {
        if (!queue.isString() || !JobRegistry::isValidQueueName(queue.toString()))
            errors[QStringLiteral("queue")].append(QStringLiteral("must be 1-40 lower-case letters, digits or _"));
        else
            options.queue = queue.toString();
    }
    const QJsonValue runAt = o.value(QLatin1String("run_at"));
    if (!runAt.isUndefined() && !runAt.isNull()) {
        options.runAt = QDateTime::fromString(runAt.toString(), Qt::ISODateWithMs);
        if (!runAt.isString() || !options.runAt.isValid() || options.runAt.timeSpec() == Qt::LocalTime)
            errors[QStringLiteral("run_at")].append(QStringLiteral("must be an RFC 3339 timestamp with a time zone, e.g. 2026-11-24T10:15:00Z"));
        else if (const int year = options.runAt.toUTC().date().year(); year < 1 || year > 9999)
            errors[QStringLiteral("run_at")].append(QStringLiteral("must be between the years 1 and 9999 (UTC)"));
    }
    const QJsonValue priority = o.value(QLatin1String("priority"));
    if (!priority.isUndefined()) {
        if (!priority.isDouble() || priority.toDouble() != double(priority.toInt()) || std::abs(priority.toInt()) > 1000)
            errors[QStringLiteral("priority")].append(QStringLiteral("must be an integer from -1000 to 1000"));
        else
            options.priority = priority.toInt();
    }
    const QJsonValue uniqueKey = o.value(QLatin1String("unique_key"));
    if (!uniqueKey.isUndefined() && !uniqueKey.isNull()) {
        if (!uniqueKey.isString() || uniqueKey.toString().isEmpty() || uniqueKey.toString().size() > 255 || uniqueKey.toString().contains(QChar(0)))
            errors[QStringLiteral("unique_key")].append(QStringLiteral("must be a string of 1-255 characters without NUL"));
        else
            options.uniqueKey = uniqueKey.toString();
    }
    if (!errors.isEmpty())
        co_return Problem::validation(errors).toResponse();
    const JobStore store(*m_db, m_jobs);
    const QJsonObject argsObject = args.toObject();
    const EnqueueResult job = co_await store.enqueue(task, argsObject, options);
    if (job.error)
        co_return problemFor(job.error).toResponse();
    if (!job.failure.isEmpty())
        co_return invalid(QStringLiteral("task"), job.failure);
    if (job.duplicate)
        co_return Problem::conflict(QStringLiteral("duplicate-job"), QStringLiteral("Duplicate job"),
                                    QStringLiteral("Job %1 with this unique key is already pending or running.").arg(job.id)).toResponse();
    const qint64 newId = job.id.toLongLong();
    const SqlResult r = co_await store.get(newId);
    if (r.error() || r.isEmpty())
        co_return problemFor(r.error()).toResponse();
    auditStaffChange(req, QStringLiteral("enqueued job %1 (task %2, queue %3)").arg(newId).arg(task, r.string(0, QStringLiteral("queue"))));
    co_return HttpResponse::json(202, JobStore::jobJson(r, 0));
}

QCoro::Task<HttpResponse> JobRoutes::job(HttpRequest req)
{
    const QString action;
    co_return co_await jobAction(req, action);
}

QCoro::Task<HttpResponse> JobRoutes::retryJob(HttpRequest req)
{
    const QString action = QStringLiteral("retry");
    co_return co_await jobAction(req, action);
}

QCoro::Task<HttpResponse> JobRoutes::cancelJob(HttpRequest req)
{
    const QString action = QStringLiteral("cancel");
    co_return co_await jobAction(req, action);
}

QCoro::Task<HttpResponse> JobRoutes::workers(HttpRequest)
{
    if (!m_db)
        co_return noDatabase();
    const JobStore store(*m_db, m_jobs);
    const SqlResult r = co_await store.workers();
    if (r.error())
        co_return problemFor(r.error()).toResponse();
    QJsonArray out;
    for (qsizetype i = 0; i < r.size(); ++i)
        out.append(QJsonObject{
            {QStringLiteral("id"), r.string(i, QStringLiteral("id"))},
            {QStringLiteral("host"), r.string(i, QStringLiteral("host"))},
            {QStringLiteral("pid"), r.integer(i, QStringLiteral("pid"))},
            {QStringLiteral("queues"), QJsonArray::fromStringList(r.string(i, QStringLiteral("queues")).split(u',', Qt::SkipEmptyParts))},
            {QStringLiteral("concurrency"), r.integer(i, QStringLiteral("concurrency"))},
            {QStringLiteral("started_at"), QJsonValue(JobStore::timestamp(r.value(i, QStringLiteral("started_at"))))},
            {QStringLiteral("last_heartbeat"), QJsonValue(JobStore::timestamp(r.value(i, QStringLiteral("last_heartbeat"))))},
            {QStringLiteral("running_jobs"), r.integer(i, QStringLiteral("running"))},
        });
    co_return HttpResponse::json(200, list(out));
}

QCoro::Task<HttpResponse> JobRoutes::schedules(HttpRequest)
{
    if (!m_db)
        co_return noDatabase();
    const JobStore store(*m_db, m_jobs);
    const SqlResult r = co_await store.schedules();
    if (r.error())
        co_return problemFor(r.error()).toResponse();
    QMap<QString, QJsonObject> stored;
    for (qsizetype i = 0; i < r.size(); ++i) {
        auto nullable = [&](const QString &column) -> QJsonValue {
            return r.isNull(i, column) ? QJsonValue(QJsonValue::Null) : QJsonValue(JobStore::timestamp(r.value(i, column)));
        };
        stored.insert(r.string(i, QStringLiteral("task")), QJsonObject{
            {QStringLiteral("next_run_at"), nullable(QStringLiteral("next_run_at"))},
            {QStringLiteral("last_run_at"), nullable(QStringLiteral("last_run_at"))},
            {QStringLiteral("last_job_id"), r.isNull(i, QStringLiteral("last_job_id")) ? QJsonValue(QJsonValue::Null)
                                                                                       : QJsonValue(r.string(i, QStringLiteral("last_job_id")))},
        });
    }
    const QDateTime now = m_clock.now();
    QJsonArray out;
    for (const ScheduleSpec &s : m_jobs.schedules()) {
        // Not yet recorded by a beat: show when it would fire.
        QJsonObject o = stored.value(s.task, QJsonObject{{QStringLiteral("next_run_at"), JobStore::timestamp(s.cron.next(now))},
                                                         {QStringLiteral("last_run_at"), QJsonValue::Null},
                                                         {QStringLiteral("last_job_id"), QJsonValue::Null}});
        o.insert(QLatin1String("task"), s.task);
        o.insert(QLatin1String("schedule"), s.cron.expression());
        o.insert(QLatin1String("args"), s.args);
        out.append(o);
    }
    co_return HttpResponse::json(200, list(out));
}

QCoro::Task<HttpResponse> JobRoutes::tasks(HttpRequest)
{
    QJsonArray out;
    QHash<QString, QString> schedules;
    for (const ScheduleSpec &s : m_jobs.schedules())
        schedules.insert(s.task, s.cron.expression());
    for (const TaskSpec &t : m_jobs.tasks())
        out.append(QJsonObject{
            {QStringLiteral("name"), t.name},
            {QStringLiteral("plugin"), t.plugin},
            {QStringLiteral("queue"), t.options.queue},
            {QStringLiteral("max_attempts"), t.options.maxAttempts},
            {QStringLiteral("timeout"), t.options.timeoutSeconds},
            {QStringLiteral("schedule"), schedules.contains(t.name) ? QJsonValue(schedules.value(t.name)) : QJsonValue(QJsonValue::Null)},
        });
    co_return HttpResponse::json(200, list(out));
}

QCoro::Task<HttpResponse> JobRoutes::dashboard(HttpRequest)
{
    static const QByteArray page = [] {
        QFile f(QStringLiteral(":/yieldhost/web/jobs.html"));
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("dashboard missing from this build");
    }();
    HttpResponse response = HttpResponse::text(200, page, "text/html; charset=utf-8");
    response.addHeader("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'");
    response.addHeader("X-Content-Type-Options", "nosniff");
    response.addHeader("Cache-Control", "no-store");
    co_return response;
}

} // namespace yieldhost
