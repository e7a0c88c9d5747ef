#include "MovementRoutes.h"

#include "MovementReplies.h"
#include "WalletRoutes.h"

#include "yieldhost/Idempotency.h"
#include "yieldhost/Outbox.h"

#include <QtCore/QJsonArray>

namespace yieldhost::wallets {

namespace {

constexpr int MaxText = 200;

QJsonObject operation(const char *id, const char *description, const QJsonObject &properties, const QJsonArray &required)
{
    return QJsonObject{
        {QStringLiteral("operationId"), QLatin1String(id)},
        {QStringLiteral("description"), QLatin1String(description)},
        {QStringLiteral("requestBody"), QJsonObject{{QStringLiteral("required"), true},
                                                    {QStringLiteral("content"), QJsonObject{{QStringLiteral("application/json"), QJsonObject{{QStringLiteral("schema"), QJsonObject{
                                                         {QStringLiteral("type"), QStringLiteral("object")}, {QStringLiteral("required"), required}, {QStringLiteral("properties"), properties}}}}}}}}},
        {QStringLiteral("responses"), QJsonObject{{QStringLiteral("201"), QJsonObject{{QStringLiteral("description"), QStringLiteral("{\"transaction\",\"wallet\"}")}}},
                                                  {QStringLiteral("404"), QJsonObject{{QStringLiteral("description"), QStringLiteral("Not the caller's wallet")}}},
                                                  {QStringLiteral("409"), QJsonObject{{QStringLiteral("description"), QStringLiteral("Insufficient funds")}}},
                                                  {QStringLiteral("422"), QJsonObject{{QStringLiteral("description"), QStringLiteral("Invalid fields")}}}}},
    };
}

QJsonObject stringProperty(const char *description)
{
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}, {QStringLiteral("description"), QLatin1String(description)}};
}

// The most one movement may move. The deposits and withdrawals clearing accounts are shared by
// everyone in a currency: without a cap one client's huge deposits could push them past the 38
// digits a Decimal holds and refuse everybody's later deposits (docs/wallets.md).
const Decimal &maxAmount()
{
    static const Decimal max = *Decimal::fromString(u"1000000000000");
    return max;
}

// A positive money amount given as a JSON string, below maxAmount(); the currency's decimals are
// checked once the wallet is known (decimalsRefusal).
std::optional<Decimal> amountOf(const QJsonObject &body, ProblemBuilder *invalid)
{
    QString why;
    const std::optional<Decimal> amount = Decimal::fromJson(body.value(QLatin1String("amount")), &why);
    if (!amount) {
        invalid->field(QStringLiteral("amount"), body.contains(QLatin1String("amount")) ? why : QStringLiteral("is required"));
        return std::nullopt;
    }
    if (amount->signum() <= 0) {
        invalid->field(QStringLiteral("amount"), QStringLiteral("must be greater than zero"));
        return std::nullopt;
    }
    if (*amount >= maxAmount()) {
        invalid->field(QStringLiteral("amount"), QStringLiteral("must be less than %1 in one movement").arg(maxAmount().toString()));
        return std::nullopt;
    }
    return amount;
}

// An optional text field of at most MaxText characters; false (and a field error) when invalid.
bool optionalText(const QJsonObject &body, const QString &field, QString *value, ProblemBuilder *invalid, bool required = false)
{
    const QJsonValue v = body.value(field);
    if ((v.isUndefined() || v.isNull()) && !required)
        return true;
    if (!v.isString() || v.toString().size() > MaxText || (required && v.toString().trimmed().isEmpty())) {
        invalid->field(field, required ? QStringLiteral("is required: a string of 1 to %1 characters").arg(MaxText)
                                       : QStringLiteral("must be a string of at most %1 characters").arg(MaxText));
        return false;
    }
    *value = v.toString();
    return true;
}

HttpResponse ledgerFailure(const PluginContext &context, const LedgerResult &r)
{
    if (r.outcome == LedgerResult::Outcome::Failed)
        return problemFor(r.error).toResponse();
    if (r.outcome == LedgerResult::Outcome::OutOfRange)
        return replies::outOfRange(r.detail);
    qCWarning(context.log()).noquote() << "ledger refused a posting:" << r.detail;
    return Problem::make(500).detail(QStringLiteral("The movement could not be recorded.")).toResponse();
}

} // namespace

