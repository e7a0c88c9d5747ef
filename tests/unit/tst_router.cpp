// Routing: static and parameterised paths, 405 with Allow, refusal of bad registrations, OpenAPI.
#include "Router.h"

#include <QtCore/QJsonArray>
#include <QtTest/QtTest>

using namespace yieldhost;

namespace {
HttpHandler ok()
{
    return [](HttpRequest) -> QCoro::Task<HttpResponse> { co_return HttpResponse(200); };
}
} // namespace

class TestRouter : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void staticPathMatchesExactly()
    {
        Router r;
        QString e;
        QVERIFY(r.add(QStringLiteral("p"), HttpMethod::Get, QStringLiteral("/healthz"), ok(), &e));
        QVERIFY(r.match(HttpMethod::Get, QStringLiteral("/healthz")).route);
        QVERIFY(!r.match(HttpMethod::Get, QStringLiteral("/healthz/x")).route);
        QVERIFY(!r.match(HttpMethod::Get, QStringLiteral("/health")).route);
    }

    void parametersAreCaptured()
    {
        Router r;
        QString e;
        QVERIFY(r.add(QStringLiteral("p"), HttpMethod::Get, QStringLiteral("/api/v1/wallets/{id}/transactions"), ok(), &e));
        const auto m = r.match(HttpMethod::Get, QStringLiteral("/api/v1/wallets/w-42/transactions"));
        QVERIFY(m.route);
        QCOMPARE(m.params.value(QStringLiteral("id")), QStringLiteral("w-42"));
        QVERIFY(!r.match(HttpMethod::Get, QStringLiteral("/api/v1/wallets/w-42")).route);
    }

    void staticRouteWinsOverParameter()
    {
        Router r;
        QString e;
        QVERIFY(r.add(QStringLiteral("p"), HttpMethod::Get, QStringLiteral("/api/v1/things/{id}"), ok(), &e));
        Route *mine = r.add(QStringLiteral("p"), HttpMethod::Get, QStringLiteral("/api/v1/things/mine"), ok(), &e);
        QCOMPARE(r.match(HttpMethod::Get, QStringLiteral("/api/v1/things/mine")).route, mine);
    }

    void wrongMethodListsAllowedMethods()
    {
        Router r;
        QString e;
        QVERIFY(r.add(QStringLiteral("p"), HttpMethod::Get, QStringLiteral("/a/{id}"), ok(), &e));
        QVERIFY(r.add(QStringLiteral("p"), HttpMethod::Post, QStringLiteral("/a/{id}"), ok(), &e));
        const auto m = r.match(HttpMethod::Delete, QStringLiteral("/a/1"));
        QVERIFY(!m.route);
        QVERIFY(m.allowedMethods.contains("GET"));
        QVERIFY(m.allowedMethods.contains("POST"));
        QVERIFY(m.allowedMethods.contains("HEAD"));
    }

    void headIsServedByGet()
    {
        Router r;
        QString e;
        QVERIFY(r.add(QStringLiteral("p"), HttpMethod::Get, QStringLiteral("/a"), ok(), &e));
        QVERIFY(r.match(HttpMethod::Head, QStringLiteral("/a")).route);
    }

    void duplicateRouteIsRefusedNamingTheOwner()
    {
        Router r;
        QString e;
        QVERIFY(r.add(QStringLiteral("first"), HttpMethod::Get, QStringLiteral("/a"), ok(), &e));
        QVERIFY(!r.add(QStringLiteral("second"), HttpMethod::Get, QStringLiteral("/a"), ok(), &e));
        QVERIFY2(e.contains(QLatin1String("first")), qPrintable(e));
    }

    void malformedPatternIsRefused_data()
    {
        QTest::addColumn<QString>("pattern");
        QTest::newRow("no slash") << QStringLiteral("api/v1");
        QTest::newRow("empty param") << QStringLiteral("/a/{}");
        QTest::newRow("space") << QStringLiteral("/a b");
        QTest::newRow("double slash") << QStringLiteral("/a//b");
        QTest::newRow("open brace") << QStringLiteral("/a/{id");
    }
    void malformedPatternIsRefused()
    {
        QFETCH(QString, pattern);
        Router r;
        QString e;
        QVERIFY(!r.add(QStringLiteral("p"), HttpMethod::Get, pattern, ok(), &e));
        QVERIFY(e.contains(pattern));
    }

    void openApiDescribesEveryRouteWithPathParameters()
    {
        Router r;
        QString e;
        r.add(QStringLiteral("wallets"), HttpMethod::Get, QStringLiteral("/api/v1/wallets/{id}"), ok(), &e)->summary(QStringLiteral("One wallet"));
        r.add(QStringLiteral("host"), HttpMethod::Get, QStringLiteral("/healthz"), ok(), &e)->auth(AuthLevel::Public);
        const QJsonObject doc = r.openApi(QStringLiteral("t"), QStringLiteral("1"));
        QCOMPARE(doc.value(QLatin1String("openapi")).toString(), QStringLiteral("3.1.0"));
        const QJsonObject op = doc[QLatin1String("paths")][QLatin1String("/api/v1/wallets/{id}")][QLatin1String("get")].toObject();
        QCOMPARE(op.value(QLatin1String("summary")).toString(), QStringLiteral("One wallet"));
        QCOMPARE(op[QLatin1String("parameters")][0][QLatin1String("name")].toString(), QStringLiteral("id"));
        QVERIFY(op.contains(QLatin1String("security")));
        const QJsonObject health = doc[QLatin1String("paths")][QLatin1String("/healthz")][QLatin1String("get")].toObject();
        QVERIFY(!health.contains(QLatin1String("security")));
    }

    void webSocketPathsAreUnique()
    {
        Router r;
        QString e;
        QVERIFY(r.addWebSocket(QStringLiteral("p"), QStringLiteral("/ws/x"), [](WebSocketSession *) {}, &e));
        QVERIFY(!r.addWebSocket(QStringLiteral("p"), QStringLiteral("/ws/x"), [](WebSocketSession *) {}, &e));
        QVERIFY(r.webSocket(QStringLiteral("/ws/x")));
        QVERIFY(!r.webSocket(QStringLiteral("/ws/y")));
    }
};

QTEST_GUILESS_MAIN(TestRouter)
#include "tst_router.moc"
