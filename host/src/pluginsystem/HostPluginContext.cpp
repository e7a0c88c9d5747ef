#include "pluginsystem/HostPluginContext.h"

#include "jobs/JobStore.h"

#include "yieldhost/HostAccess.h"

namespace yieldhost {

HostPluginContext::HostPluginContext(PluginEnvironment env, const QString &pluginId, const QJsonObject &metadata, Settings settings)
    : m_env(env)
    , m_id(pluginId)
    , m_metadata(metadata)
    , m_settings(std::move(settings))
    , m_categoryName("yieldhost.plugin." + pluginId.toUtf8())
    , m_category(std::make_unique<QLoggingCategory>(m_categoryName.constData(), QtInfoMsg))
{
}

HostPluginContext::~HostPluginContext() = default;

namespace {
// What a plugin gets when the host runs without a database (e.g. `yieldhost plugins`, unit
// tests): every call fails as "unavailable" instead of crashing.
class NoDatabase final : public Database
{
public:
    QCoro::Task<SqlResult> query(QString, QVariantList, DbTarget) override
    {
        SqlResult r;
        SqlResultWriter::setError(r, unavailable());
        co_return r;
    }
    QCoro::Task<TransactionOutcome> transaction(std::function<Status(SqlTransaction &)>, TransactionOptions) override
    {
        TransactionOutcome o;
        o.error = unavailable();
        co_return o;
    }
    bool hasReplica() const override { return false; }

private:
    static DbError unavailable()
    {
        DbError e;
        e.kind = DbError::Kind::Unavailable;
        e.message = QStringLiteral("no database is configured in this process");
        return e;
    }
};
} // namespace

Database &HostPluginContext::database()
{
    static NoDatabase none;
    return m_env.database ? static_cast<Database &>(*m_env.database) : none;
}

RouteOptions &HostPluginContext::addRoute(HttpMethod method, const QString &pattern, HttpHandler handler)
{
    QString error;
    Route *route = m_env.router.add(m_id, method, pattern, std::move(handler), &error);
    if (!route) {
        m_errors.append(error);
        return m_discarded;
    }
    return *route;
}

void HostPluginContext::provideChecked(const char *id, void *implementation)
{
    QString error;
    if (!m_env.services.provide(m_id, id, implementation, &error))
        m_errors.append(error);
}

void HostPluginContext::addWebSocket(const QString &path, WebSocketHandler handler)
{
    QString error;
    if (!m_env.router.addWebSocket(m_id, path, std::move(handler), &error))
        m_errors.append(error);
}

Status PluginJobs::registerTask(const QString &name, TaskOptions options, TaskHandler handler)
{
    return m_env.jobs.registerTask(m_context.pluginId(), name, options, std::move(handler));
}

Status PluginJobs::addSchedule(const QString &task, const QString &cron, const QJsonObject &args)
{
    return m_env.jobs.addSchedule(m_context.pluginId(), task, cron, args);
}

void PluginJobs::addCleanup(const QString &description, TaskHandler step)
{
    m_env.jobs.addCleanup(m_context.pluginId(), description, std::move(step));
}

QCoro::Task<EnqueueResult> PluginJobs::enqueue(QString task, QJsonObject args, EnqueueOptions options)
{
    const JobStore store(m_context.database(), m_env.jobs);
    co_return co_await store.enqueue(std::move(task), std::move(args), std::move(options));
}

EnqueueResult PluginJobs::enqueueIn(SqlTransaction &tx, const QString &task, const QJsonObject &args, const EnqueueOptions &options)
{
    return JobStore(m_context.database(), m_env.jobs).enqueueIn(tx, task, args, options);
}

} // namespace yieldhost
