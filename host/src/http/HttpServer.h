// HttpServer.h — the listening side: N HTTP threads, each with its own SO_REUSEPORT socket on
// the same address, and the graceful drain on shutdown.
#pragma once

#include "http/HttpSettings.h"

#include "yieldhost/Status.h"

#include <QtCore/QObject>
#include <QtCore/QSet>
#include <QtCore/QTimer>
#include <QtNetwork/QHostAddress>

#include <memory>
#include <vector>

class QThread;

namespace yieldhost {

class ConnectionLimits;
class AccessLog;
class HttpThread;
class Metrics;
class RequestDispatcher;
class Router;

class HttpServer : public QObject
{
    Q_OBJECT
public:
    HttpServer(const HttpSettings &settings, RequestDispatcher &dispatcher, Router &router, Metrics &metrics, QObject *parent = nullptr);
    ~HttpServer() override;

    // `listen` is "host:port" with an IP literal, "localhost" or "*"; port 0 picks a free one.
    Status listen(const QString &listen, int threads);
    QHostAddress address() const { return m_address; }
    quint16 port() const { return m_port; }
    int threadCount() const { return int(m_workers.size()); }

    // Stop accepting, let in-flight requests finish (up to the drain timeout), then emit stopped().
    void shutdown();

Q_SIGNALS:
    void stopped();

private:
    void onWorkerDrained(HttpThread *worker);
    void stopThreads();

    HttpSettings m_settings;
    RequestDispatcher &m_dispatcher;
    Router &m_router;
    Metrics &m_metrics;
    // Declared before the threads' members so it outlives them; written out when the server goes.
    std::unique_ptr<AccessLog> m_accessLog;
    QHostAddress m_address;
    quint16 m_port = 0;
    std::vector<QThread *> m_threads;
    std::vector<HttpThread *> m_workers;
    QSet<HttpThread *> m_drained;
    bool m_shuttingDown = false;
    QTimer m_drainDeadline;
    std::shared_ptr<ConnectionLimits> m_limits;
};

} // namespace yieldhost
