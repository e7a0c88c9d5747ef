#include "db/PgListener.h"

#include "db/PgSession.h"

#include <QtCore/QPointer>

#include <QCoro/QCoroTimer>

namespace yieldhost {

PgListener::PgListener(DatabaseUrl url, QString applicationName, QStringList channels, QObject *parent)
    : QObject(parent)
    , m_channels(std::move(channels))
    , m_session(std::make_unique<PgSession>(std::move(url), std::move(applicationName)))
{
    connect(m_session.get(), &PgSession::notified, this, [this](const QString &, const QString &payload) { Q_EMIT notified(payload); });
    connect(m_session.get(), &PgSession::disconnected, this, [this] { subscribe(); });
}

PgListener::~PgListener()
{
    m_stopping = true;
}

void PgListener::start()
{
    subscribe();
}

QCoro::Task<> PgListener::stop()
{
    m_stopping = true;
    QPointer<PgListener> self(this);
    while (self && m_subscribing)
        co_await QCoro::sleepFor(std::chrono::milliseconds(10));
    if (self)
        m_session.reset();
}

QCoro::Task<> PgListener::subscribe()
{
    if (m_subscribing || !m_session)
        co_return;
    m_subscribing = true;
    QPointer<PgListener> self(this);
    while (self && !m_stopping) {
        const QStringList channels = m_channels;
        const bool ok = co_await m_session->listen(channels);
        if (!self)
            co_return;
        if (ok) {
            if (!m_stopping)
                Q_EMIT subscribed();
            break;
        }
        co_await QCoro::sleepFor(std::chrono::milliseconds(1000));
    }
    if (self)
        m_subscribing = false;
}

} // namespace yieldhost
