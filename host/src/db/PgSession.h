// PgSession.h — one dedicated libpq session, for what a pooled connection cannot do:
// LISTEN (the session must stay subscribed) and session-level advisory locks (held exactly as
// long as the session lives, so a process that dies releases its lock).
//
// Statements run on the connection's own thread and are awaited; notifications are read on the
// owner's thread through a socket notifier. A lost session is reopened on the next statement.
#pragma once

#include "db/DatabaseUrl.h"
#include "db/PgExec.h"

#include <QtCore/QObject>
#include <QtCore/QSocketNotifier>
#include <QtCore/QThreadPool>

#include <QCoro/QCoroTask>

#include <memory>

namespace yieldhost {

class PgSession : public QObject
{
    Q_OBJECT
public:
    PgSession(DatabaseUrl url, QString applicationName, QObject *parent = nullptr);
    ~PgSession() override;

    // Opens the session if needed, then runs one statement. Never call while listening.
    QCoro::Task<SqlResult> exec(QString sql, QVariantList params = {});
    // (Re)opens the session and subscribes to `channels`; notified() fires from then on, until
    // the session drops (disconnected()). Returns false when the server cannot be reached.
    QCoro::Task<bool> listen(QStringList channels);
    bool isOpen() const { return m_connection != nullptr; }

Q_SIGNALS:
    void notified(const QString &channel, const QString &payload);
    void disconnected();

private:
    bool ensureOpen(QString *error); // on the connection's thread
    void closeConnection();
    void readNotifications();

    DatabaseUrl m_url;
    QByteArray m_applicationName;
    PGconn *m_connection = nullptr;
    std::unique_ptr<PgExec> m_exec;
    std::unique_ptr<QSocketNotifier> m_notifier;
    QThreadPool m_thread; // one thread: the session is used by one thread at a time
};

} // namespace yieldhost