void MovementRoutes::registerRoutes()
{
    m_context.addRoute(HttpMethod::Post, QStringLiteral("/api/v1/wallets/{id}/deposit"), [this](HttpRequest r) { return deposit(std::move(r)); })
        .idempotent()
        .summary(QStringLiteral("Deposit into a wallet (sandbox mode)"))
        .openapi(operation("deposit", "Credits the wallet from the deposits clearing account. Only in sandbox mode: otherwise 403, as deposits "
                                      "arrive only from a payment integration.",
                           QJsonObject{{QStringLiteral("amount"), stringProperty("A positive decimal string, at most the currency's decimals")},
                                       {QStringLiteral("reference"), stringProperty("Shown with the movement (up to 200 characters)")}},
                           QJsonArray{QStringLiteral("amount")}));
    m_context.addRoute(HttpMethod::Post, QStringLiteral("/api/v1/wallets/{id}/withdraw"), [this](HttpRequest r) { return withdraw(std::move(r)); })
        .idempotent()
        .summary(QStringLiteral("Withdraw from a wallet"))
        .openapi(operation("withdraw", "Debits the wallet into the withdrawals clearing account; 409 insufficient-funds when it holds less.",
                           QJsonObject{{QStringLiteral("amount"), stringProperty("A positive decimal string, at most the currency's decimals")},
                                       {QStringLiteral("destination"), stringProperty("Where the money goes: an address or an account (up to 200 characters)")},
                                       {QStringLiteral("reference"), stringProperty("Shown with the movement (up to 200 characters)")}},
                           QJsonArray{QStringLiteral("amount"), QStringLiteral("destination")}));
    m_context.addRoute(HttpMethod::Post, QStringLiteral("/api/v1/transfers"), [this](HttpRequest r) { return transfer(std::move(r)); })
        .idempotent()
        .summary(QStringLiteral("Send money to another user"))
        .openapi(operation("transfer", "Moves money from one of the caller's wallets to the wallet of the account with `to_email` in the same "
                                       "currency (created if missing). 422 when no active account has that email or it is the caller's own; "
                                       "409 insufficient-funds.",
                           QJsonObject{{QStringLiteral("from_wallet"), stringProperty("The caller's wallet id")},
                                       {QStringLiteral("to_email"), stringProperty("The receiver's email")},
                                       {QStringLiteral("amount"), stringProperty("A positive decimal string, at most the currency's decimals")},
                                       {QStringLiteral("reference"), stringProperty("Shown with the movement (up to 200 characters)")}},
                           QJsonArray{QStringLiteral("from_wallet"), QStringLiteral("to_email"), QStringLiteral("amount")}));
}

QCoro::Task<HttpResponse> MovementRoutes::deposit(HttpRequest request)
{
    Problem problem;
    const std::optional<IdempotencyKey> key = IdempotencyKey::fromRequest(request, &problem);
    if (!key)
        co_return problem.toResponse();
    if (!m_sandbox)
        co_return Problem::make(403)
            .type(QStringLiteral("deposits-disabled"))
            .title(QStringLiteral("Deposits are disabled"))
            .detail(QStringLiteral("Outside sandbox mode deposits arrive only from a payment integration."))
            .toResponse();
    if (!request.json().isObject())
        co_return Problem::badRequest(QStringLiteral("The body must be a JSON object: {\"amount\": \"10.00\", \"reference\"?}.")).toResponse();
    const QJsonObject body = request.json().toObject();
    ProblemBuilder invalid(422);
    const std::optional<Decimal> amount = amountOf(body, &invalid);
    QString reference;
    const bool referenceOk = optionalText(body, QStringLiteral("reference"), &reference, &invalid);
    if (!amount || !referenceOk)
        co_return invalid.detail(QStringLiteral("One or more fields are invalid.")).toResponse();
    const QString walletId = request.pathParam(QStringLiteral("id"));
    const QString userId = request.user()->id;
    if (m_batcher) {
        MovementBatcher::Movement batched{MovementBatcher::Movement::Kind::Deposit, *key, walletId, *amount, reference, {}, {}};
        const std::optional<HttpResponse> reply = co_await m_batcher->submit(std::move(batched));
        if (reply)
            co_return *reply;
    }
    auto work = [&](SqlTransaction &tx) -> HttpResponse {
        const LedgerAccountLookup wallet = m_ledger.ownWalletIn(tx, walletId, userId, false);
        if (wallet.error)
            return problemFor(wallet.error).toResponse();
        if (!wallet.account)
            return WalletRoutes::notFound();
        if (std::optional<HttpResponse> refused = replies::decimalsRefusal(*amount, *wallet.account))
            return *refused;
        const LedgerAccountLookup clearing = m_ledger.systemAccountIn(tx, QStringLiteral("deposits"), wallet.account->currency);
        if (!clearing.account)
            return problemFor(clearing.error).toResponse();
        const LedgerPosting posting{QStringLiteral("deposit"), reference, QJsonObject{},
                                    {LedgerLeg{wallet.account->id, *amount, QStringLiteral("deposit")},
                                     LedgerLeg{clearing.account->id, amount->negated(), QStringLiteral("deposit")}}};
        const LedgerResult posted = m_ledger.postIn(tx, {posting});
        if (!posted)
            return ledgerFailure(m_context, posted);
        // What arrived, for the notifications plugin (a large deposit is worth telling about);
        // wallet.updated carries only the new balance.
        const QJsonObject deposited{{QStringLiteral("wallet_id"), wallet.account->id},
                                    {QStringLiteral("transaction_id"), posted.transactionIds.value(0)},
                                    {QStringLiteral("amount"), amount->toString(wallet.account->decimals)},
                                    {QStringLiteral("currency"), wallet.account->currency}};
        if (const DbError published = publishIn(tx, QStringLiteral("wallet.deposited"), userId, deposited))
            return problemFor(published).toResponse();
        return replies::moved(posted, wallet.account->id);
    };
    co_return co_await idempotentTransaction(m_context.database(), *key, work);
}

