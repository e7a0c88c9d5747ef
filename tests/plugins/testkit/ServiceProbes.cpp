#include "ServiceProbes.h"

#include "yieldhost/Services.h"

#include <QtCore/QJsonArray>

using namespace yieldhost;

namespace {

HttpResponse missing(const char *service)
{
    return Problem::make(503).detail(QStringLiteral("No %1 service is provided.").arg(QLatin1String(service))).retryAfter(5).toResponse();
}

// {"payments":[{"reference","user_id","currency","amount"}]} or, for big batches,
// {"count":N,"prefix":"r","user_id","currency","amount"}: references prefix0..prefixN-1.
std::optional<QList<SettlementPayment>> paymentsOf(const QJsonObject &body)
{
    QList<SettlementPayment> payments;
    const auto payment = [](const QString &reference, const QJsonObject &o) -> std::optional<SettlementPayment> {
        const std::optional<Decimal> amount = Decimal::fromString(o.value(QLatin1String("amount")).toString());
        if (!amount)
            return std::nullopt;
        return SettlementPayment{reference, o.value(QLatin1String("user_id")).toString(), o.value(QLatin1String("currency")).toString(), *amount};
    };
    if (body.contains(QLatin1String("count"))) {
        const int count = body.value(QLatin1String("count")).toInt();
        const QString prefix = body.value(QLatin1String("prefix")).toString(QStringLiteral("r"));
        for (int i = 0; i < count; ++i) {
            const std::optional<SettlementPayment> p = payment(prefix + QString::number(i), body);
            if (!p)
                return std::nullopt;
            payments.append(*p);
        }
        return payments;
    }
    for (const QJsonValue &v : body.value(QLatin1String("payments")).toArray()) {
        const QJsonObject o = v.toObject();
        const std::optional<SettlementPayment> p = payment(o.value(QLatin1String("reference")).toString(), o);
        if (!p)
            return std::nullopt;
        payments.append(*p);
    }
    return payments;
}

QCoro::Task<HttpResponse> submit(PluginContext &context, HttpRequest req)
{
    Settlement *settlement = context.service<Settlement>();
    if (!settlement)
        co_return missing("Settlement");
    const QJsonObject body = req.json().toObject();
    const std::optional<QList<SettlementPayment>> payments = paymentsOf(body);
    if (!payments)
        co_return Problem::make(422).detail(QStringLiteral("Every payment needs a decimal string amount.")).toResponse();
    const bool rollback = body.value(QLatin1String("rollback")).toBool();
    SettlementSubmission submitted;
    auto work = [&](SqlTransaction &tx) -> Status {
        submitted = settlement->submitIn(tx, *payments);
        if (!submitted)
            return Status::failure(submitted.failure.isEmpty() ? submitted.error.message : submitted.failure);
        if (rollback)
            return Status::failure(QStringLiteral("rolled back on request"));
        return {};
    };
    const TransactionOutcome outcome = co_await context.database().transaction(std::move(work));
    QJsonArray receipts;
    for (const SettlementReceipt &r : std::as_const(submitted.receipts))
        receipts.append(QJsonObject{{QStringLiteral("reference"), r.reference}, {QStringLiteral("tx_hash"), r.txHash}, {QStringLiteral("status"), r.status}});
    if (!submitted)
        co_return Problem::make(422).detail(submitted.failure.isEmpty() ? submitted.error.message : submitted.failure).toResponse();
    if (!outcome.committed && !rollback)
        co_return problemFor(outcome.error).toResponse();
    co_return HttpResponse::json(200, QJsonObject{{QStringLiteral("receipts"), receipts}, {QStringLiteral("rolled_back"), !outcome.committed}});
}

QCoro::Task<HttpResponse> status(PluginContext &context, HttpRequest req)
{
    Settlement *settlement = context.service<Settlement>();
    if (!settlement)
        co_return missing("Settlement");
    const SettlementLookup found = co_await settlement->status(req.pathParam(QStringLiteral("hash")));
    if (found.error)
        co_return problemFor(found.error).toResponse();
    if (!found.record)
        co_return Problem::make(404).detail(QStringLiteral("No settlement has this hash.")).toResponse();
    const SettlementRecord &s = *found.record;
    co_return HttpResponse::json(200, QJsonObject{{QStringLiteral("tx_hash"), s.txHash},
                                                  {QStringLiteral("reference"), s.reference},
                                                  {QStringLiteral("user_id"), s.userId},
                                                  {QStringLiteral("currency"), s.currency},
                                                  {QStringLiteral("amount"), s.amount.toString()},
                                                  {QStringLiteral("status"), s.status}});
}

QCoro::Task<HttpResponse> assign(PluginContext &context, HttpRequest req)
{
    Addresses *addresses = context.service<Addresses>();
    if (!addresses)
        co_return missing("Addresses");
    const QJsonObject body = req.json().toObject();
    const QString user = body.value(QLatin1String("user_id")).toString();
    const QString currency = body.value(QLatin1String("currency")).toString();
    AddressAssignment assigned;
    auto work = [&](SqlTransaction &tx) -> Status {
        assigned = addresses->assignIn(tx, user, currency);
        return assigned ? Status{} : Status::failure(assigned.failure.isEmpty() ? assigned.error.message : assigned.failure);
    };
    const TransactionOutcome outcome = co_await context.database().transaction(std::move(work));
    if (!assigned)
        co_return Problem::make(422).detail(assigned.failure.isEmpty() ? assigned.error.message : assigned.failure).toResponse();
    if (!outcome.committed)
        co_return problemFor(outcome.error).toResponse();
    co_return HttpResponse::json(200, QJsonObject{{QStringLiteral("address"), assigned.address.isEmpty() ? QJsonValue() : QJsonValue(assigned.address)}});
}

} // namespace

void registerServiceProbes(PluginContext &context)
{
    context.addRoute(HttpMethod::Post, QStringLiteral("/test/settlements"), [&context](HttpRequest r) { return submit(context, std::move(r)); })
        .auth(AuthLevel::Public);
    context.addRoute(HttpMethod::Get, QStringLiteral("/test/settlements/{hash}"), [&context](HttpRequest r) { return status(context, std::move(r)); })
        .auth(AuthLevel::Public);
    context.addRoute(HttpMethod::Post, QStringLiteral("/test/addresses"), [&context](HttpRequest r) { return assign(context, std::move(r)); })
        .auth(AuthLevel::Public);
}
