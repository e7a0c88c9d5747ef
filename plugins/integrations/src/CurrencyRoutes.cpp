#include "CurrencyRoutes.h"

#include "yieldhost/Paging.h"

#include <QtCore/QJsonArray>
#include <QtCore/QRegularExpression>

namespace yieldhost::integrations {

namespace {

QJsonObject schemaOf(const char *type, const char *description)
{
    return QJsonObject{{QStringLiteral("type"), QLatin1String(type)}, {QStringLiteral("description"), QLatin1String(description)}};
}

const QJsonObject &currencySchema()
{
    static const QJsonObject schema{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("required"), QJsonArray{QStringLiteral("code"), QStringLiteral("name"), QStringLiteral("kind"), QStringLiteral("decimals")}},
        {QStringLiteral("properties"), QJsonObject{{QStringLiteral("code"), schemaOf("string", "3 to 10 upper-case letters or digits: USD, BTC")},
                                                   {QStringLiteral("name"), schemaOf("string", "US Dollar")},
                                                   {QStringLiteral("kind"), QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                                                                                        {QStringLiteral("enum"), QJsonArray{QStringLiteral("fiat"), QStringLiteral("crypto")}}}},
                                                   {QStringLiteral("decimals"), schemaOf("integer", "Amounts are kept and printed with this many decimals (0 to 18)")}}},
    };
    return schema;
}

QJsonObject listOperation()
{
    return QJsonObject{
        {QStringLiteral("operationId"), QStringLiteral("listCurrencies")},
        {QStringLiteral("description"), QStringLiteral("Every currency, by code. Seeded: USD, EUR, GBP (fiat, 2 decimals), BTC (8), ETH (18), USDT (6); staff may add more.")},
        {QStringLiteral("parameters"), QJsonArray{
             QJsonObject{{QStringLiteral("name"), QStringLiteral("limit")}, {QStringLiteral("in"), QStringLiteral("query")},
                         {QStringLiteral("schema"), QJsonObject{{QStringLiteral("type"), QStringLiteral("integer")}, {QStringLiteral("minimum"), 1}, {QStringLiteral("maximum"), 500}}}},
             QJsonObject{{QStringLiteral("name"), QStringLiteral("cursor")}, {QStringLiteral("in"), QStringLiteral("query")},
                         {QStringLiteral("schema"), QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}}}}}},
        {QStringLiteral("responses"), QJsonObject{{QStringLiteral("200"), QJsonObject{{QStringLiteral("description"), QStringLiteral("{\"results\": [currency], \"next\": cursor or null}")}}}}},
    };
}

QJsonObject addOperation()
{
    QJsonObject body = currencySchema();
    QJsonObject properties = body.value(QLatin1String("properties")).toObject();
    properties.insert(QStringLiteral("coingecko_id"), schemaOf("string", "CoinGecko's coin id (crypto only), so update_rates prices it: \"solana\""));
    body.insert(QStringLiteral("properties"), properties);
    return QJsonObject{
        {QStringLiteral("operationId"), QStringLiteral("addCurrency")},
        {QStringLiteral("description"), QStringLiteral("Adds a currency (staff). A currency never changes once it exists: balances are kept at its decimals.")},
        {QStringLiteral("requestBody"), QJsonObject{{QStringLiteral("required"), true},
                                                    {QStringLiteral("content"), QJsonObject{{QStringLiteral("application/json"), QJsonObject{{QStringLiteral("schema"), body}}}}}}},
        {QStringLiteral("responses"), QJsonObject{{QStringLiteral("201"), QJsonObject{{QStringLiteral("description"), QStringLiteral("The currency")}}},
                                                  {QStringLiteral("409"), QJsonObject{{QStringLiteral("description"), QStringLiteral("The code is taken")}}},
                                                  {QStringLiteral("422"), QJsonObject{{QStringLiteral("description"), QStringLiteral("Invalid fields")}}}}},
    };
}

} // namespace

void CurrencyRoutes::registerRoutes()
{
    m_context.addRoute(HttpMethod::Get, QStringLiteral("/api/v1/currencies"), [this](HttpRequest r) { return list(std::move(r)); })
        .auth(AuthLevel::Public).summary(QStringLiteral("The currencies")).openapi(listOperation());
    m_context.addRoute(HttpMethod::Post, QStringLiteral("/api/v1/currencies"), [this](HttpRequest r) { return add(std::move(r)); })
        .auth(AuthLevel::Staff).summary(QStringLiteral("Add a currency")).openapi(addOperation());
}

