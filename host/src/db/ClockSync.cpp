#include "db/ClockSync.h"

#include "core/Logging.h"
#include "db/DbPool.h"
#include "db/PgListener.h"

#include <QtCore/QPointer>

#include <QCoro/QCoroTimer>

namespace yieldhost {

ClockSync::ClockSync(DbPool &db, HostClock &clock, int resyncMs, QObject *parent)
    : QObject(parent)
    , m_db(db)
    , m_clock(clock)
{
    m_resync.setInterval(resyncMs);
    connect(&m_resync, &QTimer::timeout, this, [this] { refresh(); });
}

ClockSync::~ClockSync()
{
    m_stopping = true;
}

QCoro::Task<DbError> ClockSync::start()
{
    QPointer<ClockSync> self(this);
    const DbError error = co_await refresh();
    if (!self)
        co_return error;
    m_listener = std::make_unique<PgListener>(m_db.primaryUrl(), QStringLiteral("yieldhost-clock"), QStringList{QString::fromLatin1(NotifyChannel)});
    connect(m_listener.get(), &PgListener::notified, this, [this](const QString &payload) {
        bool ok = false;
        const qint64 offset = payload.toLongLong(&ok);
        if (ok)
            apply(offset);
        else
            refresh();
    });
    connect(m_listener.get(), &PgListener::subscribed, this, [this] { refresh(); }); // whatever changed while nobody listened
    m_listener->start();
    m_resync.start();
    co_return error;
}

QCoro::Task<> ClockSync::stop()
{
    m_stopping = true;
    m_resync.stop();
    QPointer<ClockSync> self(this);
    if (m_listener)
        co_await m_listener->stop();
    // A read still in flight at exit would leave its coroutine frame behind: wait for it too.
    while (self && m_reading > 0)
        co_await QCoro::sleepFor(std::chrono::milliseconds(10));
}

QCoro::Task<DbError> ClockSync::refresh()
{
    if (m_stopping)
        co_return DbError{};
    QPointer<ClockSync> self(this);
    ++m_reading;
    const SqlResult r = co_await m_db.query(QStringLiteral("SELECT offset_ms FROM host_clock"));
    if (!self)
        co_return r.error();
    --m_reading;
    if (r.error()) {
        qCDebug(lcDb).noquote() << "host clock: cannot read the offset:" << r.error().message;
        co_return r.error();
    }
    if (!r.isEmpty())
        apply(r.integer(0, QStringLiteral("offset_ms")));
    co_return DbError{};
}

void ClockSync::advanceTo(qint64 offsetMs)
{
    if (offsetMs > m_clock.offsetMs())
        apply(offsetMs);
}

void ClockSync::apply(qint64 offsetMs)
{
    if (offsetMs == m_clock.offsetMs())
        return;
    m_clock.setOffsetMs(offsetMs);
    qCInfo(lcHost).noquote() << QStringLiteral("host clock: %1 s ahead of real time, now %2")
                                    .arg(offsetMs / 1000)
                                    .arg(m_clock.now().toString(Qt::ISODate));
}

} // namespace yieldhost
