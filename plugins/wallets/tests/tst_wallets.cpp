// The wallets plugin end to end: one `serve` process of the real binary against one real
// PostgreSQL, used as a client would. Covered: creating, listing (by currency, paged) and getting
// wallets, with crypto addresses and the 409/422 refusals; deposits, withdrawals and transfers
// (the receiver's wallet opened on the way, both sides under one ledger transaction id), their
// replies and the history (newest first, signed amounts, balance_after chaining, cursor paging);
// the malformed-amount table for every money POST (422 with errors.amount, nothing moved, never
// 5xx); another user's wallet is 404 for every verb with the body of a wallet that does not
// exist; idempotency keys (replay, mismatch, 50 concurrent requests with one key = one ledger
// transaction and 50 identical replies); the database's own guarantees (an unbalanced
// transaction written by hand is refused at COMMIT, entries are append-only); wallet.updated for
// both sides of a transfer in the outbox; and deposits refused (403) by a host outside sandbox
// mode on the same database. Movements that arrive together (posted in one transaction by
// MovementBatcher): each with its own reply, ledger row, event and stored key, checked in turn
// against the balances the ones before leave, used keys among them replayed or refused.
#include "HostCluster.h"
#include "HostProcess.h"
#include "HttpClient.h"
#include "ProblemCheck.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QRegularExpression>
#include <QtCore/QSet>
#include <QtCore/QUrl>
#include <QtCore/QUuid>
#include <QtTest/QtTest>

using namespace yieldhost::test;

namespace {

using Headers = QList<QPair<QByteArray, QByteArray>>;

QByteArray compact(const QJsonObject &o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); }

bool isRfc3339(const QJsonValue &v)
{
    static const QRegularExpression rfc3339(QStringLiteral("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?(Z|[+-]\\d\\d:\\d\\d)$"));
    return v.isString() && rfc3339.match(v.toString()).hasMatch() && QDateTime::fromString(v.toString(), Qt::ISODateWithMs).isValid();
}

bool isUuid(const QJsonValue &v) { return v.isString() && !QUuid::fromString(v.toString()).isNull(); }

// The wallet fields of API.md, nothing missing and nothing more.
void verifyWallet(const QJsonObject &w, const QString &currency, const QString &balance)
{
    const QStringList keys = w.keys();
    QCOMPARE(keys, (QStringList{QStringLiteral("address"), QStringLiteral("balance"), QStringLiteral("created_at"), QStringLiteral("currency"), QStringLiteral("id")}));
    QVERIFY2(isUuid(w.value(QLatin1String("id"))), compact(w).constData());
    QCOMPARE(w.value(QLatin1String("currency")).toString(), currency);
    QVERIFY2(w.value(QLatin1String("balance")).isString(), compact(w).constData());
    QCOMPARE(w.value(QLatin1String("balance")).toString(), balance);
    QVERIFY2(isRfc3339(w.value(QLatin1String("created_at"))), compact(w).constData());
}

// A history entry / a movement's "transaction".
void verifyEntry(const QJsonObject &e, const QString &kind, const QString &amount, const QString &balanceAfter, const QString &reference = {})
{
    const QStringList keys = e.keys();
    QCOMPARE(keys, (QStringList{QStringLiteral("amount"), QStringLiteral("balance_after"), QStringLiteral("created_at"), QStringLiteral("id"),
                                QStringLiteral("kind"), QStringLiteral("reference"), QStringLiteral("status")}));
    QVERIFY2(isUuid(e.value(QLatin1String("id"))), compact(e).constData());
    QCOMPARE(e.value(QLatin1String("kind")).toString(), kind);
    QCOMPARE(e.value(QLatin1String("amount")).toString(), amount);
    QCOMPARE(e.value(QLatin1String("balance_after")).toString(), balanceAfter);
    QCOMPARE(e.value(QLatin1String("reference")).toString(), reference);
    QCOMPARE(e.value(QLatin1String("status")).toString(), QStringLiteral("completed"));
    QVERIFY2(isRfc3339(e.value(QLatin1String("created_at"))), compact(e).constData());
}

} // namespace

class TestWallets : public QObject
{
    Q_OBJECT

    struct User
    {
        QString email;
        QString id;
        QByteArray token;
    };

    HostCluster m_cluster;
    std::unique_ptr<HostProcess> m_host;
    User m_alice, m_bob, m_carol;
    QString m_aliceUsd, m_aliceBtc, m_aliceEth, m_bobEur;
    int m_keys = 0;

    // --- HTTP ---

    std::optional<HttpReply> call(const QByteArray &method, const QByteArray &path, const QByteArray &body, const QByteArray &token,
                                  const QByteArray &key = {})
    {
        Headers headers;
        if (!token.isEmpty())
            headers.append({QByteArrayLiteral("Authorization"), QByteArray("Bearer " + token)});
        if (!key.isEmpty())
            headers.append({QByteArrayLiteral("Idempotency-Key"), key});
        return HttpClient::request(m_host->host(), m_host->port(), method, path, body, "application/json", headers);
    }
    std::optional<HttpReply> get(const QString &path, const User &user) { return call("GET", path.toUtf8(), {}, user.token); }
    QByteArray freshKey() { return "k-" + QByteArray::number(++m_keys) + '-' + QUuid::createUuid().toByteArray(QUuid::WithoutBraces); }

    std::optional<HttpReply> deposit(const User &user, const QString &wallet, const QJsonObject &body, const QByteArray &key = {})
    {
        return call("POST", QStringLiteral("/api/v1/wallets/%1/deposit").arg(wallet).toUtf8(), compact(body), user.token, key.isEmpty() ? freshKey() : key);
    }
    std::optional<HttpReply> deposit(const User &user, const QString &wallet, const QString &amount, const QByteArray &key = {})
    {
        return deposit(user, wallet, QJsonObject{{QStringLiteral("amount"), amount}}, key);
    }
    std::optional<HttpReply> withdraw(const User &user, const QString &wallet, const QJsonObject &body, const QByteArray &key = {})
    {
        return call("POST", QStringLiteral("/api/v1/wallets/%1/withdraw").arg(wallet).toUtf8(), compact(body), user.token, key.isEmpty() ? freshKey() : key);
    }
    std::optional<HttpReply> transfer(const User &user, const QJsonObject &body, const QByteArray &key = {})
    {
        return call("POST", "/api/v1/transfers", compact(body), user.token, key.isEmpty() ? freshKey() : key);
    }
    std::optional<HttpReply> transfer(const User &from, const QString &wallet, const QString &toEmail, const QString &amount, const QByteArray &key = {})
    {
        return transfer(from, {{QStringLiteral("from_wallet"), wallet}, {QStringLiteral("to_email"), toEmail}, {QStringLiteral("amount"), amount}}, key);
    }

    User account(const QString &email)
    {
        User u;
        u.email = email;
        const QByteArray credentials = compact({{QStringLiteral("email"), email}, {QStringLiteral("password"), QStringLiteral("correct horse battery")}});
        const auto reg = call("POST", "/api/v1/auth/register", credentials, {});
        if (!reg || reg->status != 201) {
            qWarning("register %s: %s", qPrintable(email), qPrintable(describe(reg)));
            return u;
        }
        u.id = reg->json().value(QLatin1String("id")).toString();
        const auto r = call("POST", "/api/v1/auth/token", credentials, {});
        if (r && r->status == 200)
            u.token = r->json().value(QLatin1String("access")).toString().toLatin1();
        return u;
    }
    // A new wallet's id (empty, after a warning, if it could not be opened).
    QString openWallet(const User &user, const QString &currency)
    {
        const auto r = call("POST", "/api/v1/wallets", compact({{QStringLiteral("currency"), currency}}), user.token);
        if (!r || r->status != 201) {
            qWarning("open %s wallet: %s", qPrintable(currency), qPrintable(describe(r)));
            return {};
        }
        return r->json().value(QLatin1String("id")).toString();
    }
    QString balanceOf(const User &user, const QString &wallet)
    {
        const auto r = get(QStringLiteral("/api/v1/wallets/%1").arg(wallet), user);
        return r && r->status == 200 ? r->json().value(QLatin1String("balance")).toString() : QStringLiteral("<%1>").arg(describe(r));
    }
    // Every entry of a wallet's history, following the cursors (newest first).
    QJsonArray history(const User &user, const QString &wallet, int limit, int *pages = nullptr)
    {
        QJsonArray all;
        QString cursor;
        int n = 0;
        do {
            QString path = QStringLiteral("/api/v1/wallets/%1/transactions?limit=%2").arg(wallet).arg(limit);
            if (!cursor.isEmpty())
                path += QStringLiteral("&cursor=") + QString::fromLatin1(QUrl::toPercentEncoding(cursor));
            const auto r = get(path, user);
            if (!r || r->status != 200) {
                qWarning("history: %s", qPrintable(describe(r)));
                return {};
            }
            const QJsonObject page = r->json();
            const QJsonArray results = page.value(QLatin1String("results")).toArray();
            if (results.size() > limit || !page.contains(QLatin1String("next"))) {
                qWarning("history page: %s", r->body.constData());
                return {};
            }
            for (const QJsonValue &e : results)
                all.append(e);
            cursor = page.value(QLatin1String("next")).toString();
            ++n;
        } while (!cursor.isEmpty() && n < 1000);
        if (pages)
            *pages = n;
        return all;
    }

    // --- SQL ---

    qint64 ledgerTransactions() { return m_cluster.sql(QStringLiteral("SELECT count(*) FROM wallets_transaction")).toLongLong(); }
    QString sqlError(const QString &statements) { return m_cluster.sqlError(statements); }
    // Per currency: the sum of every account's balance (wallets and system accounts) — always 0.
    QString unbalancedCurrencies()
    {
        return m_cluster.sql(QStringLiteral("SELECT string_agg(currency || '=' || total, ',') FROM "
                                            "(SELECT currency, sum(balance) AS total FROM wallets_account GROUP BY currency HAVING sum(balance) <> 0) s"));
    }
    // Accounts whose balance differs from the sum of their entries or from the last balance_after.
    QString driftingAccounts()
    {
        return m_cluster.sql(QStringLiteral(
            "SELECT string_agg(a.id::text, ',') FROM wallets_account a "
            "LEFT JOIN LATERAL (SELECT coalesce(sum(amount), 0) AS total FROM wallets_entry e WHERE e.account_id = a.id) s ON true "
            "LEFT JOIN LATERAL (SELECT balance_after FROM wallets_entry e WHERE e.account_id = a.id ORDER BY e.id DESC LIMIT 1) l ON true "
            "WHERE a.balance <> s.total OR a.balance <> coalesce(l.balance_after, 0)"));
    }

