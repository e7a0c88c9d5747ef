// Metrics.h — counters for /metrics (Prometheus text format).
//
// Each HTTP thread records into its own shard (its own mutex, never contended on the request
// path); a scrape locks the shards one at a time and sums them.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QHash>
#include <QtCore/QMutex>

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <vector>

namespace yieldhost {

class MetricsShard
{
public:
    static constexpr std::array<double, 9> Buckets{0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0};

    void recordRequest(const QByteArray &method, const QByteArray &route, int status, double seconds);

private:
    friend class Metrics;
    struct Latency
    {
        std::array<quint64, Buckets.size()> buckets{};
        quint64 count = 0;
        double sum = 0;
    };
    QMutex m_mutex;
    QHash<QByteArray, quint64> m_requests; // "method\troute\tstatus"
    QHash<QByteArray, Latency> m_latency;  // by route
};

class Metrics
{
public:
    MetricsShard *addShard();
    std::atomic<qint64> httpConnections{0};
    std::atomic<qint64> webSocketConnections{0};
    std::atomic<quint64> httpDirectReadConnections{0}; // switched to DirectTcpSocket reads (docs/http.md)
    // Other modules (plugins state, later the DB pool and jobs) append their own lines.
    void addCollector(std::function<QByteArray()> collector);
    QByteArray render() const;

private:
    mutable QMutex m_mutex;
    std::vector<std::unique_ptr<MetricsShard>> m_shards;
    std::vector<std::function<QByteArray()>> m_collectors;
};

} // namespace yieldhost
