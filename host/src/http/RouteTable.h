// RouteTable.h — the host's own routes declared as a table, the way a plugin's AuthRoutes reads:
// one row per endpoint naming its method, path, auth level, operation id, summary and the member
// function that answers it.
//
//   static constexpr RouteRow<SystemRoutes> rows[] = {
//       {HttpMethod::Get, "/healthz", AuthLevel::Public, 200, "getHealth", "Liveness", &SystemRoutes::health},
//   };
//   return addRouteTable<SystemRoutes>(router, u"host"_s, *this, rows);
#pragma once

#include "http/Router.h"

#include "yieldhost/Status.h"

#include <span>

namespace yieldhost {

template<typename Owner>
struct RouteRow
{
    HttpMethod method;
    const char *pattern;
    AuthLevel auth;
    int status; // of a success, for the OpenAPI document; errors are problem details
    const char *operationId;
    const char *summary;
    QCoro::Task<HttpResponse> (Owner::*handler)(HttpRequest);
};

// Registers every row; a row the router refuses (malformed or duplicate pattern) is reported in
// the returned failure, one reason per row, and the other rows still register.
template<typename Owner>
Status addRouteTable(Router &router, const QString &owner, Owner &object, std::span<const RouteRow<Owner>> rows)
{
    QStringList errors;
    for (const RouteRow<Owner> &row : rows) {
        QString error;
        auto handler = [&object, member = row.handler](HttpRequest request) { return (object.*member)(std::move(request)); };
        Route *route = router.add(owner, row.method, QString::fromLatin1(row.pattern), std::move(handler), &error);
        if (!route) {
            errors.append(error);
            continue;
        }
        route->auth(row.auth).summary(QString::fromUtf8(row.summary));
        const QJsonObject success{{QStringLiteral("description"), QString::fromUtf8(row.summary)}};
        route->openapi(QJsonObject{{QStringLiteral("operationId"), QLatin1String(row.operationId)},
                                   {QStringLiteral("responses"), QJsonObject{{QString::number(row.status), success}}}});
    }
    return errors.isEmpty() ? Status{} : Status::failure(errors.join(QStringLiteral("; ")));
}

} // namespace yieldhost
