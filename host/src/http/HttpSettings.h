// HttpSettings.h — the limits and timeouts of the HTTP and WebSocket server, read from config.
#pragma once

#include "core/Config.h"
#include "http/ClientAddress.h"

#include <QtCore/QJsonArray>

#include <optional>

namespace yieldhost {

struct HttpSettings
{
    qint64 maxBodyBytes = 1 << 20;
    qint64 maxHeaderBytes = 16 << 10;
    qint64 headerTimeoutMs = 10000;
    qint64 bodyTimeoutMs = 60000; // the whole body, however it trickles
    qint64 idleTimeoutMs = 60000;
    qint64 maxConnections = 4096; // all HTTP threads together, WebSockets included
    qint64 maxConnectionsPerAddress = 256;
    qint64 drainTimeoutMs = 10000;
    bool accessLog = true;
    bool jsonLog = false; // YIELDHOST_LOG_FORMAT=json: the access log writes JSON lines too
    ClientAddress clientAddress; // trusted proxies and the header they write
    qint64 wsMaxMessageBytes = 64 << 10;
    qint64 wsMaxOutgoingBytes = 1 << 20;
    qint64 wsPingIntervalMs = 30000;
    qint64 wsPongTimeoutMs = 10000;

    static std::optional<HttpSettings> fromConfig(const Config &config, QString *error)
    {
        HttpSettings s;
        s.maxBodyBytes = config.integer(QStringLiteral("http.max_body_bytes"));
        s.maxHeaderBytes = config.integer(QStringLiteral("http.max_header_bytes"));
        s.headerTimeoutMs = config.integer(QStringLiteral("http.header_timeout_ms"));
        s.bodyTimeoutMs = config.integer(QStringLiteral("http.body_timeout_ms"));
        s.idleTimeoutMs = config.integer(QStringLiteral("http.idle_timeout_ms"));
        s.maxConnections = config.integer(QStringLiteral("http.max_connections"));
        s.maxConnectionsPerAddress = config.integer(QStringLiteral("http.max_connections_per_address"));
        s.drainTimeoutMs = config.integer(QStringLiteral("http.drain_timeout_ms"));
        s.accessLog = config.boolean(QStringLiteral("http.access_log"));
        s.jsonLog = config.string(QStringLiteral("log_format")) == QLatin1String("json");
        s.wsMaxMessageBytes = config.integer(QStringLiteral("websocket.max_message_bytes"));
        s.wsMaxOutgoingBytes = config.integer(QStringLiteral("websocket.max_outgoing_bytes"));
        s.wsPingIntervalMs = config.integer(QStringLiteral("websocket.ping_interval_ms"));
        s.wsPongTimeoutMs = config.integer(QStringLiteral("websocket.pong_timeout_ms"));
        QStringList proxies;
        for (const QJsonValue &v : config.value(QStringLiteral("http.trusted_proxies")).toArray())
            proxies.append(v.toString());
        std::optional<ClientAddress> resolver =
            ClientAddress::fromSettings(proxies, config.string(QStringLiteral("http.forwarded_header")), error);
        if (!resolver)
            return std::nullopt;
        s.clientAddress = std::move(*resolver);
        return s;
    }
};

} // namespace yieldhost
