// Router.h — the table of HTTP routes and WebSocket endpoints that plugins register.
//
// Filled on the main thread while plugins initialize, then only read (from every HTTP thread),
// so lookups take no lock. Patterns are OpenAPI-style: "/api/v1/wallets/{id}".
#pragma once

#include "yieldhost/Http.h"
#include "yieldhost/WebSocket.h"

#include <QtCore/QHash>
#include <QtCore/QJsonObject>

#include <deque>
#include <memory>

namespace yieldhost {

class Route final : public RouteOptions
{
public:
    RouteOptions &auth(AuthLevel level) override { m_auth = level; return *this; }
    RouteOptions &summary(const QString &text) override { m_summary = text; return *this; }
    RouteOptions &openapi(const QJsonObject &operation) override { m_openapi = operation; return *this; }
    RouteOptions &accepts(const QByteArrayList &types) override { m_accepts = types; return *this; }

    QString pluginId;
    HttpMethod method = HttpMethod::Get;
    QString pattern;
    QStringList segments; // pattern split on '/', "{name}" marks a parameter
    bool hasParams = false;
    HttpHandler handler;
    AuthLevel m_auth = AuthLevel::User;
    QString m_summary;
    QJsonObject m_openapi;
    QByteArrayList m_accepts;
};

class Router
{
public:
    struct Match
    {
        const Route *route = nullptr;
        QHash<QString, QString> params;
        QByteArrayList allowedMethods; // when the path exists but not for this method
    };

    // Returns nullptr and sets *error for a malformed or duplicate pattern.
    Route *add(const QString &pluginId, HttpMethod method, const QString &pattern, HttpHandler handler, QString *error);
    Match match(HttpMethod method, const QString &path) const;

    bool addWebSocket(const QString &pluginId, const QString &path, WebSocketHandler handler, QString *error);
    const WebSocketHandler *webSocket(const QString &path) const;

    QJsonObject openApi(const QString &title, const QString &version) const;
    qsizetype routeCount() const { return qsizetype(m_routes.size()); }

private:
    std::deque<Route> m_routes;
    QHash<QString, std::vector<const Route *>> m_static; // patterns without parameters, by path
    QHash<QString, WebSocketHandler> m_webSockets;
};

} // namespace yieldhost
