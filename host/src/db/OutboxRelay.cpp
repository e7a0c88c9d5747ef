#include "db/OutboxRelay.h"

#include "core/Logging.h"
#include "db/DbPool.h"
#include "db/PgListener.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QPointer>

#include <QCoro/QCoroTimer>

namespace yieldhost {

OutboxRelay::OutboxRelay(DbPool &db, EventBus &bus, int pollMs, QObject *parent)
    : QObject(parent)
    , m_db(db)
    , m_bus(bus)
{
    m_poll.setInterval(pollMs);
    connect(&m_poll, &QTimer::timeout, this, [this] { fetch(); });
}

OutboxRelay::~OutboxRelay()
{
    m_stopping = true;
}

QCoro::Task<DbError> OutboxRelay::start()
{
    QPointer<OutboxRelay> self(this);
    // The current end: everything written by transactions older than the oldest one still
    // running is history; what is visible above that point already happened too.
    const SqlResult end = co_await m_db.query(QStringLiteral(
        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon, "
        "  COALESCE((SELECT array_agg(id) FROM host_outbox WHERE writer_xid >= pg_snapshot_xmin(pg_current_snapshot())), '{}')::text AS ahead"));
    if (!self)
        co_return end.error();
    if (end.error()) {
        qCWarning(lcDb).noquote() << "outbox relay: cannot find the current end:" << end.error().message;
        co_return end.error();
    }
    m_cursorXid = end.string(0, QStringLiteral("horizon"));
    m_cursorId = 0;
    const QString ahead = end.string(0, QStringLiteral("ahead"));
    for (const QStringView id : QStringView(ahead).mid(1, ahead.size() - 2).split(u',', Qt::SkipEmptyParts))
        m_ahead.insert(id.toLongLong());
    m_started = true;
    m_listener = std::make_unique<PgListener>(m_db.primaryUrl(), QStringLiteral("yieldhost-outbox"), QStringList{QString::fromLatin1(NotifyChannel)});
    connect(m_listener.get(), &PgListener::notified, this, [this] { fetch(); });
    connect(m_listener.get(), &PgListener::subscribed, this, [this] { fetch(); }); // whatever was written while nobody listened
    m_listener->start();
    m_poll.start();
    co_return DbError{};
}

void OutboxRelay::recordLag(qint64 ms)
{
    ms = std::max<qint64>(0, ms); // the writer's clock is PostgreSQL's, the reader's too; never negative
    const auto bucket = std::lower_bound(LagBucketsMs.cbegin(), LagBucketsMs.cend(), ms);
    m_lagBuckets[std::size_t(bucket - LagBucketsMs.cbegin())].fetch_add(1, std::memory_order_relaxed);
    m_lagSumMs.fetch_add(ms, std::memory_order_relaxed);
}

QByteArray OutboxRelay::lagHistogram() const
{
    QByteArray out = "# HELP yieldhost_outbox_relay_lag_seconds Time from an outbox event's INSERT to its delivery on this process's bus.\n"
                     "# TYPE yieldhost_outbox_relay_lag_seconds histogram\n";
    qint64 cumulative = 0;
    for (std::size_t i = 0; i < LagBucketsMs.size(); ++i) {
        cumulative += m_lagBuckets[i].load(std::memory_order_relaxed);
        out += "yieldhost_outbox_relay_lag_seconds_bucket{le=\"" + QByteArray::number(LagBucketsMs[i] / 1000.0) + "\"} "
               + QByteArray::number(cumulative) + '\n';
    }
    cumulative += m_lagBuckets.back().load(std::memory_order_relaxed);
    out += "yieldhost_outbox_relay_lag_seconds_bucket{le=\"+Inf\"} " + QByteArray::number(cumulative) + '\n';
    out += "yieldhost_outbox_relay_lag_seconds_sum " + QByteArray::number(m_lagSumMs.load(std::memory_order_relaxed) / 1000.0) + '\n';
    out += "yieldhost_outbox_relay_lag_seconds_count " + QByteArray::number(cumulative) + '\n';
    return out;
}

QCoro::Task<> OutboxRelay::stop()
{
    m_stopping = true;
    m_poll.stop();
    QPointer<OutboxRelay> self(this);
    if (m_listener)
        co_await m_listener->stop();
    while (self && m_fetching)
        co_await QCoro::sleepFor(std::chrono::milliseconds(10));
}

QCoro::Task<> OutboxRelay::fetch()
{
    if (!m_started || m_stopping)
        co_return;
    if (m_fetching) { // one reader at a time; a wake-up meanwhile means "read once more"
        m_fetchAgain = true;
        co_return;
    }
    m_fetching = true;
    QPointer<OutboxRelay> self(this);
    bool more = true;
    while (more && self && !m_stopping) {
        m_fetchAgain = false;
        const QVariantList params{m_cursorXid, m_cursorId, BatchSize};
        const SqlResult r = co_await m_db.query(QStringLiteral(
            "SELECT id, topic, user_id, data::text AS data, writer_xid::text AS xid, "
            "  writer_xid < pg_snapshot_xmin(pg_current_snapshot()) AS settled, "
            "  (extract(epoch FROM clock_timestamp() - created_at) * 1000)::bigint AS lag_ms "
            "FROM host_outbox WHERE (writer_xid, id) > (?::xid8, ?::bigint) ORDER BY writer_xid, id LIMIT ?"),
            params);
        if (!self)
            co_return;
        if (r.error()) {
            qCDebug(lcDb).noquote() << "outbox relay: cannot read the outbox:" << r.error().message;
            break;
        }
        bool settledPrefix = true;
        bool progressed = false;
        for (qsizetype i = 0; i < r.size(); ++i) {
            const qint64 id = r.integer(i, QStringLiteral("id"));
            const bool settled = r.value(i, QStringLiteral("settled")).toBool();
            if (!m_ahead.contains(id)) {
                const QJsonObject data = QJsonDocument::fromJson(r.string(i, QStringLiteral("data")).toUtf8()).object();
                // Keyed: one user's event costs that user's subscribers (and the topic-wide ones).
                m_bus.publishFor(r.string(i, QStringLiteral("topic")), r.string(i, QStringLiteral("user_id")), data);
                m_relayed.fetch_add(1, std::memory_order_relaxed);
                recordLag(r.integer(i, QStringLiteral("lag_ms")));
                if (!settled || !settledPrefix)
                    m_ahead.insert(id);
                progressed = true;
            }
            // Rows come in writer order, so the settled ones are a prefix: the cursor moves over it.
            settledPrefix = settledPrefix && settled;
            if (settledPrefix) {
                m_cursorXid = r.string(i, QStringLiteral("xid"));
                m_cursorId = id;
                m_ahead.remove(id);
                progressed = true;
            }
        }
        // A full batch of rows still waiting for an older transaction is not progress: wait for
        // the next wake-up instead of reading the same batch again.
        more = (r.size() == BatchSize && progressed) || m_fetchAgain;
    }
    if (self)
        m_fetching = false;
}

} // namespace yieldhost
