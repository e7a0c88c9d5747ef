// YieldPayer.h — investments.process_yield_payments: pays every unpaid period that ended by the
// as-of date, in batches of positions claimed with FOR UPDATE SKIP LOCKED (by `lanes` batches at
// once, on separate connections), each batch one transaction: the ledger postings (yield pool -> wallets), the settlements, the yield rows
// (unique per position and period: a period is paid once, whatever retries or concurrent workers
// do), the positions' progress, and yield.paid / portfolio.changed through the outbox.
#pragma once

#include "yieldhost/Clock.h"
#include "yieldhost/Jobs.h"
#include "yieldhost/services/Ledger.h"
#include "yieldhost/services/Settlement.h"

#include <QtCore/QDate>
#include <QtCore/QLoggingCategory>

#include <functional>

namespace yieldhost::investments {

class YieldPayer
{
public:
    YieldPayer(Database &database, Clock &clock, Ledger &ledger, const QLoggingCategory &log, int batchSize, int lanes)
        : m_db(database), m_clock(clock), m_ledger(ledger), m_log(log), m_batchSize(batchSize), m_lanes(lanes) { }
    // Found at the first run (the provider may be any plugin, and `run-task` starts none).
    void setSettlementLookup(std::function<Settlement *()> lookup) { m_findSettlement = std::move(lookup); }

    QCoro::Task<Status> run(JobContext &job);

    struct Batch
    {
        int positions = 0;
        int periods = 0;  // yield rows written
        int payouts = 0;  // of them with a non-zero amount
        bool more = false; // a full batch: there may be more
    };
    // One batch, in one transaction; `error` says why it rolled back.
    QCoro::Task<Batch> payBatch(QDate asOf, QString *error);

private:
    struct Lanes
    {
        Batch total;
        QString error; // the first lane's failure; the others stop after their current batch
        void add(const Batch &batch)
        {
            total.positions += batch.positions;
            total.periods += batch.periods;
            total.payouts += batch.payouts;
        }
    };
    // Batches one after another until none is full or a lane has failed.
    QCoro::Task<> lane(QDate asOf, Lanes &lanes);

    Database &m_db;
    Clock &m_clock;
    Ledger &m_ledger;
    std::function<Settlement *()> m_findSettlement;
    Settlement *m_settlement = nullptr;
    const QLoggingCategory &m_log;
    int m_batchSize;
    int m_lanes;
};

} // namespace yieldhost::investments
