// TestRateSource.h — a second exchange-rate provider, added the way a third-party plugin adds
// one (ExchangeRates::addProvider in start()): it prices every currency whose code starts with
// "TK" at 2.5 USD, so a test can see a currency CoinGecko does not list get a rate with its own
// source.
#pragma once

#include "yieldhost/services/ExchangeRates.h"

class TestRateSource : public yieldhost::RateProvider
{
public:
    QString source() const override { return QStringLiteral("testkit"); }
    QCoro::Task<yieldhost::RateFetch> fetch(QList<yieldhost::Currency> currencies) override;
};