QCoro::Task<HttpResponse> MovementRoutes::withdraw(HttpRequest request)
{
    Problem problem;
    const std::optional<IdempotencyKey> key = IdempotencyKey::fromRequest(request, &problem);
    if (!key)
        co_return problem.toResponse();
    if (!request.json().isObject())
        co_return Problem::badRequest(QStringLiteral("The body must be a JSON object: {\"amount\": \"10.00\", \"destination\": \"...\"}.")).toResponse();
    const QJsonObject body = request.json().toObject();
    ProblemBuilder invalid(422);
    const std::optional<Decimal> amount = amountOf(body, &invalid);
    QString destination;
    QString reference;
    const bool destinationOk = optionalText(body, QStringLiteral("destination"), &destination, &invalid, true);
    const bool referenceOk = optionalText(body, QStringLiteral("reference"), &reference, &invalid);
    if (!amount || !destinationOk || !referenceOk)
        co_return invalid.detail(QStringLiteral("One or more fields are invalid.")).toResponse();
    const QString walletId = request.pathParam(QStringLiteral("id"));
    const QString userId = request.user()->id;
    if (m_batcher) {
        MovementBatcher::Movement batched{MovementBatcher::Movement::Kind::Withdrawal, *key, walletId, *amount, reference, {}, destination};
        const std::optional<HttpResponse> reply = co_await m_batcher->submit(std::move(batched));
        if (reply)
            co_return *reply;
    }
    auto work = [&](SqlTransaction &tx) -> HttpResponse {
        const LedgerAccountLookup wallet = m_ledger.ownWalletIn(tx, walletId, userId, false);
        if (wallet.error)
            return problemFor(wallet.error).toResponse();
        if (!wallet.account)
            return WalletRoutes::notFound();
        if (std::optional<HttpResponse> refused = replies::decimalsRefusal(*amount, *wallet.account))
            return *refused;
        const LedgerAccountLookup clearing = m_ledger.systemAccountIn(tx, QStringLiteral("withdrawals"), wallet.account->currency);
        if (!clearing.account)
            return problemFor(clearing.error).toResponse();
        const LedgerPosting posting{QStringLiteral("withdrawal"), reference, QJsonObject{{QStringLiteral("destination"), destination}},
                                    {LedgerLeg{wallet.account->id, amount->negated(), QStringLiteral("withdrawal")},
                                     LedgerLeg{clearing.account->id, *amount, QStringLiteral("withdrawal")}}};
        const LedgerResult posted = m_ledger.postIn(tx, {posting});
        if (posted.outcome == LedgerResult::Outcome::InsufficientFunds)
            return replies::insufficient(posted.detail);
        if (!posted)
            return ledgerFailure(m_context, posted);
        return replies::moved(posted, wallet.account->id);
    };
    co_return co_await idempotentTransaction(m_context.database(), *key, work);
}

