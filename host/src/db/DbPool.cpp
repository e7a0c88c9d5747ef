#include "db/DbPool.h"

#include "core/Logging.h"
#include "db/OutboxNotifier.h"
#include "db/PgExec.h"
#include "db/PgPipeline.h"

#include <QtCore/QAbstractEventDispatcher>
#include <QtCore/QElapsedTimer>
#include <QtCore/QHash>
#include <QtCore/QSemaphore>
#include <QtCore/QThread>
#include <QtSql/QSqlDatabase>
#include <QtSql/QSqlDriver>
#include <QtSql/QSqlError>

#include "yieldhost/RunOn.h"

#include "yieldhost/HostAccess.h"

#include <utility>


namespace yieldhost {

namespace {

std::atomic<int> s_poolIds{0};

// A connection that was idle this long is checked with a round trip before use, so a server
// restart costs one reconnect instead of one failed request per pooled connection.
constexpr qint64 IdleCheckMs = 2000;

} // namespace

class DbConnection
{
public:
    DbConnection(const DatabaseUrl &url, const QString &name) : m_url(url), m_name(name) {}
    ~DbConnection()
    {
        m_exec.reset();
        if (m_db.isValid())
            m_db.close();
        m_db = QSqlDatabase();
        QSqlDatabase::removeDatabase(m_name);
    }

    bool ensureOpen(DbError *error)
    {
        if (m_exec && !m_broken) {
            if (m_idle.isValid() && m_idle.elapsed() > IdleCheckMs && m_exec->exec(QStringLiteral("SELECT 1"), {}).error())
                m_broken = true;
            if (!m_broken)
                return true;
        }
        m_exec.reset();
        if (!m_db.isValid()) {
            m_db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), m_name);
            m_db.setHostName(m_url.host);
            m_db.setPort(m_url.port);
            m_db.setUserName(m_url.user);
            m_db.setPassword(m_url.password);
            m_db.setDatabaseName(m_url.database);
            m_db.setConnectOptions(QStringLiteral("connect_timeout=%1;application_name=yieldhost").arg(m_url.connectTimeoutSeconds));
        }
        m_db.close();
        if (!m_db.open()) {
            error->kind = DbError::Kind::Unavailable;
            error->message = m_db.lastError().text();
            return false;
        }
        const QVariant handle = m_db.driver()->handle();
        PGconn *connection = handle.isValid() ? *static_cast<PGconn *const *>(handle.constData()) : nullptr;
        if (!connection) {
            error->kind = DbError::Kind::Unavailable;
            error->message = QStringLiteral("the QPSQL driver did not expose its libpq connection");
            return false;
        }
        PgExec::routeNotices(connection); // QPSQL leaves libpq's default: raw lines on stderr
        m_exec.emplace(connection);
        // Timestamps travel as UTC text both ways.
        m_exec->exec(QStringLiteral("SET TIME ZONE 'UTC'"), {});
        if (m_broken)
            qCInfo(lcDb) << "reconnected to" << m_url.redacted();
        m_broken = false;
        return true;
    }

    SqlResult exec(const QString &sql, const QVariantList &params)
    {
        SqlResult result = m_exec->exec(sql, params);
        if (result.error().kind == DbError::Kind::Unavailable)
            m_broken = true;
        touch();
        return result;
    }

    std::optional<DbError> defer(const QString &sql, const QVariantList &params) { return m_exec->defer(sql, params); }

    // BEGIN travels with the transaction's first statement.
    void begin(const QString &sql)
    {
        m_exec->discardDeferred();
        m_exec->defer(sql, {});
    }

    // Ends whatever the server still has open: a transaction whose BEGIN never left needs no
    // ROLLBACK, and a COMMIT that a failed deferred statement made the server skip does.
    void rollback()
    {
        m_exec->discardDeferred();
        if (m_exec->inTransaction())
            exec(QStringLiteral("ROLLBACK"), {});
    }

    QSqlDatabase &database() { return m_db; }
    void touch() { m_idle.start(); }

private:
    DatabaseUrl m_url;
    QString m_name;
    QSqlDatabase m_db;
    std::optional<PgExec> m_exec; // on the libpq connection of m_db
    bool m_broken = false;
    QElapsedTimer m_idle;
};

