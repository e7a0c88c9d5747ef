// CoinGeckoProvider.h — the default RateProvider: CoinGecko's /api/v3/simple/price, asked for
// every listed coin in USD and in every fiat currency, through one long-lived
// QNetworkAccessManager (QCoro 0.8 crashes when a manager dies inside the resumed coroutine).
#pragma once

#include "yieldhost/services/ExchangeRates.h"

#include <QtCore/QDateTime>
#include <QtCore/QLoggingCategory>
#include <QtCore/QObject>
#include <QtCore/QUrl>

class QNetworkAccessManager;

namespace yieldhost::integrations {

class CoinGeckoProvider : public QObject, public RateProvider
{
    Q_OBJECT

public:
    struct Options
    {
        QUrl baseUrl;      // https://api.coingecko.com, or a local fake in tests
        QByteArray apiKey; // empty: none sent
        int timeoutMs = 10000;
    };

    CoinGeckoProvider(Options options, const QLoggingCategory &log, QObject *parent = nullptr);
    ~CoinGeckoProvider() override;

    QString source() const override { return QStringLiteral("coingecko"); }
    QCoro::Task<RateFetch> fetch(QList<Currency> currencies) override;

    // The header a key goes in: the Pro API (pro-api.coingecko.com) wants x-cg-pro-api-key,
    // the public and demo API (and anything else) x-cg-demo-api-key.
    static QByteArray keyHeader(const QUrl &baseUrl);

private:
    Options m_options;
    const QLoggingCategory &m_log;
    QNetworkAccessManager *m_network = nullptr; // a child: lives as long as the provider
    QDateTime m_quietUntil; // a 429's Retry-After: CoinGecko is not asked again before then
};

} // namespace yieldhost::integrations
