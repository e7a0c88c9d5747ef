// RequestDispatcher.h — from a complete, size-checked request to a response, in named stages:
//
//   route → parse JSON → content type → authenticate → call → map exceptions
//
// Each stage either lets the request go on or answers it (404/405, 400, 415, 401/403/503, the
// handler's response, 500). A new concern (idempotency keys, rate limits) is a new stage in the
// list in dispatch(), not a longer coroutine. Shared by every HTTP thread; holds no per-request
// state.
#pragma once

#include "core/ServiceRegistry.h"
#include "http/Router.h"

#include <QCoro/QCoroTask>

#include <exception>
#include <optional>

namespace yieldhost {

class RequestDispatcher
{
public:
    RequestDispatcher(const Router &router, const ServiceRegistry &services) : m_router(router), m_services(services) {}

    struct Result
    {
        HttpResponse response;
        QByteArray routeLabel; // the matched pattern, or "unmatched", for metrics
    };
    QCoro::Task<Result> dispatch(HttpRequest request);

private:
    // A stage's verdict: nullopt lets the request go on to the next stage.
    using Verdict = std::optional<HttpResponse>;

    Verdict route(HttpRequest &request, const Route *&matched) const;
    static Verdict parseJson(HttpRequest &request);
    static Verdict checkContentType(const HttpRequest &request, const Route &route);
    // Routes declared idempotent(): a missing or malformed Idempotency-Key is 400 before the handler.
    static Verdict checkIdempotencyKey(const HttpRequest &request);
    QCoro::Task<Verdict> authenticate(HttpRequest &request, const Route &route) const;
    static HttpResponse mapException(const Route &route, std::exception_ptr error);

    const Router &m_router;
    const ServiceRegistry &m_services;
};

} // namespace yieldhost
