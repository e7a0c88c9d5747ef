#include "SystemRoutes.h"

#include "HostServices.h"
#include "Metrics.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QJsonObject>

namespace yieldhost {

void registerSystemRoutes(HostServices &services, Metrics &metrics, PluginListSnapshot &plugins)
{
    QString error;
    const QString host = QStringLiteral("host");
    Router &router = services.router;

    router.add(host, HttpMethod::Get, QStringLiteral("/healthz"), [](HttpRequest) -> QCoro::Task<HttpResponse> {
        static const HttpResponse ok = HttpResponse::text(200, QByteArrayLiteral("{\"status\":\"ok\"}"), "application/json");
        co_return ok;
    }, &error)->auth(AuthLevel::Public).summary(QStringLiteral("Liveness: 200 while the process runs"));

    router.add(host, HttpMethod::Get, QStringLiteral("/metrics"), [&metrics](HttpRequest) -> QCoro::Task<HttpResponse> {
        co_return HttpResponse::text(200, metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
    }, &error)->auth(AuthLevel::Public).summary(QStringLiteral("Prometheus metrics"));

    router.add(host, HttpMethod::Get, QStringLiteral("/api/openapi.json"), [&services](HttpRequest) -> QCoro::Task<HttpResponse> {
        co_return HttpResponse::json(200, services.router.openApi(QStringLiteral("Yieldhost API"), QCoreApplication::applicationVersion()));
    }, &error)->auth(AuthLevel::Public).summary(QStringLiteral("OpenAPI 3.1 document of every REST route"));

    router.add(host, HttpMethod::Get, QStringLiteral("/api/v1/plugins"), [&plugins](HttpRequest) -> QCoro::Task<HttpResponse> {
        co_return HttpResponse::json(200, QJsonObject{{QStringLiteral("results"), plugins.read()}, {QStringLiteral("next"), QJsonValue::Null}});
    }, &error)->auth(AuthLevel::Public).summary(QStringLiteral("Loaded plugins: id, name, version, sdk version, state"));
}

} // namespace yieldhost
