#include "db/PgExec.h"

#include "core/Logging.h"

#include "yieldhost/HostAccess.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QJsonValue>
#include <QtCore/QUuid>

#include <openssl/crypto.h>

#include <mutex>

namespace yieldhost {

namespace {

constexpr int StatementCacheLimit = 256;

// Type OIDs from PostgreSQL's pg_type.
constexpr Oid BoolOid = 16, Int8Oid = 20, Int2Oid = 21, Int4Oid = 23, OidOid = 26, DateOid = 1082, TimestampOid = 1114,
              TimestampTzOid = 1184;

QDateTime parseTimestamp(QByteArray text, bool withZone)
{
    // "2026-11-25 13:14:29.228+00" (the session runs in UTC) -> ISO 8601.
    text.replace(' ', 'T');
    if (!withZone)
        text.append('Z');
    else if (text.size() >= 3 && (text.at(text.size() - 3) == '+' || text.at(text.size() - 3) == '-'))
        text.append(":00");
    QDateTime dt = QDateTime::fromString(QString::fromLatin1(text), Qt::ISODateWithMs);
    return dt.toUTC();
}

DbError unavailable(PGconn *connection)
{
    DbError e;
    e.kind = DbError::Kind::Unavailable;
    e.message = QString::fromUtf8(PQerrorMessage(connection)).trimmed();
    return e;
}

} // namespace

QByteArray PgExec::positional(const QString &sql, int *count)
{
    const QByteArray in = sql.toUtf8();
    QByteArray out;
    out.reserve(in.size() + 16);
    int n = 0;
    for (qsizetype i = 0; i < in.size(); ++i) {
        const char c = in.at(i);
        if (c == '\'' || c == '"') { // a quoted string or identifier ('' and "" escape themselves)
            const qsizetype end = in.indexOf(c, i + 1);
            const qsizetype stop = end < 0 ? in.size() - 1 : end;
            out.append(in.mid(i, stop - i + 1));
            i = stop;
        } else if (c == '-' && i + 1 < in.size() && in.at(i + 1) == '-') {
            const qsizetype end = in.indexOf('\n', i);
            const qsizetype stop = end < 0 ? in.size() - 1 : end;
            out.append(in.mid(i, stop - i + 1));
            i = stop;
        } else if (c == '$' && (i == 0 || !QChar::isLetterOrNumber(uchar(in.at(i - 1))))) {
            const qsizetype close = in.indexOf('$', i + 1);
            const QByteArray tag = close < 0 ? QByteArray() : in.mid(i, close - i + 1);
            const bool isTag = !tag.isEmpty() && std::all_of(tag.begin() + 1, tag.end() - 1, [](char t) { return std::isalnum(uchar(t)) || t == '_'; })
                               && !(tag.size() > 2 && std::isdigit(uchar(tag.at(1))));
            if (isTag) { // $tag$ ... $tag$
                const qsizetype end = in.indexOf(tag, close + 1);
                const qsizetype stop = end < 0 ? in.size() - 1 : end + tag.size() - 1;
                out.append(in.mid(i, stop - i + 1));
                i = stop;
            } else {
                out.append(c);
            }
        } else if (c == '?') {
            out.append('$').append(QByteArray::number(++n));
        } else {
            out.append(c);
        }
    }
    *count = n;
    return out;
}

namespace {

bool isList(const QVariant &v)
{
    return v.typeId() == QMetaType::QStringList || v.typeId() == QMetaType::QVariantList;
}

void appendQuoted(QByteArray &out, QByteArrayView text)
{
    out.append('"');
    if (std::none_of(text.begin(), text.end(), [](char c) { return c == '"' || c == '\\'; })) {
        out.append(text);
    } else {
        for (const char c : text) {
            if (c == '"' || c == '\\')
                out.append('\\');
            out.append(c);
        }
    }
    out.append('"');
}

// One element of a PostgreSQL array literal: NULL, or the text double-quoted with " and \ escaped
// (quoting every element keeps "NULL", "", "a,b" and "{x}" the strings they are).
void appendArrayElement(QByteArray &out, const QVariant &element)
{
    if (isList(element)) {
        out.append(PgExec::text(element).value_or(QByteArrayLiteral("NULL")));
        return;
    }
    const std::optional<QByteArray> text = PgExec::text(element);
    if (!text) {
        out.append("NULL");
        return;
    }
    appendQuoted(out, *text);
}

} // namespace

std::optional<QByteArray> PgExec::text(const QVariant &v)
{
    if (!v.isValid() || v.isNull())
        return std::nullopt;
    if (v.metaType() == QMetaType::fromType<Decimal>())
        return v.value<Decimal>().toString().toLatin1();
    switch (v.typeId()) {
    case QMetaType::QString: {
        const QString s = v.toString();
        if (s.isNull())
            return std::nullopt;
        return s.toUtf8();
    }
    case QMetaType::Bool:
        return QByteArray(v.toBool() ? "t" : "f");
    case QMetaType::QDateTime: {
        const QDateTime dt = v.toDateTime();
        if (!dt.isValid())
            return std::nullopt;
        return dt.toUTC().toString(Qt::ISODateWithMs).toLatin1();
    }
    case QMetaType::QDate:
        return v.toDate().toString(Qt::ISODate).toLatin1();
    case QMetaType::QByteArray:
        return v.toByteArray();
    case QMetaType::QUuid:
        return v.toUuid().toString(QUuid::WithoutBraces).toLatin1();
    case QMetaType::Int:
    case QMetaType::LongLong:
    case QMetaType::Short:
    case QMetaType::Long:
        return QByteArray::number(v.toLongLong());
    case QMetaType::UInt:
    case QMetaType::ULongLong:
        return QByteArray::number(v.toULongLong());
    case QMetaType::Double:
    case QMetaType::Float:
        return QByteArray::number(v.toDouble(), 'g', 17); // float8 parameters (intervals); never money
    case QMetaType::QJsonObject:
    case QMetaType::QJsonArray:
    case QMetaType::QJsonValue:
    case QMetaType::QJsonDocument: {
        const QJsonValue json = v.toJsonValue();
        if (json.isObject())
            return QJsonDocument(json.toObject()).toJson(QJsonDocument::Compact);
        if (json.isArray())
            return QJsonDocument(json.toArray()).toJson(QJsonDocument::Compact);
        return v.toJsonDocument().toJson(QJsonDocument::Compact);
    }
    case QMetaType::QStringList: {
        // The strings as they are: no QVariant per element (set-based statements bind thousands).
        const QStringList elements = v.toStringList();
        QByteArray out;
        out.reserve(2 + elements.size() * 40);
        out.append('{');
        for (qsizetype i = 0; i < elements.size(); ++i) {
            if (i > 0)
                out.append(',');
            if (elements[i].isNull())
                out.append("NULL");
            else
                appendQuoted(out, elements[i].toUtf8());
        }
        out.append('}');
        return out;
    }
    case QMetaType::QVariantList: {
        const QVariantList elements = v.toList();
        QByteArray out("{");
        for (qsizetype i = 0; i < elements.size(); ++i) {
            if (i > 0)
                out.append(',');
            appendArrayElement(out, elements.at(i));
        }
        out.append('}');
        return out;
    }
    default:
        return std::nullopt; // unbindableReason() refuses these before anything is sent
    }
}

QString PgExec::unbindableReason(const QVariant &v, bool *unknownType)
{
    if (!v.isValid() || v.isNull() || v.metaType() == QMetaType::fromType<Decimal>())
        return {};
    switch (v.typeId()) {
    case QMetaType::QString:
        return v.toString().contains(QChar(0)) ? QStringLiteral("contains a NUL character") : QString();
    case QMetaType::QByteArray:
        return v.toByteArray().contains('\0') ? QStringLiteral("contains a NUL character") : QString();
    case QMetaType::Bool: case QMetaType::QDateTime: case QMetaType::QDate: case QMetaType::QUuid:
    case QMetaType::Int: case QMetaType::LongLong: case QMetaType::Short: case QMetaType::Long:
    case QMetaType::UInt: case QMetaType::ULongLong: case QMetaType::Double: case QMetaType::Float:
    case QMetaType::QJsonObject: case QMetaType::QJsonArray: case QMetaType::QJsonValue: case QMetaType::QJsonDocument:
        return {};
    case QMetaType::QStringList: {
        const QStringList elements = v.toStringList();
        for (qsizetype i = 0; i < elements.size(); ++i) {
            if (elements[i].contains(QChar(0)))
                return QStringLiteral("element %1 contains a NUL character").arg(i + 1);
        }
        return {};
    }
    case QMetaType::QVariantList: {
        const QVariantList elements = v.toList();
        for (qsizetype i = 0; i < elements.size(); ++i) {
            if (const QString why = unbindableReason(elements.at(i), unknownType); !why.isEmpty())
                return QStringLiteral("element %1 %2").arg(i + 1).arg(why);
        }
        return {};
    }
    default:
        if (unknownType)
            *unknownType = true;
        return QStringLiteral("has type %1, which cannot be bound (bind a string, number, bool, date/time, uuid, Decimal, "
                              "JSON value, or a QStringList/QVariantList of those as an array)")
            .arg(QString::fromLatin1(v.metaType().name()));
    }
}

void PgExec::initializeLibraries()
{
    static std::once_flag once;
    std::call_once(once, [] { OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr); });
}

