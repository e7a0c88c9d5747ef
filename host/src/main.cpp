// yieldhost — the command line: one binary, several roles.
#include "core/Config.h"
#include "core/Logging.h"
#include "core/SignalWatcher.h"
#include "Host.h"

#include "yieldhost/Services.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QTextStream>

#include <cstdio>
#include <termios.h>
#include <unistd.h>

using namespace yieldhost;

namespace {

int fail(const QString &line, int code = 1)
{
    std::fprintf(stderr, "yieldhost: %s\n", qPrintable(line));
    return code;
}

// The password from stdin (first line), or typed at a terminal prompt without echo.
QString readPassword(bool fromStdin)
{
    QTextStream in(stdin);
    if (fromStdin || !::isatty(STDIN_FILENO))
        return in.readLine();
    termios saved{};
    ::tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~tcflag_t(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::fprintf(stderr, "Password: ");
    const QString first = in.readLine();
    std::fprintf(stderr, "\nPassword (again): ");
    const QString second = in.readLine();
    std::fprintf(stderr, "\n");
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    return first == second ? first : QString();
}

// yieldhost plugins
int listPlugins(const Host &host)
{
    QTextStream out(stdout);
    out << QStringLiteral("%1 %2 %3 %4\n").arg(QStringLiteral("ID"), -16).arg(QStringLiteral("VERSION"), -10).arg(QStringLiteral("SDK"), -6).arg(QStringLiteral("STATE"));
    for (const auto &spec : host.plugins().plugins()) {
        out << QStringLiteral("%1 %2 %3 %4").arg(spec->id, -16).arg(spec->version, -10).arg(spec->sdk, -6).arg(stateName(spec->state));
        if (spec->state == PluginState::Failed)
            out << QStringLiteral(" — ") << spec->error;
        out << QStringLiteral("  (%1)\n").arg(spec->filePath);
    }
    return 0;
}

// The options every command shares, and each command's own.
struct CommandLine
{
    QCommandLineParser parser;
    QCommandLineOption config{QStringLiteral("config"), QStringLiteral("JSON configuration file."), QStringLiteral("file")};
    QCommandLineOption listen{QStringLiteral("listen"), QStringLiteral("Listen address host:port (overrides config)."), QStringLiteral("address")};
    QCommandLineOption pluginPath{QStringLiteral("plugin-path"), QStringLiteral("Extra ':'-separated plugin directories."), QStringLiteral("dirs")};
    QCommandLineOption email{QStringLiteral("email"), QStringLiteral("createuser: the account's email."), QStringLiteral("email")};
    QCommandLineOption staff{QStringLiteral("staff"), QStringLiteral("createuser: make a staff account.")};
    QCommandLineOption passwordStdin{QStringLiteral("password-stdin"), QStringLiteral("createuser: read the password from standard input.")};
    QCommandLineOption queues{QStringLiteral("queues"), QStringLiteral("worker: comma-separated queues to serve (default: all)."), QStringLiteral("a,b")};
    QCommandLineOption concurrency{QStringLiteral("concurrency"), QStringLiteral("worker: jobs run at once per queue (default: per queue from config)."), QStringLiteral("N")};
    QCommandLineOption arg{QStringLiteral("arg"), QStringLiteral("run-task: a task argument; the value is JSON if it parses, else a string."), QStringLiteral("key=value")};
    QString command;
    QStringList positional;
    QJsonObject taskArgs;   // run-task's --arg values
    int concurrencyValue = 0; // --concurrency, 0 when not given

    CommandLine()
    {
        parser.setApplicationDescription(QStringLiteral(
            "Yieldhost: a plugin host for yield-bearing investment platforms.\n\n"
            "Commands:\n"
            "  all       HTTP + WebSocket server, job worker and beat scheduler (default)\n"
            "  serve     HTTP + WebSocket server only\n"
            "  worker    job worker [--queues a,b] [--concurrency N]\n"
            "  beat      periodic job scheduler\n"
            "  run-task NAME [--arg key=value ...]   run a task now, in the foreground\n"
            "  migrate   apply database migrations and exit\n"
            "  plugins   list discovered plugins and whether they resolve\n"
            "  createuser --email E [--staff] [--password-stdin]   create an account"));
        parser.addHelpOption();
        parser.addVersionOption();
        parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("all, serve, worker, beat, run-task, migrate, plugins or createuser"), QStringLiteral("[command]"));
        parser.addOptions({config, listen, pluginPath, email, staff, passwordStdin, queues, concurrency, arg});
    }

    // The command and its arguments, or the line refusing them.
    std::optional<QString> parse(const QCoreApplication &app)
    {
        parser.process(app);
        positional = parser.positionalArguments();
        command = positional.value(0, QStringLiteral("all"));
        if (positional.size() > (command == QLatin1String("run-task") ? 2 : 1))
            return QStringLiteral("expected one command, got \"%1\"; see --help").arg(positional.join(u' '));
        static const QStringList commands{QStringLiteral("all"), QStringLiteral("serve"), QStringLiteral("worker"), QStringLiteral("beat"),
                                          QStringLiteral("run-task"), QStringLiteral("migrate"), QStringLiteral("plugins"), QStringLiteral("createuser")};
        if (!commands.contains(command))
            return QStringLiteral("unknown command \"%1\"; expected one of %2").arg(command, commands.join(QStringLiteral(", ")));
        if (parser.isSet(concurrency)) {
            bool ok = false;
            concurrencyValue = parser.value(concurrency).toInt(&ok);
            if (!ok || concurrencyValue < 1 || concurrencyValue > 1000)
                return QStringLiteral("--concurrency must be a number from 1 to 1000");
        }
        if (command == QLatin1String("run-task")) {
            if (positional.size() < 2)
                return QStringLiteral("run-task needs a task name, e.g. yieldhost run-task host.cleanup");
            for (const QString &a : parser.values(arg)) {
                const qsizetype eq = a.indexOf(u'=');
                if (eq <= 0)
                    return QStringLiteral("--arg \"%1\" must look like key=value").arg(a);
                const QString value = a.mid(eq + 1);
                // Numbers, booleans, objects and quoted strings as JSON; anything else as text.
                const QJsonDocument parsed = QJsonDocument::fromJson("[" + value.toUtf8() + "]");
                taskArgs.insert(a.left(eq), parsed.isArray() && parsed.array().size() == 1 ? parsed.array().at(0) : QJsonValue(value));
            }
        }
        if (command == QLatin1String("createuser") && !parser.isSet(email))
            return QStringLiteral("createuser needs --email");
        return std::nullopt;
    }

    // Built-in defaults < --config < environment, with --listen and --plugin-path as environment.
    std::optional<Config> loadConfig(QString *error) const
    {
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        if (parser.isSet(listen))
            environment.insert(QStringLiteral("YIELDHOST_LISTEN"), parser.value(listen));
        if (parser.isSet(pluginPath)) {
            const QString existing = environment.value(QStringLiteral("YIELDHOST_PLUGIN_PATH"));
            environment.insert(QStringLiteral("YIELDHOST_PLUGIN_PATH"), parser.value(pluginPath) + (existing.isEmpty() ? QString() : u':' + existing));
        }
        return Config::load(Config::builtInDefaults(), parser.value(config), environment, error);
    }
};

// The database is migrated before a one-shot command touches it.
std::optional<QString> migrateQuietly(Host &host)
{
    const Migrations::Outcome migrated = QCoro::waitFor(host.migrate({}));
    return migrated.status ? std::nullopt : std::optional<QString>(migrated.status.error());
}

// yieldhost migrate
int migrate(Host &host)
{
    const Migrations::Outcome outcome = QCoro::waitFor(host.migrate([](const QString &line) {
        std::printf("%s\n", qPrintable(line));
        std::fflush(stdout);
    }));
    return outcome.status ? 0 : fail(outcome.status.error());
}

// yieldhost run-task NAME --arg k=v ...
int runTask(Host &host, const CommandLine &cli)
{
    const QString name = cli.positional.at(1);
    if (const auto error = migrateQuietly(host))
        return fail(*error);
    QElapsedTimer clock;
    clock.start();
    auto progress = [&clock](const QString &line) {
        std::printf("[%7.3fs] %s\n", double(clock.elapsed()) / 1000.0, qPrintable(line));
        std::fflush(stdout);
    };
    const Status ran = QCoro::waitFor(host.runTask(name, cli.taskArgs, progress));
    if (!ran)
        return fail(QStringLiteral("%1 failed: %2").arg(name, ran.error()));
    progress(QStringLiteral("%1 done").arg(name));
    return 0;
}

// yieldhost createuser --email E [--staff] [--password-stdin]
int createUser(Host &host, const CommandLine &cli, const QString &password)
{
    if (const auto error = migrateQuietly(host))
        return fail(*error);
    auto *accounts = host.service<Accounts>();
    if (!accounts)
        return fail(QStringLiteral("no plugin provides accounts (is the users plugin on the plugin path?)"));
    const QString email = cli.parser.value(cli.email);
    const bool staff = cli.parser.isSet(cli.staff);
    const Status created = QCoro::waitFor(accounts->createUser(email, password, staff));
    if (!created)
        return fail(created.error());
    std::printf("created %s account %s\n", staff ? "staff" : "user", qPrintable(email));
    return 0;
}

// yieldhost all | serve | worker | beat: runs until SIGTERM/SIGINT.
int serve(QCoreApplication &app, Host &host, const CommandLine &cli, std::optional<JobWorker::Settings> workerSettings)
{
    SignalWatcher signals;
    QObject::connect(&signals, &SignalWatcher::terminationRequested, &host, [&host](int signalNumber) {
        qCInfo(lcHost) << "received signal" << signalNumber;
        host.shutdown();
    });
    QObject::connect(&host, &Host::stopped, &app, &QCoreApplication::quit);
    const bool all = cli.command == QLatin1String("all");
    Roles roles;
    roles.http = all || cli.command == QLatin1String("serve");
    roles.worker = all || cli.command == QLatin1String("worker");
    roles.beat = all || cli.command == QLatin1String("beat");
    if (Status s = host.serve(roles, std::move(workerSettings)); !s)
        return fail(s.error());
    const int code = app.exec();
    return code != 0 ? code : host.exitCode();
}

// --queues and --concurrency, checked before anything starts.
std::optional<JobWorker::Settings> workerSettings(const Host &host, const CommandLine &cli, QString *error)
{
    QStringList queues;
    for (const QString &q : cli.parser.value(cli.queues).split(u',', Qt::SkipEmptyParts))
        queues.append(q.trimmed());
    return JobWorker::Settings::fromConfig(host.config(), host.jobs(), queues, cli.concurrencyValue, error);
}

} // namespace

