// JobRunner.h — what the worker and `yieldhost run-task` share when they run a task: the
// identity a runner registers under, calling a handler so that an exception becomes a failed
// run, and running one task now in the foreground (run-task), recorded as a job.
#pragma once

#include "jobs/JobRegistry.h"
#include "jobs/JobStore.h"

#include <functional>

namespace yieldhost {

class JobRunner
{
public:
    // This process as a runner: host, pid and an id "<prefix><host>:<pid>:<random>" that stays
    // unique when several runners share a host.
    static WorkerInfo identity(const QString &prefix = {});

    // Calls `handler` and awaits it. A handler that throws fails the run with the exception's
    // message. `onSuspended` runs once the task has started and not finished at once (the worker
    // arms its deadline there).
    static QCoro::Task<Status> call(const TaskHandler &handler, JobContext &context, std::function<void()> onSuspended = {});

    // `yieldhost run-task`: records the run as a job of this process, keeps it alive with
    // heartbeats so no worker rescues it, runs it here with progress, and records its result
    // (retried while the database is briefly unavailable) before letting it go.
    static QCoro::Task<Status> runNow(Database &database, const JobRegistry &registry, QString name, QJsonObject args,
                                      int heartbeatIntervalMs, std::function<void(const QString &)> progress);
};

} // namespace yieldhost
