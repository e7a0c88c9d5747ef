#include "HostCluster.h"

#include <QtCore/QProcess>
#include <QtCore/QUrl>

namespace yieldhost::test {

bool HostCluster::open(QString *error)
{
    if (!m_pg.start(error))
        return false;
    m_url = m_pg.createDatabase(error);
    if (m_url.isEmpty())
        return false;
    m_database = QUrl(m_url).path().mid(1);
    m_shared.insert(QStringLiteral("YIELDHOST_DATABASE_URL"), m_url);
    m_shared.insert(QStringLiteral("YIELDHOST_JWT_SECRET"), QStringLiteral("cluster-test-secret-0123456789abcdef0123456789"));
    m_shared.insert(QStringLiteral("YIELDHOST_HTTP__ACCESS_LOG"), QStringLiteral("0"));
    return true;
}

QProcessEnvironment HostCluster::environment(const QProcessEnvironment &extra) const
{
    QProcessEnvironment e = m_shared;
    for (const QString &key : extra.keys())
        e.insert(key, extra.value(key));
    return e;
}

std::unique_ptr<HostProcess> HostCluster::start(const QStringList &arguments, const QProcessEnvironment &extra) const
{
    auto p = std::make_unique<HostProcess>(environment(extra), arguments);
    QString error;
    if (!p->start(&error, 60000)) {
        qWarning("%s", qPrintable(error));
        return nullptr;
    }
    return p;
}

QString HostCluster::sql(const QString &statement)
{
    QString error;
    const QString out = m_pg.psql(m_database, statement, &error);
    if (!error.isEmpty())
        qWarning("psql: %s", qPrintable(error));
    return out;
}

QString HostCluster::sqlError(const QString &statements)
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("PGPASSWORD"), m_pg.server().password());
    p.setProcessEnvironment(env);
    p.start(QStringLiteral("psql"), {QStringLiteral("-X"), QStringLiteral("-h"), QStringLiteral("127.0.0.1"), QStringLiteral("-p"),
                                     QString::number(m_pg.port()), QStringLiteral("-U"), QStringLiteral("yieldhost"), QStringLiteral("-d"), m_database,
                                     QStringLiteral("-v"), QStringLiteral("ON_ERROR_STOP=1"), QStringLiteral("-v"), QStringLiteral("VERBOSITY=verbose"),
                                     QStringLiteral("-Atq"), QStringLiteral("-c"), statements});
    if (!p.waitForFinished(30000))
        return QStringLiteral("psql did not finish");
    const QString err = QString::fromUtf8(p.readAllStandardError()).trimmed();
    if (p.exitCode() != 0 && err.isEmpty())
        return QStringLiteral("psql exited with %1").arg(p.exitCode());
    return p.exitCode() == 0 ? QString() : err;
}

} // namespace yieldhost::test
