// ClockSync.h — keeps this process's HostClock in step with the offset stored in PostgreSQL.
//
// Every host process (serve, worker, beat, on any machine) runs one. It reads host_clock once at
// start, then LISTENs on "yieldhost_clock" (a trigger notifies at the commit of every change, so a
// jump reaches every listening process within a round trip), and re-reads the row every
// `resyncMs` as well: a notification sent while the listening session was reconnecting is lost,
// and the periodic read is what catches it. The job queue and the beat do not depend on this
// copy at all — their SQL compares with host_now() in PostgreSQL itself.
#pragma once

#include "core/HostClock.h"

#include "yieldhost/Database.h"

#include <QtCore/QObject>
#include <QtCore/QTimer>

#include <QCoro/QCoroTask>

#include <memory>

namespace yieldhost {

class DbPool;
class PgListener;

class ClockSync : public QObject
{
    Q_OBJECT
public:
    static constexpr const char *NotifyChannel = "yieldhost_clock";

    ClockSync(DbPool &db, HostClock &clock, int resyncMs, QObject *parent = nullptr);
    ~ClockSync() override;

    // Reads the offset once (the result says whether that worked), then keeps listening and
    // re-reading until destroyed. Call after the host's migrations are applied.
    QCoro::Task<DbError> start();
    // Reads the stored offset now and applies it (all a one-shot command such as run-task needs).
    QCoro::Task<DbError> refresh();
    // Stops listening and re-reading; returns once no statement of its session is in flight, so
    // the session can go (destroying it mid-statement would resume a coroutine into freed memory).
    QCoro::Task<> stop();
    // An offset read elsewhere (a job claim returns the one its statement saw). Applied only when
    // it is ahead of ours: the offset never moves back, and a reply can arrive after a newer
    // notification.
    void advanceTo(qint64 offsetMs);

private:
    void apply(qint64 offsetMs);

    DbPool &m_db;
    HostClock &m_clock;
    QTimer m_resync;
    std::unique_ptr<PgListener> m_listener;
    int m_reading = 0; // refresh() calls awaiting the database
    bool m_stopping = false;
};

} // namespace yieldhost
