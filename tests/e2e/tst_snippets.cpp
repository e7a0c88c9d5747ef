// The code examples of the SDK headers and docs run: sdk/examples/snippets (each example's text
// is checked against its snippet by sdk_snippets_match) loaded by the real host, each example
// reached through a route, a command or the log.
#include "HostProcess.h"
#include "HttpClient.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtTest/QtTest>

using namespace yieldhost::test;

class TestSnippets : public QObject
{
    Q_OBJECT

    QTemporaryDir m_data{QStringLiteral("/tmp/yh-snippets-XXXXXX")};
    std::unique_ptr<HostProcess> m_host;

    QProcessEnvironment env() const
    {
        QProcessEnvironment e;
        e.insert(QStringLiteral("YIELDHOST_PLUGIN_PATH"), QStringLiteral(YIELDHOST_SNIPPETS_PLUGIN_DIR));
        e.insert(QStringLiteral("YIELDHOST_DATA_DIR"), m_data.path());
        return e;
    }
    std::optional<HttpReply> call(const QByteArray &method, const QByteArray &path, const QByteArray &body = {})
    {
        return HttpClient::request(m_host->host(), m_host->port(), method, path, body);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_data.isValid());
        QFile::setPermissions(m_data.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner
                                                 | QFileDevice::ReadOther | QFileDevice::ExeOther); // the cluster may run as postgres
        m_host = std::make_unique<HostProcess>(env(), QStringList{QStringLiteral("serve")});
        QString error;
        QVERIFY2(m_host->start(&error, 60000), qPrintable(error));
        QVERIFY2(m_host->waitReady(60000), qPrintable(m_host->output().right(3000)));
    }
    void cleanupTestCase()
    {
        if (m_host)
            QCOMPARE(m_host->terminate(), 0);
    }

    void thePluginRuns()
    {
        const auto r = call("GET", "/api/v1/plugins");
        QVERIFY(r && r->status == 200);
        QVERIFY2(r->body.contains(R"("id":"snippets")"), r->body.constData());
        QVERIFY2(!m_host->output().contains(QLatin1String("plugin snippets refused")), qPrintable(m_host->output()));
    }

    void httpRoute()
    {
        const auto r = call("GET", "/api/v1/snippets/hello/world");
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        QCOMPARE(r->json().value(QLatin1String("hello")).toString(), QStringLiteral("world"));
    }

    void idempotentRouteIsDeclared()
    {
        // Keys are per user: without one the route is 401 (tst_idempotency runs the same code with users).
        const auto r = call("POST", "/api/v1/snippets/wallets/w1/deposit", R"({})");
        QVERIFY(r);
        QCOMPARE(r->status, 401);
        const auto doc = call("GET", "/api/openapi.json");
        QVERIFY(doc && doc->body.contains("Idempotency-Key"));
    }

    void pagingListsWithASignedCursor()
    {
        const auto all = call("GET", "/api/v1/snippets/wallets");
        QVERIFY(all && all->status == 200);
        QCOMPARE(all->json().value(QLatin1String("results")).toArray().size(), 1);
        QVERIFY(all->json().value(QLatin1String("next")).isNull());
        const auto bad = call("GET", "/api/v1/snippets/wallets?limit=0");
        QVERIFY(bad);
        QCOMPARE(bad->status, 422);
        const auto forged = call("GET", "/api/v1/snippets/wallets?cursor=eyJpZCI6IncwIn0.AAAA");
        QVERIFY(forged);
        QCOMPARE(forged->status, 422);
    }

    void outboxEventIsWrittenWithTheChange()
    {
        const auto r = call("POST", "/api/v1/snippets/wallets/w1/touch");
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        const auto missing = call("POST", "/api/v1/snippets/wallets/nope/touch");
        QVERIFY(missing);
        QCOMPARE(missing->status, 404);
    }

    void contextTourRegisteredItsUserRoute()
    {
        const auto r = call("GET", "/api/v1/things/1");
        QVERIFY(r);
        QCOMPARE(r->status, 401); // AuthLevel::User, no credentials
    }

    void databaseQueryAndTransaction()
    {
        auto balance = [&] {
            const auto r = call("GET", "/api/v1/snippets/wallets/w1/balance");
            return r && r->status == 200 ? r->json().value(QLatin1String("balance")).toString() : QString();
        };
        QCOMPARE(balance(), QStringLiteral("100.00"));
        const auto debited = call("POST", "/api/v1/snippets/wallets/w1/debit", R"({"amount":"30.00"})");
        QVERIFY(debited);
        QVERIFY2(debited->status == 200, debited->body.constData());
        QCOMPARE(balance(), QStringLiteral("70.00"));
        const auto refused = call("POST", "/api/v1/snippets/wallets/w1/debit", R"({"amount":"500"})");
        QVERIFY(refused);
        QCOMPARE(refused->status, 409);
        QVERIFY2(refused->body.contains("insufficient funds"), refused->body.constData());
        QCOMPARE(balance(), QStringLiteral("70.00"));
    }

    void jobEnqueuedInATransaction()
    {
        const auto r = call("POST", "/api/v1/snippets/statements");
        QVERIFY(r);
        QCOMPARE(r->status, 202);
        QCOMPARE(r->json().value(QLatin1String("committed")).toBool(), true);
    }

    void runOn()
    {
        const auto r = call("POST", "/api/v1/snippets/hash", R"({"password":"secret"})");
        QVERIFY(r && r->status == 200);
        QCOMPARE(r->json().value(QLatin1String("hash")).toString().toLatin1(),
                 QCryptographicHash::hash("secret", QCryptographicHash::Sha256).toHex());
    }

    void clockAndDecimal()
    {
        const auto clock = call("GET", "/api/v1/snippets/clock");
        QVERIFY(clock && clock->status == 200);
        QVERIFY(QDateTime::fromString(clock->json().value(QLatin1String("now")).toString(), Qt::ISODateWithMs).isValid());
        const auto decimal = call("GET", "/api/v1/snippets/decimal");
        QVERIFY(decimal && decimal->status == 200);
        QCOMPARE(decimal->json().value(QLatin1String("total")).toString(), QStringLiteral("59.97"));
        QCOMPARE(decimal->json().value(QLatin1String("each")).toString(), QStringLiteral("8.57"));
        QCOMPARE(decimal->json().value(QLatin1String("fee")).toString(), QStringLiteral("0.00000030"));
        QCOMPARE(decimal->json().value(QLatin1String("yield")).toString(), QStringLiteral("4.11"));
    }

    void problemBuilder()
    {
        const auto r = call("POST", "/api/v1/snippets/withdrawals", "{}");
        QVERIFY(r);
        QCOMPARE(r->status, 409);
        QCOMPARE(r->header("content-type"), QByteArray("application/problem+json"));
        QCOMPARE(r->json().value(QLatin1String("type")).toString(), QStringLiteral("https://yieldhost.dev/problems/insufficient-funds"));
        const auto values = call("GET", "/api/v1/snippets/problems");
        QVERIFY(values && values->status == 200);
        const QJsonObject invalid = QJsonDocument::fromJson(values->json().value(QLatin1String("invalid")).toString().toUtf8()).object();
        QCOMPARE(invalid.value(QLatin1String("status")).toInt(), 422);
        QVERIFY(invalid.value(QLatin1String("errors")).toObject().contains(QLatin1String("amount")));
        QCOMPARE(values->json().value(QLatin1String("slow_down_retry_after")).toInt(), 30);
    }

    void statusNamesTheMissingKey()
    {
        const auto r = call("GET", "/api/v1/snippets/status");
        QVERIFY(r && r->status == 200);
        QCOMPARE(r->json().value(QLatin1String("ok")).toBool(), false);
        QCOMPARE(r->json().value(QLatin1String("error")).toString(), QStringLiteral("config key \"rate\" is missing"));
    }

    void eventsAndServicesReachTheLog()
    {
        QTRY_VERIFY_WITH_TIMEOUT(m_host->output().contains(QLatin1String("wallet \"w1\" updated")), 10000);
        QVERIFY2(m_host->output().contains(QLatin1String("service says: hello, snippets")), qPrintable(m_host->output().right(3000)));
    }

    void taskRunsWithRunTask()
    {
        QString out;
        const int code = HostProcess::runCommand(env(), {QStringLiteral("run-task"), QStringLiteral("snippets.process_yield_payments"),
                                                         QStringLiteral("--arg"), QStringLiteral("positions=3")}, &out);
        QVERIFY2(code == 0, qPrintable(out.right(3000)));
        QVERIFY2(out.contains(QLatin1String("paying 3 positions")), qPrintable(out.right(3000)));
    }
};

QTEST_GUILESS_MAIN(TestSnippets)
#include "tst_snippets.moc"
