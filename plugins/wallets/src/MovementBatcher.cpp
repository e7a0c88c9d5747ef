#include "MovementBatcher.h"

#include "MovementReplies.h"
#include "WalletRoutes.h"

#include "yieldhost/Ids.h"
#include "yieldhost/Outbox.h"

#include <QtCore/QAbstractEventDispatcher>
#include <QtCore/QSet>
#include <QtCore/QThread>

#include <algorithm>

namespace yieldhost::wallets {

struct MovementBatcher::Slot
{
    explicit Slot(Movement m) : movement(std::move(m)) { }
    const Movement movement;
    std::optional<HttpResponse> reply; // written by the batch's leader before it wakes this slot
    // Under m_mutex:
    bool ready = false; // woken: the reply is there, or this slot leads the next batch
    bool lead = false;
    std::coroutine_handle<> handle; // set while suspended
    QObject *home = nullptr;        // the suspended coroutine's thread's event dispatcher
};

// Suspends a slot's coroutine until a leader wakes it; does not suspend when it was woken already.
class MovementBatcher::Wait
{
public:
    Wait(MovementBatcher *batcher, Slot *slot) : m_batcher(batcher), m_slot(slot) { }
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> handle)
    {
        const QMutexLocker lock(&m_batcher->m_mutex);
        if (m_slot->ready)
            return false;
        m_slot->handle = handle;
        m_slot->home = QAbstractEventDispatcher::instance(QThread::currentThread());
        Q_ASSERT_X(m_slot->home, "MovementBatcher", "the awaiting thread has no event dispatcher");
        return true;
    }
    void await_resume() const noexcept { }

private:
    MovementBatcher *m_batcher;
    Slot *m_slot;
};

QCoro::Task<std::optional<HttpResponse>> MovementBatcher::submit(Movement movement)
{
    auto slot = std::make_shared<Slot>(std::move(movement));
    {
        const QMutexLocker lock(&m_mutex);
        m_queue.append(slot);
        if (m_leading < m_leaders) {
            ++m_leading;
            slot->lead = slot->ready = true;
        }
    }
    co_await Wait(this, slot.get());
    if (slot->lead)
        co_await lead(slot);
    co_return slot->reply;
}

QCoro::Task<> MovementBatcher::lead(std::shared_ptr<Slot> self)
{
    const Batch batch = takeBatch(self);
    QList<std::optional<HttpResponse>> answers;
    auto work = [this, &batch, &answers](SqlTransaction &tx) -> Status { return post(tx, batch, answers); };
    const TransactionOutcome outcome = co_await m_db.transaction(work);
    for (qsizetype i = 0; i < batch.size(); ++i)
        batch[i]->reply = outcome.committed && i < answers.size() ? answers[i] : std::nullopt;
    finish(batch, self);
}

MovementBatcher::Batch MovementBatcher::takeBatch(const std::shared_ptr<Slot> &self)
{
    Batch batch{self};
    const QMutexLocker lock(&m_mutex);
    m_queue.removeOne(self);
    // Slots told to lead stay for their own batch.
    for (auto it = m_queue.begin(); it != m_queue.end() && batch.size() < m_maxBatch;) {
        if ((*it)->lead) {
            ++it;
        } else {
            batch.append(*it);
            it = m_queue.erase(it);
        }
    }
    return batch;
}

void MovementBatcher::finish(const Batch &batch, const std::shared_ptr<Slot> &self)
{
    QList<std::pair<std::coroutine_handle<>, QObject *>> wake;
    auto ready = [&wake](Slot &slot) {
        slot.ready = true;
        if (slot.handle)
            wake.append({std::exchange(slot.handle, {}), slot.home});
    };
    {
        const QMutexLocker lock(&m_mutex);
        for (const std::shared_ptr<Slot> &slot : batch) {
            if (slot != self)
                ready(*slot);
        }
        // The next batch is led by the first movement that waits for one.
        const auto next = std::find_if(m_queue.cbegin(), m_queue.cend(), [](const std::shared_ptr<Slot> &s) { return !s->lead; });
        if (next != m_queue.cend()) {
            (*next)->lead = true;
            ready(**next);
        } else {
            --m_leading;
        }
    }
    // Each coroutine resumes on its own thread (the queued call keeps this leader's stack short).
    for (const auto &[handle, home] : wake)
        QMetaObject::invokeMethod(home, [handle] { handle.resume(); }, Qt::QueuedConnection);
}

