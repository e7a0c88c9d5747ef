// MovementReplies.h — the replies of the money-moving POSTs, shared by the routes that post one
// movement per transaction and by MovementBatcher, which posts many: a client cannot tell which
// path answered it.
#pragma once

#include "yieldhost/Decimal.h"
#include "yieldhost/Http.h"
#include "yieldhost/services/Ledger.h"

#include <optional>

namespace yieldhost::wallets {

namespace replies {

// 409 insufficient-funds, with what the wallet holds and what was needed.
HttpResponse insufficient(const QString &detail);
QString insufficientDetail(const LedgerAccount &wallet, const Decimal &needed);
// 422 when `amount` has more decimals than the wallet's currency.
std::optional<HttpResponse> decimalsRefusal(const Decimal &amount, const LedgerAccount &wallet);
// 422 for an amount that would take a balance beyond what the ledger holds.
HttpResponse outOfRange(const QString &detail);
// 201 {"transaction": the wallet's entry, "wallet": the wallet after it}.
HttpResponse moved(const LedgerEntry &entry, LedgerAccount wallet);
// The same for a one-posting LedgerResult: the entry and the account of `walletId`.
HttpResponse moved(const LedgerResult &result, const QString &walletId);

} // namespace replies

} // namespace yieldhost::wallets
