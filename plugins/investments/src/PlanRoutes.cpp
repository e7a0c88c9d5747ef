#include "PlanRoutes.h"

#include "yieldhost/Paging.h"

#include <QtCore/QJsonArray>

namespace yieldhost::investments {

int Plan::intervalDays(const QString &payoutInterval)
{
    if (payoutInterval == QLatin1String("daily"))
        return 1;
    if (payoutInterval == QLatin1String("weekly"))
        return 7;
    if (payoutInterval == QLatin1String("monthly"))
        return 30;
    return 0;
}

int Plan::intervalDays() const
{
    return intervalDays(payoutInterval);
}

QJsonObject Plan::toJson() const
{
    return QJsonObject{{QStringLiteral("id"), id},
                       {QStringLiteral("name"), name},
                       {QStringLiteral("currency"), currency},
                       {QStringLiteral("apy"), apy.toString(std::max(4, apy.scale()))},
                       {QStringLiteral("payout_interval"), payoutInterval},
                       {QStringLiteral("min_amount"), minAmount.toString(decimals)},
                       {QStringLiteral("lock_days"), lockDays}};
}

const QString &PlanRoutes::planColumns()
{
    static const QString columns = QStringLiteral("p.id::text AS id, p.name, p.currency, p.apy, p.payout_interval, p.min_amount, p.lock_days, c.decimals");
    return columns;
}

Plan PlanRoutes::planFrom(const SqlResult &r, qsizetype row)
{
    Plan p;
    p.id = r.string(row, QStringLiteral("id"));
    p.name = r.string(row, QStringLiteral("name"));
    p.currency = r.string(row, QStringLiteral("currency"));
    p.apy = r.decimal(row, QStringLiteral("apy")).value_or(Decimal());
    p.payoutInterval = r.string(row, QStringLiteral("payout_interval"));
    p.minAmount = r.decimal(row, QStringLiteral("min_amount")).value_or(Decimal());
    p.lockDays = int(r.integer(row, QStringLiteral("lock_days")));
    p.decimals = int(r.integer(row, QStringLiteral("decimals")));
    return p;
}

void PlanRoutes::registerRoutes()
{
    m_context.addRoute(HttpMethod::Get, QStringLiteral("/api/v1/plans"), [this](HttpRequest r) { return list(std::move(r)); })
        .summary(QStringLiteral("Investment plans"));
    m_context.addRoute(HttpMethod::Post, QStringLiteral("/api/v1/plans"), [this](HttpRequest r) { return create(std::move(r)); })
        .auth(AuthLevel::Staff)
        .summary(QStringLiteral("Add an investment plan (staff)"));
}

QCoro::Task<HttpResponse> PlanRoutes::list(HttpRequest request)
{
    Problem problem;
    const std::optional<PageRequest> page = PageRequest::fromRequest(request, &problem);
    if (!page)
        co_return problem.toResponse();
    const int limit = page->limit;
    const QString after = page->after.value(QLatin1String("id")).toString();
    const QVariantList params{after.isEmpty() ? QStringLiteral("00000000-0000-0000-0000-000000000000") : after, limit + 1};
    const SqlResult r = co_await m_context.database().query(QStringLiteral("SELECT ") + planColumns()
                                                                + QStringLiteral(" FROM investments_plan p JOIN integrations_currency c ON c.code = p.currency "
                                                                                 "WHERE p.id > ?::uuid ORDER BY p.id LIMIT ?"),
                                                            params);
    if (r.error())
        co_return problemFor(r.error()).toResponse();
    QJsonArray results;
    for (qsizetype i = 0; i < std::min<qsizetype>(r.size(), limit); ++i)
        results.append(planFrom(r, i).toJson());
    std::optional<QJsonObject> next;
    if (r.size() > limit)
        next = QJsonObject{{QStringLiteral("id"), r.string(limit - 1, QStringLiteral("id"))}};
    co_return HttpResponse::json(200, page->reply(results, next));
}

QCoro::Task<HttpResponse> PlanRoutes::create(HttpRequest request)
{
    if (!request.json().isObject())
        co_return Problem::badRequest(QStringLiteral("The body must be a JSON object: {\"name\",\"currency\",\"apy\",\"payout_interval\",\"min_amount\",\"lock_days\"}.")).toResponse();
    const QJsonObject body = request.json().toObject();
    ProblemBuilder invalid(422);
    bool ok = true;
    const auto fail = [&](const QString &field, const QString &message) {
        invalid.field(field, message);
        ok = false;
    };
    Plan p;
    const QJsonValue name = body.value(QLatin1String("name"));
    if (!name.isString() || name.toString().trimmed().isEmpty() || name.toString().trimmed().size() > 100)
        fail(QStringLiteral("name"), QStringLiteral("must be a string of 1 to 100 characters"));
    p.name = name.toString().trimmed();
    QString why;
    const std::optional<Decimal> apy = Decimal::fromJson(body.value(QLatin1String("apy")), &why);
    if (!apy)
        fail(QStringLiteral("apy"), why);
    else if (apy->isNegative() || *apy > Decimal::fromInt(10))
        fail(QStringLiteral("apy"), QStringLiteral("must be from 0 to 10 (\"0.0500\" is 5 % a year)"));
    p.apy = apy.value_or(Decimal());
    p.payoutInterval = body.value(QLatin1String("payout_interval")).toString();
    if (Plan::intervalDays(p.payoutInterval) == 0)
        fail(QStringLiteral("payout_interval"), QStringLiteral("must be \"daily\", \"weekly\" or \"monthly\""));
    const std::optional<Decimal> minAmount = Decimal::fromJson(body.value(QLatin1String("min_amount")), &why);
    if (!minAmount)
        fail(QStringLiteral("min_amount"), why);
    else if (minAmount->signum() <= 0)
        fail(QStringLiteral("min_amount"), QStringLiteral("must be greater than zero"));
    p.minAmount = minAmount.value_or(Decimal());
    const QJsonValue lock = body.value(QLatin1String("lock_days"));
    const double lockDays = lock.toDouble(-1);
    if (!lock.isDouble() || lockDays != std::floor(lockDays) || lockDays < 0 || lockDays > 3650)
        fail(QStringLiteral("lock_days"), QStringLiteral("must be a whole number of days from 0 to 3650"));
    p.lockDays = int(lockDays);
    const QJsonValue currency = body.value(QLatin1String("currency"));
    if (!currency.isString()) {
        fail(QStringLiteral("currency"), QStringLiteral("is required: a currency code"));
    } else {
        const CurrencyLookup found = co_await m_currencies.find(currency.toString());
        if (found.error)
            co_return problemFor(found.error).toResponse();
        if (!found.currency) {
            fail(QStringLiteral("currency"), QStringLiteral("is not a known currency"));
        } else {
            p.currency = found.currency->code;
            p.decimals = found.currency->decimals;
            if (minAmount && minAmount->round(p.decimals) != *minAmount)
                fail(QStringLiteral("min_amount"), QStringLiteral("has more decimals than %1 has").arg(p.currency));
        }
    }
    if (!ok)
        co_return invalid.detail(QStringLiteral("One or more fields are invalid.")).toResponse();
    const QVariantList params{p.name, p.currency, p.apy.toString(), p.payoutInterval, p.minAmount.toString(), p.lockDays};
    const SqlResult r = co_await m_context.database().query(
        QStringLiteral("WITH p AS (INSERT INTO investments_plan (name, currency, apy, payout_interval, min_amount, lock_days) "
                       "VALUES (?, ?, ?::numeric, ?, ?::numeric, ?) RETURNING *) SELECT ")
            + planColumns() + QStringLiteral(" FROM p JOIN integrations_currency c ON c.code = p.currency"),
        params);
    if (r.error() || r.isEmpty())
        co_return problemFor(r.error()).toResponse();
    co_return HttpResponse::json(201, planFrom(r, 0).toJson());
}

} // namespace yieldhost::investments
