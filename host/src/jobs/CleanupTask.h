// CleanupTask.h — `host.cleanup`, the built-in maintenance task: purges finished jobs older than
// the retention period, idempotency keys older than theirs (real time, at least 24 h) and relayed
// outbox events older than theirs, then runs every cleanup step plugins registered (expired tokens, old
// login failures, ...). Daily at 03:00 on the queue "maintenance", never behind (or in front of)
// business queues.
#pragma once

#include "jobs/JobRegistry.h"

#include "yieldhost/Database.h"

namespace yieldhost {

class CleanupTask
{
public:
    static constexpr const char *Name = "host.cleanup";

    // `database` may be null (a process without one): the task then fails with that reason.
    CleanupTask(JobRegistry &jobs, Database *database, int retentionDays, int idempotencyRetentionHours, int outboxRetentionHours);
    // Registers the task and its daily schedule under the owner "host".
    Status registerTask();

    QCoro::Task<Status> run(JobContext &job);

private:
    JobRegistry &m_jobs;
    Database *m_db;
    int m_retentionDays;
    int m_idempotencyRetentionHours;
    int m_outboxRetentionHours;
};

} // namespace yieldhost