PGconn *PgExec::connect(const DatabaseUrl &url, const char *applicationName, QString *error)
{
    initializeLibraries();
    const QByteArray host = url.host.toUtf8(), port = QByteArray::number(url.port), user = url.user.toUtf8(),
                     password = url.password.toUtf8(), dbname = url.database.toUtf8(), timeout = QByteArray::number(url.connectTimeoutSeconds);
    const char *keys[] = {"host", "port", "user", "password", "dbname", "connect_timeout", "application_name", nullptr};
    const char *values[] = {host.constData(), port.constData(), user.constData(), password.isEmpty() ? nullptr : password.constData(),
                            dbname.constData(), timeout.constData(), applicationName, nullptr};
    PGconn *connection = PQconnectdbParams(keys, values, 0);
    if (PQstatus(connection) != CONNECTION_OK) {
        *error = QString::fromUtf8(PQerrorMessage(connection)).trimmed();
        PQfinish(connection);
        return nullptr;
    }
    routeNotices(connection);
    PQclear(PQexec(connection, "SET TIME ZONE 'UTC'")); // timestamps travel as UTC text both ways
    return connection;
}

void PgExec::routeNotices(PGconn *connection)
{
    PQsetNoticeReceiver(connection, [](void *, const PGresult *notice) {
        const char *severity = PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
        const char *primary = PQresultErrorField(notice, PG_DIAG_MESSAGE_PRIMARY);
        const QString message = primary ? QString::fromUtf8(primary) : QString::fromUtf8(PQresultErrorMessage(notice)).trimmed();
        if (severity && qstrcmp(severity, "WARNING") == 0)
            qCWarning(lcDb).noquote() << "PostgreSQL warning:" << message;
        else
            qCDebug(lcDb).noquote() << "PostgreSQL" << (severity ? QString::fromLatin1(severity).toLower() : QStringLiteral("notice")) + u':' << message;
    }, nullptr);
}

