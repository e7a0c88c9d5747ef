#include "http/SystemRoutes.h"

#include "core/Metrics.h"
#include "http/RouteTable.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QFile>
#include <QtCore/QJsonObject>

// Compiled from the generated apidocs.qrc into this static library: register it explicitly so the
// linker keeps it.
static void initApiDocsResources() { Q_INIT_RESOURCE(apidocs); }

namespace yieldhost {

namespace {

QByteArray resource(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

SystemRoutes::SystemRoutes(Router &router, Metrics &metrics, const PluginListSnapshot &plugins, ReadinessCheck readiness, QString mode)
    : m_router(router)
    , m_metrics(metrics)
    , m_plugins(plugins)
    , m_readiness(std::move(readiness))
    , m_mode(std::move(mode))
{
}

Status SystemRoutes::registerRoutes()
{
    static constexpr RouteRow<SystemRoutes> rows[] = {
        {HttpMethod::Get, "/healthz", AuthLevel::Public, 200, "getHealth", "Liveness: 200 while the process runs", &SystemRoutes::health},
        {HttpMethod::Get, "/readyz", AuthLevel::Public, 200, "getReadiness", "Readiness: 200 when the database answers and every migration is applied", &SystemRoutes::ready},
        {HttpMethod::Get, "/metrics", AuthLevel::Public, 200, "getMetrics", "Prometheus metrics", &SystemRoutes::metrics},
        {HttpMethod::Get, "/api/openapi.json", AuthLevel::Public, 200, "getOpenApiDocument", "OpenAPI 3.1 document of every REST route", &SystemRoutes::openApi},
        {HttpMethod::Get, "/api/docs", AuthLevel::Public, 200, "getApiReference", "Browsable API reference (HTML, Redoc)", &SystemRoutes::docs},
        {HttpMethod::Get, "/api/docs/redoc.standalone.js", AuthLevel::Public, 200, "getApiReferenceScript", "The API reference's script (Redoc)", &SystemRoutes::docsScript},
        {HttpMethod::Get, "/api/v1/plugins", AuthLevel::Public, 200, "listPlugins", "Loaded plugins: id, name, version, sdk version, state", &SystemRoutes::plugins},
    };
    return addRouteTable<SystemRoutes>(m_router, QStringLiteral("host"), *this, rows);
}

QCoro::Task<HttpResponse> SystemRoutes::health(HttpRequest)
{
    static const HttpResponse ok = HttpResponse::text(200, QByteArrayLiteral("{\"status\":\"ok\"}"), "application/json");
    co_return ok;
}

QCoro::Task<HttpResponse> SystemRoutes::ready(HttpRequest)
{
    const std::optional<QString> reason = co_await m_readiness();
    if (reason)
        co_return Problem::unavailable(QStringLiteral("Not ready: %1.").arg(*reason), 5).toResponse();
    co_return HttpResponse::json(200, QJsonObject{{QStringLiteral("status"), QStringLiteral("ready")}, {QStringLiteral("mode"), m_mode}});
}

QCoro::Task<HttpResponse> SystemRoutes::metrics(HttpRequest)
{
    co_return HttpResponse::text(200, m_metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
}

QCoro::Task<HttpResponse> SystemRoutes::openApi(HttpRequest)
{
    co_return HttpResponse::json(200, m_router.openApi(QStringLiteral("Yieldhost API"), QCoreApplication::applicationVersion()));
}

QCoro::Task<HttpResponse> SystemRoutes::docs(HttpRequest)
{
    static const QByteArray page = resource(QStringLiteral(":/yieldhost/web/api-docs.html"));
    HttpResponse response = HttpResponse::text(200, page, "text/html; charset=utf-8");
    // Redoc styles itself inline and renders search in a worker it starts from a blob.
    response.addHeader("Content-Security-Policy",
                       "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                       "font-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'");
    response.addHeader("X-Content-Type-Options", "nosniff");
    co_return response;
}

QCoro::Task<HttpResponse> SystemRoutes::docsScript(HttpRequest)
{
    // Redoc shows its vendor's logo from a CDN in the menu; it removes the image when it fails to
    // load, so pointing it at an empty data: URL keeps every request of the page on this host.
    static const QByteArray script = (initApiDocsResources(), resource(QStringLiteral(":/yieldhost/web/redoc.standalone.js")))
                                         .replace("https://cdn.redoc.ly/redoc/logo-mini.svg", "data:,");
    if (script.isEmpty())
        co_return Problem::notFound(QStringLiteral("This build was made without the Redoc bundle (npm install in tools/npm); "
                                                   "read /api/openapi.json instead.")).toResponse();
    HttpResponse response = HttpResponse::text(200, script, "text/javascript; charset=utf-8");
    response.addHeader("Cache-Control", "public, max-age=86400");
    response.addHeader("X-Content-Type-Options", "nosniff");
    co_return response;
}

QCoro::Task<HttpResponse> SystemRoutes::plugins(HttpRequest)
{
    co_return HttpResponse::json(200, QJsonObject{{QStringLiteral("results"), m_plugins.read()}, {QStringLiteral("next"), QJsonValue::Null}});
}

} // namespace yieldhost
