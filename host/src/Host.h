// Host.h — the composition root of one Yieldhost process: it owns every part (configuration,
// clock, event bus, routes, services, jobs, database, plugins, HTTP server, worker, beat), hands
// each component the few parts it uses, and decides the order things start and stop in.
#pragma once

#include "core/Config.h"
#include "core/HostClock.h"
#include "core/Metrics.h"
#include "core/ServiceRegistry.h"
#include "db/Migrations.h"
#include "http/RequestDispatcher.h"
#include "http/Router.h"
#include "http/SystemRoutes.h"
#include "jobs/JobRegistry.h"
#include "jobs/JobWorker.h"
#include "pluginsystem/PluginManager.h"

#include "yieldhost/Events.h"

#include <QtCore/QObject>

#include <atomic>
#include <memory>

namespace yieldhost {

class CleanupTask;
class ClockRoutes;
class ClockSync;
class OutboxRelay;
class DbPool;
class EmbeddedPostgres;
class HttpServer;
class JobBeat;
class JobMetrics;
class JobRoutes;

// What one process does; `yieldhost all` (the default) does everything.
struct Roles
{
    bool http = true;
    bool worker = true;
    bool beat = true;
};

class Host : public QObject
{
    Q_OBJECT
public:
    explicit Host(Config config, QObject *parent = nullptr);
    ~Host() override;

    // YIELDHOST_DATABASE_URL, or the embedded cluster in the data directory when there is none.
    Status openDatabase();
    // Registers the host's own routes and tasks, then discovers, resolves, loads and initializes
    // plugins (no network yet). Fails only when the host's own registrations fail.
    Status loadPlugins();
    // Applies the host's and every initialized plugin's migrations, in dependency order.
    QCoro::Task<Migrations::Outcome> migrate(std::function<void(const QString &)> progress);
    // Start plugins and the given roles. With HTTP, prints the URL on stdout; the worker and the
    // beat start once migrations are applied. Migrations run in the background (retried while
    // the database is unreachable); /readyz says when they are done. Refuses to serve when a
    // plugin named in "required_plugins" is not running.
    Status serve(Roles roles = {}, std::optional<JobWorker::Settings> workerSettings = std::nullopt);
    // `yieldhost run-task`: runs one task now in this process, recorded as a job.
    QCoro::Task<Status> runTask(QString name, QJsonObject args, std::function<void(const QString &)> progress);
    // Graceful: stop accepting, drain, stop plugins; emits stopped().
    void shutdown(int exitCode = 0);
    int exitCode() const { return m_exitCode; }

    const Config &config() const { return m_config; }
    const PluginManager &plugins() const { return m_plugins; }
    const JobRegistry &jobs() const { return m_jobs; }
    // nullptr when no plugin provides T.
    template<typename T>
    T *service() const { return static_cast<T *>(m_services.find(T::ServiceId)); }

Q_SIGNALS:
    void stopped();
    // Internal: shutdown() was called; wakes start-up steps that wait to retry.
    void stopRequested();
    // Internal: the last start-up coroutine (migrations, starting the jobs) has returned.
    void startupSettled();

private:
    Status registerHostRoutesAndTasks();
    Status checkRequiredPlugins() const;
    void addMetricsCollectors();
    QCoro::Task<std::optional<QString>> notReadyReason();
    QCoro::Task<> migrateInBackground();
    auto trackStartupWork(); // defined in Host.cpp, used there only
    QCoro::Task<> waitBeforeRetry();
    QCoro::Task<> startJobs();
    // What every process shares through PostgreSQL: the clock's offset (followed from then on
    // when `follow`), the cursor signing key.
    QCoro::Task<> loadSharedState(bool follow);
    QCoro::Task<> finishShutdown();
    QStringList migrationOrder() const;

    // The parts plugins reach (through PluginEnvironment) — declared first, destroyed last.
    Config m_config;
    HostClock m_clock;
    EventBus m_events;
    Router m_router;
    ServiceRegistry m_services;
    JobRegistry m_jobs;
    std::unique_ptr<EmbeddedPostgres> m_embedded;
    std::unique_ptr<DbPool> m_database;

    Metrics m_metrics;
    PluginListSnapshot m_pluginList;
    PluginManager m_plugins;
    RequestDispatcher m_dispatcher;
    std::unique_ptr<SystemRoutes> m_systemRoutes;
    std::unique_ptr<JobRoutes> m_jobRoutes;
    std::unique_ptr<ClockRoutes> m_clockRoutes;
    std::unique_ptr<ClockSync> m_clockSync;
    std::unique_ptr<OutboxRelay> m_outboxRelay;
    std::unique_ptr<CleanupTask> m_cleanup;
    std::unique_ptr<HttpServer> m_http;
    Roles m_roles;
    std::optional<JobWorker::Settings> m_workerSettings;
    std::unique_ptr<JobWorker> m_worker;
    std::unique_ptr<JobBeat> m_beat;
    std::unique_ptr<JobMetrics> m_jobMetrics;
    QList<Migration> m_migrations;
    std::atomic<bool> m_migrated{false};
    bool m_stopping = false;
    // Start-up coroutines still running: shutdown waits for them, so none is left suspended on
    // a database thread when the event loop ends (its frame would leak, its reply land nowhere).
    int m_startupWork = 0;
    int m_exitCode = 0;
};

} // namespace yieldhost
