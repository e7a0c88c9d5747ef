// PositionRoutes.h — positions: invest (POST /api/v1/investments), list, get, redeem after the
// lock, and the yields paid on one. Money moves through the wallets plugin's Ledger in the same
// transaction as the position row, the stored idempotent reply and portfolio.changed.
#pragma once

#include "yieldhost/PluginContext.h"
#include "yieldhost/services/Ledger.h"

namespace yieldhost::investments {

struct Position
{
    QString id;
    QString userId;
    QString planId;
    QString walletId;
    QString currency;
    Decimal amountInvested;
    Decimal apy;
    int intervalDays = 1;
    int decimals = 2;
    Decimal yieldPaid;
    int lastPeriod = 0;
    QDateTime openedAt;
    QDateTime unlocksAt;
    QString status;
    QDateTime redeemedAt;

    QJsonObject toJson() const;
    static const QString &columns(); // of investments_position p
    static Position from(const SqlResult &r, qsizetype row);
};

class PositionRoutes
{
public:
    PositionRoutes(PluginContext &context, Ledger &ledger) : m_context(context), m_ledger(ledger) { }
    void registerRoutes();

    QCoro::Task<HttpResponse> invest(HttpRequest request);
    QCoro::Task<HttpResponse> list(HttpRequest request);
    QCoro::Task<HttpResponse> get(HttpRequest request);
    QCoro::Task<HttpResponse> redeem(HttpRequest request);
    QCoro::Task<HttpResponse> yields(HttpRequest request);

private:
    PluginContext &m_context;
    Ledger &m_ledger;
};

} // namespace yieldhost::investments
