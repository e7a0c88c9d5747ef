// yieldhost — the command line: one binary, several roles.
#include "Config.h"
#include "Host.h"
#include "Logging.h"
#include "SignalWatcher.h"

#include "yieldhost/Services.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
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
        "  worker    job worker\n"
        "  beat      periodic job scheduler\n"
        "  migrate   apply database migrations and exit\n"
        "  plugins   list discovered plugins and whether they resolve\n"
        "  createuser --email E [--staff] [--password-stdin]   create an account"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("all, serve, worker, beat, migrate or plugins"), QStringLiteral("[command]"));
    const QCommandLineOption configOption(QStringLiteral("config"), QStringLiteral("JSON configuration file."), QStringLiteral("file"));
    const QCommandLineOption listenOption(QStringLiteral("listen"), QStringLiteral("Listen address host:port (overrides config)."), QStringLiteral("address"));
    const QCommandLineOption pluginPathOption(QStringLiteral("plugin-path"), QStringLiteral("Extra ':'-separated plugin directories."), QStringLiteral("dirs"));
    const QCommandLineOption emailOption(QStringLiteral("email"), QStringLiteral("createuser: the account's email."), QStringLiteral("email"));
    const QCommandLineOption staffOption(QStringLiteral("staff"), QStringLiteral("createuser: make a staff account."));
    const QCommandLineOption passwordStdinOption(QStringLiteral("password-stdin"), QStringLiteral("createuser: read the password from standard input."));
    parser.addOptions({configOption, listenOption, pluginPathOption, emailOption, staffOption, passwordStdinOption});
    parser.process(app);

    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1)
        return fail(QStringLiteral("expected one command, got \"%1\"; see --help").arg(positional.join(u' ')), 2);
    const QString command = positional.value(0, QStringLiteral("all"));
    static const QStringList commands{QStringLiteral("all"), QStringLiteral("serve"), QStringLiteral("worker"), QStringLiteral("beat"),
                                      QStringLiteral("migrate"), QStringLiteral("plugins"), QStringLiteral("createuser")};
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

    if (command == QLatin1String("worker") || command == QLatin1String("beat"))
        return fail(QStringLiteral("\"%1\" needs the job queue, which this build does not include yet").arg(command), 3);

    const bool serving = command == QLatin1String("all") || command == QLatin1String("serve");
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
    if (Status s = host.serve(); !s)
        return fail(s.error());
    const int code = app.exec();
    return code != 0 ? code : host.exitCode();
}
