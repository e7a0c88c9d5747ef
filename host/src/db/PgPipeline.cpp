#include "db/PgPipeline.h"

#include "core/Logging.h"

#include "yieldhost/RunOn.h"

#include "yieldhost/HostAccess.h"

#include <QtCore/QPointer>
#include <QtCore/QThreadPool>

#include <poll.h>

namespace yieldhost {

namespace {

constexpr int StatementCacheLimit = 256;
// A connection idle this long is checked for a close by the server before it is used (one poll):
// a restart closes every session, and a statement sent into a closed one would fail as 503.
constexpr qint64 CheckIdleAfterMs = 1000;
// A connection whose oldest statement has waited this long is left alone by new statements.
constexpr qint64 StallMs = 20;

DbError unavailableError(const QString &message)
{
    DbError e;
    e.kind = DbError::Kind::Unavailable;
    e.message = message;
    return e;
}

void resumeLater(QObject *context, std::coroutine_handle<> handle)
{
    QMetaObject::invokeMethod(context, [handle] { handle.resume(); }, Qt::QueuedConnection);
}

struct Opened
{
    PGconn *connection = nullptr;
    QString error;
};

Opened openBlocking(const DatabaseUrl &url)
{
    Opened out;
    out.connection = PgExec::connect(url, "yieldhost", &out.error);
    if (out.connection)
        PQsetnonblocking(out.connection, 1);
    return out;
}

QThreadPool &connectThreads()
{
    // Connecting blocks (DNS, TCP, authentication); never on an event loop.
    static QThreadPool pool;
    pool.setMaxThreadCount(4);
    return pool;
}

} // namespace

// --- PgPipeline ---

PgPipeline::PgPipeline(PgPipelinePool &pool, PGconn *connection)
    : QObject(&pool)
    , m_pool(pool)
    , m_connection(connection)
    , m_read(std::make_unique<QSocketNotifier>(PQsocket(connection), QSocketNotifier::Read))
    , m_write(std::make_unique<QSocketNotifier>(PQsocket(connection), QSocketNotifier::Write))
{
    m_write->setEnabled(false);
    connect(m_read.get(), &QSocketNotifier::activated, this, &PgPipeline::onReadable);
    connect(m_write.get(), &QSocketNotifier::activated, this, &PgPipeline::onWritable);
    m_lastReply.start();
    if (!PQenterPipelineMode(m_connection))
        breakDown(QString::fromUtf8(PQerrorMessage(m_connection)).trimmed());
}

PgPipeline::~PgPipeline()
{
    m_read.reset();
    m_write.reset();
    for (InFlight &f : m_inFlight)
        if (f.result)
            PQclear(f.result);
    PQfinish(m_connection);
}

void PgPipeline::start(PgPipelineRequest *request)
{
    if (m_inFlight.empty())
        m_frontSince.start();
    const PgPipelineRequest &r = *request;
    if (const std::optional<DbError> refused = PgExec::refusedParameter(r.params)) {
        request->result = SqlResultWriter::failed(*refused);
        resumeLater(&m_pool, request->waiter);
        return;
    }
    QByteArray name = m_prepared.value(r.sql);
    QByteArray text;
    if (name.isEmpty()) {
        int count = 0;
        text = PgExec::positional(r.sql, &count);
        if (count != r.params.size()) {
            request->result = SqlResult();
            SqlResultWriter::setError(request->result, DbError{DbError::Kind::Query, QString(),
                                             QStringLiteral("the statement has %1 placeholders but %2 values were bound").arg(count).arg(r.params.size())});
            resumeLater(&m_pool, request->waiter);
            return;
        }
        // Later statements of the pipeline may use the name right away: the server handles
        // the Parse before their Bind.
        if (m_prepared.size() < StatementCacheLimit) {
            name = "ya_" + QByteArray::number(++m_next);
            if (!PQsendPrepare(m_connection, name.constData(), text.constData(), count, nullptr)) {
                m_inFlight.push_back(InFlight{request, nullptr, false});
                breakDown(QString::fromUtf8(PQerrorMessage(m_connection)).trimmed());
                return;
            }
            m_prepared.insert(r.sql, name);
        }
    }
    const PgExec::BoundValues values(r.params);
    const int sent = !name.isEmpty()
                         ? PQsendQueryPrepared(m_connection, name.constData(), values.count(), values.data(), nullptr, nullptr, 0)
                         : PQsendQueryParams(m_connection, text.constData(), values.count(), nullptr, values.data(), nullptr, nullptr, 0);
    m_inFlight.push_back(InFlight{request, nullptr, false});
    if (!sent || !PQpipelineSync(m_connection)) {
        breakDown(QString::fromUtf8(PQerrorMessage(m_connection)).trimmed());
        return;
    }
    // Statements queued during this pass of the event loop leave in one write, so the server
    // reads (and wakes for) many at once.
    if (!m_flushPosted) {
        m_flushPosted = true;
        QMetaObject::invokeMethod(this, [this] {
            m_flushPosted = false;
            if (!m_broken)
                flush();
        }, Qt::QueuedConnection);
    }
}

bool PgPipeline::readyToSend()
{
    if (m_broken)
        return false;
    if (!m_inFlight.empty() || m_lastReply.elapsed() < CheckIdleAfterMs)
        return true;
    // An idle pipelined session has nothing to read unless the server is going away: a FATAL
    // "terminating connection" message, then the end of the stream (read on the next pass).
    for (int pass = 0; pass < 3; ++pass) {
        pollfd p{PQsocket(m_connection), POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0)
            return true;
        if (!PQconsumeInput(m_connection) || PQstatus(m_connection) == CONNECTION_BAD) {
            qCDebug(lcDb) << "a pooled connection was closed by the server while idle; opening another";
            breakDown(QString::fromUtf8(PQerrorMessage(m_connection)).trimmed());
            return false;
        }
    }
    return true;
}

void PgPipeline::flush()
{
    const int r = PQflush(m_connection);
    if (r < 0) {
        breakDown(QString::fromUtf8(PQerrorMessage(m_connection)).trimmed());
        return;
    }
    m_write->setEnabled(r == 1);
    // Sending can make libpq read what the server already answered; the socket then has nothing
    // left to signal, so look at the buffered replies from the event loop.
    if (!m_inFlight.empty() && !PQisBusy(m_connection))
        QMetaObject::invokeMethod(this, &PgPipeline::onReadable, Qt::QueuedConnection);
}

void PgPipeline::onWritable()
{
    flush();
}

void PgPipeline::onReadable()
{
    if (!PQconsumeInput(m_connection)) {
        breakDown(QString::fromUtf8(PQerrorMessage(m_connection)).trimmed());
        return;
    }
    std::vector<PgPipelineRequest *> done;
    int nulls = 0;
    while (!m_inFlight.empty() && !PQisBusy(m_connection)) {
        PGresult *res = PQgetResult(m_connection);
        if (!res) {
            if (++nulls > 2)
                break; // nothing more buffered
            continue; // the end of one statement's results
        }
        nulls = 0;
        InFlight &front = m_inFlight.front();
        const ExecStatusType status = PQresultStatus(res);
        if (status == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            front.request->result = PgExec::result(m_connection, std::exchange(front.result, nullptr));
            done.push_back(front.request);
            m_inFlight.pop_front();
            m_frontSince.start();
            continue;
        }
        if (status == PGRES_FATAL_ERROR && !front.failed) {
            if (front.result)
                PQclear(front.result);
            front.result = res;
            front.failed = true; // keep the first error; what follows was aborted because of it
        } else if (front.failed || status == PGRES_PIPELINE_ABORTED) {
            PQclear(res);
        } else {
            if (front.result)
                PQclear(front.result); // e.g. the Prepare's reply before the execution's
            front.result = res;
        }
    }
    if (PQstatus(m_connection) == CONNECTION_BAD)
        breakDown(QString::fromUtf8(PQerrorMessage(m_connection)).trimmed());
    else if (!done.empty())
        m_lastReply.start();
    // Resume after the bookkeeping: a resumed coroutine may send its next statement here.
    for (PgPipelineRequest *request : done) {
        if (request->result.error().kind == DbError::Kind::Query && request->result.error().sqlState == QLatin1String("26000"))
            m_prepared.clear(); // a statement we thought prepared is gone (its Prepare failed)
        request->resume();
    }
    m_pool.connectionFree(this);
}

void PgPipeline::breakDown(const QString &message)
{
    if (m_broken)
        return;
    m_broken = true;
    m_read->setEnabled(false);
    m_write->setEnabled(false);
    // The statements in flight may have reached the server and run there (an INSERT that
    // committed before the connection broke): sending them again could run them twice, so they
    // fail as "unavailable" and the caller decides. Only on a read-only server, where running
    // twice changes nothing, do they go once more to a fresh connection.
    const bool resend = m_pool.isReadOnlyServer();
    std::deque<InFlight> inFlight;
    inFlight.swap(m_inFlight);
    for (InFlight &f : inFlight) {
        if (f.result)
            PQclear(f.result);
        if (resend && !f.request->retried) {
            f.request->retried = true;
            m_pool.retry(f.request);
            continue;
        }
        f.request->result = SqlResult();
        SqlResultWriter::setError(f.request->result, unavailableError(message));
        resumeLater(&m_pool, f.request->waiter); // we may be inside the caller's await_suspend
    }
    QMetaObject::invokeMethod(&m_pool, [pool = &m_pool, self = this] { pool->connectionFree(self); }, Qt::QueuedConnection);
}

// --- PgPipelinePool ---

PgPipelinePool::PgPipelinePool(DatabaseUrl url, int maxConnections, bool readOnlyServer)
    : m_url(std::move(url))
    , m_maxConnections(std::max(1, maxConnections))
    , m_readOnlyServer(readOnlyServer)
{
}

PgPipelinePool::~PgPipelinePool()
{
    // Waiters still queued belong to coroutines that will never be resumed (their thread is
    // ending); the frames are abandoned with it.
    m_connections.clear();
}

void PgPipelinePool::submit(PgPipelineRequest *request)
{
    m_queue.push_back(request);
    dispatch();
}

void PgPipelinePool::retry(PgPipelineRequest *request)
{
    m_queue.push_front(request);
}

void PgPipelinePool::connectionFree(PgPipeline *)
{
    dispatch();
}

void PgPipelinePool::dispatch()
{
    // Starting a request can fail at once and call back in here; loop instead of recursing, so
    // m_connections is never changed under an iteration.
    if (m_dispatching) {
        m_again = true;
        return;
    }
    m_dispatching = true;
    do {
        m_again = false;
        for (size_t i = 0; i < m_connections.size();) {
            if (m_connections[i]->isBroken()) {
                m_connections[i].release()->deleteLater(); // we may be inside one of its signals
                m_connections.erase(m_connections.begin() + qsizetype(i));
            } else {
                ++i;
            }
        }
        while (!m_queue.empty()) {
            // Everything goes down the first connection that is not stuck behind a slow
            // statement: deep pipelines batch best. Another connection opens (up to the limit)
            // only when every open one is stalled.
            PgPipeline *target = nullptr;
            for (auto &c : m_connections) {
                if (!c->isBroken() && c->inFlight() < PgPipeline::MaxInFlight && c->stalledMs() < StallMs) {
                    target = c.get();
                    break;
                }
            }
            if (!target) {
                if (m_connecting > 0)
                    break; // the new connection takes the queue when it is up
                if (int(m_connections.size()) < m_maxConnections) {
                    openConnection();
                    break;
                }
                for (auto &c : m_connections)
                    if (!c->isBroken() && c->inFlight() < PgPipeline::MaxInFlight && (!target || c->inFlight() < target->inFlight()))
                        target = c.get();
                if (!target)
                    break; // every pipeline is full: wait for replies
            }
            if (!target->readyToSend()) {
                m_again = true; // drop it and choose again; the statement was not sent
                continue;
            }
            PgPipelineRequest *request = m_queue.front();
            m_queue.pop_front();
            target->start(request);
        }
    } while (m_again);
    m_dispatching = false;
}

QCoro::Task<> PgPipelinePool::openConnection()
{
    ++m_connecting;
    QPointer<PgPipelinePool> self(this);
    const DatabaseUrl url = m_url;
    auto work = [url] { return openBlocking(url); };
    const Opened opened = co_await runOn(&connectThreads(), std::move(work));
    if (!self) {
        if (opened.connection)
            PQfinish(opened.connection);
        co_return;
    }
    --m_connecting;
    if (!opened.connection) {
        // Everyone waiting now gets the outage (503 + Retry-After upstream).
        qCDebug(lcDb).noquote() << "cannot connect:" << opened.error;
        std::deque<PgPipelineRequest *> waiting;
        waiting.swap(m_queue);
        for (PgPipelineRequest *request : waiting) {
            request->result = SqlResult();
            SqlResultWriter::setError(request->result, unavailableError(opened.error));
            request->resume();
        }
        co_return;
    }
    m_connections.push_back(std::make_unique<PgPipeline>(*this, opened.connection));
    dispatch();
}

} // namespace yieldhost
