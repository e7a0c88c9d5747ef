// HostPluginContext.h — the host's implementation of PluginContext, one per plugin.
#pragma once

#include "pluginsystem/PluginEnvironment.h"

#include "yieldhost/PluginContext.h"

#include <memory>

namespace yieldhost {

// A plugin's view of the job queue: its tasks are registered under its id.
class PluginJobs final : public Jobs
{
public:
    PluginJobs(PluginEnvironment env, PluginContext &context) : m_env(env), m_context(context) {}
    Status registerTask(const QString &name, TaskOptions options, TaskHandler handler) override;
    Status addSchedule(const QString &task, const QString &cron, const QJsonObject &args) override;
    void addCleanup(const QString &description, TaskHandler step) override;
    QCoro::Task<EnqueueResult> enqueue(QString task, QJsonObject args, EnqueueOptions options) override;
    EnqueueResult enqueueIn(SqlTransaction &tx, const QString &task, const QJsonObject &args, const EnqueueOptions &options) override;

private:
    PluginEnvironment m_env;
    PluginContext &m_context;
};

class HostPluginContext final : public PluginContext
{
public:
    // `settings`: the plugin's section as PluginManager::configure() typed it.
    HostPluginContext(PluginEnvironment env, const QString &pluginId, const QJsonObject &metadata, Settings settings);
    ~HostPluginContext() override;

    QString pluginId() const override { return m_id; }
    QJsonObject metadata() const override { return m_metadata; }
    const QLoggingCategory &log() const override { return *m_category; }
    QJsonObject config() const override { return m_settings.values(); }
    QJsonValue hostConfig(const QString &key) const override { return m_env.config.value(key); }
    Clock &clock() override { return m_env.clock; }
    EventBus &events() override { return m_env.events; }
    Database &database() override;
    Jobs &jobs() override { return m_jobs; }
    RouteOptions &addRoute(HttpMethod method, const QString &pattern, HttpHandler handler) override;
    void addWebSocket(const QString &path, WebSocketHandler handler) override;
    const Settings &settings() const override { return m_settings; }

    // Registration mistakes (duplicate routes, bad patterns) fail the plugin after initialize().
    const QStringList &registrationErrors() const { return m_errors; }

protected:
    void provideService(const char *id, void *implementation) override { provideChecked(id, implementation); }
    void *findService(const char *id) const override { return m_env.services.find(id); }

private:
    void provideChecked(const char *id, void *implementation);

    PluginEnvironment m_env;
    QString m_id;
    QJsonObject m_metadata;
    Settings m_settings;
    QByteArray m_categoryName; // must outlive m_category
    std::unique_ptr<QLoggingCategory> m_category;
    QStringList m_errors;
    PluginJobs m_jobs{m_env, *this};
    Route m_discarded; // handed out for a refused route so a builder chain stays harmless
};

} // namespace yieldhost
