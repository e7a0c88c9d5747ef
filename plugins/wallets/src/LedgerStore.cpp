#include "LedgerStore.h"

#include "MovementReplies.h"
#include "yieldhost/Events.h"
#include "yieldhost/Ids.h"
#include "yieldhost/Outbox.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QRegularExpression>
#include <QtCore/QSet>

#include <algorithm>

namespace yieldhost::wallets {

namespace {

constexpr int MaxReference = 200;

QString rfc3339(const QDateTime &t)
{
    return t.toUTC().toString(Qt::ISODateWithMs);
}

LedgerResult invalid(qsizetype posting, const QString &detail)
{
    LedgerResult r;
    r.outcome = LedgerResult::Outcome::Invalid;
    r.failedPosting = posting;
    r.detail = detail;
    return r;
}

LedgerResult failed(const DbError &error)
{
    LedgerResult r;
    r.outcome = LedgerResult::Outcome::Failed;
    r.error = error;
    r.detail = error.message;
    return r;
}

bool isKind(const QString &kind)
{
    static const QRegularExpression re(QStringLiteral("^[a-z][a-z_]{0,30}$"));
    return re.match(kind).hasMatch();
}

} // namespace

const QString &LedgerStore::accountColumns()
{
    static const QString columns = QStringLiteral("a.id::text AS id, coalesce(a.user_id::text, '') AS user_id, coalesce(a.system_name, '') AS system_name, "
                                                  "a.currency, c.decimals, a.balance, coalesce(a.address, '') AS address, a.created_at");
    return columns;
}

LedgerAccount LedgerStore::accountFrom(const SqlResult &r, qsizetype row)
{
    LedgerAccount a;
    a.id = r.string(row, QStringLiteral("id"));
    a.userId = r.string(row, QStringLiteral("user_id"));
    a.systemName = r.string(row, QStringLiteral("system_name"));
    a.currency = r.string(row, QStringLiteral("currency"));
    a.decimals = int(r.integer(row, QStringLiteral("decimals")));
    a.balance = r.decimal(row, QStringLiteral("balance")).value_or(Decimal());
    a.address = r.string(row, QStringLiteral("address"));
    a.createdAt = r.value(row, QStringLiteral("created_at")).toDateTime().toUTC();
    return a;
}

QJsonObject LedgerStore::walletJson(const LedgerAccount &wallet)
{
    return QJsonObject{{QStringLiteral("id"), wallet.id},
                       {QStringLiteral("currency"), wallet.currency},
                       {QStringLiteral("balance"), wallet.balance.toString(wallet.decimals)},
                       {QStringLiteral("address"), wallet.address.isEmpty() ? QJsonValue() : QJsonValue(wallet.address)},
                       {QStringLiteral("created_at"), rfc3339(wallet.createdAt)}};
}

QJsonObject LedgerStore::entryJson(const LedgerEntry &entry, int decimals)
{
    return QJsonObject{{QStringLiteral("id"), entry.transactionId},
                       {QStringLiteral("kind"), entry.kind},
                       {QStringLiteral("amount"), entry.amount.toString(decimals)},
                       {QStringLiteral("balance_after"), entry.balanceAfter.toString(decimals)},
                       {QStringLiteral("reference"), entry.reference},
                       {QStringLiteral("status"), QStringLiteral("completed")},
                       {QStringLiteral("created_at"), rfc3339(entry.createdAt)}};
}

LedgerAccountLookup LedgerStore::oneAccount(const SqlResult &r)
{
    LedgerAccountLookup out;
    out.error = r.error();
    if (!r.error() && !r.isEmpty())
        out.account = accountFrom(r, 0);
    return out;
}

LedgerAccountLookup LedgerStore::ownWalletIn(SqlTransaction &tx, const QString &walletId, const QString &userId, bool lock)
{
    if (!isUuid(walletId))
        return {};
    return oneAccount(tx.exec(QStringLiteral("SELECT ") + accountColumns()
                                  + QStringLiteral(" FROM wallets_account a JOIN integrations_currency c ON c.code = a.currency "
                                                   "WHERE a.id = ?::uuid AND a.user_id = ?::uuid")
                                  + (lock ? QStringLiteral(" FOR UPDATE OF a") : QString()),
                              {walletId, userId}));
}

LedgerAccountLookup LedgerStore::accountIn(SqlTransaction &tx, const QString &accountId)
{
    if (!isUuid(accountId))
        return {};
    return oneAccount(tx.exec(QStringLiteral("SELECT ") + accountColumns()
                                  + QStringLiteral(" FROM wallets_account a JOIN integrations_currency c ON c.code = a.currency WHERE a.id = ?::uuid"),
                              {accountId}));
}

LedgerAccountLookup LedgerStore::walletIn(SqlTransaction &tx, const QString &userId, const QString &currency, bool create)
{
    if (!isUuid(userId)) {
        LedgerAccountLookup out;
        out.failure = QStringLiteral("the user id is not a UUID");
        return out;
    }
    const QString select = QStringLiteral("SELECT ") + accountColumns()
                           + QStringLiteral(" FROM wallets_account a JOIN integrations_currency c ON c.code = a.currency WHERE a.user_id = ?::uuid AND a.currency = ?");
    const QString code = currency.trimmed().toUpper();
    LedgerAccountLookup found = oneAccount(tx.exec(select, {userId, code}));
    if (found.error || found.account || !create)
        return found;
    if (!m_currencies) {
        found.failure = QStringLiteral("no Currencies service");
        return found;
    }
    const CurrencyLookup known = m_currencies->findIn(tx, code);
    if (known.error || !known.currency) {
        found.error = known.error;
        found.failure = known.error ? QString() : QStringLiteral("unknown currency %1").arg(currency);
        return found;
    }
    QString address;
    if (known.currency->isCrypto() && m_addresses) {
        const AddressAssignment assigned = m_addresses->assignIn(tx, userId, code);
        if (!assigned) {
            found.error = assigned.error;
            found.failure = assigned.failure;
            return found;
        }
        address = assigned.address;
    }
    const SqlResult inserted = tx.exec(QStringLiteral("INSERT INTO wallets_account (user_id, currency, address) VALUES (?::uuid, ?, ?) "
                                                      "ON CONFLICT (user_id, currency) WHERE user_id IS NOT NULL DO NOTHING RETURNING id"),
                                       {userId, code, address.isEmpty() ? QVariant() : QVariant(address)});
    if (inserted.error()) {
        found.error = inserted.error();
        return found;
    }
    found = oneAccount(tx.exec(select, {userId, code}));
    found.created = !inserted.isEmpty();
    return found;
}

LedgerAccountLookup LedgerStore::systemAccountIn(SqlTransaction &tx, const QString &name, const QString &currency)
{
    static const QRegularExpression re(QStringLiteral("^[a-z][a-z0-9_]{0,62}$"));
    LedgerAccountLookup out;
    if (!re.match(name).hasMatch()) {
        out.failure = QStringLiteral("a system account name is lower-case letters, digits and _");
        return out;
    }
    const QString code = currency.trimmed().toUpper();
    const QString key = name + u'/' + code;
    {
        const QReadLocker lock(&m_lock);
        if (const auto it = m_systemAccounts.constFind(key); it != m_systemAccounts.cend()) {
            out.account = *it;
            return out;
        }
    }
    const SqlResult inserted = tx.exec(QStringLiteral("INSERT INTO wallets_account (system_name, currency) SELECT ?, code FROM integrations_currency WHERE code = ? "
                                                      "ON CONFLICT (system_name, currency) WHERE system_name IS NOT NULL DO NOTHING RETURNING id"),
                                       {name, code});
    if (inserted.error()) {
        out.error = inserted.error();
        return out;
    }
    out = oneAccount(tx.exec(QStringLiteral("SELECT ") + accountColumns()
                                 + QStringLiteral(" FROM wallets_account a JOIN integrations_currency c ON c.code = a.currency WHERE a.system_name = ? AND a.currency = ?"),
                             {name, code}));
    if (!out.error && !out.account)
        out.failure = QStringLiteral("unknown currency %1").arg(currency);
    out.created = !inserted.isEmpty();
    // Only an account that existed before this transaction is remembered: one created here
    // vanishes if the transaction rolls back.
    if (out.account && !out.created) {
        const QWriteLocker lock(&m_lock);
        m_systemAccounts.insert(key, *out.account);
    }
    return out;
}

LedgerStore::TransferPair LedgerStore::transferPairIn(SqlTransaction &tx, const QString &walletId, const QString &userId, const QString &receiverId)
{
    TransferPair out;
    if (!isUuid(walletId) || !isUuid(userId) || !isUuid(receiverId))
        return out;
    const SqlResult r = tx.exec(QStringLiteral("SELECT ") + accountColumns()
                                    + QStringLiteral(" FROM wallets_account a JOIN integrations_currency c ON c.code = a.currency "
                                                     "WHERE (a.id = ?::uuid AND a.user_id = ?::uuid) "
                                                     "   OR (a.user_id = ?::uuid AND a.currency = (SELECT s.currency FROM wallets_account s "
                                                     "                                           WHERE s.id = ?::uuid AND s.user_id = ?::uuid)) "
                                                     "ORDER BY a.id FOR UPDATE OF a"),
                                {walletId, userId, receiverId, walletId, userId});
    out.error = r.error();
    for (qsizetype i = 0; !r.error() && i < r.size(); ++i) {
        LedgerAccount a = accountFrom(r, i);
        if (a.id.compare(walletId, Qt::CaseInsensitive) == 0)
            out.source = std::move(a);
        else
            out.target = std::move(a);
    }
    if (!out.source) // no receiver's wallet is named for a wallet that is not the caller's
        out.target.reset();
    return out;
}

LedgerStore::LockedAccounts LedgerStore::movementAccountsIn(SqlTransaction &tx, const QStringList &walletIds, const QStringList &userIds,
                                                            const QStringList &receiverIds, const QStringList &systemNames)
{
    LockedAccounts out;
    // Index lookups only (the accounts of each movement first, then the rows to lock by id): no
    // scan of the table however many wallets it holds. The IS NOT NULL conditions let the partial
    // unique indexes serve the receiver's and the system account's lookups.
    const SqlResult r = tx.exec(QStringLiteral("WITH p AS (SELECT s.id AS source, t.id AS target, y.id AS system "
                                               "           FROM unnest(?::uuid[], ?::uuid[], ?::text[], ?::text[]) AS q(w, u, v, n) "
                                               "           JOIN wallets_account s ON s.id = q.w AND s.user_id = q.u "
                                               "           LEFT JOIN wallets_account t ON t.user_id IS NOT NULL AND t.user_id = nullif(q.v, '')::uuid "
                                               "                                      AND t.currency = s.currency "
                                               "           LEFT JOIN wallets_account y ON y.system_name IS NOT NULL AND y.system_name = nullif(q.n, '') "
                                               "                                      AND y.currency = s.currency) "
                                               "SELECT n.at AS now, n.at::text AS now_text, ") + accountColumns()
                                    + QStringLiteral(" FROM wallets_account a JOIN integrations_currency c ON c.code = a.currency, "
                                                     "     (SELECT host_now() AS at OFFSET 0) AS n "
                                                     "WHERE a.id IN (SELECT source FROM p UNION SELECT target FROM p WHERE target IS NOT NULL "
                                                     "               UNION SELECT system FROM p WHERE system IS NOT NULL) "
                                                     "ORDER BY a.id FOR UPDATE OF a"),
                                {walletIds, userIds, receiverIds, systemNames});
    out.error = r.error();
    for (qsizetype i = 0; !r.error() && i < r.size(); ++i) {
        LedgerAccount a = accountFrom(r, i);
        out.accounts.insert(a.id, a);
    }
    if (!r.error() && !r.isEmpty()) {
        out.now = r.value(0, QStringLiteral("now")).toDateTime().toUTC();
        out.nowText = r.string(0, QStringLiteral("now_text"));
    }
    return out;
}

QHash<QString, LedgerAccount> LedgerStore::TransferPair::locked() const
{
    QHash<QString, LedgerAccount> out;
    if (source)
        out.insert(source->id, *source);
    if (target)
        out.insert(target->id, *target);
    return out;
}

LedgerResult LedgerStore::postIn(SqlTransaction &tx, const QList<LedgerPosting> &postings)
{
    return post(tx, postings, nullptr, false);
}

LedgerResult LedgerStore::postIn(SqlTransaction &tx, const QList<LedgerPosting> &postings, const QStringList &transactionIds)
{
    if (transactionIds.size() != postings.size())
        return invalid(0, QStringLiteral("%1 transaction ids for %2 postings").arg(transactionIds.size()).arg(postings.size()));
    for (qsizetype i = 0; i < transactionIds.size(); ++i) {
        if (!isUuid(transactionIds[i]))
            return invalid(i, QStringLiteral("posting %1: the transaction id is not a UUID").arg(i));
    }
    return post(tx, postings, nullptr, false, transactionIds);
}

LedgerResult LedgerStore::postLockedIn(SqlTransaction &tx, const QList<LedgerPosting> &postings, const QHash<QString, LedgerAccount> &locked)
{
    return post(tx, postings, &locked, false);
}

LedgerResult LedgerStore::postLockedDeferred(SqlTransaction &tx, const QList<LedgerPosting> &postings, const QHash<QString, LedgerAccount> &locked,
                                             const QStringList &transactionIds, const QString &at)
{
    if (transactionIds.size() != postings.size())
        return invalid(0, QStringLiteral("%1 transaction ids for %2 postings").arg(transactionIds.size()).arg(postings.size()));
    return post(tx, postings, &locked, true, transactionIds, at);
}

LedgerResult LedgerStore::post(SqlTransaction &tx, const QList<LedgerPosting> &postings, const QHash<QString, LedgerAccount> *locked, bool deferred,
                               const QStringList &transactionIds, const QString &at)
{
    if (postings.isEmpty()) {
        LedgerResult r;
        r.outcome = LedgerResult::Outcome::Posted;
        return r;
    }
    // Shapes first: nothing is locked or written for a malformed batch.
    QStringList accountIds;
    QSet<QString> seen;
    for (qsizetype i = 0; i < postings.size(); ++i) {
        const LedgerPosting &p = postings[i];
        if (!isKind(p.kind))
            return invalid(i, QStringLiteral("posting %1: the kind must be lower-case letters and _").arg(i));
        if (p.reference.size() > MaxReference)
            return invalid(i, QStringLiteral("posting %1: the reference is longer than %2 characters").arg(i).arg(MaxReference));
        if (p.legs.size() < 2)
            return invalid(i, QStringLiteral("posting %1 has fewer than two legs").arg(i));
        for (const LedgerLeg &leg : p.legs) {
            if (!isUuid(leg.accountId) || leg.amount.isZero() || !isKind(leg.kind))
                return invalid(i, QStringLiteral("posting %1 has a leg without an account id, an amount or a kind").arg(i));
            const QString id = leg.accountId.toLower();
            if (!seen.contains(id)) {
                seen.insert(id);
                accountIds.append(id);
            }
        }
    }
    QHash<QString, LedgerAccount> accounts;
    if (locked && std::all_of(accountIds.cbegin(), accountIds.cend(), [locked](const QString &id) { return locked->contains(id); })) {
        accounts = *locked;
    } else {
        // Every account of the batch, locked in id order: opposite transfers wait, never deadlock.
        const SqlResult rows = tx.exec(QStringLiteral("SELECT ") + accountColumns()
                                           + QStringLiteral(" FROM wallets_account a JOIN integrations_currency c ON c.code = a.currency "
                                                            "WHERE a.id = ANY(?::uuid[]) ORDER BY a.id FOR UPDATE OF a"),
                                       {accountIds});
        if (rows.error())
            return failed(rows.error());
        for (qsizetype i = 0; i < rows.size(); ++i) {
            LedgerAccount a = accountFrom(rows, i);
            accounts.insert(a.id, a);
        }
    }

    QStringList txIds, txKinds, txReferences, txMetadata;
    QStringList entryTx, entryAccount, entryCurrency, entryKind, entryAmount, entryAfter;
    LedgerResult result;
    for (qsizetype i = 0; i < postings.size(); ++i) {
        const LedgerPosting &p = postings[i];
        QHash<QString, Decimal> sums;
        for (const LedgerLeg &leg : p.legs) {
            const auto it = accounts.find(leg.accountId.toLower());
            if (it == accounts.end())
                return invalid(i, QStringLiteral("posting %1: no account %2").arg(i).arg(leg.accountId));
            if (leg.amount.round(it->decimals) != leg.amount)
                return invalid(i, QStringLiteral("posting %1: %2 has more decimals than %3 has").arg(i).arg(leg.amount.toString(), it->currency));
            const std::optional<Decimal> sum = sums.value(it->currency).add(leg.amount);
            const std::optional<Decimal> after = it->balance.add(leg.amount);
            if (!sum || !after) {
                LedgerResult r = invalid(i, QStringLiteral("The %1 balance would be larger than the ledger can hold.").arg(it->currency));
                r.outcome = LedgerResult::Outcome::OutOfRange;
                r.accountId = it->id;
                return r;
            }
            sums.insert(it->currency, *sum);
            if (it->isWallet() && after->isNegative()) {
                LedgerResult r;
                r.outcome = LedgerResult::Outcome::InsufficientFunds;
                r.failedPosting = i;
                r.accountId = it->id;
                r.detail = replies::insufficientDetail(*it, leg.amount);
                return r;
            }
            it->balance = after->withScale(it->decimals).value_or(*after);
            LedgerEntry e;
            e.accountId = it->id;
            e.kind = leg.kind;
            e.amount = leg.amount;
            e.balanceAfter = it->balance;
            e.reference = p.reference;
            result.entries.append(e);
            entryAccount.append(it->id);
            entryCurrency.append(it->currency);
            entryKind.append(leg.kind);
            entryAmount.append(leg.amount.toString());
            entryAfter.append(it->balance.toString());
        }
        for (auto s = sums.cbegin(); s != sums.cend(); ++s) {
            if (!s->isZero())
                return invalid(i, QStringLiteral("posting %1 does not balance: its %2 legs sum to %3").arg(i).arg(s.key(), s->toString()));
        }
        const QString id = i < transactionIds.size() ? transactionIds[i] : createOrderedUuid();
        txIds.append(id);
        txKinds.append(p.kind);
        txReferences.append(p.reference);
        txMetadata.append(QString::fromUtf8(QJsonDocument(p.metadata).toJson(QJsonDocument::Compact)));
        result.transactionIds.append(id);
        for (qsizetype k = 0; k < p.legs.size(); ++k)
            entryTx.append(id);
    }

    QStringList balanceIds, balances;
    for (const QString &id : std::as_const(accountIds)) {
        const LedgerAccount &a = accounts[id];
        balanceIds.append(a.id);
        balances.append(a.balance.toString());
        result.accounts.append(a);
    }
    // One statement: the transactions, the balances and the entries (whose foreign keys are
    // checked at the end of the statement, when the transactions exist). Their time is `at` when
    // given (what the caller told clients), else host_now() once for the statement, not once per
    // row (it reads the host clock's offset).
    const QString sql = QStringLiteral(
        "WITH n AS (SELECT coalesce(?::timestamptz, host_now()) AS at), "
        "     t AS (INSERT INTO wallets_transaction (id, kind, reference, metadata, created_at) "
        "           SELECT i, k, coalesce(r, ''), m, n.at FROM unnest(?::uuid[], ?::text[], ?::text[], ?::jsonb[]) AS t(i, k, r, m), n), "
        "     u AS (UPDATE wallets_account a SET balance = d.balance FROM unnest(?::uuid[], ?::numeric[]) AS d(id, balance) WHERE a.id = d.id) "
        "INSERT INTO wallets_entry (transaction_id, account_id, currency, kind, amount, balance_after, created_at) "
        "SELECT t, a, c, k, m, b, n.at FROM unnest(?::uuid[], ?::uuid[], ?::text[], ?::text[], ?::numeric[], ?::numeric[]) "
        "WITH ORDINALITY AS e(t, a, c, k, m, b, o), n ORDER BY o RETURNING id, created_at");
    const QVariantList params{at.isEmpty() ? QVariant() : QVariant(at), txIds, txKinds, txReferences, txMetadata, balanceIds, balances, entryTx, entryAccount, entryCurrency, entryKind, entryAmount, entryAfter};
    for (qsizetype i = 0; i < result.entries.size(); ++i)
        result.entries[i].transactionId = entryTx[i];
    if (deferred) {
        tx.defer(sql, params);
    } else {
        const SqlResult entries = tx.exec(sql, params);
        if (entries.error())
            return failed(entries.error());
        for (qsizetype i = 0; i < result.entries.size() && i < entries.size(); ++i) {
            result.entries[i].id = entries.integer(i, QStringLiteral("id"));
            result.entries[i].createdAt = entries.value(i, QStringLiteral("created_at")).toDateTime().toUTC();
        }
    }
    // One wallet.updated per wallet touched, with its final balance, in one statement.
    QList<OutboxEvent> events;
    for (const LedgerAccount &a : std::as_const(result.accounts)) {
        if (a.isWallet())
            events.append(OutboxEvent{topics::WalletUpdated, a.userId,
                                      QJsonObject{{QStringLiteral("wallet_id"), a.id},
                                                  {QStringLiteral("balance"), a.balance.toString(a.decimals)},
                                                  {QStringLiteral("currency"), a.currency}}});
    }
    if (const DbError published = publishAllIn(tx, events))
        return failed(published);
    result.outcome = LedgerResult::Outcome::Posted;
    return result;
}

QCoro::Task<LedgerAccountList> LedgerStore::walletsOf(QString userId)
{
    LedgerAccountList out;
    if (!isUuid(userId))
        co_return out;
    const QVariantList params{userId};
    const SqlResult r = co_await m_db.query(QStringLiteral("SELECT ") + accountColumns()
                                                + QStringLiteral(" FROM wallets_account a JOIN integrations_currency c ON c.code = a.currency WHERE a.user_id = ?::uuid ORDER BY a.currency"),
                                            params);
    out.error = r.error();
    for (qsizetype i = 0; !r.error() && i < r.size(); ++i)
        out.accounts.append(accountFrom(r, i));
    co_return out;
}

QCoro::Task<LedgerStatement> LedgerStore::statement(QString accountId, QDateTime from, QDateTime to)
{
    LedgerStatement out;
    if (!isUuid(accountId))
        co_return out;
    const QVariantList params{accountId, from, accountId, to, accountId, from, to};
    const SqlResult r = co_await m_db.query(QStringLiteral(
        "SELECT 'o' AS part, NULL::bigint AS id, NULL::text AS transaction_id, NULL::text AS kind, NULL::numeric AS amount, "
        "       coalesce((SELECT balance_after FROM wallets_entry WHERE account_id = ?::uuid AND created_at < ? ORDER BY id DESC LIMIT 1), 0) AS balance_after, "
        "       NULL::text AS reference, NULL::timestamptz AS created_at "
        "UNION ALL SELECT 'c', NULL, NULL, NULL, NULL, "
        "       coalesce((SELECT balance_after FROM wallets_entry WHERE account_id = ?::uuid AND created_at < ? ORDER BY id DESC LIMIT 1), 0), NULL, NULL "
        "UNION ALL (SELECT 'e', e.id, e.transaction_id::text, e.kind, e.amount, e.balance_after, t.reference, e.created_at "
        "       FROM wallets_entry e JOIN wallets_transaction t ON t.id = e.transaction_id "
        "       WHERE e.account_id = ?::uuid AND e.created_at >= ? AND e.created_at < ? ORDER BY e.id)"),
        params);
    out.error = r.error();
    for (qsizetype i = 0; !r.error() && i < r.size(); ++i) {
        const QString part = r.string(i, QStringLiteral("part"));
        const Decimal after = r.decimal(i, QStringLiteral("balance_after")).value_or(Decimal());
        if (part == QLatin1String("o")) {
            out.opening = after;
        } else if (part == QLatin1String("c")) {
            out.closing = after;
        } else {
            LedgerEntry e;
            e.id = r.integer(i, QStringLiteral("id"));
            e.transactionId = r.string(i, QStringLiteral("transaction_id"));
            e.accountId = accountId;
            e.kind = r.string(i, QStringLiteral("kind"));
            e.amount = r.decimal(i, QStringLiteral("amount")).value_or(Decimal());
            e.balanceAfter = after;
            e.reference = r.string(i, QStringLiteral("reference"));
            e.createdAt = r.value(i, QStringLiteral("created_at")).toDateTime().toUTC();
            out.entries.append(e);
        }
    }
    co_return out;
}

} // namespace yieldhost::wallets
