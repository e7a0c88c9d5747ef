// Jobs.h — background work for plugins: tasks, jobs on PostgreSQL-backed queues, periodic schedules.
//
// In Plugin::initialize() (snippet "jobs-task", compiled in sdk/examples/snippets):
//   TaskOptions options; // queue "default", 5 attempts, 300 s timeout
//   options.queue = u"yields"_s;
//   auto pay = [](JobContext &job) -> QCoro::Task<Status> {
//       const qint64 n = job.args().value(u"positions").toInteger();
//       job.progress(u"paying %1 positions"_s.arg(n)); // run-task prints it, workers log it
//       co_return Status{}; // a failed Status (or an exception) is a failed attempt
//   };
//   Status registered = ctx.jobs().registerTask(u"snippets.process_yield_payments"_s, options, pay);
//   if (registered)
//       registered = ctx.jobs().addSchedule(u"snippets.process_yield_payments"_s, u"5 0 * * *"_s); // UTC
//
// and from a handler, inside the business change's own transaction so the job exists only if
// the change commits (the work lambda in a local: see Database.h on GCC 12):
// Example (snippet "jobs-enqueue-in"):
//   Jobs &jobs = ctx.jobs();
//   const QJsonObject args{{u"period"_s, u"2026-10"_s}};
//   auto work = [&](SqlTransaction &tx) -> Status {
//       // ... the business change's own statements, then its follow-up job:
//       const EnqueueResult job = jobs.enqueueIn(tx, u"snippets.generate_statements"_s, args);
//       return job ? Status{} : Status::failure(job.failure);
//   };
//   const TransactionOutcome t = co_await ctx.database().transaction(std::move(work));
//
// Jobs run at least once: a job whose worker dies is run again, so every task must be
// idempotent (make its effect conditional on a row it writes in the same transaction).
#pragma once

#include "yieldhost/Database.h"
#include "yieldhost/Global.h"
#include "yieldhost/Status.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonObject>
#include <QtCore/QString>

#include <QCoro/QCoroTask>

#include <functional>

namespace yieldhost {

struct TaskOptions
{
    QString queue = QStringLiteral("default");
    int maxAttempts = 5;
    int timeoutSeconds = 300; // a run still going after this counts as a failed attempt
};

// What a running job knows about itself.
class YIELDHOST_SDK_EXPORT JobContext
{
public:
    virtual ~JobContext();
    virtual QString jobId() const = 0;
    virtual QString task() const = 0;
    virtual QJsonObject args() const = 0;
    virtual int attempt() const = 0; // 1 on the first run
    virtual int maxAttempts() const = 0;
    // One line of progress: printed by `yieldhost run-task`, logged by a worker.
    virtual void progress(const QString &message) = 0;
};

// Runs on the worker's event loop; await the database, never block.
using TaskHandler = std::function<QCoro::Task<Status>(JobContext &)>;

struct EnqueueOptions
{
    QString queue;        // empty: the task's queue
    QDateTime runAt;      // invalid: now
    int priority = 0;     // lower runs first within a queue
    QString uniqueKey;    // refuses a second job with this key while one is pending or running
    int maxAttempts = 0;  // 0: the task's
};

struct EnqueueResult
{
    QString id;             // the new job's id, or the existing one's when duplicate
    bool duplicate = false; // a job with the unique key was already pending or running
    DbError error;
    QString failure;        // unknown task or invalid options
    explicit operator bool() const { return !error && failure.isEmpty(); }
};

class YIELDHOST_SDK_EXPORT Jobs
{
public:
    virtual ~Jobs();

    // Names are "<plugin id>.<name>" in lower case. Call from Plugin::initialize().
    virtual Status registerTask(const QString &name, TaskOptions options, TaskHandler handler) = 0;
    // A standard five-field cron expression (or @daily, @hourly, ...) evaluated in UTC. The beat
    // enqueues the task once per tick across the whole cluster; ticks missed while no beat ran
    // fire once when one starts.
    virtual Status addSchedule(const QString &task, const QString &cron, const QJsonObject &args = {}) = 0;
    // A step of the built-in host.cleanup task (purging the plugin's expired rows). It must be
    // safe to run at any time.
    virtual void addCleanup(const QString &description, TaskHandler step) = 0;

    virtual QCoro::Task<EnqueueResult> enqueue(QString task, QJsonObject args = {}, EnqueueOptions options = {}) = 0;
    // Inside the caller's transaction (call on the DB thread, from the transaction function).
    virtual EnqueueResult enqueueIn(SqlTransaction &tx, const QString &task, const QJsonObject &args = {},
                                    const EnqueueOptions &options = {}) = 0;
};

} // namespace yieldhost
