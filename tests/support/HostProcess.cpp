#include "HostProcess.h"

#include "HttpClient.h"

#include <QtCore/QThread>

#include <QtCore/QDeadlineTimer>
#include <QtCore/QRegularExpression>

#include <csignal>

namespace yieldhost::test {

HostProcess::HostProcess(QProcessEnvironment extra, QStringList arguments)
    : m_dataDir(QStringLiteral("/tmp/yh-host-XXXXXX"))
    , m_process(std::make_unique<QProcess>())
    , m_arguments(std::move(arguments))
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const QString &key : env.keys()) {
        if (key.startsWith(QLatin1String("YIELDHOST_")) && key != QLatin1String("YIELDHOST_BINARY")
            && key != QLatin1String("YIELDHOST_TEST_PLUGINS") && key != QLatin1String("YIELDHOST_FIXTURE_PLUGINS"))
            env.remove(key);
    }
    env.insert(QStringLiteral("YIELDHOST_LISTEN"), QStringLiteral("127.0.0.1:0"));
    env.insert(QStringLiteral("YIELDHOST_PLUGIN_PATH"), qEnvironmentVariable("YIELDHOST_TEST_PLUGINS"));
    env.insert(QStringLiteral("YIELDHOST_DATA_DIR"), m_dataDir.path());
    for (const QString &key : extra.keys())
        env.insert(key, extra.value(key));
    m_process->setProcessEnvironment(env);
    m_process->setProcessChannelMode(QProcess::MergedChannels);
}

HostProcess::~HostProcess()
{
    if (m_process->state() != QProcess::NotRunning) {
        m_process->kill();
        m_process->waitForFinished(5000);
    }
}

bool HostProcess::start(QString *error, int timeoutMs)
{
    const QString binary = qEnvironmentVariable("YIELDHOST_BINARY");
    if (binary.isEmpty()) {
        *error = QStringLiteral("YIELDHOST_BINARY is not set (run the test through ctest)");
        return false;
    }
    m_process->start(binary, m_arguments);
    if (!m_process->waitForStarted(timeoutMs)) {
        *error = QStringLiteral("cannot start %1: %2").arg(binary, m_process->errorString());
        return false;
    }
    // `serve`/`all` print their URL; `worker` and `beat` without HTTP say they started.
    static const QRegularExpression listening(QStringLiteral("listening on http://[^:]+:(\\d+)|Yieldhost (worker|beat) .*started"));
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        const auto match = listening.match(output());
        if (match.hasMatch()) {
            m_port = quint16(match.captured(1).toUInt());
            return true;
        }
        if (m_process->state() == QProcess::NotRunning) {
            *error = QStringLiteral("yieldhost exited with %1 before listening:\n%2").arg(m_process->exitCode()).arg(output());
            return false;
        }
        m_process->waitForReadyRead(100);
    }
    *error = QStringLiteral("yieldhost did not print its URL within %1 ms:\n%2").arg(timeoutMs).arg(output());
    return false;
}

int HostProcess::runCommand(const QProcessEnvironment &extra, const QStringList &arguments, QString *output, const QByteArray &input, int timeoutMs)
{
    HostProcess command(extra, arguments);
    command.process().start(qEnvironmentVariable("YIELDHOST_BINARY"), arguments);
    if (!command.process().waitForStarted(10000)) {
        *output = command.process().errorString();
        return -1;
    }
    if (!input.isEmpty())
        command.process().write(input);
    command.process().closeWriteChannel();
    const bool finished = command.waitForExit(timeoutMs);
    *output = command.output();
    return finished ? command.exitCode() : -1;
}

QString HostProcess::output() const
{
    // Without an event loop QProcess only reads the pipe inside waitFor*(); a chatty child must
    // never block on a full pipe because a test did not look at its output for a while.
    m_process->waitForReadyRead(0);
    m_output += m_process->readAll();
    return QString::fromUtf8(m_output);
}

QString HostProcess::baseUrl() const { return QStringLiteral("http://127.0.0.1:%1").arg(m_port); }

void HostProcess::signalTerminate()
{
    if (m_process->state() != QProcess::NotRunning)
        ::kill(pid_t(m_process->processId()), SIGTERM);
}

bool HostProcess::waitForExit(int timeoutMs)
{
    const bool done = m_process->state() == QProcess::NotRunning || m_process->waitForFinished(timeoutMs);
    output();
    return done;
}

int HostProcess::terminate(int timeoutMs)
{
    signalTerminate();
    if (!waitForExit(timeoutMs)) {
        m_process->kill();
        m_process->waitForFinished(5000);
        qWarning().noquote() << "the host did not stop within" << timeoutMs << "ms; the end of its output:\n" << output().right(4000);
        return -1;
    }
    const int code = exitCode();
    if (code != 0) // the reason (a sanitizer report, a failed stop) is in the output, not in the code
        qWarning().noquote() << "the host exited with" << code << "; the end of its output:\n" << output().right(4000);
    return code;
}

int HostProcess::exitCode() const
{
    return m_process->exitStatus() == QProcess::NormalExit ? m_process->exitCode() : -1;
}

} // namespace yieldhost::test

namespace yieldhost::test {

bool HostProcess::waitReady(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired() && m_process->state() == QProcess::Running) {
        const auto r = HttpClient::request(host(), m_port, "GET", "/readyz");
        if (r && r->status == 200)
            return true;
        QThread::msleep(100);
    }
    return false;
}

} // namespace yieldhost::test
