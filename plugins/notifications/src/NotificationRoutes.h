// NotificationRoutes.h — the stored notifications over REST: the caller's list, newest first and
// paged, and marking one read. Another user's notification is 404, like an unknown one.
#pragma once

#include "yieldhost/PluginContext.h"

#include <QCoro/QCoroTask>

namespace yieldhost::notifications {

class NotificationRoutes
{
public:
    explicit NotificationRoutes(PluginContext &context);
    void registerRoutes();

private:
    QCoro::Task<HttpResponse> list(HttpRequest request);
    QCoro::Task<HttpResponse> markRead(HttpRequest request);

    PluginContext &m_context;
};

} // namespace yieldhost::notifications
