// The host's private PostgreSQL cluster, against real servers: each test initializes its own
// cluster in a temporary directory (socket only, fsync off).
#include "db/EmbeddedPostgres.h"

#include <QtCore/QDateTime>
#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QTcpServer>
#include <QtTest/QtTest>

#include <cerrno>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

using namespace yieldhost;

class TestEmbeddedPostgres : public QObject
{
    Q_OBJECT

    static bool runningAsRoot() { return ::geteuid() == 0; }

    // QTemporaryDir is 0700; as root the cluster runs as user postgres, which must enter it.
    static bool openToClusterUser(const QTemporaryDir &dir)
    {
        return dir.isValid()
            && QFile::setPermissions(dir.path(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner | QFile::ReadGroup | QFile::ExeGroup
                                                     | QFile::ReadOther | QFile::ExeOther);
    }

    static EmbeddedPostgres::Options optionsFor(const QTemporaryDir &dir)
    {
        EmbeddedPostgres::Options options;
        options.dataDirectory = QString(dir.path() + QLatin1String("/data"));
        options.tcpPort = 0;
        options.fastUnsafe = true;
        return options;
    }

    // psql over the cluster's socket, the way a client of the host connects.
    static QString query(const EmbeddedPostgres &pg, const QString &sql, bool *ok)
    {
        QProcess psql;
        psql.start(QString(pg.binDirectory() + QLatin1String("/psql")),
                   {QStringLiteral("-X"), QStringLiteral("-q"), QStringLiteral("-At"), QStringLiteral("-v"), QStringLiteral("ON_ERROR_STOP=1"),
                    QStringLiteral("-h"), pg.socketDirectory(), QStringLiteral("-p"), QString::number(pg.port()), QStringLiteral("-U"),
                    QStringLiteral("yieldhost"), QStringLiteral("-d"), QStringLiteral("yieldhost"), QStringLiteral("-c"), sql});
        *ok = psql.waitForFinished(30000) && psql.exitStatus() == QProcess::NormalExit && psql.exitCode() == 0;
        if (!*ok)
            qWarning().noquote() << "psql failed:" << psql.readAllStandardError();
        return QString::fromUtf8(psql.readAllStandardOutput()).trimmed();
    }

    static QByteArray procStat(qint64 pid)
    {
        QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
        return stat.open(QIODevice::ReadOnly) ? stat.readAll() : QByteArray();
    }

    // Gone, or a zombie: the postmaster is reparented to PID 1, which need not reap it here.
    static bool isGone(qint64 pid)
    {
        if (::kill(pid_t(pid), 0) != 0 && errno == ESRCH)
            return true;
        const QByteArray stat = procStat(pid);
        const qsizetype paren = stat.lastIndexOf(')');
        return paren < 0 || stat.mid(paren + 2, 1) == "Z";
    }

    static QList<qint64> childrenOf(qint64 parent)
    {
        QList<qint64> children;
        const QStringList entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        for (const QString &entry : entries) {
            bool numeric = false;
            const qint64 pid = entry.toLongLong(&numeric);
            const QByteArray stat = numeric ? procStat(pid) : QByteArray();
            const qsizetype paren = stat.lastIndexOf(')');
            const QList<QByteArray> fields = paren < 0 ? QList<QByteArray>() : stat.mid(paren + 2).split(' '); // state, ppid, ...
            if (fields.size() > 1 && fields.at(1).toLongLong() == parent)
                children.append(pid);
        }
        return children;
    }

    static uint processUid(qint64 pid)
    {
        QFile status(QStringLiteral("/proc/%1/status").arg(pid));
        if (!status.open(QIODevice::ReadOnly))
            return uint(-1);
        for (const QByteArray &line : status.readAll().split('\n')) {
            if (line.startsWith("Uid:"))
                return line.mid(4).simplified().split(' ').value(0).toUInt(); // real uid
        }
        return uint(-1);
    }

    // psql over TCP on 127.0.0.1 with `password` (none: no password at all); true when it connected.
    static bool tcpConnects(const EmbeddedPostgres &pg, quint16 port, const QString &password)
    {
        QProcess psql;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("PGPASSWORD"));
        if (!password.isEmpty())
            env.insert(QStringLiteral("PGPASSWORD"), password);
        psql.setProcessEnvironment(env);
        psql.start(QString(pg.binDirectory() + QLatin1String("/psql")),
                   {QStringLiteral("-X"), QStringLiteral("-w"), QStringLiteral("-At"), QStringLiteral("-h"), QStringLiteral("127.0.0.1"),
                    QStringLiteral("-p"), QString::number(port), QStringLiteral("-U"), QStringLiteral("yieldhost"), QStringLiteral("-d"),
                    QStringLiteral("yieldhost"), QStringLiteral("-c"), QStringLiteral("select 1")});
        return psql.waitForFinished(30000) && psql.exitStatus() == QProcess::NormalExit && psql.exitCode() == 0;
    }

