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
    // A background task: `yieldhost run-task hello.greet --arg name=world`, or enqueue it with
    // context.jobs().enqueue(u"hello.greet"_s, {{"name", "world"}}). Tasks must be idempotent.
    TaskOptions options;
    options.queue = QStringLiteral("default");
    options.maxAttempts = 3;
    const Status registered = context.jobs().registerTask(QStringLiteral("hello.greet"), options,
        [greeting](JobContext &job) -> QCoro::Task<Status> {
            const QString name = job.args().value(QLatin1String("name")).toString();
            if (name.isEmpty())
                co_return Status::failure(QStringLiteral("hello.greet needs a name argument"));
            job.progress(QStringLiteral("%1, %2").arg(greeting, name));
            co_return Status{};
        });
    if (!registered)
        return registered;
    qCInfo(context.log()) << "hello plugin ready";
    return {};
}
