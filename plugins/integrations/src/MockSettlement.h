// MockSettlement.h — the default Settlement service: a mock smart contract. A payment's tx hash
// is the Keccak-256 of the payment itself (so the same payment always has the same hash, as on a
// chain), rows are written in the caller's transaction, and integrations.confirm_settlements
// confirms those older than the configured "block" time.
#pragma once

#include "CurrencyStore.h"

#include "yieldhost/Jobs.h"
#include "yieldhost/services/Settlement.h"

namespace yieldhost::integrations {

class MockSettlement : public Settlement
{
public:
    MockSettlement(Database &database, CurrencyStore &currencies, qint64 confirmSeconds)
        : m_db(database), m_currencies(currencies), m_confirmSeconds(confirmSeconds) { }

    SettlementSubmission submitIn(SqlTransaction &tx, const QList<SettlementPayment> &payments) override;
    QCoro::Task<SettlementLookup> status(QString txHash) override;

    // integrations.confirm_settlements: everything submitted at least confirmSeconds ago (host
    // clock) becomes confirmed, and settlement.confirmed is published for each, in batches.
    QCoro::Task<Status> confirm(JobContext &job);

    // "0x" + 64 hex: Keccak-256 of the payment with its amount at the currency's decimals.
    static QString txHash(const SettlementPayment &payment, int decimals);

private:
    Database &m_db;
    CurrencyStore &m_currencies;
    qint64 m_confirmSeconds;
};

} // namespace yieldhost::integrations
