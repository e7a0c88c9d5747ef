#include "Host.h"

#include "EmbeddedPostgres.h"
#include "HttpServer.h"
#include "JobBeat.h"
#include "JobMetrics.h"
#include "JobRoutes.h"
#include "Logging.h"
#include "RunningJob.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QDir>
#include <QtCore/QRandomGenerator>
#include <QtCore/QJsonObject>
#include <QtCore/QThread>
#include <QtCore/QTimer>

#include <QCoro/QCoroTimer>

#include <QtNetwork/QHostInfo>

#include <cstdio>

namespace yieldhost {

Host::Host(Config config, QObject *parent)
    : QObject(parent)
    , m_services(std::move(config))
    , m_plugins(m_services)
    , m_dispatcher(m_services)
{
    registerSystemRoutes(m_services, m_metrics, m_pluginList);
    registerJobRoutes(m_services);
    registerCleanupTask();

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
    m_beat.reset();
    m_worker.reset();
    m_jobMetrics.reset();
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
    settings.asyncConnectionsPerThread = int(std::max<qint64>(0, m_services.config.integer(QStringLiteral("db.async_connections_per_thread"))));
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
        co_await QCoro::sleepFor(std::chrono::milliseconds(5000));
    }
}

Status Host::serve(Roles roles, std::optional<JobWorker::Settings> workerSettings)
{
    m_roles = roles;
    m_workerSettings = std::move(workerSettings);
    if (m_roles.worker && !m_workerSettings) {
        QString error;
        m_workerSettings = JobWorker::Settings::fromConfig(m_services.config, m_services.jobs, {}, 0, &error);
        if (!m_workerSettings)
            return Status::failure(error);
    }
    m_plugins.start();
    m_pluginList.publish(m_plugins.describe());
    if (m_roles.http) {
        const HttpSettings settings = HttpSettings::fromConfig(m_services.config);
        int threads = int(m_services.config.integer(QStringLiteral("http.threads")));
        if (threads <= 0)
            threads = std::max(1, QThread::idealThreadCount());
        m_http = std::make_unique<HttpServer>(settings, m_dispatcher, m_services.router, m_metrics);
        connect(m_http.get(), &HttpServer::stopped, this, [this] { finishShutdown(); });
        if (Status s = m_http->listen(m_services.config.string(QStringLiteral("listen")), threads); !s)
            return s;
    }

    if (m_services.config.boolean(QStringLiteral("db.auto_migrate")))
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
                                    .arg(m_services.router.routeCount())
                                    .arg(address.toString())
                                    .arg(m_http->port())
                                    .arg(m_http->threadCount());
    std::printf("Yieldhost listening on http://%s:%u\n", qPrintable(shown), unsigned(m_http->port()));
    std::fflush(stdout);
    return {};
}

