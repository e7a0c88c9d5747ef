#include "db/EmbeddedPostgres.h"

#include "core/Logging.h"

#include <QtCore/QDeadlineTimer>
#include <QtCore/QDir>
#include <QtCore/QDirIterator>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QProcess>
#include <QtCore/QRandomGenerator>
#include <QtCore/QRegularExpression>
#include <QtCore/QSaveFile>
#include <QtCore/QStandardPaths>
#include <QtCore/QThread>
#include <QtCore/QUrl>
#include <QtCore/QVersionNumber>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>


namespace yieldhost {

namespace {

const QString kClusterUser = QStringLiteral("postgres");
constexpr quint16 kSocketOnlyPort = 5432;
constexpr int kInitdbTimeoutMs = 180000;
constexpr int kStopTimeoutSeconds = 60;
constexpr int kPsqlTimeoutMs = 30000;
// Written into postgresql.conf once; our settings live in a file we rewrite at every start so a
// changed port or data directory never leaves stale lines behind.
const QString kSettingsFile = QStringLiteral("yieldhost.conf");
const QString kIncludeLine = QStringLiteral("include 'yieldhost.conf'");

QString errnoText(int error) { return QString::fromLocal8Bit(std::strerror(error)); }

QString lastLines(const QString &text, int count)
{
    QStringList lines = text.split(u'\n', Qt::SkipEmptyParts);
    if (lines.size() > count)
        lines = lines.mid(lines.size() - count);
    return lines.join(u'\n');
}

bool isIdentifier(const QString &name)
{
    static const QRegularExpression pattern(QStringLiteral("^[a-z_][a-z0-9_]*$"));
    return name.size() <= 63 && pattern.match(name).hasMatch();
}

// The first lines of postmaster.pid: PID, data directory, start time, port, first socket directory.
struct LockFile
{
    bool exists = false;
    qint64 pid = -1;
    quint16 port = 0;
    QString socketDirectory;
};

LockFile readLockFile(const QString &path)
{
    LockFile lock;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return lock;
    lock.exists = true;
    const QStringList lines = QString::fromLocal8Bit(file.read(4096)).split(u'\n');
    bool ok = false;
    const qint64 pid = lines.value(0).trimmed().toLongLong(&ok);
    lock.pid = ok && pid > 0 ? pid : -1;
    lock.port = quint16(lines.value(3).trimmed().toUInt());
    lock.socketDirectory = lines.value(4).trimmed();
    return lock;
}

// Whether `pid` is a live postmaster serving `clusterDirectory`. A PID from postmaster.pid may be
// dead, reused by an unrelated process after a reboot, or a zombie: a postmaster killed while its
// reaper (often PID 1 in containers) does not collect it still answers kill(pid, 0).
bool isLivePostgres(qint64 pid, const QString &clusterDirectory)
{
    if (pid <= 0)
        return false;
    if (::kill(pid_t(pid), 0) != 0 && errno == ESRCH)
        return false;
    const QString proc = QStringLiteral("/proc/%1/").arg(pid);
    QFile stat(proc + QLatin1String("stat"));
    if (stat.open(QIODevice::ReadOnly)) {
        const QByteArray line = stat.readAll();
        const qsizetype paren = line.lastIndexOf(')'); // the command name may contain spaces
        const char state = paren >= 0 && paren + 2 < line.size() ? line.at(paren + 2) : '?';
        if (state == 'Z' || state == 'X')
            return false;
    }
    QFile comm(proc + QLatin1String("comm"));
    if (comm.open(QIODevice::ReadOnly) && comm.readAll().trimmed() != "postgres")
        return false;
    // The postmaster's working directory is its data directory; unreadable for other users' processes.
    char target[4096];
    const ssize_t length = ::readlink(QFile::encodeName(proc + QLatin1String("cwd")).constData(), target, sizeof target - 1);
    if (length > 0) {
        const QString cwd = QFile::decodeName(QByteArray(target, length));
        if (cwd != QFileInfo(clusterDirectory).canonicalFilePath())
            return false;
    }
    return true;
}

bool hasServerBinaries(const QString &binDirectory)
{
    for (const char *name : {"initdb", "pg_ctl", "postgres"}) {
        const QFileInfo info(binDirectory + u'/' + QLatin1String(name));
        if (!info.isFile() || !info.isExecutable())
            return false;
    }
    return true;
}

// The newest /usr/lib/postgresql/<version>/bin, or the one of `clusterVersion` when a cluster
// already exists: a server refuses data directories of another major version.
QString findBinDirectory(const QString &clusterVersion, QString *error)
{
    const QString root = QStringLiteral("/usr/lib/postgresql");
    if (!clusterVersion.isEmpty()) {
        const QString bin = QString(root + u'/' + clusterVersion + QLatin1String("/bin"));
        if (hasServerBinaries(bin))
            return bin;
        *error = QStringLiteral("the PostgreSQL cluster was created by PostgreSQL %1, whose server binaries are not installed: install postgresql-%1")
                     .arg(clusterVersion);
        return {};
    }
    QList<QPair<QVersionNumber, QString>> candidates;
    for (const QString &entry : QDir(root).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        const QVersionNumber version = QVersionNumber::fromString(entry);
        const QString bin = QString(root + u'/' + entry + QLatin1String("/bin"));
        if (!version.isNull() && hasServerBinaries(bin))
            candidates.append({version, bin});
    }
    if (candidates.isEmpty()) {
        *error = QStringLiteral("PostgreSQL server binaries not found in %1/*/bin: install postgresql-15").arg(root);
        return {};
    }
    std::sort(candidates.begin(), candidates.end(), [](const auto &a, const auto &b) { return a.first > b.first; });
    return candidates.first().second;
}

// A value inside single quotes in postgresql.conf.
QString confString(const QString &value)
{
    QString escaped = value;
    escaped.replace(u'\'', QLatin1String("''"));
    return QString(u'\'' + escaped + u'\'');
}

} // namespace

EmbeddedPostgres::EmbeddedPostgres(Options options)
    : m_options(std::move(options))
{
    if (!m_options.dataDirectory.isEmpty())
        m_options.dataDirectory = QDir::cleanPath(QFileInfo(m_options.dataDirectory).absoluteFilePath());
    m_socketDirectory = QString(m_options.dataDirectory + QLatin1String("/run"));
    m_port = m_options.tcpPort != 0 ? m_options.tcpPort : kSocketOnlyPort;
    // The user's PGHOST, PGPORT, PGDATA, PGDATABASE... must not redirect our tools to another server.
    m_environment = QProcessEnvironment::systemEnvironment();
    for (const QString &key : m_environment.keys()) {
        if (key.startsWith(QLatin1String("PG")))
            m_environment.remove(key);
    }
    // glibc's malloc hands the free top of a backend's heap back to the kernel (brk) as soon as
    // 128 KiB of it is free, and takes it back, page fault by page fault, in the next transaction:
    // under tests/bench/ledger.sh that was ~7 % of the server's CPU in brk and ~4 % in page faults.
    // A backend now keeps up to 64 MiB of freed heap (docs/database.md). An operator's own
    // GLIBC_TUNABLES is left as it is.
    if (!m_environment.contains(QStringLiteral("GLIBC_TUNABLES")))
        m_environment.insert(QStringLiteral("GLIBC_TUNABLES"), QLatin1String(serverMallocTunables));
}

EmbeddedPostgres::~EmbeddedPostgres() { stop(); }

QString EmbeddedPostgres::defaultDataDirectory()
{
    if (::geteuid() == 0)
        return QStringLiteral("/var/lib/yieldhost");
    const QString base = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation);
    if (base.isEmpty())
        return QString(QDir::homePath() + QLatin1String("/.local/share/yieldhost"));
    return QString(base + QLatin1String("/yieldhost"));
}

