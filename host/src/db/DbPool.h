// DbPool.h — the host's Database: SQL on a few DB threads, each owning one QPSQL connection.
//
// Work is queued to a QThreadPool whose threads never expire, so a thread-local connection
// lives as long as its thread; callers await yieldhost::runOn (RunOn.h), which resumes them on
// their own thread with a queued call. Plain parameterized statements skip the hop: they are
// pipelined on the calling thread's own libpq connections (db/PgPipeline.h). A broken connection is reopened on the next use, so the pool recovers by itself when
// the server comes back; while it is down, calls fail fast with DbError::Unavailable.
// Prepared statements are cached per connection by SQL text.
#pragma once

#include "db/DatabaseUrl.h"

#include "yieldhost/Database.h"

#include <QtCore/QHash>
#include <QtCore/QMutex>
#include <QtCore/QThreadPool>

#include <atomic>
#include <memory>

class QSqlDatabase;

namespace yieldhost {

class DbConnection;
class OutboxNotifier;
class PgPipelinePool;

class DbPool final : public Database
{
public:
    struct Settings
    {
        DatabaseUrl primary;
        std::optional<DatabaseUrl> replica;
        int poolSize = 4;
        // Plain queries from a thread with an event loop (HTTP threads, the main thread) go
        // through this many libpq connections of that thread, without a thread hop (db/PgPipeline.h).
        // 0 sends them through the DB threads like transactions.
        int asyncConnectionsPerThread = 2;
    };
    explicit DbPool(Settings settings);
    ~DbPool() override;

    QCoro::Task<SqlResult> query(QString sql, QVariantList params = {}, DbTarget target = DbTarget::Primary) override;
    QCoro::Task<TransactionOutcome> transaction(std::function<Status(SqlTransaction &)> work, TransactionOptions options = {}) override;
    bool hasReplica() const override { return m_replicaPool != nullptr; }

    // Runs `work` on a primary DB thread with that thread's open connection (or an Unavailable
    // error). For host internals such as migrations that need session-level state.
    QCoro::Task<Status> withConnection(std::function<Status(QSqlDatabase &)> work);

    // Metrics.
    int busyThreads() const { return m_busy.load(); }
    int poolSize() const { return m_settings.poolSize; }
    const DatabaseUrl &primaryUrl() const { return m_settings.primary; }

private:
    QThreadPool *poolFor(DbTarget target) const;
    PgPipelinePool *asyncPool(bool replica);

    Settings m_settings;
    std::unique_ptr<OutboxNotifier> m_outboxNotifier; // outlives the pools' work (~DbPool waits for it)
    std::unique_ptr<QThreadPool> m_primaryPool;
    std::unique_ptr<QThreadPool> m_replicaPool;
    std::atomic<int> m_busy{0};
    int m_id;
    QMutex m_asyncLock;
    QHash<QThread *, PgPipelinePool *> m_async[2]; // [primary, replica], one per querying thread
};

} // namespace yieldhost
