#include "NotificationRoutes.h"

#include "NotificationStore.h"

#include "yieldhost/Ids.h"
#include "yieldhost/Paging.h"

#include <limits>

namespace yieldhost::notifications {

namespace {

QJsonObject operation(const char *id, const char *description)
{
    return QJsonObject{{QStringLiteral("operationId"), QLatin1String(id)}, {QStringLiteral("description"), QLatin1String(description)},
                       {QStringLiteral("responses"), QJsonObject{{QStringLiteral("200"), QJsonObject{{QStringLiteral("description"), QStringLiteral("OK")}}},
                                                                 {QStringLiteral("404"), QJsonObject{{QStringLiteral("description"), QStringLiteral("Not the caller's")}}}}}};
}

HttpResponse notFound()
{
    return Problem::make(404).detail(QStringLiteral("No such notification.")).toResponse();
}

} // namespace

NotificationRoutes::NotificationRoutes(PluginContext &context)
    : m_context(context)
{
}

void NotificationRoutes::registerRoutes()
{
    m_context.addRoute(HttpMethod::Get, QStringLiteral("/api/v1/notifications"), [this](HttpRequest r) { return list(std::move(r)); })
        .summary(QStringLiteral("The caller's notifications, newest first"))
        .openapi(operation("listNotifications", "{\"results\":[{\"id\",\"kind\" (yield_paid, settlement_confirmed, statement_ready, large_deposit), "
                                                "\"title\",\"body\",\"data\",\"read\",\"created_at\"}],\"next\"}; paged with ?limit= and ?cursor=."));
    m_context.addRoute(HttpMethod::Post, QStringLiteral("/api/v1/notifications/{id}/read"), [this](HttpRequest r) { return markRead(std::move(r)); })
        .summary(QStringLiteral("Mark one of the caller's notifications read"))
        .openapi(operation("readNotification", "The notification with \"read\": true (marking it again is harmless); 404 when it is not the caller's."));
}

QCoro::Task<HttpResponse> NotificationRoutes::list(HttpRequest request)
{
    Problem problem;
    const std::optional<PageRequest> page = PageRequest::fromRequest(request, &problem);
    if (!page)
        co_return problem.toResponse();
    const int limit = page->limit;
    const qint64 before = page->after.contains(QLatin1String("seq")) ? page->after.value(QLatin1String("seq")).toInteger() : std::numeric_limits<qint64>::max();
    const QVariantList params{request.user()->id, before, limit + 1};
    const SqlResult r = co_await m_context.database().query(QStringLiteral("SELECT seq, ") + NotificationStore::columns()
                                                                + QStringLiteral(" FROM notifications_notification WHERE user_id = ?::uuid AND seq < ? "
                                                                                 "ORDER BY seq DESC LIMIT ?"),
                                                            params);
    if (r.error())
        co_return problemFor(r.error()).toResponse();
    QJsonArray results;
    for (qsizetype i = 0; i < std::min<qsizetype>(r.size(), limit); ++i)
        results.append(NotificationStore::json(r, i));
    std::optional<QJsonObject> next;
    if (r.size() > limit)
        next = QJsonObject{{QStringLiteral("seq"), r.integer(limit - 1, QStringLiteral("seq"))}};
    co_return HttpResponse::json(200, page->reply(results, next));
}

QCoro::Task<HttpResponse> NotificationRoutes::markRead(HttpRequest request)
{
    const QString id = request.pathParam(QStringLiteral("id"));
    if (!isUuid(id))
        co_return notFound();
    const QVariantList params{id, request.user()->id};
    const SqlResult r = co_await m_context.database().query(QStringLiteral("UPDATE notifications_notification SET read = true "
                                                                           "WHERE id = ?::uuid AND user_id = ?::uuid RETURNING ")
                                                                + NotificationStore::columns(),
                                                            params);
    if (r.error())
        co_return problemFor(r.error()).toResponse();
    if (r.isEmpty())
        co_return notFound();
    co_return HttpResponse::json(200, NotificationStore::json(r, 0));
}

} // namespace yieldhost::notifications
