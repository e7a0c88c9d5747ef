// PgExec.h — statements on a libpq connection: "?" placeholders bound as text parameters of a
// server-side prepared statement, results converted by column type (NUMERIC stays text, never
// double; timestamps are UTC QDateTimes).
//
// The pool talks to libpq directly on the connection QPSQL opened: QPSQL formats every execution
// as an `EXECUTE name (literal, ...)` string and converts results through QSqlRecord, which cost a
// large share of a small query's time.
#pragma once

#include "db/DatabaseUrl.h"

#include "yieldhost/Database.h"

#include <QtCore/QByteArray>
#include <QtCore/QHash>
#include <QtCore/QVariant>

#include <libpq-fe.h>

#include <vector>

namespace yieldhost {

class PgExec
{
public:
    // Rewrites "?" placeholders as $1..$n, leaving quoted strings, identifiers, dollar-quoted
    // bodies and comments alone.
    static QByteArray positional(const QString &sql, int *count);
    // Text form of a bound value, or nullopt for SQL NULL.
    static std::optional<QByteArray> text(const QVariant &value);
    // Why `value` cannot be bound (a type the binder does not know — *unknownType is then set —
    // or text with NUL), or empty. Lists bind as PostgreSQL arrays, element by element.
    static QString unbindableReason(const QVariant &value, bool *unknownType = nullptr);
    // libpq sends text parameters as C strings: a NUL would silently cut the value short
    // ("x\0yz" stored as "x"). Such a statement is refused before it is sent, and so is one with
    // a value of a type the binder does not know (it used to go out as "").
    static std::optional<DbError> refusedParameter(const QVariantList &params);
    // Bound values as libpq takes them: one C string per value, nullptr for SQL NULL.
    class BoundValues
    {
    public:
        explicit BoundValues(const QVariantList &params);
        int count() const { return int(m_values.size()); }
        const char *const *data() const { return m_values.data(); }

    private:
        QList<QByteArray> m_storage;
        std::vector<const char *> m_values;
    };
    static SqlResult result(PGconn *connection, PGresult *result);
    // A session of our own (blocking: call it off any event loop), in UTC, with server notices
    // routed through routeNotices(); nullptr and *error when the server cannot be reached.
    static PGconn *connect(const DatabaseUrl &url, const char *applicationName, QString *error);
    // Server notices of `connection` go to the log (category yieldhost.db) instead of libpq's
    // default, a raw line on stderr: WARNING as a warning, NOTICE, INFO, LOG and DEBUG at debug
    // level (e.g. "relation ... already exists, skipping" from CREATE ... IF NOT EXISTS, which
    // is expected on every start). For our sessions and for QPSQL's, which sets no receiver.
    static void routeNotices(PGconn *connection);
    // Call before the first connection of the process (connect() and DbPool do). libpq's SCRAM
    // authentication initializes OpenSSL, which by default frees its state in an atexit handler;
    // a database thread that ends after that (a static thread pool joined at exit) then runs
    // libcrypto's thread-local destructors on freed memory. Initialized first and without the
    // handler, the state lives until the process ends, as the threads do.
    static void initializeLibraries();

    explicit PgExec(PGconn *connection) : m_connection(connection) {}
    // Runs the statement; statements defer() queued go first, in the same pipeline (one round
    // trip). The first of them that fails gives its error as the result, and the server skips
    // the rest: they ran inside the caller's transaction, which is now to be rolled back.
    SqlResult exec(const QString &sql, const QVariantList &params);
    // Queues a statement for the next exec(). One that cannot be bound is refused here, with
    // nothing queued. A statement without parameters goes out over the extended protocol, so it
    // must be a single statement.
    std::optional<DbError> defer(const QString &sql, const QVariantList &params);
    // Drops the queued statements that were never sent.
    void discardDeferred() { m_deferred.clear(); }
    // The server has a transaction open on this connection (as of its last reply).
    bool inTransaction() const
    {
        const PGTransactionStatusType status = PQtransactionStatus(m_connection);
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
    }
    void forgetStatements() { m_prepared.clear(); }

private:
    struct Statement
    {
        QString sql;
        QVariantList params;
    };
    std::optional<DbError> refused(const QString &sql, const QVariantList &params) const;
    SqlResult execOne(const QString &sql, const QVariantList &params);
    SqlResult execPipeline(const QList<Statement> &statements);

    PGconn *m_connection;
    QHash<QString, QByteArray> m_prepared; // SQL -> statement name
    QList<Statement> m_deferred;
    int m_next = 0;
};

} // namespace yieldhost
