#include "NotificationStore.h"

#include "yieldhost/Outbox.h"
#include "yieldhost/services/ExchangeRates.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QPointer>

namespace yieldhost::notifications {

namespace {

// Events gathered this long are written in one transaction: a batch of a thousand payouts
// becomes one INSERT, not a thousand.
constexpr int BatchDelayMs = 20;
constexpr qsizetype MaxBatch = 1000;

const QString YieldPaidTopic = topics::YieldPaid;
const QString SettlementConfirmedTopic = QStringLiteral("settlement.confirmed");
const QString StatementReadyTopic = QStringLiteral("statement.ready");
const QString WalletDepositedTopic = QStringLiteral("wallet.deposited");

QString text(const QJsonObject &data, const char *key) { return data.value(QLatin1String(key)).toString(); }

} // namespace

const QStringList &NotificationStore::sourceTopics()
{
    static const QStringList topics{YieldPaidTopic, SettlementConfirmedTopic, StatementReadyTopic, WalletDepositedTopic};
    return topics;
}

const QString &NotificationStore::columns()
{
    static const QString c = QStringLiteral("id::text AS id, kind, title, body, data::text AS data, read, created_at");
    return c;
}

QJsonObject NotificationStore::json(const SqlResult &r, qsizetype row)
{
    return QJsonObject{{QStringLiteral("id"), r.string(row, QStringLiteral("id"))},
                       {QStringLiteral("kind"), r.string(row, QStringLiteral("kind"))},
                       {QStringLiteral("title"), r.string(row, QStringLiteral("title"))},
                       {QStringLiteral("body"), r.string(row, QStringLiteral("body"))},
                       {QStringLiteral("data"), QJsonDocument::fromJson(r.string(row, QStringLiteral("data")).toUtf8()).object()},
                       {QStringLiteral("read"), r.value(row, QStringLiteral("read")).toBool()},
                       {QStringLiteral("created_at"), r.value(row, QStringLiteral("created_at")).toDateTime().toUTC().toString(Qt::ISODateWithMs)}};
}

NotificationStore::NotificationStore(PluginContext &context, const Decimal &largeDepositUsd)
    : m_context(context)
    , m_largeDepositUsd(largeDepositUsd)
{
    m_batchTimer.setSingleShot(true);
    m_batchTimer.setInterval(BatchDelayMs);
    connect(&m_batchTimer, &QTimer::timeout, this, [this] { writePending(); });
}

void NotificationStore::start(ExchangeRates *rates)
{
    m_rates = rates;
    for (const QString &topic : sourceTopics())
        m_context.events().subscribe(topic, this, [this](const Event &e) { received(e); });
}

std::optional<NotificationStore::Draft> NotificationStore::draftFor(const Event &e)
{
    const QJsonObject &d = e.data;
    if (e.topic == YieldPaidTopic && !text(d, "tx_hash").isEmpty())
        return Draft{e.userId, QStringLiteral("yield_paid"), QStringLiteral("Yield paid"),
                     QStringLiteral("%1 %2 of yield was paid into your wallet.").arg(text(d, "amount"), text(d, "currency")), d,
                     QStringLiteral("yield.paid:") + text(d, "tx_hash")};
    if (e.topic == SettlementConfirmedTopic && !text(d, "tx_hash").isEmpty())
        return Draft{e.userId, QStringLiteral("settlement_confirmed"), QStringLiteral("Settlement confirmed"),
                     QStringLiteral("The settlement of %1 %2 was confirmed (%3).").arg(text(d, "amount"), text(d, "currency"), text(d, "tx_hash")), d,
                     QStringLiteral("settlement.confirmed:") + text(d, "tx_hash")};
    if (e.topic == StatementReadyTopic && !text(d, "statement_id").isEmpty())
        return Draft{e.userId, QStringLiteral("statement_ready"), QStringLiteral("Statement ready"),
                     QStringLiteral("Your statement for %1 is ready to download.").arg(text(d, "period")), d,
                     QStringLiteral("statement.ready:") + text(d, "statement_id")};
    return std::nullopt;
}

void NotificationStore::received(const Event &event)
{
    if (event.userId.isEmpty())
        return;
    if (event.topic == WalletDepositedTopic) {
        if (!text(event.data, "transaction_id").isEmpty())
            m_deposits.append(event);
    } else if (std::optional<Draft> draft = draftFor(event)) {
        m_pending.append(std::move(*draft));
    }
    if (!m_writing && !m_batchTimer.isActive())
        m_batchTimer.start();
}

QCoro::Task<QList<NotificationStore::Draft>> NotificationStore::largeDeposits(QList<Event> deposits)
{
    // Which deposits reach the threshold, in USD. A deposit whose currency has no fresh rate
    // cannot be judged: it makes no notification rather than a guess.
    QList<ConversionRequest> requests;
    QList<Event> judged;
    for (const Event &e : std::as_const(deposits)) {
        const std::optional<Decimal> amount = Decimal::fromString(text(e.data, "amount"));
        if (!amount)
            continue;
        requests.append(ConversionRequest{*amount, text(e.data, "currency"), QStringLiteral("USD")});
        judged.append(e);
    }
    QList<Conversion> converted;
    if (m_rates && !requests.isEmpty()) {
        converted = co_await m_rates->convertAll(requests);
    } else {
        for (const ConversionRequest &r : std::as_const(requests)) {
            Conversion c;
            c.problem = r.from == QLatin1String("USD") ? RateProblem::None : RateProblem::Unavailable;
            c.result = r.amount;
            converted.append(c);
        }
    }
    QList<Draft> drafts;
    for (qsizetype i = 0; i < judged.size() && i < converted.size(); ++i) {
        if (!converted[i] || converted[i].result < m_largeDepositUsd)
            continue;
        const QJsonObject &d = judged[i].data;
        drafts.append(Draft{judged[i].userId, QStringLiteral("large_deposit"), QStringLiteral("Large deposit"),
                            QStringLiteral("%1 %2 was deposited into your wallet.").arg(text(d, "amount"), text(d, "currency")), d,
                            QStringLiteral("wallet.deposited:") + text(d, "transaction_id")});
    }
    co_return drafts;
}

QCoro::Task<> NotificationStore::writePending()
{
    if (m_writing)
        co_return;
    m_writing = true;
    QPointer<NotificationStore> self(this);
    while (!m_pending.isEmpty() || !m_deposits.isEmpty()) {
        QList<Draft> batch = m_pending.mid(0, MaxBatch);
        m_pending.remove(0, batch.size());
        QList<Event> deposits = m_deposits.mid(0, MaxBatch);
        m_deposits.remove(0, deposits.size());
        if (!deposits.isEmpty()) {
            const QList<Draft> large = co_await largeDeposits(std::move(deposits));
            if (!self)
                co_return;
            batch.append(large);
        }
        if (batch.isEmpty())
            continue;

        QStringList users, kinds, titles, bodies, data, sources;
        for (const Draft &d : std::as_const(batch)) {
            users.append(d.userId);
            kinds.append(d.kind);
            titles.append(d.title);
            bodies.append(d.body);
            data.append(QString::fromUtf8(QJsonDocument(d.data).toJson(QJsonDocument::Compact)));
            sources.append(d.source);
        }
        auto write = [&](SqlTransaction &tx) -> Status {
            // Every process tries; the unique source lets one insert win, and only the winner's
            // rows come back to be pushed.
            const SqlResult r = tx.exec(QStringLiteral("INSERT INTO notifications_notification (user_id, kind, title, body, data, source) "
                                                       "SELECT u::uuid, k, t, b, d::jsonb, s FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) "
                                                       "WITH ORDINALITY AS x(u, k, t, b, d, s, n) WHERE EXISTS (SELECT 1 FROM users_user WHERE id = u::uuid) ORDER BY n "
                                                       "ON CONFLICT (source) DO NOTHING RETURNING user_id::text AS user_id, ")
                                            + columns(),
                                        {users, kinds, titles, bodies, data, sources});
            if (r.error())
                return Status::failure(r.error().message);
            QList<OutboxEvent> pushes;
            for (qsizetype i = 0; i < r.size(); ++i)
                pushes.append(OutboxEvent{topics::Notification, r.string(i, QStringLiteral("user_id")), json(r, i)});
            if (const DbError published = publishAllIn(tx, pushes))
                return Status::failure(published.message);
            return {};
        };
        const TransactionOutcome outcome = co_await m_context.database().transaction(std::move(write));
        if (!self)
            co_return;
        if (!outcome.committed)
            qCWarning(m_context.log()).noquote() << "could not store" << batch.size() << "notifications:"
                                                 << (outcome.error ? outcome.error.message : outcome.failure);
    }
    m_writing = false;
}

} // namespace yieldhost::notifications
