#include "Host.h"

#include "HttpServer.h"
#include "Logging.h"

#include <QtCore/QThread>

#include <cstdio>

namespace yieldhost {

Host::Host(Config config, QObject *parent)
    : QObject(parent)
    , m_services{std::move(config), {}, {}, {}, {}}
    , m_plugins(m_services)
    , m_dispatcher(m_services)
{
    registerSystemRoutes(m_services, m_metrics, m_pluginList);
    m_metrics.addCollector([this] {
        QByteArray out = "# HELP yieldhost_plugins Plugins by state.\n# TYPE yieldhost_plugins gauge\n";
        QHash<QString, int> byState;
        for (const QJsonValue &p : m_pluginList.read())
            ++byState[p.toObject().value(QLatin1String("state")).toString()];
        for (auto it = byState.cbegin(); it != byState.cend(); ++it)
            out += "yieldhost_plugins{state=\"" + it.key().toUtf8() + "\"} " + QByteArray::number(it.value()) + '\n';
        return out;
    });
}

Host::~Host()
{
    m_http.reset();
    m_plugins.stop();
}

void Host::loadPlugins()
{
    const QStringList path = PluginManager::defaultSearchPath(m_services.config.string(QStringLiteral("plugin_path")));
    qCInfo(lcPlugins).noquote() << "plugin path:" << path.join(u':');
    m_plugins.discover(path);
    m_plugins.resolve();
    m_plugins.loadAndInitialize();
    m_pluginList.publish(m_plugins.describe());
}

Status Host::serve()
{
    const HttpSettings settings = HttpSettings::fromConfig(m_services.config);
    int threads = int(m_services.config.integer(QStringLiteral("http.threads")));
    if (threads <= 0)
        threads = std::max(1, QThread::idealThreadCount());
    m_http = std::make_unique<HttpServer>(settings, m_dispatcher, m_services.router, m_metrics);
    connect(m_http.get(), &HttpServer::stopped, this, [this] {
        m_plugins.stop();
        m_pluginList.publish(m_plugins.describe());
        qCInfo(lcHost) << "stopped";
        Q_EMIT stopped();
    });
    m_plugins.start();
    m_pluginList.publish(m_plugins.describe());
    if (Status s = m_http->listen(m_services.config.string(QStringLiteral("listen")), threads); !s)
        return s;

    const QHostAddress address = m_http->address();
    const QString shown = (address == QHostAddress::AnyIPv4 || address == QHostAddress::AnyIPv6)
                              ? QStringLiteral("127.0.0.1")
                              : (address.protocol() == QAbstractSocket::IPv6Protocol ? u'[' + address.toString() + u']' : address.toString());
    qCInfo(lcHost).noquote() << QStringLiteral("serving %1 routes on %2:%3 with %4 HTTP threads")
                                    .arg(m_services.router.routeCount())
                                    .arg(address.toString())
                                    .arg(m_http->port())
                                    .arg(m_http->threadCount());
    std::printf("Yieldhost listening on http://%s:%u\n", qPrintable(shown), unsigned(m_http->port()));
    std::fflush(stdout);
    return {};
}

void Host::shutdown()
{
    if (m_stopping)
        return;
    m_stopping = true;
    qCInfo(lcHost) << "shutting down: draining connections";
    if (m_http)
        m_http->shutdown();
    else
        Q_EMIT stopped();
}

} // namespace yieldhost
