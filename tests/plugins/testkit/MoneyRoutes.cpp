#include "MoneyRoutes.h"

#include "yieldhost/Idempotency.h"

using namespace yieldhost;

namespace {

QCoro::Task<HttpResponse> move(Database &db, HttpRequest req)
{
    Problem problem;
    const std::optional<IdempotencyKey> key = IdempotencyKey::fromRequest(req, &problem);
    if (!key)
        co_return problem.toResponse();
    const QJsonObject body = req.json().toObject();
    QString why;
    const std::optional<Decimal> amount = Decimal::fromJson(body.value(QLatin1String("amount")), &why);
    if (!amount)
        co_return Problem::validation({{QStringLiteral("amount"), {why}}}).toResponse();
    const bool slow = body.value(QLatin1String("slow")).toBool();
    const QString userId = req.user()->id;
    auto work = [&](SqlTransaction &tx) -> HttpResponse {
        if (slow)
            tx.exec(QStringLiteral("SELECT pg_sleep(0.2)"));
        const SqlResult account = tx.exec(QStringLiteral("INSERT INTO testkit_account (user_id) VALUES (?) ON CONFLICT DO NOTHING"), {userId});
        if (account.error())
            return problemFor(account.error()).toResponse();
        const SqlResult moved = tx.exec(QStringLiteral(
            "UPDATE testkit_account SET balance = balance + ?::numeric WHERE user_id = ? AND balance + ?::numeric >= 0 RETURNING balance::text AS balance"),
            {amount->toString(), userId, amount->toString()});
        if (moved.error())
            return problemFor(moved.error()).toResponse();
        if (moved.isEmpty())
            return Problem::make(409).type(QStringLiteral("insufficient-funds")).title(QStringLiteral("Insufficient funds"))
                .detail(QStringLiteral("The balance cannot go below zero.")).toResponse();
        const SqlResult movement = tx.exec(QStringLiteral("INSERT INTO testkit_movement (user_id, amount) VALUES (?, ?::numeric) RETURNING id"),
                                           {userId, amount->toString()});
        if (movement.error())
            return problemFor(movement.error()).toResponse();
        return HttpResponse::json(201, QJsonObject{{QStringLiteral("movement"), QString::number(movement.integer(0, QStringLiteral("id")))},
                                                   {QStringLiteral("balance"), moved.string(0, QStringLiteral("balance"))}});
    };
    co_return co_await idempotentTransaction(db, *key, work);
}

} // namespace

void registerMoneyRoutes(PluginContext &context)
{
    Database &db = context.database();
    context.addRoute(HttpMethod::Post, QStringLiteral("/test/money/move"), [&db](HttpRequest req) { return move(db, std::move(req)); })
        .auth(AuthLevel::User)
        .idempotent()
        .summary(QStringLiteral("Moves the caller's toy balance (idempotency tests)"));
}
