// SDK compatibility within major 1: a plugin compiled against the frozen SDK 1.0 headers
// (tests/fixtures/sdk-1.0, "sdk": "1.0" in its plugin.json) and linked to the current
// libyieldhost-sdk runs in the current host — listed as running with sdk "1.0", its migration
// applied, its routes answering, a transaction that enqueues its task, the task run by the worker,
// and an event delivered to its subscriber.
#include "HostProcess.h"
#include "HttpClient.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtTest/QtTest>

using namespace yieldhost::test;

class TestSdk10Compat : public QObject
{
    Q_OBJECT

    std::unique_ptr<HostProcess> m_host;

    std::optional<HttpReply> call(const QByteArray &method, const QByteArray &path, const QByteArray &body = {})
    {
        return HttpClient::request(m_host->host(), m_host->port(), method, path, body);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("YIELDHOST_PLUGIN_PATH"), QStringLiteral(YIELDHOST_SDK10_PLUGIN_DIR));
        m_host = std::make_unique<HostProcess>(env, QStringList{QStringLiteral("all")});
        QString error;
        QVERIFY2(m_host->start(&error, 60000), qPrintable(error));
        QVERIFY2(m_host->waitReady(60000), qPrintable(m_host->output().right(3000)));
    }
    void cleanupTestCase()
    {
        if (m_host)
            QCOMPARE(m_host->terminate(), 0);
    }

    void theOnePointZeroPluginIsRunningWithItsSdkVersion()
    {
        const auto r = call("GET", "/api/v1/plugins");
        QVERIFY(r && r->status == 200);
        QJsonObject sdk10;
        for (const QJsonValue &p : r->json().value(QLatin1String("results")).toArray()) {
            if (p.toObject().value(QLatin1String("id")).toString() == QLatin1String("sdk10"))
                sdk10 = p.toObject();
        }
        QVERIFY2(!sdk10.isEmpty(), r->body.constData());
        QCOMPARE(sdk10.value(QLatin1String("state")).toString(), QStringLiteral("running"));
        QCOMPARE(sdk10.value(QLatin1String("sdk")).toString(), QStringLiteral("1.0"));
        QVERIFY2(!m_host->output().contains(QLatin1String("plugin sdk10 refused")), qPrintable(m_host->output()));
    }

    void itsRouteAnswersWithTheVersionItWasCompiledFor()
    {
        const auto r = call("GET", "/api/v1/sdk10/version");
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        QCOMPARE(r->json().value(QLatin1String("sdk")).toString(), QStringLiteral("1.0"));
        QVERIFY(QDateTime::fromString(r->json().value(QLatin1String("now")).toString(), Qt::ISODate).isValid());
    }

    void itsTransactionTaskAndEventRun()
    {
        const auto created = call("POST", "/api/v1/sdk10/notes", R"({"body":"written by a 1.0 plugin"})");
        QVERIFY(created);
        QVERIFY2(created->status == 201, created->body.constData());
        const QByteArray id = created->json().value(QLatin1String("id")).toString().toLatin1();
        QVERIFY(!id.isEmpty());

        QJsonObject note;
        QTRY_VERIFY_WITH_TIMEOUT(([&] {
                                     const auto r = call("GET", "/api/v1/sdk10/notes/" + id);
                                     note = r && r->status == 200 ? r->json() : QJsonObject();
                                     return note.value(QLatin1String("stamped")).toBool()
                                            && note.value(QLatin1String("events_seen")).toInt() >= 1;
                                 }()),
                                 30000);
        QCOMPARE(note.value(QLatin1String("body")).toString(), QStringLiteral("written by a 1.0 plugin"));

        const auto invalid = call("POST", "/api/v1/sdk10/notes", "{}");
        QVERIFY(invalid);
        QCOMPARE(invalid->status, 422);
    }
};

QTEST_GUILESS_MAIN(TestSdk10Compat)
#include "tst_sdk10compat.moc"