    static quint16 freePort()
    {
        QTcpServer probe;
        probe.listen(QHostAddress::LocalHost);
        return probe.serverPort();
    }

    static bool ownerOnly(const QString &path)
    {
        return QFileInfo(path).permissions() == (QFile::ReadOwner | QFile::WriteOwner | QFile::ReadUser | QFile::WriteUser);
    }

private Q_SLOTS:
    void connectionsNeedPeerCredentialsOrThePassword()
    {
        QTemporaryDir dir;
        QVERIFY(openToClusterUser(dir));
        EmbeddedPostgres::Options options = optionsFor(dir);
        options.tcpPort = freePort();
        {
            EmbeddedPostgres pg(options);
            const Status started = pg.start();
            QVERIFY2(started, qPrintable(started.error()));
            bool ok = false;
            QCOMPARE(query(pg, QStringLiteral("select 1"), &ok), QStringLiteral("1")); // this user, over the socket
            QVERIFY(ok);
            QVERIFY(!pg.password().isEmpty());
            QVERIFY2(!tcpConnects(pg, options.tcpPort, {}), "a TCP client without the password was let in");
            QVERIFY2(!tcpConnects(pg, options.tcpPort, QStringLiteral("wrong")), "a TCP client with a wrong password was let in");
            QVERIFY(tcpConnects(pg, options.tcpPort, pg.password()));
            QVERIFY2(ownerOnly(options.dataDirectory + QLatin1String("/postgres-password")), "the password file is readable by others");
            QVERIFY2(ownerOnly(options.dataDirectory + QLatin1String("/postgres.log")), "the server log is readable by others");
            if (::geteuid() == 0) {
                // Another OS user may not use the socket as the superuser (peer credentials).
                QProcess other;
                other.start(QStringLiteral("runuser"), {QStringLiteral("-u"), QStringLiteral("nobody"), QStringLiteral("--"),
                                                        QString(pg.binDirectory() + QLatin1String("/psql")), QStringLiteral("-X"), QStringLiteral("-w"),
                                                        QStringLiteral("-h"), pg.socketDirectory(), QStringLiteral("-p"), QString::number(pg.port()),
                                                        QStringLiteral("-U"), QStringLiteral("yieldhost"), QStringLiteral("-d"), QStringLiteral("yieldhost"),
                                                        QStringLiteral("-c"), QStringLiteral("select 1")});
                QVERIFY(other.waitForFinished(30000));
                QVERIFY2(other.exitCode() != 0, "user nobody connected as the superuser");
            }
            pg.stop();
        }
        // A cluster made before (trust for everyone, no password) is closed at its next start.
        {
            QFile hba(options.dataDirectory + QLatin1String("/postgres/pg_hba.conf"));
            QVERIFY(hba.open(QIODevice::WriteOnly | QIODevice::Truncate));
            hba.write("local all all trust\nhost all all 127.0.0.1/32 trust\n");
            hba.close();
            QVERIFY(QFile::remove(options.dataDirectory + QLatin1String("/postgres-password")));
            EmbeddedPostgres pg(options);
            const Status started = pg.start();
            QVERIFY2(started, qPrintable(started.error()));
            QVERIFY(!pg.password().isEmpty());
            QVERIFY2(!tcpConnects(pg, options.tcpPort, {}), "the old trust lines still let a TCP client in");
            QVERIFY(tcpConnects(pg, options.tcpPort, pg.password()));
            pg.stop();
        }
    }

