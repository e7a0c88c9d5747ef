// Portfolio.h — a user's portfolio summary, as a service (provided by the investments plugin):
// the same body GET /api/v1/portfolio/summary answers, for other front ends (the notifications
// plugin's WebSocket "portfolio" command).
//
// Header-only: it adds no symbol to the SDK library, so a plugin using it runs on any 1.1 host.
#pragma once

#include "yieldhost/Global.h"

#include <QtCore/QJsonObject>
#include <QtCore/QString>

#include <QCoro/QCoroTask>

namespace yieldhost {

struct PortfolioSummary
{
    int status = 200;           // 200; 422 unknown currency; 503 a rate it needs is missing or stale, or the database is down
    QString detail;             // the sentence for a client when status != 200
    int retryAfterSeconds = -1; // with 503
    QJsonObject body;           // {"currency","total_invested","total_yield_paid","total_value","positions","by_currency":[...],"as_of"}
};

class Portfolio
{
public:
    static constexpr const char *ServiceId = "dev.yieldhost.Portfolio/1";
    virtual ~Portfolio() = default;

    // `userId`'s active positions summed per currency and converted to `currency` (USD when
    // empty) at current rates. Thread-safe.
    virtual QCoro::Task<PortfolioSummary> summary(QString userId, QString currency) = 0;
};

} // namespace yieldhost