QString EmbeddedPostgres::clusterDirectory() const { return QString(m_options.dataDirectory + QLatin1String("/postgres")); }

QString EmbeddedPostgres::databaseUrl() const
{
    return QStringLiteral("postgres://%1@/%2?host=%3&port=%4")
        .arg(m_options.superuser, m_options.database,
             QString::fromUtf8(QUrl::toPercentEncoding(m_socketDirectory, "/")))
        .arg(m_port);
}

qint64 EmbeddedPostgres::postmasterPid() const
{
    if (m_options.dataDirectory.isEmpty())
        return -1;
    return readLockFile(clusterDirectory() + QLatin1String("/postmaster.pid")).pid;
}

bool EmbeddedPostgres::isRunning() const
{
    return !m_options.dataDirectory.isEmpty() && isLivePostgres(postmasterPid(), clusterDirectory());
}

Status EmbeddedPostgres::start()
{
    if (m_startedByUs && isRunning())
        return {};

    const QString &data = m_options.dataDirectory;
    if (data.isEmpty())
        return Status::failure(QStringLiteral("no data directory given for the embedded PostgreSQL cluster"));
    // The paths end up in postgresql.conf strings and in the shell command pg_ctl builds.
    static const QRegularExpression unsafe(QStringLiteral("['\"\\\\$`\\x00-\\x1f]"));
    if (data.contains(unsafe))
        return Status::failure(QStringLiteral("the data directory %1 contains a quote, backslash, $, ` or control character, which PostgreSQL cannot take in its settings; choose another path").arg(data));
    if (!isIdentifier(m_options.superuser))
        return Status::failure(QStringLiteral("the PostgreSQL superuser name \"%1\" must match [a-z_][a-z0-9_]*").arg(m_options.superuser));
    if (!isIdentifier(m_options.database))
        return Status::failure(QStringLiteral("the database name \"%1\" must match [a-z_][a-z0-9_]*").arg(m_options.database));
    const QByteArray socketPath = QFile::encodeName(QStringLiteral("%1/.s.PGSQL.%2").arg(m_socketDirectory).arg(m_port));
    if (size_t(socketPath.size()) >= sizeof(sockaddr_un::sun_path))
        return Status::failure(QStringLiteral("the PostgreSQL socket path %1 is longer than the %2 bytes Unix sockets allow; choose a shorter data directory")
                                   .arg(QFile::decodeName(socketPath)).arg(sizeof(sockaddr_un::sun_path) - 1));

    QFile versionFile(clusterDirectory() + QLatin1String("/PG_VERSION"));
    const QString clusterVersion = versionFile.open(QIODevice::ReadOnly) ? QString::fromLatin1(versionFile.readAll().trimmed()) : QString();
    QString error;
    m_binDirectory = findBinDirectory(clusterVersion, &error);
    if (m_binDirectory.isEmpty())
        return Status::failure(error);

    if (Status s = prepareClusterUser(); !s)
        return s;
    if (Status s = prepareDirectories(); !s)
        return s;
    QFile passwordIn(passwordFile());
    m_password = passwordIn.open(QIODevice::ReadOnly) ? QString::fromLatin1(passwordIn.readAll().trimmed()) : QString();

    const QString lockPath = clusterDirectory() + QLatin1String("/postmaster.pid");
    LockFile lock = readLockFile(lockPath);
    if (lock.exists && isLivePostgres(lock.pid, clusterDirectory())) {
        // An earlier host left it running (or it is still shutting down). Its settings win: it
        // may have been started with another port.
        if (lock.port != 0)
            m_port = lock.port;
        if (lock.socketDirectory.startsWith(u'/'))
            m_socketDirectory = lock.socketDirectory;
        qCInfo(lcPostgres).noquote() << QStringLiteral("reusing the running PostgreSQL cluster in %1 (postmaster PID %2, socket %3, port %4); it stays running after this host exits")
                                            .arg(clusterDirectory()).arg(lock.pid).arg(m_socketDirectory).arg(m_port);
        Status ready = waitUntilAccepting(m_options.startTimeoutMs);
        if (!ready && isLivePostgres(lock.pid, clusterDirectory()))
            return ready;
        if (ready) {
            if (Status s = ensurePassword(); !s)
                return s;
            return ensureDatabase();
        }
        // It shut down while we waited: start our own below.
        qCInfo(lcPostgres).noquote() << QStringLiteral("the running cluster (PID %1) shut down while we waited for it; starting it again").arg(lock.pid);
        m_socketDirectory = QString(m_options.dataDirectory + QLatin1String("/run"));
        m_port = m_options.tcpPort != 0 ? m_options.tcpPort : kSocketOnlyPort;
        lock = readLockFile(lockPath);
        if (lock.exists && isLivePostgres(lock.pid, clusterDirectory()))
            return Status::failure(QStringLiteral("another PostgreSQL server (PID %1) took over %2 while this host waited; start the host again")
                                       .arg(lock.pid).arg(clusterDirectory()));
    }
    if (lock.exists) {
        // Left by a crash (or a killed host): pg_ctl and the server would take it for a live
        // server when its PID now belongs to another process. Removing it is safe because
        // PostgreSQL keys its shared memory to the data directory and still refuses to start
        // while orphaned backends of the old postmaster are attached.
        QFile::remove(lockPath);
        for (const quint16 port : {lock.port, m_port}) {
            if (port != 0)
                QFile::remove(QStringLiteral("%1/.s.PGSQL.%2.lock").arg(m_socketDirectory).arg(port));
        }
        qCInfo(lcPostgres).noquote() << QStringLiteral("recovered a stale postmaster.pid left by PID %1 in %2 (no such postmaster is running any more)")
                                            .arg(lock.pid).arg(clusterDirectory());
    }

    if (clusterVersion.isEmpty()) {
        if (Status s = initializeCluster(); !s)
            return s;
    }
    if (Status s = writeSettings(); !s)
        return s;
    if (Status s = writeAuthentication(); !s)
        return s;
    if (Status s = startServer(); !s)
        return s;
    if (Status s = ensurePassword(); !s)
        return s;
    return ensureDatabase();
}