SqlResult PgExec::result(PGconn *connection, PGresult *res)
{
    SqlResult out;
    if (!res) {
        SqlResultWriter::setError(out, unavailable(connection));
        return out;
    }
    const ExecStatusType status = PQresultStatus(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (!state || PQstatus(connection) == CONNECTION_BAD)
            SqlResultWriter::setError(out, unavailable(connection));
        else
        {
            SqlResultWriter::setError(out, DbError::fromSqlState(QString::fromLatin1(state), QString::fromUtf8(PQresultErrorMessage(res)).trimmed()));
            if (const char *constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME))
                SqlResultWriter::setConstraint(out, QString::fromUtf8(constraint));
        }
        PQclear(res);
        return out;
    }
    const int rows = PQntuples(res);
    const int fields = PQnfields(res);
    if (status == PGRES_TUPLES_OK) {
        QStringList columns;
        QList<Oid> types;
        for (int c = 0; c < fields; ++c) {
            columns.append(QString::fromUtf8(PQfname(res, c)));
            types.append(PQftype(res, c));
        }
        SqlResultWriter::setColumns(out, columns);
        for (int r = 0; r < rows; ++r) {
            QVariantList row;
            row.reserve(fields);
            for (int c = 0; c < fields; ++c) {
                if (PQgetisnull(res, r, c)) {
                    row.append(QVariant());
                    continue;
                }
                const char *value = PQgetvalue(res, r, c);
                const int length = PQgetlength(res, r, c);
                switch (types.at(c)) {
                case BoolOid: row.append(value[0] == 't'); break;
                case Int8Oid:
                case Int2Oid:
                case Int4Oid:
                case OidOid: row.append(QByteArray::fromRawData(value, length).toLongLong()); break;
                case DateOid: row.append(QDate::fromString(QString::fromLatin1(value, length), Qt::ISODate)); break;
                case TimestampOid: row.append(parseTimestamp(QByteArray(value, length), false)); break;
                case TimestampTzOid: row.append(parseTimestamp(QByteArray(value, length), true)); break;
                default: row.append(QString::fromUtf8(value, length)); break; // text, uuid, numeric (exact), ...
                }
            }
            SqlResultWriter::appendRow(out, std::move(row));
        }
    }
    const char *affected = PQcmdTuples(res);
    SqlResultWriter::setRowsAffected(out, affected && *affected ? QByteArray(affected).toLongLong() : rows);
    PQclear(res);
    return out;
}

