// RateStore.h — the ExchangeRates service: the latest USD value of each currency in
// integrations_rate (history in integrations_rate_history), conversions computed from them
// (RateMath), the registered providers and the integrations.update_rates run that asks them.
#pragma once

#include "CurrencyStore.h"

#include "yieldhost/Clock.h"
#include "yieldhost/Jobs.h"
#include "yieldhost/services/ExchangeRates.h"

#include <QtCore/QLoggingCategory>
#include <QtCore/QMutex>

namespace yieldhost::integrations {

class RateStore : public ExchangeRates
{
public:
    struct Options
    {
        qint64 maxAgeSeconds = 900;  // an older rate is stale: never used
        int retryAfterSeconds = 60;  // told to clients when a rate is stale or missing
    };

    RateStore(Database &database, Clock &clock, CurrencyStore &currencies, const QLoggingCategory &log, Options options);

    QCoro::Task<Conversion> convert(Decimal amount, QString from, QString to) override;
    QCoro::Task<QList<Conversion>> convertAll(QList<ConversionRequest> requests) override;
    QCoro::Task<RateTable> rates(QString base) override;
    void addProvider(RateProvider *provider) override;
    void removeProvider(RateProvider *provider) override;

    // integrations.update_rates: every provider in turn, the first quote of each currency
    // stored (with rates.updated published in the same transaction); a provider's failure fails
    // the run, after what the others priced is stored, so the queue retries it.
    QCoro::Task<Status> update(JobContext &job);
    // host.cleanup: history older than `days`.
    QCoro::Task<Status> purgeHistory(JobContext &job, int days);

    const Options &options() const { return m_options; }

private:
    struct Quote
    {
        Decimal usd;
        QDateTime asOf;
        QString source;
    };
    struct Snapshot
    {
        QHash<QString, Quote> quotes;
        DbError error;
        QDateTime now;
    };
    QCoro::Task<Snapshot> read();
    // The USD quote of `currency` if it is fresh, else the problem; USD is 1 and always fresh.
    std::optional<Quote> quoteOf(const Snapshot &snapshot, const Currency &currency, Conversion *problem) const;
    Conversion convertWith(const Snapshot &snapshot, const Decimal &amount, const Currency &from, const Currency &to) const;
    Conversion unavailable(const DbError &error) const;
    QList<RateProvider *> providers() const;

    Database &m_db;
    Clock &m_clock;
    CurrencyStore &m_currencies;
    const QLoggingCategory &m_log;
    Options m_options;
    mutable QMutex m_mutex;
    QList<RateProvider *> m_providers;
};

} // namespace yieldhost::integrations
