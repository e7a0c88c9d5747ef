#include "YieldPayer.h"

#include "PositionRoutes.h"
#include "YieldEngine.h"

#include "yieldhost/Events.h"
#include "yieldhost/Ids.h"
#include "yieldhost/Outbox.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QSet>

namespace yieldhost::investments {

namespace {

constexpr int MaxPeriodsPerPosition = 400; // a position further behind is finished by the next batch

} // namespace

QCoro::Task<Status> YieldPayer::run(JobContext &job)
{
    QDate asOf = m_clock.now().toUTC().date();
    const QJsonValue given = job.args().value(QLatin1String("as_of"));
    if (!given.isUndefined() && !given.isNull()) {
        asOf = QDate::fromString(given.toString(), Qt::ISODate);
        if (!asOf.isValid())
            co_return Status::failure(QStringLiteral("as_of must be a date such as 2026-12-01, not %1").arg(given.toVariant().toString()));
    }
    if (!m_settlement && m_findSettlement)
        m_settlement = m_findSettlement();
    if (!m_settlement)
        co_return Status::failure(QStringLiteral("no Settlement service is provided (integrations' mock_settlement is off and no other plugin settles)"));
    QElapsedTimer timer;
    timer.start();
    // The lanes claim disjoint batches (SKIP LOCKED) and run them on separate connections at
    // once; each batch holds the yield pool's row only for its posting and COMMIT, so they
    // overlap everything else.
    // The first batch runs alone: it creates the yield pool a new book's currency lacks, which
    // batches running beside it would wait for (a competing INSERT waits on the uncommitted row).
    Lanes lanes;
    {
        QString error;
        const Batch first = co_await payBatch(asOf, &error);
        if (!error.isEmpty()) {
            lanes.error = error;
        } else {
            lanes.add(first);
        }
        if (lanes.error.isEmpty() && first.more) {
            std::vector<QCoro::Task<>> running;
            for (int i = 0; i < m_lanes; ++i)
                running.push_back(lane(asOf, lanes));
            for (QCoro::Task<> &task : running)
                co_await task;
        }
    }
    const Batch &total = lanes.total;
    if (!lanes.error.isEmpty())
        co_return Status::failure(QStringLiteral("after %1 payouts: %2").arg(total.payouts).arg(lanes.error));
    const qint64 ms = std::max<qint64>(1, timer.elapsed());
    job.progress(QStringLiteral("as of %1: paid %2 periods (%3 non-zero payouts) on %4 positions in %5 ms (%6 payouts/s)")
                     .arg(asOf.toString(Qt::ISODate))
                     .arg(total.periods)
                     .arg(total.payouts)
                     .arg(total.positions)
                     .arg(ms)
                     .arg(qint64(total.payouts) * 1000 / ms));
    co_return Status{};
}

QCoro::Task<> YieldPayer::lane(QDate asOf, Lanes &lanes)
{
    // Every lane resumes on the job's thread, so `lanes` needs no lock.
    while (lanes.error.isEmpty()) {
        QString error;
        const Batch batch = co_await payBatch(asOf, &error);
        if (!error.isEmpty()) {
            if (lanes.error.isEmpty())
                lanes.error = error;
            co_return;
        }
        lanes.add(batch);
        if (!batch.more)
            co_return;
    }
}

QCoro::Task<YieldPayer::Batch> YieldPayer::payBatch(QDate asOf, QString *error)
{
    Batch batch;
    auto work = [&](SqlTransaction &tx) -> Status {
        batch = Batch{};
        // Every statement of a batch touches its own thousand rows of a large table by key. Told
        // how many (the arrays are bound values), the planner joins the position update's and the
        // ledger's balance update's arrays by hashing the whole table, read in full once per batch:
        // a hundred thousand positions per thousand payouts, and quadratic in the book. Index
        // lookups it is, for this transaction only (LOCAL); nothing here wants a hash or merge join.
        tx.defer(QStringLiteral("SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)"));
        // A user's positions due together are claimed together: one wallet.updated and one
        // portfolio.changed per owner per batch, and lanes seldom share a wallet.
        const SqlResult claimed = tx.exec(QStringLiteral("SELECT ") + Position::columns()
                                              + QStringLiteral(" FROM investments_position p WHERE p.next_due_on <= ?::date "
                                                               "ORDER BY p.next_due_on, p.user_id, p.id LIMIT ? FOR UPDATE SKIP LOCKED"),
                                          {asOf, m_batchSize});
        if (claimed.error())
            return Status::failure(claimed.error().message);
        batch.positions = int(claimed.size());
        batch.more = claimed.size() >= m_batchSize;
        if (claimed.isEmpty())
            return {};

        QList<LedgerPosting> postings;
        QStringList transactionIds; // one per posting
        QList<SettlementPayment> payments;
        QStringList yId, yPosition, yIndex, yStart, yEnd, yAmount, yCurrency, yLedger;
        QList<qsizetype> paidRow; // index into the y* lists of each non-zero payout, in posting order
        QStringList pId, pPaid, pLast, pNext;
        QHash<QString, QString> pools; // currency -> the yield pool's account id
        QHash<QString, Position> positionOf;
        for (qsizetype i = 0; i < claimed.size(); ++i) {
            const Position position = Position::from(claimed, i);
            positionOf.insert(position.id, position);
            YieldTerms terms;
            terms.principal = position.amountInvested;
            terms.apy = position.apy;
            terms.intervalDays = position.intervalDays;
            terms.decimals = position.decimals;
            terms.openedOn = position.openedAt.date();
            if (position.redeemedAt.isValid())
                terms.endsOn = position.redeemedAt.date();
            const QList<YieldPeriod> due = YieldEngine::due(terms, position.lastPeriod, position.yieldPaid, asOf, MaxPeriodsPerPosition);
            Decimal paid = position.yieldPaid;
            int last = position.lastPeriod;
            for (const YieldPeriod &period : due) {
                yId.append(createOrderedUuid()); // the primary key grows at its right edge
                yPosition.append(position.id);
                yIndex.append(QString::number(period.index));
                yStart.append(period.start.toString(Qt::ISODate));
                yEnd.append(period.end.toString(Qt::ISODate));
                yAmount.append(period.amount.toString(position.decimals));
                yCurrency.append(position.currency);
                yLedger.append(QString());
                paid = paid.add(period.amount).value_or(paid);
                last = period.index;
                if (period.amount.isZero())
                    continue;
                if (!pools.contains(position.currency)) {
                    const LedgerAccountLookup pool = m_ledger.systemAccountIn(tx, QStringLiteral("yield_pool"), position.currency);
                    if (!pool.account)
                        return Status::failure(pool.failure.isEmpty() ? pool.error.message : pool.failure);
                    pools.insert(position.currency, pool.account->id);
                }
                // The ledger transaction's id is chosen here, so the yield row written before
                // the posting can name it.
                yLedger.last() = createOrderedUuid();
                const QString reference = QStringLiteral("yield:%1:%2").arg(position.id).arg(period.index);
                postings.append(LedgerPosting{QStringLiteral("yield"), reference, QJsonObject{{QStringLiteral("position_id"), position.id}},
                                              {LedgerLeg{pools.value(position.currency), period.amount.negated(), QStringLiteral("yield")},
                                               LedgerLeg{position.walletId, period.amount, QStringLiteral("yield")}}});
                transactionIds.append(yLedger.last());
                payments.append(SettlementPayment{reference, position.userId, position.currency, period.amount});
                paidRow.append(yPosition.size() - 1);
            }
            // The next period's end, unless the position was redeemed before it.
            const YieldPeriod next = YieldEngine::period(terms, last + 1);
            const bool more = !terms.endsOn.isValid() || next.end <= terms.endsOn;
            pId.append(position.id);
            pPaid.append(paid.toString());
            pLast.append(QString::number(last));
            pNext.append(more ? next.end.toString(Qt::ISODate) : QString());
            if (more && next.end <= asOf) // further behind than one batch pays: claim it again
                batch.more = true;
        }

        QStringList yTxHash(yPosition.size());
        if (!payments.isEmpty()) {
            const SettlementSubmission settled = m_settlement->submitIn(tx, payments);
            if (!settled)
                return Status::failure(QStringLiteral("settlement failed: %1").arg(settled.failure.isEmpty() ? settled.error.message : settled.failure));
            for (qsizetype k = 0; k < paidRow.size(); ++k)
                yTxHash[paidRow[k]] = settled.receipts.value(k).txHash;
        }
        // The batch's own rows are deferred: they travel with the posting's first statement, and
        // the yield pool's row is locked only after them, for the posting and the COMMIT.
        // The unique (position, period) makes a second payment of a period fail the whole batch.
        // host_now() once for the statement (an InitPlan), not once per row: it reads the host clock's offset.
        tx.defer(QStringLiteral("INSERT INTO investments_yield (id, position_id, period_index, period_start, period_end, amount, currency, tx_hash, ledger_transaction, created_at) "
                                "SELECT y, p, i, s, e, a, c, nullif(h, ''), nullif(l, '')::uuid, (SELECT host_now()) "
                                "FROM unnest(?::uuid[], ?::uuid[], ?::int[], ?::date[], ?::date[], ?::numeric[], ?::text[], ?::text[], ?::text[]) AS t(y, p, i, s, e, a, c, h, l)"),
                 {yId, yPosition, yIndex, yStart, yEnd, yAmount, yCurrency, yTxHash, yLedger});
        tx.defer(QStringLiteral("UPDATE investments_position p SET yield_paid = t.paid, last_period = t.last, next_due_on = nullif(t.next, '')::date "
                                "FROM unnest(?::uuid[], ?::numeric[], ?::int[], ?::text[]) AS t(id, paid, last, next) WHERE p.id = t.id"),
                 {pId, pPaid, pLast, pNext});
        // yield.paid per payout, then portfolio.changed once per owner: one statement.
        QList<OutboxEvent> events;
        QSet<QString> owners;
        for (qsizetype k = 0; k < paidRow.size(); ++k) {
            const qsizetype row = paidRow[k];
            const Position &position = positionOf[yPosition[row]];
            events.append(OutboxEvent{topics::YieldPaid, position.userId,
                                      QJsonObject{{QStringLiteral("investment_id"), position.id},
                                                  {QStringLiteral("amount"), yAmount[row]},
                                                  {QStringLiteral("currency"), position.currency},
                                                  {QStringLiteral("tx_hash"), yTxHash[row]}}});
            owners.insert(position.userId);
        }
        for (const QString &owner : std::as_const(owners))
            events.append(OutboxEvent{topics::PortfolioChanged, owner, QJsonObject{{QStringLiteral("reason"), QStringLiteral("yield_paid")}}});
        if (const DbError published = publishAllIn(tx, events))
            return Status::failure(published.message);
        if (!postings.isEmpty()) {
            const LedgerResult posted = m_ledger.postIn(tx, postings, transactionIds);
            if (posted.outcome == LedgerResult::Outcome::Failed)
                return Status::failure(posted.error.message);
            if (!posted)
                return Status::failure(QStringLiteral("the ledger refused the payouts: %1").arg(posted.detail));
        }
        batch.periods = int(yPosition.size());
        batch.payouts = int(paidRow.size());
        return {};
    };
    const TransactionOutcome outcome = co_await m_db.transaction(std::move(work));
    if (!outcome.committed)
        *error = outcome.failure.isEmpty() ? outcome.error.message : outcome.failure;
    co_return batch;
}

} // namespace yieldhost::investments
