#include "yieldhost/Database.h"
#include "yieldhost/HostAccess.h"

namespace yieldhost {

DbError DbError::fromSqlState(const QString &sqlState, const QString &message)
{
    DbError e;
    e.sqlState = sqlState;
    e.message = message;
    if (sqlState == QLatin1String("23505"))
        e.kind = Kind::UniqueViolation;
    else if (sqlState == QLatin1String("23503"))
        e.kind = Kind::ForeignKeyViolation;
    else if (sqlState == QLatin1String("23514") || sqlState == QLatin1String("23502"))
        e.kind = Kind::CheckViolation;
    else if (sqlState == QLatin1String("40001"))
        e.kind = Kind::SerializationFailure;
    else if (sqlState == QLatin1String("40P01"))
        e.kind = Kind::Deadlock;
    // 08: connection exception; 57P01-03: admin/crash shutdown, cannot connect now; 53300: too many connections.
    else if (sqlState.startsWith(QLatin1String("08")) || sqlState == QLatin1String("57P01") || sqlState == QLatin1String("57P02")
             || sqlState == QLatin1String("57P03") || sqlState == QLatin1String("53300"))
        e.kind = Kind::Unavailable;
    else
        e.kind = Kind::Query;
    return e;
}

class SqlResultData : public QSharedData
{
public:
    DbError error;
    QString constraint;
    QStringList columns;
    QList<QVariantList> rows;
    qint64 rowsAffected = 0;
};

SqlResult::SqlResult() : d(new SqlResultData) {}
SqlResult::SqlResult(const SqlResult &) = default;
SqlResult &SqlResult::operator=(const SqlResult &) = default;
SqlResult::~SqlResult() = default;

const DbError &SqlResult::error() const { return d->error; }
QString SqlResult::constraint() const { return d->constraint; }
qsizetype SqlResult::size() const { return d->rows.size(); }
qint64 SqlResult::rowsAffected() const { return d->rowsAffected; }
const QStringList &SqlResult::columns() const { return d->columns; }

QVariant SqlResult::value(qsizetype row, const QString &column) const
{
    const qsizetype c = d->columns.indexOf(column);
    if (c < 0 || row < 0 || row >= d->rows.size())
        return {};
    return d->rows.at(row).value(c);
}

QString SqlResult::string(qsizetype row, const QString &column) const { return value(row, column).toString(); }
qint64 SqlResult::integer(qsizetype row, const QString &column) const { return value(row, column).toLongLong(); }
bool SqlResult::isNull(qsizetype row, const QString &column) const { return value(row, column).isNull(); }

std::optional<Decimal> SqlResult::decimal(qsizetype row, const QString &column) const { return decimal(row, column, nullptr); }

std::optional<Decimal> SqlResult::decimal(qsizetype row, const QString &column, QString *error) const
{
    const QVariant v = value(row, column);
    if (v.isNull()) {
        if (error)
            *error = QStringLiteral("column %1 is NULL").arg(column);
        return std::nullopt;
    }
    QString why;
    std::optional<Decimal> d = Decimal::fromString(v.toString(), &why);
    if (!d && error)
        *error = QStringLiteral("column %1 holds \"%2\", which is not an exact decimal a Decimal can hold: %3")
                     .arg(column, v.toString().left(64), why);
    return d;
}

void SqlResultWriter::setError(SqlResult &r, DbError error) { r.d->error = std::move(error); }
void SqlResultWriter::setConstraint(SqlResult &r, QString constraint) { r.d->constraint = std::move(constraint); }
void SqlResultWriter::setColumns(SqlResult &r, QStringList columns) { r.d->columns = std::move(columns); }
void SqlResultWriter::appendRow(SqlResult &r, QVariantList row) { r.d->rows.append(std::move(row)); }
void SqlResultWriter::setRowsAffected(SqlResult &r, qint64 n) { r.d->rowsAffected = n; }

SqlResult SqlResultWriter::failed(DbError error)
{
    SqlResult r;
    setError(r, std::move(error));
    return r;
}

SqlTransaction::~SqlTransaction() = default;

void SqlTransaction::defer(const QString &sql, const QVariantList &params)
{
    exec(sql, params); // an implementation that records a failed statement fails the transaction
}

Database::~Database() = default;

Problem problemFor(const DbError &error)
{
    switch (error.kind) {
    case DbError::Kind::None:
        break;
    case DbError::Kind::Unavailable:
        return Problem::unavailable(QStringLiteral("The database is unavailable; try again shortly."), 5);
    case DbError::Kind::UniqueViolation:
        return Problem::conflict(QStringLiteral("conflict"), QStringLiteral("Conflict"),
                                 QStringLiteral("This would duplicate an existing record."));
    case DbError::Kind::SerializationFailure:
    case DbError::Kind::Deadlock:
        return Problem::unavailable(QStringLiteral("The database was too busy to complete this; try again."), 1);
    case DbError::Kind::InvalidValue:
        return Problem::badRequest(QStringLiteral("A text value contains a NUL character, which cannot be stored."));
    default:
        break;
    }
    return Problem::make(500).detail(QStringLiteral("The server failed to handle this request; it has been logged."));
}

} // namespace yieldhost
