// Configuration layering: built-in defaults < JSON file < YIELDHOST_* environment, and which
// variable set a key (for the plugin settings' error lines).
#include "core/Config.h"

#include <QtCore/QTemporaryFile>
#include <QtTest/QtTest>

using namespace yieldhost;

class TestConfig : public QObject
{
    Q_OBJECT

    static QJsonObject defaults()
    {
        return QJsonObject{{QStringLiteral("listen"), QStringLiteral("127.0.0.1:8088")},
                           {QStringLiteral("sandbox"), true},
                           {QStringLiteral("http"), QJsonObject{{QStringLiteral("max_body_bytes"), 1048576},
                                                                {QStringLiteral("threads"), 0}}}};
    }

    static QString writeFile(QTemporaryFile &file, const QByteArray &content)
    {
        file.open();
        file.write(content);
        file.flush();
        return file.fileName();
    }

private Q_SLOTS:
    void defaultsApplyWithoutFileOrEnvironment()
    {
        QString error;
        const auto c = Config::load(defaults(), {}, {}, &error);
        QVERIFY2(c, qPrintable(error));
        QCOMPARE(c->string(QStringLiteral("listen")), QStringLiteral("127.0.0.1:8088"));
        QCOMPARE(c->integer(QStringLiteral("http.max_body_bytes")), 1048576);
    }

    void fileOverridesDefaultsKeyByKey()
    {
        QTemporaryFile file;
        const QString path = writeFile(file, R"({"listen": "127.0.0.1:9000", "http": {"threads": 3}})");
        QString error;
        const auto c = Config::load(defaults(), path, {}, &error);
        QVERIFY2(c, qPrintable(error));
        QCOMPARE(c->string(QStringLiteral("listen")), QStringLiteral("127.0.0.1:9000"));
        QCOMPARE(c->integer(QStringLiteral("http.threads")), 3);
        QCOMPARE(c->integer(QStringLiteral("http.max_body_bytes")), 1048576); // sibling kept
    }

    void environmentOverridesFile()
    {
        QTemporaryFile file;
        const QString path = writeFile(file, R"({"listen": "127.0.0.1:9000", "http": {"threads": 3}})");
        QProcessEnvironment env;
        env.insert(QStringLiteral("YIELDHOST_LISTEN"), QStringLiteral("127.0.0.1:9100"));
        env.insert(QStringLiteral("YIELDHOST_HTTP__THREADS"), QStringLiteral("5"));
        env.insert(QStringLiteral("YIELDHOST_SANDBOX"), QStringLiteral("0"));
        QString error;
        const auto c = Config::load(defaults(), path, env, &error);
        QVERIFY2(c, qPrintable(error));
        QCOMPARE(c->string(QStringLiteral("listen")), QStringLiteral("127.0.0.1:9100"));
        QCOMPARE(c->value(QStringLiteral("http.threads")), QJsonValue(5)); // a number, not "5"
        QCOMPARE(c->value(QStringLiteral("sandbox")), QJsonValue(false));
    }

