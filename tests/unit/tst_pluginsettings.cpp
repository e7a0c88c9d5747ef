// A plugin's declared settings (plugin.json "settings"; host/src/pluginsystem/PluginSettings.h):
// defaults < config file < environment, environment text converted to the declared type, and a
// wrong value refused in one line naming the variable (or the config key) — a secret's value
// never in it. A wrong declaration is the plugin's fault and reported as such; a plugin that
// declares nothing keeps its section as given. Settings (the SDK side) reads the values and
// prints secrets as "(secret)".
#include "pluginsystem/PluginSettings.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QTemporaryFile>
#include <QtTest/QtTest>

using namespace yieldhost;

class TestPluginSettings : public QObject
{
    Q_OBJECT

    static QJsonObject metadata()
    {
        return QJsonDocument::fromJson(R"({"id": "users", "settings": {
            "access_ttl_seconds": {"type": "integer", "default": 900, "min": 60, "max": 86400},
            "jwt_secret": {"type": "string", "secret": true},
            "fee": {"type": "decimal", "default": "0.25"},
            "verbose": {"type": "boolean", "default": false},
            "hosts": {"type": "list", "default": ["a"]},
            "name": {"type": "string", "default": "yh"}}})").object();
    }

    // Resolves `metadata()` against a config made of `file` (JSON text, or none) and `env`.
    static std::optional<Settings> resolve(const QProcessEnvironment &env, QString *error, const QByteArray &file = {},
                                           const QJsonObject &meta = metadata())
    {
        QTemporaryFile f;
        QString path;
        if (!file.isEmpty()) {
            f.open();
            f.write(file);
            f.flush();
            path = f.fileName();
        }
        const auto config = Config::load(QJsonObject{{QStringLiteral("sandbox"), true}}, path, env, error);
        if (!config)
            return std::nullopt;
        const auto declared = PluginSettings::declared(meta, error);
        if (!declared)
            return std::nullopt;
        return declared->resolve(QStringLiteral("users"), *config, error);
    }
    static QProcessEnvironment env(const QString &name, const QString &value)
    {
        QProcessEnvironment e;
        e.insert(name, value);
        return e;
    }

