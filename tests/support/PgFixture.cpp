#include "PgFixture.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QDebug>
#include <QtCore/QProcess>
#include <QtNetwork/QTcpServer>

namespace yieldhost::test {

namespace {
quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}
} // namespace

PgFixture::PgFixture() : m_dir(QStringLiteral("/tmp/yh-pg-XXXXXX")) {}

PgFixture::~PgFixture()
{
    if (m_server)
        m_server->stop();
}

bool PgFixture::start(QString *error)
{
    if (!m_dir.isValid()) {
        *error = QStringLiteral("cannot create a temporary directory");
        return false;
    }
    m_port = freePort();
    return startServer(error);
}

bool PgFixture::startServer(QString *error)
{
    EmbeddedPostgres::Options options;
    options.dataDirectory = m_dir.path();
    options.tcpPort = m_port;
    options.fastUnsafe = true;
    options.database = QStringLiteral("postgres");
    m_server = std::make_unique<EmbeddedPostgres>(options);
    const Status s = m_server->start();
    if (!s)
        *error = s.error();
    return s.ok();
}

QString PgFixture::psql(const QString &database, const QString &sql, QString *error) const
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("PGPASSWORD"), m_server->password()); // TCP connections to the cluster use SCRAM
    p.setProcessEnvironment(env);
    p.start(QStringLiteral("psql"), {QStringLiteral("-h"), QStringLiteral("127.0.0.1"), QStringLiteral("-p"), QString::number(m_port),
                                     QStringLiteral("-U"), QStringLiteral("yieldhost"), QStringLiteral("-d"), database,
                                     QStringLiteral("-v"), QStringLiteral("ON_ERROR_STOP=1"), QStringLiteral("-Atqc"), sql});
    const bool finished = p.waitForFinished(30000);
    if (!finished || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
        const QString why = finished ? QString::fromUtf8(p.readAllStandardError()).trimmed() : QStringLiteral("psql did not finish in 30 s");
        if (error)
            *error = why.isEmpty() ? QStringLiteral("psql failed") : why;
        else // a setup statement nobody checks: say so where the test's failure will be read
            qWarning().noquote() << "PgFixture::psql failed:" << why << "\n  for:" << sql.left(200);
    }
    return QString::fromUtf8(p.readAllStandardOutput()).trimmed();
}

QString PgFixture::createDatabase(QString *error)
{
    const QString name = QStringLiteral("t%1_%2").arg(QCoreApplication::applicationPid()).arg(++m_databases);
    QString e;
    psql(QStringLiteral("postgres"), QStringLiteral("CREATE DATABASE %1").arg(name), &e);
    if (!e.isEmpty()) {
        *error = e;
        return {};
    }
    return QStringLiteral("postgres://yieldhost:%1@127.0.0.1:%2/%3").arg(m_server->password()).arg(m_port).arg(name);
}

void PgFixture::stopServer() { m_server->stop(); }

bool PgFixture::restartServer(QString *error) { return startServer(error); }

} // namespace yieldhost::test
