#include "db/Migrations.h"

#include "core/Logging.h"
#include "db/DbPool.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QDir>
#include <QtCore/QElapsedTimer>
#include <QtCore/QFile>
#include <QtCore/QHash>
#include <QtCore/QRegularExpression>
#include <QtCore/QScopeGuard>
#include <QtCore/QSet>
#include <QtSql/QSqlDatabase>
#include <QtSql/QSqlError>
#include <QtSql/QSqlDriver>
#include <QtSql/QSqlQuery>

#include <libpq-fe.h>


namespace yieldhost {

namespace {

const QString CreateTable = QStringLiteral(
    "CREATE TABLE IF NOT EXISTS yieldhost_migrations ("
    " plugin text NOT NULL, version integer NOT NULL, name text NOT NULL, checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now(), duration_ms integer NOT NULL DEFAULT 0,"
    " PRIMARY KEY (plugin, version))");

QString errorText(const QSqlQuery &q) { return q.lastError().text().trimmed(); }

// Runs a whole migration file. QPSQL executes only the first statement of a multi-statement
// string reliably, so the file goes to libpq's PQexec, which runs every statement in order and
// stops at the first error — exactly psql's semantics for a file inside a transaction.
QString execScript(QSqlDatabase &db, const QByteArray &sql)
{
    const QVariant handle = db.driver()->handle();
    PGconn *connection = handle.isValid() ? *static_cast<PGconn *const *>(handle.constData()) : nullptr;
    if (!connection || (qstrcmp(handle.typeName(), "PGconn*") != 0 && qstrcmp(handle.typeName(), "pg_conn*") != 0))
        return QStringLiteral("the QPSQL driver did not expose its libpq connection");
    PGresult *result = PQexec(connection, sql.constData());
    const ExecStatusType status = PQresultStatus(result);
    QString error;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY)
        error = QString::fromUtf8(PQresultErrorMessage(result)).trimmed();
    PQclear(result);
    return error;
}

} // namespace

std::optional<QList<Migration>> Migrations::collect(const QStringList &plugins, QString *error)
{
    static const QRegularExpression fileName(QStringLiteral("^(\\d{4})_([a-z0-9_]+)\\.sql$"));
    QList<Migration> all;
    for (const QString &plugin : plugins) {
        const QDir dir(QStringLiteral(":/yieldhost/migrations/") + plugin);
        const QStringList files = dir.entryList(QDir::Files, QDir::Name);
        QSet<int> versions;
        for (const QString &file : files) {
            const auto m = fileName.match(file);
            if (!m.hasMatch()) {
                *error = QStringLiteral("migration %1 of plugin %2 is misnamed: expected NNNN_lower_case_name.sql").arg(file, plugin);
                return std::nullopt;
            }
            Migration migration;
            migration.plugin = plugin;
            migration.version = m.captured(1).toInt();
            migration.name = m.captured(2);
            if (versions.contains(migration.version)) {
                *error = QStringLiteral("plugin %1 has two migrations numbered %2").arg(plugin).arg(migration.version);
                return std::nullopt;
            }
            versions.insert(migration.version);
            QFile f(dir.filePath(file));
            if (!f.open(QIODevice::ReadOnly)) {
                *error = QStringLiteral("cannot read migration %1: %2").arg(f.fileName(), f.errorString());
                return std::nullopt;
            }
            migration.sql = f.readAll();
            migration.checksum = QString::fromLatin1(QCryptographicHash::hash(migration.sql, QCryptographicHash::Sha256).toHex());
            all.append(migration);
        }
    }
    return all;
}

