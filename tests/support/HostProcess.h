// HostProcess.h — the real yieldhost binary, started for a test on a free loopback port.
#pragma once

#include <QtCore/QProcess>
#include <QtCore/QProcessEnvironment>
#include <QtCore/QString>
#include <QtCore/QStringList>
#include <QtCore/QTemporaryDir>

#include <memory>

namespace yieldhost::test {

class HostProcess
{
public:
    // Extra environment on top of a clean YIELDHOST_* environment; the test plugins are on the
    // plugin path. Listens on 127.0.0.1:0 unless YIELDHOST_LISTEN is given. Without
    // YIELDHOST_DATABASE_URL the host runs its embedded cluster in a private temporary data dir.
    explicit HostProcess(QProcessEnvironment extra = {}, QStringList arguments = {QStringLiteral("serve")});
    ~HostProcess();

    // Waits for the "listening on" line; without YIELDHOST_DATABASE_URL an initdb comes first,
    // which a sanitized build on a busy machine can take tens of seconds over.
    bool start(QString *error, int timeoutMs = 60000);
    // A one-shot command (createuser, run-task, migrate) run to completion with `input` on its
    // stdin: its exit code (-1 when it did not finish in time) and, in *output, what it printed.
    static int runCommand(const QProcessEnvironment &extra, const QStringList &arguments, QString *output,
                          const QByteArray &input = {}, int timeoutMs = 60000);
    // SIGTERM and wait; returns the exit code (or -1 if it had to be killed).
    int terminate(int timeoutMs = 15000);
    void signalTerminate(); // SIGTERM without waiting
    bool waitForExit(int timeoutMs);
    int exitCode() const;
    // Polls /readyz until it answers 200 (migrations applied).
    bool waitReady(int timeoutMs = 30000);

    QString host() const { return QStringLiteral("127.0.0.1"); }
    quint16 port() const { return m_port; }
    QString baseUrl() const;
    QString output() const; // stdout + stderr so far
    QProcess &process() { return *m_process; }

private:
    QTemporaryDir m_dataDir;
    std::unique_ptr<QProcess> m_process;
    QStringList m_arguments;
    quint16 m_port = 0;
    mutable QByteArray m_output;
};

} // namespace yieldhost::test
