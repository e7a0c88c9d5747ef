// Routing: static and parameterised paths, 405 with Allow, refusal of bad registrations, OpenAPI.
#include "http/Router.h"
#include "http/RouteTable.h"

#include <QtCore/QJsonArray>
#include <QtTest/QtTest>

using namespace yieldhost;

namespace {
// A host-style route owner: one member function per endpoint.
struct Table
{
    QCoro::Task<HttpResponse> one(HttpRequest) { co_return HttpResponse::json(200, QJsonObject{}); }
};

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
        QCOMPARE(op[QLatin1String("security")][0].toObject().keys(), QStringList{QStringLiteral("bearer")});
        QCOMPARE(op.value(QLatin1String("operationId")).toString(), QStringLiteral("getApiV1WalletsId"));
        QVERIFY(op[QLatin1String("responses")].toObject().contains(QLatin1String("401")));
        QCOMPARE(op[QLatin1String("responses")][QLatin1String("401")][QLatin1String("content")][QLatin1String("application/problem+json")]
                     [QLatin1String("schema")][QLatin1String("$ref")].toString(),
                 QStringLiteral("#/components/schemas/Problem"));
        const QJsonObject health = doc[QLatin1String("paths")][QLatin1String("/healthz")][QLatin1String("get")].toObject();
        // Public: an explicit empty requirement, so no global requirement can apply to it.
        QVERIFY(health.value(QLatin1String("security")).isArray());
        QVERIFY(health.value(QLatin1String("security")).toArray().isEmpty());
        QVERIFY(!health[QLatin1String("responses")].toObject().contains(QLatin1String("401")));
        QVERIFY(!doc[QLatin1String("servers")].toArray().isEmpty());
        QVERIFY(!doc[QLatin1String("info")][QLatin1String("license")][QLatin1String("name")].toString().isEmpty());
    }

    void openApiKeepsAnOperationIdItsOwnerGave()
    {
        Router r;
        QString e;
        r.add(QStringLiteral("p"), HttpMethod::Post, QStringLiteral("/api/v1/things"), ok(), &e)->openapi(QJsonObject{{QStringLiteral("operationId"), QStringLiteral("createThing")}});
        const QJsonObject op = r.openApi(QStringLiteral("t"), QStringLiteral("1"))[QLatin1String("paths")][QLatin1String("/api/v1/things")][QLatin1String("post")].toObject();
        QCOMPARE(op.value(QLatin1String("operationId")).toString(), QStringLiteral("createThing"));
        QVERIFY(op[QLatin1String("responses")].toObject().contains(QLatin1String("415"))); // bodies are checked by the host
    }

    void routeTableReportsEveryRefusedRowAndRegistersTheRest()
    {
        Router r;
        Table table;
        static constexpr RouteRow<Table> rows[] = {
            {HttpMethod::Get, "/a", AuthLevel::Public, 200, "getA", "A", &Table::one},
            {HttpMethod::Get, "/a", AuthLevel::Public, 200, "getAAgain", "A again", &Table::one},
            {HttpMethod::Get, "/b/{", AuthLevel::Public, 200, "getB", "B", &Table::one},
            {HttpMethod::Post, "/c", AuthLevel::Staff, 202, "createC", "C", &Table::one},
        };
        const Status s = addRouteTable<Table>(r, QStringLiteral("host"), table, rows);
        QVERIFY(!s);
        QVERIFY2(s.error().contains(QLatin1String("already registered")), qPrintable(s.error()));
        QVERIFY2(s.error().contains(QLatin1String("/b/{")), qPrintable(s.error()));
        QCOMPARE(r.routeCount(), 2);
        const Router::Match c = r.match(HttpMethod::Post, QStringLiteral("/c"));
        QVERIFY(c.route);
        QCOMPARE(c.route->authLevel(), AuthLevel::Staff);
        const QJsonObject op = r.openApi(QStringLiteral("t"), QStringLiteral("1"))[QLatin1String("paths")][QLatin1String("/c")][QLatin1String("post")].toObject();
        QCOMPARE(op.value(QLatin1String("operationId")).toString(), QStringLiteral("createC"));
        const QJsonObject responses = op.value(QLatin1String("responses")).toObject();
        QVERIFY(responses.contains(QLatin1String("202"))); // the row's success status, and no invented 2XX
        QVERIFY(!responses.contains(QLatin1String("2XX")));
        QVERIFY(responses.contains(QLatin1String("default")));
    }

    void operationIdsStayUniqueWhenDerivedIdsMeet()
    {
        Router r;
        QString e;
        r.add(QStringLiteral("p"), HttpMethod::Get, QStringLiteral("/a/{id}"), ok(), &e);
        r.add(QStringLiteral("p"), HttpMethod::Get, QStringLiteral("/a/id"), ok(), &e);
        const QJsonObject paths = r.openApi(QStringLiteral("t"), QStringLiteral("1"))[QLatin1String("paths")].toObject();
        const QString first = paths[QLatin1String("/a/{id}")][QLatin1String("get")][QLatin1String("operationId")].toString();
        const QString second = paths[QLatin1String("/a/id")][QLatin1String("get")][QLatin1String("operationId")].toString();
        QCOMPARE(first, QStringLiteral("getAId"));
        QCOMPARE(second, QStringLiteral("getAId2"));
    }

    void anUndescribedRouteSucceedsWithSome2xxAndFailsWithAProblem()
    {
        Router r;
        QString e;
        r.add(QStringLiteral("p"), HttpMethod::Post, QStringLiteral("/things"), ok(), &e);
        const QJsonObject responses = r.openApi(QStringLiteral("t"), QStringLiteral("1"))[QLatin1String("paths")][QLatin1String("/things")]
                                          [QLatin1String("post")][QLatin1String("responses")].toObject();
        QVERIFY(responses.contains(QLatin1String("2XX")));
        QCOMPARE(responses[QLatin1String("default")][QLatin1String("content")].toObject().keys(), QStringList{QStringLiteral("application/problem+json")});
    }

    void removingAnOwnerWithdrawsItsRoutesAndKeepsTheOthersMatching()
    {
        Router r;
        QString e;
        r.add(QStringLiteral("keep"), HttpMethod::Get, QStringLiteral("/k1"), ok(), &e);
        r.add(QStringLiteral("gone"), HttpMethod::Get, QStringLiteral("/g"), ok(), &e);
        r.add(QStringLiteral("gone"), HttpMethod::Get, QStringLiteral("/g/{id}"), ok(), &e);
        r.add(QStringLiteral("keep"), HttpMethod::Get, QStringLiteral("/k2"), ok(), &e);
        r.add(QStringLiteral("keep"), HttpMethod::Get, QStringLiteral("/k/{id}"), ok(), &e);
        QVERIFY(r.addWebSocket(QStringLiteral("gone"), QStringLiteral("/ws/g"), [](WebSocketSession *) {}, &e));
        r.removeOwner(QStringLiteral("gone"));
        QCOMPARE(r.routeCount(), 3);
        QVERIFY(!r.match(HttpMethod::Get, QStringLiteral("/g")).route);
        QVERIFY(!r.match(HttpMethod::Get, QStringLiteral("/g/1")).route);
        QVERIFY(!r.webSocket(QStringLiteral("/ws/g")));
        for (const char *path : {"/k1", "/k2", "/k/7"}) {
            const Router::Match m = r.match(HttpMethod::Get, QString::fromLatin1(path));
            QVERIFY2(m.route, path);
            QCOMPARE(m.route->owner(), QStringLiteral("keep"));
        }
        // Its paths can be registered again.
        QVERIFY(r.add(QStringLiteral("other"), HttpMethod::Get, QStringLiteral("/g"), ok(), &e));
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
