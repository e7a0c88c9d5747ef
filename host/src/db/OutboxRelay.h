// OutboxRelay.h — republishes the transactional outbox (host_outbox) on this process's EventBus,
// so an event a `worker` wrote in its transaction reaches subscribers in every `serve`.
//
// Wake-ups come from LISTEN yieldhost_outbox (the writer's host notifies after its commit,
// db/OutboxNotifier.h) and from a poll every `pollMs` that catches a notification missed while the
// session reconnected. Catch-up has no gaps although ids are taken at INSERT and transactions
// commit out of id order: rows are read in (writer_xid, id) order past a cursor that only moves
// over rows whose writer is older than the oldest transaction still running
// (pg_snapshot_xmin(pg_current_snapshot())) — no row can still appear below that point. Rows
// above it are delivered as soon as they are visible and remembered until the cursor passes
// them, so none is delivered twice. A fresh process starts at the current end.
#pragma once

#include "yieldhost/Database.h"
#include "yieldhost/Events.h"

#include <QtCore/QObject>
#include <QtCore/QSet>
#include <QtCore/QTimer>

#include <QCoro/QCoroTask>

#include <array>
#include <atomic>
#include <memory>

namespace yieldhost {

class DbPool;
class PgListener;

class OutboxRelay : public QObject
{
    Q_OBJECT
public:
    static constexpr const char *NotifyChannel = "yieldhost_outbox";
    // Rows read per round trip; a full batch is followed at once by the next.
    static constexpr int BatchSize = 5000;

    OutboxRelay(DbPool &db, EventBus &bus, int pollMs, QObject *parent = nullptr);
    ~OutboxRelay() override;

    // Finds the current end, then listens and polls until stopped. Call after migrations.
    QCoro::Task<DbError> start();
    // Stops listening and polling; returns once nothing of its session or reads is in flight.
    QCoro::Task<> stop();

    // For /metrics (read from any thread): events relayed, and a histogram of their lag — from
    // the outbox INSERT (clock_timestamp(), PostgreSQL's clock) to the local delivery.
    static constexpr std::array<int, 12> LagBucketsMs{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};
    qint64 relayed() const { return m_relayed.load(std::memory_order_relaxed); }
    QByteArray lagHistogram() const; // Prometheus text of yieldhost_outbox_relay_lag_seconds

private:
    QCoro::Task<> fetch();
    void recordLag(qint64 ms);

    DbPool &m_db;
    EventBus &m_bus;
    QTimer m_poll;
    std::unique_ptr<PgListener> m_listener;
    bool m_started = false;
    bool m_fetching = false;
    bool m_fetchAgain = false;
    bool m_stopping = false;
    QString m_cursorXid; // xid8 as text: rows at or below (m_cursorXid, m_cursorId) are done
    qint64 m_cursorId = 0;
    QSet<qint64> m_ahead; // delivered, above the cursor
    std::atomic<qint64> m_relayed{0};
    std::array<std::atomic<qint64>, LagBucketsMs.size() + 1> m_lagBuckets{}; // the last one: +Inf
    std::atomic<qint64> m_lagSumMs{0};
};

} // namespace yieldhost
