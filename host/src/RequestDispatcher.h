// RequestDispatcher.h — from a complete, size-checked request to a response: routing (404/405),
// content type (415), JSON syntax (400), authentication (401/403), then the plugin's handler.
// Shared by every HTTP thread; holds no per-request state.
#pragma once

#include "yieldhost/Http.h"

#include <QCoro/QCoroTask>

namespace yieldhost {

struct HostServices;

class RequestDispatcher
{
public:
    explicit RequestDispatcher(HostServices &services) : m_services(services) {}

    struct Result
    {
        HttpResponse response;
        QByteArray routeLabel; // the matched pattern, or "unmatched", for metrics
    };
    QCoro::Task<Result> dispatch(HttpRequest request);

private:
    HostServices &m_services;
};

} // namespace yieldhost
