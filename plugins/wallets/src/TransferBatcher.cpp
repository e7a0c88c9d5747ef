#include "TransferBatcher.h"

#include "MovementReplies.h"
#include "WalletRoutes.h"

#include "yieldhost/Ids.h"

#include <QtCore/QAbstractEventDispatcher>
#include <QtCore/QSet>
#include <QtCore/QThread>
#include <QtCore/QUuid>

namespace yieldhost::wallets {

struct TransferBatcher::Slot
{
    explicit Slot(Transfer t) : transfer(std::move(t)) { }
    const Transfer transfer;
    std::optional<HttpResponse> reply; // written by the batch's leader before it wakes this slot
    // Under m_mutex:
    bool ready = false; // woken: the reply is there, or this slot leads the next batch
    bool lead = false;
    std::coroutine_handle<> handle; // set while suspended
    QObject *home = nullptr;        // the suspended coroutine's thread's event dispatcher
};

// Suspends a slot's coroutine until a leader wakes it; does not suspend when it was woken already.
class TransferBatcher::Wait
{
public:
    Wait(TransferBatcher *batcher, Slot *slot) : m_batcher(batcher), m_slot(slot) { }
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> handle)
    {
        const QMutexLocker lock(&m_batcher->m_mutex);
        if (m_slot->ready)
            return false;
        m_slot->handle = handle;
        m_slot->home = QAbstractEventDispatcher::instance(QThread::currentThread());
        Q_ASSERT_X(m_slot->home, "TransferBatcher", "the awaiting thread has no event dispatcher");
        return true;
    }
    void await_resume() const noexcept { }

private:
    TransferBatcher *m_batcher;
    Slot *m_slot;
};

