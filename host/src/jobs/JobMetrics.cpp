#include "jobs/JobMetrics.h"

#include "core/Metrics.h"

#include <QtCore/QPointer>

namespace yieldhost {

JobMetrics::JobMetrics(Database &db, const JobRegistry &registry, Metrics &metrics, int refreshMs, QObject *parent)
    : QObject(parent)
    , m_store(db, registry)
    , m_registry(registry)
{
    metrics.addCollector([this] { return text(); });
    m_timer.setInterval(refreshMs);
    connect(&m_timer, &QTimer::timeout, this, [this] { refresh(); });
    m_timer.start();
    refresh();
}

QByteArray JobMetrics::text() const
{
    QMutexLocker lock(&m_mutex);
    return m_text;
}

QCoro::Task<> JobMetrics::refresh()
{
    if (m_refreshing)
        co_return;
    m_refreshing = true;
    QPointer<JobMetrics> self(this);
    const SqlResult r = co_await m_store.queueStats();
    if (!self)
        co_return;
    m_refreshing = false;
    if (r.error())
        co_return; // keep the last snapshot; /readyz reports the database
    static const char *const states[] = {"pending", "scheduled", "running", "failed", "cancelled"};
    QByteArray out = "# HELP yieldhost_jobs Jobs by queue and state (done: finished in the last hour).\n# TYPE yieldhost_jobs gauge\n";
    QByteArray age = "# HELP yieldhost_job_oldest_pending_seconds Age of the oldest runnable job per queue.\n"
                     "# TYPE yieldhost_job_oldest_pending_seconds gauge\n";
    QStringList seen;
    for (qsizetype i = 0; i < r.size(); ++i) {
        const QByteArray queue = r.string(i, QStringLiteral("queue")).toUtf8();
        seen.append(QString::fromUtf8(queue));
        for (const char *state : states)
            out += "yieldhost_jobs{queue=\"" + queue + "\",state=\"" + state + "\"} "
                   + QByteArray::number(r.integer(i, QString::fromLatin1(state))) + '\n';
        out += "yieldhost_jobs{queue=\"" + queue + "\",state=\"done\"} " + QByteArray::number(r.integer(i, QStringLiteral("done_last_hour"))) + '\n';
        age += "yieldhost_job_oldest_pending_seconds{queue=\"" + queue + "\"} " + QByteArray::number(r.integer(i, QStringLiteral("oldest_pending_age"))) + '\n';
    }
    for (const QString &queue : m_registry.queues()) {
        if (seen.contains(queue))
            continue;
        for (const char *state : states)
            out += "yieldhost_jobs{queue=\"" + queue.toUtf8() + "\",state=\"" + state + "\"} 0\n";
        out += "yieldhost_jobs{queue=\"" + queue.toUtf8() + "\",state=\"done\"} 0\n";
    }
    QMutexLocker lock(&m_mutex);
    m_text = out + age;
}

} // namespace yieldhost