std::optional<DbError> PgExec::refusedParameter(const QVariantList &params)
{
    for (qsizetype i = 0; i < params.size(); ++i) {
        bool unknownType = false;
        if (const QString why = unbindableReason(params.at(i), &unknownType); !why.isEmpty()) {
            // An unknown type is the plugin's bug (500); text with NUL is the client's input (400).
            return DbError{unknownType ? DbError::Kind::Query : DbError::Kind::InvalidValue, QString(),
                           QStringLiteral("parameter %1 %2").arg(i + 1).arg(why)};
        }
    }
    return std::nullopt;
}

PgExec::BoundValues::BoundValues(const QVariantList &params) : m_values(size_t(params.size()), nullptr)
{
    m_storage.reserve(params.size()); // no reallocation: the pointers below stay valid
    for (qsizetype i = 0; i < params.size(); ++i) {
        if (auto t = PgExec::text(params.at(i))) {
            m_storage.append(std::move(*t));
            m_values[size_t(i)] = m_storage.constLast().constData();
        }
    }
}

std::optional<DbError> PgExec::refused(const QString &sql, const QVariantList &params) const
{
    if (std::optional<DbError> refusal = refusedParameter(params))
        return refusal;
    if (params.isEmpty() || m_prepared.contains(sql))
        return std::nullopt;
    int count = 0;
    positional(sql, &count);
    if (count != params.size())
        return DbError{DbError::Kind::Query, QString(),
                       QStringLiteral("the statement has %1 placeholders but %2 values were bound").arg(count).arg(params.size())};
    return std::nullopt;
}

std::optional<DbError> PgExec::defer(const QString &sql, const QVariantList &params)
{
    if (std::optional<DbError> refusal = refused(sql, params))
        return refusal;
    m_deferred.append(Statement{sql, params});
    return std::nullopt;
}

SqlResult PgExec::exec(const QString &sql, const QVariantList &params)
{
    if (const std::optional<DbError> refusal = refused(sql, params))
        return SqlResultWriter::failed(*refusal); // the queued statements wait for the next exec()
    if (m_deferred.isEmpty())
        return execOne(sql, params);
    QList<Statement> statements = std::exchange(m_deferred, {});
    statements.append(Statement{sql, params});
    return execPipeline(statements);
}