namespace {

// Each pool thread serves one pool for its whole life, so one slot per thread suffices.
thread_local std::unique_ptr<DbConnection> t_connection;

DbConnection &threadConnection(const DatabaseUrl &url, const QString &poolName)
{
    if (!t_connection)
        t_connection = std::make_unique<DbConnection>(url, QStringLiteral("%1-%2").arg(poolName).arg(quintptr(QThread::currentThreadId())));
    return *t_connection;
}

class ConnectionTransaction final : public SqlTransaction
{
public:
    explicit ConnectionTransaction(DbConnection &connection) : m_connection(connection) {}
    SqlResult exec(const QString &sql, const QVariantList &params) override
    {
        if (m_refusal) // a deferred statement was refused: this is where its error is reported
            return SqlResultWriter::failed(*std::exchange(m_refusal, std::nullopt));
        SqlResult r = m_connection.exec(sql, params);
        if (r.error() && !m_error)
            m_error = r.error();
        return r;
    }
    void defer(const QString &sql, const QVariantList &params) override
    {
        if (std::optional<DbError> refused = m_connection.defer(sql, params)) {
            if (!m_error)
                m_error = *refused;
            if (!m_refusal)
                m_refusal = std::move(refused);
        }
    }
    const DbError &error() const { return m_error; }

private:
    DbConnection &m_connection;
    DbError m_error;
    std::optional<DbError> m_refusal;
};

bool isRetryable(const DbError &e)
{
    return e.kind == DbError::Kind::SerializationFailure || e.kind == DbError::Kind::Deadlock;
}

QString beginStatement(const TransactionOptions &options)
{
    QString sql = QStringLiteral("BEGIN ISOLATION LEVEL ");
    switch (options.isolation) {
    case TransactionOptions::Isolation::ReadCommitted: sql += QStringLiteral("READ COMMITTED"); break;
    case TransactionOptions::Isolation::RepeatableRead: sql += QStringLiteral("REPEATABLE READ"); break;
    case TransactionOptions::Isolation::Serializable: sql += QStringLiteral("SERIALIZABLE"); break;
    }
    if (options.readOnly)
        sql += QStringLiteral(" READ ONLY");
    return sql;
}

} // namespace

DbPool::DbPool(Settings settings) : m_settings(std::move(settings)), m_id(++s_poolIds)
{
    PgExec::initializeLibraries(); // before any of our threads opens a connection
    m_outboxNotifier = std::make_unique<OutboxNotifier>(m_settings.primary);
    auto makePool = [this](const QString &name) {
        auto pool = std::make_unique<QThreadPool>();
        pool->setMaxThreadCount(std::max(1, m_settings.poolSize));
        pool->setExpiryTimeout(-1); // threads (and their connections) live as long as the pool
        pool->setObjectName(name);
        return pool;
    };
    m_primaryPool = makePool(QStringLiteral("db-primary"));
    if (m_settings.replica)
        m_replicaPool = makePool(QStringLiteral("db-replica"));
}

// Closes every thread's connection on its own thread while the threads still run normally,
// rather than in thread_local destructors at thread exit, when Qt's per-thread data is already
// being torn down. N tasks that wait for each other occupy all N threads, one each.
static void closeConnections(QThreadPool &pool)
{
    const int threads = pool.maxThreadCount();
    QSemaphore arrived;
    for (int i = 0; i < threads; ++i) {
        pool.start([&arrived, threads] {
            arrived.release();
            arrived.acquire(threads); // wait until every thread holds one of these tasks
            arrived.release(threads);
            t_connection.reset();
        });
    }
    pool.waitForDone();
}

DbPool::~DbPool()
{
    {
        QMutexLocker lock(&m_asyncLock);
        for (auto &byThread : m_async) {
            for (auto it = byThread.cbegin(); it != byThread.cend(); ++it) {
                QObject::disconnect(it.key(), &QThread::finished, it.value(), nullptr);
                if (it.key() == QThread::currentThread())
                    delete it.value();
                else // its thread still runs: it cannot be deleted from here (never happens in the host)
                    qCWarning(lcDb) << "a querying thread outlives its database pool; its connections stay open until exit";
            }
            byThread.clear();
        }
    }
    closeConnections(*m_primaryPool);
    if (m_replicaPool)
        closeConnections(*m_replicaPool);
    m_primaryPool.reset();
    m_replicaPool.reset();
}

QThreadPool *DbPool::poolFor(DbTarget target) const
{
    return target == DbTarget::Replica && m_replicaPool ? m_replicaPool.get() : m_primaryPool.get();
}

PgPipelinePool *DbPool::asyncPool(bool replica)
{
    if (m_settings.asyncConnectionsPerThread <= 0)
        return nullptr;
    QThread *thread = QThread::currentThread();
    if (!QAbstractEventDispatcher::instance(thread))
        return nullptr; // no event loop to read replies on
    QMutexLocker lock(&m_asyncLock);
    QHash<QThread *, PgPipelinePool *> &byThread = m_async[replica ? 1 : 0];
    if (PgPipelinePool *pool = byThread.value(thread))
        return pool;
    auto *pool = new PgPipelinePool(replica ? *m_settings.replica : m_settings.primary, m_settings.asyncConnectionsPerThread, replica);
    byThread.insert(thread, pool);
    // The pool's sockets belong to this thread: close them on it, as it ends.
    QObject::connect(thread, &QThread::finished, pool, [this, thread, pool, replica] {
        {
            QMutexLocker lock(&m_asyncLock);
            m_async[replica ? 1 : 0].remove(thread);
        }
        delete pool;
    }, Qt::DirectConnection);
    return pool;
}

