#include "RateRoutes.h"

#include <QtCore/QJsonArray>

namespace yieldhost::integrations {

namespace {

QString rfc3339(const QDateTime &t)
{
    return t.toUTC().toString(Qt::ISODate);
}

QJsonObject queryParameter(const char *name, bool required, const char *description)
{
    return QJsonObject{{QStringLiteral("name"), QLatin1String(name)},
                       {QStringLiteral("in"), QStringLiteral("query")},
                       {QStringLiteral("required"), required},
                       {QStringLiteral("description"), QLatin1String(description)},
                       {QStringLiteral("schema"), QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}}}};
}

QJsonObject responses(const char *ok)
{
    return QJsonObject{{QStringLiteral("200"), QJsonObject{{QStringLiteral("description"), QLatin1String(ok)}}},
                       {QStringLiteral("422"), QJsonObject{{QStringLiteral("description"), QStringLiteral("Unknown currency or bad amount")}}},
                       {QStringLiteral("503"), QJsonObject{{QStringLiteral("description"), QStringLiteral("No rate fresher than the configured limit (with Retry-After)")}}}};
}

QJsonObject ratesOperation()
{
    return QJsonObject{
        {QStringLiteral("operationId"), QStringLiteral("getRates")},
        {QStringLiteral("description"), QStringLiteral("Units of each other currency per unit of `base`, as decimal strings (up to 18 decimals). "
                                                       "Currencies without a fresh rate are left out and listed in `unavailable`; `sources` names "
                                                       "each rate's provider, `source` all of them.")},
        {QStringLiteral("parameters"), QJsonArray{queryParameter("base", false, "Currency code; USD when omitted")}},
        {QStringLiteral("responses"), responses("{\"base\",\"rates\":{code: rate},\"as_of\",\"source\",\"sources\",\"unavailable\"}")},
    };
}

QJsonObject convertOperation()
{
    return QJsonObject{
        {QStringLiteral("operationId"), QStringLiteral("convert")},
        {QStringLiteral("description"), QStringLiteral("`amount` of `from` in `to`: the exact product of the amount and the two currencies' USD values, "
                                                       "rounded half-even once to the decimals of `to`. `rate` is shown to 18 decimals.")},
        {QStringLiteral("parameters"), QJsonArray{queryParameter("amount", true, "A decimal number, at most as many decimals as `from` has: 100, 12.50"),
                                                  queryParameter("from", true, "Currency code"), queryParameter("to", true, "Currency code")}},
        {QStringLiteral("responses"), responses("{\"amount\",\"from\",\"to\",\"rate\",\"result\",\"as_of\",\"source\"}")},
    };
}

} // namespace

void RateRoutes::registerRoutes()
{
    m_context.addRoute(HttpMethod::Get, QStringLiteral("/api/v1/rates"), [this](HttpRequest r) { return rates(std::move(r)); })
        .auth(AuthLevel::Public).summary(QStringLiteral("Current exchange rates from a base currency")).openapi(ratesOperation());
    m_context.addRoute(HttpMethod::Get, QStringLiteral("/api/v1/convert"), [this](HttpRequest r) { return convert(std::move(r)); })
        .auth(AuthLevel::Public).summary(QStringLiteral("Convert an amount between currencies, exactly")).openapi(convertOperation());
}

HttpResponse RateRoutes::problemReply(RateProblem problem, const QString &detail, int retryAfterSeconds, const QString &field)
{
    switch (problem) {
    case RateProblem::UnknownCurrency:
        return Problem::make(422).detail(detail).field(field, QStringLiteral("is not a known currency code")).toResponse();
    case RateProblem::TooLarge:
        return Problem::make(422).detail(detail).field(QStringLiteral("amount"), QStringLiteral("is too large to convert")).toResponse();
    case RateProblem::NoRate:
    case RateProblem::Stale:
        return Problem::make(503)
            .type(QStringLiteral("rate-unavailable"))
            .title(QStringLiteral("Exchange rate unavailable"))
            .detail(detail)
            .retryAfter(std::max(1, retryAfterSeconds))
            .toResponse();
    case RateProblem::Unavailable:
    case RateProblem::None:
        break;
    }
    return Problem::unavailable(detail, std::max(1, retryAfterSeconds)).toResponse();
}