QCoro::Task<Migrations::Outcome> Migrations::apply(DbPool &pool, const QList<Migration> &list, std::function<void(const QString &)> progress)
{
    bool reached = false;
    // Built outside the co_await expression: GCC 12 double-frees the captures of a lambda written
    // inside one (https://github.com/equeim/tremotesf2/pull/551).
    std::function<Status(QSqlDatabase &)> work = [&reached, migrations = list, progress](QSqlDatabase &db) -> Status {
        reached = true;
        QSqlQuery q(db);
        if (!q.exec(QStringLiteral("SELECT pg_advisory_lock(%1)").arg(AdvisoryLockKey)))
            return Status::failure(QStringLiteral("cannot take the migration lock: %1").arg(errorText(q)));
        // Released on every path; the lock is session-level, so a lost connection releases it too.
        auto unlock = qScopeGuard([&db] { QSqlQuery(db).exec(QStringLiteral("SELECT pg_advisory_unlock(%1)").arg(AdvisoryLockKey)); });

        if (!q.exec(CreateTable))
            return Status::failure(QStringLiteral("cannot create yieldhost_migrations: %1").arg(errorText(q)));
        QHash<QString, QString> applied; // "plugin/version" -> checksum
        if (!q.exec(QStringLiteral("SELECT plugin, version, checksum FROM yieldhost_migrations")))
            return Status::failure(QStringLiteral("cannot read yieldhost_migrations: %1").arg(errorText(q)));
        while (q.next())
            applied.insert(q.value(0).toString() + u'/' + q.value(1).toString(), q.value(2).toString());

        int done = 0;
        int pending = 0;
        for (const Migration &m : migrations)
            pending += applied.contains(m.plugin + u'/' + QString::number(m.version)) ? 0 : 1;
        for (const Migration &m : migrations) {
            const QString key = m.plugin + u'/' + QString::number(m.version);
            if (auto it = applied.constFind(key); it != applied.constEnd()) {
                if (*it != m.checksum)
                    return Status::failure(QStringLiteral("migration %1 was changed after it was applied (checksum %2, recorded %3): "
                                                          "restore the original file and put the change in a new migration")
                                               .arg(m.label(), m.checksum.left(12), it->left(12)));
                continue;
            }
            QElapsedTimer timer;
            timer.start();
            if (!db.transaction())
                return Status::failure(QStringLiteral("cannot begin a transaction for %1: %2").arg(m.label(), db.lastError().text().trimmed()));
            if (const QString why = execScript(db, m.sql); !why.isEmpty()) {
                db.rollback();
                return Status::failure(QStringLiteral("migration %1 failed and was rolled back: %2").arg(m.label(), why));
            }
            QSqlQuery record(db);
            record.prepare(QStringLiteral("INSERT INTO yieldhost_migrations (plugin, version, name, checksum, duration_ms) VALUES (?, ?, ?, ?, ?)"));
            record.addBindValue(m.plugin);
            record.addBindValue(m.version);
            record.addBindValue(m.name);
            record.addBindValue(m.checksum);
            record.addBindValue(int(timer.elapsed()));
            if (!record.exec() || !db.commit()) {
                const QString why = errorText(record);
                db.rollback();
                return Status::failure(QStringLiteral("cannot record migration %1: %2").arg(m.label(), why));
            }
            ++done;
            if (progress)
                progress(QStringLiteral("[%1/%2] applied %3 (%4 ms)").arg(done).arg(pending).arg(m.label()).arg(timer.elapsed()));
        }
        if (progress)
            progress(done == 0 ? QStringLiteral("database schema is up to date (%1 migrations)").arg(migrations.size())
                               : QStringLiteral("applied %1 migration(s); %2 in total").arg(done).arg(migrations.size()));
        return {};
    };
    const Status status = co_await pool.withConnection(std::move(work));
    co_return Outcome{status, !reached};
}

QCoro::Task<std::optional<QString>> Migrations::notReadyReason(DbPool &pool, const QList<Migration> &list)
{
    const QList<Migration> migrations = list; // before the first suspension
    const SqlResult r = co_await pool.query(QStringLiteral("SELECT plugin, version FROM yieldhost_migrations"));
    if (r.error().kind == DbError::Kind::Unavailable)
        co_return QStringLiteral("the database is unavailable");
    if (r.error())
        co_return QStringLiteral("migrations have not been applied");
    QSet<QString> applied;
    for (qsizetype i = 0; i < r.size(); ++i)
        applied.insert(r.string(i, QStringLiteral("plugin")) + u'/' + r.string(i, QStringLiteral("version")));
    int pending = 0;
    for (const Migration &m : migrations)
        pending += applied.contains(m.plugin + u'/' + QString::number(m.version)) ? 0 : 1;
    if (pending > 0)
        co_return QStringLiteral("%1 migration(s) are not applied").arg(pending);
    co_return std::nullopt;
}

} // namespace yieldhost
