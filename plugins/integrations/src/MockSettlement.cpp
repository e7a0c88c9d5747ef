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
    // One statement for the whole batch; a payment submitted before (either key) is left as it is.
    // host_now() once for the statement (an InitPlan), not once per row: it reads the host clock's offset.
    const SqlResult inserted = tx.exec(QStringLiteral("INSERT INTO integrations_settlement (tx_hash, reference, user_id, currency, amount, submitted_at) "
                                                      "SELECT h, r, u::uuid, c, a::numeric, (SELECT host_now()) FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) AS t(h, r, u, c, a) "
                                                      "ON CONFLICT DO NOTHING RETURNING reference, tx_hash"),
                                       {hashes, references, users, currencies, amounts});
    if (inserted.error()) {
        out.error = inserted.error();
        return out;
    }
    // Only the payments submitted before (not inserted now) are read back, to compare their hash;
    // a reference given twice in this batch is compared with the row its first payment made.
    QHash<QString, QString> fresh; // reference -> the tx hash inserted now
    for (qsizetype i = 0; i < inserted.size(); ++i)
        fresh.insert(inserted.string(i, QStringLiteral("reference")), inserted.string(i, QStringLiteral("tx_hash")));
    QStringList earlier;
    for (const QString &reference : std::as_const(references)) {
        if (!fresh.contains(reference))
            earlier.append(reference);
    }
    QHash<QString, std::pair<QString, QString>> byReference;
    if (!earlier.isEmpty()) {
        const SqlResult stored = tx.exec(QStringLiteral("SELECT reference, tx_hash, status FROM integrations_settlement WHERE reference = ANY(?::text[])"), {earlier});
        if (stored.error()) {
            out.error = stored.error();
            return out;
        }
        for (qsizetype i = 0; i < stored.size(); ++i)
            byReference.insert(stored.string(i, QStringLiteral("reference")), {stored.string(i, QStringLiteral("tx_hash")), stored.string(i, QStringLiteral("status"))});
    }
    for (qsizetype i = 0; i < payments.size(); ++i) {
        const auto now = fresh.constFind(references[i]);
        const auto row = now != fresh.cend() ? std::pair{*now, QStringLiteral("submitted")} : byReference.value(references[i]);
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
