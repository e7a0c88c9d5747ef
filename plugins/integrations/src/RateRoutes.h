// RateRoutes.h — GET /api/v1/rates?base= and GET /api/v1/convert?amount=&from=&to= (public), the
// client face of the ExchangeRates service: 422 for what the client got wrong, 503 +
// Retry-After when a needed rate is missing or stale — never an old number.
#pragma once

#include "CurrencyStore.h"
#include "RateStore.h"

#include "yieldhost/PluginContext.h"

namespace yieldhost::integrations {

class RateRoutes
{
public:
    RateRoutes(PluginContext &context, CurrencyStore &currencies, RateStore &rates) : m_context(context), m_currencies(currencies), m_rates(rates) { }
    void registerRoutes();

    QCoro::Task<HttpResponse> rates(HttpRequest request);
    QCoro::Task<HttpResponse> convert(HttpRequest request);

    // The reply for a RateProblem other than None.
    static HttpResponse problemReply(RateProblem problem, const QString &detail, int retryAfterSeconds, const QString &field);

private:
    PluginContext &m_context;
    CurrencyStore &m_currencies;
    RateStore &m_rates;
};

} // namespace yieldhost::integrations