QCoro::Task<> Host::startJobs()
{
    if (!m_services.database || m_stopping)
        co_return;
    QPointer<Host> self(this);
    if (m_roles.http && !m_jobMetrics) // after migrations: it reads the jobs table
        m_jobMetrics = std::make_unique<JobMetrics>(*m_services.database, m_services.jobs, m_metrics,
                                                    int(std::max<qint64>(100, m_services.config.integer(QStringLiteral("jobs.metrics_refresh_ms")))));
    if (m_roles.worker && !m_worker) {
        m_worker = std::make_unique<JobWorker>(*m_workerSettings, *m_services.database, m_services.jobs);
        for (int attempt = 1; self && !m_stopping; ++attempt) {
            const Status started = co_await m_worker->start();
            if (!self)
                co_return;
            if (started)
                break;
            qCWarning(lcJobs).noquote() << started.error() << QStringLiteral("— retrying in 5 s (attempt %1)").arg(attempt);
            co_await QCoro::sleepFor(std::chrono::milliseconds(5000));
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
        const int tickMs = int(std::max<qint64>(50, m_services.config.integer(QStringLiteral("jobs.beat_interval_ms"))));
        m_beat = std::make_unique<JobBeat>(tickMs, *m_services.database, m_services.jobs);
        m_beat->start();
        if (!m_roles.http && !m_roles.worker) {
            std::printf("Yieldhost beat started with %d schedules\n", int(m_services.jobs.schedules().size()));
            std::fflush(stdout);
        }
    }
}

QCoro::Task<> Host::finishShutdown()
{
    QPointer<Host> self(this);
    if (m_beat)
        co_await m_beat->stop();
    if (self && m_worker)
        co_await m_worker->stop();
    if (!self)
        co_return;
    m_plugins.stop();
    m_pluginList.publish(m_plugins.describe());
    qCInfo(lcHost) << "stopped";
    Q_EMIT stopped();
}

void Host::registerCleanupTask()
{
    TaskOptions options;
    options.queue = QStringLiteral("maintenance"); // never behind (or in front of) business queues
    options.maxAttempts = 3;
    options.timeoutSeconds = 3600;
    m_services.jobs.registerTask(QStringLiteral("host"), QStringLiteral("host.cleanup"), options, [this](JobContext &job) -> QCoro::Task<Status> {
        if (!m_services.database)
            co_return Status::failure(QStringLiteral("no database is configured"));
        const int days = int(std::max<qint64>(1, m_services.config.integer(QStringLiteral("jobs.retention_days"))));
        const JobStore store(*m_services.database, m_services.jobs);
        const SqlResult purged = co_await store.purgeFinished(days);
        if (purged.error())
            co_return Status::failure(QStringLiteral("purging finished jobs: %1").arg(purged.error().message));
        job.progress(QStringLiteral("purged %1 finished jobs older than %2 days").arg(purged.rowsAffected()).arg(days));
        for (const CleanupSpec &step : m_services.jobs.cleanups()) {
            job.progress(QStringLiteral("%1: %2").arg(step.plugin, step.description));
            const Status done = co_await step.step(job);
            if (!done)
                co_return Status::failure(QStringLiteral("%1: %2").arg(step.description, done.error()));
        }
        co_return Status{};
    });
    m_services.jobs.addSchedule(QStringLiteral("host"), QStringLiteral("host.cleanup"), QStringLiteral("0 3 * * *"), {});
}

QCoro::Task<Status> Host::runTask(QString name, QJsonObject args, std::function<void(const QString &)> progress)
{
    const std::optional<TaskSpec> spec = m_services.jobs.task(name);
    if (!spec) {
        QStringList names;
        for (const TaskSpec &t : m_services.jobs.tasks())
            names.append(t.name);
        co_return Status::failure(QStringLiteral("unknown task \"%1\"; registered tasks: %2").arg(name, names.join(QStringLiteral(", "))));
    }
    if (!m_services.database)
        co_return Status::failure(QStringLiteral("no database is configured"));
    const JobStore store(*m_services.database, m_services.jobs);
    WorkerInfo info;
    info.host = QHostInfo::localHostName();
    info.pid = QCoreApplication::applicationPid();
    info.id = QStringLiteral("run-task:%1:%2:%3").arg(info.host).arg(info.pid).arg(QRandomGenerator::global()->generate() % 0x10000, 4, 16, QLatin1Char('0'));
    info.concurrency = 1;
    const DbError registered = co_await store.heartbeat(info);
    if (registered)
        co_return Status::failure(QStringLiteral("cannot record the run: %1").arg(registered.message));
    DbError error;
    const std::optional<ClaimedJob> job = co_await store.startForeground(name, spec->options.queue, args, spec->options.timeoutSeconds, info.id, &error);
    if (!job)
        co_return Status::failure(QStringLiteral("cannot record the run: %1").arg(error.message));
    progress(QStringLiteral("running %1 as job %2").arg(name).arg(job->id));
    // The run keeps its worker row fresh so no worker rescues it meanwhile.
    QTimer heartbeat;
    heartbeat.setInterval(int(std::max<qint64>(50, m_services.config.integer(QStringLiteral("jobs.heartbeat_interval_ms")))));
    connect(&heartbeat, &QTimer::timeout, this, [store, info] { store.heartbeat(info); });
    heartbeat.start();
    auto sink = [progress](const ClaimedJob &, const QString &message) { progress(message); };
    RunningJob context(*job, sink);
    Status status;
    try {
        QCoro::Task<Status> task = spec->handler(context);
        status = co_await std::move(task);
    } catch (const std::exception &e) {
        status = Status::failure(QStringLiteral("the task threw: %1").arg(QString::fromUtf8(e.what())));
    } catch (...) {
        status = Status::failure(QStringLiteral("the task threw an unknown exception"));
    }
    // Record the result before letting go of the job: unregistering first would put it back in
    // its queue to run again.
    DbError recorded;
    for (int attempt = 0; attempt < 5; ++attempt) {
        if (status) {
            const QList<QPair<qint64, int>> runs{{job->id, 1}};
            recorded = co_await store.complete(runs, info.id);
        } else {
            recorded = co_await store.fail(job->id, 1, info.id, status.error(), 0);
        }
        if (!recorded)
            break;
        co_await QCoro::sleepFor(std::chrono::milliseconds(1000));
    }
    heartbeat.stop();
    if (recorded)
        co_return Status::failure(QStringLiteral("%1; and its result could not be recorded (the job will run again): %2")
                                      .arg(status ? QStringLiteral("it succeeded") : status.error(), recorded.message));
    co_await store.unregister(info.id);
    co_return status;
}

void Host::shutdown(int exitCode)
{
    if (m_stopping)
        return;
    m_stopping = true;
    m_exitCode = exitCode;
    qCInfo(lcHost) << "shutting down: draining connections";
    if (m_http)
        m_http->shutdown(); // then finishShutdown()
    else
        finishShutdown();
}

} // namespace yieldhost
