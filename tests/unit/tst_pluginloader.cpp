// The plugin loader: metadata before code, SDK range, missing dependencies, cycles, failure
// propagation, dependency order for start and reverse order for stop, nothing left behind by a
// plugin that failed initialize() (by returning a failure or by throwing), a warning for a
// plugin path entry that yields no plugin, and declared settings: typed before initialize(), a
// wrong declaration refusing its plugin, a wrong value stopping everything with one line.
#include "HostParts.h"
#include "pluginsystem/HostPluginContext.h"
#include "pluginsystem/PluginManager.h"

#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

using namespace yieldhost;

class TestPluginLoader : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_log;

    struct Loaded
    {
        std::unique_ptr<test::HostParts> parts;
        std::unique_ptr<PluginManager> manager;
        QString warnings;
        Status configured;
    };

    static QString s_warnings;
    static void captureWarnings(QtMsgType type, const QMessageLogContext &, const QString &message)
    {
        if (type == QtWarningMsg)
            s_warnings += message + u'\n';
    }

    Loaded loadFixtures(const QStringList &extraDirectories = {}, const QProcessEnvironment &environment = {})
    {
        QString error;
        auto config = Config::load(Config::builtInDefaults(), {}, environment, &error);
        Loaded l;
        l.parts = std::make_unique<test::HostParts>(std::move(*config));
        l.manager = std::make_unique<PluginManager>(l.parts->environment());
        s_warnings.clear();
        const auto previous = qInstallMessageHandler(captureWarnings);
        l.manager->discover(QStringList{qEnvironmentVariable("YIELDHOST_FIXTURE_PLUGINS")} + extraDirectories);
        l.manager->resolve();
        l.configured = l.manager->configure(l.parts->config);
        if (l.configured)
            l.manager->loadAndInitialize();
        l.manager->start();
        qInstallMessageHandler(previous);
        l.warnings = s_warnings;
        return l;
    }

    QStringList logLines() const
    {
        QFile f(m_log);
        if (!f.open(QIODevice::ReadOnly))
            return {};
        return QString::fromUtf8(f.readAll()).split(u'\n', Qt::SkipEmptyParts);
    }

    static QString state(const Loaded &l, const QString &id)
    {
        const PluginSpec *s = l.manager->find(id);
        return s ? stateName(s->state) : QStringLiteral("<missing>");
    }
    static QString error(const Loaded &l, const QString &id)
    {
        const PluginSpec *s = l.manager->find(id);
        return s ? s->error : QString();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(!qEnvironmentVariable("YIELDHOST_FIXTURE_PLUGINS").isEmpty());
        m_log = m_dir.filePath(QStringLiteral("lifecycle.log"));
        qputenv("YIELDHOST_FIXTURE_LOG", m_log.toLocal8Bit());
    }
    void init() { QFile::remove(m_log); }

    void goodPluginsLoadAndRun()
    {
        const Loaded l = loadFixtures();
        QCOMPARE(state(l, QStringLiteral("alpha")), QStringLiteral("running"));
        QCOMPARE(state(l, QStringLiteral("beta")), QStringLiteral("running"));
        QCOMPARE(state(l, QStringLiteral("gamma")), QStringLiteral("running"));
        QVERIFY(l.parts->router.match(HttpMethod::Get, QStringLiteral("/fixture/alpha")).route);
    }

    void dependenciesStartFirstAndStopLast()
    {
        Loaded l = loadFixtures();
        l.manager->stop();
        const QStringList lines = logLines();
        auto at = [&](const char *what) { return lines.indexOf(QString::fromLatin1(what)); };
        QVERIFY(at("init:alpha") >= 0);
        QVERIFY(at("init:alpha") < at("init:beta"));
        QVERIFY(at("init:beta") < at("init:gamma"));
        QVERIFY(at("start:alpha") < at("start:beta"));
        QVERIFY(at("init:gamma") < at("start:alpha")); // every plugin initializes before any starts
        QVERIFY(at("stop:gamma") < at("stop:beta"));
        QVERIFY(at("stop:beta") < at("stop:alpha"));
    }

    void wrongSdkVersionIsRefusedWithoutRunningItsCode()
    {
        const Loaded l = loadFixtures();
        QCOMPARE(state(l, QStringLiteral("futuresdk")), QStringLiteral("failed"));
        QVERIFY2(error(l, QStringLiteral("futuresdk")).contains(QLatin1String("built for SDK 2.0")), qPrintable(error(l, QStringLiteral("futuresdk"))));
        QCOMPARE(state(l, QStringLiteral("newerminor")), QStringLiteral("failed")); // 1.9 > 1.1
        QVERIFY(!logLines().contains(QStringLiteral("init:futuresdk")));
        QVERIFY(!logLines().contains(QStringLiteral("init:newerminor")));
        QVERIFY(l.warnings.contains(QLatin1String("plugin futuresdk refused: it was built for SDK 2.0")));
    }

    void missingDependencyIsRefusedByName()
    {
        const Loaded l = loadFixtures();
        QCOMPARE(state(l, QStringLiteral("needsghost")), QStringLiteral("failed"));
        QVERIFY(error(l, QStringLiteral("needsghost")).contains(QLatin1String("requires plugin \"ghost\", which is not installed")));
        QVERIFY(!logLines().contains(QStringLiteral("init:needsghost")));
    }

    void cycleIsRefusedSpellingOutTheCycle()
    {
        const Loaded l = loadFixtures();
        QCOMPARE(state(l, QStringLiteral("cycle-a")), QStringLiteral("failed"));
        QCOMPARE(state(l, QStringLiteral("cycle-b")), QStringLiteral("failed"));
        QVERIFY2(error(l, QStringLiteral("cycle-a")).contains(QLatin1String("cycle-a -> cycle-b -> cycle-a")), qPrintable(error(l, QStringLiteral("cycle-a"))));
        QCOMPARE(state(l, QStringLiteral("oncycle")), QStringLiteral("failed"));
        QVERIFY(error(l, QStringLiteral("oncycle")).contains(QLatin1String("dependency \"cycle-a\" failed")));
        // One line per refusal.
        QCOMPARE(l.warnings.count(QLatin1String("plugin cycle-a refused")), 1);
        QCOMPARE(l.warnings.count(QLatin1String("plugin cycle-b refused")), 1);
    }

    void aSecondProviderOfAServiceIsRefusedWithOneLine()
    {
        const Loaded l = loadFixtures();
        QCOMPARE(state(l, QStringLiteral("provider-a")), QStringLiteral("running"));
        QCOMPARE(state(l, QStringLiteral("provider-b")), QStringLiteral("failed"));
        QVERIFY2(error(l, QStringLiteral("provider-b")).contains(QLatin1String("service dev.yieldhost.test.Fixture/1 is already provided by plugin provider-a")),
                 qPrintable(error(l, QStringLiteral("provider-b"))));
        QCOMPARE(l.warnings.count(QLatin1String("plugin provider-b refused")), 1);
        // What it registered before it was refused is withdrawn.
        QVERIFY(!l.parts->router.match(HttpMethod::Get, QStringLiteral("/fixture/provider-b")).route);
        QVERIFY(l.parts->router.match(HttpMethod::Get, QStringLiteral("/fixture/provider-a")).route);
        // The first provider still answers.
        const auto *service = static_cast<const QString *>(l.parts->services.find("dev.yieldhost.test.Fixture/1"));
        QVERIFY(service);
        QCOMPARE(*service, QStringLiteral("provider-a"));
    }

    void aRefusedPluginsServicesAreWithdrawn()
    {
        // "failsinit" provides the service, then fails: it must not stay registered (provider-a,
        // later in id order, could not have registered otherwise).
        const Loaded l = loadFixtures();
        QCOMPARE(state(l, QStringLiteral("failsinit")), QStringLiteral("failed"));
        QVERIFY(logLines().indexOf(QStringLiteral("init:failsinit")) < logLines().indexOf(QStringLiteral("init:provider-a")));
        QCOMPARE(state(l, QStringLiteral("provider-a")), QStringLiteral("running"));
    }

    void failedInitializeTakesDownOnlyItsDependents()
    {
        const Loaded l = loadFixtures();
        QCOMPARE(state(l, QStringLiteral("failsinit")), QStringLiteral("failed"));
        QVERIFY(error(l, QStringLiteral("failsinit")).contains(QLatin1String("the fixture refuses to initialize")));
        QCOMPARE(state(l, QStringLiteral("onfailsinit")), QStringLiteral("failed"));
        QVERIFY(error(l, QStringLiteral("onfailsinit")).contains(QLatin1String("cannot load because its dependency \"failsinit\" failed")));
        QVERIFY(!logLines().contains(QStringLiteral("init:onfailsinit")));
        QCOMPARE(state(l, QStringLiteral("alpha")), QStringLiteral("running"));
    }

    void aPluginThatFailsInitializeLeavesNothingRegistered_data()
    {
        QTest::addColumn<QString>("id");
        QTest::addColumn<QString>("reason");
        QTest::newRow("returns a failure") << QStringLiteral("failsinit") << QStringLiteral("the fixture refuses to initialize");
        QTest::newRow("throws") << QStringLiteral("throwsinit") << QStringLiteral("it threw the fixture throws from initialize");
    }
    void aPluginThatFailsInitializeLeavesNothingRegistered()
    {
        QFETCH(QString, id);
        QFETCH(QString, reason);
        const Loaded l = loadFixtures();
        QCOMPARE(state(l, id), QStringLiteral("failed"));
        QVERIFY2(error(l, id).contains(reason), qPrintable(error(l, id)));
        QCOMPARE(l.warnings.count(QStringLiteral("plugin %1 refused").arg(id)), 1);
        QVERIFY(logLines().contains(QStringLiteral("init:") + id)); // it did run, and registered
        QVERIFY(!logLines().contains(QStringLiteral("register-task-failed:") + id));

        // Its route, also in the OpenAPI document, and its WebSocket endpoint.
        QVERIFY(!l.parts->router.match(HttpMethod::Get, QStringLiteral("/fixture/") + id).route);
        const QJsonObject paths = l.parts->router.openApi(QStringLiteral("t"), QStringLiteral("1")).value(QLatin1String("paths")).toObject();
        QVERIFY(!paths.contains(QStringLiteral("/fixture/") + id));
        QVERIFY(paths.contains(QLatin1String("/fixture/alpha")));
        QVERIFY(!l.parts->router.webSocket(QStringLiteral("/fixture/%1/ws").arg(id)));
        // Its task, schedule and cleanup step.
        QVERIFY(!l.parts->jobs.task(id + QStringLiteral(".work")));
        for (const ScheduleSpec &schedule : l.parts->jobs.schedules())
            QVERIFY2(!schedule.task.startsWith(id), qPrintable(schedule.task));
        for (const CleanupSpec &cleanup : l.parts->jobs.cleanups())
            QVERIFY2(cleanup.plugin != id, qPrintable(cleanup.description));
        // Its service: the one provider left is provider-a (failsinit provided it first and was
        // withdrawn; throwsinit came after provider-a and must not have taken provider-a's away).
        const auto *service = static_cast<const QString *>(l.parts->services.find("dev.yieldhost.test.Fixture/1"));
        QVERIFY(service);
        QCOMPARE(*service, QStringLiteral("provider-a"));
        // Unrelated plugins are untouched.
        QCOMPARE(state(l, QStringLiteral("alpha")), QStringLiteral("running"));
        QVERIFY(l.parts->router.match(HttpMethod::Get, QStringLiteral("/fixture/alpha")).route);
    }

    void aPluginPathEntryThatYieldsNoPluginIsAWarningNamingIt()
    {
        QTemporaryDir empty;
        QVERIFY(empty.isValid());
        const QString missing = m_dir.filePath(QStringLiteral("no-such-directory"));
        const Loaded l = loadFixtures({missing, empty.path()});
        QVERIFY2(l.warnings.contains(QStringLiteral("plugin path entry %1 does not exist").arg(missing)), qPrintable(l.warnings));
        QVERIFY2(l.warnings.contains(QStringLiteral("plugin path entry %1 holds no Yieldhost plugin").arg(QDir(empty.path()).absolutePath())),
                 qPrintable(l.warnings));
        // The directory that does hold plugins is not warned about, and its plugins still load.
        QVERIFY(!l.warnings.contains(QStringLiteral("plugin path entry %1").arg(qEnvironmentVariable("YIELDHOST_FIXTURE_PLUGINS"))));
        QCOMPARE(state(l, QStringLiteral("alpha")), QStringLiteral("running"));
    }

    void orderIsDeterministicDependencyFirst()
    {
        const Loaded a = loadFixtures();
        const Loaded b = loadFixtures();
        QCOMPARE(a.manager->order(), b.manager->order());
        QCOMPARE(a.manager->order(), (QStringList{QStringLiteral("alpha"), QStringLiteral("beta"), QStringLiteral("gamma"), QStringLiteral("provider-a"), QStringLiteral("tuned")}));
    }

    void declaredSettingsAreTypedBeforeInitialize()
    {
        const Loaded l = loadFixtures();
        QVERIFY2(l.configured, qPrintable(l.configured.error()));
        QCOMPARE(state(l, QStringLiteral("tuned")), QStringLiteral("running"));
        QCOMPARE(l.manager->find(QStringLiteral("tuned"))->settings.value(QStringLiteral("limit")), QJsonValue(5));
        QCOMPARE(l.manager->find(QStringLiteral("tuned"))->context->config().value(QLatin1String("limit")), QJsonValue(5));
        QProcessEnvironment env;
        env.insert(QStringLiteral("YIELDHOST_TUNED__LIMIT"), QStringLiteral("7"));
        const Loaded set = loadFixtures({}, env);
        QCOMPARE(set.manager->find(QStringLiteral("tuned"))->context->settings().integer(QStringLiteral("limit")), 7);
    }

    void aWrongSettingsDeclarationRefusesOnlyThatPlugin()
    {
        const Loaded l = loadFixtures();
        QCOMPARE(state(l, QStringLiteral("badsettings")), QStringLiteral("failed"));
        QVERIFY2(error(l, QStringLiteral("badsettings")).contains(QLatin1String("its plugin.json setting \"limit\" has type \"number\"")),
                 qPrintable(error(l, QStringLiteral("badsettings"))));
        QVERIFY(!logLines().contains(QStringLiteral("init:badsettings"))); // refused before its code ran
        QCOMPARE(state(l, QStringLiteral("alpha")), QStringLiteral("running"));
    }

    void aWrongSettingValueStopsEveryPluginWithOneLine()
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("YIELDHOST_TUNED__LIMIT"), QStringLiteral("0"));
        const Loaded l = loadFixtures({}, env);
        QVERIFY(!l.configured);
        QCOMPARE(l.configured.error(), QStringLiteral("YIELDHOST_TUNED__LIMIT: must be an integer of at least 1, not \"0\""));
        QVERIFY(logLines().isEmpty()); // no plugin's code ran
    }

    void describeListsFailuresWithReasons()
    {
        const Loaded l = loadFixtures();
        bool sawFailure = false;
        for (const QJsonValue &v : l.manager->describe()) {
            const QJsonObject o = v.toObject();
            QVERIFY(o.contains(QLatin1String("id")) && o.contains(QLatin1String("state")) && o.contains(QLatin1String("sdk")));
            if (o.value(QLatin1String("state")).toString() == QLatin1String("failed")) {
                sawFailure = true;
                QVERIFY(!o.value(QLatin1String("error")).toString().isEmpty());
            }
        }
        QVERIFY(sawFailure);
    }
};

QString TestPluginLoader::s_warnings;

QTEST_GUILESS_MAIN(TestPluginLoader)
#include "tst_pluginloader.moc"
