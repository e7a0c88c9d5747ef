#include "Host.h"

#include "core/Logging.h"
#include "db/ClockSync.h"
#include "db/DbPool.h"
#include "db/EmbeddedPostgres.h"
#include "db/OutboxRelay.h"
#include "http/ClockRoutes.h"
#include "http/HttpServer.h"
#include "jobs/CleanupTask.h"
#include "jobs/JobBeat.h"
#include "jobs/JobMetrics.h"
#include "jobs/JobRoutes.h"
#include "jobs/JobRunner.h"

#include "yieldhost/HostAccess.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>
#include <QtCore/QPointer>
#include <QtCore/QScopeGuard>
#include <QtCore/QThread>

#include <QCoro/QCoroSignal>

#include <cstdio>

namespace yieldhost {

Host::Host(Config config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_plugins(PluginEnvironment{m_config, m_clock, m_events, m_router, m_services, m_jobs, m_database})
    , m_dispatcher(m_router, m_services)
{
    if (m_config.string(QStringLiteral("data_dir")).isEmpty())
        m_config.set(QStringLiteral("data_dir"), EmbeddedPostgres::defaultDataDirectory());
    if (m_config.boolean(QStringLiteral("sandbox")))
        qCWarning(lcHost).noquote() << "SANDBOX MODE: simulated deposits, a movable test clock and a generated signing secret; "
                                       "set YIELDHOST_SANDBOX=0 (with YIELDHOST_JWT_SECRET) in production";
    addMetricsCollectors();
}

void Host::addMetricsCollectors()
{
    m_metrics.addCollector([this] {
        QByteArray out = "# HELP yieldhost_plugins Plugins by state.\n# TYPE yieldhost_plugins gauge\n";
        QHash<QString, int> byState;
        for (const QJsonValue &p : m_pluginList.read())
            ++byState[p.toObject().value(QLatin1String("state")).toString()];
        for (auto it = byState.cbegin(); it != byState.cend(); ++it)
            out += "yieldhost_plugins{state=\"" + it.key().toUtf8() + "\"} " + QByteArray::number(it.value()) + '\n';
        out += "# HELP yieldhost_outbox_written_total Outbox rows this process wrote with publishIn() or publishAllIn() (a transaction that then failed or rolled back still counts).\n"
               "# TYPE yieldhost_outbox_written_total counter\nyieldhost_outbox_written_total "
               + QByteArray::number(OutboxCounters::written()) + '\n';
        if (m_outboxRelay) {
            out += "# HELP yieldhost_outbox_relayed_total Outbox events this process republished on its event bus.\n"
                   "# TYPE yieldhost_outbox_relayed_total counter\nyieldhost_outbox_relayed_total "
                   + QByteArray::number(m_outboxRelay->relayed()) + '\n';
            out += m_outboxRelay->lagHistogram();
        }
        if (m_database) {
            out += "# HELP yieldhost_db_pool_size DB threads (one connection each) of the primary pool.\n"
                   "# TYPE yieldhost_db_pool_size gauge\nyieldhost_db_pool_size "
                   + QByteArray::number(m_database->poolSize()) + '\n';
            out += "# HELP yieldhost_db_pool_busy Queries and transactions queued or running.\n"
                   "# TYPE yieldhost_db_pool_busy gauge\nyieldhost_db_pool_busy "
                   + QByteArray::number(m_database->busyThreads()) + '\n';
        }
        return out;
    });
}

Host::~Host()
{
    m_http.reset();
    m_outboxRelay.reset();
    m_clockSync.reset();
    m_beat.reset();
    m_worker.reset();
    m_jobMetrics.reset();
    m_plugins.stop();
    m_database.reset(); // close connections before the embedded server goes away
    m_embedded.reset();
}

Status Host::openDatabase()
{
    QString url = m_config.string(QStringLiteral("database_url"));
    if (url.isEmpty()) {
        const QString dataDir = m_config.string(QStringLiteral("data_dir"));
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
    settings.poolSize = int(std::max<qint64>(1, m_config.integer(QStringLiteral("db.pool_size"))));
    settings.asyncConnectionsPerThread = int(std::max<qint64>(0, m_config.integer(QStringLiteral("db.async_connections_per_thread"))));
    const QString replicaUrl = m_config.string(QStringLiteral("replica_url"));
    if (!replicaUrl.isEmpty()) {
        const auto replica = DatabaseUrl::parse(replicaUrl, &error);
        if (!replica)
            return Status::failure(QStringLiteral("YIELDHOST_REPLICA_URL: %1").arg(error));
        settings.replica = *replica;
    }
    qCInfo(lcDb).noquote() << "database:" << primary->redacted() << (settings.replica ? QStringLiteral("with a read replica") : QString());
    m_database = std::make_unique<DbPool>(settings);
    return {};
}

Status Host::registerHostRoutesAndTasks()
{
    const QString mode = m_config.boolean(QStringLiteral("sandbox")) ? QStringLiteral("sandbox") : QStringLiteral("production");
    m_systemRoutes = std::make_unique<SystemRoutes>(m_router, m_metrics, m_pluginList, [this] { return notReadyReason(); }, mode);
    m_jobRoutes = std::make_unique<JobRoutes>(m_router, m_jobs, m_database.get(), m_config, m_clock);
    m_cleanup = std::make_unique<CleanupTask>(m_jobs, m_database.get(), int(m_config.integer(QStringLiteral("jobs.retention_days"))),
                                              int(m_config.integer(QStringLiteral("idempotency.retention_hours"))),
                                              int(m_config.integer(QStringLiteral("outbox.retention_hours"))));
    for (const Status &s : {m_systemRoutes->registerRoutes(), m_jobRoutes->registerRoutes(), m_cleanup->registerTask()}) {
        if (!s)
            return Status::failure(QStringLiteral("the host's own routes and tasks: %1").arg(s.error()));
    }
    if (m_config.boolean(QStringLiteral("sandbox"))) {
        m_clockRoutes = std::make_unique<ClockRoutes>(m_router, m_database.get(), m_clock);
        if (Status s = m_clockRoutes->registerRoutes(); !s)
            return Status::failure(QStringLiteral("the host's clock routes: %1").arg(s.error()));
    }
    return {};
}

Status Host::loadPlugins()
{
    if (Status s = registerHostRoutesAndTasks(); !s)
        return s;
    const QStringList path = PluginManager::defaultSearchPath(m_config.string(QStringLiteral("plugin_path")));
    qCInfo(lcPlugins).noquote() << "plugin path:" << path.join(u':');
    m_plugins.discover(path);
    m_plugins.resolve();
    if (Status s = m_plugins.configure(m_config); !s)
        return s; // an operator's wrong value: one line naming it, as for the host's own settings
    m_plugins.loadAndInitialize();
    m_pluginList.publish(m_plugins.describe());
    QString error;
    auto migrations = Migrations::collect(migrationOrder(), &error);
    if (!migrations)
        qCCritical(lcMigrations).noquote() << error;
    else
        m_migrations = *migrations;
    return {};
}

Status Host::checkRequiredPlugins() const
{
    for (const QJsonValue &id : m_config.value(QStringLiteral("required_plugins")).toArray()) {
        const PluginSpec *spec = m_plugins.find(id.toString());
        if (!spec)
            return Status::failure(QStringLiteral("required plugin %1 is not on the plugin path").arg(id.toString()));
        if (spec->state == PluginState::Failed)
            return Status::failure(QStringLiteral("required plugin %1 failed: %2").arg(spec->id, spec->error));
    }
    return {};
}

QCoro::Task<std::optional<QString>> Host::notReadyReason()
{
    std::optional<QString> reason;
    if (!m_database)
        reason = QStringLiteral("no database is configured");
    else
        reason = co_await Migrations::notReadyReason(*m_database, m_migrations);
    if (!reason && !m_migrated.load())
        reason = QStringLiteral("migrations are still being applied");
    co_return reason;
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
    if (!m_database)
        co_return Migrations::Outcome{Status::failure(QStringLiteral("no database is configured")), false};
    QString error;
    if (!Migrations::collect(migrationOrder(), &error))
        co_return Migrations::Outcome{Status::failure(error), false};
    Migrations::Outcome outcome = co_await Migrations::apply(*m_database, m_migrations, std::move(progress));
    if (outcome.status)
        m_migrated = true;
    co_return outcome;
}

// Counts a start-up coroutine in m_startupWork until its frame ends, however it ends.
auto Host::trackStartupWork()
{
    ++m_startupWork;
    return qScopeGuard([self = QPointer<Host>(this)] {
        if (self && --self->m_startupWork == 0)
            Q_EMIT self->startupSettled();
    });
}

QCoro::Task<> Host::waitBeforeRetry()
{
    // Wakes at once on shutdown rather than holding it for the rest of the pause.
    co_await qCoro(this, &Host::stopRequested, std::chrono::milliseconds(5000));
}

QCoro::Task<> Host::migrateInBackground()
{
    QPointer<Host> self(this);
    const auto tracked = trackStartupWork();
    for (int attempt = 1; self && !m_stopping; ++attempt) {
        auto log = [](const QString &line) { qCInfo(lcMigrations).noquote() << line; };
        const Migrations::Outcome outcome = co_await migrate(log);
        if (!self)
            co_return;
        if (outcome.status) {
            startJobs();
            co_return;
        }
        if (!outcome.retryable) {
            qCCritical(lcMigrations).noquote() << "stopping:" << outcome.status.error();
            shutdown(1);
            co_return;
        }
        qCWarning(lcMigrations).noquote() << outcome.status.error() << QStringLiteral("— retrying in 5 s (attempt %1)").arg(attempt);
        co_await waitBeforeRetry();
    }
}

Status Host::serve(Roles roles, std::optional<JobWorker::Settings> workerSettings)
{
    m_roles = roles;
    m_workerSettings = std::move(workerSettings);
    if (m_roles.worker && !m_workerSettings) {
        QString error;
        m_workerSettings = JobWorker::Settings::fromConfig(m_config, m_jobs, {}, 0, &error);
        if (!m_workerSettings)
            return Status::failure(error);
    }
    std::optional<HttpSettings> httpSettings;
    if (m_roles.http) {
        QString error;
        httpSettings = HttpSettings::fromConfig(m_config, &error);
        if (!httpSettings)
            return Status::failure(error);
        if (Status s = checkRequiredPlugins(); !s)
            return s;
    }
    m_plugins.start();
    m_pluginList.publish(m_plugins.describe());
    if (m_roles.http) {
        int threads = int(m_config.integer(QStringLiteral("http.threads")));
        if (threads <= 0)
            threads = std::max(1, QThread::idealThreadCount());
        m_http = std::make_unique<HttpServer>(*httpSettings, m_dispatcher, m_router, m_metrics);
        connect(m_http.get(), &HttpServer::stopped, this, [this] { finishShutdown(); });
        if (Status s = m_http->listen(m_config.string(QStringLiteral("listen")), threads); !s)
            return s;
    }

    if (m_config.boolean(QStringLiteral("db.auto_migrate")))
        migrateInBackground();
    else
        startJobs();

    if (!m_http)
        return {};
    const QHostAddress address = m_http->address();
    const QString shown = (address == QHostAddress::AnyIPv4 || address == QHostAddress::AnyIPv6)
                              ? QStringLiteral("127.0.0.1")
                              : (address.protocol() == QAbstractSocket::IPv6Protocol ? u'[' + address.toString() + u']' : address.toString());
    qCInfo(lcHost).noquote() << QStringLiteral("serving %1 routes on %2:%3 with %4 HTTP threads")
                                    .arg(m_router.routeCount())
                                    .arg(address.toString())
                                    .arg(m_http->port())
                                    .arg(m_http->threadCount());
    std::printf("Yieldhost listening on http://%s:%u\n", qPrintable(shown), unsigned(m_http->port()));
    std::fflush(stdout);
    return {};
}

QCoro::Task<> Host::startJobs()
{
    if (!m_database || m_stopping)
        co_return;
    QPointer<Host> self(this);
    const auto tracked = trackStartupWork();
    co_await loadSharedState(true); // before the first job or schedule reads the time
    if (!self || m_stopping)
        co_return;
    if (!m_outboxRelay) {
        m_outboxRelay = std::make_unique<OutboxRelay>(*m_database, m_events,
                                                      int(std::max<qint64>(50, m_config.integer(QStringLiteral("outbox.poll_ms")))));
        co_await m_outboxRelay->start();
        if (!self || m_stopping)
            co_return;
    }
    if (m_roles.http && !m_jobMetrics) // after migrations: it reads the jobs table
        m_jobMetrics = std::make_unique<JobMetrics>(*m_database, m_jobs, m_metrics,
                                                    int(std::max<qint64>(100, m_config.integer(QStringLiteral("jobs.metrics_refresh_ms")))));
    if (m_roles.worker && !m_worker) {
        m_worker = std::make_unique<JobWorker>(*m_workerSettings, *m_database, m_jobs);
        // A job claimed right after a clock jump may beat the jump's notification here.
        connect(m_worker.get(), &JobWorker::sharedClockSeen, this, [this](qint64 offsetMs) {
            if (m_clockSync)
                m_clockSync->advanceTo(offsetMs);
        });
        for (int attempt = 1; self && !m_stopping; ++attempt) {
            const Status started = co_await m_worker->start();
            if (!self)
                co_return;
            if (started)
                break;
            qCWarning(lcJobs).noquote() << started.error() << QStringLiteral("— retrying in 5 s (attempt %1)").arg(attempt);
            co_await waitBeforeRetry();
        }
        if (!self || m_stopping)
            co_return;
        if (!m_roles.http) {
            std::printf("Yieldhost worker %s started on queues %s\n", qPrintable(m_worker->id()),
                        qPrintable(m_workerSettings->queues.keys().join(u',')));
            std::fflush(stdout);
        }
    }
    if (m_roles.beat && !m_beat) {
        const int tickMs = int(std::max<qint64>(50, m_config.integer(QStringLiteral("jobs.beat_interval_ms"))));
        m_beat = std::make_unique<JobBeat>(tickMs, *m_database, m_jobs);
        m_beat->start();
        if (!m_roles.http && !m_roles.worker) {
            std::printf("Yieldhost beat started with %d schedules\n", int(m_jobs.schedules().size()));
            std::fflush(stdout);
        }
    }
}

QCoro::Task<> Host::loadSharedState(bool follow)
{
    if (!m_database || m_clockSync)
        co_return;
    QPointer<Host> self(this);
    const SqlResult key = co_await m_database->query(QStringLiteral("SELECT encode(value, 'hex') AS key FROM host_secret WHERE name = 'paging_cursor'"));
    if (!self)
        co_return;
    if (key.error() || key.isEmpty())
        qCWarning(lcHost).noquote() << "cannot read the list cursor key; cursors will not verify across processes:" << key.error().message;
    else
        PagingKeyWriter::setKey(QByteArray::fromHex(key.string(0, QStringLiteral("key")).toLatin1()));
    const int resyncMs = int(std::max<qint64>(100, m_config.integer(QStringLiteral("clock.resync_ms"))));
    m_clockSync = std::make_unique<ClockSync>(*m_database, m_clock, resyncMs);
    DbError error;
    if (follow)
        error = co_await m_clockSync->start();
    else
        error = co_await m_clockSync->refresh();
    if (error)
        qCWarning(lcHost).noquote() << "host clock: cannot read the shared offset yet (" << error.message << "); retrying every" << resyncMs << "ms";
}

QCoro::Task<> Host::finishShutdown()
{
    QPointer<Host> self(this);
    if (m_startupWork > 0) {
        qCInfo(lcHost) << "shutting down: waiting for start-up work in progress";
        co_await qCoro(this, &Host::startupSettled);
    }
    if (m_beat)
        co_await m_beat->stop();
    if (self && m_worker)
        co_await m_worker->stop();
    if (self && m_outboxRelay)
        co_await m_outboxRelay->stop();
    if (self && m_clockSync)
        co_await m_clockSync->stop();
    if (!self)
        co_return;
    m_plugins.stop();
    m_pluginList.publish(m_plugins.describe());
    qCInfo(lcHost) << "stopped";
    Q_EMIT stopped();
}

QCoro::Task<Status> Host::runTask(QString name, QJsonObject args, std::function<void(const QString &)> progress)
{
    if (!m_database)
        co_return Status::failure(QStringLiteral("no database is configured"));
    QPointer<Host> self(this);
    co_await loadSharedState(false); // one task, then exit: read the clock once, follow nothing
    if (!self)
        co_return Status::failure(QStringLiteral("stopped"));
    const int heartbeatMs = int(std::max<qint64>(50, m_config.integer(QStringLiteral("jobs.heartbeat_interval_ms"))));
    co_return co_await JobRunner::runNow(*m_database, m_jobs, std::move(name), std::move(args), heartbeatMs, std::move(progress));
}

void Host::shutdown(int exitCode)
{
    if (m_stopping)
        return;
    m_stopping = true;
    m_exitCode = exitCode;
    Q_EMIT stopRequested();
    qCInfo(lcHost) << "shutting down: draining connections";
    if (m_http)
        m_http->shutdown(); // then finishShutdown()
    else
        finishShutdown();
}

} // namespace yieldhost