QString EmbeddedPostgres::passwordFile() const { return QString(m_options.dataDirectory + QLatin1String("/postgres-password")); }

// Who may connect, rewritten at every start: over the Unix socket only this host's OS user (and
// the cluster's), as the superuser, by peer credentials; over TCP (tests) only with the password.
// Clusters made before this was written trusted every local connection, TCP included.
Status EmbeddedPostgres::writeAuthentication()
{
    QString hostUser;
    {
        passwd entry{};
        passwd *found = nullptr;
        std::vector<char> buffer(16384);
        if (::getpwuid_r(::geteuid(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found)
            return Status::failure(QStringLiteral("cannot find the name of the user this host runs as (uid %1)").arg(::geteuid()));
        hostUser = QString::fromLocal8Bit(entry.pw_name);
    }
    static const QRegularExpression plainName(QStringLiteral("^[A-Za-z0-9_.-]+$"));
    if (!plainName.match(hostUser).hasMatch())
        return Status::failure(QStringLiteral("the user name \"%1\" cannot be written into pg_ident.conf; run the host as another user").arg(hostUser));
    QStringList ident{QStringLiteral("# Written by yieldhost at every start."), QStringLiteral("yieldhost %1 %2").arg(hostUser, m_options.superuser)};
    if (m_asRoot)
        ident.append(QStringLiteral("yieldhost %1 %2").arg(kClusterUser, m_options.superuser));
    const QStringList hba{
        QStringLiteral("# Written by yieldhost at every start: peer credentials on the socket, SCRAM over TCP."),
        QStringLiteral("local all %1 peer map=yieldhost").arg(m_options.superuser),
        QStringLiteral("host all all 127.0.0.1/32 scram-sha-256"),
        QStringLiteral("host all all ::1/128 scram-sha-256"),
    };
    if (Status s = writeClusterFile(QStringLiteral("pg_ident.conf"), ident); !s)
        return s;
    return writeClusterFile(QStringLiteral("pg_hba.conf"), hba);
}

// The superuser gets a random password once (a cluster initialized by trust had none), set over
// the socket by peer credentials and given to SQL on standard input, never on a command line.
Status EmbeddedPostgres::ensurePassword()
{
    if (!m_password.isEmpty())
        return {};
    const QString password = QString::fromLatin1(QByteArray::number(QRandomGenerator::system()->generate64(), 16)
                                                  + QByteArray::number(QRandomGenerator::system()->generate64(), 16));
    const QByteArray script = QStringLiteral("SET log_statement = 'none';\nALTER ROLE \"%1\" PASSWORD '%2';\n")
                                  .arg(m_options.superuser, password).toUtf8();
    const ProcessResult set = psqlInput(QStringLiteral("postgres"), script);
    if (!set.ok)
        return Status::failure(QStringLiteral("cannot set the PostgreSQL superuser's password: %1").arg(set.failure));
    QSaveFile file(passwordFile());
    if (!file.open(QIODevice::WriteOnly))
        return Status::failure(QStringLiteral("cannot write %1: %2").arg(passwordFile(), file.errorString()));
    file.setPermissions(QFile::ReadOwner | QFile::WriteOwner);
    file.write(password.toLatin1() + '\n');
    if (!file.commit())
        return Status::failure(QStringLiteral("cannot write %1: %2").arg(passwordFile(), file.errorString()));
    m_password = password;
    return {};
}

void EmbeddedPostgres::stop()
{
    if (!m_startedByUs)
        return;
    m_startedByUs = false;
    // After a crash another host may have recovered the cluster and started its own postmaster:
    // that one is not ours to stop.
    const qint64 pid = postmasterPid();
    if (pid != m_ourPostmasterPid || !isLivePostgres(pid, clusterDirectory())) {
        qCInfo(lcPostgres).noquote() << QStringLiteral("the PostgreSQL server started for %1 (PID %2) is already gone")
                                            .arg(clusterDirectory()).arg(m_ourPostmasterPid);
        return;
    }
    const ProcessResult stopped = run(QString(m_binDirectory + QLatin1String("/pg_ctl")),
                                      {QStringLiteral("stop"), QStringLiteral("-D"), clusterDirectory(), QStringLiteral("-m"), QStringLiteral("fast"),
                                       QStringLiteral("-w"), QStringLiteral("-t"), QString::number(kStopTimeoutSeconds), QStringLiteral("-s")},
                                      (kStopTimeoutSeconds + 15) * 1000, true);
    if (!stopped.ok) {
        qCWarning(lcPostgres).noquote() << QStringLiteral("could not stop PostgreSQL in %1: %2").arg(clusterDirectory(), stopped.failure);
        return;
    }
    qCInfo(lcPostgres).noquote() << QStringLiteral("stopped PostgreSQL in %1 (PID %2)").arg(clusterDirectory()).arg(pid);
}

// initdb and postgres refuse to run as root, so a root host runs them as the postgres system
// user; every other user runs them as itself.
Status EmbeddedPostgres::prepareClusterUser()
{
    m_asRoot = ::geteuid() == 0;
    m_clusterGroups.clear();
    if (!m_asRoot) {
        m_clusterUid = ::geteuid();
        m_clusterGid = ::getegid();
        return {};
    }
    passwd entry{};
    passwd *found = nullptr;
    std::vector<char> buffer(16384);
    const QByteArray name = kClusterUser.toLatin1();
    if (::getpwnam_r(name.constData(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found)
        return Status::failure(QStringLiteral("running as root, but there is no system user postgres to run the PostgreSQL cluster as (initdb and postgres refuse to run as root); install postgresql-15, which creates it, or run the host as a normal user"));
    m_clusterUid = entry.pw_uid;
    m_clusterGid = entry.pw_gid;
    int count = 64;
    m_clusterGroups.resize(count);
    if (::getgrouplist(name.constData(), entry.pw_gid, m_clusterGroups.data(), &count) < 0) {
        m_clusterGroups.resize(count); // count now says how many there are
        if (::getgrouplist(name.constData(), entry.pw_gid, m_clusterGroups.data(), &count) < 0)
            count = 0;
    }
    m_clusterGroups.resize(count);

    const QStringList system{QStringLiteral("/usr/sbin"), QStringLiteral("/sbin"), QStringLiteral("/usr/bin"), QStringLiteral("/bin")};
    m_switchUser = QStandardPaths::findExecutable(QStringLiteral("runuser"), system);
    if (m_switchUser.isEmpty())
        m_switchUser = QStandardPaths::findExecutable(QStringLiteral("setpriv"), system);
    if (m_switchUser.isEmpty())
        return Status::failure(QStringLiteral("running as root, the PostgreSQL cluster must run as user postgres, but neither runuser nor setpriv (util-linux) is installed"));
    return {};
}

Status EmbeddedPostgres::prepareDirectories()
{
    const QString &data = m_options.dataDirectory;
    const QFileInfo dataInfo(data);
    if (dataInfo.exists() && !dataInfo.isDir())
        return Status::failure(QStringLiteral("the data directory %1 exists but is not a directory").arg(data));
    // Checked before creating anything, and again after: mkpath under a restrictive umask may
    // itself create directories the cluster user cannot enter.
    if (Status s = checkReachable(); !s)
        return s;
    if (!QDir().mkpath(data))
        return Status::failure(QStringLiteral("cannot create the data directory %1 (is a parent a file, or not writable?)").arg(data));
    if (Status s = checkReachable(); !s)
        return s;
    if (m_asRoot && !clusterUserMayEnter(data)) {
        // E.g. a 0700 temporary directory. Search permission alone lets the cluster user pass
        // through to its own 0700 directories without listing or reading anything else here.
        const QByteArray native = QFile::encodeName(data);
        struct stat info{};
        if (::stat(native.constData(), &info) != 0 || ::chmod(native.constData(), (info.st_mode & 07777) | S_IXOTH) != 0)
            return Status::failure(QStringLiteral("cannot let user postgres enter the data directory %1: %2").arg(data, errnoText(errno)));
        qCInfo(lcPostgres).noquote() << QStringLiteral("let user postgres, which runs the cluster, enter %1 (chmod o+x)").arg(data);
    }

    const QFile::Permissions ownerOnly = QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner;
    for (const QString &directory : {clusterDirectory(), QString(data + QLatin1String("/run"))}) {
        const QFileInfo info(directory);
        if (info.exists() && !info.isDir())
            return Status::failure(QStringLiteral("%1 exists but is not a directory").arg(directory));
        if (!info.exists()) {
            // PostgreSQL insists on 0700 (or 0750) for its data directory.
            if (!QDir().mkdir(directory) || !QFile::setPermissions(directory, ownerOnly))
                return Status::failure(QStringLiteral("cannot create %1").arg(directory));
            if (Status s = giveToClusterUser(directory, false); !s)
                return s;
        } else if (m_asRoot && info.ownerId() != m_clusterUid) {
            // E.g. created by a host that ran as a normal user before.
            if (Status s = giveToClusterUser(directory, true); !s)
                return s;
            qCInfo(lcPostgres).noquote() << QStringLiteral("gave %1 to user postgres, which runs the cluster").arg(directory);
        }
    }

    // pg_ctl appends the server's output here as the cluster user, which may not write to `data`.
    const QString logPath = QString(data + QLatin1String("/postgres.log"));
    QFile log(logPath);
    if (!log.open(QIODevice::Append))
        return Status::failure(QStringLiteral("cannot open the PostgreSQL log %1: %2").arg(logPath, log.errorString()));
    log.close();
    // The server log holds statements that failed, with their values: owner only, in every mode.
    if (!QFile::setPermissions(logPath, QFile::ReadOwner | QFile::WriteOwner))
        return Status::failure(QStringLiteral("cannot make the PostgreSQL log %1 private (chmod 600)").arg(logPath));
    if (m_asRoot && QFileInfo(logPath).ownerId() != m_clusterUid) {
        if (Status s = giveToClusterUser(logPath, false); !s)
            return s;
    }
    return {};
}

bool EmbeddedPostgres::clusterUserMayEnter(const QString &directory) const
{
    struct stat info{};
    if (::stat(QFile::encodeName(directory).constData(), &info) != 0)
        return false;
    // Only the first matching class counts: an owner without x is refused even if others have it.
    if (info.st_uid == m_clusterUid)
        return info.st_mode & S_IXUSR;
    if (m_clusterGroups.contains(info.st_gid))
        return info.st_mode & S_IXGRP;
    return info.st_mode & S_IXOTH;
}

// Whether the cluster user may enter every directory above the data directory (as far as they
// exist). Found here in one sentence instead of as initdb's "could not change directory" later.
// Plain mode bits; ACLs are not consulted (initdb would still report those). The data directory
// itself is ours to open up, see prepareDirectories().
Status EmbeddedPostgres::checkReachable() const
{
    if (!m_asRoot)
        return {};
    QString existing = m_options.dataDirectory;
    while (!QFileInfo::exists(existing) && existing != QLatin1String("/"))
        existing = QFileInfo(existing).path();
    if (!QFileInfo(existing).isDir())
        return {}; // creating the data directory fails with its own message
    QStringList parts = QFileInfo(existing).canonicalFilePath().split(u'/', Qt::SkipEmptyParts);
    if (existing == m_options.dataDirectory && !parts.isEmpty())
        parts.removeLast();
    QString path = QStringLiteral("/");
    for (qsizetype i = -1; i < parts.size(); ++i) {
        if (i >= 0)
            path = QString(path + (path.endsWith(u'/') ? QString() : QStringLiteral("/")) + parts.at(i));
        if (!clusterUserMayEnter(path))
            return Status::failure(QStringLiteral("the PostgreSQL cluster runs as user postgres, which cannot reach %1 because it may not enter %2; set YIELDHOST_DATA_DIR to a directory outside %2")
                                       .arg(m_options.dataDirectory, path));
    }
    return {};
}

Status EmbeddedPostgres::giveToClusterUser(const QString &path, bool recursive) const
{
    if (!m_asRoot)
        return {};
    const auto give = [this](const QString &p) {
        if (::lchown(QFile::encodeName(p).constData(), m_clusterUid, m_clusterGid) == 0)
            return Status();
        return Status::failure(QStringLiteral("cannot give %1 to user postgres: %2").arg(p, errnoText(errno)));
    };
    if (Status s = give(path); !s)
        return s;
    if (recursive) {
        QDirIterator it(path, QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            if (Status s = give(it.next()); !s)
                return s;
        }
    }
    return {};
}

Status EmbeddedPostgres::initializeCluster()
{
    const QString cluster = clusterDirectory();
    if (!QDir(cluster).isEmpty(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot))
        return Status::failure(QStringLiteral("%1 is neither empty nor a PostgreSQL cluster (it has no PG_VERSION); move it away or choose another data directory").arg(cluster));
    QStringList arguments{QStringLiteral("-D"), cluster, QStringLiteral("-U"), m_options.superuser, QStringLiteral("--auth-local=peer"),
                          QStringLiteral("--auth-host=reject"),
                          QStringLiteral("-E"), QStringLiteral("UTF8"), QStringLiteral("--locale=C.UTF-8")};
    // Skipping initdb's final fsync only risks the cluster on a machine crash, like fastUnsafe itself.
    if (m_options.fastUnsafe)
        arguments.append(QStringLiteral("--no-sync"));
    const ProcessResult result = run(QString(m_binDirectory + QLatin1String("/initdb")), arguments, kInitdbTimeoutMs, true);
    if (!result.ok)
        return Status::failure(QStringLiteral("could not initialize a PostgreSQL cluster in %1: %2").arg(cluster, result.failure));

    QFile conf(cluster + QLatin1String("/postgresql.conf"));
    if (!conf.open(QIODevice::Append | QIODevice::Text))
        return Status::failure(QStringLiteral("cannot append to %1: %2").arg(conf.fileName(), conf.errorString()));
    conf.write("\n# Added by yieldhost: its settings, rewritten at every start.\n");
    conf.write(kIncludeLine.toUtf8() + '\n');
    conf.close();
    qCInfo(lcPostgres).noquote() << QStringLiteral("initialized a new PostgreSQL cluster in %1 (superuser %2%3)")
                                        .arg(cluster, m_options.superuser, m_asRoot ? QStringLiteral(", owned by user postgres") : QString());
    return {};
}

Status EmbeddedPostgres::writeSettings()
{
    const QString cluster = clusterDirectory();
    // A cluster initialized elsewhere (or by hand) gets our include line too.
    QFile conf(cluster + QLatin1String("/postgresql.conf"));
    if (!conf.open(QIODevice::ReadOnly | QIODevice::Text))
        return Status::failure(QStringLiteral("cannot read %1: %2").arg(conf.fileName(), conf.errorString()));
    const bool included = QString::fromUtf8(conf.readAll()).split(u'\n').contains(kIncludeLine);
    conf.close();
    if (!included) {
        if (!conf.open(QIODevice::Append | QIODevice::Text))
            return Status::failure(QStringLiteral("cannot append to %1: %2").arg(conf.fileName(), conf.errorString()));
        conf.write("\n# Added by yieldhost: its settings, rewritten at every start.\n");
        conf.write(kIncludeLine.toUtf8() + '\n');
        conf.close();
    }

    QStringList lines{
        QStringLiteral("# Written by yieldhost at every start; put your own settings in postgresql.conf or use ALTER SYSTEM."),
        QStringLiteral("listen_addresses = %1").arg(confString(m_options.tcpPort != 0 ? QStringLiteral("127.0.0.1") : QString())),
        QStringLiteral("port = %1").arg(m_port),
        // Double quotes inside: the value is a list, and the path may contain spaces or commas.
        QStringLiteral("unix_socket_directories = %1").arg(confString(QString(u'"' + m_socketDirectory + u'"'))),
        QStringLiteral("unix_socket_permissions = 0700"),
        QStringLiteral("max_connections = 100"),
        QStringLiteral("shared_buffers = '32MB'"),
        // The data sits in the page cache (or on an SSD): a random read costs about what a
        // sequential one does. At the default 4 the planner scans small tables instead of using
        // their index — and keeps that plan for every foreign-key check of a session, however
        // many pages the table's updated rows spread over later (a batch of transfers among 200
        // wallets spent most of its time scanning wallets_account, tests/bench/ledger.sh).
        QStringLiteral("random_page_cost = 1.1"),
    };
    if (m_options.fastUnsafe)
        lines << QStringLiteral("fsync = off") << QStringLiteral("synchronous_commit = off") << QStringLiteral("full_page_writes = off");

    return writeClusterFile(kSettingsFile, lines);
}

// A file of ours in the cluster directory, replaced whole: readable by the cluster's user only.
Status EmbeddedPostgres::writeClusterFile(const QString &name, const QStringList &lines) const
{
    const QString path = QString(clusterDirectory() + u'/' + name);
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text))
        return Status::failure(QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    file.write(QString(lines.join(u'\n') + u'\n').toUtf8());
    if (!file.commit())
        return Status::failure(QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner);
    return giveToClusterUser(path, false);
}

Status EmbeddedPostgres::startServer()
{
    const QString cluster = clusterDirectory();
    const QString logPath = QString(m_options.dataDirectory + QLatin1String("/postgres.log"));
    const int seconds = std::max(1, (m_options.startTimeoutMs + 999) / 1000);
    const QString pgCtl = QString(m_binDirectory + QLatin1String("/pg_ctl"));
    const ProcessResult started = run(pgCtl,
                                      {QStringLiteral("start"), QStringLiteral("-D"), cluster, QStringLiteral("-w"), QStringLiteral("-t"),
                                       QString::number(seconds), QStringLiteral("-l"), logPath, QStringLiteral("-s")},
                                      m_options.startTimeoutMs + 15000, true);
    if (!started.ok) {
        // After a timeout the server may still come up: do not leave it running unowned.
        if (isRunning()) {
            run(pgCtl, {QStringLiteral("stop"), QStringLiteral("-D"), cluster, QStringLiteral("-m"), QStringLiteral("immediate"), QStringLiteral("-s")},
                kStopTimeoutSeconds * 1000, true);
        }
        return Status::failure(QStringLiteral("PostgreSQL did not start in %1: %2\nlast lines of %3:\n%4")
                                   .arg(cluster, started.failure, logPath, logTail(20)));
    }
    m_startedByUs = true;
    m_ourPostmasterPid = postmasterPid();
    qCInfo(lcPostgres).noquote() << QStringLiteral("started PostgreSQL from %1 for %2 (postmaster PID %3, socket %4, port %5%6)")
                                        .arg(m_binDirectory, cluster)
                                        .arg(m_ourPostmasterPid)
                                        .arg(m_socketDirectory)
                                        .arg(m_port)
                                        .arg(m_options.tcpPort != 0 ? QStringLiteral(", also on 127.0.0.1") : QString());
    return {};
}

Status EmbeddedPostgres::waitUntilAccepting(int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    ProcessResult probe;
    for (;;) {
        probe = psql(QStringLiteral("postgres"), QStringLiteral("select 1"));
        if (probe.ok)
            return {};
        if (deadline.hasExpired())
            break;
        QThread::msleep(200);
    }
    return Status::failure(QStringLiteral("the PostgreSQL server on %1 (port %2) does not accept connections after %3 ms: %4")
                               .arg(m_socketDirectory).arg(m_port).arg(timeoutMs).arg(probe.failure));
}

Status EmbeddedPostgres::ensureDatabase()
{
    // The name is validated as an identifier, so it needs no further quoting.
    const QString exists = QStringLiteral("select 1 from pg_database where datname = '%1'").arg(m_options.database);
    ProcessResult found = psql(QStringLiteral("postgres"), exists);
    if (!found.ok)
        return Status::failure(QStringLiteral("cannot query the PostgreSQL cluster in %1: %2").arg(clusterDirectory(), found.failure));
    if (found.output.trimmed() == QLatin1String("1"))
        return {};
    const ProcessResult created = psql(QStringLiteral("postgres"), QStringLiteral("create database \"%1\"").arg(m_options.database));
    if (!created.ok) {
        // Another host starting on the same cluster may have won the race.
        found = psql(QStringLiteral("postgres"), exists);
        if (found.ok && found.output.trimmed() == QLatin1String("1"))
            return {};
        return Status::failure(QStringLiteral("cannot create the database %1: %2").arg(m_options.database, created.failure));
    }
    qCInfo(lcPostgres).noquote() << QStringLiteral("created the database %1 in %2").arg(m_options.database, clusterDirectory());
    return {};
}

// psql as the host's user over the socket (peer credentials), quiet, unaligned, stopping at the
// first error; `script` is read from standard input, off the command line.
EmbeddedPostgres::ProcessResult EmbeddedPostgres::psqlInput(const QString &database, const QByteArray &script) const
{
    return psqlRun(database, {QStringLiteral("-f"), QStringLiteral("-")}, script);
}

EmbeddedPostgres::ProcessResult EmbeddedPostgres::psql(const QString &database, const QString &sql) const
{
    return psqlRun(database, {QStringLiteral("-c"), sql}, {});
}

EmbeddedPostgres::ProcessResult EmbeddedPostgres::psqlRun(const QString &database, const QStringList &command, const QByteArray &input) const
{
    QString program = QString(m_binDirectory + QLatin1String("/psql"));
    if (!QFileInfo(program).isExecutable())
        program = QStringLiteral("/usr/bin/psql");
    const QStringList arguments{QStringLiteral("-X"), QStringLiteral("-q"), QStringLiteral("-A"), QStringLiteral("-t"), QStringLiteral("-v"),
                                QStringLiteral("ON_ERROR_STOP=1"), QStringLiteral("-h"), m_socketDirectory, QStringLiteral("-p"),
                                QString::number(m_port), QStringLiteral("-U"), m_options.superuser, QStringLiteral("-d"), database};
    return run(program, arguments + command, kPsqlTimeoutMs, false, input);
}

EmbeddedPostgres::ProcessResult EmbeddedPostgres::run(const QString &program, const QStringList &arguments, int timeoutMs, bool asClusterUser,
                                                      const QByteArray &input) const
{
    ProcessResult result;
    const QString name = QFileInfo(program).fileName();
    QString executable = program;
    QStringList allArguments = arguments;
    if (asClusterUser && m_asRoot) {
        executable = m_switchUser;
        const QStringList prefix = QFileInfo(m_switchUser).fileName() == QLatin1String("runuser")
            ? QStringList{QStringLiteral("-u"), kClusterUser, QStringLiteral("--"), program}
            : QStringList{QStringLiteral("--reuid=postgres"), QStringLiteral("--regid=postgres"), QStringLiteral("--init-groups"), QStringLiteral("--"), program};
        allArguments = prefix + arguments;
    }

    QProcess process;
    process.setProcessEnvironment(m_environment);
    // The host's working directory (e.g. /root) may be closed to the cluster user.
    process.setWorkingDirectory(QStringLiteral("/"));
    if (input.isEmpty())
        process.setStandardInputFile(QProcess::nullDevice());
    process.start(executable, allArguments);
    if (!process.waitForStarted(10000)) {
        result.failure = QStringLiteral("could not run %1: %2").arg(executable, process.errorString());
        return result;
    }
    if (!input.isEmpty()) {
        process.write(input);
        process.closeWriteChannel();
    }
    if (!process.waitForFinished(timeoutMs)) {
        // runuser passes SIGTERM on to its child; SIGKILL would orphan it.
        process.terminate();
        if (!process.waitForFinished(3000)) {
            process.kill();
            process.waitForFinished(3000);
        }
        result.failure = QStringLiteral("%1 did not finish within %2 s").arg(name).arg(timeoutMs / 1000);
        return result;
    }
    result.output = QString::fromLocal8Bit(process.readAllStandardOutput());
    const QString errors = lastLines(QString::fromLocal8Bit(process.readAllStandardError()).trimmed(), 20);
    if (process.exitStatus() != QProcess::NormalExit) {
        result.failure = QStringLiteral("%1 crashed%2").arg(name, errors.isEmpty() ? QString() : QString(QLatin1String(": ") + errors));
        return result;
    }
    if (process.exitCode() != 0) {
        result.failure = QStringLiteral("%1 exited with code %2%3").arg(name).arg(process.exitCode()).arg(errors.isEmpty() ? QString() : QString(QLatin1String(": ") + errors));
        return result;
    }
    result.ok = true;
    return result;
}

QString EmbeddedPostgres::logTail(int lines) const
{
    QFile log(m_options.dataDirectory + QLatin1String("/postgres.log"));
    if (!log.open(QIODevice::ReadOnly))
        return QStringLiteral("(cannot read it: %1)").arg(log.errorString());
    const qint64 window = 64 * 1024;
    if (log.size() > window)
        log.seek(log.size() - window);
    return lastLines(QString::fromLocal8Bit(log.readAll()), lines);
}

} // namespace yieldhost