QCoro::Task<HttpResponse> CurrencyRoutes::list(HttpRequest request)
{
    Problem problem;
    const std::optional<PageRequest> page = PageRequest::fromRequest(request, &problem);
    if (!page)
        co_return problem.toResponse();
    const int limit = page->limit;
    const CurrencyStore::All found = co_await m_currencies.page(limit, page->after.value(QLatin1String("code")).toString());
    if (found.error)
        co_return problemFor(found.error).toResponse();
    QJsonArray results;
    for (qsizetype i = 0; i < std::min<qsizetype>(found.currencies.size(), limit); ++i)
        results.append(CurrencyStore::toJson(found.currencies[i]));
    std::optional<QJsonObject> next;
    if (found.currencies.size() > limit)
        next = QJsonObject{{QStringLiteral("code"), found.currencies[limit - 1].code}};
    co_return HttpResponse::json(200, page->reply(results, next));
}

QCoro::Task<HttpResponse> CurrencyRoutes::add(HttpRequest request)
{
    if (!request.json().isObject())
        co_return Problem::badRequest(QStringLiteral("The body must be a JSON object: {\"code\",\"name\",\"kind\",\"decimals\",\"coingecko_id\"?}.")).toResponse();
    const QJsonObject body = request.json().toObject();
    ProblemBuilder invalid(422);
    bool ok = true;
    const auto fail = [&](const QString &field, const QString &message) {
        invalid.field(field, message);
        ok = false;
    };
    Currency c;
    const QJsonValue code = body.value(QLatin1String("code"));
    static const QRegularExpression codeRe(QStringLiteral("^[A-Z0-9]{3,10}$"));
    if (!code.isString() || !codeRe.match(code.toString()).hasMatch())
        fail(QStringLiteral("code"), QStringLiteral("must be 3 to 10 upper-case letters or digits"));
    c.code = code.toString();
    const QJsonValue name = body.value(QLatin1String("name"));
    if (!name.isString() || name.toString().trimmed().isEmpty() || name.toString().trimmed().size() > 100)
        fail(QStringLiteral("name"), QStringLiteral("must be a string of 1 to 100 characters"));
    c.name = name.toString().trimmed();
    const QJsonValue kind = body.value(QLatin1String("kind"));
    if (kind != QJsonValue(QStringLiteral("fiat")) && kind != QJsonValue(QStringLiteral("crypto")))
        fail(QStringLiteral("kind"), QStringLiteral("must be \"fiat\" or \"crypto\""));
    c.kind = kind.toString() == QLatin1String("crypto") ? Currency::Kind::Crypto : Currency::Kind::Fiat;
    const QJsonValue decimals = body.value(QLatin1String("decimals"));
    const double d = decimals.toDouble(-1);
    if (!decimals.isDouble() || d != std::floor(d) || d < 0 || d > Decimal::MaxScale)
        fail(QStringLiteral("decimals"), QStringLiteral("must be a whole number from 0 to 18"));
    c.decimals = int(d);
    const QJsonValue coingecko = body.value(QLatin1String("coingecko_id"));
    static const QRegularExpression idRe(QStringLiteral("^[a-z0-9-]{1,100}$"));
    if (!coingecko.isUndefined() && !coingecko.isNull()) {
        if (!coingecko.isString() || !idRe.match(coingecko.toString()).hasMatch())
            fail(QStringLiteral("coingecko_id"), QStringLiteral("must be CoinGecko's coin id: lower-case letters, digits and dashes"));
        else if (c.kind != Currency::Kind::Crypto)
            fail(QStringLiteral("coingecko_id"), QStringLiteral("is only for crypto currencies"));
        c.coingeckoId = coingecko.toString();
    }
    if (!ok)
        co_return invalid.detail(QStringLiteral("One or more fields are invalid.")).toResponse();

    const CurrencyStore::Added added = co_await m_currencies.add(c);
    if (added.error)
        co_return problemFor(added.error).toResponse();
    if (added.exists)
        co_return Problem::make(409)
            .type(QStringLiteral("currency-exists"))
            .title(QStringLiteral("Currency exists"))
            .detail(QStringLiteral("%1 already exists; a currency never changes once it exists.").arg(c.code))
            .toResponse();
    qCInfo(m_context.log()).noquote() << QStringLiteral("%1 added currency %2 (%3, %4 decimals)")
                                             .arg(request.user() ? request.user()->email : QStringLiteral("?"), c.code, c.kindName())
                                             .arg(c.decimals);
    co_return HttpResponse::json(201, CurrencyStore::toJson(*added.currency));
}

} // namespace yieldhost::integrations