    // Sends every request at once, each on a connection of its own, and returns the replies in
    // the same order (a failed QVERIFY leaves fewer).
    struct Request
    {
        QByteArray path;
        QByteArray body;
        QByteArray token;
        QByteArray key;
    };
    void concurrently(const QList<Request> &requests, QList<HttpReply> *replies)
    {
        std::vector<std::unique_ptr<HttpClient>> clients;
        for (qsizetype i = 0; i < requests.size(); ++i) {
            clients.push_back(std::make_unique<HttpClient>(m_host->host(), m_host->port()));
            QVERIFY(clients.back()->open());
        }
        for (qsizetype i = 0; i < requests.size(); ++i) {
            const Request &q = requests[i];
            const Headers headers{{QByteArrayLiteral("Authorization"), QByteArray("Bearer " + q.token)}, {QByteArrayLiteral("Idempotency-Key"), q.key}};
            clients[size_t(i)]->send(HttpClient::format(m_host->host(), "POST", q.path, q.body, "application/json", headers));
        }
        for (auto &c : clients) {
            const auto r = c->read(60000);
            QVERIFY2(r, "no reply");
            replies->append(*r);
        }
    }
    Request transferRequest(const User &from, const QString &wallet, const QString &toEmail, const QString &amount)
    {
        return {"/api/v1/transfers",
                compact({{QStringLiteral("from_wallet"), wallet}, {QStringLiteral("to_email"), toEmail}, {QStringLiteral("amount"), amount}}),
                from.token, freshKey()};
    }
    // Cents of a two-decimal amount, exactly ("12.30" -> 1230).
    static qint64 cents(const QString &amount)
    {
        const qsizetype dot = amount.indexOf(u'.');
        return amount.left(dot).toLongLong() * 100 + (amount.startsWith(u'-') ? -1 : 1) * amount.mid(dot + 1).toLongLong();
    }

