// HostAccess.h — how the host fills in the values plugins only read: an HTTP request before its
// handler runs, an SQL result after a statement. Not installed with the SDK: a plugin sees
// HttpRequest and SqlResult as read-only, and these writers can change without an SDK release.
#pragma once

#include "yieldhost/Database.h"
#include "yieldhost/Http.h"

namespace yieldhost {

class YIELDHOST_SDK_EXPORT HttpRequestWriter
{
public:
    static void setMethod(HttpRequest &request, HttpMethod method);
    static void setPath(HttpRequest &request, const QString &path);
    static void setQuery(HttpRequest &request, const QUrlQuery &query);
    static void addHeader(HttpRequest &request, QByteArray lowerName, QByteArray value);
    static void setBody(HttpRequest &request, QByteArray body);
    static void setJson(HttpRequest &request, QJsonValue json);
    static void setPathParams(HttpRequest &request, QHash<QString, QString> params);
    static void setPeerAddress(HttpRequest &request, const QHostAddress &address);
    static void setRequestId(HttpRequest &request, const QString &id);
    static void setUser(HttpRequest &request, std::optional<AuthenticatedUser> user);
};

class YIELDHOST_SDK_EXPORT SqlResultWriter
{
public:
    static void setError(SqlResult &result, DbError error);
    static void setConstraint(SqlResult &result, QString constraint);
    static void setColumns(SqlResult &result, QStringList columns);
    static void appendRow(SqlResult &result, QVariantList row);
    static void setRowsAffected(SqlResult &result, qint64 n);
    // A result that carries only `error`.
    static SqlResult failed(DbError error);
};

// The key that signs list cursors (Paging.h); the host reads it from PostgreSQL so every
// process signs and verifies with the same one.
class YIELDHOST_SDK_EXPORT PagingKeyWriter
{
public:
    static void setKey(QByteArray key);
};

// What publishIn() did in this process, for /metrics.
class YIELDHOST_SDK_EXPORT OutboxCounters
{
public:
    // Rows inserted by publishIn(); a transaction that then rolled back still counted.
    static qint64 written();
    // Whether publishIn() or publishAllIn() ran on this thread since the last call (which
    // clears it): the host asks around each transaction, and notifies the relays after a commit.
    static bool takeWrittenOnThisThread();
};

} // namespace yieldhost
