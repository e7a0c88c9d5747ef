// yieldhost — the command line: one binary, several roles.
#include "Config.h"
#include "Host.h"
#include "Logging.h"
#include "SignalWatcher.h"

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

int listPlugins(Host &host)
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

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("yieldhost"));
    QCoreApplication::setApplicationVersion(QStringLiteral(YIELDHOST_VERSION));

    QCommandLineParser parser;
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
    const QCommandLineOption configOption(QStringLiteral("config"), QStringLiteral("JSON configuration file."), QStringLiteral("file"));
    const QCommandLineOption listenOption(QStringLiteral("listen"), QStringLiteral("Listen address host:port (overrides config)."), QStringLiteral("address"));
    const QCommandLineOption pluginPathOption(QStringLiteral("plugin-path"), QStringLiteral("Extra ':'-separated plugin directories."), QStringLiteral("dirs"));
    const QCommandLineOption emailOption(QStringLiteral("email"), QStringLiteral("createuser: the account's email."), QStringLiteral("email"));
    const QCommandLineOption staffOption(QStringLiteral("staff"), QStringLiteral("createuser: make a staff account."));
    const QCommandLineOption passwordStdinOption(QStringLiteral("password-stdin"), QStringLiteral("createuser: read the password from standard input."));
    const QCommandLineOption queuesOption(QStringLiteral("queues"), QStringLiteral("worker: comma-separated queues to serve (default: all)."), QStringLiteral("a,b"));
    const QCommandLineOption concurrencyOption(QStringLiteral("concurrency"), QStringLiteral("worker: jobs run at once per queue (default: per queue from config)."), QStringLiteral("N"));
    const QCommandLineOption argOption(QStringLiteral("arg"), QStringLiteral("run-task: a task argument; the value is JSON if it parses, else a string."), QStringLiteral("key=value"));
    parser.addOptions({configOption, listenOption, pluginPathOption, emailOption, staffOption, passwordStdinOption,
                       queuesOption, concurrencyOption, argOption});
    parser.process(app);

    const QStringList positional = parser.positionalArguments();
    const QString command = positional.value(0, QStringLiteral("all"));
    if (positional.size() > (command == QLatin1String("run-task") ? 2 : 1))
        return fail(QStringLiteral("expected one command, got \"%1\"; see --help").arg(positional.join(u' ')), 2);
    static const QStringList commands{QStringLiteral("all"), QStringLiteral("serve"), QStringLiteral("worker"), QStringLiteral("beat"),
                                      QStringLiteral("run-task"), QStringLiteral("migrate"), QStringLiteral("plugins"), QStringLiteral("createuser")};
    if (!commands.contains(command))
        return fail(QStringLiteral("unknown command \"%1\"; expected one of %2").arg(command, commands.join(QStringLiteral(", "))), 2);

    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    if (parser.isSet(listenOption))
        environment.insert(QStringLiteral("YIELDHOST_LISTEN"), parser.value(listenOption));
    if (parser.isSet(pluginPathOption)) {
        const QString existing = environment.value(QStringLiteral("YIELDHOST_PLUGIN_PATH"));
        environment.insert(QStringLiteral("YIELDHOST_PLUGIN_PATH"),
                           parser.value(pluginPathOption) + (existing.isEmpty() ? QString() : u':' + existing));
    }
    QString error;
    auto config = Config::load(Config::builtInDefaults(), parser.value(configOption), environment, &error);
    if (!config)
        return fail(error);
    installLogFormat(config->string(QStringLiteral("log_format")));

    int concurrency = 0;
    if (parser.isSet(concurrencyOption)) {
        bool ok = false;
        concurrency = parser.value(concurrencyOption).toInt(&ok);
        if (!ok || concurrency < 1 || concurrency > 1000)
            return fail(QStringLiteral("--concurrency must be a number from 1 to 1000"), 2);
    }
    QJsonObject taskArgs;
    if (command == QLatin1String("run-task")) {
        if (positional.size() < 2)
            return fail(QStringLiteral("run-task needs a task name, e.g. yieldhost run-task host.cleanup"), 2);
        for (const QString &arg : parser.values(argOption)) {
            const qsizetype eq = arg.indexOf(u'=');
            if (eq <= 0)
                return fail(QStringLiteral("--arg \"%1\" must look like key=value").arg(arg), 2);
            const QString value = arg.mid(eq + 1);
            // Numbers, booleans, objects and quoted strings as JSON; anything else as text.
            const QJsonDocument parsed = QJsonDocument::fromJson("[" + value.toUtf8() + "]");
            taskArgs.insert(arg.left(eq), parsed.isArray() && parsed.array().size() == 1 ? parsed.array().at(0) : QJsonValue(value));
        }
    }

    const bool serving = command == QLatin1String("all") || command == QLatin1String("serve");
    const bool working = command == QLatin1String("all") || command == QLatin1String("worker");
    if (serving && !config->boolean(QStringLiteral("sandbox")) && config->string(QStringLiteral("jwt_secret")).size() < 32)
        return fail(QStringLiteral("YIELDHOST_JWT_SECRET must be set to a secret of at least 32 bytes outside sandbox mode (YIELDHOST_SANDBOX=0)"));

    QString password;
    if (command == QLatin1String("createuser")) {
        if (!parser.isSet(emailOption))
            return fail(QStringLiteral("createuser needs --email"), 2);
        password = readPassword(parser.isSet(passwordStdinOption));
        if (password.isEmpty())
            return fail(QStringLiteral("no password given: use --password-stdin or type it at the prompt"), 2);
    }

    Host host(std::move(*config));
    if (command == QLatin1String("plugins")) {
        host.loadPlugins();
        return listPlugins(host);
    }
    if (Status s = host.openDatabase(); !s)
        return fail(s.error());
    host.loadPlugins();
    if (command == QLatin1String("migrate")) {
        const Migrations::Outcome outcome = QCoro::waitFor(host.migrate([](const QString &line) {
            std::printf("%s\n", qPrintable(line));
            std::fflush(stdout);
        }));
        return outcome.status ? 0 : fail(outcome.status.error());
    }
    if (command == QLatin1String("run-task")) {
        const Migrations::Outcome migrated = QCoro::waitFor(host.migrate({}));
        if (!migrated.status)
            return fail(migrated.status.error());
        QElapsedTimer clock;
        clock.start();
        auto progress = [&clock](const QString &line) {
            std::printf("[%7.3fs] %s\n", double(clock.elapsed()) / 1000.0, qPrintable(line));
            std::fflush(stdout);
        };
        const Status ran = QCoro::waitFor(host.runTask(positional.at(1), taskArgs, progress));
        if (!ran)
            return fail(QStringLiteral("%1 failed: %2").arg(positional.at(1), ran.error()));
        progress(QStringLiteral("%1 done").arg(positional.at(1)));
        return 0;
    }
    if (command == QLatin1String("createuser")) {
        const Migrations::Outcome migrated = QCoro::waitFor(host.migrate({}));
        if (!migrated.status)
            return fail(migrated.status.error());
        auto *accounts = static_cast<Accounts *>(host.services().services.find(Accounts::ServiceId));
        if (!accounts)
            return fail(QStringLiteral("no plugin provides accounts (is the users plugin on the plugin path?)"));
        const QString email = parser.value(emailOption);
        const Status created = QCoro::waitFor(accounts->createUser(email, password, parser.isSet(staffOption)));
        if (!created)
            return fail(created.error());
        std::printf("created %s account %s\n", parser.isSet(staffOption) ? "staff" : "user", qPrintable(email));
        return 0;
    }

    SignalWatcher signals;
    QObject::connect(&signals, &SignalWatcher::terminationRequested, &host, [&host](int signalNumber) {
        qCInfo(lcHost) << "received signal" << signalNumber;
        host.shutdown();
    });
    QObject::connect(&host, &Host::stopped, &app, &QCoreApplication::quit);
    Roles roles;
    roles.http = serving;
    roles.worker = working;
    roles.beat = command == QLatin1String("all") || command == QLatin1String("beat");
    std::optional<JobWorker::Settings> workerSettings;
    if (working) {
        QStringList queues;
        for (const QString &q : parser.value(queuesOption).split(u',', Qt::SkipEmptyParts))
            queues.append(q.trimmed());
        workerSettings = JobWorker::Settings::fromConfig(host.services().config, host.services().jobs, queues, concurrency, &error);
        if (!workerSettings)
            return fail(error, 2);
    }
    if (Status s = host.serve(roles, workerSettings); !s)
        return fail(s.error());
    const int code = app.exec();
    return code != 0 ? code : host.exitCode();
}