int main(int argc, char *argv[])
{
    // Qt's own event dispatcher instead of GLib's: GLib's keeps socket notifiers and timers in
    // lists searched on every change, so with 10,000 WebSockets each send spent most of its time
    // in unregisterSocketNotifier (ws.sh: delivery p99 940 ms with GLib, 231 ms without; host CPU
    // per delivered event 150 µs against 30 µs). An empty QT_NO_GLIB= in the environment keeps GLib.
    if (!qEnvironmentVariableIsSet("QT_NO_GLIB"))
        qputenv("QT_NO_GLIB", "1");
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("yieldhost"));
    QCoreApplication::setApplicationVersion(QStringLiteral(YIELDHOST_VERSION));

    CommandLine cli;
    if (const auto refused = cli.parse(app))
        return fail(*refused, 2);
    QString error;
    auto config = cli.loadConfig(&error);
    if (!config)
        return fail(error);
    installLogFormat(config->string(QStringLiteral("log_format")));

    QString password;
    if (cli.command == QLatin1String("createuser")) { // asked before anything starts
        password = readPassword(cli.parser.isSet(cli.passwordStdin));
        if (password.isEmpty())
            return fail(QStringLiteral("no password given: use --password-stdin or type it at the prompt"), 2);
    }

    Host host(std::move(*config));
    if (cli.command == QLatin1String("plugins")) {
        if (Status s = host.loadPlugins(); !s)
            return fail(s.error());
        return listPlugins(host);
    }
    if (Status s = host.openDatabase(); !s)
        return fail(s.error());
    if (Status s = host.loadPlugins(); !s)
        return fail(s.error());
    if (cli.command == QLatin1String("migrate"))
        return migrate(host);
    if (cli.command == QLatin1String("run-task"))
        return runTask(host, cli);
    if (cli.command == QLatin1String("createuser"))
        return createUser(host, cli, password);
    std::optional<JobWorker::Settings> settings;
    if (cli.command == QLatin1String("all") || cli.command == QLatin1String("worker")) {
        settings = workerSettings(host, cli, &error);
        if (!settings)
            return fail(error, 2);
    }
    return serve(app, host, cli, std::move(settings));
}
