#include "yieldhost/Outbox.h"
#include "yieldhost/HostAccess.h"

#include <QtCore/QJsonDocument>

#include <atomic>

namespace yieldhost {

namespace {
std::atomic<qint64> g_written{0};
}

qint64 OutboxCounters::written()
{
    return g_written.load(std::memory_order_relaxed);
}

DbError publishIn(SqlTransaction &tx, const QString &topic, const QString &userId, const QJsonObject &data)
{
    // The NOTIFY is delivered at commit, and only if the transaction commits; PostgreSQL folds
    // identical notifications of one transaction into one, so a batch costs one wake-up.
    const SqlResult r = tx.exec(QStringLiteral("WITH row AS (INSERT INTO host_outbox (topic, user_id, data) VALUES (?, ?, ?::jsonb) RETURNING id) "
                                               "SELECT pg_notify('yieldhost_outbox', '') FROM row"),
                                {topic, userId.isEmpty() ? QVariant() : QVariant(userId),
                                 QString::fromUtf8(QJsonDocument(data).toJson(QJsonDocument::Compact))});
    if (!r.error())
        g_written.fetch_add(1, std::memory_order_relaxed);
    return r.error();
}

DbError publishAllIn(SqlTransaction &tx, const QList<OutboxEvent> &events)
{
    if (events.isEmpty())
        return {};
    QStringList topics, users, data;
    topics.reserve(events.size());
    users.reserve(events.size());
    data.reserve(events.size());
    for (const OutboxEvent &e : events) {
        topics.append(e.topic);
        users.append(e.userId.isEmpty() ? QString() : e.userId); // a null string is SQL NULL
        data.append(QString::fromUtf8(QJsonDocument(e.data).toJson(QJsonDocument::Compact)));
    }
    // WITH ORDINALITY keeps the ids (and so the delivery order) in the order given.
    const SqlResult r = tx.exec(QStringLiteral("WITH rows AS (INSERT INTO host_outbox (topic, user_id, data) "
                                               "SELECT t, u, d::jsonb FROM unnest(?::text[], ?::text[], ?::text[]) WITH ORDINALITY AS x(t, u, d, n) ORDER BY n "
                                               "RETURNING id) SELECT pg_notify('yieldhost_outbox', '') FROM (SELECT 1 FROM rows LIMIT 1) AS one"),
                                {topics, users, data});
    if (!r.error())
        g_written.fetch_add(events.size(), std::memory_order_relaxed);
    return r.error();
}

} // namespace yieldhost
