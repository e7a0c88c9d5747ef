// Database.h — PostgreSQL for plugins, without ever blocking an event loop.
//
// SQL runs on a small pool of DB threads, each owning its own connection; handlers await it.
// Every value is bound ("?" placeholders); none is assembled into SQL text. Money is bound as a
// Decimal's text and read back from NUMERIC as text (never through double).
//
// Example (snippet "database-query"; every example here is compiled in sdk/examples/snippets):
//   const QVariantList params{id}; // a braced list inside co_await does not compile on GCC 12
//   const SqlResult r = co_await ctx.database().query(u"SELECT balance FROM snippets_wallet WHERE id = ?"_s, params);
//   if (r.error())
//       co_return problemFor(r.error()).toResponse(); // problemFor: Http.h
//   const std::optional<Decimal> balance = r.decimal(0, u"balance"_s);
//
// A transaction is a function run on a DB thread between BEGIN and COMMIT. It may block (it is
// on a DB thread) but must not touch event-loop objects. A failed Status, an exception or a
// failed statement rolls back; serialization failures and deadlocks re-run the function.
// Example (snippet "database-transaction"):
//   auto work = [&](SqlTransaction &tx) -> Status {
//       const SqlResult debit = tx.exec(u"UPDATE snippets_wallet SET balance = balance - ? WHERE id = ? AND balance >= ?"_s,
//                                       {amount.toString(), id, amount.toString()});
//       if (debit.error())
//           return Status::failure(u"debit failed"_s);
//       if (debit.rowsAffected() == 0)
//           return Status::failure(u"insufficient funds"_s);
//       return {};
//   };
//   const TransactionOutcome t = co_await ctx.database().transaction(std::move(work));
// Variables captured by reference stay valid: the awaiting coroutine is suspended meanwhile.
// With GCC 12, build a capturing lambda in a local variable and co_await the call on the next
// line: GCC 12 double-frees the captures of a lambda written inside a co_await expression. For
// the same compiler, keep braced lists ({a, b}) and ?: expressions yielding objects out of
// co_await expressions too (see docs/database.md).
#pragma once

#include "yieldhost/Decimal.h"
#include "yieldhost/Global.h"
#include "yieldhost/Status.h"

#include <QtCore/QJsonObject>
#include <QtCore/QSharedDataPointer>
#include <QtCore/QStringList>
#include <QtCore/QVariant>

#include <QCoro/QCoroTask>

#include <functional>
#include <optional>

namespace yieldhost {

struct YIELDHOST_SDK_EXPORT DbError
{
    enum class Kind {
        None,
        Unavailable,          // cannot connect, connection lost, server shutting down
        UniqueViolation,      // 23505
        ForeignKeyViolation,  // 23503
        CheckViolation,       // 23514, 23502
        SerializationFailure, // 40001
        Deadlock,             // 40P01
        Query,                // anything else: a bug in the SQL or the schema
        InvalidValue,         // a bound value PostgreSQL cannot store as given (text with NUL); nothing was sent
    };
    Kind kind = Kind::None;
    QString sqlState;
    QString message; // the server's words, for logs; never sent to clients

    explicit operator bool() const { return kind != Kind::None; }
    static DbError fromSqlState(const QString &sqlState, const QString &message);
};

class SqlResultData;
class YIELDHOST_SDK_EXPORT SqlResult
{
public:
    SqlResult();
    SqlResult(const SqlResult &);
    SqlResult &operator=(const SqlResult &);
    ~SqlResult();

    const DbError &error() const;
    // SDK 1.1: the constraint a failed statement violated ("wallets_wallet_user_currency_key"),
    // empty for other errors — turn a unique_violation into your own 409 by name, never by
    // matching message text. (Not on DbError, whose layout SDK 1.0 plugins depend on.)
    QString constraint() const;
    qsizetype size() const; // rows returned
    bool isEmpty() const { return size() == 0; }
    qint64 rowsAffected() const;
    const QStringList &columns() const;

    QVariant value(qsizetype row, const QString &column) const; // invalid QVariant when absent
    QString string(qsizetype row, const QString &column) const;
    qint64 integer(qsizetype row, const QString &column) const;
    // From NUMERIC text. nullopt for NULL and for what a Decimal cannot hold exactly — NaN,
    // infinities, more than 18 decimals (round in SQL: round(x, 8)), float text — with the
    // reason in *error when given. Always check before use: money is never guessed.
    std::optional<Decimal> decimal(qsizetype row, const QString &column) const;
    std::optional<Decimal> decimal(qsizetype row, const QString &column, QString *error) const;
    bool isNull(qsizetype row, const QString &column) const;

private:
    friend class SqlResultWriter; // the host fills results in (not part of the plugin API)
    QSharedDataPointer<SqlResultData> d;
};

// The connection a transaction function runs on.
class YIELDHOST_SDK_EXPORT SqlTransaction
{
public:
    virtual ~SqlTransaction();
    virtual SqlResult exec(const QString &sql, const QVariantList &params = {}) = 0;
    // SDK 1.1: a statement whose answer the caller does not need (SAVEPOINT, RELEASE, an outbox
    // insert, a stored reply). The host sends it in one round trip with the next exec() or with
    // the COMMIT (libpq's pipeline mode), which shortens the time row locks are held. If it
    // fails, the next exec() returns its error and the transaction rolls back, as if exec() had
    // failed here. Without the host's support it runs at once. Because the host defers BEGIN, a
    // transaction's statements without parameters go over the extended protocol: one statement
    // per exec() or defer() (not "SET LOCAL a = 1; SET LOCAL b = 2").
    virtual void defer(const QString &sql, const QVariantList &params = {});
};

// Replica: read-only statements (analytics). It falls back to the primary when none is configured;
// on a configured replica a statement whose connection broke after sending is sent once more.
enum class DbTarget { Primary, Replica };

struct TransactionOptions
{
    enum class Isolation { ReadCommitted, RepeatableRead, Serializable };
    Isolation isolation = Isolation::ReadCommitted;
    int maxAttempts = 5; // for serialization failures and deadlocks
    bool readOnly = false;
};

struct TransactionOutcome
{
    bool committed = false;
    DbError error;   // the database error that ended the last attempt, if any
    QString failure; // the Status sentence the function returned, if it failed
    int attempts = 0;
};

class YIELDHOST_SDK_EXPORT Database
{
public:
    virtual ~Database();
    virtual QCoro::Task<SqlResult> query(QString sql, QVariantList params = {}, DbTarget target = DbTarget::Primary) = 0;
    virtual QCoro::Task<TransactionOutcome> transaction(std::function<Status(SqlTransaction &)> work,
                                                        TransactionOptions options = {}) = 0;
    virtual bool hasReplica() const = 0;
};

} // namespace yieldhost
