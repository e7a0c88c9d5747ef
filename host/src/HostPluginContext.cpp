#include "HostPluginContext.h"

namespace yieldhost {

HostPluginContext::HostPluginContext(HostServices &services, const QString &pluginId, const QJsonObject &metadata)
    : m_services(services)
    , m_id(pluginId)
    , m_metadata(metadata)
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
        r.setError(unavailable());
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
    return m_services.database ? static_cast<Database &>(*m_services.database) : none;
}

RouteOptions &HostPluginContext::addRoute(HttpMethod method, const QString &pattern, HttpHandler handler)
{
    QString error;
    Route *route = m_services.router.add(m_id, method, pattern, std::move(handler), &error);
    if (!route) {
        m_errors.append(error);
        return m_discarded;
    }
    return *route;
}

void HostPluginContext::addWebSocket(const QString &path, WebSocketHandler handler)
{
    QString error;
    if (!m_services.router.addWebSocket(m_id, path, std::move(handler), &error))
        m_errors.append(error);
}

} // namespace yieldhost
