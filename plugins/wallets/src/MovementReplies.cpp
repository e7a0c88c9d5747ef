#include "MovementReplies.h"

#include "LedgerStore.h"

namespace yieldhost::wallets::replies {

HttpResponse insufficient(const QString &detail)
{
    return Problem::make(409).type(QStringLiteral("insufficient-funds")).title(QStringLiteral("Insufficient funds")).detail(detail).toResponse();
}

QString insufficientDetail(const LedgerAccount &wallet, const Decimal &needed)
{
    return QStringLiteral("The wallet holds %1 %2; this needs %3 %2.").arg(wallet.balance.toString(wallet.decimals), wallet.currency, needed.abs().toString(wallet.decimals));
}

std::optional<HttpResponse> decimalsRefusal(const Decimal &amount, const LedgerAccount &wallet)
{
    if (amount.round(wallet.decimals) == amount)
        return std::nullopt;
    return Problem::make(422)
        .detail(QStringLiteral("One or more fields are invalid."))
        .field(QStringLiteral("amount"), QStringLiteral("has more decimals than %1 has (%2)").arg(wallet.currency).arg(wallet.decimals))
        .toResponse();
}

HttpResponse outOfRange(const QString &detail)
{
    return Problem::make(422).detail(QStringLiteral("One or more fields are invalid.")).field(QStringLiteral("amount"), detail).toResponse();
}

HttpResponse moved(const LedgerEntry &entry, LedgerAccount wallet)
{
    wallet.balance = entry.balanceAfter;
    return HttpResponse::json(201, QJsonObject{{QStringLiteral("transaction"), LedgerStore::entryJson(entry, wallet.decimals)},
                                               {QStringLiteral("wallet"), LedgerStore::walletJson(wallet)}});
}

HttpResponse moved(const LedgerResult &result, const QString &walletId)
{
    QJsonObject wallet;
    int decimals = 2;
    for (const LedgerAccount &a : result.accounts) {
        if (a.id == walletId) {
            wallet = LedgerStore::walletJson(a);
            decimals = a.decimals;
        }
    }
    QJsonObject transaction;
    for (const LedgerEntry &e : result.entries) {
        if (e.accountId == walletId)
            transaction = LedgerStore::entryJson(e, decimals);
    }
    return HttpResponse::json(201, QJsonObject{{QStringLiteral("transaction"), transaction}, {QStringLiteral("wallet"), wallet}});
}

} // namespace yieldhost::wallets::replies
