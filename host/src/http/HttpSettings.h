// HttpSettings.h — the limits and timeouts of the HTTP and WebSocket server, read from config.
#pragma once

#include "core/Config.h"

namespace yieldhost {

struct HttpSettings
{
    qint64 maxBodyBytes = 1 << 20;
    qint64 maxHeaderBytes = 16 << 10;
    qint64 headerTimeoutMs = 10000;
    qint64 idleTimeoutMs = 60000;
    qint64 maxConnections = 10000; // per HTTP thread
    qint64 drainTimeoutMs = 10000;
    bool accessLog = true;
    qint64 wsMaxMessageBytes = 64 << 10;
    qint64 wsMaxOutgoingBytes = 1 << 20;
    qint64 wsPingIntervalMs = 30000;
    qint64 wsPongTimeoutMs = 10000;

    static HttpSettings fromConfig(const Config &config)
    {
        HttpSettings s;
        s.maxBodyBytes = config.integer(QStringLiteral("http.max_body_bytes"));
        s.maxHeaderBytes = config.integer(QStringLiteral("http.max_header_bytes"));
        s.headerTimeoutMs = config.integer(QStringLiteral("http.header_timeout_ms"));
        s.idleTimeoutMs = config.integer(QStringLiteral("http.idle_timeout_ms"));
        s.maxConnections = config.integer(QStringLiteral("http.max_connections"));
        s.drainTimeoutMs = config.integer(QStringLiteral("http.drain_timeout_ms"));
        s.accessLog = config.boolean(QStringLiteral("http.access_log"));
        s.wsMaxMessageBytes = config.integer(QStringLiteral("websocket.max_message_bytes"));
        s.wsMaxOutgoingBytes = config.integer(QStringLiteral("websocket.max_outgoing_bytes"));
        s.wsPingIntervalMs = config.integer(QStringLiteral("websocket.ping_interval_ms"));
        s.wsPongTimeoutMs = config.integer(QStringLiteral("websocket.pong_timeout_ms"));
        return s;
    }
};

} // namespace yieldhost
