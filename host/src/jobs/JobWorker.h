// JobWorker.h — the worker role: claims jobs of its queues and runs them on this event loop.
//
// Wake-ups come from LISTEN yieldhost_jobs (enqueue notifies in its transaction), with a slow
// poll as the safety net for jobs that become due (run_at, retries) and for notifications lost
// while the listening session reconnects. Each queue has its own concurrency limit, so a slow
// queue never starves another. A heartbeat row says the worker is alive; every worker also
// rescues the running jobs of workers whose heartbeat went stale.
#pragma once

#include "core/Config.h"
#include "jobs/JobStore.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QHash>
#include <QtCore/QMap>
#include <QtCore/QObject>
#include <QtCore/QTimer>

#include <memory>

namespace yieldhost {

class DbPool;
class PgSession;


class JobWorker : public QObject
{
    Q_OBJECT
public:
    struct Settings
    {
        QMap<QString, int> queues; // queue -> concurrency
        int pollIntervalMs = 1000;
        int heartbeatIntervalMs = 5000;
        int workerTimeoutMs = 30000; // a heartbeat older than this means the worker died
        int claimBatch = 100;
        qint64 retryBaseMs = 2000;
        qint64 retryMaxMs = 3600 * 1000;
        int shutdownTimeoutMs = 10000;

        // Queues from --queues (or every configured and registered queue) with the configured
        // concurrency, or --concurrency for each.
        static std::optional<Settings> fromConfig(const Config &config, const JobRegistry &registry,
                                                  const QStringList &onlyQueues, int concurrency, QString *error);
    };

    JobWorker(Settings settings, DbPool &db, JobRegistry &registry, QObject *parent = nullptr);
    ~JobWorker() override;

    // Registers the worker and starts claiming.
    QCoro::Task<Status> start();
    // Stops claiming, lets running jobs finish (up to the shutdown timeout), records their
    // results and unregisters; jobs still running go back to pending.
    QCoro::Task<> stop();

    QString id() const { return m_info.id; }
    int runningJobs() const;
    // Delay before attempt `attempt + 1`: exponential from the base, capped, ±20 % jitter.
    static qint64 backoffMs(int attempt, qint64 baseMs, qint64 maxMs);

Q_SIGNALS:
    // Before claimed jobs run: the shared clock offset their claim saw (see ClaimedJob).
    void sharedClockSeen(qint64 offsetMs);

private:
    struct QueueState
    {
        int limit = 1;
        int running = 0;
        bool claiming = false;
        bool again = false;
    };
    // One run of one claimed job: its result counts once, whether the task or the deadline
    // comes first, and never for another run of the same job.
    struct RunState
    {
        bool finished = false;
    };
    // A result waiting to be written; kept (and retried) until the database takes it.
    struct Outcome
    {
        qint64 id = 0;
        int attempts = 0;
        bool ok = true;
        QString error;
        qint64 retryDelayMs = 0;
    };

    void wake(const QString &queue);
    QCoro::Task<> claimLoop(QString queue);
    QCoro::Task<> run(ClaimedJob job);
    void finish(const ClaimedJob &job, const Status &status, RunState &run);
    QCoro::Task<> flushOutcomes();
    QCoro::Task<> keepAlive();
    QCoro::Task<> listen();
    bool isClaiming() const;

    Settings m_settings;
    DbPool &m_db;
    JobRegistry &m_registry;
    JobStore m_store;
    WorkerInfo m_info;
    QHash<QString, QueueState> m_queues;
    QList<Outcome> m_outcomes;
    int m_unfinishedRuns = 0; // task coroutines still going, including ones past their deadline
    bool m_flushing = false;
    bool m_stopping = false;
    bool m_listening = false; // a (re)connect of m_listener is in flight
    std::unique_ptr<PgSession> m_listener;
    // Heartbeats have their own session: a pool busy with long task transactions must not make
    // a live worker look dead.
    std::unique_ptr<PgSession> m_heartbeatSession;
    QElapsedTimer m_healthySince; // heartbeats succeeding without a gap since then
    QElapsedTimer m_lastHeartbeat; // since the last one that went through
    int m_heartbeatsInFlight = 0; // keepAlive() calls awaiting their upsert
    QTimer m_poll;
    QTimer m_heartbeat;
    QElapsedTimer m_lastClaimError;
};

} // namespace yieldhost