QCoro::Task<HttpResponse> MovementRoutes::transfer(HttpRequest request)
{
    Problem problem;
    const std::optional<IdempotencyKey> key = IdempotencyKey::fromRequest(request, &problem);
    if (!key)
        co_return problem.toResponse();
    if (!request.json().isObject())
        co_return Problem::badRequest(QStringLiteral("The body must be a JSON object: {\"from_wallet\", \"to_email\", \"amount\"}.")).toResponse();
    const QJsonObject body = request.json().toObject();
    ProblemBuilder invalid(422);
    bool ok = true;
    const std::optional<Decimal> amount = amountOf(body, &invalid);
    const QJsonValue from = body.value(QLatin1String("from_wallet"));
    if (!from.isString() || from.toString().isEmpty()) {
        invalid.field(QStringLiteral("from_wallet"), QStringLiteral("is required: the id of one of your wallets"));
        ok = false;
    }
    const QJsonValue to = body.value(QLatin1String("to_email"));
    if (!to.isString() || to.toString().trimmed().isEmpty() || to.toString().size() > 254) {
        invalid.field(QStringLiteral("to_email"), QStringLiteral("is required: the receiver's email"));
        ok = false;
    }
    QString reference;
    ok = optionalText(body, QStringLiteral("reference"), &reference, &invalid) && ok;
    if (!amount || !ok)
        co_return invalid.detail(QStringLiteral("One or more fields are invalid.")).toResponse();
    UserDirectory *directory = m_directory.load();
    if (!directory)
        co_return Problem::unavailable(QStringLiteral("Transfers need the users plugin's directory, which is not running."), 60).toResponse();
    // Looked up before the transaction (the directory is asynchronous); the answer only matters
    // when this request's key is fresh, and a refusal is stored like any 4xx.
    const DirectoryLookup receiver = co_await directory->findByEmail(to.toString().trimmed());
    if (receiver.error)
        co_return problemFor(receiver.error).toResponse();
    const QString walletId = from.toString();
    const QString userId = request.user()->id;
    if (m_batcher && receiver.entry && receiver.entry->userId != userId) {
        MovementBatcher::Movement batched{MovementBatcher::Movement::Kind::Transfer, *key, walletId, *amount, reference, receiver.entry->userId, {}};
        const std::optional<HttpResponse> reply = co_await m_batcher->submit(std::move(batched));
        if (reply)
            co_return *reply;
    }
    auto work = [&](SqlTransaction &tx) -> HttpResponse {
        if (!receiver.entry)
            return Problem::make(422).detail(QStringLiteral("One or more fields are invalid."))
                .field(QStringLiteral("to_email"), QStringLiteral("no active account has this email")).toResponse();
        if (receiver.entry->userId == userId)
            return Problem::make(422).detail(QStringLiteral("One or more fields are invalid."))
                .field(QStringLiteral("to_email"), QStringLiteral("is your own account; move money between your wallets by converting")).toResponse();
        // Both wallets locked by one statement, which the posting then reuses: the locks are held
        // for the posting's statement and the COMMIT only. A receiver without a wallet in this
        // currency (the first transfer to them) gets one first; the posting then locks it too,
        // while the sender's stays locked — against a concurrent opposite transfer that can
        // deadlock once, which PostgreSQL detects and the pool retries (the wallet exists then).
        const LedgerStore::TransferPair pair = m_ledger.transferPairIn(tx, walletId, userId, receiver.entry->userId);
        if (pair.error)
            return problemFor(pair.error).toResponse();
        if (!pair.source)
            return WalletRoutes::notFound();
        const LedgerAccount &source = *pair.source;
        if (std::optional<HttpResponse> refused = replies::decimalsRefusal(*amount, source))
            return *refused;
        QString targetId = pair.target ? pair.target->id : QString();
        if (targetId.isEmpty()) {
            const LedgerAccountLookup created = m_ledger.walletIn(tx, receiver.entry->userId, source.currency, true);
            if (!created.account)
                return created.error ? problemFor(created.error).toResponse()
                                     : Problem::make(500).detail(QStringLiteral("The receiver's wallet could not be opened.")).toResponse();
            targetId = created.account->id; // not locked yet: the posting locks both
        }
        const LedgerPosting posting{QStringLiteral("transfer"), reference,
                                    QJsonObject{{QStringLiteral("from_user"), userId}, {QStringLiteral("to_user"), receiver.entry->userId}},
                                    {LedgerLeg{source.id, amount->negated(), QStringLiteral("transfer_out")},
                                     LedgerLeg{targetId, *amount, QStringLiteral("transfer_in")}}};
        const LedgerResult posted = m_ledger.postLockedIn(tx, {posting}, pair.locked());
        if (posted.outcome == LedgerResult::Outcome::InsufficientFunds)
            return replies::insufficient(posted.detail);
        if (!posted)
            return ledgerFailure(m_context, posted);
        return replies::moved(posted, source.id);
    };
    co_return co_await idempotentTransaction(m_context.database(), *key, work);
}

} // namespace yieldhost::wallets