QCoro::Task<HttpResponse> RateRoutes::rates(HttpRequest request)
{
    const QString base = request.query().hasQueryItem(QStringLiteral("base")) ? request.queryItem(QStringLiteral("base")) : QStringLiteral("USD");
    const RateTable table = co_await m_rates.rates(base);
    if (table.problem != RateProblem::None)
        co_return problemReply(table.problem, table.detail, table.retryAfterSeconds, QStringLiteral("base"));
    QJsonObject rates;
    QJsonObject sources;
    QStringList allSources;
    QDateTime asOf;
    for (const ExchangeRate &r : table.rates) {
        rates.insert(r.to, r.rate.toStringTrimmed());
        sources.insert(r.to, r.source);
        for (const QString &s : r.source.split(u'+', Qt::SkipEmptyParts)) {
            if (!allSources.contains(s))
                allSources.append(s);
        }
        if (!asOf.isValid() || r.asOf < asOf)
            asOf = r.asOf;
    }
    allSources.sort();
    co_return HttpResponse::json(200, QJsonObject{{QStringLiteral("base"), table.base},
                                                  {QStringLiteral("rates"), rates},
                                                  {QStringLiteral("as_of"), rfc3339(asOf)},
                                                  {QStringLiteral("source"), allSources.join(u'+')},
                                                  {QStringLiteral("sources"), sources},
                                                  {QStringLiteral("unavailable"), QJsonArray::fromStringList(table.unavailable)}});
}

QCoro::Task<HttpResponse> RateRoutes::convert(HttpRequest request)
{
    ProblemBuilder invalid(422);
    bool ok = true;
    const auto fail = [&](const QString &field, const QString &message) {
        invalid.field(field, message);
        ok = false;
    };
    const QString from = request.queryItem(QStringLiteral("from"));
    const QString to = request.queryItem(QStringLiteral("to"));
    const QString amountText = request.queryItem(QStringLiteral("amount"));
    if (from.isEmpty())
        fail(QStringLiteral("from"), QStringLiteral("is required"));
    if (to.isEmpty())
        fail(QStringLiteral("to"), QStringLiteral("is required"));
    std::optional<Decimal> amount;
    if (amountText.isEmpty()) {
        fail(QStringLiteral("amount"), QStringLiteral("is required"));
    } else {
        QString why;
        amount = Decimal::fromString(amountText, &why);
        if (!amount)
            fail(QStringLiteral("amount"), QStringLiteral("must be a decimal number such as 100 or 12.50: %1").arg(why));
        else if (amount->isNegative())
            fail(QStringLiteral("amount"), QStringLiteral("must not be negative"));
    }
    std::optional<Currency> source;
    std::optional<Currency> target;
    if (!from.isEmpty()) {
        const CurrencyLookup found = co_await m_currencies.find(from);
        if (found.error)
            co_return problemFor(found.error).toResponse();
        if (!found.currency)
            fail(QStringLiteral("from"), QStringLiteral("is not a known currency code"));
        source = found.currency;
    }
    if (!to.isEmpty()) {
        const CurrencyLookup found = co_await m_currencies.find(to);
        if (found.error)
            co_return problemFor(found.error).toResponse();
        if (!found.currency)
            fail(QStringLiteral("to"), QStringLiteral("is not a known currency code"));
        target = found.currency;
    }
    if (amount && source && amount->round(source->decimals) != *amount)
        fail(QStringLiteral("amount"), QStringLiteral("has more decimals than %1 has (%2)").arg(source->code).arg(source->decimals));
    if (!ok)
        co_return invalid.detail(QStringLiteral("One or more query parameters are invalid.")).toResponse();

    const Conversion c = co_await m_rates.convert(*amount, source->code, target->code);
    if (!c)
        co_return problemReply(c.problem, c.detail, c.retryAfterSeconds, QStringLiteral("from"));
    co_return HttpResponse::json(200, QJsonObject{{QStringLiteral("amount"), amount->toString(source->decimals)},
                                                  {QStringLiteral("from"), source->code},
                                                  {QStringLiteral("to"), target->code},
                                                  {QStringLiteral("rate"), c.rate.rate.toStringTrimmed()},
                                                  {QStringLiteral("result"), c.result.toString(target->decimals)},
                                                  {QStringLiteral("as_of"), rfc3339(c.rate.asOf)},
                                                  {QStringLiteral("source"), c.rate.source}});
}

} // namespace yieldhost::integrations
