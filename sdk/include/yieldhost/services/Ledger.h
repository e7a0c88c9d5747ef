// Ledger.h — the double-entry ledger, as a service (provided by the wallets plugin): the only way
// money moves. Every posting is a transaction whose legs sum to zero per currency (the database
// refuses anything else at commit); a user wallet never goes below zero; balances change in the
// same database transaction as the entries, and each entry records the balance after it.
//
// Everything that writes runs inside the caller's transaction (call on the DB thread, from the
// transaction function), so the movement commits or vanishes together with the caller's own rows
// and its outbox events. Accounts are locked in one global order (by id), so two postings over
// the same accounts in opposite directions wait for each other instead of deadlocking.
//
// Header-only: it adds no symbol to the SDK library, so a plugin using it runs on any 1.1 host.
#pragma once

#include "yieldhost/Database.h"
#include "yieldhost/Decimal.h"
#include "yieldhost/Global.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtCore/QString>

#include <QCoro/QCoroTask>

#include <optional>

namespace yieldhost {

// An account of the ledger: a user's wallet (one per user and currency) or a system account (one
// per name and currency: "deposits", "withdrawals", "yield_pool", "investments", ...).
struct LedgerAccount
{
    QString id;
    QString userId;     // empty for a system account
    QString systemName; // empty for a wallet
    QString currency;
    int decimals = 2;
    Decimal balance;
    QString address;    // a crypto wallet's deposit address; empty otherwise
    QDateTime createdAt;
    bool isWallet() const { return !userId.isEmpty(); }
};

struct LedgerAccountLookup
{
    std::optional<LedgerAccount> account; // nullopt: none (and `created` false)
    bool created = false;                 // made by this call
    DbError error;
    QString failure; // an unknown currency, an invalid name
};

// One leg: `amount` is signed (+ credits the account, - debits it), at most the currency's
// decimals, never zero. `kind` is the movement as the account's owner sees it: "deposit",
// "withdrawal", "transfer_in", "transfer_out", "investment", "redemption", "yield".
struct LedgerLeg
{
    QString accountId;
    Decimal amount;
    QString kind;
};

struct LedgerPosting
{
    QString kind;          // the transaction's kind: "deposit", "transfer", "yield", ...
    QString reference;     // free text shown with its entries (up to 200 characters)
    QJsonObject metadata;  // kept with the transaction
    QList<LedgerLeg> legs; // at least two; per currency they sum to zero
};

struct LedgerEntry
{
    qint64 id = 0;
    QString transactionId;
    QString accountId;
    QString kind;
    Decimal amount;
    Decimal balanceAfter;
    QString reference;
    QDateTime createdAt;
};

struct LedgerResult
{
    enum class Outcome {
        Posted,
        InsufficientFunds, // a wallet would go below zero: nothing was written (make it a 409)
        Invalid,           // unbalanced, unknown account, bad amount: a bug in the caller
        Failed,            // the database failed: end the transaction
        OutOfRange,        // a balance would leave the 38 digits a Decimal holds: nothing was written (a 422)
    };
    Outcome outcome = Outcome::Failed;
    qsizetype failedPosting = -1; // which posting, for InsufficientFunds and Invalid
    QString accountId;            // the wallet that lacked funds
    QString detail;
    DbError error;
    QList<QString> transactionIds;         // one per posting, in order
    QList<LedgerEntry> entries;            // every entry written, in order
    QList<LedgerAccount> accounts;         // every account touched, with its new balance
    explicit operator bool() const { return outcome == Outcome::Posted; }
};

struct LedgerAccountList
{
    QList<LedgerAccount> accounts;
    DbError error;
};

// The entries of one account over [from, to), with the balances on either side.
struct LedgerStatement
{
    Decimal opening;
    Decimal closing;
    QList<LedgerEntry> entries; // oldest first
    DbError error;
};

class Ledger
{
public:
    static constexpr const char *ServiceId = "dev.yieldhost.Ledger/1";
    virtual ~Ledger() = default;

    // `userId`'s wallet in `currency`, created (with its deposit address) when `create` is true
    // and there is none.
    virtual LedgerAccountLookup walletIn(SqlTransaction &tx, const QString &userId, const QString &currency, bool create) = 0;
    // The account with this id (a wallet or a system account); nullopt when there is none. Check
    // `userId` before acting for a user: another user's wallet must look like no wallet at all.
    virtual LedgerAccountLookup accountIn(SqlTransaction &tx, const QString &accountId) = 0;
    // The system account `name` in `currency`, created when missing. System accounts may go
    // below zero (a deposits clearing account is negative by what came in).
    virtual LedgerAccountLookup systemAccountIn(SqlTransaction &tx, const QString &name, const QString &currency) = 0;
    // Posts every posting, all or nothing, in a handful of statements whatever the batch size.
    // InsufficientFunds and Invalid leave the caller's transaction usable (nothing was written).
    virtual LedgerResult postIn(SqlTransaction &tx, const QList<LedgerPosting> &postings) = 0;
    // For statements: a user's wallets, by currency.
    virtual QCoro::Task<LedgerAccountList> walletsOf(QString userId) = 0;
    // For statements: an account's entries over [from, to) and its balances at both ends.
    virtual QCoro::Task<LedgerStatement> statement(QString accountId, QDateTime from, QDateTime to) = 0;
    // postIn() with the transactions' ids chosen by the caller (UUIDs, one per posting), so rows
    // it writes before the posting can name them.
    virtual LedgerResult postIn(SqlTransaction &tx, const QList<LedgerPosting> &postings, const QStringList &transactionIds) = 0;
};

} // namespace yieldhost