QCoro::Task<std::optional<HttpResponse>> TransferBatcher::submit(Transfer transfer)
{
    auto slot = std::make_shared<Slot>(std::move(transfer));
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

QCoro::Task<> TransferBatcher::lead(std::shared_ptr<Slot> self)
{
    const Batch batch = takeBatch(self);
    QList<std::optional<HttpResponse>> answers;
    auto work = [this, &batch, &answers](SqlTransaction &tx) -> Status { return post(tx, batch, answers); };
    const TransactionOutcome outcome = co_await m_db.transaction(work);
    for (qsizetype i = 0; i < batch.size(); ++i)
        batch[i]->reply = outcome.committed && i < answers.size() ? answers[i] : std::nullopt;
    finish(batch, self);
}

TransferBatcher::Batch TransferBatcher::takeBatch(const std::shared_ptr<Slot> &self)
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

void TransferBatcher::finish(const Batch &batch, const std::shared_ptr<Slot> &self)
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
        // The next batch is led by the first transfer that waits for one.
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

Status TransferBatcher::post(SqlTransaction &tx, const Batch &batch, QList<std::optional<HttpResponse>> &answers)
{
    answers = QList<std::optional<HttpResponse>>(batch.size()); // a deadlock re-runs this: start afresh

    // 1. Every wallet of the batch, locked in one statement in id order (a transfer that turns
    //    out to be a repeat locks its wallets for nothing: rare, and harmless).
    QList<qsizetype> named;
    QStringList walletIds, userIds, receiverIds;
    for (qsizetype i = 0; i < batch.size(); ++i) {
        const Transfer &t = batch[i]->transfer;
        if (!isUuid(t.walletId) || !isUuid(t.receiverId))
            continue;
        named.append(i);
        walletIds.append(t.walletId.toLower());
        userIds.append(t.key.userId());
        receiverIds.append(t.receiverId);
    }
    LedgerStore::LockedAccounts locked;
    if (!named.isEmpty())
        locked = m_ledger.transferWalletsIn(tx, walletIds, userIds, receiverIds);
    if (locked.error)
        return Status::failure(locked.error.message);

    // 2. Each transfer in arrival order against the balances the earlier ones leave; refusals are
    //    decided here, before anything is written, so they undo nothing. `alone` transfers are
    //    left out (their key is not claimed): they run one by one after this batch.
    QSet<qsizetype> alone;
    QSet<QString> seen; // a key twice in the batch: the second runs alone and replays the first
    for (qsizetype i = 0; i < batch.size(); ++i) {
        const IdempotencyKey &key = batch[i]->transfer.key;
        const QString id = key.userId() + u'\n' + key.key();
        if (seen.contains(id))
            alone.insert(i);
        seen.insert(id);
    }
    QHash<QString, QString> walletOf; // "user/CUR" -> wallet id
    for (const LedgerAccount &a : std::as_const(locked.accounts)) {
        if (a.isWallet())
            walletOf.insert(a.userId + u'/' + a.currency, a.id);
    }
    QList<IdempotencyKey> keys;
    QList<HttpResponse> stored;
    QList<qsizetype> keyed;
    QList<LedgerPosting> postings;
    QStringList transactionIds;
    auto decide = [&] {
        keys.clear();
        stored.clear();
        keyed.clear();
        postings.clear();
        transactionIds.clear();
        QHash<QString, LedgerAccount> balances = locked.accounts;
        for (qsizetype i = 0; i < batch.size(); ++i) {
            if (alone.contains(i))
                continue;
            const Transfer &t = batch[i]->transfer;
            auto reply = [&](HttpResponse r) {
                keys.append(t.key);
                stored.append(std::move(r));
                keyed.append(i);
            };
            const auto source = balances.find(t.walletId.toLower());
            if (source == balances.end() || source->userId != t.key.userId()) {
                reply(WalletRoutes::notFound());
                continue;
            }
            if (std::optional<HttpResponse> refused = replies::decimalsRefusal(t.amount, *source)) {
                reply(*refused);
                continue;
            }
            const auto target = balances.find(walletOf.value(t.receiverId + u'/' + source->currency));
            if (target == balances.end()) {
                alone.insert(i); // the first transfer to this receiver in this currency opens the wallet
                continue;
            }
            const std::optional<Decimal> sourceAfter = source->balance.add(t.amount.negated());
            const std::optional<Decimal> targetAfter = target->balance.add(t.amount);
            if (!sourceAfter || !targetAfter) {
                reply(replies::outOfRange(QStringLiteral("The %1 balance would be larger than the ledger can hold.").arg(source->currency)));
                continue;
            }
            if (sourceAfter->isNegative()) {
                reply(replies::insufficient(replies::insufficientDetail(*source, t.amount)));
                continue;
            }
            source->balance = sourceAfter->withScale(source->decimals).value_or(*sourceAfter);
            target->balance = targetAfter->withScale(target->decimals).value_or(*targetAfter);
            LedgerEntry out;
            out.transactionId = QUuid::createUuid().toString(QUuid::WithoutBraces);
            out.accountId = source->id;
            out.kind = QStringLiteral("transfer_out");
            out.amount = t.amount.negated();
            out.balanceAfter = source->balance;
            out.reference = t.reference;
            out.createdAt = locked.now;
            reply(replies::moved(out, *source));
            postings.append(LedgerPosting{QStringLiteral("transfer"), t.reference,
                                          QJsonObject{{QStringLiteral("from_user"), t.key.userId()}, {QStringLiteral("to_user"), t.receiverId}},
                                          {LedgerLeg{source->id, t.amount.negated(), QStringLiteral("transfer_out")},
                                           LedgerLeg{target->id, t.amount, QStringLiteral("transfer_in")}}});
            transactionIds.append(out.transactionId);
        }
    };
    decide();

    // 3. The keys, claimed with the replies decided. A key that exists already leaves its
    //    transfer out; the others are decided again without it and their replies corrected.
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
        if (keyed != claimed) // leaving some out only frees money: the same transfers still go, or more of them
            return Status::failure(QStringLiteral("a transfer batch changed when repeated keys were left out"));
        IdempotencyKey::storeAllDeferred(tx, keys, stored);
    }

    // 4. One posting statement for all of them (with wallet.updated per wallet), sent with the
    //    COMMIT: its balances were checked above under the locks.
    const LedgerResult result = m_ledger.postLockedDeferred(tx, postings, locked.accounts, transactionIds);
    if (!result)
        return Status::failure(QStringLiteral("a batch of %1 transfers could not be posted: %2").arg(postings.size()).arg(result.detail));
    for (qsizetype k = 0; k < keyed.size(); ++k)
        answers[keyed[k]] = stored[k];
    return {};
}

} // namespace yieldhost::wallets
