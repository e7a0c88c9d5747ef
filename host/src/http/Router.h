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

// One registered route. Built by Router::add, then described through the RouteOptions builder
// (auth level, summary, OpenAPI operation, extra content types) while its owner registers.
class Route final : public RouteOptions
{
public:
    RouteOptions &auth(AuthLevel level) override { m_auth = level; return *this; }
    RouteOptions &summary(const QString &text) override { m_summary = text; return *this; }
    RouteOptions &openapi(const QJsonObject &operation) override { m_openapi = operation; return *this; }
    RouteOptions &accepts(const QByteArrayList &types) override { m_accepts = types; return *this; }
    RouteOptions &idempotent() override { m_idempotent = true; return *this; }

    const QString &owner() const { return m_owner; } // plugin id, or "host"
    HttpMethod method() const { return m_method; }
    const QString &pattern() const { return m_pattern; }
    const QStringList &segments() const { return m_segments; } // "{name}" marks a parameter
    bool hasParams() const { return m_hasParams; }
    const HttpHandler &handler() const { return m_handler; }
    AuthLevel authLevel() const { return m_auth; }
    const QString &summaryText() const { return m_summary; }
    const QJsonObject &operation() const { return m_openapi; }
    const QByteArrayList &acceptedTypes() const { return m_accepts; }
    bool isIdempotent() const { return m_idempotent; }

private:
    friend class Router;
    QString m_owner;
    HttpMethod m_method = HttpMethod::Get;
    QString m_pattern;
    QStringList m_segments;
    bool m_hasParams = false;
    HttpHandler m_handler;
    AuthLevel m_auth = AuthLevel::User;
    QString m_summary;
    QJsonObject m_openapi;
    QByteArrayList m_accepts;
    bool m_idempotent = false;
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

    // Withdraws every route and WebSocket endpoint `owner` registered (a plugin that was refused
    // after registering). Only while the table is being filled: no HTTP thread reads it yet.
    void removeOwner(const QString &owner);

    // The OpenAPI 3.1 document of every route: each operation gets an operationId (derived from
    // method and path unless its owner gave one), its security (`[]` for public routes), path
    // parameters and RFC 9457 problem responses, so client generators and linters accept it.
    QJsonObject openApi(const QString &title, const QString &version) const;
    qsizetype routeCount() const { return qsizetype(m_routes.size()); }

private:
    std::deque<Route> m_routes;
    QHash<QString, std::vector<const Route *>> m_static; // patterns without parameters, by path
    struct WebSocketEndpoint
    {
        QString owner;
        WebSocketHandler handler;
    };
    QHash<QString, WebSocketEndpoint> m_webSockets;
};

} // namespace yieldhost
