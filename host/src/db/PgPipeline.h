// PgPipeline.h — statements sent with libpq's asynchronous API from the calling thread's event loop.
//
// A plain query from an HTTP thread used to hop to a DB thread and back, one statement per
// round trip per connection. Here each thread that queries gets a few connections of its own in
// libpq's pipeline mode: statements from concurrent requests are sent back to back without
// waiting (each followed by a sync point, so one statement's error never aborts another), the
// socket's notifier reads the replies in order, and each awaiting coroutine is resumed right
// there, on its own thread. Transactions (which run a blocking function) and statements without
// parameters (which may hold several commands) keep using the DB thread pool.
#pragma once

#include "db/DatabaseUrl.h"
#include "db/PgExec.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QHash>
#include <QtCore/QObject>
#include <QtCore/QSocketNotifier>

#include <QCoro/QCoroTask>

#include <coroutine>
#include <deque>
#include <memory>

namespace yieldhost {

class PgPipelinePool;

// One statement waiting for, or being served by, a connection.
struct PgPipelineRequest
{
    QString sql;
    QVariantList params;
    SqlResult result;
    std::coroutine_handle<> waiter;
    bool retried = false;
    void resume() { waiter.resume(); }
};

class PgPipeline : public QObject
{
    Q_OBJECT
public:
    static constexpr int MaxInFlight = 32;

    PgPipeline(PgPipelinePool &pool, PGconn *connection);
    ~PgPipeline() override;

    int inFlight() const { return int(m_inFlight.size()); }
    // How long the oldest statement in flight has waited for its reply (0 when idle).
    qint64 stalledMs() const { return m_inFlight.empty() ? 0 : m_frontSince.elapsed(); }
    bool isBroken() const { return m_broken; }
    // Before a batch on a connection that sat idle: false (and the connection broken down) when
    // the server closed it meanwhile, e.g. in a restart. Nothing was sent, so the caller may send
    // the statement elsewhere — unlike after sending, when the server may have executed it.
    bool readyToSend();
    // Sends the statement; its waiter is resumed (from this thread's event loop) when it is done.
    void start(PgPipelineRequest *request);

private:
    struct InFlight
    {
        PgPipelineRequest *request = nullptr;
        PGresult *result = nullptr; // the first error, else the last result
        bool failed = false;
    };
    void onReadable();
    void onWritable();
    void flush();
    void breakDown(const QString &message);

    PgPipelinePool &m_pool;
    PGconn *m_connection;
    std::unique_ptr<QSocketNotifier> m_read;
    std::unique_ptr<QSocketNotifier> m_write;
    QHash<QString, QByteArray> m_prepared; // SQL -> statement name
    int m_next = 0;
    std::deque<InFlight> m_inFlight;
    bool m_broken = false;
    bool m_flushPosted = false;
    QElapsedTimer m_lastReply;
    QElapsedTimer m_frontSince;
};

// The connections of one thread to one database.
class PgPipelinePool : public QObject
{
    Q_OBJECT
public:
    // `readOnlyServer`: a hot standby, where a statement cannot change anything, so one whose
    // connection broke after sending may be sent again.
    PgPipelinePool(DatabaseUrl url, int maxConnections, bool readOnlyServer = false);
    ~PgPipelinePool() override;

    // Resumes the awaiting coroutine on this thread when the statement is done.
    void submit(PgPipelineRequest *request);
    // Connection side.
    void connectionFree(PgPipeline *connection);
    void retry(PgPipelineRequest *request); // first in line again, on another connection
    bool isReadOnlyServer() const { return m_readOnlyServer; }

private:
    void dispatch();
    QCoro::Task<> openConnection();

    DatabaseUrl m_url;
    int m_maxConnections;
    bool m_readOnlyServer;
    std::vector<std::unique_ptr<PgPipeline>> m_connections;
    std::deque<PgPipelineRequest *> m_queue;
    int m_connecting = 0;
    bool m_dispatching = false;
    bool m_again = false;
};

// co_await PgPipelineAwaitable{pool, sql, params}
class PgPipelineAwaitable
{
public:
    PgPipelineAwaitable(PgPipelinePool &pool, QString sql, QVariantList params) : m_pool(pool)
    {
        m_request.sql = std::move(sql);
        m_request.params = std::move(params);
    }
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> handle)
    {
        m_request.waiter = handle;
        m_pool.submit(&m_request);
    }
    SqlResult await_resume() { return std::move(m_request.result); }

private:
    PgPipelinePool &m_pool;
    PgPipelineRequest m_request; // lives in the suspended coroutine's frame
};

} // namespace yieldhost
