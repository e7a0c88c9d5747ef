#include "jobs/JobRunner.h"

#include "jobs/RunningJob.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QRandomGenerator>
#include <QtCore/QTimer>
#include <QtNetwork/QHostInfo>

#include <QCoro/QCoroTimer>

namespace yieldhost {

WorkerInfo JobRunner::identity(const QString &prefix)
{
    WorkerInfo info;
    info.host = QHostInfo::localHostName();
    info.pid = QCoreApplication::applicationPid();
    info.id = QStringLiteral("%1%2:%3:%4").arg(prefix, info.host).arg(info.pid).arg(QRandomGenerator::global()->generate() % 0x10000, 4, 16, QLatin1Char('0'));
    return info;
}

QCoro::Task<Status> JobRunner::call(const TaskHandler &handler, JobContext &context, std::function<void()> onSuspended)
{
    try {
        QCoro::Task<Status> task = handler(context);
        if (onSuspended && !task.isReady())
            onSuspended();
        co_return co_await std::move(task);
    } catch (const std::exception &e) {
        co_return Status::failure(QStringLiteral("the task threw: %1").arg(QString::fromUtf8(e.what())));
    } catch (...) {
        co_return Status::failure(QStringLiteral("the task threw an unknown exception"));
    }
}

QCoro::Task<Status> JobRunner::runNow(Database &database, const JobRegistry &registry, QString name, QJsonObject args,
                                      int heartbeatIntervalMs, std::function<void(const QString &)> progress)
{
    const std::optional<TaskSpec> spec = registry.task(name);
    if (!spec) {
        QStringList names;
        for (const TaskSpec &t : registry.tasks())
            names.append(t.name);
        co_return Status::failure(QStringLiteral("unknown task \"%1\"; registered tasks: %2").arg(name, names.join(QStringLiteral(", "))));
    }
    const JobStore store(database, registry);
    WorkerInfo info = identity(QStringLiteral("run-task:"));
    info.concurrency = 1;
    const DbError registered = co_await store.heartbeat(info);
    if (registered)
        co_return Status::failure(QStringLiteral("cannot record the run: %1").arg(registered.message));
    DbError error;
    const std::optional<ClaimedJob> job = co_await store.startForeground(name, spec->options.queue, args, spec->options.timeoutSeconds, info.id, &error);
    if (!job)
        co_return Status::failure(QStringLiteral("cannot record the run: %1").arg(error.message));
    progress(QStringLiteral("running %1 as job %2").arg(name).arg(job->id));
    QTimer heartbeat;
    heartbeat.setInterval(heartbeatIntervalMs);
    QObject::connect(&heartbeat, &QTimer::timeout, [store, info] { store.heartbeat(info); });
    heartbeat.start();
    RunningJob context(*job, [progress](const ClaimedJob &, const QString &message) { progress(message); });
    const Status status = co_await call(spec->handler, context);
    // Record the result before letting go of the job: unregistering first would put it back in
    // its queue to run again.
    DbError recorded;
    for (int attempt = 0; attempt < 5; ++attempt) {
        if (status) {
            const QList<QPair<qint64, int>> runs{{job->id, 1}};
            recorded = co_await store.complete(runs, info.id);
        } else {
            recorded = co_await store.fail(job->id, 1, info.id, status.error(), 0);
        }
        if (!recorded)
            break;
        co_await QCoro::sleepFor(std::chrono::milliseconds(1000));
    }
    heartbeat.stop();
    if (recorded)
        co_return Status::failure(QStringLiteral("%1; and its result could not be recorded (the job will run again): %2")
                                      .arg(status ? QStringLiteral("it succeeded") : status.error(), recorded.message));
    co_await store.unregister(info.id);
    co_return status;
}

} // namespace yieldhost
