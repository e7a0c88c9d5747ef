#include "PositionRoutes.h"

#include "PlanRoutes.h"

#include "yieldhost/Events.h"
#include "yieldhost/Idempotency.h"
#include "yieldhost/Ids.h"
#include "yieldhost/Outbox.h"
#include "yieldhost/Paging.h"

#include <QtCore/QJsonArray>

namespace yieldhost::investments {

namespace {

QString rfc3339(const QDateTime &t)
{
    return t.toUTC().toString(Qt::ISODateWithMs);
}

HttpResponse notFound()
{
    return Problem::make(404).detail(QStringLiteral("No such investment.")).toResponse();
}

HttpResponse invalidField(const QString &field, const QString &message)
{
    return Problem::make(422).detail(QStringLiteral("One or more fields are invalid.")).field(field, message).toResponse();
}

HttpResponse ledgerRefusal(const PluginContext &context, const LedgerResult &r)
{
    if (r.outcome == LedgerResult::Outcome::InsufficientFunds)
        return Problem::make(409).type(QStringLiteral("insufficient-funds")).title(QStringLiteral("Insufficient funds")).detail(r.detail).toResponse();
    if (r.outcome == LedgerResult::Outcome::Failed)
        return problemFor(r.error).toResponse();
    if (r.outcome == LedgerResult::Outcome::OutOfRange)
        return invalidField(QStringLiteral("amount"), r.detail);
    qCWarning(context.log()).noquote() << "the ledger refused a posting:" << r.detail;
    return Problem::make(500).detail(QStringLiteral("The movement could not be recorded.")).toResponse();
}

} // namespace

const QString &Position::columns()
{
    static const QString columns = QStringLiteral(
        "p.id::text AS id, p.user_id::text AS user_id, p.plan_id::text AS plan_id, p.wallet_id::text AS wallet_id, p.currency, "
        "p.amount_invested, p.apy, p.interval_days, p.decimals, p.yield_paid, p.last_period, p.opened_at, p.unlocks_at, p.status, p.redeemed_at");
    return columns;
}

Position Position::from(const SqlResult &r, qsizetype row)
{
    Position p;
    p.id = r.string(row, QStringLiteral("id"));
    p.userId = r.string(row, QStringLiteral("user_id"));
    p.planId = r.string(row, QStringLiteral("plan_id"));
    p.walletId = r.string(row, QStringLiteral("wallet_id"));
    p.currency = r.string(row, QStringLiteral("currency"));
    p.amountInvested = r.decimal(row, QStringLiteral("amount_invested")).value_or(Decimal());
    p.apy = r.decimal(row, QStringLiteral("apy")).value_or(Decimal());
    p.intervalDays = int(r.integer(row, QStringLiteral("interval_days")));
    p.decimals = int(r.integer(row, QStringLiteral("decimals")));
    p.yieldPaid = r.decimal(row, QStringLiteral("yield_paid")).value_or(Decimal());
    p.lastPeriod = int(r.integer(row, QStringLiteral("last_period")));
    p.openedAt = r.value(row, QStringLiteral("opened_at")).toDateTime().toUTC();
    p.unlocksAt = r.value(row, QStringLiteral("unlocks_at")).toDateTime().toUTC();
    p.status = r.string(row, QStringLiteral("status"));
    if (!r.isNull(row, QStringLiteral("redeemed_at")))
        p.redeemedAt = r.value(row, QStringLiteral("redeemed_at")).toDateTime().toUTC();
    return p;
}

QJsonObject Position::toJson() const
{
    return QJsonObject{{QStringLiteral("id"), id},
                       {QStringLiteral("plan_id"), planId},
                       {QStringLiteral("wallet_id"), walletId},
                       {QStringLiteral("currency"), currency},
                       {QStringLiteral("amount_invested"), amountInvested.toString(decimals)},
                       {QStringLiteral("yield_paid"), yieldPaid.toString(decimals)},
                       {QStringLiteral("status"), status},
                       {QStringLiteral("opened_at"), rfc3339(openedAt)},
                       {QStringLiteral("unlocks_at"), rfc3339(unlocksAt)},
                       {QStringLiteral("redeemed_at"), redeemedAt.isValid() ? QJsonValue(rfc3339(redeemedAt)) : QJsonValue()}};
}

void PositionRoutes::registerRoutes()
{
    m_context.addRoute(HttpMethod::Post, QStringLiteral("/api/v1/investments"), [this](HttpRequest r) { return invest(std::move(r)); })
        .idempotent()
        .summary(QStringLiteral("Invest from a wallet into a plan"));
    m_context.addRoute(HttpMethod::Get, QStringLiteral("/api/v1/investments"), [this](HttpRequest r) { return list(std::move(r)); })
        .summary(QStringLiteral("The caller's positions, newest first"));
    m_context.addRoute(HttpMethod::Get, QStringLiteral("/api/v1/investments/{id}"), [this](HttpRequest r) { return get(std::move(r)); })
        .summary(QStringLiteral("One of the caller's positions"));
    m_context.addRoute(HttpMethod::Post, QStringLiteral("/api/v1/investments/{id}/redeem"), [this](HttpRequest r) { return redeem(std::move(r)); })
        .idempotent()
        .summary(QStringLiteral("Redeem a position after its lock: the principal goes back to its wallet"));
    m_context.addRoute(HttpMethod::Get, QStringLiteral("/api/v1/investments/{id}/yields"), [this](HttpRequest r) { return yields(std::move(r)); })
        .summary(QStringLiteral("The yield paid on a position, newest first"));
}

QCoro::Task<HttpResponse> PositionRoutes::invest(HttpRequest request)
{
    Problem problem;
    const std::optional<IdempotencyKey> key = IdempotencyKey::fromRequest(request, &problem);
    if (!key)
        co_return problem.toResponse();
    if (!request.json().isObject())
        co_return Problem::badRequest(QStringLiteral("The body must be a JSON object: {\"plan_id\",\"wallet_id\",\"amount\"}.")).toResponse();
    const QJsonObject body = request.json().toObject();
    ProblemBuilder invalid(422);
    bool ok = true;
    QString why;
    const std::optional<Decimal> amount = Decimal::fromJson(body.value(QLatin1String("amount")), &why);
    if (!amount) {
        invalid.field(QStringLiteral("amount"), body.contains(QLatin1String("amount")) ? why : QStringLiteral("is required"));
        ok = false;
    } else if (amount->signum() <= 0) {
        invalid.field(QStringLiteral("amount"), QStringLiteral("must be greater than zero"));
        ok = false;
    }
    const QString planId = body.value(QLatin1String("plan_id")).toString();
    const QString walletId = body.value(QLatin1String("wallet_id")).toString();
    if (!body.value(QLatin1String("plan_id")).isString() || planId.isEmpty()) {
        invalid.field(QStringLiteral("plan_id"), QStringLiteral("is required"));
        ok = false;
    }
    if (!body.value(QLatin1String("wallet_id")).isString() || walletId.isEmpty()) {
        invalid.field(QStringLiteral("wallet_id"), QStringLiteral("is required"));
        ok = false;
    }
    if (!ok)
        co_return invalid.detail(QStringLiteral("One or more fields are invalid.")).toResponse();
    const QString userId = request.user()->id;
    auto work = [&](SqlTransaction &tx) -> HttpResponse {
        if (!isUuid(planId))
            return invalidField(QStringLiteral("plan_id"), QStringLiteral("is not a plan"));
        const SqlResult planRow = tx.exec(QStringLiteral("SELECT ") + PlanRoutes::planColumns()
                                              + QStringLiteral(" FROM investments_plan p JOIN integrations_currency c ON c.code = p.currency WHERE p.id = ?::uuid"),
                                          {planId});
        if (planRow.error())
            return problemFor(planRow.error()).toResponse();
        if (planRow.isEmpty())
            return invalidField(QStringLiteral("plan_id"), QStringLiteral("is not a plan"));
        const Plan plan = PlanRoutes::planFrom(planRow, 0);
        const LedgerAccountLookup wallet = m_ledger.accountIn(tx, walletId);
        if (wallet.error)
            return problemFor(wallet.error).toResponse();
        if (!wallet.account || wallet.account->userId != userId)
            return Problem::make(404).detail(QStringLiteral("No such wallet.")).toResponse();
        if (wallet.account->currency != plan.currency)
            return invalidField(QStringLiteral("wallet_id"), QStringLiteral("holds %1; the plan invests %2").arg(wallet.account->currency, plan.currency));
        if (*amount < plan.minAmount)
            return invalidField(QStringLiteral("amount"), QStringLiteral("is below the plan's minimum of %1 %2").arg(plan.minAmount.toString(plan.decimals), plan.currency));
        if (amount->round(plan.decimals) != *amount)
            return invalidField(QStringLiteral("amount"), QStringLiteral("has more decimals than %1 has (%2)").arg(plan.currency).arg(plan.decimals));
        const LedgerAccountLookup held = m_ledger.systemAccountIn(tx, QStringLiteral("investments"), plan.currency);
        if (!held.account)
            return problemFor(held.error).toResponse();
        const LedgerPosting posting{QStringLiteral("investment"), plan.name, QJsonObject{{QStringLiteral("plan_id"), plan.id}},
                                    {LedgerLeg{wallet.account->id, amount->negated(), QStringLiteral("investment")},
                                     LedgerLeg{held.account->id, *amount, QStringLiteral("investment")}}};
        const LedgerResult posted = m_ledger.postIn(tx, {posting});
        if (!posted)
            return ledgerRefusal(m_context, posted);
        // Opened now (host clock); interest starts the next UTC day; the first period ends
        // interval days after that.
        const SqlResult inserted = tx.exec(
            QStringLiteral("WITH p AS (INSERT INTO investments_position (user_id, plan_id, wallet_id, currency, amount_invested, apy, interval_days, decimals, "
                           "opened_at, unlocks_at, next_due_on) "
                           "SELECT ?::uuid, ?::uuid, ?::uuid, ?, ?::numeric, ?::numeric, ?, ?, host_now(), host_now() + make_interval(days => ?::integer), "
                           "(host_now() AT TIME ZONE 'UTC')::date + 1 + ?::integer RETURNING *) SELECT ")
                + Position::columns() + QStringLiteral(" FROM p"),
            {userId, plan.id, wallet.account->id, plan.currency, amount->toString(plan.decimals), plan.apy.toString(), plan.intervalDays(),
             plan.decimals, plan.lockDays, plan.intervalDays()});
        if (inserted.error() || inserted.isEmpty())
            return problemFor(inserted.error()).toResponse();
        const Position position = Position::from(inserted, 0);
        if (const DbError published = publishIn(tx, topics::PortfolioChanged, userId, QJsonObject{{QStringLiteral("reason"), QStringLiteral("invested")}}))
            return problemFor(published).toResponse();
        return HttpResponse::json(201, position.toJson());
    };
    co_return co_await idempotentTransaction(m_context.database(), *key, work);
}

QCoro::Task<HttpResponse> PositionRoutes::list(HttpRequest request)
{
    Problem problem;
    const std::optional<PageRequest> page = PageRequest::fromRequest(request, &problem);
    if (!page)
        co_return problem.toResponse();
    const QString status = request.queryItem(QStringLiteral("status"));
    if (!status.isEmpty() && status != QLatin1String("active") && status != QLatin1String("redeemed"))
        co_return Problem::make(422).detail(QStringLiteral("One or more query parameters are invalid."))
            .field(QStringLiteral("status"), QStringLiteral("must be \"active\" or \"redeemed\"")).toResponse();
    const int limit = page->limit;
    // Newest first; the cursor carries the last row's (opened_at, id).
    const QString afterAt = page->after.value(QLatin1String("at")).toString();
    const QString afterId = page->after.value(QLatin1String("id")).toString();
    const QVariantList params{request.user()->id, status, status, afterAt.isEmpty() ? QStringLiteral("infinity") : afterAt,
                              afterId.isEmpty() ? QStringLiteral("ffffffff-ffff-ffff-ffff-ffffffffffff") : afterId, limit + 1};
    const SqlResult r = co_await m_context.database().query(
        QStringLiteral("SELECT ") + Position::columns() + QStringLiteral(", p.opened_at::text AS at FROM investments_position p "
                                                                         "WHERE p.user_id = ?::uuid AND (coalesce(?, '') = '' OR p.status = ?) "
                                                                         "AND (p.opened_at, p.id) < (?::timestamptz, ?::uuid) ORDER BY p.opened_at DESC, p.id DESC LIMIT ?"),
        params);
    if (r.error())
        co_return problemFor(r.error()).toResponse();
    QJsonArray results;
    for (qsizetype i = 0; i < std::min<qsizetype>(r.size(), limit); ++i)
        results.append(Position::from(r, i).toJson());
    std::optional<QJsonObject> next;
    if (r.size() > limit)
        next = QJsonObject{{QStringLiteral("at"), r.string(limit - 1, QStringLiteral("at"))}, {QStringLiteral("id"), r.string(limit - 1, QStringLiteral("id"))}};
    co_return HttpResponse::json(200, page->reply(results, next));
}

QCoro::Task<HttpResponse> PositionRoutes::get(HttpRequest request)
{
    const QString id = request.pathParam(QStringLiteral("id"));
    if (!isUuid(id))
        co_return notFound();
    const QVariantList params{id, request.user()->id};
    const SqlResult r = co_await m_context.database().query(QStringLiteral("SELECT ") + Position::columns()
                                                                + QStringLiteral(" FROM investments_position p WHERE p.id = ?::uuid AND p.user_id = ?::uuid"),
                                                            params);
    if (r.error())
        co_return problemFor(r.error()).toResponse();
    if (r.isEmpty())
        co_return notFound();
    co_return HttpResponse::json(200, Position::from(r, 0).toJson());
}

QCoro::Task<HttpResponse> PositionRoutes::redeem(HttpRequest request)
{
    Problem problem;
    const std::optional<IdempotencyKey> key = IdempotencyKey::fromRequest(request, &problem);
    if (!key)
        co_return problem.toResponse();
    const QString id = request.pathParam(QStringLiteral("id"));
    const QString userId = request.user()->id;
    auto work = [&](SqlTransaction &tx) -> HttpResponse {
        if (!isUuid(id))
            return notFound();
        const SqlResult row = tx.exec(QStringLiteral("SELECT ") + Position::columns()
                                          + QStringLiteral(", host_now() < p.unlocks_at AS locked FROM investments_position p "
                                                           "WHERE p.id = ?::uuid AND p.user_id = ?::uuid FOR UPDATE"),
                                      {id, userId});
        if (row.error())
            return problemFor(row.error()).toResponse();
        if (row.isEmpty())
            return notFound();
        const Position position = Position::from(row, 0);
        if (position.status != QLatin1String("active"))
            return Problem::make(409).type(QStringLiteral("position-state")).title(QStringLiteral("Already redeemed"))
                .detail(QStringLiteral("This investment was redeemed at %1.").arg(rfc3339(position.redeemedAt))).toResponse();
        if (row.value(0, QStringLiteral("locked")).toBool())
            return Problem::make(409).type(QStringLiteral("position-locked")).title(QStringLiteral("Still locked"))
                .detail(QStringLiteral("This investment can be redeemed from %1.").arg(rfc3339(position.unlocksAt))).toResponse();
        const LedgerAccountLookup held = m_ledger.systemAccountIn(tx, QStringLiteral("investments"), position.currency);
        if (!held.account)
            return problemFor(held.error).toResponse();
        const LedgerPosting posting{QStringLiteral("redemption"), QString(), QJsonObject{{QStringLiteral("position_id"), position.id}},
                                    {LedgerLeg{held.account->id, position.amountInvested.negated(), QStringLiteral("redemption")},
                                     LedgerLeg{position.walletId, position.amountInvested, QStringLiteral("redemption")}}};
        const LedgerResult posted = m_ledger.postIn(tx, {posting});
        if (!posted)
            return ledgerRefusal(m_context, posted);
        // Periods that ended by today stay due (the yield job pays them); later ones never come.
        const SqlResult updated = tx.exec(QStringLiteral("WITH p AS (UPDATE investments_position SET status = 'redeemed', redeemed_at = host_now(), "
                                                         "next_due_on = CASE WHEN next_due_on <= (host_now() AT TIME ZONE 'UTC')::date THEN next_due_on END "
                                                         "WHERE id = ?::uuid RETURNING *) SELECT ")
                                              + Position::columns() + QStringLiteral(" FROM p"),
                                          {id});
        if (updated.error() || updated.isEmpty())
            return problemFor(updated.error()).toResponse();
        if (const DbError published = publishIn(tx, topics::PortfolioChanged, userId, QJsonObject{{QStringLiteral("reason"), QStringLiteral("redeemed")}}))
            return problemFor(published).toResponse();
        return HttpResponse::json(200, Position::from(updated, 0).toJson());
    };
    co_return co_await idempotentTransaction(m_context.database(), *key, work);
}

QCoro::Task<HttpResponse> PositionRoutes::yields(HttpRequest request)
{
    const QString id = request.pathParam(QStringLiteral("id"));
    if (!isUuid(id))
        co_return notFound();
    Problem problem;
    const std::optional<PageRequest> page = PageRequest::fromRequest(request, &problem);
    if (!page)
        co_return problem.toResponse();
    const int limit = page->limit;
    const qint64 before = page->after.contains(QLatin1String("period")) ? page->after.value(QLatin1String("period")).toInteger() : std::numeric_limits<int>::max();
    const QVariantList params{id, request.user()->id, before, limit + 1};
    const SqlResult r = co_await m_context.database().query(
        QStringLiteral("WITH p AS (SELECT id, decimals FROM investments_position WHERE id = ?::uuid AND user_id = ?::uuid) "
                       "SELECT 'p' AS part, p.decimals, NULL::text AS id, NULL::integer AS period_index, NULL::text AS period_start, NULL::text AS period_end, "
                       "       NULL::numeric AS amount, NULL::text AS currency, NULL::text AS tx_hash FROM p "
                       "UNION ALL (SELECT 'y', p.decimals, y.id::text, y.period_index, y.period_start::text, y.period_end::text, y.amount, y.currency, y.tx_hash "
                       "  FROM p JOIN investments_yield y ON y.position_id = p.id WHERE y.period_index < ? ORDER BY y.period_index DESC LIMIT ?) "
                       "ORDER BY part, period_index DESC"),
        params);
    if (r.error())
        co_return problemFor(r.error()).toResponse();
    if (r.isEmpty() || r.string(0, QStringLiteral("part")) != QLatin1String("p"))
        co_return notFound();
    const int decimals = int(r.integer(0, QStringLiteral("decimals")));
    QJsonArray results;
    qint64 last = 0;
    for (qsizetype i = 1; i < r.size() && results.size() < limit; ++i) {
        const std::optional<Decimal> amount = r.decimal(i, QStringLiteral("amount"));
        results.append(QJsonObject{{QStringLiteral("id"), r.string(i, QStringLiteral("id"))},
                                   {QStringLiteral("period_start"), r.string(i, QStringLiteral("period_start"))},
                                   {QStringLiteral("period_end"), r.string(i, QStringLiteral("period_end"))},
                                   {QStringLiteral("amount"), amount.value_or(Decimal()).toString(decimals)},
                                   {QStringLiteral("currency"), r.string(i, QStringLiteral("currency"))},
                                   {QStringLiteral("tx_hash"), r.isNull(i, QStringLiteral("tx_hash")) ? QJsonValue() : QJsonValue(r.string(i, QStringLiteral("tx_hash")))},
                                   {QStringLiteral("status"), QStringLiteral("paid")}});
        last = r.integer(i, QStringLiteral("period_index"));
    }
    std::optional<QJsonObject> next;
    if (r.size() - 1 > limit)
        next = QJsonObject{{QStringLiteral("period"), last}};
    co_return HttpResponse::json(200, page->reply(results, next));
}

} // namespace yieldhost::investments