namespace {

using Kind = MovementBatcher::Movement::Kind;

// The clearing account a deposit or a withdrawal moves money against ("" for a transfer).
QString clearingAccount(Kind kind)
{
    switch (kind) {
    case Kind::Deposit:
        return QStringLiteral("deposits");
    case Kind::Withdrawal:
        return QStringLiteral("withdrawals");
    case Kind::Transfer:
        break;
    }
    return {};
}

} // namespace

Status MovementBatcher::post(SqlTransaction &tx, const Batch &batch, QList<std::optional<HttpResponse>> &answers)
{
    answers = QList<std::optional<HttpResponse>>(batch.size()); // a deadlock re-runs this: start afresh

    // 1. Every account of the batch, locked in one statement in id order (a movement that turns
    //    out to be a repeat locks its accounts for nothing: rare, and harmless). Each movement's
    //    key is named once: the same key twice in a batch, the second runs alone and replays.
    QStringList walletIds, userIds, receiverIds, systemNames;
    QSet<qsizetype> alone;
    QSet<QString> seen;
    for (qsizetype i = 0; i < batch.size(); ++i) {
        const Movement &m = batch[i]->movement;
        const QString id = m.key.userId() + u'\n' + m.key.key();
        if (seen.contains(id))
            alone.insert(i);
        seen.insert(id);
        if (!isUuid(m.walletId) || !isUuid(m.key.userId()))
            continue; // 404 below
        walletIds.append(m.walletId.toLower());
        userIds.append(m.key.userId());
        receiverIds.append(m.kind == Kind::Transfer ? m.receiverId : QString());
        systemNames.append(clearingAccount(m.kind));
    }
    LedgerStore::LockedAccounts locked;
    if (!walletIds.isEmpty())
        locked = m_ledger.movementAccountsIn(tx, walletIds, userIds, receiverIds, systemNames);
    if (locked.error)
        return Status::failure(locked.error.message);
    QHash<QString, QString> accountOf; // "user/CUR" or "system name/CUR" -> account id
    for (const LedgerAccount &a : std::as_const(locked.accounts))
        accountOf.insert((a.isWallet() ? a.userId : a.systemName) + u'/' + a.currency, a.id);

    // 2. Each movement in arrival order against the balances the earlier ones leave; refusals are
    //    decided here, before anything is written, so they undo nothing. `alone` movements are
    //    left out (their key is not claimed): they run one by one after this batch.
    QList<IdempotencyKey> keys;
    QList<HttpResponse> stored;
    QList<qsizetype> keyed;
    QList<LedgerPosting> postings;
    QStringList transactionIds;
    QList<OutboxEvent> deposited;
    auto decide = [&] {
        keys.clear();
        stored.clear();
        keyed.clear();
        postings.clear();
        transactionIds.clear();
        deposited.clear();
        QHash<QString, LedgerAccount> balances = locked.accounts;
        for (qsizetype i = 0; i < batch.size(); ++i) {
            if (alone.contains(i))
                continue;
            const Movement &m = batch[i]->movement;
            auto reply = [&](HttpResponse r) {
                keys.append(m.key);
                stored.append(std::move(r));
                keyed.append(i);
            };
            const auto wallet = balances.find(m.walletId.toLower());
            if (wallet == balances.end() || wallet->userId != m.key.userId()) {
                reply(WalletRoutes::notFound());
                continue;
            }
            if (std::optional<HttpResponse> refused = replies::decimalsRefusal(m.amount, *wallet)) {
                reply(*refused);
                continue;
            }
            const QString other = m.kind == Kind::Transfer ? m.receiverId : clearingAccount(m.kind);
            const auto counter = balances.find(accountOf.value(other + u'/' + wallet->currency));
            if (counter == balances.end()) {
                alone.insert(i); // the first movement to this account opens it
                continue;
            }
            const Decimal delta = m.kind == Kind::Deposit ? m.amount : m.amount.negated();
            const std::optional<Decimal> walletAfter = wallet->balance.add(delta);
            const std::optional<Decimal> counterAfter = counter->balance.add(delta.negated());
            if (!walletAfter || !counterAfter) {
                reply(replies::outOfRange(QStringLiteral("The %1 balance would be larger than the ledger can hold.").arg(wallet->currency)));
                continue;
            }
            if (walletAfter->isNegative()) {
                reply(replies::insufficient(replies::insufficientDetail(*wallet, m.amount)));
                continue;
            }
            wallet->balance = walletAfter->withScale(wallet->decimals).value_or(*walletAfter);
            counter->balance = counterAfter->withScale(counter->decimals).value_or(*counterAfter);
            LedgerPosting posting;
            QString walletKind, counterKind;
            switch (m.kind) {
            case Kind::Deposit:
                posting.kind = walletKind = counterKind = QStringLiteral("deposit");
                break;
            case Kind::Withdrawal:
                posting.kind = walletKind = counterKind = QStringLiteral("withdrawal");
                posting.metadata = QJsonObject{{QStringLiteral("destination"), m.destination}};
                break;
            case Kind::Transfer:
                posting.kind = QStringLiteral("transfer");
                walletKind = QStringLiteral("transfer_out");
                counterKind = QStringLiteral("transfer_in");
                posting.metadata = QJsonObject{{QStringLiteral("from_user"), m.key.userId()}, {QStringLiteral("to_user"), m.receiverId}};
                break;
            }
            posting.reference = m.reference;
            posting.legs = {LedgerLeg{wallet->id, delta, walletKind}, LedgerLeg{counter->id, delta.negated(), counterKind}};
            LedgerEntry entry;
            entry.transactionId = createOrderedUuid();
            entry.accountId = wallet->id;
            entry.kind = walletKind;
            entry.amount = delta;
            entry.balanceAfter = wallet->balance;
            entry.reference = m.reference;
            entry.createdAt = locked.now;
            reply(replies::moved(entry, *wallet));
            postings.append(posting);
            transactionIds.append(entry.transactionId);
            if (m.kind == Kind::Deposit) // what arrived, for the notifications plugin (as the one-deposit path says)
                deposited.append(OutboxEvent{QStringLiteral("wallet.deposited"), m.key.userId(),
                                             QJsonObject{{QStringLiteral("wallet_id"), wallet->id},
                                                         {QStringLiteral("transaction_id"), entry.transactionId},
                                                         {QStringLiteral("amount"), m.amount.toString(wallet->decimals)},
                                                         {QStringLiteral("currency"), wallet->currency}}});
        }
    };
    decide();

    // 3. The keys, claimed with the replies decided. A key that exists already leaves its
    //    movement out; the others are decided again without it and their replies corrected.
    // The claim waits only for a key another transaction holds uncommitted: a client repeating a
    // request that is still running alone, which locked that key before its accounts, while this
    // batch locked the accounts first. Rather than wait for PostgreSQL's deadlock check (1 s, with
    // every account of the batch locked), give up after 100 ms: the batch rolls back and each of
    // its movements runs alone.
    tx.defer(QStringLiteral("SET LOCAL lock_timeout = '100ms'"));
    DbError error;
    const QList<bool> fresh = IdempotencyKey::claimAll(tx, keys, stored, &error);
    if (error)
        return Status::failure(error.message);
    if (fresh.contains(false)) {
        QList<qsizetype> claimed;
        for (qsizetype k = 0; k < keyed.size(); ++k) {
            if (fresh.value(k))
                claimed.append(keyed[k]);
            else
                alone.insert(keyed[k]);
        }
        decide();
        // Leaving movements out changes replies, never which movements have one. (std::equal, not
        // QList's ==: Qt 6.4 hands memcmp the null data pointer of an empty list, which UBSan stops.)
        if (keyed.size() != claimed.size() || !std::equal(keyed.cbegin(), keyed.cend(), claimed.cbegin()))
            return Status::failure(QStringLiteral("a movement batch changed when repeated keys were left out"));
        IdempotencyKey::storeAllDeferred(tx, keys, stored);
    }

    // 4. One posting statement for all of them (with wallet.updated per wallet), sent with the
    //    COMMIT: its balances were checked above under the locks.
    const LedgerResult result = m_ledger.postLockedDeferred(tx, postings, locked.accounts, transactionIds, locked.nowText);
    if (!result)
        return Status::failure(QStringLiteral("a batch of %1 movements could not be posted: %2").arg(postings.size()).arg(result.detail));
    if (const DbError published = publishAllIn(tx, deposited))
        return Status::failure(published.message);
    for (qsizetype k = 0; k < keyed.size(); ++k)
        answers[keyed[k]] = stored[k];
    return {};
}

} // namespace yieldhost::wallets
