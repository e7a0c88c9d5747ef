// Settlement.h — settling payouts on a chain, as a service. The integrations plugin provides a
// mock smart contract (deterministic tx hashes, confirmed by integrations.confirm_settlements
// after a configured number of seconds); a plugin speaking to a real chain provides its own
// implementation instead (set integrations' "mock_settlement" to false so the id is free).
//
// Header-only: it adds no symbol to the SDK library, so a plugin using it runs on any 1.1 host.
#pragma once

#include "yieldhost/Database.h"
#include "yieldhost/Decimal.h"
#include "yieldhost/Global.h"

#include <QtCore/QDateTime>
#include <QtCore/QList>
#include <QtCore/QString>

#include <QCoro/QCoroTask>

#include <optional>

namespace yieldhost {

struct SettlementPayment
{
    QString reference; // unique per payment and stable across retries: "yield:<position>:<period end>"
    QString userId;    // who is paid
    QString currency;
    Decimal amount;    // > 0, at the currency's decimals
};

struct SettlementReceipt
{
    QString reference;
    QString txHash; // "0x" + 64 lower-case hex digits; the same payment always gets the same hash
    QString status; // "submitted" or "confirmed" (a payment submitted before keeps its state)
};

struct SettlementSubmission
{
    QList<SettlementReceipt> receipts; // in the order of the payments
    DbError error;
    QString failure; // an invalid payment, or a reference already used for a different payment
    explicit operator bool() const { return !error && failure.isEmpty(); }
};

struct SettlementRecord
{
    QString txHash;
    QString reference;
    QString userId;
    QString currency;
    Decimal amount;
    QString status;
    QDateTime submittedAt;
    QDateTime confirmedAt; // invalid until confirmed
};

struct SettlementLookup
{
    std::optional<SettlementRecord> record; // nullopt: no settlement has this hash
    DbError error;
};

class Settlement
{
public:
    static constexpr const char *ServiceId = "dev.yieldhost.Settlement/1";
    // Published through the outbox for the paid user when a settlement is confirmed:
    // {"tx_hash","reference","currency","amount"}.
    static constexpr const char *ConfirmedTopic = "settlement.confirmed";

    virtual ~Settlement() = default;

    // Submits a batch of payments inside the caller's transaction: they are recorded exactly
    // when the caller's change commits, and vanish with it when it rolls back. Submitting a
    // payment again (same reference, same content) returns its existing receipt. Call on the DB
    // thread, from the transaction function.
    virtual SettlementSubmission submitIn(SqlTransaction &tx, const QList<SettlementPayment> &payments) = 0;
    virtual QCoro::Task<SettlementLookup> status(QString txHash) = 0;
};

} // namespace yieldhost
