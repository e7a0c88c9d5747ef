// yieldhost — the command line: one binary, several roles.
#include "Config.h"
#include "Host.h"
#include "Logging.h"
#include "SignalWatcher.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QTextStream>

#include <cstdio>

using namespace yieldhost;

namespace {

int fail(const QString &line, int code = 1)
{
    std::fprintf(stderr, "yieldhost: %s\n", qPrintable(line));
    return code;
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
        "  plugins   list discovered plugins and whether they resolve"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("all, serve, worker, beat, migrate or plugins"), QStringLiteral("[command]"));
    const QCommandLineOption configOption(QStringLiteral("config"), QStringLiteral("JSON configuration file."), QStringLiteral("file"));
    const QCommandLineOption listenOption(QStringLiteral("listen"), QStringLiteral("Listen address host:port (overrides config)."), QStringLiteral("address"));
    const QCommandLineOption pluginPathOption(QStringLiteral("plugin-path"), QStringLiteral("Extra ':'-separated plugin directories."), QStringLiteral("dirs"));
    parser.addOptions({configOption, listenOption, pluginPathOption});
    parser.process(app);

    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1)
        return fail(QStringLiteral("expected one command, got \"%1\"; see --help").arg(positional.join(u' ')), 2);
    const QString command = positional.value(0, QStringLiteral("all"));
    static const QStringList commands{QStringLiteral("all"), QStringLiteral("serve"), QStringLiteral("worker"),
                                      QStringLiteral("beat"), QStringLiteral("migrate"), QStringLiteral("plugins")};
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
