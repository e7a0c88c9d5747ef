#include "db/PgSession.h"

#include "core/Logging.h"

#include "yieldhost/RunOn.h"

#include "yieldhost/HostAccess.h"

namespace yieldhost {

PgSession::PgSession(DatabaseUrl url, QString applicationName, QObject *parent)
    : QObject(parent)
    , m_url(std::move(url))
    , m_applicationName(applicationName.toUtf8())
{
    m_thread.setMaxThreadCount(1);
    m_thread.setExpiryTimeout(-1);
}

PgSession::~PgSession()
{
    m_thread.waitForDone();
    m_notifier.reset();
    closeConnection();
}

void PgSession::closeConnection()
{
    if (m_notifier) {
        // Possibly called from the notifier's own signal.
        m_notifier->setEnabled(false);
        m_notifier.release()->deleteLater();
    }
    m_exec.reset();
    if (m_connection)
        PQfinish(m_connection);
    m_connection = nullptr;
}

bool PgSession::ensureOpen(QString *error)
{
    if (m_connection && PQstatus(m_connection) == CONNECTION_OK)
        return true;
    closeConnection();
    m_connection = PgExec::connect(m_url, m_applicationName.constData(), error);
    if (!m_connection)
        return false;
    m_exec = std::make_unique<PgExec>(m_connection);
    return true;
}

QCoro::Task<SqlResult> PgSession::exec(QString sql, QVariantList params)
{
    Q_ASSERT(!m_notifier);
    auto work = [this, sql, params] {
        QString error;
        if (!ensureOpen(&error)) {
            SqlResult failed;
            DbError e;
            e.kind = DbError::Kind::Unavailable;
            e.message = error;
            SqlResultWriter::setError(failed, e);
            return failed;
        }
        SqlResult r = m_exec->exec(sql, params);
        if (r.error().kind == DbError::Kind::Unavailable)
            closeConnection();
        return r;
    };
    co_return co_await runOn(&m_thread, work);
}

QCoro::Task<bool> PgSession::listen(QStringList channels)
{
    m_notifier.reset();
    auto work = [this, channels] {
        QString error;
        if (!ensureOpen(&error)) {
            qCDebug(lcDb).noquote() << "listener cannot connect:" << error;
            return false;
        }
        for (const QString &channel : channels) {
            // Channel names are the host's own constants ([a-z_]), never input.
            const QByteArray sql = "LISTEN " + channel.toLatin1();
            PGresult *res = PQexec(m_connection, sql.constData());
            const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
            PQclear(res);
            if (!ok) {
                closeConnection();
                return false;
            }
        }
        return true;
    };
    const bool ok = co_await runOn(&m_thread, work);
    if (!ok)
        co_return false;
    // From here on the session belongs to this thread: only notifications arrive on it.
    PQsetnonblocking(m_connection, 1);
    m_notifier = std::make_unique<QSocketNotifier>(PQsocket(m_connection), QSocketNotifier::Read);
    connect(m_notifier.get(), &QSocketNotifier::activated, this, &PgSession::readNotifications);
    readNotifications(); // anything that arrived with the LISTEN replies
    co_return true;
}

void PgSession::readNotifications()
{
    if (!m_connection)
        return;
    if (!PQconsumeInput(m_connection) || PQstatus(m_connection) != CONNECTION_OK) {
        qCWarning(lcDb).noquote() << "notification session lost:" << QString::fromUtf8(PQerrorMessage(m_connection)).trimmed();
        closeConnection();
        Q_EMIT disconnected();
        return;
    }
    while (PGnotify *n = PQnotifies(m_connection)) {
        const QString channel = QString::fromUtf8(n->relname);
        const QString payload = QString::fromUtf8(n->extra);
        PQfreemem(n);
        Q_EMIT notified(channel, payload);
    }
}

} // namespace yieldhost
