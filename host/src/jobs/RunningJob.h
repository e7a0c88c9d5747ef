// RunningJob.h — the JobContext a task handler sees while a worker (or run-task) runs its job.
#pragma once

#include "jobs/JobStore.h"

#include "yieldhost/Jobs.h"

#include <functional>

namespace yieldhost {

class RunningJob final : public JobContext
{
public:
    using ProgressSink = std::function<void(const ClaimedJob &, const QString &)>;
    RunningJob(ClaimedJob job, ProgressSink sink) : m_job(std::move(job)), m_sink(std::move(sink)) {}

    QString jobId() const override { return QString::number(m_job.id); }
    QString task() const override { return m_job.task; }
    QJsonObject args() const override { return m_job.args; }
    int attempt() const override { return m_job.attempts; }
    int maxAttempts() const override { return m_job.maxAttempts; }
    void progress(const QString &message) override
    {
        if (m_sink)
            m_sink(m_job, message);
    }
    const ClaimedJob &job() const { return m_job; }

private:
    ClaimedJob m_job;
    ProgressSink m_sink;
};

} // namespace yieldhost
