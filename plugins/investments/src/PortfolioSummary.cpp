#include "PortfolioSummary.h"

#include <QtCore/QJsonArray>

namespace yieldhost::investments {

namespace {

PortfolioSummary refusal(int status, const QString &detail, int retryAfter = -1)
{
    PortfolioSummary s;
    s.status = status;
    s.detail = detail;
    s.retryAfterSeconds = retryAfter;
    return s;
}

} // namespace

void PortfolioService::registerRoutes()
{
    m_context.addRoute(HttpMethod::Get, QStringLiteral("/api/v1/portfolio/summary"), [this](HttpRequest r) { return route(std::move(r)); })
        .summary(QStringLiteral("The caller's active positions per currency, converted at current rates"));
}

QCoro::Task<PortfolioSummary> PortfolioService::summary(QString userId, QString currency)
{
    // GCC 12: no ?: yielding an object inside a co_await expression (docs/database.md).
    QString code = QStringLiteral("USD");
    if (!currency.isEmpty())
        code = currency;
    const CurrencyLookup target = co_await m_currencies.find(code);
    if (target.error)
        co_return refusal(503, QStringLiteral("The portfolio cannot be read right now; try again shortly."), 5);
    if (!target.currency)
        co_return refusal(422, QStringLiteral("Unknown currency %1.").arg(currency));
    const QVariantList params{userId};
    const SqlResult r = co_await m_context.database().query(
        QStringLiteral("SELECT currency, max(decimals) AS decimals, count(*) AS positions, sum(amount_invested) AS invested, sum(yield_paid) AS yield_paid "
                       "FROM investments_position WHERE user_id = ?::uuid AND status = 'active' GROUP BY currency ORDER BY currency"),
        params);
    if (r.error())
        co_return refusal(503, QStringLiteral("The portfolio cannot be read right now; try again shortly."), 5);

    struct Row
    {
        QString currency;
        int decimals;
        qint64 positions;
        Decimal invested;
        Decimal yieldPaid;
        Decimal value;
    };
    QList<Row> rows;
    QList<ConversionRequest> requests;
    for (qsizetype i = 0; i < r.size(); ++i) {
        Row row{r.string(i, QStringLiteral("currency")), int(r.integer(i, QStringLiteral("decimals"))), r.integer(i, QStringLiteral("positions")),
                r.decimal(i, QStringLiteral("invested")).value_or(Decimal()), r.decimal(i, QStringLiteral("yield_paid")).value_or(Decimal()), Decimal()};
        row.value = row.invested.add(row.yieldPaid).value_or(Decimal());
        rows.append(row);
        requests.append(ConversionRequest{row.invested, row.currency, target.currency->code});
        requests.append(ConversionRequest{row.yieldPaid, row.currency, target.currency->code});
        requests.append(ConversionRequest{row.value, row.currency, target.currency->code});
    }
    QList<Conversion> converted;
    if (!requests.isEmpty())
        converted = co_await m_rates.convertAll(requests);
    const int decimals = target.currency->decimals;
    Decimal totalInvested, totalYield, totalValue;
    qint64 positions = 0;
    QJsonArray byCurrency;
    for (qsizetype i = 0; i < rows.size(); ++i) {
        const Row &row = rows[i];
        for (qsizetype k = 3 * i; k < 3 * i + 3; ++k) {
            const Conversion &c = converted[k];
            if (!c) {
                const bool unavailable = c.problem == RateProblem::NoRate || c.problem == RateProblem::Stale || c.problem == RateProblem::Unavailable;
                co_return refusal(unavailable ? 503 : 422, c.detail, unavailable ? std::max(1, c.retryAfterSeconds) : -1);
            }
        }
        totalInvested = totalInvested.add(converted[3 * i].result).value_or(totalInvested);
        totalYield = totalYield.add(converted[3 * i + 1].result).value_or(totalYield);
        totalValue = totalValue.add(converted[3 * i + 2].result).value_or(totalValue);
        positions += row.positions;
        byCurrency.append(QJsonObject{{QStringLiteral("currency"), row.currency},
                                      {QStringLiteral("positions"), row.positions},
                                      {QStringLiteral("invested"), row.invested.toString(row.decimals)},
                                      {QStringLiteral("yield_paid"), row.yieldPaid.toString(row.decimals)},
                                      {QStringLiteral("value"), row.value.toString(row.decimals)},
                                      {QStringLiteral("value_converted"), converted[3 * i + 2].result.toString(decimals)}});
    }
    PortfolioSummary out;
    out.body = QJsonObject{{QStringLiteral("currency"), target.currency->code},
                           {QStringLiteral("total_invested"), totalInvested.toString(decimals)},
                           {QStringLiteral("total_yield_paid"), totalYield.toString(decimals)},
                           {QStringLiteral("total_value"), totalValue.toString(decimals)},
                           {QStringLiteral("positions"), positions},
                           {QStringLiteral("by_currency"), byCurrency},
                           {QStringLiteral("as_of"), m_context.clock().now().toUTC().toString(Qt::ISODateWithMs)}};
    co_return out;
}

QCoro::Task<HttpResponse> PortfolioService::route(HttpRequest request)
{
    const QString currency = request.queryItem(QStringLiteral("currency"));
    const PortfolioSummary s = co_await summary(request.user()->id, currency);
    if (s.status == 200)
        co_return HttpResponse::json(200, s.body);
    if (s.status == 422)
        co_return Problem::make(422).detail(s.detail).field(QStringLiteral("currency"), QStringLiteral("is not a known currency")).toResponse();
    co_return Problem::make(503).type(QStringLiteral("rate-unavailable")).title(QStringLiteral("Exchange rate unavailable"))
        .detail(s.detail).retryAfter(std::max(1, s.retryAfterSeconds)).toResponse();
}

} // namespace yieldhost::investments