    void verifyNotFoundLikeUnknown(const std::optional<HttpReply> &r, const std::optional<HttpReply> &unknown)
    {
        CHECK(verifyProblem(r, 404));
        QCOMPARE(r->body, unknown->body);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_cluster.open(&error), qPrintable(error));
        // The group-commit tests register more users than the default limit per address.
        m_cluster.setShared(QStringLiteral("YIELDHOST_USERS__REGISTRATIONS_PER_ADDRESS_PER_HOUR"), QStringLiteral("1000"));
        m_host = m_cluster.start({QStringLiteral("serve")});
        QVERIFY(m_host);
        QVERIFY2(m_host->waitReady(60000), qPrintable(m_host->output().right(2000)));
        m_alice = account(QStringLiteral("alice@example.com"));
        m_bob = account(QStringLiteral("bob@example.com"));
        m_carol = account(QStringLiteral("carol@example.com"));
        QVERIFY(!m_alice.token.isEmpty() && !m_bob.token.isEmpty() && !m_carol.token.isEmpty());
    }

    void cleanupTestCase()
    {
        if (m_host)
            QVERIFY2(m_host->terminate() == 0, qPrintable(m_host->output().right(3000)));
    }

    // --- wallets ---

    void walletsAreOpenedOnePerCurrency()
    {
        const auto usd = call("POST", "/api/v1/wallets", compact({{QStringLiteral("currency"), QStringLiteral("USD")}}), m_alice.token);
        QVERIFY2(usd && usd->status == 201, qPrintable(describe(usd)));
        QCOMPARE(usd->header("content-type"), QByteArray("application/json"));
        CHECK(verifyWallet(usd->json(), QStringLiteral("USD"), QStringLiteral("0.00")));
        QVERIFY(usd->json().value(QLatin1String("address")).isNull()); // fiat: no address
        m_aliceUsd = usd->json().value(QLatin1String("id")).toString();

        const auto btc = call("POST", "/api/v1/wallets", compact({{QStringLiteral("currency"), QStringLiteral("BTC")}}), m_alice.token);
        QVERIFY2(btc && btc->status == 201, qPrintable(describe(btc)));
        CHECK(verifyWallet(btc->json(), QStringLiteral("BTC"), QStringLiteral("0.00000000")));
        static const QRegularExpression address(QStringLiteral("^0x[0-9a-fA-F]{40}$"));
        QVERIFY2(address.match(btc->json().value(QLatin1String("address")).toString()).hasMatch(), btc->body.constData());
        m_aliceBtc = btc->json().value(QLatin1String("id")).toString();

        const auto eth = call("POST", "/api/v1/wallets", compact({{QStringLiteral("currency"), QStringLiteral("ETH")}}), m_alice.token);
        QVERIFY2(eth && eth->status == 201, qPrintable(describe(eth)));
        CHECK(verifyWallet(eth->json(), QStringLiteral("ETH"), QStringLiteral("0.000000000000000000")));
        QVERIFY(address.match(eth->json().value(QLatin1String("address")).toString()).hasMatch());
        QVERIFY(eth->json().value(QLatin1String("address")) != btc->json().value(QLatin1String("address")));
        m_aliceEth = eth->json().value(QLatin1String("id")).toString();

        // A second wallet in a currency is a conflict, and changes nothing.
        const auto again = call("POST", "/api/v1/wallets", compact({{QStringLiteral("currency"), QStringLiteral("USD")}}), m_alice.token);
        CHECK(verifyProblem(again, 409));
        QVERIFY2(again->json().value(QLatin1String("type")).toString().endsWith(QLatin1String("/wallet-exists")), again->body.constData());
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(*) FROM wallets_account WHERE user_id = '%1' AND currency = 'USD'").arg(m_alice.id)), QStringLiteral("1"));

        // Another user has wallets of their own.
        m_bobEur = openWallet(m_bob, QStringLiteral("EUR"));
        QVERIFY(!m_bobEur.isEmpty());
    }

    void openingAWalletValidatesTheCurrency_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::newRow("unknown code") << QByteArray(R"({"currency":"XYZ"})") << 422;
        QTest::newRow("missing") << QByteArray(R"({})") << 422;
        QTest::newRow("empty") << QByteArray(R"({"currency":""})") << 422;
        QTest::newRow("a number") << QByteArray(R"({"currency":840})") << 422;
        QTest::newRow("null") << QByteArray(R"({"currency":null})") << 422;
        QTest::newRow("SQL in the code") << QByteArray("{\"currency\":\"USD' OR '1'='1\"}") << 422;
        QTest::newRow("not JSON") << QByteArray(R"({"currency":)") << 400;
        QTest::newRow("an array") << QByteArray(R"(["USD"])") << 400;
    }
    void openingAWalletValidatesTheCurrency()
    {
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        const QString before = m_cluster.sql(QStringLiteral("SELECT count(*) FROM wallets_account"));
        const auto r = call("POST", "/api/v1/wallets", body, m_carol.token);
        CHECK(verifyProblem(r, status));
        if (status == 422)
            QVERIFY2(r->json().value(QLatin1String("errors")).toObject().contains(QLatin1String("currency")), r->body.constData());
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(*) FROM wallets_account")), before);
    }

    void walletsAreListedByCurrencyAndPaged()
    {
        const auto all = get(QStringLiteral("/api/v1/wallets"), m_alice);
        QVERIFY2(all && all->status == 200, qPrintable(describe(all)));
        const QJsonObject page = all->json();
        QVERIFY(page.contains(QLatin1String("next")) && page.value(QLatin1String("next")).isNull());
        const QJsonArray results = page.value(QLatin1String("results")).toArray();
        QCOMPARE(results.size(), 3);
        QStringList currencies;
        for (const QJsonValue &w : results)
            currencies.append(w.toObject().value(QLatin1String("currency")).toString());
        QCOMPARE(currencies, (QStringList{QStringLiteral("BTC"), QStringLiteral("ETH"), QStringLiteral("USD")}));
        // One at a time, following the cursors, gives the same wallets in the same order.
        QJsonArray paged;
        QString cursor;
        int pages = 0;
        do {
            const QString path = QStringLiteral("/api/v1/wallets?limit=1") + (cursor.isEmpty() ? QString() : QStringLiteral("&cursor=") + QString::fromLatin1(QUrl::toPercentEncoding(cursor)));
            const auto r = get(path, m_alice);
            QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
            const QJsonArray one = r->json().value(QLatin1String("results")).toArray();
            QCOMPARE(one.size(), 1);
            paged.append(one.first());
            cursor = r->json().value(QLatin1String("next")).toString();
        } while (!cursor.isEmpty() && ++pages < 10);
        QCOMPARE(paged, results);
        // Each one is what GET /wallets/{id} says.
        for (const QJsonValue &w : results) {
            const auto one = get(QStringLiteral("/api/v1/wallets/") + w.toObject().value(QLatin1String("id")).toString(), m_alice);
            QVERIFY2(one && one->status == 200, qPrintable(describe(one)));
            QCOMPARE(one->json(), w.toObject());
        }
        // Another user sees only theirs; a user without wallets gets an empty list.
        const auto bob = get(QStringLiteral("/api/v1/wallets"), m_bob);
        QVERIFY(bob && bob->status == 200);
        QCOMPARE(bob->json().value(QLatin1String("results")).toArray().size(), 1);
        const auto carol = get(QStringLiteral("/api/v1/wallets"), m_carol);
        QVERIFY(carol && carol->status == 200);
        QCOMPARE(carol->json(), (QJsonObject{{QStringLiteral("results"), QJsonArray()}, {QStringLiteral("next"), QJsonValue::Null}}));
        // Bad paging parameters are 422, not 500.
        CHECK(verifyProblem(get(QStringLiteral("/api/v1/wallets?limit=0"), m_alice), 422));
        CHECK(verifyProblem(get(QStringLiteral("/api/v1/wallets?limit=501"), m_alice), 422));
        CHECK(verifyProblem(get(QStringLiteral("/api/v1/wallets?cursor=forged"), m_alice), 422));
    }

    void everyRouteNeedsCredentials()
    {
        const QString w = m_aliceUsd;
        const QList<QPair<QByteArray, QString>> routes{
            {"GET", QStringLiteral("/api/v1/wallets")},
            {"POST", QStringLiteral("/api/v1/wallets")},
            {"GET", QStringLiteral("/api/v1/wallets/") + w},
            {"GET", QStringLiteral("/api/v1/wallets/%1/transactions").arg(w)},
            {"POST", QStringLiteral("/api/v1/wallets/%1/deposit").arg(w)},
            {"POST", QStringLiteral("/api/v1/wallets/%1/withdraw").arg(w)},
            {"POST", QStringLiteral("/api/v1/transfers")},
        };
        for (const auto &[method, path] : routes) {
            const auto r = call(method, path.toUtf8(), method == "POST" ? QByteArray(R"({"currency":"EUR","amount":"1.00"})") : QByteArray(), {}, "no-auth");
            QVERIFY2(r && r->status == 401, qPrintable(QStringLiteral("%1 %2: %3").arg(QString::fromLatin1(method), path, describe(r))));
        }
    }

    // --- movements ---

    void depositsAndWithdrawalsMoveMoney()
    {
        const qint64 before = ledgerTransactions();
        const auto in = deposit(m_alice, m_aliceUsd, {{QStringLiteral("amount"), QStringLiteral("100")}, {QStringLiteral("reference"), QStringLiteral("first")}});
        QVERIFY2(in && in->status == 201, qPrintable(describe(in)));
        QCOMPARE(in->json().keys(), (QStringList{QStringLiteral("transaction"), QStringLiteral("wallet")}));
        CHECK(verifyEntry(in->json().value(QLatin1String("transaction")).toObject(), QStringLiteral("deposit"), QStringLiteral("100.00"),
                          QStringLiteral("100.00"), QStringLiteral("first")));
        CHECK(verifyWallet(in->json().value(QLatin1String("wallet")).toObject(), QStringLiteral("USD"), QStringLiteral("100.00")));
        QCOMPARE(in->json().value(QLatin1String("wallet")).toObject().value(QLatin1String("id")).toString(), m_aliceUsd);
        const QString depositId = in->json().value(QLatin1String("transaction")).toObject().value(QLatin1String("id")).toString();
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT kind || '|' || reference FROM wallets_transaction WHERE id = '%1'").arg(depositId)),
                 QStringLiteral("deposit|first"));

        const auto out = withdraw(m_alice, m_aliceUsd, {{QStringLiteral("amount"), QStringLiteral("30.5")}, {QStringLiteral("destination"), QStringLiteral("DE89 3704 0044 0532 0130 00")}});
        QVERIFY2(out && out->status == 201, qPrintable(describe(out)));
        CHECK(verifyEntry(out->json().value(QLatin1String("transaction")).toObject(), QStringLiteral("withdrawal"), QStringLiteral("-30.50"), QStringLiteral("69.50")));
        CHECK(verifyWallet(out->json().value(QLatin1String("wallet")).toObject(), QStringLiteral("USD"), QStringLiteral("69.50")));
        const QString withdrawalId = out->json().value(QLatin1String("transaction")).toObject().value(QLatin1String("id")).toString();
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT metadata->>'destination' FROM wallets_transaction WHERE id = '%1'").arg(withdrawalId)),
                 QStringLiteral("DE89 3704 0044 0532 0130 00"));
        QCOMPARE(ledgerTransactions(), before + 2);
        QCOMPARE(balanceOf(m_alice, m_aliceUsd), QStringLiteral("69.50"));

        // Crypto amounts keep their decimals: 8 for BTC, 18 for ETH.
        const auto sats = deposit(m_alice, m_aliceBtc, QStringLiteral("0.00000001"));
        QVERIFY2(sats && sats->status == 201, qPrintable(describe(sats)));
        QCOMPARE(sats->json().value(QLatin1String("wallet")).toObject().value(QLatin1String("balance")).toString(), QStringLiteral("0.00000001"));
        const auto wei = deposit(m_alice, m_aliceEth, QStringLiteral("1.000000000000000001"));
        QVERIFY2(wei && wei->status == 201, qPrintable(describe(wei)));
        QCOMPARE(wei->json().value(QLatin1String("wallet")).toObject().value(QLatin1String("balance")).toString(), QStringLiteral("1.000000000000000001"));
        QCOMPARE(unbalancedCurrencies(), QString());
        QCOMPARE(driftingAccounts(), QString());
    }

    void withdrawingMoreThanTheBalanceIs409()
    {
        const qint64 before = ledgerTransactions();
        const auto r = withdraw(m_alice, m_aliceUsd, {{QStringLiteral("amount"), QStringLiteral("69.51")}, {QStringLiteral("destination"), QStringLiteral("x")}});
        CHECK(verifyProblem(r, 409));
        QVERIFY2(r->json().value(QLatin1String("type")).toString().endsWith(QLatin1String("/insufficient-funds")), r->body.constData());
        QCOMPARE(ledgerTransactions(), before);
        QCOMPARE(balanceOf(m_alice, m_aliceUsd), QStringLiteral("69.50"));
        // Exactly the balance is fine (and leaves 0.00); then a cent more is refused.
        const auto all = withdraw(m_alice, m_aliceEth, {{QStringLiteral("amount"), QStringLiteral("1.000000000000000001")}, {QStringLiteral("destination"), QStringLiteral("0xabc")}});
        QVERIFY2(all && all->status == 201, qPrintable(describe(all)));
        QCOMPARE(all->json().value(QLatin1String("wallet")).toObject().value(QLatin1String("balance")).toString(), QStringLiteral("0.000000000000000000"));
        CHECK(verifyProblem(withdraw(m_alice, m_aliceEth, {{QStringLiteral("amount"), QStringLiteral("0.000000000000000001")}, {QStringLiteral("destination"), QStringLiteral("0xabc")}}), 409));
    }

    void aWithdrawalNeedsADestination_data()
    {
        QTest::addColumn<QJsonValue>("destination");
        QTest::newRow("missing") << QJsonValue(QJsonValue::Undefined);
        QTest::newRow("null") << QJsonValue(QJsonValue::Null);
        QTest::newRow("empty") << QJsonValue(QString());
        QTest::newRow("blank") << QJsonValue(QStringLiteral("   "));
        QTest::newRow("a number") << QJsonValue(12345);
        QTest::newRow("201 characters") << QJsonValue(QString(201, u'd'));
    }
    void aWithdrawalNeedsADestination()
    {
        QFETCH(QJsonValue, destination);
        QJsonObject body{{QStringLiteral("amount"), QStringLiteral("1.00")}};
        if (!destination.isUndefined())
            body.insert(QStringLiteral("destination"), destination);
        const qint64 before = ledgerTransactions();
        const auto r = withdraw(m_alice, m_aliceUsd, body);
        CHECK(verifyProblem(r, 422));
        QVERIFY2(r->json().value(QLatin1String("errors")).toObject().contains(QLatin1String("destination")), r->body.constData());
        QCOMPARE(ledgerTransactions(), before);
    }

    void aReferenceIsAtMost200Characters()
    {
        const auto longer = deposit(m_alice, m_aliceUsd, {{QStringLiteral("amount"), QStringLiteral("1.00")}, {QStringLiteral("reference"), QString(201, u'r')}});
        CHECK(verifyProblem(longer, 422));
        QVERIFY(longer->json().value(QLatin1String("errors")).toObject().contains(QLatin1String("reference")));
        const auto number = deposit(m_alice, m_aliceUsd, {{QStringLiteral("amount"), QStringLiteral("1.00")}, {QStringLiteral("reference"), 7}});
        CHECK(verifyProblem(number, 422));
        const auto ok = deposit(m_alice, m_aliceUsd, {{QStringLiteral("amount"), QStringLiteral("0.50")}, {QStringLiteral("reference"), QString(200, u'r')}});
        QVERIFY2(ok && ok->status == 201, qPrintable(describe(ok)));
        QCOMPARE(ok->json().value(QLatin1String("transaction")).toObject().value(QLatin1String("reference")).toString(), QString(200, u'r'));
        QCOMPARE(balanceOf(m_alice, m_aliceUsd), QStringLiteral("70.00"));
    }

    void aTransferMovesMoneyToTheReceiversWalletOpeningIt()
    {
        // Bob has no USD wallet yet: the transfer opens it.
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(*) FROM wallets_account WHERE user_id = '%1' AND currency = 'USD'").arg(m_bob.id)), QStringLiteral("0"));
        const qint64 before = ledgerTransactions();
        const auto r = transfer(m_alice, {{QStringLiteral("from_wallet"), m_aliceUsd}, {QStringLiteral("to_email"), m_bob.email},
                                          {QStringLiteral("amount"), QStringLiteral("12.25")}, {QStringLiteral("reference"), QStringLiteral("lunch")}});
        QVERIFY2(r && r->status == 201, qPrintable(describe(r)));
        const QJsonObject sent = r->json().value(QLatin1String("transaction")).toObject();
        CHECK(verifyEntry(sent, QStringLiteral("transfer_out"), QStringLiteral("-12.25"), QStringLiteral("57.75"), QStringLiteral("lunch")));
        CHECK(verifyWallet(r->json().value(QLatin1String("wallet")).toObject(), QStringLiteral("USD"), QStringLiteral("57.75")));
        QCOMPARE(r->json().value(QLatin1String("wallet")).toObject().value(QLatin1String("id")).toString(), m_aliceUsd);
        QCOMPARE(ledgerTransactions(), before + 1);

        const auto bobs = get(QStringLiteral("/api/v1/wallets"), m_bob);
        QVERIFY(bobs && bobs->status == 200);
        QString bobUsd;
        for (const QJsonValue &w : bobs->json().value(QLatin1String("results")).toArray()) {
            if (w.toObject().value(QLatin1String("currency")).toString() == QLatin1String("USD")) {
                bobUsd = w.toObject().value(QLatin1String("id")).toString();
                CHECK(verifyWallet(w.toObject(), QStringLiteral("USD"), QStringLiteral("12.25")));
            }
        }
        QVERIFY2(!bobUsd.isEmpty(), bobs->body.constData());
        // Bob's side: transfer_in, the same ledger transaction id.
        const QJsonArray bobHistory = history(m_bob, bobUsd, 50);
        QCOMPARE(bobHistory.size(), 1);
        CHECK(verifyEntry(bobHistory.first().toObject(), QStringLiteral("transfer_in"), QStringLiteral("12.25"), QStringLiteral("12.25"), QStringLiteral("lunch")));
        QCOMPARE(bobHistory.first().toObject().value(QLatin1String("id")).toString(), sent.value(QLatin1String("id")).toString());
        QCOMPARE(history(m_alice, m_aliceUsd, 50).first().toObject(), sent);
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT t.kind || '|' || count(*) FROM wallets_transaction t JOIN wallets_entry e ON e.transaction_id = t.id "
                                              "WHERE t.id = '%1' GROUP BY t.kind").arg(sent.value(QLatin1String("id")).toString())),
                 QStringLiteral("transfer|2"));

        // Back the other way, in bob's wallet that now exists (found by a differently-cased email:
        // emails match the way logins do).
        const auto back = transfer(m_bob, bobUsd, QStringLiteral("ALICE@Example.com"), QStringLiteral("0.25"));
        QVERIFY2(back && back->status == 201, qPrintable(describe(back)));
        QCOMPARE(balanceOf(m_alice, m_aliceUsd), QStringLiteral("58.00"));
        QCOMPARE(balanceOf(m_bob, bobUsd), QStringLiteral("12.00"));

        // A crypto transfer opens the receiver's crypto wallet with an address.
        QVERIFY(deposit(m_alice, m_aliceBtc, QStringLiteral("0.5"))->status == 201);
        const auto btc = transfer(m_alice, m_aliceBtc, m_carol.email, QStringLiteral("0.12345678"));
        QVERIFY2(btc && btc->status == 201, qPrintable(describe(btc)));
        const auto carols = get(QStringLiteral("/api/v1/wallets"), m_carol);
        QVERIFY(carols && carols->status == 200);
        const QJsonArray cw = carols->json().value(QLatin1String("results")).toArray();
        QCOMPARE(cw.size(), 1);
        CHECK(verifyWallet(cw.first().toObject(), QStringLiteral("BTC"), QStringLiteral("0.12345678")));
        QVERIFY(cw.first().toObject().value(QLatin1String("address")).toString().startsWith(QLatin1String("0x")));
        QCOMPARE(unbalancedCurrencies(), QString());
        QCOMPARE(driftingAccounts(), QString());
    }

    void transferRefusals()
    {
        const qint64 before = ledgerTransactions();
        // An unknown email and the caller's own are 422 on to_email.
        for (const QString &to : {QStringLiteral("nobody@example.com"), m_alice.email}) {
            const auto r = transfer(m_alice, m_aliceUsd, to, QStringLiteral("1.00"));
            CHECK(verifyProblem(r, 422));
            QVERIFY2(r->json().value(QLatin1String("errors")).toObject().contains(QLatin1String("to_email")), r->body.constData());
        }
        // Missing or mistyped fields.
        for (const QByteArray &body : {QByteArray(R"({"to_email":"bob@example.com","amount":"1.00"})"),
                                       QByteArray("{\"from_wallet\":\"" + m_aliceUsd.toLatin1() + "\",\"amount\":\"1.00\"}"),
                                       QByteArray("{\"from_wallet\":\"" + m_aliceUsd.toLatin1() + "\",\"to_email\":7,\"amount\":\"1.00\"}"),
                                       QByteArray(R"({"from_wallet":42,"to_email":"bob@example.com","amount":"1.00"})")}) {
            const auto r = call("POST", "/api/v1/transfers", body, m_alice.token, freshKey());
            CHECK(verifyProblem(r, 422));
        }
        // More than the balance.
        const auto poor = transfer(m_alice, m_aliceUsd, m_bob.email, QStringLiteral("58.01"));
        CHECK(verifyProblem(poor, 409));
        QVERIFY(poor->json().value(QLatin1String("type")).toString().endsWith(QLatin1String("/insufficient-funds")));
        // Not JSON / not an object.
        CHECK(verifyProblem(call("POST", "/api/v1/transfers", "{", m_alice.token, freshKey()), 400));
        CHECK(verifyProblem(call("POST", "/api/v1/transfers", "[1]", m_alice.token, freshKey()), 400));
        QCOMPARE(ledgerTransactions(), before);
        QCOMPARE(balanceOf(m_alice, m_aliceUsd), QStringLiteral("58.00"));
    }

    void moneyPostsNeedAnIdempotencyKey()
    {
        const qint64 before = ledgerTransactions();
        const QByteArray amount = R"({"amount":"1.00","destination":"x"})";
        for (const QString &path : {QStringLiteral("/api/v1/wallets/%1/deposit").arg(m_aliceUsd), QStringLiteral("/api/v1/wallets/%1/withdraw").arg(m_aliceUsd)})
            CHECK(verifyProblem(call("POST", path.toUtf8(), amount, m_alice.token), 400));
        CHECK(verifyProblem(call("POST", "/api/v1/transfers", compact({{QStringLiteral("from_wallet"), m_aliceUsd}, {QStringLiteral("to_email"), m_bob.email},
                                                                      {QStringLiteral("amount"), QStringLiteral("1.00")}}), m_alice.token), 400));
        QCOMPARE(ledgerTransactions(), before);
    }

    // --- the malformed-amount table, for every money POST ---

    void malformedAmountsAre422_data()
    {
        QTest::addColumn<QString>("route");
        QTest::addColumn<QByteArray>("amount"); // the JSON text of the field; empty: left out
        const QList<QPair<const char *, QByteArray>> amounts{
            {"abc", R"("abc")"},
            {"negative", R"("-5")"},
            {"negative with decimals", R"("-5.00")"},
            {"zero", R"("0")"},
            {"zero with decimals", R"("0.00")"},
            {"exponent", R"("1e3")"},
            {"too many decimals for USD", R"("1.001")"},
            {"zeros past USD's decimals that still round away", R"("0.001")"},
            {"40 digits", R"("1234567890123456789012345678901234567890")"},
            {"39 digits", R"("123456789012345678901234567890123456789")"},
            {"19 decimals", R"("0.0000000000000000001")"},
            {"JSON number", "5"},
            {"JSON number with decimals", "5.25"},
            {"null", "null"},
            {"empty string", R"("")"},
            {"blank", R"(" ")"},
            {"leading space", R"(" 5")"},
            {"comma", R"("5,00")"},
            {"no digit after the point", R"("5.")"},
            {"no digit before the point", R"(".5")"},
            {"hex", R"("0x10")"},
            {"NaN", R"("NaN")"},
            {"Infinity", R"("Infinity")"},
            {"boolean", "true"},
            {"object", R"({"value":"5"})"},
            {"array", R"(["5"])"},
            {"missing", QByteArray()},
        };
        for (const char *route : {"deposit", "withdraw", "transfer"}) {
            for (const auto &[name, amount] : amounts)
                QTest::newRow(qPrintable(QStringLiteral("%1: %2").arg(QLatin1String(route), QLatin1String(name)))) << QString::fromLatin1(route) << amount;
        }
    }
    void malformedAmountsAre422()
    {
        QFETCH(QString, route);
        QFETCH(QByteArray, amount);
        const QByteArray field = amount.isEmpty() ? QByteArray() : QByteArray(R"("amount":)" + amount + ',');
        QByteArray path, body;
        if (route == QLatin1String("deposit")) {
            path = QStringLiteral("/api/v1/wallets/%1/deposit").arg(m_aliceUsd).toUtf8();
            body = '{' + field + R"("reference":"r"})";
        } else if (route == QLatin1String("withdraw")) {
            path = QStringLiteral("/api/v1/wallets/%1/withdraw").arg(m_aliceUsd).toUtf8();
            body = '{' + field + R"("destination":"d"})";
        } else {
            path = "/api/v1/transfers";
            body = '{' + field + "\"from_wallet\":\"" + m_aliceUsd.toUtf8() + "\",\"to_email\":\"" + m_bob.email.toUtf8() + "\"}";
        }
        QVERIFY2(QJsonDocument::fromJson(body).isObject(), body.constData());
        const qint64 before = ledgerTransactions();
        const auto r = call("POST", path, body, m_alice.token, freshKey());
        CHECK(verifyProblem(r, 422));
        QVERIFY2(r->json().value(QLatin1String("errors")).toObject().value(QLatin1String("amount")).toArray().size() >= 1, r->body.constData());
        QCOMPARE(ledgerTransactions(), before);
    }

    void tooManyDecimalsFollowTheWalletsCurrency()
    {
        // 8 decimals are fine in BTC, 9 are not; 18 in ETH, 2 in EUR.
        const qint64 before = ledgerTransactions();
        const auto nine = deposit(m_alice, m_aliceBtc, QStringLiteral("0.000000001"));
        CHECK(verifyProblem(nine, 422));
        QVERIFY(nine->json().value(QLatin1String("errors")).toObject().contains(QLatin1String("amount")));
        const auto eur = transfer(m_bob, m_bobEur, m_alice.email, QStringLiteral("0.005"));
        CHECK(verifyProblem(eur, 422));
        QVERIFY(eur->json().value(QLatin1String("errors")).toObject().contains(QLatin1String("amount")));
        QCOMPARE(ledgerTransactions(), before);
        // Trailing zeros past the currency's decimals do not change the value.
        const auto padded = deposit(m_alice, m_aliceUsd, QStringLiteral("1.000"));
        QVERIFY2(padded && (padded->status == 201 || padded->status == 422), qPrintable(describe(padded)));
        if (padded->status == 201)
            QCOMPARE(padded->json().value(QLatin1String("transaction")).toObject().value(QLatin1String("amount")).toString(), QStringLiteral("1.00"));
    }

    // --- authorization ---

    void anotherUsersWalletIs404ForEveryVerb()
    {
        const qint64 before = ledgerTransactions();
        const QString unknown = QUuid::createUuid().toString(QUuid::WithoutBraces);
        const QString bobs = m_bobEur;
        QVERIFY(deposit(m_bob, bobs, QStringLiteral("10.00"))->status == 201);
        const qint64 afterSetup = ledgerTransactions();
        QCOMPARE(afterSetup, before + 1);

        // GET and history: the same 404 as a wallet that does not exist, and as a non-UUID id.
        const auto unknownGet = get(QStringLiteral("/api/v1/wallets/") + unknown, m_alice);
        CHECK(verifyProblem(unknownGet, 404));
        CHECK(verifyNotFoundLikeUnknown(get(QStringLiteral("/api/v1/wallets/") + bobs, m_alice), unknownGet));
        CHECK(verifyNotFoundLikeUnknown(get(QStringLiteral("/api/v1/wallets/not-a-uuid"), m_alice), unknownGet));
        CHECK(verifyNotFoundLikeUnknown(get(QStringLiteral("/api/v1/wallets/") + bobs.toUpper(), m_alice), unknownGet));
        const auto unknownHistory = get(QStringLiteral("/api/v1/wallets/%1/transactions").arg(unknown), m_alice);
        CHECK(verifyProblem(unknownHistory, 404));
        CHECK(verifyNotFoundLikeUnknown(get(QStringLiteral("/api/v1/wallets/%1/transactions").arg(bobs), m_alice), unknownHistory));
        CHECK(verifyNotFoundLikeUnknown(get(QStringLiteral("/api/v1/wallets/1%27%20OR%201=1/transactions"), m_alice), unknownHistory));

        // Money POSTs: deposit, withdraw and transfer from bob's wallet, each 404 like an unknown id.
        const auto unknownDeposit = deposit(m_alice, unknown, QStringLiteral("1.00"));
        CHECK(verifyProblem(unknownDeposit, 404));
        CHECK(verifyNotFoundLikeUnknown(deposit(m_alice, bobs, QStringLiteral("1.00")), unknownDeposit));
        CHECK(verifyNotFoundLikeUnknown(deposit(m_alice, QStringLiteral("nope"), QStringLiteral("1.00")), unknownDeposit));
        const QJsonObject out{{QStringLiteral("amount"), QStringLiteral("1.00")}, {QStringLiteral("destination"), QStringLiteral("mine now")}};
        const auto unknownWithdraw = withdraw(m_alice, unknown, out);
        CHECK(verifyProblem(unknownWithdraw, 404));
        CHECK(verifyNotFoundLikeUnknown(withdraw(m_alice, bobs, out), unknownWithdraw));
        const auto unknownTransfer = transfer(m_alice, unknown, m_carol.email, QStringLiteral("1.00"));
        CHECK(verifyProblem(unknownTransfer, 404));
        CHECK(verifyNotFoundLikeUnknown(transfer(m_alice, bobs, m_carol.email, QStringLiteral("1.00")), unknownTransfer));
        // ... even sent to bob himself, or to the thief.
        CHECK(verifyNotFoundLikeUnknown(transfer(m_alice, bobs, m_bob.email, QStringLiteral("1.00")), unknownTransfer));
        const auto toSelf = transfer(m_carol, bobs, m_alice.email, QStringLiteral("1.00"));
        CHECK(verifyProblem(toSelf, 404));

        QCOMPARE(ledgerTransactions(), afterSetup);
        QCOMPARE(balanceOf(m_bob, bobs), QStringLiteral("10.00"));
    }

    // --- idempotency ---

    void aRepeatedKeyReplaysTheFirstReply()
    {
        const qint64 before = ledgerTransactions();
        const QString balance = balanceOf(m_alice, m_aliceUsd);
        const QJsonObject body{{QStringLiteral("amount"), QStringLiteral("2.00")}, {QStringLiteral("reference"), QStringLiteral("once")}};
        const auto first = deposit(m_alice, m_aliceUsd, body, "deposit-once");
        QVERIFY2(first && first->status == 201, qPrintable(describe(first)));
        QVERIFY(first->header("idempotent-replayed").isEmpty());
        // The same body, written differently.
        const auto again = call("POST", QStringLiteral("/api/v1/wallets/%1/deposit").arg(m_aliceUsd).toUtf8(), R"({ "reference": "once", "amount" : "2.00" })",
                                m_alice.token, "deposit-once");
        QVERIFY2(again && again->status == 201, qPrintable(describe(again)));
        QCOMPARE(again->body, first->body);
        QCOMPARE(again->header("idempotent-replayed"), QByteArray("true"));
        QCOMPARE(ledgerTransactions(), before + 1);

        // The same for a transfer and a withdrawal; and a refusal (409) is replayed as a refusal.
        const auto t1 = transfer(m_alice, m_aliceUsd, m_bob.email, QStringLiteral("1.00"), "transfer-once");
        QVERIFY2(t1 && t1->status == 201, qPrintable(describe(t1)));
        const auto t2 = transfer(m_alice, m_aliceUsd, m_bob.email, QStringLiteral("1.00"), "transfer-once");
        QVERIFY2(t2 && t2->status == 201, qPrintable(describe(t2)));
        QCOMPARE(t2->body, t1->body);
        QCOMPARE(t2->header("idempotent-replayed"), QByteArray("true"));
        const QJsonObject big{{QStringLiteral("amount"), QStringLiteral("100000.00")}, {QStringLiteral("destination"), QStringLiteral("x")}};
        const auto w1 = withdraw(m_alice, m_aliceUsd, big, "withdraw-refused");
        CHECK(verifyProblem(w1, 409));
        QVERIFY(deposit(m_alice, m_aliceUsd, QStringLiteral("100000.00"))->status == 201);
        const auto w2 = withdraw(m_alice, m_aliceUsd, big, "withdraw-refused");
        CHECK(verifyProblem(w2, 409));
        QCOMPARE(w2->body, w1->body);
        QCOMPARE(w2->header("idempotent-replayed"), QByteArray("true"));
        QCOMPARE(ledgerTransactions(), before + 3);
        QVERIFY(balance != balanceOf(m_alice, m_aliceUsd));
    }

    void theSameKeyWithAnotherBodyIs422()
    {
        const auto first = deposit(m_alice, m_aliceUsd, QStringLiteral("3.00"), "deposit-mismatch");
        QVERIFY2(first && first->status == 201, qPrintable(describe(first)));
        const qint64 before = ledgerTransactions();
        const QString balance = balanceOf(m_alice, m_aliceUsd);
        const auto other = deposit(m_alice, m_aliceUsd, QStringLiteral("4.00"), "deposit-mismatch");
        CHECK(verifyProblem(other, 422));
        // The same key on another route is another request too.
        const auto elsewhere = withdraw(m_alice, m_aliceUsd, {{QStringLiteral("amount"), QStringLiteral("3.00")}, {QStringLiteral("destination"), QStringLiteral("x")}}, "deposit-mismatch");
        CHECK(verifyProblem(elsewhere, 422));
        const auto transferred = transfer(m_alice, m_aliceUsd, m_bob.email, QStringLiteral("3.00"), "deposit-mismatch");
        CHECK(verifyProblem(transferred, 422));
        QCOMPARE(ledgerTransactions(), before);
        QCOMPARE(balanceOf(m_alice, m_aliceUsd), balance);
        // Keys are per user: bob's "deposit-mismatch" is his own.
        const auto bobs = deposit(m_bob, m_bobEur, QStringLiteral("4.00"), "deposit-mismatch");
        QVERIFY2(bobs && bobs->status == 201, qPrintable(describe(bobs)));
        QVERIFY(bobs->header("idempotent-replayed").isEmpty());
    }

    void fiftyConcurrentRequestsWithOneKeyMoveMoneyOnce_data()
    {
        QTest::addColumn<QString>("route");
        QTest::newRow("transfer") << QStringLiteral("transfer");
        QTest::newRow("deposit") << QStringLiteral("deposit");
        QTest::newRow("withdraw") << QStringLiteral("withdraw");
    }
    void fiftyConcurrentRequestsWithOneKeyMoveMoneyOnce()
    {
        QFETCH(QString, route);
        QByteArray path, body;
        QString delta; // alice's USD balance change
        if (route == QLatin1String("transfer")) {
            path = "/api/v1/transfers";
            body = compact({{QStringLiteral("from_wallet"), m_aliceUsd}, {QStringLiteral("to_email"), m_carol.email}, {QStringLiteral("amount"), QStringLiteral("7.77")}});
        } else if (route == QLatin1String("deposit")) {
            path = QStringLiteral("/api/v1/wallets/%1/deposit").arg(m_aliceUsd).toUtf8();
            body = compact({{QStringLiteral("amount"), QStringLiteral("7.77")}});
        } else {
            path = QStringLiteral("/api/v1/wallets/%1/withdraw").arg(m_aliceUsd).toUtf8();
            body = compact({{QStringLiteral("amount"), QStringLiteral("7.77")}, {QStringLiteral("destination"), QStringLiteral("x")}});
        }
        const qint64 before = ledgerTransactions();
        const QString balanceBefore = balanceOf(m_alice, m_aliceUsd);
        std::vector<std::unique_ptr<HttpClient>> clients;
        for (int i = 0; i < 50; ++i) {
            clients.push_back(std::make_unique<HttpClient>(m_host->host(), m_host->port()));
            QVERIFY(clients.back()->open());
        }
        const QByteArray key = "concurrent-" + route.toLatin1();
        const Headers headers{{QByteArrayLiteral("Authorization"), QByteArray("Bearer " + m_alice.token)}, {QByteArrayLiteral("Idempotency-Key"), key}};
        for (auto &c : clients)
            c->send(HttpClient::format(m_host->host(), "POST", path, body, "application/json", headers));
        QList<HttpReply> replies;
        for (auto &c : clients) {
            const auto r = c->read(60000);
            QVERIFY2(r, "no reply");
            replies.append(*r);
        }
        int replayed = 0;
        for (const HttpReply &r : std::as_const(replies)) {
            QVERIFY2(r.status == 201, qPrintable(QStringLiteral("%1 %2").arg(r.status).arg(QString::fromUtf8(r.body))));
            QCOMPARE(r.body, replies.first().body);
            replayed += r.header("idempotent-replayed") == "true" ? 1 : 0;
        }
        QCOMPARE(replayed, 49);
        QCOMPARE(ledgerTransactions(), before + 1);
        const QString id = replies.first().json().value(QLatin1String("transaction")).toObject().value(QLatin1String("id")).toString();
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(*) FROM wallets_transaction WHERE id = '%1'").arg(id)), QStringLiteral("1"));
        const double moved = balanceOf(m_alice, m_aliceUsd).toDouble() - balanceBefore.toDouble(); // display only: cents compared below
        QCOMPARE(qRound64(moved * 100), route == QLatin1String("deposit") ? 777 : -777);
        QCOMPARE(unbalancedCurrencies(), QString());
        QCOMPARE(driftingAccounts(), QString());
    }

    // --- transfers that arrive together (MovementBatcher: group commit) ---

    void concurrentTransfersArePostedTogetherEachWithItsOwnReply()
    {
        // Six users with 100.00 USD each; 60 transfers at once between them, plus 5 to a user
        // without a USD wallet (each of those runs alone: the first opens her wallet).
        QList<User> users;
        QStringList wallets;
        for (int i = 0; i < 6; ++i) {
            users.append(account(QStringLiteral("group%1@example.com").arg(i)));
            QVERIFY(!users.last().token.isEmpty());
            wallets.append(openWallet(users.last(), QStringLiteral("USD")));
            QVERIFY(!wallets.last().isEmpty());
            QCOMPARE(deposit(users.last(), wallets.last(), QStringLiteral("100.00"))->status, 201);
        }
        const User erin = account(QStringLiteral("group-erin@example.com"));
        QVERIFY(!erin.token.isEmpty());
        QList<Request> requests;
        QList<qint64> expected(6, 10000);
        qint64 toErin = 0;
        for (int i = 0; i < 65; ++i) {
            const int from = i % 6;
            const int to = (i * 7 + 1) % 6 == from ? (from + 1) % 6 : (i * 7 + 1) % 6;
            const qint64 amount = 1 + i; // 0.01 .. 0.65
            const QString text = QStringLiteral("%1.%2").arg(amount / 100).arg(amount % 100, 2, 10, QLatin1Char('0'));
            if (i < 60) {
                requests.append(transferRequest(users[from], wallets[from], users[to].email, text));
                expected[to] += amount;
            } else {
                requests.append(transferRequest(users[from], wallets[from], erin.email, text));
                toErin += amount;
            }
            expected[from] -= amount;
        }
        const qint64 before = ledgerTransactions();
        QList<HttpReply> replies;
        concurrently(requests, &replies);
        QCOMPARE(replies.size(), requests.size());
        QSet<QString> ids;
        QList<QHash<QString, QJsonObject>> sentBy(6); // per sender: transaction id -> the reply's entry
        for (qsizetype i = 0; i < replies.size(); ++i) {
            const HttpReply &r = replies[i];
            QVERIFY2(r.status == 201, qPrintable(QStringLiteral("%1 %2").arg(r.status).arg(QString::fromUtf8(r.body))));
            const QJsonObject sent = r.json().value(QLatin1String("transaction")).toObject();
            const QJsonObject wallet = r.json().value(QLatin1String("wallet")).toObject();
            const QString amount = QJsonDocument::fromJson(requests[i].body).object().value(QLatin1String("amount")).toString();
            CHECK(verifyEntry(sent, QStringLiteral("transfer_out"), u'-' + amount, sent.value(QLatin1String("balance_after")).toString()));
            CHECK(verifyWallet(wallet, QStringLiteral("USD"), sent.value(QLatin1String("balance_after")).toString()));
            ids.insert(sent.value(QLatin1String("id")).toString());
            sentBy[i % 6].insert(sent.value(QLatin1String("id")).toString(), sent);
        }
        QCOMPARE(ids.size(), replies.size());
        QCOMPARE(ledgerTransactions(), before + replies.size());
        for (int i = 0; i < 6; ++i) {
            QCOMPARE(cents(balanceOf(users[i], wallets[i])), expected[i]);
            // Each reply is the sender's ledger entry as the history shows it, time included.
            for (const QJsonValue &e : history(users[i], wallets[i], 100)) {
                const QString id = e.toObject().value(QLatin1String("id")).toString();
                if (sentBy[i].contains(id) && e.toObject().value(QLatin1String("kind")).toString() == QLatin1String("transfer_out"))
                    QCOMPARE(e.toObject(), sentBy[i].take(id));
            }
            QVERIFY2(sentBy[i].isEmpty(), "a reply's entry is not in the sender's history");
        }
        const auto erins = get(QStringLiteral("/api/v1/wallets"), erin);
        QVERIFY(erins && erins->status == 200);
        QCOMPARE(erins->json().value(QLatin1String("results")).toArray().size(), 1);
        QCOMPARE(cents(erins->json().value(QLatin1String("results")).toArray().first().toObject().value(QLatin1String("balance")).toString()), toErin);
        // Transfers that arrived together share a database transaction: fewer transaction start
        // times than transfers (one transaction each would give one time each).
        const QStringList idList(ids.cbegin(), ids.cend());
        const qint64 times = m_cluster.sql(QStringLiteral("SELECT count(DISTINCT created_at) FROM wallets_transaction WHERE id::text = ANY('{%1}')")
                                               .arg(idList.join(u','))).toLongLong();
        QVERIFY2(times < replies.size() / 2, qPrintable(QStringLiteral("%1 transactions for %2 transfers").arg(times).arg(replies.size())));
        // Every key replays its own reply.
        for (qsizetype i = 0; i < requests.size(); i += 7) {
            const auto again = call("POST", requests[i].path, requests[i].body, requests[i].token, requests[i].key);
            QVERIFY2(again && again->status == 201, qPrintable(describe(again)));
            QCOMPARE(again->body, replies[i].body);
            QCOMPARE(again->header("idempotent-replayed"), QByteArray("true"));
        }
        QCOMPARE(ledgerTransactions(), before + replies.size());
        QCOMPARE(unbalancedCurrencies(), QString());
        QCOMPARE(driftingAccounts(), QString());
    }

    void transfersThatArriveTogetherAreCheckedInTurn()
    {
        // 1.00 USD and five transfers of 0.30 at once: three go, two are 409, whichever batch
        // each lands in; each refusal is stored and replayed.
        const User frank = account(QStringLiteral("group-frank@example.com"));
        const User gina = account(QStringLiteral("group-gina@example.com"));
        const QString frankUsd = openWallet(frank, QStringLiteral("USD"));
        QVERIFY(!openWallet(gina, QStringLiteral("USD")).isEmpty());
        QCOMPARE(deposit(frank, frankUsd, QStringLiteral("1.00"))->status, 201);
        QList<Request> requests;
        for (int i = 0; i < 5; ++i)
            requests.append(transferRequest(frank, frankUsd, gina.email, QStringLiteral("0.30")));
        const qint64 before = ledgerTransactions();
        QList<HttpReply> replies;
        concurrently(requests, &replies);
        QCOMPARE(replies.size(), 5);
        QStringList after;
        int refused = 0;
        for (qsizetype i = 0; i < replies.size(); ++i) {
            if (replies[i].status == 409) {
                CHECK(verifyProblem(replies[i], 409));
                QCOMPARE(replies[i].json().value(QLatin1String("type")).toString().section(u'/', -1), QStringLiteral("insufficient-funds"));
                const auto again = call("POST", requests[i].path, requests[i].body, requests[i].token, requests[i].key);
                QVERIFY2(again && again->status == 409, qPrintable(describe(again)));
                QCOMPARE(again->body, replies[i].body);
                QCOMPARE(again->header("idempotent-replayed"), QByteArray("true"));
                ++refused;
            } else {
                QVERIFY2(replies[i].status == 201, qPrintable(QStringLiteral("%1 %2").arg(replies[i].status).arg(QString::fromUtf8(replies[i].body))));
                after.append(replies[i].json().value(QLatin1String("transaction")).toObject().value(QLatin1String("balance_after")).toString());
            }
        }
        QCOMPARE(refused, 2);
        after.sort();
        QCOMPARE(after, QStringList({QStringLiteral("0.10"), QStringLiteral("0.40"), QStringLiteral("0.70")}));
        QCOMPARE(ledgerTransactions(), before + 3);
        QCOMPARE(balanceOf(frank, frankUsd), QStringLiteral("0.10"));
        QCOMPARE(driftingAccounts(), QString());
    }

    void depositsAndWithdrawalsOnOneWalletArePostedTogether()
    {
        // 30 deposits into one wallet at once, then 20 withdrawals of 1.00 from the 15.00 they
        // leave: every deposit goes with its own wallet.deposited event, 15 withdrawals go and 5
        // are 409, checked in turn; deposits share transactions, withdrawals too.
        const User jane = account(QStringLiteral("group-jane@example.com"));
        const QString janeUsd = openWallet(jane, QStringLiteral("USD"));
        QVERIFY(!janeUsd.isEmpty());
        QCOMPARE(deposit(jane, janeUsd, QStringLiteral("0.01"))->status, 201); // the clearing accounts exist
        QVERIFY(withdraw(jane, janeUsd, {{QStringLiteral("amount"), QStringLiteral("0.01")}, {QStringLiteral("destination"), QStringLiteral("x")}})->status == 201);
        const QByteArray depositPath = QStringLiteral("/api/v1/wallets/%1/deposit").arg(janeUsd).toUtf8();
        const QByteArray withdrawPath = QStringLiteral("/api/v1/wallets/%1/withdraw").arg(janeUsd).toUtf8();
        const qint64 mark = m_cluster.sql(QStringLiteral("SELECT coalesce(max(id), 0) FROM host_outbox")).toLongLong();
        const qint64 before = ledgerTransactions();
        QList<Request> deposits;
        for (int i = 0; i < 30; ++i)
            deposits.append({depositPath, compact({{QStringLiteral("amount"), QStringLiteral("0.50")}}), jane.token, freshKey()});
        QList<HttpReply> replies;
        concurrently(deposits, &replies);
        QCOMPARE(replies.size(), 30);
        QSet<QString> depositIds;
        for (const HttpReply &r : std::as_const(replies)) {
            QVERIFY2(r.status == 201, qPrintable(QStringLiteral("%1 %2").arg(r.status).arg(QString::fromUtf8(r.body))));
            CHECK(verifyEntry(r.json().value(QLatin1String("transaction")).toObject(), QStringLiteral("deposit"), QStringLiteral("0.50"),
                              r.json().value(QLatin1String("wallet")).toObject().value(QLatin1String("balance")).toString()));
            depositIds.insert(r.json().value(QLatin1String("transaction")).toObject().value(QLatin1String("id")).toString());
        }
        QCOMPARE(depositIds.size(), 30);
        QCOMPARE(balanceOf(jane, janeUsd), QStringLiteral("15.00"));
        // One wallet.deposited per deposit, naming its transaction.
        QStringList events = m_cluster.sql(QStringLiteral("SELECT data->>'transaction_id' FROM host_outbox WHERE id > %1 AND topic = 'wallet.deposited' "
                                                          "AND data->>'amount' = '0.50' AND data->>'wallet_id' = '%2'").arg(mark).arg(janeUsd)).split(u'\n');
        QCOMPARE(QSet<QString>(events.cbegin(), events.cend()), depositIds);
        const QStringList depositList(depositIds.cbegin(), depositIds.cend());
        const qint64 depositTimes = m_cluster.sql(QStringLiteral("SELECT count(DISTINCT created_at) FROM wallets_transaction WHERE id::text = ANY('{%1}')")
                                                      .arg(depositList.join(u','))).toLongLong();
        QVERIFY2(depositTimes < 15, qPrintable(QStringLiteral("%1 transactions for 30 deposits").arg(depositTimes)));

        QList<Request> withdrawals;
        for (int i = 0; i < 20; ++i)
            withdrawals.append({withdrawPath, compact({{QStringLiteral("amount"), QStringLiteral("1.00")}, {QStringLiteral("destination"), QStringLiteral("bank %1").arg(i)}}),
                                jane.token, freshKey()});
        replies.clear();
        concurrently(withdrawals, &replies);
        QCOMPARE(replies.size(), 20);
        QStringList after;
        for (qsizetype i = 0; i < replies.size(); ++i) {
            if (replies[i].status == 409) {
                CHECK(verifyProblem(replies[i], 409));
                continue;
            }
            QVERIFY2(replies[i].status == 201, qPrintable(QStringLiteral("%1 %2").arg(replies[i].status).arg(QString::fromUtf8(replies[i].body))));
            const QString id = replies[i].json().value(QLatin1String("transaction")).toObject().value(QLatin1String("id")).toString();
            after.append(replies[i].json().value(QLatin1String("transaction")).toObject().value(QLatin1String("balance_after")).toString());
            // The destination is kept with the movement.
            QCOMPARE(m_cluster.sql(QStringLiteral("SELECT metadata->>'destination' FROM wallets_transaction WHERE id = '%1'").arg(id)), QStringLiteral("bank %1").arg(i));
        }
        QCOMPARE(after.size(), 15);
        QCOMPARE(QSet<QString>(after.cbegin(), after.cend()).size(), 15); // 14.00 down to 0.00, each once
        QCOMPARE(balanceOf(jane, janeUsd), QStringLiteral("0.00"));
        QCOMPARE(ledgerTransactions(), before + 45);
        QCOMPARE(unbalancedCurrencies(), QString());
        QCOMPARE(driftingAccounts(), QString());
    }

    void usedKeysAmongNewTransfersReplayOrAre422()
    {
        // A key used before arrives again among new transfers, with its own body (a replay) and
        // with another body (422): neither moves money; the new transfers all go.
        const User hank = account(QStringLiteral("group-hank@example.com"));
        const User ida = account(QStringLiteral("group-ida@example.com"));
        const QString hankUsd = openWallet(hank, QStringLiteral("USD"));
        QVERIFY(!openWallet(ida, QStringLiteral("USD")).isEmpty());
        QCOMPARE(deposit(hank, hankUsd, QStringLiteral("10.00"))->status, 201);
        const Request first = transferRequest(hank, hankUsd, ida.email, QStringLiteral("1.00"));
        const auto original = call("POST", first.path, first.body, first.token, first.key);
        QVERIFY2(original && original->status == 201, qPrintable(describe(original)));
        const qint64 before = ledgerTransactions();
        QList<Request> requests;
        for (int i = 0; i < 24; ++i) {
            if (i % 4 == 1) {
                requests.append(first);
            } else if (i % 4 == 3) {
                Request other = transferRequest(hank, hankUsd, ida.email, QStringLiteral("2.00"));
                other.key = first.key;
                requests.append(other);
            } else {
                requests.append(transferRequest(hank, hankUsd, ida.email, QStringLiteral("0.10")));
            }
        }
        QList<HttpReply> replies;
        concurrently(requests, &replies);
        QCOMPARE(replies.size(), requests.size());
        for (qsizetype i = 0; i < replies.size(); ++i) {
            const HttpReply &r = replies[i];
            if (i % 4 == 1) {
                QCOMPARE(r.status, 201);
                QCOMPARE(r.body, original->body);
                QCOMPARE(r.header("idempotent-replayed"), QByteArray("true"));
            } else if (i % 4 == 3) {
                CHECK(verifyProblem(r, 422));
            } else {
                QVERIFY2(r.status == 201 && r.header("idempotent-replayed").isEmpty(), qPrintable(QStringLiteral("%1 %2").arg(r.status).arg(QString::fromUtf8(r.body))));
            }
        }
        QCOMPARE(ledgerTransactions(), before + 12);
        QCOMPARE(balanceOf(hank, hankUsd), QStringLiteral("7.80"));
        QCOMPARE(driftingAccounts(), QString());
    }

    // --- history ---

    void historyIsNewestFirstAndPaged()
    {
        const User dave = account(QStringLiteral("dave@example.com"));
        QVERIFY(!dave.token.isEmpty());
        const QString wallet = openWallet(dave, QStringLiteral("EUR"));
        QVERIFY(!wallet.isEmpty());
        QCOMPARE(history(dave, wallet, 10), QJsonArray());
        // 12 movements: deposits of 1..10, a withdrawal, a transfer out, and one transfer in.
        QStringList ids;
        for (int i = 1; i <= 10; ++i) {
            const auto r = deposit(dave, wallet, {{QStringLiteral("amount"), QStringLiteral("%1.00").arg(i)}, {QStringLiteral("reference"), QStringLiteral("d%1").arg(i)}});
            QVERIFY2(r && r->status == 201, qPrintable(describe(r)));
            ids.prepend(r->json().value(QLatin1String("transaction")).toObject().value(QLatin1String("id")).toString());
        }
        const auto w = withdraw(dave, wallet, {{QStringLiteral("amount"), QStringLiteral("5.50")}, {QStringLiteral("destination"), QStringLiteral("x")}});
        QVERIFY2(w && w->status == 201, qPrintable(describe(w)));
        ids.prepend(w->json().value(QLatin1String("transaction")).toObject().value(QLatin1String("id")).toString());
        const auto t = transfer(dave, wallet, m_bob.email, QStringLiteral("0.50"));
        QVERIFY2(t && t->status == 201, qPrintable(describe(t)));
        ids.prepend(t->json().value(QLatin1String("transaction")).toObject().value(QLatin1String("id")).toString());
        const auto in = transfer(m_bob, m_bobEur, dave.email, QStringLiteral("1.25"));
        QVERIFY2(in && in->status == 201, qPrintable(describe(in)));
        ids.prepend(in->json().value(QLatin1String("transaction")).toObject().value(QLatin1String("id")).toString());

        int pages = 0;
        const QJsonArray all = history(dave, wallet, 500, &pages);
        QCOMPARE(pages, 1);
        QCOMPARE(all.size(), 13);
        QStringList got;
        for (const QJsonValue &e : all)
            got.append(e.toObject().value(QLatin1String("id")).toString());
        QCOMPARE(got, ids);
        CHECK(verifyEntry(all[0].toObject(), QStringLiteral("transfer_in"), QStringLiteral("1.25"), QStringLiteral("50.25")));
        CHECK(verifyEntry(all[1].toObject(), QStringLiteral("transfer_out"), QStringLiteral("-0.50"), QStringLiteral("49.00")));
        CHECK(verifyEntry(all[2].toObject(), QStringLiteral("withdrawal"), QStringLiteral("-5.50"), QStringLiteral("49.50")));
        CHECK(verifyEntry(all[3].toObject(), QStringLiteral("deposit"), QStringLiteral("10.00"), QStringLiteral("55.00"), QStringLiteral("d10")));
        CHECK(verifyEntry(all[12].toObject(), QStringLiteral("deposit"), QStringLiteral("1.00"), QStringLiteral("1.00"), QStringLiteral("d1")));
        // Each row's balance_after is the older row's plus its amount; times never go forward.
        for (qsizetype i = 0; i + 1 < all.size(); ++i) {
            const QJsonObject e = all[i].toObject(), older = all[i + 1].toObject();
            QCOMPARE(qRound64(e.value(QLatin1String("balance_after")).toString().toDouble() * 100),
                     qRound64((older.value(QLatin1String("balance_after")).toString().toDouble() + e.value(QLatin1String("amount")).toString().toDouble()) * 100));
            QVERIFY(QDateTime::fromString(e.value(QLatin1String("created_at")).toString(), Qt::ISODateWithMs)
                    >= QDateTime::fromString(older.value(QLatin1String("created_at")).toString(), Qt::ISODateWithMs));
        }
        QCOMPARE(balanceOf(dave, wallet), QStringLiteral("50.25"));
        // Pages of 5, 4, 1 and 13: the same rows in the same order, and no empty last page.
        for (int limit : {5, 4, 1, 13}) {
            int n = 0;
            QCOMPARE(history(dave, wallet, limit, &n), all);
            QCOMPARE(n, int((all.size() + limit - 1) / limit));
        }
        // A full last page says next: null (limit + 1 rows were asked for).
        const auto exact = get(QStringLiteral("/api/v1/wallets/%1/transactions?limit=13").arg(wallet), dave);
        QVERIFY(exact && exact->status == 200);
        QVERIFY(exact->json().value(QLatin1String("next")).isNull());
        // A movement after the first page was read does not shift the pages that follow.
        const auto first = get(QStringLiteral("/api/v1/wallets/%1/transactions?limit=5").arg(wallet), dave);
        QVERIFY(first && first->status == 200);
        const QString cursor = first->json().value(QLatin1String("next")).toString();
        QVERIFY(!cursor.isEmpty());
        QVERIFY(deposit(dave, wallet, QStringLiteral("0.01"))->status == 201);
        const auto second = get(QStringLiteral("/api/v1/wallets/%1/transactions?limit=5&cursor=%2").arg(wallet, QString::fromLatin1(QUrl::toPercentEncoding(cursor))), dave);
        QVERIFY2(second && second->status == 200, qPrintable(describe(second)));
        QCOMPARE(second->json().value(QLatin1String("results")).toArray().first().toObject().value(QLatin1String("id")).toString(), ids[5]);
        // A cursor is bound to its list: on another wallet's history it is 422, and so is a bad limit.
        const QString other = openWallet(dave, QStringLiteral("USD"));
        CHECK(verifyProblem(get(QStringLiteral("/api/v1/wallets/%1/transactions?cursor=%2").arg(other, QString::fromLatin1(QUrl::toPercentEncoding(cursor))), dave), 422));
        CHECK(verifyProblem(get(QStringLiteral("/api/v1/wallets/%1/transactions?limit=0").arg(wallet), dave), 422));
        CHECK(verifyProblem(get(QStringLiteral("/api/v1/wallets/%1/transactions?limit=abc").arg(wallet), dave), 422));
        // The other user cannot read it with a valid cursor either.
        CHECK(verifyProblem(get(QStringLiteral("/api/v1/wallets/%1/transactions?limit=5&cursor=%2").arg(wallet, QString::fromLatin1(QUrl::toPercentEncoding(cursor))), m_alice), 404));
    }

    // --- the database's own guarantees ---

    void theDatabaseRefusesAnUnbalancedTransaction()
    {
        const QString deposits = m_cluster.sql(QStringLiteral("SELECT id FROM wallets_account WHERE system_name = 'deposits' AND currency = 'USD'"));
        const QString eurDeposits = m_cluster.sql(QStringLiteral("SELECT id FROM wallets_account WHERE system_name = 'deposits' AND currency = 'EUR'"));
        QVERIFY(!deposits.isEmpty() && !eurDeposits.isEmpty());
        const qint64 before = ledgerTransactions();
        const QString entriesBefore = m_cluster.sql(QStringLiteral("SELECT count(*) FROM wallets_entry"));
        const QString balanceBefore = balanceOf(m_alice, m_aliceUsd);

        // One leg: +1.00 into alice's wallet from nowhere (balance updated too, as a forger would).
        const QString id1 = QUuid::createUuid().toString(QUuid::WithoutBraces);
        QString error = sqlError(QStringLiteral(
            "BEGIN;"
            "INSERT INTO wallets_transaction (id, kind) VALUES ('%1', 'deposit');"
            "INSERT INTO wallets_entry (transaction_id, account_id, currency, kind, amount, balance_after) "
            "  SELECT '%1', id, currency, 'deposit', 1.00, balance + 1.00 FROM wallets_account WHERE id = '%2';"
            "UPDATE wallets_account SET balance = balance + 1.00 WHERE id = '%2';"
            "COMMIT;").arg(id1, m_aliceUsd));
        QVERIFY2(error.contains(QLatin1String("23514")), qPrintable(error));
        QVERIFY2(error.contains(QLatin1String("wallets_entry_balanced")), qPrintable(error));

        // Two legs that sum to zero overall but not per currency: +1 USD, -1 EUR.
        const QString id2 = QUuid::createUuid().toString(QUuid::WithoutBraces);
        error = sqlError(QStringLiteral(
            "BEGIN;"
            "INSERT INTO wallets_transaction (id, kind) VALUES ('%1', 'deposit');"
            "INSERT INTO wallets_entry (transaction_id, account_id, currency, kind, amount, balance_after) VALUES "
            "  ('%1', '%2', 'USD', 'deposit', 1, 1), ('%1', '%3', 'EUR', 'deposit', -1, -1);"
            "COMMIT;").arg(id2, m_aliceUsd, eurDeposits));
        QVERIFY2(error.contains(QLatin1String("23514")) && error.contains(QLatin1String("wallets_entry_balanced")), qPrintable(error));

        // A leg in another currency than its account's is refused at once (the composite key).
        const QString id3 = QUuid::createUuid().toString(QUuid::WithoutBraces);
        error = sqlError(QStringLiteral(
            "BEGIN;"
            "INSERT INTO wallets_transaction (id, kind) VALUES ('%1', 'deposit');"
            "INSERT INTO wallets_entry (transaction_id, account_id, currency, kind, amount, balance_after) VALUES "
            "  ('%1', '%2', 'EUR', 'deposit', 1, 1), ('%1', '%3', 'EUR', 'deposit', -1, -1);"
            "COMMIT;").arg(id3, m_aliceUsd, eurDeposits));
        QVERIFY2(error.contains(QLatin1String("23503")), qPrintable(error)); // foreign_key_violation
        QVERIFY2(error.contains(QLatin1String("wallets_entry_account_id_currency_fkey")), qPrintable(error));

        // Legs naming a transaction that does not exist, or an account that does not: refused at once.
        error = sqlError(QStringLiteral(
            "BEGIN;"
            "INSERT INTO wallets_entry (transaction_id, account_id, currency, kind, amount, balance_after) VALUES "
            "  ('%1', '%2', 'USD', 'deposit', 1, 1), ('%1', '%3', 'USD', 'deposit', -1, -1);"
            "COMMIT;").arg(QUuid::createUuid().toString(QUuid::WithoutBraces), m_aliceUsd, deposits));
        QVERIFY2(error.contains(QLatin1String("23503")) && error.contains(QLatin1String("wallets_entry_transaction_id_fkey")), qPrintable(error));
        error = sqlError(QStringLiteral(
            "BEGIN;"
            "INSERT INTO wallets_transaction (id, kind) VALUES ('%1', 'deposit');"
            "INSERT INTO wallets_entry (transaction_id, account_id, currency, kind, amount, balance_after) VALUES "
            "  ('%1', '%2', 'USD', 'deposit', 1, 1), ('%1', '%3', 'USD', 'deposit', -1, -1);"
            "COMMIT;").arg(QUuid::createUuid().toString(QUuid::WithoutBraces), QUuid::createUuid().toString(QUuid::WithoutBraces), deposits));
        QVERIFY2(error.contains(QLatin1String("23503")) && error.contains(QLatin1String("wallets_entry_account_id_currency_fkey")), qPrintable(error));

        // The legs of one transaction in two statements: the first is refused at once, although
        // the second would have balanced it (the check is per statement).
        error = sqlError(QStringLiteral(
            "BEGIN;"
            "INSERT INTO wallets_transaction (id, kind) VALUES ('%1', 'deposit');"
            "INSERT INTO wallets_entry (transaction_id, account_id, currency, kind, amount, balance_after) VALUES ('%1', '%2', 'USD', 'deposit', 1, 1);"
            "INSERT INTO wallets_entry (transaction_id, account_id, currency, kind, amount, balance_after) VALUES ('%1', '%3', 'USD', 'deposit', -1, -1);"
            "ROLLBACK;").arg(QUuid::createUuid().toString(QUuid::WithoutBraces), m_aliceUsd, deposits));
        QVERIFY2(error.contains(QLatin1String("23514")) && error.contains(QLatin1String("wallets_entry_balanced")), qPrintable(error));

        // A balanced pair in one statement passes the trigger (then rolled back).
        error = sqlError(QStringLiteral(
            "BEGIN;"
            "INSERT INTO wallets_transaction (id, kind) VALUES ('%1', 'deposit');"
            "INSERT INTO wallets_entry (transaction_id, account_id, currency, kind, amount, balance_after) VALUES "
            "  ('%1', '%2', 'USD', 'deposit', 1, 1), ('%1', '%3', 'USD', 'deposit', -1, -1);"
            "ROLLBACK;").arg(QUuid::createUuid().toString(QUuid::WithoutBraces), m_aliceUsd, deposits));
        QVERIFY2(error.isEmpty(), qPrintable(error));

        QCOMPARE(ledgerTransactions(), before);
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(*) FROM wallets_entry")), entriesBefore);
        QCOMPARE(balanceOf(m_alice, m_aliceUsd), balanceBefore);
        // A wallet cannot go below zero even by hand.
        error = sqlError(QStringLiteral("UPDATE wallets_account SET balance = -0.01 WHERE id = '%1'").arg(m_aliceUsd));
        QVERIFY2(error.contains(QLatin1String("23514")) && error.contains(QLatin1String("wallets_account_wallet_not_negative")), qPrintable(error));
        QCOMPARE(unbalancedCurrencies(), QString());
        QCOMPARE(driftingAccounts(), QString());
    }

    void entriesAreAppendOnly()
    {
        const QString entry = m_cluster.sql(QStringLiteral("SELECT min(id) FROM wallets_entry WHERE account_id = '%1'").arg(m_aliceUsd));
        QVERIFY(!entry.isEmpty());
        const QString row = m_cluster.sql(QStringLiteral("SELECT amount || '|' || balance_after FROM wallets_entry WHERE id = %1").arg(entry));
        QString error = sqlError(QStringLiteral("UPDATE wallets_entry SET amount = amount * 1000, balance_after = balance_after * 1000 WHERE id = %1").arg(entry));
        QVERIFY2(error.contains(QLatin1String("23514")) && error.contains(QLatin1String("wallets_entry_append_only")), qPrintable(error));
        error = sqlError(QStringLiteral("DELETE FROM wallets_entry WHERE id = %1").arg(entry));
        QVERIFY2(error.contains(QLatin1String("wallets_entry_append_only")), qPrintable(error));
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT amount || '|' || balance_after FROM wallets_entry WHERE id = %1").arg(entry)), row);
        error = sqlError(QStringLiteral("TRUNCATE wallets_entry"));
        QVERIFY2(error.contains(QLatin1String("wallets_entry_append_only")), qPrintable(error));

        // Their transactions too, and their accounts stay under their id and currency: the
        // halves of the entries' foreign keys that the per-statement check does not cover.
        const QString tx = m_cluster.sql(QStringLiteral("SELECT transaction_id FROM wallets_entry WHERE id = %1").arg(entry));
        error = sqlError(QStringLiteral("UPDATE wallets_transaction SET reference = 'forged' WHERE id = '%1'").arg(tx));
        QVERIFY2(error.contains(QLatin1String("23514")) && error.contains(QLatin1String("wallets_transaction_append_only")), qPrintable(error));
        error = sqlError(QStringLiteral("DELETE FROM wallets_transaction WHERE id = '%1'").arg(tx));
        QVERIFY2(error.contains(QLatin1String("wallets_transaction_append_only")), qPrintable(error));
        error = sqlError(QStringLiteral("TRUNCATE wallets_transaction CASCADE"));
        QVERIFY2(error.contains(QLatin1String("wallets_transaction_append_only")), qPrintable(error));
        error = sqlError(QStringLiteral("DELETE FROM wallets_account WHERE id = '%1'").arg(m_aliceUsd));
        QVERIFY2(error.contains(QLatin1String("23503")) && error.contains(QLatin1String("wallets_entry_account_id_currency_fkey")), qPrintable(error));
        error = sqlError(QStringLiteral("UPDATE wallets_account SET currency = 'EUR' WHERE id = '%1'").arg(m_aliceUsd));
        QVERIFY2(error.contains(QLatin1String("23503")), qPrintable(error));
        error = sqlError(QStringLiteral("UPDATE wallets_account SET id = gen_random_uuid() WHERE id = '%1'").arg(m_aliceUsd));
        QVERIFY2(error.contains(QLatin1String("23503")), qPrintable(error));
        error = sqlError(QStringLiteral("TRUNCATE wallets_account CASCADE"));
        QVERIFY2(error.contains(QLatin1String("23503")), qPrintable(error));
        // Setting them to what they are is no change.
        error = sqlError(QStringLiteral("BEGIN; UPDATE wallets_account SET currency = currency, id = id WHERE id = '%1'; ROLLBACK;").arg(m_aliceUsd));
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT currency FROM wallets_account WHERE id = '%1'").arg(m_aliceUsd)), QStringLiteral("USD"));
        QVERIFY(m_cluster.sql(QStringLiteral("SELECT reference FROM wallets_transaction WHERE id = '%1'").arg(tx)) != QLatin1String("forged"));
    }

    // --- events ---

    void aTransferPublishesWalletUpdatedForBothSides()
    {
        const QString bobUsd = m_cluster.sql(QStringLiteral("SELECT id FROM wallets_account WHERE user_id = '%1' AND currency = 'USD'").arg(m_bob.id));
        QVERIFY(!bobUsd.isEmpty());
        const qint64 last = m_cluster.sql(QStringLiteral("SELECT coalesce(max(id), 0) FROM host_outbox")).toLongLong();
        const auto r = transfer(m_alice, m_aliceUsd, m_bob.email, QStringLiteral("1.11"));
        QVERIFY2(r && r->status == 201, qPrintable(describe(r)));
        const QString rows = m_cluster.sql(QStringLiteral("SELECT user_id || '|' || (data->>'wallet_id') || '|' || (data->>'balance') || '|' || (data->>'currency') "
                                                          "FROM host_outbox WHERE id > %1 AND topic = 'wallet.updated' ORDER BY user_id").arg(last));
        QStringList expected{QStringLiteral("%1|%2|%3|USD").arg(m_alice.id, m_aliceUsd, balanceOf(m_alice, m_aliceUsd)),
                             QStringLiteral("%1|%2|%3|USD").arg(m_bob.id, bobUsd, balanceOf(m_bob, bobUsd))};
        expected.sort();
        QCOMPARE(rows.split(u'\n'), expected);
        // The event's balance is the reply's.
        QVERIFY(rows.contains(r->json().value(QLatin1String("wallet")).toObject().value(QLatin1String("balance")).toString()));
        // A deposit publishes one (the system account is nobody's); a refusal publishes none.
        const qint64 mark = m_cluster.sql(QStringLiteral("SELECT coalesce(max(id), 0) FROM host_outbox")).toLongLong();
        QVERIFY(deposit(m_alice, m_aliceUsd, QStringLiteral("1.00"))->status == 201);
        CHECK(verifyProblem(withdraw(m_alice, m_aliceUsd, {{QStringLiteral("amount"), QStringLiteral("99999999.00")}, {QStringLiteral("destination"), QStringLiteral("x")}}), 409));
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(*) FROM host_outbox WHERE id > %1 AND topic = 'wallet.updated'").arg(mark)), QStringLiteral("1"));
    }

    // --- production mode ---

    void depositsAreRefusedOutsideSandboxMode()
    {
        QProcessEnvironment production;
        production.insert(QStringLiteral("YIELDHOST_SANDBOX"), QStringLiteral("0"));
        std::unique_ptr<HostProcess> host = m_cluster.start({QStringLiteral("serve")}, production);
        QVERIFY(host);
        QVERIFY2(host->waitReady(60000), qPrintable(host->output().right(2000)));
        const qint64 before = ledgerTransactions();
        const Headers headers{{QByteArrayLiteral("Authorization"), QByteArray("Bearer " + m_alice.token)}, {QByteArrayLiteral("Idempotency-Key"), freshKey()}};
        const auto r = HttpClient::request(host->host(), host->port(), "POST", QStringLiteral("/api/v1/wallets/%1/deposit").arg(m_aliceUsd).toUtf8(),
                                           R"({"amount":"5.00"})", "application/json", headers);
        CHECK(verifyProblem(r, 403));
        QVERIFY2(r->json().value(QLatin1String("type")).toString().endsWith(QLatin1String("/deposits-disabled")), r->body.constData());
        // Withdrawals and transfers still work there.
        const Headers headers2{{QByteArrayLiteral("Authorization"), QByteArray("Bearer " + m_alice.token)}, {QByteArrayLiteral("Idempotency-Key"), freshKey()}};
        const auto w = HttpClient::request(host->host(), host->port(), "POST", QStringLiteral("/api/v1/wallets/%1/withdraw").arg(m_aliceUsd).toUtf8(),
                                           R"({"amount":"1.00","destination":"x"})", "application/json", headers2);
        QVERIFY2(w && w->status == 201, qPrintable(describe(w)));
        QCOMPARE(ledgerTransactions(), before + 1);
        QVERIFY2(host->terminate() == 0, qPrintable(host->output().right(3000)));
    }

    // --- last: it leaves a huge balance in GBP (the other tests use USD, EUR, BTC and ETH) ---

    void hugeAmountsAreRefusedNotAServerError()
    {
        // A movement of a trillion or more is refused outright, so one client cannot push the
        // shared deposits clearing account towards the 38 digits a balance holds.
        const User erin = account(QStringLiteral("erin@example.com"));
        const QString gbp = openWallet(erin, QStringLiteral("GBP"));
        QVERIFY(!gbp.isEmpty());
        const qint64 before = ledgerTransactions();
        for (const QString &huge : {QStringLiteral("999999999999999999999999999999999999.99"), QStringLiteral("1000000000000"),
                                    QStringLiteral("1000000000000.00")}) {
            const auto r = deposit(erin, gbp, huge);
            CHECK(verifyProblem(r, 422));
            QVERIFY2(r->json().value(QLatin1String("errors")).toObject().contains(QLatin1String("amount")), r->body.constData());
        }
        QCOMPARE(ledgerTransactions(), before);
        // Just under the cap is accepted, twice: the clearing account holds the sum.
        for (int i = 0; i < 2; ++i) {
            const auto r = deposit(erin, gbp, QStringLiteral("999999999999.99"));
            QVERIFY2(r && r->status == 201, qPrintable(describe(r)));
        }
        // An ordinary deposit by somebody else still works.
        const User frank = account(QStringLiteral("frank@example.com"));
        const QString frankGbp = openWallet(frank, QStringLiteral("GBP"));
        QVERIFY(!frankGbp.isEmpty());
        const auto small = deposit(frank, frankGbp, QStringLiteral("1.00"));
        QVERIFY2(small && small->status == 201, qPrintable(describe(small)));
        QCOMPARE(unbalancedCurrencies(), QString());
        QCOMPARE(driftingAccounts(), QString());
    }

    void aBalancePastTheLedgerRangeIsA422()
    {
        // Below the cap, a balance can still only get that close to the edge if the database was
        // changed by hand (or a plugin credits through the Ledger without a cap): the ledger
        // answers OutOfRange and the route a 422, and nothing is written.
        const User gina = account(QStringLiteral("gina@example.com"));
        const QString gbp = openWallet(gina, QStringLiteral("GBP"));
        QVERIFY(!gbp.isEmpty());
        QVERIFY2(deposit(gina, gbp, QStringLiteral("1.00"))->status == 201, "deposit");
        // 1.00 + that = 36 nines and two decimals: the 38 digits a Decimal holds, so one more cent overflows.
        const QString edge = QStringLiteral("999999999999999999999999999999999998");
        QCOMPARE(sqlError(QStringLiteral("UPDATE wallets_account SET balance = balance + %1 WHERE id = '%2'").arg(edge, gbp)), QString());
        const qint64 before = ledgerTransactions();
        const auto r = deposit(gina, gbp, QStringLiteral("1.00"));
        CHECK(verifyProblem(r, 422));
        QCOMPARE(ledgerTransactions(), before);
        QCOMPARE(sqlError(QStringLiteral("UPDATE wallets_account SET balance = balance - %1 WHERE id = '%2'").arg(edge, gbp)), QString());
        QCOMPARE(driftingAccounts(), QString());
    }
};

QTEST_GUILESS_MAIN(TestWallets)
#include "tst_wallets.moc"
