// OutboxNotifier.h — wakes the outbox relays of every host process after this process committed
// outbox rows, with a NOTIFY sent outside the writer's transaction.
//
// A NOTIFY inside the writer's transaction makes PostgreSQL serialize the commits of all
// notifying transactions, WAL flush included: it holds one database-wide lock from just before
// the commit record until the transaction ends. Money transactions then committed one fsync at
// a time while holding their row locks. Sent afterwards from a session of its own, one NOTIFY
// covers every commit before it, and commits are flushed in groups again. Losing a wake-up (the
// process dies between its commit and the NOTIFY, the session is down) delays delivery until
// the relays' next poll (outbox.poll_ms), never loses an event.
#pragma once

#include "db/DatabaseUrl.h"

#include <QtCore/QMutex>
#include <QtCore/QWaitCondition>

#include <thread>

namespace yieldhost {

class OutboxNotifier
{
public:
    explicit OutboxNotifier(DatabaseUrl url) : m_url(std::move(url)) {}
    // Sends a NOTIFY still owed, then closes its session.
    ~OutboxNotifier();
    OutboxNotifier(const OutboxNotifier &) = delete;
    OutboxNotifier &operator=(const OutboxNotifier &) = delete;

    // A transaction that wrote outbox rows committed. Any thread; never waits for the server.
    // The first call starts the notifying thread.
    void committed();

private:
    void run();

    DatabaseUrl m_url;
    QMutex m_mutex;
    QWaitCondition m_wake;
    bool m_pending = false;
    bool m_stopping = false;
    std::thread m_thread;
};

} // namespace yieldhost
