#include "core/Metrics.h"

#include <QtCore/QMap>

namespace yieldhost {

void MetricsShard::recordRequest(const QByteArray &method, const QByteArray &route, int status, double seconds)
{
    QByteArray key;
    key.reserve(method.size() + route.size() + 6);
    key.append(method).append('\t').append(route).append('\t').append(QByteArray::number(status));
    QMutexLocker lock(&m_mutex);
    ++m_requests[key];
    Latency &l = m_latency[route];
    for (size_t i = 0; i < Buckets.size(); ++i) {
        if (seconds <= Buckets[i])
            ++l.buckets[i];
    }
    ++l.count;
    l.sum += seconds;
}

MetricsShard *Metrics::addShard()
{
    QMutexLocker lock(&m_mutex);
    m_shards.push_back(std::make_unique<MetricsShard>());
    return m_shards.back().get();
}

void Metrics::addCollector(std::function<QByteArray()> collector)
{
    QMutexLocker lock(&m_mutex);
    m_collectors.push_back(std::move(collector));
}

static QByteArray escapeLabel(const QByteArray &v)
{
    QByteArray out = v;
    out.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    return out;
}

QByteArray Metrics::render() const
{
    QMap<QByteArray, quint64> requests;
    QMap<QByteArray, MetricsShard::Latency> latency;
    std::vector<std::function<QByteArray()>> collectors;
    {
        QMutexLocker lock(&m_mutex);
        collectors = m_collectors;
        for (const auto &shard : m_shards) {
            QMutexLocker shardLock(&shard->m_mutex);
            for (auto it = shard->m_requests.cbegin(); it != shard->m_requests.cend(); ++it)
                requests[it.key()] += it.value();
            for (auto it = shard->m_latency.cbegin(); it != shard->m_latency.cend(); ++it) {
                auto &l = latency[it.key()];
                for (size_t i = 0; i < l.buckets.size(); ++i)
                    l.buckets[i] += it->buckets[i];
                l.count += it->count;
                l.sum += it->sum;
            }
        }
    }

    QByteArray out;
    out += "# HELP yieldhost_http_requests_total HTTP requests by method, route pattern and status.\n"
           "# TYPE yieldhost_http_requests_total counter\n";
    for (auto it = requests.cbegin(); it != requests.cend(); ++it) {
        const QList<QByteArray> parts = it.key().split('\t');
        out += "yieldhost_http_requests_total{method=\"" + parts[0] + "\",route=\"" + escapeLabel(parts[1])
               + "\",status=\"" + parts[2] + "\"} " + QByteArray::number(it.value()) + '\n';
    }
    out += "# HELP yieldhost_http_request_duration_seconds Time from a complete request to its response.\n"
           "# TYPE yieldhost_http_request_duration_seconds histogram\n";
    for (auto it = latency.cbegin(); it != latency.cend(); ++it) {
        const QByteArray route = escapeLabel(it.key());
        for (size_t i = 0; i < MetricsShard::Buckets.size(); ++i)
            out += "yieldhost_http_request_duration_seconds_bucket{route=\"" + route + "\",le=\""
                   + QByteArray::number(MetricsShard::Buckets[i]) + "\"} " + QByteArray::number(it->buckets[i]) + '\n';
        out += "yieldhost_http_request_duration_seconds_bucket{route=\"" + route + "\",le=\"+Inf\"} "
               + QByteArray::number(it->count) + '\n';
        out += "yieldhost_http_request_duration_seconds_sum{route=\"" + route + "\"} " + QByteArray::number(it->sum, 'g', 9) + '\n';
        out += "yieldhost_http_request_duration_seconds_count{route=\"" + route + "\"} " + QByteArray::number(it->count) + '\n';
    }
    out += "# HELP yieldhost_http_connections Open HTTP connections.\n# TYPE yieldhost_http_connections gauge\n"
           "yieldhost_http_connections " + QByteArray::number(httpConnections.load()) + '\n';
    out += "# HELP yieldhost_http_direct_read_connections_total Kept-alive connections read with one recv() per request "
           "after their first reply (stays 0 on a Qt other than the one the host was built with).\n"
           "# TYPE yieldhost_http_direct_read_connections_total counter\n"
           "yieldhost_http_direct_read_connections_total " + QByteArray::number(httpDirectReadConnections.load()) + '\n';
    out += "# HELP yieldhost_websocket_connections Open WebSocket connections.\n# TYPE yieldhost_websocket_connections gauge\n"
           "yieldhost_websocket_connections " + QByteArray::number(webSocketConnections.load()) + '\n';
    for (const auto &collect : collectors)
        out += collect();
    return out;
}

} // namespace yieldhost
