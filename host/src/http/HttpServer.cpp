#include "http/HttpServer.h"

#include "http/AccessLog.h"

#include "core/Logging.h"
#include "http/ConnectionLimits.h"
#include "http/HttpThread.h"

#include <QtCore/QThread>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace yieldhost {

namespace {

// A non-blocking listening socket. `reusePort` lets each HTTP thread own a socket on one port.
int openListener(const QHostAddress &address, quint16 port, bool reusePort, QString *error)
{
    const bool v6 = address.protocol() == QAbstractSocket::IPv6Protocol;
    const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *error = QStringLiteral("socket(): %1").arg(QString::fromLocal8Bit(std::strerror(errno)));
        return -1;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reusePort)
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    sockaddr_storage storage{};
    socklen_t length = 0;
    if (v6) {
        auto *a = reinterpret_cast<sockaddr_in6 *>(&storage);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        const Q_IPV6ADDR ip = address.toIPv6Address();
        std::memcpy(&a->sin6_addr, &ip, sizeof ip);
        length = sizeof(sockaddr_in6);
    } else {
        auto *a = reinterpret_cast<sockaddr_in *>(&storage);
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        a->sin_addr.s_addr = htonl(address.toIPv4Address());
        length = sizeof(sockaddr_in);
    }
    if (::bind(fd, reinterpret_cast<sockaddr *>(&storage), length) != 0 || ::listen(fd, 1024) != 0) {
        *error = QStringLiteral("cannot listen on %1:%2: %3").arg(address.toString()).arg(port).arg(QString::fromLocal8Bit(std::strerror(errno)));
        ::close(fd);
        return -1;
    }
    return fd;
}

quint16 boundPort(int fd)
{
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&storage), &length);
    if (storage.ss_family == AF_INET6)
        return ntohs(reinterpret_cast<sockaddr_in6 *>(&storage)->sin6_port);
    return ntohs(reinterpret_cast<sockaddr_in *>(&storage)->sin_port);
}

// Every connection is a descriptor: raise the soft limit toward the hard one so that
// `http.max_connections` can be reached, and if it still cannot, lower the limit to what fits
// rather than let accept() fail with EMFILE while the listening socket keeps waking us up.
qint64 connectionsThatFit(qint64 wanted)
{
    constexpr qint64 reserve = 256; // database connections, plugins' files, logs
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return wanted;
    const rlim_t needed = rlim_t(wanted + reserve);
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
        limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? needed : std::min(needed, limit.rlim_max);
        ::setrlimit(RLIMIT_NOFILE, &limit);
        ::getrlimit(RLIMIT_NOFILE, &limit);
    }
    if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= needed)
        return wanted;
    const qint64 fits = std::max<qint64>(1, qint64(limit.rlim_cur) - reserve);
    qCWarning(lcHttp) << "http.max_connections" << wanted << "does not fit the open-file limit of" << qint64(limit.rlim_cur)
                      << "; serving at most" << fits << "connections (raise LimitNOFILE / ulimit -n)";
    return fits;
}

} // namespace

HttpServer::HttpServer(const HttpSettings &settings, RequestDispatcher &dispatcher, Router &router, Metrics &metrics, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_dispatcher(dispatcher)
    , m_router(router)
    , m_metrics(metrics)
    , m_drainDeadline(this)
{
    if (m_settings.accessLog)
        m_accessLog = std::make_unique<AccessLog>(m_settings.jsonLog ? AccessLog::Format::Json : AccessLog::Format::Text);
    m_drainDeadline.setSingleShot(true);
    connect(&m_drainDeadline, &QTimer::timeout, this, [this] {
        qCWarning(lcHttp) << "drain timeout of" << m_settings.drainTimeoutMs << "ms reached; closing remaining connections";
        stopThreads();
        Q_EMIT stopped();
    });
}

HttpServer::~HttpServer() { stopThreads(); }

Status HttpServer::listen(const QString &listen, int threads)
{
    const qsizetype colon = listen.lastIndexOf(u':');
    bool portOk = false;
    const uint port = colon < 0 ? 0 : listen.mid(colon + 1).toUInt(&portOk);
    if (colon < 0 || !portOk || port > 65535)
        return Status::failure(QStringLiteral("listen address \"%1\" is not host:port").arg(listen));
    QString host = listen.left(colon);
    if (host.startsWith(u'[') && host.endsWith(u']'))
        host = host.mid(1, host.size() - 2);
    if (host == QLatin1String("localhost"))
        m_address = QHostAddress(QHostAddress::LocalHost);
    else if (host.isEmpty() || host == QLatin1String("*"))
        m_address = QHostAddress(QHostAddress::AnyIPv4);
    else if (!m_address.setAddress(host))
        return Status::failure(QStringLiteral("listen host \"%1\" is not an IP address (or localhost)").arg(host));

    // A first plain bind tells "port in use" apart: sockets without SO_REUSEPORT cannot share.
    QString error;
    const int probe = openListener(m_address, quint16(port), false, &error);
    if (probe < 0)
        return Status::failure(error);
    m_port = boundPort(probe);
    ::close(probe);

    threads = std::max(1, threads);
    m_limits = std::make_shared<ConnectionLimits>(connectionsThatFit(m_settings.maxConnections), m_settings.maxConnectionsPerAddress,
                                                  m_settings.clientAddress);
    for (int i = 0; i < threads; ++i) {
        const int fd = openListener(m_address, m_port, true, &error);
        if (fd < 0) {
            stopThreads();
            return Status::failure(error);
        }
        auto *thread = new QThread(this);
        thread->setObjectName(QStringLiteral("http-%1").arg(i));
        auto *worker = new HttpThread(i, m_settings, m_limits, m_dispatcher, m_router, m_metrics, m_accessLog.get());
        worker->moveToThread(thread);
        connect(thread, &QThread::finished, worker, &QObject::deleteLater);
        connect(worker, &HttpThread::drained, this, [this, worker] { onWorkerDrained(worker); }, Qt::QueuedConnection);
        thread->start();
        QMetaObject::invokeMethod(worker, [worker, fd] { worker->start(fd); }, Qt::QueuedConnection);
        m_threads.push_back(thread);
        m_workers.push_back(worker);
    }
    return {};
}

void HttpServer::shutdown()
{
    if (m_shuttingDown)
        return;
    m_shuttingDown = true;
    if (m_workers.empty()) {
        Q_EMIT stopped();
        return;
    }
    m_drainDeadline.start(int(m_settings.drainTimeoutMs));
    for (HttpThread *worker : m_workers)
        QMetaObject::invokeMethod(worker, &HttpThread::drain, Qt::QueuedConnection);
}

void HttpServer::onWorkerDrained(HttpThread *worker)
{
    m_drained.insert(worker);
    if (m_drained.size() < qsizetype(m_workers.size()) || !m_drainDeadline.isActive())
        return;
    m_drainDeadline.stop();
    stopThreads();
    Q_EMIT stopped();
}

void HttpServer::stopThreads()
{
    for (QThread *thread : m_threads) {
        thread->quit();
        thread->wait();
    }
    qDeleteAll(m_threads);
    m_threads.clear();
    m_workers.clear(); // deleted on their threads by QThread::finished
}

} // namespace yieldhost
