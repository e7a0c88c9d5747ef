// Host.h — one running Yieldhost process: configuration, database, plugins, HTTP server, and
// the order things start and stop in.
#pragma once

#include "HostServices.h"
#include "JobWorker.h"
#include "Metrics.h"
#include "Migrations.h"
#include "PluginManager.h"
#include "RequestDispatcher.h"
#include "SystemRoutes.h"

#include <QtCore/QObject>
#include <QtCore/QTimer>

#include <atomic>
#include <memory>

namespace yieldhost {

class EmbeddedPostgres;
class HttpServer;
class JobBeat;
class JobMetrics;

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
    // Discover, resolve, load and initialize plugins (no network yet).
    void loadPlugins();
    // Applies the host's and every initialized plugin's migrations, in dependency order.
    QCoro::Task<Migrations::Outcome> migrate(std::function<void(const QString &)> progress);
    // Start plugins and the given roles. With HTTP, prints the URL on stdout; the worker and the
    // beat start once migrations are applied. Migrations run in the background (retried while
    // the database is unreachable); /readyz says when they are done.
    Status serve(Roles roles = {}, std::optional<JobWorker::Settings> workerSettings = std::nullopt);
    // `yieldhost run-task`: runs one task now in this process, recorded as a job.
    QCoro::Task<Status> runTask(QString name, QJsonObject args, std::function<void(const QString &)> progress);
    // Graceful: stop accepting, drain, stop plugins; emits stopped().
    void shutdown(int exitCode = 0);
    int exitCode() const { return m_exitCode; }

    PluginManager &plugins() { return m_plugins; }
    HostServices &services() { return m_services; }

Q_SIGNALS:
    void stopped();

private:
    QCoro::Task<> migrateInBackground();
    QCoro::Task<> startJobs();
    QCoro::Task<> finishShutdown();
    void registerCleanupTask();
    QStringList migrationOrder() const;

    HostServices m_services;
    Metrics m_metrics;
    PluginManager m_plugins;
    RequestDispatcher m_dispatcher;
    PluginListSnapshot m_pluginList;
    std::unique_ptr<EmbeddedPostgres> m_embedded;
    std::unique_ptr<HttpServer> m_http;
    Roles m_roles;
    std::optional<JobWorker::Settings> m_workerSettings;
    std::unique_ptr<JobWorker> m_worker;
    std::unique_ptr<JobBeat> m_beat;
    std::unique_ptr<JobMetrics> m_jobMetrics;
    QList<Migration> m_migrations;
    std::atomic<bool> m_migrated{false};
    bool m_stopping = false;
    int m_exitCode = 0;
};

} // namespace yieldhost
