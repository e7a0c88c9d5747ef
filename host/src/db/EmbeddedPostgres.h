// EmbeddedPostgres.h — the host's private PostgreSQL cluster for development and tests: created
// with initdb on first use, started with pg_ctl, reachable only through a Unix socket in a
// directory of its own (plus 127.0.0.1 when a test asks for a TCP port).
//
// Everything here is synchronous: it runs once at host startup, before anything is served.
#pragma once

#include "yieldhost/Status.h"

#include <QtCore/QList>
#include <QtCore/QProcessEnvironment>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include <sys/types.h>

namespace yieldhost {

class EmbeddedPostgres
{
public:
    struct Options
    {
        QString dataDirectory;     // the cluster lives in <dataDirectory>/postgres, its socket in <dataDirectory>/run
        quint16 tcpPort = 0;       // 0: Unix socket only; else also 127.0.0.1:<port> (tests)
        QString superuser = QStringLiteral("yieldhost");
        QString database = QStringLiteral("yieldhost");
        int startTimeoutMs = 30000;
        // fsync, synchronous_commit and full_page_writes off: a crash of the machine may lose or
        // corrupt data. Only for throwaway clusters (tests).
        bool fastUnsafe = false;
    };

    explicit EmbeddedPostgres(Options options);
    ~EmbeddedPostgres(); // stop() if we started it
    EmbeddedPostgres(const EmbeddedPostgres &) = delete;
    EmbeddedPostgres &operator=(const EmbeddedPostgres &) = delete;

    // ~/.local/share/yieldhost for a normal user, /var/lib/yieldhost for root (root's home is not
    // traversable by the postgres user). $YIELDHOST_DATA_DIR is the caller's business.
    static QString defaultDataDirectory();
    // What the server's processes get as GLIBC_TUNABLES unless the environment sets it.
    static constexpr const char *serverMallocTunables =
        "glibc.malloc.trim_threshold=67108864:glibc.malloc.top_pad=8388608:glibc.malloc.mmap_threshold=33554432";

    // initdb when the cluster does not exist yet, recover a stale postmaster.pid left by a crash,
    // pg_ctl start, create `database` when missing. A live postmaster already serving this data
    // directory (an earlier host) is reused and left running by stop().
    Status start();
    // pg_ctl stop -m fast, only when this object started the server.
    void stop();

    bool isRunning() const;
    bool startedByUs() const { return m_startedByUs; }
    QString socketDirectory() const { return m_socketDirectory; }
    // Also names the socket file (.s.PGSQL.<port>); 5432 when there is no TCP port.
    quint16 port() const { return m_port; }
    // postgres://<superuser>@/<database>?host=<socketDirectory>&port=<port>
    QString databaseUrl() const;
    // The superuser's password, for TCP clients (tests): connections over the Unix socket use
    // peer authentication, TCP ones SCRAM. Kept in <dataDirectory>/postgres-password (0600).
    QString password() const { return m_password; }
    // From postmaster.pid; -1 when there is none.
    qint64 postmasterPid() const;
    // Where initdb, pg_ctl and psql were found; empty before start().
    QString binDirectory() const { return m_binDirectory; }

private:
    struct ProcessResult
    {
        bool ok = false;   // started, finished in time, exit code 0
        QString output;    // stdout
        QString failure;   // one sentence when !ok, with the tail of stderr
    };

    Status prepareClusterUser();
    Status prepareDirectories();
    Status checkReachable() const;
    bool clusterUserMayEnter(const QString &directory) const;
    Status initializeCluster();
    Status writeSettings();
    Status writeAuthentication();
    Status writeClusterFile(const QString &name, const QStringList &lines) const;
    Status ensurePassword();
    QString passwordFile() const;
    Status startServer();
    Status waitUntilAccepting(int timeoutMs);
    Status ensureDatabase();
    // `input` is written to the program's standard input (kept off its command line).
    ProcessResult run(const QString &program, const QStringList &arguments, int timeoutMs, bool asClusterUser,
                      const QByteArray &input = {}) const;
    ProcessResult psql(const QString &database, const QString &sql) const;
    ProcessResult psqlInput(const QString &database, const QByteArray &script) const;
    ProcessResult psqlRun(const QString &database, const QStringList &command, const QByteArray &input) const;
    Status giveToClusterUser(const QString &path, bool recursive) const;
    QString clusterDirectory() const;
    QString logTail(int lines) const;

    Options m_options;
    QString m_socketDirectory;
    quint16 m_port = 5432;
    QString m_binDirectory;
    QString m_password;
    QProcessEnvironment m_environment;
    bool m_asRoot = false;       // the cluster then runs as the postgres system user
    uid_t m_clusterUid = 0;
    gid_t m_clusterGid = 0;
    QList<gid_t> m_clusterGroups; // for the search-permission check on the data directory's parents
    QString m_switchUser;        // runuser or setpriv, when running as root
    bool m_startedByUs = false;
    qint64 m_ourPostmasterPid = -1; // stop() only stops the postmaster it started
};

} // namespace yieldhost
