#include "db/DatabaseUrl.h"

#include <QtCore/QUrl>
#include <QtCore/QUrlQuery>

namespace yieldhost {

std::optional<DatabaseUrl> DatabaseUrl::parse(const QString &text, QString *error)
{
    const QUrl url(text, QUrl::StrictMode);
    if (!url.isValid() || (url.scheme() != QLatin1String("postgres") && url.scheme() != QLatin1String("postgresql"))) {
        *error = QStringLiteral("database URL must look like postgres://user:password@host:port/dbname");
        return std::nullopt;
    }
    DatabaseUrl u;
    u.host = url.host();
    u.port = url.port(5432);
    u.user = url.userName(QUrl::FullyDecoded);
    u.password = url.password(QUrl::FullyDecoded);
    u.database = url.path(QUrl::FullyDecoded).mid(1);
    const QUrlQuery query(url);
    if (query.hasQueryItem(QStringLiteral("host")))
        u.host = query.queryItemValue(QStringLiteral("host"), QUrl::FullyDecoded);
    if (query.hasQueryItem(QStringLiteral("port")))
        u.port = query.queryItemValue(QStringLiteral("port")).toInt();
    if (query.hasQueryItem(QStringLiteral("connect_timeout")))
        u.connectTimeoutSeconds = std::max(1, query.queryItemValue(QStringLiteral("connect_timeout")).toInt());
    if (u.host.isEmpty())
        u.host = QStringLiteral("localhost");
    if (u.database.isEmpty() || u.port <= 0 || u.port > 65535) {
        *error = QStringLiteral("database URL needs a database name and a valid port (postgres://user@host:5432/dbname)");
        return std::nullopt;
    }
    return u;
}

QString DatabaseUrl::redacted() const
{
    return QStringLiteral("postgres://%1%2@%3:%4/%5")
        .arg(user, password.isEmpty() ? QString() : QStringLiteral(":***"), host)
        .arg(port)
        .arg(database);
}

} // namespace yieldhost
