#include "MockSettlement.h"

#include "yieldhost/Outbox.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QJsonObject>
#include <QtCore/QHash>
#include <QtCore/QUuid>

namespace yieldhost::integrations {

namespace {

constexpr int MaxReferenceLength = 200;
constexpr int ConfirmBatch = 1000;

} // namespace

QString MockSettlement::txHash(const SettlementPayment &payment, int decimals)
{
    const QByteArray canonical = QStringLiteral("yieldhost-settlement/1\n%1\n%2\n%3\n%4")
                                     .arg(payment.reference, payment.userId.toLower(), payment.currency, payment.amount.toString(decimals))
                                     .toUtf8();
    return QStringLiteral("0x") + QString::fromLatin1(QCryptographicHash::hash(canonical, QCryptographicHash::Keccak_256).toHex());
}

SettlementSubmission MockSettlement::submitIn(SqlTransaction &tx, const QList<SettlementPayment> &payments)
{
    SettlementSubmission out;
    QStringList hashes, references, users, currencies, amounts;
    for (qsizetype i = 0; i < payments.size(); ++i) {
        const SettlementPayment &p = payments[i];
        const QString which = QStringLiteral("payment %1 (%2)").arg(i).arg(p.reference.left(60));
        if (p.reference.isEmpty() || p.reference.size() > MaxReferenceLength) {
            out.failure = QStringLiteral("payment %1 needs a reference of 1 to %2 characters").arg(i).arg(MaxReferenceLength);
            return out;
        }
        if (QUuid::fromString(p.userId).isNull()) {
            out.failure = which + QStringLiteral(": the user id is not a UUID");
            return out;
        }
        const CurrencyLookup currency = m_currencies.findIn(tx, p.currency);
        if (currency.error) {
            out.error = currency.error;
            return out;
        }
        if (!currency.currency) {
            out.failure = which + QStringLiteral(": unknown currency %1").arg(p.currency);
            return out;
        }
        if (p.amount.signum() <= 0 || p.amount.round(currency.currency->decimals) != p.amount) {
            out.failure = which + QStringLiteral(": the amount must be positive with at most %1 decimals").arg(currency.currency->decimals);
            return out;
        }
        SettlementPayment normal = p;
        normal.currency = currency.currency->code;
        normal.userId = p.userId.toLower();
        hashes.append(txHash(normal, currency.currency->decimals));
        references.append(p.reference);
        users.append(normal.userId);
        currencies.append(normal.currency);
        amounts.append(p.amount.toString(currency.currency->decimals));
    }
    if (payments.isEmpty())
        return out;
    // A reference given twice in this batch must be the same payment: its hash is derived from the
    // payment, so a differing hash means a different one. Each reference is inserted once.
    QHash<QString, qsizetype> first; // reference -> its first payment's index
    QStringList rowHashes, rowReferences, rowUsers, rowCurrencies, rowAmounts;
    for (qsizetype i = 0; i < payments.size(); ++i) {
        const auto seen = first.constFind(references[i]);
        if (seen != first.cend()) {
            if (hashes[*seen] != hashes[i]) {
                out.failure = QStringLiteral("payment %1: reference %2 was already used for a different payment").arg(i).arg(references[i].left(60));
                return out;
            }
            continue;
        }
        first.insert(references[i], i);
        rowHashes.append(hashes[i]);
        rowReferences.append(references[i]);
        rowUsers.append(users[i]);
        rowCurrencies.append(currencies[i]);
        rowAmounts.append(amounts[i]);
    }
    // One statement for the whole batch; a payment submitted before (either key) is left as it
    // is. Both unique indexes arbitrate: with the reference alone, a transaction inserting the same
    // payment at the same moment would fail on the primary key instead of getting the receipt.
    // host_now() once for the statement (an InitPlan), not once per row: it reads the host clock's offset.
    const SqlResult inserted = tx.exec(QStringLiteral("INSERT INTO integrations_settlement (tx_hash, reference, user_id, currency, amount, submitted_at) "
                                                      "SELECT h, r, u::uuid, c, a::numeric, (SELECT host_now()) FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) AS t(h, r, u, c, a) "
                                                      "ON CONFLICT DO NOTHING"),
                                       {rowHashes, rowReferences, rowUsers, rowCurrencies, rowAmounts});
    if (inserted.error()) {
        out.error = inserted.error();
        return out;
    }
    // Every reference new (the daily payout's case): nothing to read back. Otherwise the stored
    // rows of this batch's references say which were submitted before, and with which hash.
    QHash<QString, std::pair<QString, QString>> stored; // reference -> (tx hash, status)
    const bool allNew = inserted.rowsAffected() == rowReferences.size();
    if (!allNew) {
        const SqlResult rows = tx.exec(QStringLiteral("SELECT reference, tx_hash, status FROM integrations_settlement WHERE reference = ANY(?::text[])"), {rowReferences});
        if (rows.error()) {
            out.error = rows.error();
            return out;
        }
        for (qsizetype i = 0; i < rows.size(); ++i)
            stored.insert(rows.string(i, QStringLiteral("reference")), {rows.string(i, QStringLiteral("tx_hash")), rows.string(i, QStringLiteral("status"))});
    }
    for (qsizetype i = 0; i < payments.size(); ++i) {
        const auto row = allNew ? std::pair{hashes[i], QStringLiteral("submitted")} : stored.value(references[i]);
        if (row.first != hashes[i]) {
            out.failure = QStringLiteral("payment %1: reference %2 was already used for a different payment").arg(i).arg(references[i].left(60));
            out.receipts.clear();
            return out;
        }
        out.receipts.append(SettlementReceipt{references[i], row.first, row.second});
    }
    return out;
}

QCoro::Task<SettlementLookup> MockSettlement::status(QString txHash)
{
    SettlementLookup out;
    if (txHash.size() != 66 || !txHash.startsWith(QLatin1String("0x")))
        co_return out;
    const QVariantList params{txHash.toLower()};
    const SqlResult r = co_await m_db.query(QStringLiteral("SELECT tx_hash, reference, user_id::text AS user_id, currency, amount, status, submitted_at, confirmed_at "
                                                          "FROM integrations_settlement WHERE tx_hash = ?"),
                                            params);
    out.error = r.error();
    if (r.error() || r.isEmpty())
        co_return out;
    SettlementRecord s;
    s.txHash = r.string(0, QStringLiteral("tx_hash"));
    s.reference = r.string(0, QStringLiteral("reference"));
    s.userId = r.string(0, QStringLiteral("user_id"));
    s.currency = r.string(0, QStringLiteral("currency"));
    s.amount = r.decimal(0, QStringLiteral("amount")).value_or(Decimal());
    s.status = r.string(0, QStringLiteral("status"));
    s.submittedAt = r.value(0, QStringLiteral("submitted_at")).toDateTime().toUTC();
    if (!r.isNull(0, QStringLiteral("confirmed_at")))
        s.confirmedAt = r.value(0, QStringLiteral("confirmed_at")).toDateTime().toUTC();
    out.record = s;
    co_return out;
}

QCoro::Task<Status> MockSettlement::confirm(JobContext &job)
{
    qint64 total = 0;
    for (;;) {
        qint64 confirmed = 0;
        auto batch = [&](SqlTransaction &tx) -> Status {
            const SqlResult r = tx.exec(QStringLiteral("UPDATE integrations_settlement SET status = 'confirmed', confirmed_at = host_now() "
                                                       "WHERE tx_hash IN (SELECT tx_hash FROM integrations_settlement WHERE status = 'submitted' "
                                                       "AND submitted_at <= host_now() - make_interval(secs => ?) ORDER BY submitted_at LIMIT ? FOR UPDATE SKIP LOCKED) "
                                                       "RETURNING tx_hash, reference, user_id::text AS user_id, currency, amount::text AS amount"),
                                        {double(m_confirmSeconds), ConfirmBatch});
            if (r.error())
                return Status::failure(r.error().message);
            for (qsizetype i = 0; i < r.size(); ++i) {
                const QJsonObject data{{QStringLiteral("tx_hash"), r.string(i, QStringLiteral("tx_hash"))},
                                       {QStringLiteral("reference"), r.string(i, QStringLiteral("reference"))},
                                       {QStringLiteral("currency"), r.string(i, QStringLiteral("currency"))},
                                       {QStringLiteral("amount"), r.string(i, QStringLiteral("amount"))}};
                const DbError published = publishIn(tx, QString::fromLatin1(ConfirmedTopic), r.string(i, QStringLiteral("user_id")), data);
                if (published)
                    return Status::failure(published.message);
            }
            confirmed = r.size();
            return {};
        };
        const TransactionOutcome outcome = co_await m_db.transaction(std::move(batch));
        if (!outcome.committed)
            co_return Status::failure(QStringLiteral("confirming settlements failed: %1").arg(outcome.failure.isEmpty() ? outcome.error.message : outcome.failure));
        total += confirmed;
        if (confirmed < ConfirmBatch)
            break;
    }
    job.progress(QStringLiteral("confirmed %1 settlements").arg(total));
    co_return Status{};
}

} // namespace yieldhost::integrations