    void pluginSectionComesFromEnvironment()
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("YIELDHOST_WALLETS__ADDRESS_PREFIX"), QStringLiteral("yh"));
        QString error;
        const auto c = Config::load(defaults(), {}, env, &error);
        QVERIFY2(c, qPrintable(error));
        QCOMPARE(c->section(QStringLiteral("wallets")).value(QLatin1String("address_prefix")).toString(), QStringLiteral("yh"));
    }

    void environmentVariableNamesWhereAValueCameFrom()
    {
        QTemporaryFile file;
        const QString path = writeFile(file, R"({"wallets": {"limit": 3, "from_file": "x"}})");
        QProcessEnvironment env;
        env.insert(QStringLiteral("YIELDHOST_WALLETS__LIMIT"), QStringLiteral("many"));
        env.insert(QStringLiteral("YIELDHOST_HTTP__THREADS"), QStringLiteral("2"));
        QString error;
        const auto c = Config::load(defaults(), path, env, &error);
        // A plugin's key is not typed by the file's value: its declaration types it and names the
        // variable (tst_pluginsettings), so the text arrives as it was given.
        QVERIFY2(c, qPrintable(error));
        QCOMPARE(c->value(QStringLiteral("wallets.limit")), QJsonValue(QStringLiteral("many")));
        QCOMPARE(c->environmentVariable(QStringLiteral("wallets.limit")), QStringLiteral("YIELDHOST_WALLETS__LIMIT"));
        QCOMPARE(c->environmentVariable(QStringLiteral("wallets")), QStringLiteral("YIELDHOST_WALLETS__LIMIT")); // a key beneath
        QCOMPARE(c->environmentVariable(QStringLiteral("http.threads")), QStringLiteral("YIELDHOST_HTTP__THREADS"));
        QCOMPARE(c->environmentVariable(QStringLiteral("wallets.from_file")), QString());
        QCOMPARE(c->environmentVariable(QStringLiteral("listen")), QString());
    }

    void unrelatedEnvironmentIsIgnored()
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("HOME"), QStringLiteral("/root"));
        env.insert(QStringLiteral("YIELDHOSTX"), QStringLiteral("1"));
        QString error;
        const auto c = Config::load(defaults(), {}, env, &error);
        QVERIFY2(c, qPrintable(error));
        QCOMPARE(c->root(), defaults());
    }

    void wrongTypeInEnvironmentIsRefusedByName()
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("YIELDHOST_HTTP__THREADS"), QStringLiteral("many"));
        QString error;
        QVERIFY(!Config::load(defaults(), {}, env, &error));
        QVERIFY2(error.contains(QLatin1String("YIELDHOST_HTTP__THREADS")) && error.contains(QLatin1String("integer")), qPrintable(error));

        env.clear();
        env.insert(QStringLiteral("YIELDHOST_SANDBOX"), QStringLiteral("maybe"));
        QVERIFY(!Config::load(defaults(), {}, env, &error));
        QVERIFY2(error.contains(QLatin1String("YIELDHOST_SANDBOX")), qPrintable(error));
    }

    void malformedFileIsRefusedWithItsPath()
    {
        QTemporaryFile file;
        const QString path = writeFile(file, "{ not json");
        QString error;
        QVERIFY(!Config::load(defaults(), path, {}, &error));
        QVERIFY2(error.contains(path), qPrintable(error));
        QVERIFY(!Config::load(defaults(), QStringLiteral("/nonexistent/yieldhost.json"), {}, &error));
        QVERIFY2(error.contains(QLatin1String("/nonexistent/yieldhost.json")), qPrintable(error));
    }

    void wrongTypeInTheFileIsRefusedNamingTheKey()
    {
        QTemporaryFile file;
        const QString path = writeFile(file, R"({"http": {"max_body_bytes": "1MB"}})");
        QString error;
        QVERIFY(!Config::load(defaults(), path, {}, &error));
        QVERIFY2(error.contains(QLatin1String("http.max_body_bytes")) && error.contains(QLatin1String("a string")), qPrintable(error));
        QTemporaryFile fraction;
        QVERIFY(!Config::load(defaults(), writeFile(fraction, R"({"http": {"max_body_bytes": 1.5}})"), {}, &error));
        QVERIFY2(error.contains(QLatin1String("integer")), qPrintable(error));
        QTemporaryFile flag;
        QVERIFY(!Config::load(defaults(), writeFile(flag, R"({"sandbox": "no"})"), {}, &error));
        QVERIFY2(error.contains(QLatin1String("\"sandbox\" must be a boolean")), qPrintable(error));
        // A plugin's own section is the plugin's to check.
        QTemporaryFile plugin;
        QVERIFY2(Config::load(defaults(), writeFile(plugin, R"({"wallets": {"anything": "goes"}})"), {}, &error), qPrintable(error));
    }

    void zeroOrNegativeLimitsAreRefused()
    {
        QString error;
        QProcessEnvironment env;
        env.insert(QStringLiteral("YIELDHOST_HTTP__MAX_BODY_BYTES"), QStringLiteral("0"));
        QVERIFY(!Config::load(defaults(), {}, env, &error));
        QVERIFY2(error.contains(QLatin1String("http.max_body_bytes must be greater than 0")), qPrintable(error));
        QTemporaryFile file;
        QVERIFY(!Config::load(defaults(), writeFile(file, R"({"http": {"max_body_bytes": -5}})"), {}, &error));
        QVERIFY2(error.contains(QLatin1String("(got -5)")), qPrintable(error));
        // The built-in defaults themselves pass.
        QVERIFY2(Config::load(Config::builtInDefaults(), {}, {}, &error), qPrintable(error));
    }

    void builtInDefaultsHoldTheDocumentedKeys()
    {
        const QJsonObject d = Config::builtInDefaults();
        QCOMPARE(d.value(QLatin1String("listen")).toString(), QStringLiteral("127.0.0.1:8088"));
        QCOMPARE(d.value(QLatin1String("coingecko_url")).toString(), QStringLiteral("https://api.coingecko.com"));
        QCOMPARE(d.value(QLatin1String("http")).toObject().value(QLatin1String("max_body_bytes")).toInt(), 1048576);
        QCOMPARE(d.value(QLatin1String("websocket")).toObject().value(QLatin1String("max_message_bytes")).toInt(), 65536);
    }
};

QTEST_GUILESS_MAIN(TestConfig)
#include "tst_config.moc"
