#include "RateStore.h"

#include "RateMath.h"

#include "yieldhost/Outbox.h"

#include <QtCore/QJsonArray>

#include <algorithm>

namespace yieldhost::integrations {

namespace {

const QString Usd = QStringLiteral("USD");

QString rfc3339(const QDateTime &t)
{
    return t.toUTC().toString(Qt::ISODate);
}

} // namespace

RateStore::RateStore(Database &database, Clock &clock, CurrencyStore &currencies, const QLoggingCategory &log, Options options)
    : m_db(database)
    , m_clock(clock)
    , m_currencies(currencies)
    , m_log(log)
    , m_options(options)
{
}

void RateStore::addProvider(RateProvider *provider)
{
    const QMutexLocker lock(&m_mutex);
    if (provider && !m_providers.contains(provider))
        m_providers.append(provider);
}

void RateStore::removeProvider(RateProvider *provider)
{
    const QMutexLocker lock(&m_mutex);
    m_providers.removeAll(provider);
}

QList<RateProvider *> RateStore::providers() const
{
    const QMutexLocker lock(&m_mutex);
    return m_providers;
}

QCoro::Task<RateStore::Snapshot> RateStore::read()
{
    const SqlResult r = co_await m_db.query(QStringLiteral("SELECT currency, usd_value, as_of, source FROM integrations_rate"));
    Snapshot s;
    s.now = m_clock.now();
    s.error = r.error();
    for (qsizetype i = 0; !r.error() && i < r.size(); ++i) {
        QString why;
        const std::optional<Decimal> usd = r.decimal(i, QStringLiteral("usd_value"), &why);
        const QString code = r.string(i, QStringLiteral("currency"));
        if (!usd) { // cannot happen through update(); a hand-edited row is left out, loudly
            qCWarning(m_log).noquote() << "ignoring the stored rate of" << code << "-" << why;
            continue;
        }
        s.quotes.insert(code, Quote{*usd, r.value(i, QStringLiteral("as_of")).toDateTime().toUTC(), r.string(i, QStringLiteral("source"))});
    }
    co_return s;
}

Conversion RateStore::unavailable(const DbError &error) const
{
    qCWarning(m_log).noquote() << "reading rates failed:" << error.message;
    Conversion c;
    c.problem = RateProblem::Unavailable;
    c.detail = QStringLiteral("Exchange rates cannot be read right now; try again shortly.");
    c.retryAfterSeconds = 5;
    return c;
}

std::optional<RateStore::Quote> RateStore::quoteOf(const Snapshot &snapshot, const Currency &currency, Conversion *problem) const
{
    if (currency.code == Usd)
        return Quote{Decimal::fromInt(1), snapshot.now, QString()};
    const auto it = snapshot.quotes.constFind(currency.code);
    if (it == snapshot.quotes.cend()) {
        problem->problem = RateProblem::NoRate;
        problem->detail = QStringLiteral("No exchange rate for %1 has been fetched yet; try again later.").arg(currency.code);
        problem->retryAfterSeconds = m_options.retryAfterSeconds;
        return std::nullopt;
    }
    if (it->asOf.secsTo(snapshot.now) > m_options.maxAgeSeconds) {
        problem->problem = RateProblem::Stale;
        problem->detail = QStringLiteral("The latest %1 rate is from %2, older than the %3-second limit; it is not used until it is refreshed.")
                              .arg(currency.code, rfc3339(it->asOf))
                              .arg(m_options.maxAgeSeconds);
        problem->retryAfterSeconds = m_options.retryAfterSeconds;
        return std::nullopt;
    }
    return *it;
}

Conversion RateStore::convertWith(const Snapshot &snapshot, const Decimal &amount, const Currency &from, const Currency &to) const
{
    Conversion c;
    c.amount = amount;
    c.rate.from = from.code;
    c.rate.to = to.code;
    if (from.code == to.code) {
        c.rate.rate = Decimal::fromInt(1);
        c.rate.asOf = snapshot.now;
        c.rate.source = QStringLiteral("identity");
        c.result = amount.round(to.decimals);
        return c;
    }
    const std::optional<Quote> a = quoteOf(snapshot, from, &c);
    if (!a)
        return c;
    const std::optional<Quote> b = quoteOf(snapshot, to, &c);
    if (!b)
        return c;
    QStringList sources;
    for (const QString &s : {a->source, b->source}) {
        if (!s.isEmpty() && !sources.contains(s))
            sources.append(s);
    }
    c.rate.source = sources.join(u'+');
    c.rate.asOf = std::min(a->asOf, b->asOf);
    const std::optional<Decimal> rate = RateMath::rate(a->usd, b->usd);
    const std::optional<Decimal> result = RateMath::convert(amount, a->usd, b->usd, to.decimals);
    if (!rate || !result) {
        c.problem = RateProblem::TooLarge;
        c.detail = QStringLiteral("%1 %2 in %3 needs more than 38 digits.").arg(amount.toString(), from.code, to.code);
        return c;
    }
    c.rate.rate = *rate;
    c.result = *result;
    return c;
}

QCoro::Task<Conversion> RateStore::convert(Decimal amount, QString from, QString to)
{
    QList<ConversionRequest> one{ConversionRequest{amount, from, to}};
    const QList<Conversion> all = co_await convertAll(std::move(one));
    co_return all.value(0);
}

QCoro::Task<QList<Conversion>> RateStore::convertAll(QList<ConversionRequest> requests)
{
    QList<Conversion> out;
    // Currencies first: an unknown code is the caller's mistake, whatever the rates say.
    QList<std::pair<Currency, Currency>> pairs;
    bool allKnown = true;
    for (const ConversionRequest &r : std::as_const(requests)) {
        const CurrencyLookup from = co_await m_currencies.find(r.from);
        const CurrencyLookup to = co_await m_currencies.find(r.to);
        if (from.error || to.error) {
            const Conversion down = unavailable(from.error ? from.error : to.error);
            co_return QList<Conversion>(requests.size(), down);
        }
        Conversion c;
        c.amount = r.amount;
        c.rate.from = r.from;
        c.rate.to = r.to;
        if (!from.currency || !to.currency) {
            c.problem = RateProblem::UnknownCurrency;
            c.detail = QStringLiteral("Unknown currency %1.").arg(!from.currency ? r.from : r.to);
            allKnown = false;
            pairs.append({Currency{}, Currency{}});
        } else {
            pairs.append({*from.currency, *to.currency});
        }
        out.append(c);
    }
    Snapshot snapshot;
    if (allKnown || out.size() > 1) {
        snapshot = co_await read();
        if (snapshot.error)
            co_return QList<Conversion>(requests.size(), unavailable(snapshot.error));
    }
    for (qsizetype i = 0; i < out.size(); ++i) {
        if (out[i].problem == RateProblem::None)
            out[i] = convertWith(snapshot, requests[i].amount, pairs[i].first, pairs[i].second);
    }
    co_return out;
}

QCoro::Task<RateTable> RateStore::rates(QString base)
{
    RateTable table;
    const CurrencyLookup found = co_await m_currencies.find(base);
    if (found.error || !found.currency) {
        const Conversion c = found.error ? unavailable(found.error) : Conversion{};
        table.problem = found.error ? c.problem : RateProblem::UnknownCurrency;
        table.detail = found.error ? c.detail : QStringLiteral("Unknown currency %1.").arg(base);
        table.retryAfterSeconds = c.retryAfterSeconds;
        co_return table;
    }
    const Currency from = *found.currency;
    table.base = from.code;
    const CurrencyStore::All all = co_await m_currencies.all();
    const Snapshot snapshot = co_await read();
    const DbError error = all.error ? all.error : snapshot.error;
    if (error) {
        const Conversion c = unavailable(error);
        table.problem = c.problem;
        table.detail = c.detail;
        table.retryAfterSeconds = c.retryAfterSeconds;
        co_return table;
    }
    Conversion baseProblem;
    if (!quoteOf(snapshot, from, &baseProblem)) {
        table.problem = baseProblem.problem;
        table.detail = baseProblem.detail;
        table.retryAfterSeconds = baseProblem.retryAfterSeconds;
        co_return table;
    }
    for (const Currency &to : all.currencies) {
        if (to.code == from.code)
            continue;
        const Conversion c = convertWith(snapshot, Decimal::fromInt(1), from, to);
        if (c)
            table.rates.append(c.rate);
        else
            table.unavailable.append(to.code);
    }
    if (table.rates.isEmpty()) {
        table.problem = RateProblem::NoRate;
        table.detail = QStringLiteral("No fresh exchange rate from %1 is available; try again later.").arg(from.code);
        table.retryAfterSeconds = m_options.retryAfterSeconds;
    }
    co_return table;
}

QCoro::Task<Status> RateStore::update(JobContext &job)
{
    const CurrencyStore::All all = co_await m_currencies.all();
    if (all.error)
        co_return Status::failure(QStringLiteral("reading the currencies failed: %1").arg(all.error.message));
    QList<Currency> wanted;
    for (const Currency &c : all.currencies) {
        if (c.code != Usd)
            wanted.append(c);
    }

    QStringList codes;
    QStringList values;
    QStringList sources;
    QStringList failures;
    for (RateProvider *provider : providers()) {
        const QString source = provider->source();
        const RateFetch fetched = co_await provider->fetch(wanted);
        if (!fetched.failure.isEmpty())
            failures.append(QStringLiteral("%1: %2").arg(source, fetched.failure));
        int taken = 0;
        for (auto it = fetched.usdValues.cbegin(); it != fetched.usdValues.cend(); ++it) {
            if (codes.contains(it.key()) || it.value().signum() <= 0)
                continue;
            if (std::none_of(wanted.cbegin(), wanted.cend(), [&](const Currency &c) { return c.code == it.key(); }))
                continue;
            codes.append(it.key());
            values.append(it.value().toString());
            sources.append(source);
            ++taken;
        }
        job.progress(QStringLiteral("%1 priced %2 currencies%3").arg(source).arg(taken).arg(fetched.failure.isEmpty() ? QString() : QStringLiteral(" and failed")));
    }
    QStringList missing;
    for (const Currency &c : std::as_const(wanted)) {
        if (!codes.contains(c.code))
            missing.append(c.code);
    }
    if (!missing.isEmpty())
        qCWarning(m_log).noquote() << "no provider priced" << missing.join(QStringLiteral(", ")) << "- their last rates stay until they go stale";

    if (!codes.isEmpty()) {
        auto store = [&](SqlTransaction &tx) -> Status {
            const SqlResult latest = tx.exec(QStringLiteral("INSERT INTO integrations_rate (currency, usd_value, as_of, source) "
                                                            "SELECT c, v::numeric, host_now(), s FROM unnest(?::text[], ?::text[], ?::text[]) AS t(c, v, s) "
                                                            "ON CONFLICT (currency) DO UPDATE SET usd_value = EXCLUDED.usd_value, as_of = EXCLUDED.as_of, source = EXCLUDED.source "
                                                            "RETURNING as_of"),
                                             {codes, values, sources});
            if (latest.error())
                return Status::failure(latest.error().message);
            const SqlResult history = tx.exec(QStringLiteral("INSERT INTO integrations_rate_history (currency, usd_value, as_of, source) "
                                                             "SELECT c, v::numeric, host_now(), s FROM unnest(?::text[], ?::text[], ?::text[]) AS t(c, v, s)"),
                                              {codes, values, sources});
            if (history.error())
                return Status::failure(history.error().message);
            QStringList distinct = sources;
            distinct.removeDuplicates();
            const QJsonObject data{{QStringLiteral("currencies"), QJsonArray::fromStringList(codes)},
                                   {QStringLiteral("as_of"), rfc3339(latest.value(0, QStringLiteral("as_of")).toDateTime())},
                                   {QStringLiteral("sources"), QJsonArray::fromStringList(distinct)}};
            const DbError published = publishIn(tx, QString::fromLatin1(UpdatedTopic), QString(), data);
            if (published)
                return Status::failure(published.message);
            return {};
        };
        const TransactionOutcome stored = co_await m_db.transaction(std::move(store));
        if (!stored.committed)
            co_return Status::failure(QStringLiteral("storing the rates failed: %1").arg(stored.failure.isEmpty() ? stored.error.message : stored.failure));
        job.progress(QStringLiteral("stored %1 rates: %2").arg(codes.size()).arg(codes.join(QStringLiteral(", "))));
    }
    if (!failures.isEmpty())
        co_return Status::failure(failures.join(QStringLiteral("; ")) + QStringLiteral(" (the last good rates stay in place)"));
    if (providers().isEmpty())
        co_return Status::failure(QStringLiteral("no rate provider is registered"));
    co_return Status{};
}

QCoro::Task<Status> RateStore::purgeHistory(JobContext &job, int days)
{
    const QVariantList params{days};
    const SqlResult r = co_await m_db.query(QStringLiteral("DELETE FROM integrations_rate_history WHERE as_of < host_now() - make_interval(days => ?)"), params);
    if (r.error())
        co_return Status::failure(r.error().message);
    job.progress(QStringLiteral("deleted %1 rate history rows older than %2 days").arg(r.rowsAffected()).arg(days));
    co_return Status{};
}

} // namespace yieldhost::integrations
