// DatabaseUrl.h — postgres://user:password@host:port/dbname?host=/socket/dir&connect_timeout=5
#pragma once

#include <QtCore/QString>

#include <optional>

namespace yieldhost {

struct DatabaseUrl
{
    QString host; // a host name, or a Unix socket directory (starts with '/')
    int port = 5432;
    QString user;
    QString password;
    QString database;
    int connectTimeoutSeconds = 5;

    static std::optional<DatabaseUrl> parse(const QString &url, QString *error);
    // For logs: the URL with the password masked.
    QString redacted() const;
};

} // namespace yieldhost
