// Migrations.h — each plugin's numbered SQL files, applied in plugin dependency order.
//
// A plugin ships migrations/NNNN_name.sql as Qt resources under
// :/yieldhost/migrations/<plugin id>/ (yieldhost_add_plugin(... MIGRATIONS migrations) does it).
// Each is applied in its own transaction and recorded with its SHA-256 in yieldhost_migrations;
// the whole run holds a PostgreSQL advisory lock, so two hosts starting together apply each
// migration once. An applied migration whose file changed stops the host with a clear message:
// history is append-only.
#pragma once

#include "yieldhost/Status.h"

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QString>

#include <QCoro/QCoroTask>

#include <functional>
#include <optional>

namespace yieldhost {

class DbPool;

struct Migration
{
    QString plugin;
    int version = 0;
    QString name;
    QByteArray sql;
    QString checksum; // hex SHA-256 of the file
    QString label() const { return QStringLiteral("%1/%2_%3").arg(plugin).arg(version, 4, 10, QLatin1Char('0')).arg(name); }
};

class Migrations
{
public:
    // Reads the resources of `plugins` (in that order). A misnamed file is an error.
    static std::optional<QList<Migration>> collect(const QStringList &plugins, QString *error);

    struct Outcome
    {
        Status status;
        bool retryable = false; // the database was unreachable; a later attempt may succeed
    };
    // Applies what is pending. `progress` receives one line per step (on a DB thread).
    static QCoro::Task<Outcome> apply(DbPool &pool, const QList<Migration> &migrations, std::function<void(const QString &)> progress);

    // Why the database is not ready for these migrations (unreachable, pending migrations), or
    // nullopt when every one is applied.
    static QCoro::Task<std::optional<QString>> notReadyReason(DbPool &pool, const QList<Migration> &migrations);

    static constexpr qint64 AdvisoryLockKey = 0x59484d4947; // "YHMIG"
};

} // namespace yieldhost
