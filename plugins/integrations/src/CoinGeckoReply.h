// CoinGeckoReply.h — reading CoinGecko's /api/v3/simple/price reply exactly, and turning it into
// USD values. QJsonDocument would turn every price into a double (1.05e-05 is not 0.0000105
// there), so the numbers are taken as the text CoinGecko wrote, through nlohmann/json's SAX
// parser, and read by Decimal::fromJsonNumber.
#pragma once

#include "yieldhost/services/ExchangeRates.h"

#include <QtCore/QByteArray>
#include <QtCore/QHash>
#include <QtCore/QStringList>

namespace yieldhost::integrations {

struct CoinGeckoReply
{
    // coin id -> vs currency (lower case, as sent) -> the number's text
    QHash<QString, QHash<QString, QString>> prices;
    QString error; // not JSON, or not an object of objects

    // `{"bitcoin":{"usd":67187.33,"eur":1.05e-05}, ...}`. Values that are not numbers (null, a
    // string) are left out; anything else in the shape is an error.
    static CoinGeckoReply parse(const QByteArray &body);

    // The USD value of every currency the reply prices: a crypto currency's "usd" price as
    // written (more than 18 decimals rounded half-even to 18); a fiat currency through the
    // reference coin — the crypto currency, by code, first to have both its USD price and its
    // price in that currency — as usd / fiat to 18 decimals. `skipped` collects one line per
    // currency the reply could not price.
    QHash<QString, Decimal> usdValues(const QList<Currency> &currencies, QStringList *skipped) const;
};

} // namespace yieldhost::integrations
