// PortfolioSummary.h — the Portfolio service and GET /api/v1/portfolio/summary: the caller's
// active positions summed per currency with one SQL aggregate, converted to the requested
// currency through ExchangeRates (one reading of the rates for all of them). A needed rate that
// is missing or stale is a 503 with Retry-After, exactly as /convert answers; a position already
// in the requested currency needs no rate.
#pragma once

#include "yieldhost/Clock.h"
#include "yieldhost/PluginContext.h"
#include "yieldhost/services/ExchangeRates.h"
#include "yieldhost/services/Portfolio.h"

namespace yieldhost::investments {

class PortfolioService : public Portfolio
{
public:
    PortfolioService(PluginContext &context, ExchangeRates &rates, Currencies &currencies)
        : m_context(context), m_rates(rates), m_currencies(currencies) { }
    void registerRoutes();

    QCoro::Task<PortfolioSummary> summary(QString userId, QString currency) override;
    QCoro::Task<HttpResponse> route(HttpRequest request);

private:
    PluginContext &m_context;
    ExchangeRates &m_rates;
    Currencies &m_currencies;
};

} // namespace yieldhost::investments
