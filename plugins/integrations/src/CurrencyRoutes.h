// CurrencyRoutes.h — GET /api/v1/currencies (public, paged like every list) and
// POST /api/v1/currencies (staff: add a currency; existing ones never change).
#pragma once

#include "CurrencyStore.h"

#include "yieldhost/PluginContext.h"

namespace yieldhost::integrations {

class CurrencyRoutes
{
public:
    CurrencyRoutes(PluginContext &context, CurrencyStore &currencies) : m_context(context), m_currencies(currencies) { }
    void registerRoutes();

    QCoro::Task<HttpResponse> list(HttpRequest request);
    QCoro::Task<HttpResponse> add(HttpRequest request);

private:
    PluginContext &m_context;
    CurrencyStore &m_currencies;
};

} // namespace yieldhost::integrations