SqlResult PgExec::execOne(const QString &sql, const QVariantList &params)
{
    if (params.isEmpty()) // utility statements (DDL, BEGIN) cannot be prepared
        return result(m_connection, PQexec(m_connection, sql.toUtf8().constData()));

    QByteArray name = m_prepared.value(sql);
    if (name.isEmpty()) {
        if (m_prepared.size() >= StatementCacheLimit) {
            PQclear(PQexec(m_connection, "DEALLOCATE ALL"));
            m_prepared.clear();
        }
        int count = 0;
        const QByteArray text = positional(sql, &count);
        name = "yh_" + QByteArray::number(++m_next);
        SqlResult prepared = result(m_connection, PQprepare(m_connection, name.constData(), text.constData(), count, nullptr));
        if (prepared.error())
            return prepared;
        m_prepared.insert(sql, name);
    }
    const BoundValues values(params);
    return result(m_connection, PQexecPrepared(m_connection, name.constData(), values.count(), values.data(), nullptr, nullptr, 0));
}

SqlResult PgExec::execPipeline(const QList<Statement> &statements)
{
    if (m_prepared.size() + statements.size() >= StatementCacheLimit) {
        PQclear(PQexec(m_connection, "DEALLOCATE ALL"));
        m_prepared.clear();
    }
    // The connection is in an unknown state: the pool reconnects after an Unavailable error.
    auto broken = [this] { return SqlResultWriter::failed(unavailable(m_connection)); };
    if (!PQenterPipelineMode(m_connection))
        return broken();
    // Send everything, then read: the replies of all but the last statement are small, so the
    // server never blocks on a full socket while we still write (libpq's pipeline deadlock).
    QHash<QString, QByteArray> preparedHere; // SQL -> name, prepared in this pipeline
    QList<bool> prepares(statements.size(), false);
    bool sent = true;
    for (qsizetype i = 0; sent && i < statements.size(); ++i) {
        const Statement &s = statements.at(i);
        if (s.params.isEmpty()) {
            sent = PQsendQueryParams(m_connection, s.sql.toUtf8().constData(), 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
            continue;
        }
        QByteArray name = m_prepared.value(s.sql, preparedHere.value(s.sql));
        if (name.isEmpty()) {
            int count = 0;
            const QByteArray text = positional(s.sql, &count);
            name = "yh_" + QByteArray::number(++m_next);
            sent = PQsendPrepare(m_connection, name.constData(), text.constData(), count, nullptr) == 1;
            preparedHere.insert(s.sql, name);
            prepares[i] = true;
        }
        // libpq copies the values into its output buffer before this returns.
        const BoundValues values(s.params);
        sent = sent && PQsendQueryPrepared(m_connection, name.constData(), values.count(), values.data(), nullptr, nullptr, 0) == 1;
    }
    if (!sent || PQpipelineSync(m_connection) != 1)
        return broken();

    std::optional<SqlResult> firstError;
    SqlResult last;
    enum class Taken { Ok, Failed, Broken };
    auto take = [&](bool isLast) { // one command's result and the NULL that ends it
        PGresult *res = PQgetResult(m_connection);
        if (!res)
            return Taken::Broken;
        const bool aborted = PQresultStatus(res) == PGRES_PIPELINE_ABORTED; // skipped after an error
        SqlResult r;
        if (aborted)
            PQclear(res);
        else
            r = result(m_connection, res);
        if (PGresult *extra = PQgetResult(m_connection)) { // never: one result per command
            PQclear(extra);
            return Taken::Broken;
        }
        const bool failed = aborted || r.error();
        if (failed && !aborted && !firstError)
            firstError = r;
        if (isLast)
            last = std::move(r);
        return failed ? Taken::Failed : Taken::Ok;
    };
    for (qsizetype i = 0; i < statements.size(); ++i) {
        if (prepares[i]) {
            const Taken prepared = take(false);
            if (prepared == Taken::Broken)
                return broken();
            if (prepared == Taken::Ok) // a prepared statement outlives a rolled-back transaction
                m_prepared.insert(statements.at(i).sql, preparedHere.value(statements.at(i).sql));
        }
        if (take(i == statements.size() - 1) == Taken::Broken)
            return broken();
    }
    PGresult *sync = PQgetResult(m_connection);
    const bool synced = sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    PQclear(sync);
    if (!synced || !PQexitPipelineMode(m_connection))
        return broken();
    return firstError ? *firstError : last;
}

} // namespace yieldhost
