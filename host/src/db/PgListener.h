// PgListener.h — a LISTEN subscription that stays subscribed: a dedicated PgSession that is
// re-subscribed (every second until the server answers) whenever it drops.
//
// subscribed() fires after every (re)subscription: a notification sent while nobody listened is
// lost, so the owner reads what it may have missed then. stop() returns once no subscription
// attempt is in flight, because destroying the session mid-statement would resume a coroutine
// into freed memory.
#pragma once

#include "db/DatabaseUrl.h"

#include <QtCore/QObject>
#include <QtCore/QStringList>

#include <QCoro/QCoroTask>

#include <memory>

namespace yieldhost {

class PgSession;

class PgListener : public QObject
{
    Q_OBJECT
public:
    PgListener(DatabaseUrl url, QString applicationName, QStringList channels, QObject *parent = nullptr);
    ~PgListener() override;

    void start();
    QCoro::Task<> stop();

Q_SIGNALS:
    void notified(const QString &payload);
    void subscribed();

private:
    QCoro::Task<> subscribe();

    QStringList m_channels;
    std::unique_ptr<PgSession> m_session;
    bool m_subscribing = false;
    bool m_stopping = false;
};

} // namespace yieldhost
