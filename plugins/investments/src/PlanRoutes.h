// PlanRoutes.h — investment plans: GET /api/v1/plans (any signed-in user) and POST
// /api/v1/plans (staff). A plan's terms are copied into each position at opening.
#pragma once

#include "yieldhost/PluginContext.h"
#include "yieldhost/services/Currencies.h"

namespace yieldhost::investments {

struct Plan
{
    QString id;
    QString name;
    QString currency;
    Decimal apy;
    QString payoutInterval; // daily, weekly, monthly
    Decimal minAmount;
    int lockDays = 0;
    int decimals = 2; // the currency's

    int intervalDays() const;
    QJsonObject toJson() const;
    static int intervalDays(const QString &payoutInterval); // 0 for an unknown name
};

class PlanRoutes
{
public:
    PlanRoutes(PluginContext &context, Currencies &currencies) : m_context(context), m_currencies(currencies) { }
    void registerRoutes();

    QCoro::Task<HttpResponse> list(HttpRequest request);
    QCoro::Task<HttpResponse> create(HttpRequest request);

    // The columns planFrom() reads, for investments_plan p JOIN integrations_currency c.
    static const QString &planColumns();
    static Plan planFrom(const SqlResult &r, qsizetype row);

private:
    PluginContext &m_context;
    Currencies &m_currencies;
};

} // namespace yieldhost::investments
