// LedgerStore.h — the Ledger service: accounts, balanced postings in two statements whatever the
// batch size (accounts locked in id order, balances checked in C++ under the locks, then one
// statement writing the transactions, the entries and the balances), and
// wallet.updated for every wallet touched, through the outbox, in the same transaction.
#pragma once

#include "yieldhost/services/Addresses.h"
#include "yieldhost/services/Currencies.h"
#include "yieldhost/services/Ledger.h"

#include <QtCore/QHash>
#include <QtCore/QJsonObject>
#include <QtCore/QReadWriteLock>

namespace yieldhost::wallets {

class LedgerStore : public Ledger
{
public:
    explicit LedgerStore(Database &database) : m_db(database) { }
    // From start(): the integrations plugin's services (required in plugin.json).
    void setServices(Currencies *currencies, Addresses *addresses)
    {
        m_currencies = currencies;
        m_addresses = addresses;
    }

    LedgerAccountLookup walletIn(SqlTransaction &tx, const QString &userId, const QString &currency, bool create) override;
    LedgerAccountLookup accountIn(SqlTransaction &tx, const QString &accountId) override;
    LedgerAccountLookup systemAccountIn(SqlTransaction &tx, const QString &name, const QString &currency) override;
    LedgerResult postIn(SqlTransaction &tx, const QList<LedgerPosting> &postings) override;
    LedgerResult postIn(SqlTransaction &tx, const QList<LedgerPosting> &postings, const QStringList &transactionIds) override;
    QCoro::Task<LedgerAccountList> walletsOf(QString userId) override;
    QCoro::Task<LedgerStatement> statement(QString accountId, QDateTime from, QDateTime to) override;

    // The caller's wallet `walletId` (nullopt when it is not theirs, or not a wallet id at all).
    LedgerAccountLookup ownWalletIn(SqlTransaction &tx, const QString &walletId, const QString &userId, bool lock);

    // A transfer's two wallets in one statement, both locked in id order: the caller's wallet
    // `walletId` (none when it is not theirs) and `receiverId`'s wallet in its currency (none when
    // the receiver has no such wallet yet).
    struct TransferPair
    {
        std::optional<LedgerAccount> source;
        std::optional<LedgerAccount> target;
        DbError error;
        QHash<QString, LedgerAccount> locked() const;
    };
    TransferPair transferPairIn(SqlTransaction &tx, const QString &walletId, const QString &userId, const QString &receiverId);
    // The accounts of many movements in one statement, all locked in id order: for each i the
    // wallet walletIds[i] when userIds[i] owns it, receiverIds[i]'s wallet in its currency (a
    // transfer's; "" for none) and the system account systemNames[i] in its currency (a clearing
    // account; "" for none), each when it exists. Wallet and user ids must be UUIDs.
    struct LockedAccounts
    {
        QHash<QString, LedgerAccount> accounts; // by id
        QDateTime now;                          // host_now(): the time of this transaction's entries
        QString nowText;                        // the same, exactly as PostgreSQL wrote it (microseconds)
        DbError error;
    };
    LockedAccounts movementAccountsIn(SqlTransaction &tx, const QStringList &walletIds, const QStringList &userIds, const QStringList &receiverIds,
                                      const QStringList &systemNames);
    // postIn() for accounts the caller already locked in this transaction (read under the lock):
    // the lock statement is skipped when `locked` holds every account of the postings.
    LedgerResult postLockedIn(SqlTransaction &tx, const QList<LedgerPosting> &postings, const QHash<QString, LedgerAccount> &locked);
    // The same, with the writing statement sent along with the transaction's next statement or
    // its COMMIT (SqlTransaction::defer): the result has no entry ids or times, and a failure
    // (only a bug: the balances were checked here) fails the transaction there.
    // `transactionIds` names the postings' transactions and `at` is their time (LockedAccounts::
    // nowText): the caller has told clients both already.
    LedgerResult postLockedDeferred(SqlTransaction &tx, const QList<LedgerPosting> &postings, const QHash<QString, LedgerAccount> &locked,
                                    const QStringList &transactionIds, const QString &at);

    // The columns accountFrom() reads, for queries over wallets_account a JOIN integrations_currency c.
    static const QString &accountColumns();
    static LedgerAccount accountFrom(const SqlResult &r, qsizetype row);
    static QJsonObject walletJson(const LedgerAccount &wallet);
    static QJsonObject entryJson(const LedgerEntry &entry, int decimals);

private:
    LedgerAccountLookup oneAccount(const SqlResult &r);
    LedgerResult post(SqlTransaction &tx, const QList<LedgerPosting> &postings, const QHash<QString, LedgerAccount> *locked, bool deferred,
                      const QStringList &transactionIds = {}, const QString &at = {});

    Database &m_db;
    Currencies *m_currencies = nullptr;
    Addresses *m_addresses = nullptr;
    mutable QReadWriteLock m_lock;
    QHash<QString, LedgerAccount> m_systemAccounts; // "name/CUR" -> account (balance not kept), committed ones only
};

} // namespace yieldhost::wallets
