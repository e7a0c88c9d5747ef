#include "WalletRoutes.h"

#include "yieldhost/Ids.h"
#include "yieldhost/Paging.h"

#include <QtCore/QJsonArray>

namespace yieldhost::wallets {

namespace {

const QString WalletJoin = QStringLiteral(" FROM wallets_account a JOIN integrations_currency c ON c.code = a.currency ");

QJsonObject operation(const char *id, const char *description)
{
    return QJsonObject{{QStringLiteral("operationId"), QLatin1String(id)}, {QStringLiteral("description"), QLatin1String(description)},
                       {QStringLiteral("responses"), QJsonObject{{QStringLiteral("200"), QJsonObject{{QStringLiteral("description"), QStringLiteral("OK")}}}}}};
}

} // namespace

HttpResponse WalletRoutes::notFound()
{
    return Problem::make(404).detail(QStringLiteral("No such wallet.")).toResponse();
}

void WalletRoutes::registerRoutes()
{
    m_context.addRoute(HttpMethod::Get, QStringLiteral("/api/v1/wallets"), [this](HttpRequest r) { return list(std::move(r)); })
        .summary(QStringLiteral("The caller's wallets"))
        .openapi(operation("listWallets", "The caller's wallets, by currency: {\"results\":[{\"id\",\"currency\",\"balance\",\"address\",\"created_at\"}],\"next\"}."));
    m_context.addRoute(HttpMethod::Post, QStringLiteral("/api/v1/wallets"), [this](HttpRequest r) { return create(std::move(r)); })
        .summary(QStringLiteral("Open a wallet in a currency"))
        .openapi(operation("createWallet", "{\"currency\"} -> 201 wallet (crypto wallets get a deposit address); 409 when the caller has one in "
                                           "that currency; 422 unknown currency."));
    m_context.addRoute(HttpMethod::Get, QStringLiteral("/api/v1/wallets/{id}"), [this](HttpRequest r) { return get(std::move(r)); })
        .summary(QStringLiteral("One of the caller's wallets"))
        .openapi(operation("getWallet", "The wallet; 404 when it is not the caller's."));
    m_context.addRoute(HttpMethod::Get, QStringLiteral("/api/v1/wallets/{id}/transactions"), [this](HttpRequest r) { return transactions(std::move(r)); })
        .summary(QStringLiteral("A wallet's movements, newest first"))
        .openapi(operation("walletTransactions", "Entries of the wallet, newest first: {\"id\" (the ledger transaction), \"kind\", \"amount\" (signed: "
                                                 "negative for money leaving), \"balance_after\", \"reference\", \"status\", \"created_at\"}; paged."));
}

QCoro::Task<HttpResponse> WalletRoutes::list(HttpRequest request)
{
    Problem problem;
    const std::optional<PageRequest> page = PageRequest::fromRequest(request, &problem);
    if (!page)
        co_return problem.toResponse();
    const int limit = page->limit;
    const QVariantList params{request.user()->id, page->after.value(QLatin1String("currency")).toString(), limit + 1};
    const SqlResult r = co_await m_context.database().query(QStringLiteral("SELECT ") + LedgerStore::accountColumns() + WalletJoin
                                                                + QStringLiteral("WHERE a.user_id = ?::uuid AND a.currency > coalesce(?, '') ORDER BY a.currency LIMIT ?"),
                                                            params);
    if (r.error())
        co_return problemFor(r.error()).toResponse();
    QJsonArray results;
    for (qsizetype i = 0; i < std::min<qsizetype>(r.size(), limit); ++i)
        results.append(LedgerStore::walletJson(LedgerStore::accountFrom(r, i)));
    std::optional<QJsonObject> next;
    if (r.size() > limit)
        next = QJsonObject{{QStringLiteral("currency"), r.string(limit - 1, QStringLiteral("currency"))}};
    co_return HttpResponse::json(200, page->reply(results, next));
}

QCoro::Task<HttpResponse> WalletRoutes::create(HttpRequest request)
{
    if (!request.json().isObject())
        co_return Problem::badRequest(QStringLiteral("The body must be a JSON object: {\"currency\": \"EUR\"}.")).toResponse();
    const QJsonValue currency = request.json().toObject().value(QLatin1String("currency"));
    if (!currency.isString() || currency.toString().isEmpty())
        co_return Problem::make(422).detail(QStringLiteral("One or more fields are invalid.")).field(QStringLiteral("currency"), QStringLiteral("is required: a currency code such as EUR")).toResponse();
    const QString userId = request.user()->id;
    LedgerAccountLookup made;
    auto work = [&](SqlTransaction &tx) -> Status {
        made = m_ledger.walletIn(tx, userId, currency.toString(), true);
        return made.account ? Status{} : Status::failure(made.failure.isEmpty() ? made.error.message : made.failure);
    };
    const TransactionOutcome outcome = co_await m_context.database().transaction(std::move(work));
    if (!made.error && !made.account)
        co_return Problem::make(422).detail(QStringLiteral("One or more fields are invalid.")).field(QStringLiteral("currency"), QStringLiteral("is not a known currency (GET /api/v1/currencies lists them)")).toResponse();
    if (!outcome.committed)
        co_return problemFor(outcome.error ? outcome.error : made.error).toResponse();
    if (!made.created)
        co_return Problem::make(409)
            .type(QStringLiteral("wallet-exists"))
            .title(QStringLiteral("Wallet exists"))
            .detail(QStringLiteral("You already have a %1 wallet (%2).").arg(made.account->currency, made.account->id))
            .toResponse();
    co_return HttpResponse::json(201, LedgerStore::walletJson(*made.account));
}

QCoro::Task<HttpResponse> WalletRoutes::get(HttpRequest request)
{
    const QString id = request.pathParam(QStringLiteral("id"));
    if (!isUuid(id))
        co_return notFound();
    const QVariantList params{id, request.user()->id};
    const SqlResult r = co_await m_context.database().query(QStringLiteral("SELECT ") + LedgerStore::accountColumns() + WalletJoin
                                                                + QStringLiteral("WHERE a.id = ?::uuid AND a.user_id = ?::uuid"),
                                                            params);
    if (r.error())
        co_return problemFor(r.error()).toResponse();
    if (r.isEmpty())
        co_return notFound();
    co_return HttpResponse::json(200, LedgerStore::walletJson(LedgerStore::accountFrom(r, 0)));
}

QCoro::Task<HttpResponse> WalletRoutes::transactions(HttpRequest request)
{
    const QString id = request.pathParam(QStringLiteral("id"));
    if (!isUuid(id))
        co_return notFound();
    Problem problem;
    const std::optional<PageRequest> page = PageRequest::fromRequest(request, &problem);
    if (!page)
        co_return problem.toResponse();
    const int limit = page->limit;
    const qint64 before = page->after.contains(QLatin1String("id")) ? page->after.value(QLatin1String("id")).toInteger() : std::numeric_limits<qint64>::max();
    // The wallet check and the page in one statement: no rows and no wallet are told apart by `w`.
    const QVariantList params{id, request.user()->id, before, limit + 1};
    const SqlResult r = co_await m_context.database().query(
        QStringLiteral("WITH w AS (SELECT a.id, c.decimals FROM wallets_account a JOIN integrations_currency c ON c.code = a.currency "
                       "           WHERE a.id = ?::uuid AND a.user_id = ?::uuid) "
                       "SELECT 'w' AS part, w.decimals, NULL::bigint AS entry, NULL::text AS transaction_id, NULL::text AS kind, NULL::numeric AS amount, "
                       "       NULL::numeric AS balance_after, NULL::text AS reference, NULL::timestamptz AS created_at FROM w "
                       "UNION ALL (SELECT 'e', w.decimals, e.id, e.transaction_id::text, e.kind, e.amount, e.balance_after, t.reference, e.created_at "
                       "  FROM w JOIN wallets_entry e ON e.account_id = w.id JOIN wallets_transaction t ON t.id = e.transaction_id "
                       "  WHERE e.id < ? ORDER BY e.id DESC LIMIT ?) "
                       "ORDER BY part DESC, entry DESC"),
        params);
    if (r.error())
        co_return problemFor(r.error()).toResponse();
    if (r.isEmpty())
        co_return notFound();
    const int decimals = int(r.integer(0, QStringLiteral("decimals")));
    QJsonArray results;
    qint64 lastId = 0;
    for (qsizetype i = 1; i < r.size() && results.size() < limit; ++i) {
        LedgerEntry e;
        e.id = r.integer(i, QStringLiteral("entry"));
        e.transactionId = r.string(i, QStringLiteral("transaction_id"));
        e.kind = r.string(i, QStringLiteral("kind"));
        e.amount = r.decimal(i, QStringLiteral("amount")).value_or(Decimal());
        e.balanceAfter = r.decimal(i, QStringLiteral("balance_after")).value_or(Decimal());
        e.reference = r.string(i, QStringLiteral("reference"));
        e.createdAt = r.value(i, QStringLiteral("created_at")).toDateTime().toUTC();
        results.append(LedgerStore::entryJson(e, decimals));
        lastId = e.id;
    }
    std::optional<QJsonObject> next;
    if (r.size() - 1 > limit)
        next = QJsonObject{{QStringLiteral("id"), lastId}};
    co_return HttpResponse::json(200, page->reply(results, next));
}

} // namespace yieldhost::wallets