    void startsAFreshClusterAndAcceptsQueries()
    {
        QTemporaryDir dir;
        QVERIFY(openToClusterUser(dir));
        EmbeddedPostgres pg(optionsFor(dir));
        const Status started = pg.start();
        QVERIFY2(started, qPrintable(started.error()));
        QVERIFY(pg.startedByUs());
        QVERIFY(pg.isRunning());
        QCOMPARE(pg.port(), quint16(5432));
        QCOMPARE(pg.socketDirectory(), QString(dir.path() + QLatin1String("/data/run")));
        QCOMPARE(pg.databaseUrl(), QString(QLatin1String("postgres://yieldhost@/yieldhost?host=") + dir.path() + QLatin1String("/data/run&port=5432")));

        bool ok = false;
        QCOMPARE(query(pg, QStringLiteral("select 42"), &ok), QStringLiteral("42")); // in the database start() created
        QVERIFY(ok);

        // initdb and postgres refuse root: a root host runs the cluster as user postgres.
        uint expectedUid = ::geteuid();
        if (runningAsRoot()) {
            const passwd *postgres = ::getpwnam("postgres");
            QVERIFY(postgres);
            expectedUid = postgres->pw_uid;
        }
        QVERIFY(pg.postmasterPid() > 0);
        QCOMPARE(processUid(pg.postmasterPid()), expectedUid);
        // Our settings are in force (docs/database.md says why random_page_cost).
        QCOMPARE(query(pg, QStringLiteral("SELECT current_setting('random_page_cost')"), &ok), QStringLiteral("1.1"));
        QVERIFY(ok);

        // The server keeps its freed heap instead of returning it to the kernel every transaction:
        // its backends run with our GLIBC_TUNABLES. (The postmaster's /proc/<pid>/environ cannot
        // show it: PostgreSQL writes its process titles over that memory.)
        if (!qEnvironmentVariableIsSet("GLIBC_TUNABLES")) {
            const QString seen = query(pg,
                                       QStringLiteral("CREATE TEMP TABLE environment(value text); "
                                                      "COPY environment FROM PROGRAM 'printenv GLIBC_TUNABLES || true'; "
                                                      "SELECT coalesce(string_agg(value, ''), '') FROM environment"),
                                       &ok);
            QVERIFY(ok);
            QCOMPARE(seen, QString::fromLatin1(EmbeddedPostgres::serverMallocTunables));
        }
    }

    void stopShutsTheServerDown()
    {
        QTemporaryDir dir;
        QVERIFY(openToClusterUser(dir));
        EmbeddedPostgres pg(optionsFor(dir));
        const Status started = pg.start();
        QVERIFY2(started, qPrintable(started.error()));
        const qint64 pid = pg.postmasterPid();
        const QString socket = QStringLiteral("%1/.s.PGSQL.%2").arg(pg.socketDirectory()).arg(pg.port());
        QVERIFY(pid > 0);
        QVERIFY(QFileInfo::exists(socket));

        pg.stop();

        QTRY_VERIFY_WITH_TIMEOUT(isGone(pid), 5000);
        QVERIFY(!QFileInfo::exists(socket));
        QVERIFY(!pg.isRunning());
        QVERIFY(!pg.startedByUs());
        QCOMPARE(pg.postmasterPid(), qint64(-1));
    }

    void secondStartReusesTheSameCluster()
    {
        QTemporaryDir dir;
        QVERIFY(openToClusterUser(dir));
        const QString pgVersion = QString(dir.path() + QLatin1String("/data/postgres/PG_VERSION"));
        QDateTime initialized;
        {
            EmbeddedPostgres first(optionsFor(dir));
            const Status started = first.start();
            QVERIFY2(started, qPrintable(started.error()));
            bool ok = false;
            query(first, QStringLiteral("create table survivors (id int); insert into survivors values (7)"), &ok);
            QVERIFY(ok);
            initialized = QFileInfo(pgVersion).lastModified();
        } // stops the server

        EmbeddedPostgres second(optionsFor(dir));
        const Status started = second.start();
        QVERIFY2(started, qPrintable(started.error()));
        QVERIFY(second.startedByUs()); // the first one really stopped it
        bool ok = false;
        QCOMPARE(query(second, QStringLiteral("select id from survivors"), &ok), QStringLiteral("7"));
        QVERIFY(ok);
        QCOMPARE(QFileInfo(pgVersion).lastModified(), initialized); // no second initdb
    }