QCoro::Task<SqlResult> DbPool::query(QString sql, QVariantList params, DbTarget target)
{
    const bool replica = target == DbTarget::Replica && m_replicaPool;
    // Without parameters a statement may hold several commands, which the extended protocol
    // (and so the pipeline) cannot carry.
    PgPipelinePool *async = params.isEmpty() ? nullptr : asyncPool(replica);
    if (async) {
        ++m_busy;
        SqlResult result = co_await PgPipelineAwaitable(*async, std::move(sql), std::move(params));
        --m_busy;
        if (result.error() && result.error().kind != DbError::Kind::UniqueViolation)
            qCWarning(lcDb).noquote() << "query failed:" << result.error().sqlState << result.error().message.trimmed();
        co_return result;
    }
    const DatabaseUrl url = replica ? *m_settings.replica : m_settings.primary;
    const QString name = QStringLiteral("yh%1-%2").arg(m_id).arg(replica ? QLatin1String("replica") : QLatin1String("primary"));
    ++m_busy;
    auto work = [url, name, sql = std::move(sql), params = std::move(params)] {
        DbConnection &connection = threadConnection(url, name);
        DbError error;
        if (!connection.ensureOpen(&error)) {
            SqlResult r;
            SqlResultWriter::setError(r, error);
            return r;
        }
        return connection.exec(sql, params);
    };
    SqlResult result = co_await runOn(poolFor(target), std::move(work));
    --m_busy;
    if (result.error() && result.error().kind != DbError::Kind::UniqueViolation)
        qCWarning(lcDb).noquote() << "query failed:" << result.error().sqlState << result.error().message.trimmed();
    co_return result;
}

QCoro::Task<TransactionOutcome> DbPool::transaction(std::function<Status(SqlTransaction &)> work, TransactionOptions options)
{
    const DatabaseUrl url = m_settings.primary;
    const QString name = QStringLiteral("yh%1-primary").arg(m_id);
    ++m_busy;
    auto job = [url, name, work = std::move(work), options, notifier = m_outboxNotifier.get()] {
        DbConnection &connection = threadConnection(url, name);
        TransactionOutcome outcome;
        const int maxAttempts = std::max(1, options.maxAttempts);
        for (outcome.attempts = 1; outcome.attempts <= maxAttempts; ++outcome.attempts) {
            outcome.error = DbError();
            outcome.failure.clear();
            if (!connection.ensureOpen(&outcome.error))
                return outcome;
            connection.begin(beginStatement(options));
            OutboxCounters::takeWrittenOnThisThread(); // forget what an earlier attempt wrote
            ConnectionTransaction tx(connection);
            Status status;
            try {
                status = work(tx);
            } catch (const std::exception &e) {
                status = Status::failure(QStringLiteral("the transaction function threw: %1").arg(QString::fromUtf8(e.what())));
            } catch (...) {
                status = Status::failure(QStringLiteral("the transaction function threw"));
            }
            if (status.ok() && !tx.error()) {
                const SqlResult commit = connection.exec(QStringLiteral("COMMIT"), {});
                if (!commit.error()) {
                    outcome.committed = true;
                    if (OutboxCounters::takeWrittenOnThisThread())
                        notifier->committed();
                    return outcome;
                }
                outcome.error = commit.error();
                connection.rollback();
            } else {
                outcome.error = tx.error();
                outcome.failure = status.ok() ? QStringLiteral("a statement failed") : status.error();
                connection.rollback();
            }
            if (!isRetryable(outcome.error))
                return outcome;
        }
        outcome.attempts = maxAttempts;
        return outcome;
    };
    TransactionOutcome outcome = co_await runOn(m_primaryPool.get(), std::move(job));
    --m_busy;
    if (outcome.error && !isRetryable(outcome.error) && outcome.error.kind != DbError::Kind::UniqueViolation)
        qCWarning(lcDb).noquote() << "transaction failed:" << outcome.error.sqlState << outcome.error.message.trimmed();
    co_return outcome;
}

QCoro::Task<Status> DbPool::withConnection(std::function<Status(QSqlDatabase &)> work)
{
    const DatabaseUrl url = m_settings.primary;
    const QString name = QStringLiteral("yh%1-primary").arg(m_id);
    auto job = [url, name, work = std::move(work)] {
        DbConnection &connection = threadConnection(url, name);
        DbError error;
        if (!connection.ensureOpen(&error))
            return Status::failure(QStringLiteral("the database is unavailable: %1").arg(error.message.trimmed()));
        Status s = work(connection.database());
        connection.touch();
        return s;
    };
    co_return co_await runOn(m_primaryPool.get(), std::move(job));
}

} // namespace yieldhost