private Q_SLOTS:
    void defaultsFillEveryDeclaredKey()
    {
        QString error;
        const auto s = resolve({}, &error);
        QVERIFY2(s, qPrintable(error));
        QCOMPARE(s->value(QStringLiteral("access_ttl_seconds")), QJsonValue(900));
        QCOMPARE(s->integer(QStringLiteral("access_ttl_seconds")), 900);
        QCOMPARE(s->decimal(QStringLiteral("fee"))->toString(), QStringLiteral("0.25"));
        QCOMPARE(s->boolean(QStringLiteral("verbose")), false);
        QCOMPARE(s->list(QStringLiteral("hosts")), QStringList{QStringLiteral("a")});
        QVERIFY(!s->contains(QStringLiteral("jwt_secret"))); // no default, not set: absent
    }

    void environmentTextIsConvertedToTheDeclaredType()
    {
        QProcessEnvironment e;
        e.insert(QStringLiteral("YIELDHOST_USERS__ACCESS_TTL_SECONDS"), QStringLiteral(" 120 "));
        e.insert(QStringLiteral("YIELDHOST_USERS__VERBOSE"), QStringLiteral("yes"));
        e.insert(QStringLiteral("YIELDHOST_USERS__FEE"), QStringLiteral("0.10"));
        e.insert(QStringLiteral("YIELDHOST_USERS__HOSTS"), QStringLiteral("x, y"));
        QString error;
        const auto s = resolve(e, &error);
        QVERIFY2(s, qPrintable(error));
        QCOMPARE(s->value(QStringLiteral("access_ttl_seconds")), QJsonValue(120)); // a number, not "120"
        QCOMPARE(s->value(QStringLiteral("verbose")), QJsonValue(true));
        QCOMPARE(s->value(QStringLiteral("fee")), QJsonValue(QStringLiteral("0.10"))); // exact text, scale kept
        QCOMPARE(s->list(QStringLiteral("hosts")), (QStringList{QStringLiteral("x"), QStringLiteral("y")}));
    }

    void environmentOverridesTheFileWhichOverridesDefaults()
    {
        QString error;
        auto s = resolve({}, &error, R"({"users": {"access_ttl_seconds": 300, "name": "file"}})");
        QVERIFY2(s, qPrintable(error));
        QCOMPARE(s->integer(QStringLiteral("access_ttl_seconds")), 300);
        s = resolve(env(QStringLiteral("YIELDHOST_USERS__ACCESS_TTL_SECONDS"), QStringLiteral("600")), &error,
                    R"({"users": {"access_ttl_seconds": 300, "name": "file"}})");
        QVERIFY2(s, qPrintable(error));
        QCOMPARE(s->integer(QStringLiteral("access_ttl_seconds")), 600);
        QCOMPARE(s->string(QStringLiteral("name")), QStringLiteral("file"));
    }

    void aWrongEnvironmentValueIsOneLineNamingTheVariable()
    {
        QString error;
        QVERIFY(!resolve(env(QStringLiteral("YIELDHOST_USERS__ACCESS_TTL_SECONDS"), QStringLiteral("abc")), &error));
        QCOMPARE(error, QStringLiteral("YIELDHOST_USERS__ACCESS_TTL_SECONDS: must be an integer from 60 to 86400, not \"abc\""));
        QVERIFY(!resolve(env(QStringLiteral("YIELDHOST_USERS__ACCESS_TTL_SECONDS"), QStringLiteral("59")), &error));
        QCOMPARE(error, QStringLiteral("YIELDHOST_USERS__ACCESS_TTL_SECONDS: must be an integer from 60 to 86400, not \"59\""));
        QVERIFY(!resolve(env(QStringLiteral("YIELDHOST_USERS__ACCESS_TTL_SECONDS"), QStringLiteral("86401")), &error));
        QVERIFY2(error.endsWith(QLatin1String("not \"86401\"")), qPrintable(error));
        QVERIFY(!resolve(env(QStringLiteral("YIELDHOST_USERS__VERBOSE"), QStringLiteral("maybe")), &error));
        QVERIFY2(error.startsWith(QLatin1String("YIELDHOST_USERS__VERBOSE: must be a boolean")), qPrintable(error));
        QVERIFY(!resolve(env(QStringLiteral("YIELDHOST_USERS__FEE"), QStringLiteral("1e-3")), &error));
        QVERIFY2(error.startsWith(QLatin1String("YIELDHOST_USERS__FEE: must be a decimal")), qPrintable(error));
        QVERIFY(!error.contains(u'\n'));
    }

    void aWrongFileValueNamesTheKey()
    {
        QString error;
        QVERIFY(!resolve({}, &error, R"({"users": {"access_ttl_seconds": 1.5}})"));
        QCOMPARE(error, QStringLiteral("users.access_ttl_seconds in the config file: must be an integer from 60 to 86400, not 1.5"));
        QVERIFY(!resolve({}, &error, R"({"users": {"fee": 0.1}})")); // a double is not exact
        QVERIFY2(error.startsWith(QLatin1String("users.fee in the config file: must be a decimal")), qPrintable(error));
        QVERIFY(!resolve({}, &error, R"({"users": {"name": 7}})"));
        QVERIFY2(error.contains(QLatin1String("must be a string, not 7")), qPrintable(error));
        // Text in the file is read like the environment's.
        QVERIFY2(resolve({}, &error, R"({"users": {"access_ttl_seconds": "120", "verbose": "on"}})"), qPrintable(error));
    }

    void anUnknownKeyIsRefusedSoATypoIsNotIgnored()
    {
        QString error;
        QVERIFY(!resolve(env(QStringLiteral("YIELDHOST_USERS__ACESS_TTL_SECONDS"), QStringLiteral("120")), &error));
        QVERIFY2(error.startsWith(QLatin1String("YIELDHOST_USERS__ACESS_TTL_SECONDS: the users plugin has no setting \"acess_ttl_seconds\" (it has access_ttl_seconds, fee, ")),
                 qPrintable(error));
        QVERIFY(!resolve({}, &error, R"({"users": {"colour": "red"}})"));
        QVERIFY2(error.startsWith(QLatin1String("users.colour in the config file: the users plugin has no setting \"colour\"")), qPrintable(error));
    }

    void aSecretsValueNeverAppearsInAnErrorOrAPrint()
    {
        QJsonObject meta = metadata();
        QJsonObject settings = meta.value(QLatin1String("settings")).toObject();
        settings.insert(QStringLiteral("pin"), QJsonObject{{QStringLiteral("type"), QStringLiteral("integer")}, {QStringLiteral("secret"), true}});
        meta.insert(QStringLiteral("settings"), settings);
        QString error;
        QVERIFY(!resolve(env(QStringLiteral("YIELDHOST_USERS__PIN"), QStringLiteral("hunter2")), &error, {}, meta));
        QCOMPARE(error, QStringLiteral("YIELDHOST_USERS__PIN: must be an integer, not the value given (hidden: it is a secret)"));

        const auto s = resolve(env(QStringLiteral("YIELDHOST_USERS__JWT_SECRET"), QStringLiteral("s3cr3t-value")), &error);
        QVERIFY2(s, qPrintable(error));
        QCOMPARE(s->string(QStringLiteral("jwt_secret")), QStringLiteral("s3cr3t-value")); // the plugin reads it
        QVERIFY(s->isSecret(QStringLiteral("jwt_secret")));
        QString printed;
        QDebug(&printed) << *s;
        QVERIFY2(!printed.contains(QLatin1String("s3cr3t")) && printed.contains(QLatin1String("\"jwt_secret\":\"(secret)\"")), qPrintable(printed));
    }

    void aRequiredSettingThatIsMissingIsNamed()
    {
        const QJsonObject meta = QJsonDocument::fromJson(R"({"settings": {"api_key": {"type": "string", "required": true, "secret": true}}})").object();
        QString error;
        QVERIFY(!resolve({}, &error, {}, meta));
        QVERIFY2(error.startsWith(QLatin1String("YIELDHOST_USERS__API_KEY: the users plugin needs this setting")), qPrintable(error));
    }

    void aWrongDeclarationIsThePluginsFault()
    {
        const auto refused = [](const char *json) {
            QString error;
            const auto d = PluginSettings::declared(QJsonDocument::fromJson(json).object(), &error);
            return d ? QString() : error;
        };
        QVERIFY(refused(R"({"settings": {"a": {"type": "number"}}})").contains(QLatin1String("has type \"number\"")));
        QVERIFY(refused(R"({"settings": {"a": {"type": "integer", "default": "x"}}})").contains(QLatin1String("its default must be an integer")));
        QVERIFY(refused(R"({"settings": {"a": {"type": "integer", "default": 5, "min": 10}}})").contains(QLatin1String("its default must be an integer of at least 10")));
        QVERIFY(refused(R"({"settings": {"a": {"type": "string", "min": 1}}})").contains(QLatin1String("\"min\" is for integer settings")));
        QVERIFY(refused(R"({"settings": {"Bad-Name": {"type": "string"}}})").contains(QLatin1String("a setting's name")));
        QVERIFY(refused(R"({"settings": []})").contains(QLatin1String("must be an object")));
        QVERIFY(refused(R"({"settings": {"a": {"type": "integer", "min": 10, "max": 1}}})").contains(QLatin1String("\"min\" is greater")));
    }

    void aPluginThatDeclaresNothingKeepsItsSectionAsGiven()
    {
        QString error;
        const auto s = resolve(env(QStringLiteral("YIELDHOST_USERS__ANYTHING"), QStringLiteral("42")), &error, {}, QJsonObject{});
        QVERIFY2(s, qPrintable(error));
        QCOMPARE(s->value(QStringLiteral("anything")), QJsonValue(QStringLiteral("42"))); // text, as in SDK 1.0
    }

    void environmentTextInAPluginSectionIsNotTypedByTheFile()
    {
        // The file's number does not make the variable a number in Config: the declaration
        // types it, so its error names the variable in the declaration's words.
        QString error;
        QVERIFY(!resolve(env(QStringLiteral("YIELDHOST_USERS__ACCESS_TTL_SECONDS"), QStringLiteral("15m")), &error,
                         R"({"users": {"access_ttl_seconds": 300}})"));
        QCOMPARE(error, QStringLiteral("YIELDHOST_USERS__ACCESS_TTL_SECONDS: must be an integer from 60 to 86400, not \"15m\""));
    }
};

QTEST_GUILESS_MAIN(TestPluginSettings)
#include "tst_pluginsettings.moc"
