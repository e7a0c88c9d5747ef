#include "Host.h"

#include "EmbeddedPostgres.h"
#include "HttpServer.h"
#include "Logging.h"

#include <QtCore/QDir>
#include <QtCore/QJsonObject>
#include <QtCore/QThread>
#include <QtCore/QTimer>

#include <QCoro/QCoroTimer>

#include <cstdio>

namespace yieldhost {

Host::Host(Config config, QObject *parent)
    : QObject(parent)
    , m_services(std::move(config))
    , m_plugins(m_services)
    , m_dispatcher(m_services)
{
    registerSystemRoutes(m_services, m_metrics, m_pluginList);

    QString error;
    m_services.router.add(QStringLiteral("host"), HttpMethod::Get, QStringLiteral("/readyz"), [this](HttpRequest) -> QCoro::Task<HttpResponse> {
        std::optional<QString> reason;
        if (!m_services.database)
            reason = QStringLiteral("no database is configured");
        else
            reason = co_await Migrations::notReadyReason(*m_services.database, m_migrations);
        if (!reason && !m_migrated.load())
            reason = QStringLiteral("migrations are still being applied");
        if (reason)
            co_return Problem::unavailable(QStringLiteral("Not ready: %1.").arg(*reason), 5).toResponse();
        co_return HttpResponse::json(200, QJsonObject{{QStringLiteral("status"), QStringLiteral("ready")}});
    }, &error)->auth(AuthLevel::Public).summary(QStringLiteral("Readiness: 200 when the database answers and every migration is applied"));

    m_metrics.addCollector([this] {
        QByteArray out = "# HELP yieldhost_plugins Plugins by state.\n# TYPE yieldhost_plugins gauge\n";
        QHash<QString, int> byState;
        for (const QJsonValue &p : m_pluginList.read())
            ++byState[p.toObject().value(QLatin1String("state")).toString()];
        for (auto it = byState.cbegin(); it != byState.cend(); ++it)
            out += "yieldhost_plugins{state=\"" + it.key().toUtf8() + "\"} " + QByteArray::number(it.value()) + '\n';
        if (m_services.database) {
            out += "# HELP yieldhost_db_pool_size DB threads (one connection each) of the primary pool.\n"
                   "# TYPE yieldhost_db_pool_size gauge\nyieldhost_db_pool_size "
                   + QByteArray::number(m_services.database->poolSize()) + '\n';
            out += "# HELP yieldhost_db_pool_busy Queries and transactions queued or running.\n"
                   "# TYPE yieldhost_db_pool_busy gauge\nyieldhost_db_pool_busy "
                   + QByteArray::number(m_services.database->busyThreads()) + '\n';
        }
        return out;
    });
}

Host::~Host()
{
    m_http.reset();
    m_plugins.stop();
    m_services.database.reset(); // close connections before the embedded server goes away
    m_embedded.reset();
}

Status Host::openDatabase()
{
    QString url = m_services.config.string(QStringLiteral("database_url"));
    if (url.isEmpty()) {
        QString dataDir = m_services.config.string(QStringLiteral("data_dir"));
        if (dataDir.isEmpty())
            dataDir = EmbeddedPostgres::defaultDataDirectory();
        EmbeddedPostgres::Options options;
        options.dataDirectory = dataDir;
        m_embedded = std::make_unique<EmbeddedPostgres>(options);
        if (Status s = m_embedded->start(); !s)
            return Status::failure(QStringLiteral("cannot run the embedded PostgreSQL in %1: %2").arg(dataDir, s.error()));
        url = m_embedded->databaseUrl();
    }
    QString error;
    const auto primary = DatabaseUrl::parse(url, &error);
    if (!primary)
        return Status::failure(QStringLiteral("YIELDHOST_DATABASE_URL: %1").arg(error));
    DbPool::Settings settings;
    settings.primary = *primary;
    settings.poolSize = int(std::max<qint64>(1, m_services.config.integer(QStringLiteral("db.pool_size"))));
    const QString replicaUrl = m_services.config.string(QStringLiteral("replica_url"));
    if (!replicaUrl.isEmpty()) {
        const auto replica = DatabaseUrl::parse(replicaUrl, &error);
        if (!replica)
            return Status::failure(QStringLiteral("YIELDHOST_REPLICA_URL: %1").arg(error));
        settings.replica = *replica;
    }
    qCInfo(lcDb).noquote() << "database:" << primary->redacted() << (settings.replica ? QStringLiteral("with a read replica") : QString());
    m_services.database = std::make_unique<DbPool>(settings);
    return {};
}

void Host::loadPlugins()
{
    const QStringList path = PluginManager::defaultSearchPath(m_services.config.string(QStringLiteral("plugin_path")));
    qCInfo(lcPlugins).noquote() << "plugin path:" << path.join(u':');
    m_plugins.discover(path);
    m_plugins.resolve();
    m_plugins.loadAndInitialize();
    m_pluginList.publish(m_plugins.describe());
    QString error;
    auto migrations = Migrations::collect(migrationOrder(), &error);
    if (!migrations)
        qCCritical(lcMigrations).noquote() << error;
    else
        m_migrations = *migrations;
}

QStringList Host::migrationOrder() const
{
    QStringList order{QStringLiteral("host")};
    for (const QString &id : m_plugins.order()) {
        const PluginSpec *spec = m_plugins.find(id);
        if (spec && spec->state == PluginState::Initialized)
            order.append(id);
    }
    return order;
}

QCoro::Task<Migrations::Outcome> Host::migrate(std::function<void(const QString &)> progress)
{
    if (!m_services.database)
        co_return Migrations::Outcome{Status::failure(QStringLiteral("no database is configured")), false};
    QString error;
    if (!Migrations::collect(migrationOrder(), &error))
        co_return Migrations::Outcome{Status::failure(error), false};
    Migrations::Outcome outcome = co_await Migrations::apply(*m_services.database, m_migrations, std::move(progress));
    if (outcome.status)
        m_migrated = true;
    co_return outcome;
}

QCoro::Task<> Host::migrateInBackground()
{
    QPointer<Host> self(this);
    for (int attempt = 1; self && !m_stopping; ++attempt) {
        auto log = [](const QString &line) { qCInfo(lcMigrations).noquote() << line; };
        const Migrations::Outcome outcome = co_await migrate(log);
        if (!self)
            co_return;
        if (outcome.status)
            co_return;
        if (!outcome.retryable) {
            qCCritical(lcMigrations).noquote() << "stopping:" << outcome.status.error();
            shutdown(1);
            co_return;
        }
        qCWarning(lcMigrations).noquote() << outcome.status.error() << QStringLiteral("— retrying in 5 s (attempt %1)").arg(attempt);
        QTimer timer;
        timer.setSingleShot(true);
        timer.start(5000);
        co_await timer;
    }
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

    if (m_services.config.boolean(QStringLiteral("db.auto_migrate")))
        migrateInBackground();

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

void Host::shutdown(int exitCode)
{
    if (m_stopping)
        return;
    m_stopping = true;
    m_exitCode = exitCode;
    qCInfo(lcHost) << "shutting down: draining connections";
    if (m_http)
        m_http->shutdown();
    else
        Q_EMIT stopped();
}

} // namespace yieldhost
