// ExchangeRates.h — exchange rates and exact conversion, as a service (provided by the
// integrations plugin), and the RateProvider interface through which any plugin adds a source.
//
// Every currency's rate is kept as its value in US dollars, with the time it was stored (host
// clock) and the source that supplied it; a rate between two currencies goes through USD. A
// conversion is computed from the exact quotient of the two USD values and rounded half-even
// once, to the target currency's decimals. A rate older than the configured limit is never used:
// the answer is then a RateProblem (503 + Retry-After for a client), not an old number.
//
// Header-only: it adds no symbol to the SDK library, so a plugin using it runs on any 1.1 host.
#pragma once

#include "yieldhost/Decimal.h"
#include "yieldhost/Global.h"
#include "yieldhost/services/Currencies.h"

#include <QtCore/QDateTime>
#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include <QCoro/QCoroTask>

namespace yieldhost {

// What one provider answered for one run of integrations.update_rates.
struct RateFetch
{
    QHash<QString, Decimal> usdValues; // currency code -> US dollars per unit (> 0), exact
    QString failure;                   // why some or all currencies are missing: the run fails and is retried
    int retryAfterSeconds = -1;        // the provider asked to be left alone this long (HTTP 429)
};

// A source of rates. Register it with ExchangeRates::addProvider() in your start() (and take it
// back in stop()). Providers are asked in the order they were added; for each currency the
// first one that quoted it wins, so a later provider fills in currencies earlier ones lack and
// stands in for them while they fail.
class RateProvider
{
public:
    virtual ~RateProvider() = default;
    // Short and stable, shown with every rate it supplied: "coingecko".
    virtual QString source() const = 0;
    // The USD value of as many of `currencies` as it knows (USD itself is never asked). Called
    // on the worker's thread by integrations.update_rates, never twice at once; it must finish
    // (or fail) within the task's timeout.
    virtual QCoro::Task<RateFetch> fetch(QList<Currency> currencies) = 0;
};

enum class RateProblem {
    None,
    UnknownCurrency, // 422 for a client
    NoRate,          // never fetched: 503 + Retry-After
    Stale,           // older than the configured limit: 503 + Retry-After
    TooLarge,        // the result needs more than 38 digits: 422
    Unavailable,     // the database did not answer: 503 + Retry-After
};

struct ExchangeRate
{
    QString from;
    QString to;
    Decimal rate;   // units of `to` per unit of `from`, rounded half-even to 18 decimals (for display)
    QDateTime asOf; // when the older of the two USD values was stored (host clock, UTC)
    QString source; // "coingecko", or "coingecko+other" when the two sides came from different sources
};

struct ConversionRequest
{
    Decimal amount;
    QString from;
    QString to;
};

struct Conversion
{
    RateProblem problem = RateProblem::None;
    QString detail;             // the sentence for a client when problem != None
    int retryAfterSeconds = -1; // with NoRate, Stale and Unavailable
    ExchangeRate rate;
    Decimal amount; // as given
    Decimal result; // amount x the exact rate, rounded half-even once to `to`'s decimals
    explicit operator bool() const { return problem == RateProblem::None; }
};

struct RateTable
{
    RateProblem problem = RateProblem::None; // the base currency itself is unknown, unrated or stale
    QString detail;
    int retryAfterSeconds = -1;
    QString base;
    QList<ExchangeRate> rates; // from `base` to every other currency with a fresh rate, by code
    QStringList unavailable;   // the currencies left out: no rate yet, or a stale one
};

class ExchangeRates
{
public:
    static constexpr const char *ServiceId = "dev.yieldhost.ExchangeRates/1";
    // Published (to every host process, through the outbox) after a run stored new rates:
    // {"currencies": [...], "as_of": "...", "sources": [...]}.
    static constexpr const char *UpdatedTopic = "rates.updated";

    virtual ~ExchangeRates() = default;

    // `amount` of `from` in `to`. Thread-safe, like the rest.
    virtual QCoro::Task<Conversion> convert(Decimal amount, QString from, QString to) = 0;
    // Several conversions from one reading of the rates (a portfolio in one currency).
    virtual QCoro::Task<QList<Conversion>> convertAll(QList<ConversionRequest> requests) = 0;
    // The current rates from `base` to every other currency.
    virtual QCoro::Task<RateTable> rates(QString base) = 0;
    // `provider` must stay alive until removeProvider(); see RateProvider.
    virtual void addProvider(RateProvider *provider) = 0;
    virtual void removeProvider(RateProvider *provider) = 0;
};

} // namespace yieldhost
