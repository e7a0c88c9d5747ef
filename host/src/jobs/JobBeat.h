// JobBeat.h — the periodic scheduler: enqueues each registered schedule's task on its cron ticks.
//
// Exactly one beat leads across the cluster: the one whose dedicated session holds a
// PostgreSQL advisory lock (released by the server when that session or process dies, so
// another beat takes over on its next tick). Firing is also safe without the lock: a due
// schedule row is locked, its job enqueued and its next_run_at advanced in one transaction, so
// one tick enqueues one job even if two beats ever overlapped. Ticks missed while no beat ran
// fire once, not once per missed tick: next_run_at moves to the first tick after now.
#pragma once

#include "jobs/JobStore.h"

#include <QtCore/QObject>
#include <QtCore/QTimer>

#include <memory>

namespace yieldhost {

class DbPool;
class PgSession;

class JobBeat : public QObject
{
    Q_OBJECT
public:
    static constexpr qint64 LeaderLockKey = 0x59484245415400; // "YHBEAT"

    JobBeat(int tickMs, DbPool &db, JobRegistry &registry, QObject *parent = nullptr);
    ~JobBeat() override;

    void start();
    // Stops ticking and waits for a tick in progress (its transaction uses this object).
    QCoro::Task<> stop();
    bool isLeader() const { return m_leader; }

private:
    QCoro::Task<> tick();
    QCoro::Task<bool> syncSchedules();
    QCoro::Task<> fireDue();

    DbPool &m_db;
    JobRegistry &m_registry;
    JobStore m_store;
    std::unique_ptr<PgSession> m_session;
    QTimer m_timer;
    bool m_leader = false;
    bool m_synced = false;
    bool m_ticking = false;
    bool m_stopping = false;
};

} // namespace yieldhost
