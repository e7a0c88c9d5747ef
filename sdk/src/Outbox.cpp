#include "yieldhost/Outbox.h"
#include "yieldhost/HostAccess.h"

#include <QtCore/QJsonDocument>

#include <atomic>
#include <utility>

namespace yieldhost {

namespace {
std::atomic<qint64> g_written{0};
thread_local bool t_writtenHere = false;
}

qint64 OutboxCounters::written()
{
    return g_written.load(std::memory_order_relaxed);
}

bool OutboxCounters::takeWrittenOnThisThread()
{
    return std::exchange(t_writtenHere, false);
}

DbError publishIn(SqlTransaction &tx, const QString &topic, const QString &userId, const QJsonObject &data)
{
    // Deferred: nothing of the insert's answer is needed, and it travels with the next statement.
    // No NOTIFY here: the host wakes the relays after the commit (db/OutboxNotifier.h says why).
    tx.defer(QStringLiteral("INSERT INTO host_outbox (topic, user_id, data) VALUES (?, ?, ?::jsonb)"),
             {topic, userId.isEmpty() ? QVariant() : QVariant(userId), QString::fromUtf8(QJsonDocument(data).toJson(QJsonDocument::Compact))});
    g_written.fetch_add(1, std::memory_order_relaxed);
    t_writtenHere = true;
    return {};
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
    tx.defer(QStringLiteral("INSERT INTO host_outbox (topic, user_id, data) "
                            "SELECT t, u, d::jsonb FROM unnest(?::text[], ?::text[], ?::text[]) WITH ORDINALITY AS x(t, u, d, n) ORDER BY n"),
             {topics, users, data});
    g_written.fetch_add(events.size(), std::memory_order_relaxed);
    t_writtenHere = true;
    return {};
}

} // namespace yieldhost
