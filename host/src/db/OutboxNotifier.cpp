#include "db/OutboxNotifier.h"

#include "core/Logging.h"
#include "db/OutboxRelay.h"
#include "db/PgExec.h"

#include <QtCore/QByteArray>

#include <chrono>
#include <system_error>

namespace yieldhost {

OutboxNotifier::~OutboxNotifier()
{
    {
        const QMutexLocker lock(&m_mutex);
        m_stopping = true;
        m_wake.wakeAll();
    }
    if (m_thread.joinable())
        m_thread.join();
}

void OutboxNotifier::committed()
{
    const QMutexLocker lock(&m_mutex);
    m_pending = true;
    if (!m_thread.joinable() && !m_stopping) {
        try {
            m_thread = std::thread([this] { run(); });
        } catch (const std::system_error &e) { // the commit stands; the relays' poll delivers
            qCWarning(lcDb).noquote() << "outbox wake-ups disabled: no thread for them:" << e.what();
            m_stopping = true;
        }
    }
    m_wake.wakeOne();
}

void OutboxNotifier::run()
{
    const QByteArray notify = "SELECT pg_notify('" + QByteArray(OutboxRelay::NotifyChannel) + "', '')";
    PGconn *connection = nullptr;
    bool warned = false;
    QMutexLocker lock(&m_mutex);
    for (;;) {
        while (!m_pending && !m_stopping)
            m_wake.wait(&m_mutex);
        // At stop, a wake-up owed is sent on an open session only: connecting to a server that
        // may be gone could hold the shutdown for the connect timeout, and polling covers it.
        if (!m_pending || (m_stopping && !connection))
            break;
        m_pending = false; // a commit after this point asks for the next NOTIFY
        lock.unlock();
        QString error;
        if (!connection)
            connection = PgExec::connect(m_url, "yieldhost-outbox-notify", &error);
        if (connection) {
            PGresult *result = PQexec(connection, notify.constData());
            if (PQresultStatus(result) != PGRES_TUPLES_OK) {
                error = QString::fromUtf8(PQerrorMessage(connection)).trimmed();
                PQfinish(connection); // reopened for the next one
                connection = nullptr;
            }
            PQclear(result);
        }
        if (!error.isEmpty() && !warned) // once per outage: the relays' poll still delivers, later
            qCWarning(lcDb).noquote() << "outbox wake-up not sent (relays will find the rows by polling):" << error;
        warned = !error.isEmpty();
        // At most one NOTIFY per millisecond: each is a transaction of its own and wakes every
        // relay, so under a stream of small commits a pause gathers them (1 ms more lag at most).
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        lock.relock();
    }
    lock.unlock();
    if (connection)
        PQfinish(connection);
}

} // namespace yieldhost
