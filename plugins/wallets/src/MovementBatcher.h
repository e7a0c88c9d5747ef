// MovementBatcher.h — group commit for the money POSTs (deposits, withdrawals, transfers): the
// movements that arrive while earlier ones are in the database are posted together, in one
// transaction of three round trips whatever their number (lock every account in id order; claim
// the keys with the replies decided; the posting with the COMMIT), instead of one transaction
// with its own lock waits and WAL flush each.
//
// Each movement keeps its own outcome: balances are checked in arrival order under the locks, so
// one movement's 409 or 404 does not touch the others, and each reply is stored under its own
// Idempotency-Key as idempotentTransaction() would store it. Whatever the batch cannot decide
// alone runs the one-movement path instead (submit() answers nullopt): a key that exists already
// (a repeat, a reuse, one still in flight), an account that does not exist yet (the receiver's
// wallet in the currency, a clearing account: the one-movement path opens it), and every
// movement of a batch whose transaction failed.
//
// At most `leaders` batches are in flight at once (one locks and decides while another commits;
// more would only wait for the same accounts' locks); a batch holds at most `maxBatch`
// movements. The first movements to arrive lead the batches: no thread or timer of its own, and
// a lone movement waits for nobody. docs/wallets.md has the whole story.
#pragma once

#include "LedgerStore.h"

#include "yieldhost/Decimal.h"
#include "yieldhost/Http.h"
#include "yieldhost/Idempotency.h"

#include <QtCore/QMutex>

#include <QCoro/QCoroTask>

#include <coroutine>
#include <memory>
#include <optional>

namespace yieldhost::wallets {

class MovementBatcher
{
public:
    struct Movement
    {
        enum class Kind { Deposit, Withdrawal, Transfer };
        Kind kind;
        IdempotencyKey key;
        QString walletId;    // the caller's wallet, as the client named it
        Decimal amount;      // positive, below the movement cap
        QString reference;
        QString receiverId;  // Transfer: the receiver's user id (looked up by email before)
        QString destination; // Withdrawal: where the money goes
    };

    MovementBatcher(Database &db, LedgerStore &ledger, int leaders = 2, int maxBatch = 128)
        : m_db(db), m_ledger(ledger), m_leaders(leaders), m_maxBatch(maxBatch) { }

    // The movement's reply (also stored under its key), or nullopt: run it alone.
    QCoro::Task<std::optional<HttpResponse>> submit(Movement movement);

private:
    struct Slot;
    class Wait;
    using Batch = QList<std::shared_ptr<Slot>>;

    QCoro::Task<> lead(std::shared_ptr<Slot> self);
    Batch takeBatch(const std::shared_ptr<Slot> &self);
    // On a DB thread, in the batch's transaction: every slot's reply (nullopt: run alone).
    Status post(SqlTransaction &tx, const Batch &batch, QList<std::optional<HttpResponse>> &replies);
    void finish(const Batch &batch, const std::shared_ptr<Slot> &self);

    Database &m_db;
    LedgerStore &m_ledger;
    const int m_leaders;
    const int m_maxBatch;

    QMutex m_mutex; // guards everything below and every Slot's wake-up fields
    Batch m_queue;          // waiting for a batch, in arrival order
    int m_leading = 0;      // batches in flight or about to start
};

} // namespace yieldhost::wallets
