#include "HelloPlugin.h"

#include <QtCore/QJsonObject>

using namespace yieldhost;

Status HelloPlugin::initialize(PluginContext &context)
{
    const QString greeting = context.config().value(QLatin1String("greeting")).toString(QStringLiteral("hello"));
    context.addRoute(HttpMethod::Get, QStringLiteral("/api/v1/hello/{name}"),
                     [greeting, &context](HttpRequest request) -> QCoro::Task<HttpResponse> {
                         co_return HttpResponse::json(200, QJsonObject{
                             {QStringLiteral("greeting"), greeting},
                             {QStringLiteral("name"), request.pathParam(QStringLiteral("name"))},
                             {QStringLiteral("at"), context.clock().now().toString(Qt::ISODate)},
                         });
                     })
        .auth(AuthLevel::Public)
        .summary(QStringLiteral("Greets {name}"));
    qCInfo(context.log()) << "hello plugin ready";
    return {};
}