    void runningClusterIsReusedNotStoppedByANonOwner()
    {
        QTemporaryDir dir;
        QVERIFY(openToClusterUser(dir));
        EmbeddedPostgres owner(optionsFor(dir));
        const Status started = owner.start();
        QVERIFY2(started, qPrintable(started.error()));
        const qint64 pid = owner.postmasterPid();
        {
            EmbeddedPostgres guest(optionsFor(dir));
            const Status reused = guest.start();
            QVERIFY2(reused, qPrintable(reused.error()));
            QVERIFY(!guest.startedByUs());
            QCOMPARE(guest.postmasterPid(), pid);
            bool ok = false;
            QCOMPARE(query(guest, QStringLiteral("select 1"), &ok), QStringLiteral("1"));
            QVERIFY(ok);
        } // a non-owner leaves the server alone

        QVERIFY(owner.isRunning());
        QCOMPARE(owner.postmasterPid(), pid);
        bool ok = false;
        QCOMPARE(query(owner, QStringLiteral("select 1"), &ok), QStringLiteral("1"));
        QVERIFY(ok);
    }

    void staleLockFromACrashIsRecovered()
    {
        QTemporaryDir dir;
        QVERIFY(openToClusterUser(dir));
        EmbeddedPostgres crashed(optionsFor(dir));
        const Status started = crashed.start();
        QVERIFY2(started, qPrintable(started.error()));
        bool ok = false;
        // fastUnsafe turns synchronous_commit off: without it here the row could still sit in
        // WAL buffers in shared memory when the postmaster dies.
        query(crashed, QStringLiteral("create table kept (v text); set synchronous_commit = on; insert into kept values ('survived')"), &ok);
        QVERIFY(ok);

        const qint64 pid = crashed.postmasterPid();
        const QList<qint64> children = childrenOf(pid);
        QVERIFY(!children.isEmpty());
        QCOMPARE(::kill(pid_t(pid), SIGKILL), 0);
        QTRY_VERIFY_WITH_TIMEOUT(isGone(pid), 5000);
        // The backends notice their postmaster died and exit on their own.
        for (const qint64 child : children)
            QTRY_VERIFY_WITH_TIMEOUT(isGone(child), 10000);
        QVERIFY(QFileInfo::exists(dir.path() + QLatin1String("/data/postgres/postmaster.pid"))); // the crash left its lock
        QVERIFY(!crashed.isRunning());

        EmbeddedPostgres recovered(optionsFor(dir));
        const Status restarted = recovered.start();
        QVERIFY2(restarted, qPrintable(restarted.error()));
        QVERIFY(recovered.startedByUs());
        QVERIFY(recovered.postmasterPid() != pid);
        QCOMPARE(query(recovered, QStringLiteral("select v from kept"), &ok), QStringLiteral("survived"));
        QVERIFY(ok);
    }

    void unreachableDataDirectoryIsOneClearLine()
    {
        QTemporaryDir dir; // 0700, owned by the user running the test
        QVERIFY(dir.isValid());
        EmbeddedPostgres::Options options = optionsFor(dir);
        if (runningAsRoot()) {
            // The postgres user cannot enter a root-owned 0700 directory on the way down.
            QVERIFY(QFile::setPermissions(dir.path(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
            options.dataDirectory = QString(dir.path() + QLatin1String("/inner/data"));
            EmbeddedPostgres pg(options);
            const Status started = pg.start();
            QVERIFY(!started);
            QVERIFY2(started.error().contains(QLatin1String("user postgres")), qPrintable(started.error()));
            QVERIFY2(started.error().contains(options.dataDirectory), qPrintable(started.error()));
            QVERIFY2(started.error().contains(QString(QLatin1String("outside ") + dir.path())), qPrintable(started.error()));
            QVERIFY(!started.error().contains(u'\n'));
            QVERIFY(!QFileInfo::exists(options.dataDirectory)); // refused before creating anything
        } else {
            // As a normal user every directory of ours is reachable: refuse a file in its place instead.
            QFile file(options.dataDirectory);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.close();
            EmbeddedPostgres pg(options);
            const Status started = pg.start();
            QVERIFY(!started);
            QVERIFY2(started.error().contains(options.dataDirectory), qPrintable(started.error()));
            QVERIFY2(started.error().contains(QLatin1String("not a directory")), qPrintable(started.error()));
            QVERIFY(!started.error().contains(u'\n'));
        }
        QVERIFY(!EmbeddedPostgres(options).isRunning());
    }
};

QTEST_GUILESS_MAIN(TestEmbeddedPostgres)
#include "tst_embedded_postgres.moc"
