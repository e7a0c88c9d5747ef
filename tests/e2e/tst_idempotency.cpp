// Idempotency keys of money POSTs, end to end against the real host and PostgreSQL, through
// testkit's POST /test/money/move (a route declared .idempotent() that runs its work through
// idempotentTransaction): a repeat replays the first reply and moves nothing, another body with
// the same key is 422, a missing, empty, oversized or non-ASCII key is 400 before any work, keys
// are per user, a refusal (409) is replayed too while a server error stores nothing, 50
// concurrent requests with one key make one movement and 50 identical replies, and host.cleanup
// forgets keys older than the retention (24 h) but keeps younger ones.
#include "HostCluster.h"
#include "HostProcess.h"
#include "HttpClient.h"
#include "ProblemCheck.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QUrl>
#include <QtTest/QtTest>

using namespace yieldhost::test;

namespace {

using Headers = QList<QPair<QByteArray, QByteArray>>;

QByteArray compact(const QJsonObject &o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); }

} // namespace

class TestIdempotency : public QObject
{
    Q_OBJECT

    HostCluster m_cluster;
    std::unique_ptr<HostProcess> m_host;
    QByteArray m_alice;
    QByteArray m_bob;
    QString m_aliceId;

    std::optional<HttpReply> post(const QByteArray &path, const QByteArray &body, const QByteArray &token, const QByteArray &key,
                                  bool withKey = true)
    {
        Headers headers{{QByteArrayLiteral("Authorization"), QByteArray("Bearer " + token)}};
        if (withKey)
            headers.append({QByteArrayLiteral("Idempotency-Key"), key});
        return HttpClient::request(m_host->host(), m_host->port(), "POST", path, body, "application/json", headers);
    }
    std::optional<HttpReply> move(const QJsonObject &body, const QByteArray &key, const QByteArray &token = {})
    {
        return post("/test/money/move", compact(body), token.isEmpty() ? m_alice : token, key);
    }
    qint64 movements(const QString &userId = {})
    {
        return m_cluster.sql(QStringLiteral("SELECT count(*) FROM testkit_movement WHERE user_id = '%1'").arg(userId.isEmpty() ? m_aliceId : userId)).toLongLong();
    }
    QByteArray account(const QString &email, QString *id = nullptr)
    {
        const QString password = QStringLiteral("correct horse battery");
        const QByteArray credentials = compact({{QStringLiteral("email"), email}, {QStringLiteral("password"), password}});
        const auto reg = HttpClient::request(m_host->host(), m_host->port(), "POST", "/api/v1/auth/register", credentials);
        if (!reg || reg->status != 201)
            return {};
        if (id)
            *id = reg->json().value(QLatin1String("id")).toString();
        const auto r = HttpClient::request(m_host->host(), m_host->port(), "POST", "/api/v1/auth/token", credentials);
        return r && r->status == 200 ? r->json().value(QLatin1String("access")).toString().toLatin1() : QByteArray();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_cluster.open(&error), qPrintable(error));
        m_host = m_cluster.start({QStringLiteral("serve")});
        QVERIFY(m_host);
        QVERIFY2(m_host->waitReady(60000), qPrintable(m_host->output().right(2000)));
        m_alice = account(QStringLiteral("alice@example.com"), &m_aliceId);
        m_bob = account(QStringLiteral("bob@example.com"));
        QVERIFY(!m_alice.isEmpty() && !m_bob.isEmpty());
    }

    void cleanupTestCase()
    {
        if (m_host)
            QVERIFY2(m_host->terminate() == 0, qPrintable(m_host->output().right(3000)));
    }

    void aRepeatReplaysTheFirstReplyAndMovesNothing()
    {
        const qint64 before = movements();
        const auto first = move({{QStringLiteral("amount"), QStringLiteral("10.00")}}, "replay-1");
        QVERIFY2(first && first->status == 201, qPrintable(describe(first)));
        // The same body written differently (spacing, key order) is the same request.
        const auto again = post("/test/money/move", R"({ "amount" :  "10.00" })", m_alice, "replay-1");
        QVERIFY2(again && again->status == 201, qPrintable(describe(again)));
        QCOMPARE(again->body, first->body);
        QCOMPARE(again->header("content-type"), first->header("content-type"));
        QCOMPARE(again->header("idempotent-replayed"), QByteArray("true"));
        QVERIFY(first->header("idempotent-replayed").isEmpty());
        QCOMPARE(movements(), before + 1);
    }

    void theSameKeyWithAnotherBodyIs422()
    {
        const auto first = move({{QStringLiteral("amount"), QStringLiteral("1.00")}}, "mismatch-1");
        QVERIFY2(first && first->status == 201, qPrintable(describe(first)));
        const qint64 before = movements();
        const auto other = move({{QStringLiteral("amount"), QStringLiteral("2.00")}}, "mismatch-1");
        verifyProblem(other, 422);
        QVERIFY(other->json().value(QLatin1String("type")).toString().endsWith(QLatin1String("idempotency-key-reused")));
        QCOMPARE(movements(), before);
    }

    void aMissingOrMalformedKeyIs400BeforeAnyWork_data()
    {
        QTest::addColumn<QByteArray>("key");
        QTest::addColumn<bool>("sent");
        QTest::addColumn<bool>("named"); // a control character is refused by the HTTP layer already
        QTest::newRow("missing") << QByteArray() << false << true;
        QTest::newRow("empty") << QByteArray() << true << true;
        QTest::newRow("256 characters") << QByteArray(256, 'k') << true << true;
        QTest::newRow("non-ASCII") << QByteArray("cl\xc3\xa9") << true << true;
        QTest::newRow("control character") << QByteArray("a\x01b") << true << false;
    }
    void aMissingOrMalformedKeyIs400BeforeAnyWork()
    {
        QFETCH(QByteArray, key);
        QFETCH(bool, sent);
        QFETCH(bool, named);
        const qint64 before = movements();
        const auto r = post("/test/money/move", compact({{QStringLiteral("amount"), QStringLiteral("1.00")}}), m_alice, key, sent);
        verifyProblem(r, 400);
        if (named)
            QVERIFY(r->json().value(QLatin1String("detail")).toString().contains(QLatin1String("Idempotency-Key")));
        QCOMPARE(movements(), before);
    }

    void aKeyOf255PrintableCharactersIsAccepted()
    {
        QByteArray key;
        for (int i = 0; i < 255; ++i)
            key.append(char(0x20 + i % 95));
        const auto r = move({{QStringLiteral("amount"), QStringLiteral("1.00")}}, key);
        QVERIFY2(r && r->status == 201, qPrintable(describe(r)));
    }

    void keysArePerUser()
    {
        QString bobId = m_cluster.sql(QStringLiteral("SELECT id FROM users_user WHERE email = 'bob@example.com'"));
        const auto alice = move({{QStringLiteral("amount"), QStringLiteral("5.00")}}, "shared-key");
        const auto bob = move({{QStringLiteral("amount"), QStringLiteral("5.00")}}, "shared-key", m_bob);
        QVERIFY2(alice && alice->status == 201, qPrintable(describe(alice)));
        QVERIFY2(bob && bob->status == 201, qPrintable(describe(bob)));
        QVERIFY(bob->header("idempotent-replayed").isEmpty());
        QVERIFY(alice->body != bob->body);
        QCOMPARE(movements(bobId), 1);
    }

    void aRefusalIsReplayedWithoutMovingMoney()
    {
        const qint64 before = movements();
        const QString balance = m_cluster.sql(QStringLiteral("SELECT balance FROM testkit_account WHERE user_id = '%1'").arg(m_aliceId));
        const auto refused = move({{QStringLiteral("amount"), QStringLiteral("-1000000.00")}}, "refused-1");
        verifyProblem(refused, 409);
        // Money arriving later does not turn the stored refusal into a success.
        QVERIFY(move({{QStringLiteral("amount"), QStringLiteral("2000000.00")}}, "top-up-1")->status == 201);
        const auto again = move({{QStringLiteral("amount"), QStringLiteral("-1000000.00")}}, "refused-1");
        verifyProblem(again, 409);
        QCOMPARE(again->body, refused->body);
        QCOMPARE(movements(), before + 1); // only the top-up
        QVERIFY(balance != m_cluster.sql(QStringLiteral("SELECT balance FROM testkit_account WHERE user_id = '%1'").arg(m_aliceId)));
    }

    void invalidInputConsumesNoKey()
    {
        const auto invalid = move({{QStringLiteral("amount"), 12.5}}, "invalid-then-valid");
        verifyProblem(invalid, 422);
        const auto valid = move({{QStringLiteral("amount"), QStringLiteral("12.50")}}, "invalid-then-valid");
        QVERIFY2(valid && valid->status == 201, qPrintable(describe(valid)));
    }

    void fiftyConcurrentRequestsWithOneKeyMoveMoneyOnce()
    {
        const qint64 before = movements();
        const QByteArray body = compact({{QStringLiteral("amount"), QStringLiteral("3.00")}, {QStringLiteral("slow"), true}});
        std::vector<std::unique_ptr<HttpClient>> clients;
        for (int i = 0; i < 50; ++i) {
            clients.push_back(std::make_unique<HttpClient>(m_host->host(), m_host->port()));
            QVERIFY(clients.back()->open());
        }
        const Headers headers{{QByteArrayLiteral("Authorization"), QByteArray("Bearer " + m_alice)},
                              {QByteArrayLiteral("Idempotency-Key"), QByteArrayLiteral("concurrent-1")}};
        for (auto &c : clients)
            c->send(HttpClient::format(m_host->host(), "POST", "/test/money/move", body, "application/json", headers));
        QList<HttpReply> replies;
        for (auto &c : clients) {
            const auto r = c->read(60000);
            QVERIFY2(r, "no reply");
            replies.append(*r);
        }
        for (const HttpReply &r : std::as_const(replies)) {
            QCOMPARE(r.status, 201);
            QCOMPARE(r.body, replies.first().body);
        }
        QCOMPARE(movements(), before + 1);
    }

    void cleanupForgetsKeysPastTheRetentionOnly()
    {
        QVERIFY(move({{QStringLiteral("amount"), QStringLiteral("1.00")}}, "old-key")->status == 201);
        QVERIFY(move({{QStringLiteral("amount"), QStringLiteral("1.00")}}, "young-key")->status == 201);
        m_cluster.sql(QStringLiteral("UPDATE host_idempotency_key SET created_at = now() - interval '25 hours' WHERE key = 'old-key'"));
        m_cluster.sql(QStringLiteral("UPDATE host_idempotency_key SET created_at = now() - interval '23 hours' WHERE key = 'young-key'"));
        QString out;
        const int code = HostProcess::runCommand(m_cluster.environment(), {QStringLiteral("run-task"), QStringLiteral("host.cleanup")}, &out);
        QVERIFY2(code == 0, qPrintable(out.right(2000)));
        QVERIFY2(out.contains(QLatin1String("idempotency keys")), qPrintable(out.right(2000)));
        const qint64 before = movements();
        const auto young = move({{QStringLiteral("amount"), QStringLiteral("1.00")}}, "young-key");
        QCOMPARE(young->header("idempotent-replayed"), QByteArray("true"));
        QCOMPARE(movements(), before);
        // A forgotten key is a new request.
        const auto old = move({{QStringLiteral("amount"), QStringLiteral("1.00")}}, "old-key");
        QVERIFY(old->header("idempotent-replayed").isEmpty());
        QCOMPARE(movements(), before + 1);
    }

    void theOpenApiDocumentNamesTheHeader()
    {
        const auto r = HttpClient::request(m_host->host(), m_host->port(), "GET", "/api/openapi.json");
        QVERIFY(r && r->status == 200);
        const QJsonObject op = r->json().value(QLatin1String("paths")).toObject().value(QLatin1String("/test/money/move")).toObject().value(QLatin1String("post")).toObject();
        bool found = false;
        for (const QJsonValue &p : op.value(QLatin1String("parameters")).toArray())
            found = found || (p[QLatin1String("name")].toString() == QLatin1String("Idempotency-Key") && p[QLatin1String("in")].toString() == QLatin1String("header")
                              && p[QLatin1String("required")].toBool());
        QVERIFY2(found, QJsonDocument(op).toJson().constData());
    }
};

QTEST_GUILESS_MAIN(TestIdempotency)
#include "tst_idempotency.moc"
