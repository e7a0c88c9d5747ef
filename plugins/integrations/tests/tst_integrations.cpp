// The integrations plugin end to end: a `serve` and a `worker --queues rates,default` process of
// the real binary against one real PostgreSQL, with CoinGecko played by fake_coingecko.py on
// loopback (its exact reply format, prices written as number text such as 1.05e-05). Covered:
// the currency list and staff-only creation with its validation; 503 + Retry-After before any
// rate exists and once the rates are older than rates_max_age_seconds; what integrations.
// update_rates asks CoinGecko (ids, vs_currencies, the demo key header); the stored USD values
// and every ordered pair of currencies converted exactly as an independent computation
// (expected_conversions.py, Python's decimal at 100 digits) says; 422 for bad input, never 500;
// failed runs (HTTP 500, a timeout, a truncated body, 429 with its Retry-After honoured) that
// keep the last good rates and are retried; and the mock settlement: a rolled-back batch leaves
// nothing, a committed batch of 1,000 gets distinct deterministic hashes that survive a restart
// and are all confirmed by integrations.confirm_settlements.
#include "HostCluster.h"
#include "HostProcess.h"
#include "HttpClient.h"
#include "ProblemCheck.h"

#include <QtCore/QDateTime>
#include <QtCore/QElapsedTimer>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QMap>
#include <QtCore/QRegularExpression>
#include <QtCore/QScopeGuard>
#include <QtCore/QSet>
#include <QtCore/QUuid>
#include <QtTest/QtTest>

using namespace yieldhost::test;

#ifndef INTEGRATIONS_TEST_DIR
#error "INTEGRATIONS_TEST_DIR must name plugins/integrations/tests"
#endif

namespace {

using Headers = QList<QPair<QByteArray, QByteArray>>;
using Prices = QMap<QString, QMap<QString, QString>>; // coin id -> vs currency -> number text

QByteArray compact(const QJsonObject &o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); }
QString script(const char *name) { return QStringLiteral(INTEGRATIONS_TEST_DIR "/") + QLatin1String(name); }

struct Seeded
{
    const char *code;
    const char *kind;
    int decimals;
    const char *coingeckoId; // nullptr for fiat
};
// The migration's currencies, plus SOL which currenciesCanBeAddedByStaff adds.
constexpr Seeded kCurrencies[] = {
    {"USD", "fiat", 2, nullptr},   {"EUR", "fiat", 2, nullptr},  {"GBP", "fiat", 2, nullptr},    {"BTC", "crypto", 8, "bitcoin"},
    {"ETH", "crypto", 18, "ethereum"}, {"USDT", "crypto", 6, "tether"}, {"SOL", "crypto", 9, "solana"},
};
const QStringList kFiat{QStringLiteral("usd"), QStringLiteral("eur"), QStringLiteral("gbp")};

// Added by aCurrencyAddedLaterIsUnavailableUntilTheNextRun, after everything else.
constexpr Seeded kLater = {"CHF", "fiat", 2, nullptr};

int decimalsOf(const QString &code)
{
    for (const Seeded &c : kCurrencies)
        if (code == QLatin1String(c.code))
            return c.decimals;
    return code == QLatin1String(kLater.code) ? kLater.decimals : -1;
}

// "100" at 2 decimals is "100.00" (the amounts given here never have more than `decimals`).
QString atDecimals(QString amount, int decimals)
{
    const qsizetype point = amount.indexOf(u'.');
    const qsizetype have = point < 0 ? 0 : amount.size() - point - 1;
    if (decimals > 0 && point < 0)
        amount += u'.';
    return amount + QString(decimals - have, u'0');
}

// An RFC 3339 timestamp, as every time in the API is written.
bool isRfc3339(const QJsonValue &v)
{
    static const QRegularExpression rfc3339(QStringLiteral("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?(Z|[+-]\\d\\d:\\d\\d)$"));
    return v.isString() && rfc3339.match(v.toString()).hasMatch() && QDateTime::fromString(v.toString(), Qt::ISODateWithMs).isValid();
}

} // namespace

class TestIntegrations : public QObject
{
    Q_OBJECT

    HostCluster m_cluster;
    QProcess m_fake;
    quint16 m_fakePort = 0;
    std::unique_ptr<HostProcess> m_api;
    std::unique_ptr<HostProcess> m_worker;
    QByteArray m_staff;
    QByteArray m_user;
    QString m_userId;
    Prices m_prices;                  // what the fake answers now
    QMap<QString, QString> m_usd;     // the USD values the plugin must store for m_prices
    QStringList m_firstHashes;        // the receipts of the committed settlement batch
    QStringList m_fiat{QStringLiteral("EUR"), QStringLiteral("GBP")}; // valued through a coin

    // --- the host ---

    std::optional<HttpReply> call(const QByteArray &method, const QByteArray &path, const QByteArray &body = {}, const QByteArray &token = {})
    {
        const Headers headers = token.isEmpty() ? Headers{} : Headers{{QByteArrayLiteral("Authorization"), QByteArray("Bearer " + token)}};
        return HttpClient::request(m_api->host(), m_api->port(), method, path, body, "application/json", headers);
    }
    std::optional<HttpReply> convert(const QString &amount, const QString &from, const QString &to)
    {
        return call("GET", QStringLiteral("/api/v1/convert?amount=%1&from=%2&to=%3").arg(amount, from, to).toUtf8());
    }
    QByteArray login(const QString &email, const QString &password)
    {
        const auto r = call("POST", "/api/v1/auth/token", compact({{QStringLiteral("email"), email}, {QStringLiteral("password"), password}}));
        return r && r->status == 200 ? r->json().value(QLatin1String("access")).toString().toLatin1() : QByteArray();
    }
    void startHost()
    {
        m_api = m_cluster.start({QStringLiteral("serve")});
        QVERIFY(m_api);
        QVERIFY2(m_api->waitReady(60000), qPrintable(m_api->output().right(2000)));
        m_worker = m_cluster.start({QStringLiteral("worker"), QStringLiteral("--queues"), QStringLiteral("rates,default")});
        QVERIFY(m_worker);
    }
    QString logs() const
    {
        return QStringLiteral("--- serve:\n%1\n--- worker:\n%2").arg(m_api ? m_api->output().right(3000) : QString(), m_worker ? m_worker->output().right(3000) : QString());
    }

    // --- jobs ---

    QString enqueue(const QString &task)
    {
        const auto r = call("POST", "/api/v1/admin/jobs", compact({{QStringLiteral("task"), task}}), m_staff);
        if (!r || r->status != 202) {
            qWarning("enqueue %s: %s", qPrintable(task), qPrintable(describe(r)));
            return {};
        }
        const QJsonValue id = r->json().value(QLatin1String("id"));
        return id.isString() ? id.toString() : QString::number(id.toInteger());
    }
    // "state|attempts|last_error" of job `id`.
    QString job(const QString &id)
    {
        return m_cluster.sql(QStringLiteral("SELECT state, attempts, coalesce(last_error, '') FROM host_job WHERE id = %1").arg(id.toLongLong()));
    }
    void runJob(const QString &task)
    {
        const QString id = enqueue(task);
        QVERIFY(!id.isEmpty());
        QVERIFY2(waitUntil([&] { return job(id).startsWith(QLatin1String("done|")); }, 30000), qPrintable(QString(job(id) + u'\n' + logs())));
    }
    // Waits until job `id` has failed at least once and is not done (pending for a retry, or
    // failed for good); returns its last_error.
    QString waitForFailure(const QString &id)
    {
        QString row;
        const bool failed = waitUntil([&] {
            row = job(id);
            const QStringList f = row.split(u'|');
            return f.size() >= 3 && f[1].toInt() >= 1
                && ((f[0] == QLatin1String("pending") && !f[2].isEmpty()) || f[0] == QLatin1String("failed") || f[0] == QLatin1String("done")
                    || f[0] == QLatin1String("cancelled"));
        }, 30000);
        if (!failed || !(row.startsWith(QLatin1String("pending|")) || row.startsWith(QLatin1String("failed|")))) {
            qWarning("job %s: %s\n%s", qPrintable(id), qPrintable(row), qPrintable(logs()));
            return {};
        }
        return row.section(u'|', 2);
    }

    // --- the fake CoinGecko ---

    std::optional<HttpReply> fake(const QByteArray &method, const QByteArray &path, const QByteArray &body = {})
    {
        return HttpClient::request(QStringLiteral("127.0.0.1"), m_fakePort, method, path, body);
    }
    void configureFake(const QJsonObject &config)
    {
        const auto r = fake("POST", "/_fake/config", compact(config));
        QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
    }
    // Sets these prices in the fake (and in m_prices; a null QString removes one) and computes
    // the USD values they mean.
    void setPrices(const Prices &prices)
    {
        QJsonObject coins;
        for (auto coin = prices.cbegin(); coin != prices.cend(); ++coin) {
            QJsonObject vs;
            for (auto p = coin->cbegin(); p != coin->cend(); ++p) {
                if (p.value().isNull()) { // no longer priced in this currency
                    vs.insert(p.key(), QJsonValue::Null);
                    m_prices[coin.key()].remove(p.key());
                } else {
                    vs.insert(p.key(), p.value());
                    m_prices[coin.key()][p.key()] = p.value();
                }
            }
            coins.insert(coin.key(), vs);
        }
        CHECK(configureFake({{QStringLiteral("mode"), QStringLiteral("ok")}, {QStringLiteral("prices"), coins}}));
        CHECK(computeUsdValues());
    }
    QJsonArray fakeRequests()
    {
        const auto r = fake("GET", "/_fake/requests");
        return r && r->status == 200 ? QJsonDocument::fromJson(r->body).array() : QJsonArray();
    }

    // --- the expected values (expected_conversions.py) ---

    static QJsonArray expected(const QJsonObject &input)
    {
        QProcess p;
        p.start(QStringLiteral("python3"), {script("expected_conversions.py")});
        if (!p.waitForStarted(10000))
            return {};
        p.write(compact(input));
        p.closeWriteChannel();
        if (!p.waitForFinished(60000) || p.exitCode() != 0) {
            qWarning("expected_conversions.py: %s", p.readAllStandardError().constData());
            return {};
        }
        return QJsonDocument::fromJson(p.readAllStandardOutput()).array();
    }
    // The storage rule: p(USD) = 1; a coin's p is its "usd" price (18 decimals at most, half
    // even); a fiat currency's p is usd / fiat price of the reference coin (the crypto currency
    // first by code with both prices), half-even to 18 decimals.
    void computeUsdValues()
    {
        QJsonObject values{{QStringLiteral("ONE"), QStringLiteral("1")}};
        QJsonObject decimals{{QStringLiteral("ONE"), 18}};
        QJsonArray cases;
        QStringList codes;
        auto divide = [&](const QString &code, const QString &numerator, const QString &denominator) {
            const QString from = QStringLiteral("num:") + code;
            const QString to = denominator.isEmpty() ? QStringLiteral("ONE") : QString(QStringLiteral("den:") + code);
            values.insert(from, numerator);
            if (!denominator.isEmpty()) {
                values.insert(to, denominator);
                decimals.insert(to, 18);
            }
            cases.append(QJsonObject{{QStringLiteral("amount"), QStringLiteral("1")}, {QStringLiteral("from"), from}, {QStringLiteral("to"), to}});
            codes.append(code);
        };
        QStringList coins; // crypto currencies by code, with their coin ids
        for (const Seeded &c : kCurrencies)
            if (c.coingeckoId)
                coins.append(QLatin1String(c.code));
        coins.sort();
        auto coinId = [](const QString &code) {
            for (const Seeded &c : kCurrencies)
                if (code == QLatin1String(c.code))
                    return QString::fromLatin1(c.coingeckoId);
            return QString();
        };
        for (const QString &code : coins)
            if (m_prices.value(coinId(code)).contains(QStringLiteral("usd")))
                divide(code, m_prices[coinId(code)][QStringLiteral("usd")], {});
        for (const QString &fiat : std::as_const(m_fiat)) {
            for (const QString &code : coins) {
                const auto &p = m_prices.value(coinId(code));
                if (p.contains(QStringLiteral("usd")) && p.contains(fiat.toLower())) {
                    divide(fiat, p.value(QStringLiteral("usd")), p.value(fiat.toLower()));
                    break;
                }
            }
        }
        const QJsonArray out = expected({{QStringLiteral("usd_values"), values}, {QStringLiteral("decimals"), decimals}, {QStringLiteral("cases"), cases}});
        QCOMPARE(out.size(), cases.size());
        m_usd.clear();
        m_usd.insert(QStringLiteral("USD"), QStringLiteral("1"));
        for (qsizetype i = 0; i < codes.size(); ++i)
            m_usd.insert(codes[i], out[i].toObject().value(QLatin1String("result")).toString());
    }
    // expected_conversions.py's answers for (amount, from, to) triples, with the current m_usd.
    QJsonArray expectedConversions(const QList<std::array<QString, 3>> &triples)
    {
        QJsonObject values, decimals;
        for (auto it = m_usd.cbegin(); it != m_usd.cend(); ++it) {
            values.insert(it.key(), it.value());
            decimals.insert(it.key(), decimalsOf(it.key()));
        }
        QJsonArray cases;
        for (const auto &t : triples)
            cases.append(QJsonObject{{QStringLiteral("amount"), t[0]}, {QStringLiteral("from"), t[1]}, {QStringLiteral("to"), t[2]}});
        return expected({{QStringLiteral("usd_values"), values}, {QStringLiteral("decimals"), decimals}, {QStringLiteral("cases"), cases}});
    }
    // /convert answers exactly what the independent computation says.
    void verifyConversion(const QString &amount, const QString &from, const QString &to, const QJsonObject &want)
    {
        const auto r = convert(amount, from, to);
        const QString what = QStringLiteral("%1 %2 -> %3: %4").arg(amount, from, to, describe(r));
        QVERIFY2(r && r->status == 200, qPrintable(what));
        const QJsonObject c = r->json();
        QVERIFY2(c.value(QLatin1String("result")).isString() && c.value(QLatin1String("rate")).isString(), qPrintable(what));
        QVERIFY2(c.value(QLatin1String("result")).toString() == want.value(QLatin1String("result")).toString(),
                 qPrintable(QString(what + QStringLiteral("\n  expected result %1").arg(want.value(QLatin1String("result")).toString()))));
        QVERIFY2(c.value(QLatin1String("rate")).toString() == want.value(QLatin1String("rate")).toString(),
                 qPrintable(QString(what + QStringLiteral("\n  expected rate %1").arg(want.value(QLatin1String("rate")).toString()))));
        QVERIFY2(c.value(QLatin1String("amount")).toString() == atDecimals(amount, decimalsOf(from)), qPrintable(what));
        QCOMPARE(c.value(QLatin1String("from")).toString(), from);
        QCOMPARE(c.value(QLatin1String("to")).toString(), to);
        QCOMPARE(c.value(QLatin1String("source")).toString(), QStringLiteral("coingecko"));
        QVERIFY2(isRfc3339(c.value(QLatin1String("as_of"))), qPrintable(what));
    }
    // The whole reply of a conversion that must keep answering the same.
    QJsonObject conversionNow(const QString &amount, const QString &from, const QString &to)
    {
        const auto r = convert(amount, from, to);
        if (!r || r->status != 200) {
            qWarning("convert %s %s -> %s: %s", qPrintable(amount), qPrintable(from), qPrintable(to), qPrintable(describe(r)));
            return {};
        }
        return r->json();
    }
    static void verifyUnavailable(const std::optional<HttpReply> &r)
    {
        CHECK(verifyProblem(r, 503));
        bool number = false;
        QVERIFY2(r->header("retry-after").toInt(&number) >= 0 && number, r->header("retry-after").constData());
    }

    // --- the testkit's settlement route ---

    std::optional<HttpReply> settle(QJsonObject body)
    {
        body.insert(QStringLiteral("user_id"), m_userId);
        body.insert(QStringLiteral("currency"), QStringLiteral("USDT"));
        body.insert(QStringLiteral("amount"), QStringLiteral("1.5"));
        return call("POST", "/test/settlements", compact(body));
    }
    QString settlementCount(const QString &where = QStringLiteral("true"))
    {
        return m_cluster.sql(QStringLiteral("SELECT count(*) FROM integrations_settlement WHERE %1").arg(where));
    }
    // The receipts' hashes, in order, checking their shape and status.
    static QStringList hashesOf(const std::optional<HttpReply> &r, int count, const QString &prefix, const QString &status)
    {
        QStringList hashes;
        if (!r || r->status != 200) {
            qWarning("settlements: %s", qPrintable(describe(r)));
            return hashes;
        }
        const QJsonArray receipts = r->json().value(QLatin1String("receipts")).toArray();
        if (receipts.size() != count) {
            qWarning("%lld receipts, expected %d", qlonglong(receipts.size()), count);
            return hashes;
        }
        static const QRegularExpression hash(QStringLiteral("^0x[0-9a-f]{64}$"));
        for (int i = 0; i < count; ++i) {
            const QJsonObject receipt = receipts[i].toObject();
            const QString h = receipt.value(QLatin1String("tx_hash")).toString();
            if (!hash.match(h).hasMatch() || receipt.value(QLatin1String("reference")).toString() != QString(prefix + QString::number(i))
                || receipt.value(QLatin1String("status")).toString() != status) {
                qWarning("receipt %d: %s", i, QJsonDocument(receipt).toJson(QJsonDocument::Compact).constData());
                return {};
            }
            hashes.append(h);
        }
        return hashes;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_fake.setProcessChannelMode(QProcess::MergedChannels);
        m_fake.start(QStringLiteral("python3"), {QStringLiteral("-u"), script("fake_coingecko.py")});
        QVERIFY2(m_fake.waitForStarted(10000), qPrintable(m_fake.errorString()));
        QVERIFY(waitUntil([&] { return m_fake.canReadLine() || m_fake.state() != QProcess::Running; }, 10000));
        const QByteArray first = m_fake.readLine().trimmed();
        QVERIFY2(first.startsWith("PORT "), first.constData());
        m_fakePort = quint16(first.mid(5).toUInt());
        QVERIFY(m_fakePort != 0);

        QString error;
        QVERIFY2(m_cluster.open(&error), qPrintable(error));
        m_cluster.setShared(QStringLiteral("YIELDHOST_COINGECKO_URL"), QStringLiteral("http://127.0.0.1:%1").arg(m_fakePort));
        m_cluster.setShared(QStringLiteral("YIELDHOST_COINGECKO_API_KEY"), QStringLiteral("test-demo-key"));
        m_cluster.setShared(QStringLiteral("YIELDHOST_JOBS__POLL_INTERVAL_MS"), QStringLiteral("200"));
        m_cluster.setShared(QStringLiteral("YIELDHOST_INTEGRATIONS__RATES_TIMEOUT_MS"), QStringLiteral("1500"));
        m_cluster.setShared(QStringLiteral("YIELDHOST_INTEGRATIONS__SETTLEMENT_CONFIRM_SECONDS"), QStringLiteral("2"));
        CHECK(startHost());

        const QString password = QStringLiteral("staff password 0123");
        QString out;
        const int created = HostProcess::runCommand(m_cluster.environment(), {QStringLiteral("createuser"), QStringLiteral("--email"), QStringLiteral("ops@example.com"),
                                                                               QStringLiteral("--staff"), QStringLiteral("--password-stdin")},
                                                    &out, password.toUtf8() + '\n');
        QVERIFY2(created == 0, qPrintable(out.right(2000)));
        m_staff = login(QStringLiteral("ops@example.com"), password);
        QVERIFY(!m_staff.isEmpty());
        const auto reg = call("POST", "/api/v1/auth/register", compact({{QStringLiteral("email"), QStringLiteral("user@example.com")}, {QStringLiteral("password"), password}}));
        QVERIFY2(reg && reg->status == 201, qPrintable(describe(reg)));
        m_user = login(QStringLiteral("user@example.com"), password);
        QVERIFY(!m_user.isEmpty());
        const auto me = call("GET", "/api/v1/users/me", {}, m_user);
        QVERIFY2(me && me->status == 200, qPrintable(describe(me)));
        m_userId = me->json().value(QLatin1String("id")).toString();
        QVERIFY2(!QUuid::fromString(m_userId).isNull(), qPrintable(m_userId));

        CHECK(setPrices({
            {QStringLiteral("bitcoin"), {{QStringLiteral("usd"), QStringLiteral("67187.33")}, {QStringLiteral("eur"), QStringLiteral("61876.12")}, {QStringLiteral("gbp"), QStringLiteral("53123.9")}}},
            {QStringLiteral("ethereum"), {{QStringLiteral("usd"), QStringLiteral("3456.789012345678")}, {QStringLiteral("eur"), QStringLiteral("3183.46")}, {QStringLiteral("gbp"), QStringLiteral("2733.1")}}},
            {QStringLiteral("tether"), {{QStringLiteral("usd"), QStringLiteral("1.0001")}, {QStringLiteral("eur"), QStringLiteral("0.921")}, {QStringLiteral("gbp"), QStringLiteral("0.7907")}}},
            {QStringLiteral("solana"), {{QStringLiteral("usd"), QStringLiteral("1.05e-05")}, {QStringLiteral("eur"), QStringLiteral("9.7E-6")}, {QStringLiteral("gbp"), QStringLiteral("8.3e-6")}}},
        }));
    }

    void cleanupTestCase()
    {
        for (auto *p : {&m_worker, &m_api})
            if (*p)
                QVERIFY2((*p)->terminate() == 0, qPrintable((*p)->output().right(3000)));
        if (m_fake.state() != QProcess::NotRunning) {
            m_fake.kill();
            m_fake.waitForFinished(5000);
        }
    }

    // --- currencies ---

    void currenciesListTheSeededOnes()
    {
        const auto r = call("GET", "/api/v1/currencies");
        QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
        const QJsonObject page = r->json();
        QVERIFY(page.contains(QLatin1String("next")) && page.value(QLatin1String("next")).isNull());
        QMap<QString, QJsonObject> byCode;
        for (const QJsonValue &v : page.value(QLatin1String("results")).toArray())
            byCode.insert(v.toObject().value(QLatin1String("code")).toString(), v.toObject());
        for (const Seeded &c : kCurrencies) {
            if (QLatin1String(c.code) == QLatin1String("SOL"))
                continue;
            const QJsonObject o = byCode.value(QLatin1String(c.code));
            QVERIFY2(!o.isEmpty(), c.code);
            QCOMPARE(o.value(QLatin1String("kind")).toString(), QLatin1String(c.kind));
            QCOMPARE(o.value(QLatin1String("decimals")).toInt(-1), c.decimals);
            QVERIFY2(!o.value(QLatin1String("name")).toString().isEmpty(), c.code);
        }
        QCOMPARE(byCode.value(QStringLiteral("USD")).value(QLatin1String("name")).toString(), QStringLiteral("US Dollar"));
    }

    void currenciesCanBeAddedByStaff()
    {
        const QJsonObject sol{{QStringLiteral("code"), QStringLiteral("SOL")}, {QStringLiteral("name"), QStringLiteral("Solana")}, {QStringLiteral("kind"), QStringLiteral("crypto")},
                              {QStringLiteral("decimals"), 9}, {QStringLiteral("coingecko_id"), QStringLiteral("solana")}};
        verifyProblem(call("POST", "/api/v1/currencies", compact(sol)), 401);
        verifyProblem(call("POST", "/api/v1/currencies", compact(sol), m_user), 403);
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(*) FROM integrations_currency WHERE code = 'SOL'")), QStringLiteral("0"));

        const auto r = call("POST", "/api/v1/currencies", compact(sol), m_staff);
        QVERIFY2(r && r->status == 201, qPrintable(describe(r)));
        const QJsonObject created = r->json();
        QCOMPARE(created.value(QLatin1String("code")).toString(), QStringLiteral("SOL"));
        QCOMPARE(created.value(QLatin1String("name")).toString(), QStringLiteral("Solana"));
        QCOMPARE(created.value(QLatin1String("kind")).toString(), QStringLiteral("crypto"));
        QCOMPARE(created.value(QLatin1String("decimals")).toInt(-1), 9);
        verifyProblem(call("POST", "/api/v1/currencies", compact(sol), m_staff), 409);

        const auto list = call("GET", "/api/v1/currencies");
        QVERIFY2(list && list->status == 200, qPrintable(describe(list)));
        bool listed = false;
        for (const QJsonValue &v : list->json().value(QLatin1String("results")).toArray())
            listed = listed || (v.toObject().value(QLatin1String("code")).toString() == QLatin1String("SOL") && v.toObject().value(QLatin1String("decimals")).toInt() == 9);
        QVERIFY2(listed, list->body.constData());
    }

    void invalidCurrenciesAre422_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("field");
        QTest::newRow("decimals 19") << QByteArray(R"({"code":"ADA","name":"Cardano","kind":"crypto","decimals":19})") << QStringLiteral("decimals");
        QTest::newRow("decimals -1") << QByteArray(R"({"code":"ADA","name":"Cardano","kind":"crypto","decimals":-1})") << QStringLiteral("decimals");
        QTest::newRow("code x") << QByteArray(R"({"code":"x","name":"Cardano","kind":"crypto","decimals":6})") << QStringLiteral("code");
        QTest::newRow("kind metal") << QByteArray(R"({"code":"XAU","name":"Gold","kind":"metal","decimals":2})") << QStringLiteral("kind");
        QTest::newRow("missing name") << QByteArray(R"({"code":"ADA","kind":"crypto","decimals":6})") << QStringLiteral("name");
    }
    void invalidCurrenciesAre422()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, field);
        const auto r = call("POST", "/api/v1/currencies", body, m_staff);
        CHECK(verifyProblem(r, 422));
        const QJsonObject errors = r->json().value(QLatin1String("errors")).toObject();
        QVERIFY2(errors.contains(field), r->body.constData());
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(*) FROM integrations_currency WHERE code IN ('ADA', 'XAU', 'X')")), QStringLiteral("0"));
    }

    // --- rates ---

    void noRatesBeforeTheFirstRun()
    {
        CHECK(verifyUnavailable(convert(QStringLiteral("100"), QStringLiteral("USD"), QStringLiteral("BTC"))));
        CHECK(verifyUnavailable(call("GET", "/api/v1/rates?base=USD")));
    }

    void updateRatesAsksCoinGeckoForEveryCoin()
    {
        QVERIFY(fake("POST", "/_fake/reset").value_or(HttpReply{}).status == 200);
        CHECK(runJob(QStringLiteral("integrations.update_rates")));
        const QJsonArray requests = fakeRequests();
        QVERIFY2(!requests.isEmpty(), "the fake saw no request");
        const QJsonObject request = requests.last().toObject();
        QCOMPARE(request.value(QLatin1String("path")).toString(), QStringLiteral("/api/v3/simple/price"));
        const QJsonObject query = request.value(QLatin1String("query")).toObject();
        const QStringList ids = query.value(QLatin1String("ids")).toString().split(u',');
        for (const char *coin : {"bitcoin", "ethereum", "tether", "solana"})
            QVERIFY2(ids.contains(QLatin1String(coin)), qPrintable(ids.join(u',')));
        const QStringList vs = query.value(QLatin1String("vs_currencies")).toString().toLower().split(u',');
        for (const QString &currency : kFiat)
            QVERIFY2(vs.contains(currency), qPrintable(vs.join(u',')));
        QCOMPARE(request.value(QLatin1String("headers")).toObject().value(QLatin1String("x-cg-demo-api-key")).toString(), QStringLiteral("test-demo-key"));
    }

    void storedUsdValuesFollowTheRule()
    {
        // Numeric equality: 0.0000105 = 0.000010500000000000.
        for (auto it = m_usd.cbegin(); it != m_usd.cend(); ++it) {
            if (it.key() == QLatin1String("USD"))
                continue;
            const QString row = m_cluster.sql(QStringLiteral("SELECT usd_value || '|' || (usd_value = '%2'::numeric) || '|' || source FROM integrations_rate WHERE currency = '%1'")
                                                  .arg(it.key(), it.value()));
            QVERIFY2(row.endsWith(QLatin1String("|true|coingecko")), qPrintable(QStringLiteral("%1: stored %2, expected %3").arg(it.key(), row, it.value())));
        }
    }

    void ratesFromUsd()
    {
        const auto r = call("GET", "/api/v1/rates?base=USD");
        QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
        const QJsonObject table = r->json();
        QCOMPARE(table.value(QLatin1String("base")).toString(), QStringLiteral("USD"));
        QCOMPARE(table.value(QLatin1String("source")).toString(), QStringLiteral("coingecko"));
        const QDateTime asOf = QDateTime::fromString(table.value(QLatin1String("as_of")).toString(), Qt::ISODateWithMs);
        QVERIFY2(isRfc3339(table.value(QLatin1String("as_of"))) && std::abs(asOf.secsTo(QDateTime::currentDateTimeUtc())) < 60, r->body.constData());
        const QJsonObject rates = table.value(QLatin1String("rates")).toObject();
        QVERIFY2(table.value(QLatin1String("unavailable")).toArray().isEmpty(), r->body.constData());
        const QJsonObject sources = table.value(QLatin1String("sources")).toObject();
        for (auto it = sources.begin(); it != sources.end(); ++it)
            QVERIFY2(it.value().toString() == QLatin1String("coingecko"), r->body.constData());
        QList<std::array<QString, 3>> triples;
        for (const Seeded &c : kCurrencies)
            if (QLatin1String(c.code) != QLatin1String("USD"))
                triples.append({QStringLiteral("1"), QStringLiteral("USD"), QLatin1String(c.code)});
        const QJsonArray want = expectedConversions(triples);
        QCOMPARE(want.size(), triples.size());
        for (qsizetype i = 0; i < triples.size(); ++i) {
            const QJsonValue got = rates.value(triples[i][2]);
            QVERIFY2(got.isString(), qPrintable(QString(triples[i][2] + QStringLiteral(": ") + QString::fromUtf8(r->body))));
            QVERIFY2(got.toString() == want[i].toObject().value(QLatin1String("rate")).toString(),
                     qPrintable(QStringLiteral("%1: %2, expected %3").arg(triples[i][2], got.toString(), want[i].toObject().value(QLatin1String("rate")).toString())));
        }
    }

    void everyPairConvertsExactly()
    {
        QList<std::array<QString, 3>> triples;
        for (const Seeded &from : kCurrencies) {
            QStringList amounts{QStringLiteral("100"), QStringLiteral("0.01"), QStringLiteral("12345.67")};
            if (QLatin1String(from.code) == QLatin1String("ETH"))
                amounts << QStringLiteral("1.000000000000000001");
            if (from.decimals >= 8)
                amounts << QStringLiteral("0.00000001");
            for (const Seeded &to : kCurrencies)
                if (from.code != to.code)
                    for (const QString &amount : amounts)
                        triples.append({amount, QLatin1String(from.code), QLatin1String(to.code)});
        }
        const QJsonArray want = expectedConversions(triples);
        QCOMPARE(want.size(), triples.size());
        for (qsizetype i = 0; i < triples.size(); ++i)
            CHECK(verifyConversion(triples[i][0], triples[i][1], triples[i][2], want[i].toObject()));
    }

    void aCurrencyToItselfNeedsNoRate()
    {
        const auto r = convert(QStringLiteral("12.5"), QStringLiteral("BTC"), QStringLiteral("BTC"));
        QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
        const QJsonObject c = r->json();
        QCOMPARE(c.value(QLatin1String("amount")).toString(), QStringLiteral("12.50000000"));
        QCOMPARE(c.value(QLatin1String("result")).toString(), QStringLiteral("12.50000000"));
        QCOMPARE(c.value(QLatin1String("rate")).toString(), QStringLiteral("1"));
    }

    void badConversionsAre422_data()
    {
        QTest::addColumn<QByteArray>("query");
        QTest::newRow("unknown from") << QByteArray("amount=100&from=XXX&to=BTC");
        QTest::newRow("unknown to") << QByteArray("amount=100&from=USD&to=XXX");
        QTest::newRow("not a number") << QByteArray("amount=abc&from=USD&to=BTC");
        QTest::newRow("exponent") << QByteArray("amount=1e3&from=USD&to=BTC");
        QTest::newRow("negative") << QByteArray("amount=-5&from=USD&to=BTC");
        QTest::newRow("40 digits") << QByteArray("amount=1234567890123456789012345678901234567890&from=USD&to=BTC");
        QTest::newRow("more decimals than USD") << QByteArray("amount=1.001&from=USD&to=BTC");
        QTest::newRow("missing amount") << QByteArray("from=USD&to=BTC");
        QTest::newRow("empty amount") << QByteArray("amount=&from=USD&to=BTC");
        QTest::newRow("missing to") << QByteArray("amount=100&from=USD");
        QTest::newRow("NaN") << QByteArray("amount=NaN&from=USD&to=BTC");
        QTest::newRow("Infinity") << QByteArray("amount=Infinity&from=USD&to=BTC");
        QTest::newRow("hex") << QByteArray("amount=0x10&from=USD&to=BTC");
        QTest::newRow("decimal comma") << QByteArray("amount=1,5&from=USD&to=BTC");
        QTest::newRow("Arabic-Indic digit") << QByteArray("amount=%D9%A1&from=USD&to=BTC");
        QTest::newRow("inner space") << QByteArray("amount=1%200&from=USD&to=BTC");
        // 38 digits are accepted, but 1.2e35 USD is 1.8e30 BTC: 31 + 8 digits, too many.
        QTest::newRow("result over 38 digits") << QByteArray("amount=123456789012345678901234567890123456.78&from=USD&to=BTC");
    }
    void badConversionsAre422()
    {
        QFETCH(QByteArray, query);
        const auto r = call("GET", "/api/v1/convert?" + query);
        CHECK(verifyProblem(r, 422));
        QVERIFY2(!r->json().value(QLatin1String("errors")).toObject().isEmpty(), r->body.constData());
    }

    void failedRunsKeepTheLastGoodRates_data()
    {
        QTest::addColumn<QString>("mode");
        QTest::addColumn<QString>("error"); // what last_error names
        QTest::newRow("HTTP 500") << QStringLiteral("500") << QStringLiteral("500");
        QTest::newRow("timeout") << QStringLiteral("timeout") << QString();
        // Headers at once, then a byte every 0.5 s: 12 s in all, far over the 1.5 s allowed.
        QTest::newRow("trickle") << QStringLiteral("slow") << QString();
        QTest::newRow("truncated JSON") << QStringLiteral("malformed") << QString();
        // Last: the provider then stays quiet for Retry-After seconds, which this row waits out.
        QTest::newRow("HTTP 429") << QStringLiteral("429") << QStringLiteral("429");
    }
    void failedRunsKeepTheLastGoodRates()
    {
        QFETCH(QString, mode);
        QFETCH(QString, error);
        const QJsonObject before = conversionNow(QStringLiteral("100"), QStringLiteral("USD"), QStringLiteral("BTC"));
        const QJsonObject fiatBefore = conversionNow(QStringLiteral("100"), QStringLiteral("EUR"), QStringLiteral("GBP"));
        QVERIFY(!before.isEmpty() && !fiatBefore.isEmpty());
        const QString history = m_cluster.sql(QStringLiteral("SELECT count(*) FROM integrations_rate_history"));

        QVERIFY(fake("POST", "/_fake/reset").value_or(HttpReply{}).status == 200);
        CHECK(configureFake({{QStringLiteral("mode"), mode}, {QStringLiteral("retry_after"), 7}}));
        QString id;
        QElapsedTimer sinceFailure;
        // Whatever fails below: no retry of this job runs once the fake answers again, the fake
        // answers again, and after a 429 the next test does not find the provider still quiet.
        auto restore = qScopeGuard([&] {
            if (!id.isEmpty())
                call("POST", QStringLiteral("/api/v1/admin/jobs/%1/cancel").arg(id).toUtf8(), {}, m_staff);
            configureFake({{QStringLiteral("mode"), QStringLiteral("ok")}});
            if (mode == QLatin1String("429") && sinceFailure.isValid())
                QTest::qWait(int(std::max<qint64>(0, 7500 - sinceFailure.elapsed())));
        });
        QElapsedTimer run;
        run.start();
        id = enqueue(QStringLiteral("integrations.update_rates"));
        QVERIFY(!id.isEmpty());
        const QString lastError = waitForFailure(id);
        sinceFailure.start();
        // rates_timeout_ms is 1500 here (10 s by default): a silent or trickling CoinGecko is
        // given up on soon.
        if (mode == QLatin1String("timeout") || mode == QLatin1String("slow"))
            QVERIFY2(run.elapsed() < 8000, qPrintable(QStringLiteral("%1 ms, job %2").arg(run.elapsed()).arg(job(id))));
        QVERIFY2(!lastError.isEmpty(), qPrintable(job(id)));
        QVERIFY2(!fakeRequests().isEmpty(), "the run did not ask the fake");
        if (!error.isEmpty())
            QVERIFY2(lastError.contains(error), qPrintable(lastError));
        if (mode == QLatin1String("429")) {
            // CoinGecko asked for 7 s of quiet: a run within them (here, a second job at once)
            // fails without asking it. The job's own retry comes after the job system's backoff,
            // and it too finds the provider quiet.
            QVERIFY(fake("POST", "/_fake/reset").value_or(HttpReply{}).status == 200);
            const QString early = enqueue(QStringLiteral("integrations.update_rates"));
            QVERIFY(!early.isEmpty());
            const QString quiet = waitForFailure(early);
            call("POST", QStringLiteral("/api/v1/admin/jobs/%1/cancel").arg(early).toUtf8(), {}, m_staff);
            QVERIFY2(quiet.contains(QLatin1String("429")), qPrintable(quiet));
            QVERIFY2(fakeRequests().isEmpty(), "asked CoinGecko again within its Retry-After");
        }

        QCOMPARE(conversionNow(QStringLiteral("100"), QStringLiteral("USD"), QStringLiteral("BTC")), before);
        QCOMPARE(conversionNow(QStringLiteral("100"), QStringLiteral("EUR"), QStringLiteral("GBP")), fiatBefore);
        const auto rates = call("GET", "/api/v1/rates?base=USD");
        QVERIFY2(rates && rates->status == 200, qPrintable(describe(rates)));
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(*) FROM integrations_rate_history")), history);
    }

    void aGoodRunAfterFailuresStoresTheNewRates()
    {
        const QJsonObject before = conversionNow(QStringLiteral("100"), QStringLiteral("USD"), QStringLiteral("BTC"));
        // BTC's EUR price in exponent form; BTC no longer priced in GBP, so GBP's value comes
        // from the next coin by code (ETH); a 20-digit SOL; a USDT price with 19 decimals whose
        // last one is a tie (half-even keeps ...002, half-up would make it ...003).
        CHECK(setPrices({{QStringLiteral("bitcoin"), {{QStringLiteral("usd"), QStringLiteral("70001.5")}, {QStringLiteral("eur"), QStringLiteral("6.4e4")}, {QStringLiteral("gbp"), QString()}}},
                         {QStringLiteral("solana"), {{QStringLiteral("usd"), QStringLiteral("12345678901234567890.5")}}},
                         {QStringLiteral("tether"), {{QStringLiteral("usd"), QStringLiteral("1.0000000000000000025")}}}}));
        QCOMPARE(m_usd.value(QStringLiteral("USDT")), QStringLiteral("1.000000000000000002"));
        QVERIFY(!m_prices.value(QStringLiteral("bitcoin")).contains(QStringLiteral("gbp")));
        const qint64 historyBefore = m_cluster.sql(QStringLiteral("SELECT count(*) FROM integrations_rate_history")).toLongLong();
        const qint64 lastEvent = m_cluster.sql(QStringLiteral("SELECT coalesce(max(id), 0) FROM host_outbox")).toLongLong();
        CHECK(runJob(QStringLiteral("integrations.update_rates")));
        // The run is kept in the history (one row per currency it priced, with its source), and
        // announced once as rates.updated with what it stored.
        const QString stored = m_cluster.sql(QStringLiteral("SELECT string_agg(currency, ',' ORDER BY currency) FROM integrations_rate_history "
                                                             "WHERE as_of = (SELECT max(as_of) FROM integrations_rate_history) AND source = 'coingecko'"));
        for (const char *code : {"BTC", "ETH", "EUR", "GBP", "SOL", "USDT"})
            QVERIFY2(stored.split(u',').contains(QLatin1String(code)), qPrintable(stored));
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(*) FROM integrations_rate_history")).toLongLong() - historyBefore, qint64(stored.split(u',').size()));
        const QString event = m_cluster.sql(QStringLiteral("SELECT count(*) || '|' || min(data->>'currencies') FROM host_outbox WHERE topic = 'rates.updated' AND id > %1").arg(lastEvent));
        QVERIFY2(event.startsWith(QLatin1String("1|")) && event.contains(QLatin1String("SOL")), qPrintable(event));
        const QJsonObject after = conversionNow(QStringLiteral("100"), QStringLiteral("USD"), QStringLiteral("BTC"));
        QVERIFY(after.value(QLatin1String("result")) != before.value(QLatin1String("result")));
        CHECK(storedUsdValuesFollowTheRule());
        QList<std::array<QString, 3>> triples;
        for (const char *from : {"USD", "EUR", "GBP", "BTC", "ETH", "USDT", "SOL"})
            for (const char *to : {"USD", "EUR", "GBP", "BTC", "ETH", "USDT", "SOL"})
                if (qstrcmp(from, to) != 0)
                    triples.append({QStringLiteral("12345.67"), QLatin1String(from), QLatin1String(to)});
        const QJsonArray want = expectedConversions(triples);
        QCOMPARE(want.size(), triples.size());
        for (qsizetype i = 0; i < triples.size(); ++i)
            CHECK(verifyConversion(triples[i][0], triples[i][1], triples[i][2], want[i].toObject()));
        // 99,999,999 SOL in ETH needs 24 digits before the point and 18 after: more than 38.
        const auto tooLarge = convert(QStringLiteral("99999999"), QStringLiteral("SOL"), QStringLiteral("ETH"));
        CHECK(verifyProblem(tooLarge, 422));
    }

    void staleRatesAre503UntilTheNextRun()
    {
        const auto moved = call("POST", "/api/v1/admin/clock", compact({{QStringLiteral("advance_seconds"), 1000}}), m_staff);
        QVERIFY2(moved && moved->status == 200, qPrintable(describe(moved)));
        CHECK(verifyUnavailable(convert(QStringLiteral("100"), QStringLiteral("USD"), QStringLiteral("BTC"))));
        CHECK(verifyUnavailable(call("GET", "/api/v1/rates?base=USD")));
        QTest::qWait(1500); // the worker hears of the jump (NOTIFY) before it stores new rates
        CHECK(runJob(QStringLiteral("integrations.update_rates")));
        const auto r = convert(QStringLiteral("100"), QStringLiteral("USD"), QStringLiteral("BTC"));
        QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
        const auto rates = call("GET", "/api/v1/rates?base=USD");
        QVERIFY2(rates && rates->status == 200, qPrintable(describe(rates)));
    }

    // --- the mock settlement ---

    void aRolledBackBatchLeavesNothing()
    {
        const auto r = settle({{QStringLiteral("count"), 1000}, {QStringLiteral("prefix"), QStringLiteral("r")}, {QStringLiteral("rollback"), true}});
        QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
        QCOMPARE(r->json().value(QLatin1String("rolled_back")).toBool(), true);
        QCOMPARE(settlementCount(), QStringLiteral("0"));
    }

    void aCommittedBatchGetsDistinctStableHashes()
    {
        const auto r = settle({{QStringLiteral("count"), 1000}, {QStringLiteral("prefix"), QStringLiteral("r")}});
        m_firstHashes = hashesOf(r, 1000, QStringLiteral("r"), QStringLiteral("submitted"));
        QCOMPARE(m_firstHashes.size(), 1000);
        QCOMPARE(QSet<QString>(m_firstHashes.cbegin(), m_firstHashes.cend()).size(), 1000);
        QCOMPARE(settlementCount(), QStringLiteral("1000"));
        QCOMPARE(settlementCount(QStringLiteral("status = 'submitted' AND amount = 1.5 AND currency = 'USDT' AND user_id = '%1'").arg(m_userId)), QStringLiteral("1000"));
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(DISTINCT tx_hash) FROM integrations_settlement WHERE tx_hash ~ '^0x[0-9a-f]{64}$'")), QStringLiteral("1000"));

        // The same payments again: the same receipts, no new rows.
        const QStringList again = hashesOf(settle({{QStringLiteral("count"), 1000}, {QStringLiteral("prefix"), QStringLiteral("r")}}), 1000, QStringLiteral("r"),
                                           QStringLiteral("submitted"));
        QCOMPARE(again, m_firstHashes);
        QCOMPARE(settlementCount(), QStringLiteral("1000"));
        // One of them, given on its own, is the same payment too.
        const QJsonObject one{{QStringLiteral("reference"), QStringLiteral("r7")}, {QStringLiteral("user_id"), m_userId},
                              {QStringLiteral("currency"), QStringLiteral("USDT")}, {QStringLiteral("amount"), QStringLiteral("1.5")}};
        const auto single = call("POST", "/test/settlements", compact({{QStringLiteral("payments"), QJsonArray{one}}}));
        QVERIFY2(single && single->status == 200, qPrintable(describe(single)));
        const QJsonObject receipt = single->json().value(QLatin1String("receipts")).toArray().first().toObject();
        QCOMPARE(receipt.value(QLatin1String("reference")).toString(), QStringLiteral("r7"));
        QCOMPARE(receipt.value(QLatin1String("tx_hash")).toString(), m_firstHashes.value(7));
        QCOMPARE(receipt.value(QLatin1String("status")).toString(), QStringLiteral("submitted"));
        // The same reference for a different payment is refused, and changes nothing.
        QJsonObject other = one;
        other.insert(QStringLiteral("amount"), QStringLiteral("2"));
        const auto conflict = call("POST", "/test/settlements", compact({{QStringLiteral("payments"), QJsonArray{other}}}));
        QVERIFY2(conflict && conflict->status == 422, qPrintable(describe(conflict)));
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT amount = 1.5 FROM integrations_settlement WHERE reference = 'r7'")), QStringLiteral("t"));
        QCOMPARE(settlementCount(), QStringLiteral("1000"));
        // So is one reference given twice in one batch for two different payments: nothing is kept.
        QJsonObject dup = one;
        dup.insert(QStringLiteral("reference"), QStringLiteral("dup"));
        QJsonObject dup2 = dup;
        dup2.insert(QStringLiteral("amount"), QStringLiteral("2"));
        const auto twice = call("POST", "/test/settlements", compact({{QStringLiteral("payments"), QJsonArray{dup, dup2}}}));
        QVERIFY2(twice && twice->status == 422, qPrintable(describe(twice)));
        QCOMPARE(settlementCount(QStringLiteral("reference = 'dup'")), QStringLiteral("0"));
        // The same payment twice in one batch is one payment: one row, the same receipt twice.
        const auto same = call("POST", "/test/settlements", compact({{QStringLiteral("payments"), QJsonArray{dup, dup}}, {QStringLiteral("rollback"), true}}));
        QVERIFY2(same && same->status == 200, qPrintable(describe(same)));
        const QJsonArray receipts = same->json().value(QLatin1String("receipts")).toArray();
        QVERIFY2(receipts.size() == 2 && receipts[0] == receipts[1], qPrintable(describe(same)));
        QCOMPARE(settlementCount(), QStringLiteral("1000"));
    }

    void settlementsSurviveARestart()
    {
        QVERIFY(!m_firstHashes.isEmpty());
        const QString digest = QStringLiteral("SELECT md5(string_agg(tx_hash || reference || status, ',' ORDER BY tx_hash)) FROM integrations_settlement");
        const QString before = m_cluster.sql(digest);
        QVERIFY2(m_worker->terminate() == 0, qPrintable(m_worker->output().right(3000)));
        QVERIFY2(m_api->terminate() == 0, qPrintable(m_api->output().right(3000)));
        m_worker.reset();
        m_api.reset();
        CHECK(startHost());
        QCOMPARE(m_cluster.sql(digest), before);
        QCOMPARE(settlementCount(), QStringLiteral("1000"));
        // The restarted serve still converts from the stored rates.
        const auto r = convert(QStringLiteral("100"), QStringLiteral("USD"), QStringLiteral("BTC"));
        QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
    }

    void confirmSettlementsConfirmsThemAll()
    {
        // settlement_confirm_seconds is 2: every row is old enough once 2 s of host time passed.
        QVERIFY(waitUntil([&] { return settlementCount(QStringLiteral("submitted_at <= host_now() - interval '2.5 seconds'")) == QLatin1String("1000"); }, 15000));
        // One younger than the limit (submitted "now", an hour ahead, so no load makes it old):
        // it stays submitted.
        const QString young = QStringLiteral("0x") + QString(64, u'c');
        m_cluster.sql(QStringLiteral("INSERT INTO integrations_settlement (tx_hash, reference, user_id, currency, amount, submitted_at) "
                                     "VALUES ('%1', 'young', '%2', 'USDT', 1, host_now() + interval '1 hour')").arg(young, m_userId));
        const qint64 lastEvent = m_cluster.sql(QStringLiteral("SELECT coalesce(max(id), 0) FROM host_outbox")).toLongLong();
        CHECK(runJob(QStringLiteral("integrations.confirm_settlements")));
        QCOMPARE(settlementCount(QStringLiteral("status = 'confirmed' AND confirmed_at IS NOT NULL AND confirmed_at >= submitted_at")), QStringLiteral("1000"));
        QCOMPARE(settlementCount(QStringLiteral("status = 'submitted'")), QStringLiteral("1"));
        // settlement.confirmed once per confirmed payment, to its user.
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(*) || '|' || count(DISTINCT data->>'tx_hash') || '|' || bool_and(user_id = '%1') FROM host_outbox "
                                              "WHERE topic = 'settlement.confirmed' AND id > %2").arg(m_userId).arg(lastEvent)),
                 QStringLiteral("1000|1000|true"));
        // The status query by tx hash: confirmed, still submitted, unknown.
        const auto confirmed = call("GET", QStringLiteral("/test/settlements/%1").arg(m_firstHashes.value(0)).toUtf8());
        QVERIFY2(confirmed && confirmed->status == 200, qPrintable(describe(confirmed)));
        QCOMPARE(confirmed->json().value(QLatin1String("status")).toString(), QStringLiteral("confirmed"));
        QCOMPARE(confirmed->json().value(QLatin1String("reference")).toString(), QStringLiteral("r0"));
        const auto pending = call("GET", QStringLiteral("/test/settlements/%1").arg(young).toUtf8());
        QVERIFY2(pending && pending->status == 200 && pending->json().value(QLatin1String("status")).toString() == QLatin1String("submitted"), qPrintable(describe(pending)));
        const auto unknown = call("GET", QStringLiteral("/test/settlements/0x%1").arg(QString(64, u'0')).toUtf8());
        QVERIFY2(unknown && unknown->status == 404, qPrintable(describe(unknown)));
        // Submitting a confirmed payment again returns its receipt, confirmed.
        const QStringList again = hashesOf(settle({{QStringLiteral("count"), 1000}, {QStringLiteral("prefix"), QStringLiteral("r")}}), 1000, QStringLiteral("r"),
                                           QStringLiteral("confirmed"));
        QCOMPARE(again, m_firstHashes);
    }

    void settlementsNameKnownCurrenciesThatStay()
    {
        // Checked once per INSERT statement (integrations migration 0005), not per row: a row in
        // an unknown currency fails the whole statement; a currency cannot be removed or renamed.
        const QString before = settlementCount();
        QString error = m_cluster.sqlError(QStringLiteral(
            "INSERT INTO integrations_settlement (tx_hash, reference, user_id, currency, amount) VALUES "
            "('0x%1', 'fk-1', gen_random_uuid(), 'EUR', 1), ('0x%2', 'fk-2', gen_random_uuid(), 'XYZ', 1)")
                                               .arg(QString(64, u'a'), QString(64, u'b')));
        QVERIFY2(error.contains(QLatin1String("23503")) && error.contains(QLatin1String("integrations_settlement_currency_fkey")), qPrintable(error));
        QCOMPARE(settlementCount(), before);
        error = m_cluster.sqlError(QStringLiteral("UPDATE integrations_settlement SET currency = 'EUR' WHERE reference = 'r1'"));
        QVERIFY2(error.contains(QLatin1String("23503")) && error.contains(QLatin1String("integrations_settlement_currency_fkey")), qPrintable(error));
        error = m_cluster.sqlError(QStringLiteral("DELETE FROM integrations_currency WHERE code = 'GBP'"));
        QVERIFY2(error.contains(QLatin1String("23503")), qPrintable(error));
        error = m_cluster.sqlError(QStringLiteral("UPDATE integrations_currency SET code = 'GBX' WHERE code = 'GBP'"));
        QVERIFY2(error.contains(QLatin1String("23503")), qPrintable(error));
        error = m_cluster.sqlError(QStringLiteral("TRUNCATE integrations_currency CASCADE"));
        QVERIFY2(error.contains(QLatin1String("23503")), qPrintable(error));
        error = m_cluster.sqlError(QStringLiteral("BEGIN; UPDATE integrations_currency SET code = code, name = name WHERE code = 'GBP'; ROLLBACK;"));
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(*) FROM integrations_currency WHERE code = 'GBP'")), QStringLiteral("1"));
    }

    // --- a currency added while rates exist ---

    void aCurrencyAddedLaterIsUnavailableUntilTheNextRun()
    {
        const auto added = call("POST", "/api/v1/currencies",
                                compact({{QStringLiteral("code"), QLatin1String(kLater.code)}, {QStringLiteral("name"), QStringLiteral("Swiss Franc")},
                                         {QStringLiteral("kind"), QLatin1String(kLater.kind)}, {QStringLiteral("decimals"), kLater.decimals}}),
                                m_staff);
        QVERIFY2(added && added->status == 201, qPrintable(describe(added)));
        // No rate yet: 503 for what needs it, the others unaffected, and /rates says which.
        CHECK(verifyUnavailable(convert(QStringLiteral("100"), QStringLiteral("USD"), QStringLiteral("CHF"))));
        CHECK(verifyUnavailable(convert(QStringLiteral("100"), QStringLiteral("CHF"), QStringLiteral("EUR"))));
        CHECK(verifyUnavailable(call("GET", "/api/v1/rates?base=CHF")));
        const auto r = convert(QStringLiteral("100"), QStringLiteral("USD"), QStringLiteral("EUR"));
        QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
        const auto table = call("GET", "/api/v1/rates?base=USD");
        QVERIFY2(table && table->status == 200, qPrintable(describe(table)));
        QVERIFY2(!table->json().value(QLatin1String("rates")).toObject().contains(QLatin1String("CHF")), table->body.constData());
        QVERIFY2(table->json().value(QLatin1String("unavailable")).toArray().contains(QStringLiteral("CHF")), table->body.constData());

        // The next run asks CoinGecko for chf too, and CHF gets its value through BTC.
        m_fiat.append(QStringLiteral("CHF"));
        CHECK(setPrices({{QStringLiteral("bitcoin"), {{QStringLiteral("chf"), QStringLiteral("61234.567")}}}}));
        QVERIFY(fake("POST", "/_fake/reset").value_or(HttpReply{}).status == 200);
        CHECK(runJob(QStringLiteral("integrations.update_rates")));
        const QJsonArray requests = fakeRequests();
        QVERIFY(!requests.isEmpty());
        const QString vs = requests.last().toObject().value(QLatin1String("query")).toObject().value(QLatin1String("vs_currencies")).toString();
        QVERIFY2(vs.split(u',').contains(QStringLiteral("chf")), qPrintable(vs));
        CHECK(storedUsdValuesFollowTheRule());
        const QList<std::array<QString, 3>> triples{{QStringLiteral("100"), QStringLiteral("USD"), QStringLiteral("CHF")},
                                                    {QStringLiteral("0.01"), QStringLiteral("CHF"), QStringLiteral("ETH")},
                                                    {QStringLiteral("12345.67"), QStringLiteral("CHF"), QStringLiteral("GBP")}};
        const QJsonArray want = expectedConversions(triples);
        QCOMPARE(want.size(), triples.size());
        for (qsizetype i = 0; i < triples.size(); ++i)
            CHECK(verifyConversion(triples[i][0], triples[i][1], triples[i][2], want[i].toObject()));
    }
    // --- a provider added by another plugin ---

    // The testkit registers a second RateProvider in its start(), as a third-party plugin would:
    // it prices every "TK…" currency at 2.5 USD. CoinGecko does not list TKN, so its rate comes
    // from the testkit, and the replies say so.
    void aSecondProviderPricesWhatCoinGeckoDoesNot()
    {
        const auto added = call("POST", "/api/v1/currencies",
                                compact({{QStringLiteral("code"), QStringLiteral("TKN")}, {QStringLiteral("name"), QStringLiteral("Test token")},
                                         {QStringLiteral("kind"), QStringLiteral("crypto")}, {QStringLiteral("decimals"), 4}}),
                                m_staff);
        QVERIFY2(added && added->status == 201, qPrintable(describe(added)));
        CHECK(runJob(QStringLiteral("integrations.update_rates")));
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT usd_value || ' ' || source FROM integrations_rate WHERE currency = 'TKN'")), QStringLiteral("2.5 testkit"));

        const auto table = call("GET", "/api/v1/rates?base=USD");
        QVERIFY2(table && table->status == 200, qPrintable(describe(table)));
        const QJsonObject body = table->json();
        QCOMPARE(body.value(QLatin1String("rates")).toObject().value(QLatin1String("TKN")).toString(), QStringLiteral("0.4"));
        QCOMPARE(body.value(QLatin1String("sources")).toObject().value(QLatin1String("TKN")).toString(), QStringLiteral("testkit"));
        QCOMPARE(body.value(QLatin1String("sources")).toObject().value(QLatin1String("BTC")).toString(), QStringLiteral("coingecko"));
        QCOMPARE(body.value(QLatin1String("source")).toString(), QStringLiteral("coingecko+testkit"));

        const auto toUsd = convert(QStringLiteral("10.0001"), QStringLiteral("TKN"), QStringLiteral("USD"));
        QVERIFY2(toUsd && toUsd->status == 200, qPrintable(describe(toUsd)));
        QCOMPARE(toUsd->json().value(QLatin1String("result")).toString(), QStringLiteral("25.00")); // 25.00025, half-even to the cent
        QCOMPARE(toUsd->json().value(QLatin1String("source")).toString(), QStringLiteral("testkit"));
        const auto cross = convert(QStringLiteral("1"), QStringLiteral("BTC"), QStringLiteral("TKN"));
        QVERIFY2(cross && cross->status == 200, qPrintable(describe(cross)));
        QCOMPARE(cross->json().value(QLatin1String("source")).toString(), QStringLiteral("coingecko+testkit"));
        // 1 BTC = p(BTC) / 2.5 TKN, rounded half-even once to 4 decimals.
        const QJsonArray want = expected(
            {{QStringLiteral("usd_values"), QJsonObject{{QStringLiteral("BTC"), m_usd.value(QStringLiteral("BTC"))}, {QStringLiteral("TKN"), QStringLiteral("2.5")}}},
             {QStringLiteral("decimals"), QJsonObject{{QStringLiteral("BTC"), 8}, {QStringLiteral("TKN"), 4}}},
             {QStringLiteral("cases"), QJsonArray{QJsonObject{{QStringLiteral("amount"), QStringLiteral("1")}, {QStringLiteral("from"), QStringLiteral("BTC")},
                                                              {QStringLiteral("to"), QStringLiteral("TKN")}}}}});
        QCOMPARE(want.size(), 1);
        QCOMPARE(cross->json().value(QLatin1String("result")).toString(), want[0].toObject().value(QLatin1String("result")).toString());
    }

    // --- the users plugin asks the Currencies service ---

    void baseCurrencyIsCheckedWithTheCurrenciesService()
    {
        const QString password = QStringLiteral("a good long password");
        const auto reg = [&](const QString &email, const QJsonValue &currency) {
            return call("POST", "/api/v1/auth/register",
                        compact({{QStringLiteral("email"), email}, {QStringLiteral("password"), password}, {QStringLiteral("base_currency"), currency}}));
        };
        // TKN exists only because staff added it above: no fixed list could know it.
        const auto added = reg(QStringLiteral("tkn-holder@example.com"), QStringLiteral("tkn"));
        QVERIFY2(added && added->status == 201, qPrintable(describe(added)));
        QCOMPARE(added->json().value(QLatin1String("base_currency")).toString(), QStringLiteral("TKN"));
        const auto unknown = reg(QStringLiteral("zzz-holder@example.com"), QStringLiteral("ZZZ"));
        CHECK(verifyProblem(unknown, 422));
        QVERIFY2(unknown->json().value(QLatin1String("errors")).toObject().contains(QLatin1String("base_currency")), unknown->body.constData());
        const QByteArray token = login(QStringLiteral("tkn-holder@example.com"), password);
        QVERIFY(!token.isEmpty());
        const auto patched = call("PATCH", "/api/v1/users/me", compact({{QStringLiteral("base_currency"), QStringLiteral("SOL")}}), token);
        QVERIFY2(patched && patched->status == 200, qPrintable(describe(patched)));
        QCOMPARE(patched->json().value(QLatin1String("base_currency")).toString(), QStringLiteral("SOL"));
        CHECK(verifyProblem(call("PATCH", "/api/v1/users/me", compact({{QStringLiteral("base_currency"), QStringLiteral("QQQ")}}), token), 422));
    }

    // --- deposit addresses, as wallets will ask for them (in its own transaction) ---

    void addressesAreDeterministicAndRecorded()
    {
        const auto assign = [&](const QString &user, const QString &currency) {
            return call("POST", "/test/addresses", compact({{QStringLiteral("user_id"), user}, {QStringLiteral("currency"), currency}}));
        };
        const auto address = [&](const QString &user, const QString &currency) {
            const auto r = assign(user, currency);
            return r && r->status == 200 ? r->json().value(QLatin1String("address")).toString() : QStringLiteral("(%1)").arg(describe(r));
        };
        const QRegularExpression shape(QStringLiteral("^0x[0-9a-f]{40}$"));
        const QString eth = address(m_userId, QStringLiteral("ETH"));
        QVERIFY2(shape.match(eth).hasMatch(), qPrintable(eth));
        QCOMPARE(address(m_userId, QStringLiteral("ETH")), eth);
        QCOMPARE(address(m_userId.toUpper(), QStringLiteral("eth")), eth); // the same user and currency, spelled otherwise
        const QString btc = address(m_userId, QStringLiteral("BTC"));
        QVERIFY2(shape.match(btc).hasMatch() && btc != eth, qPrintable(btc));
        const QString other = address(QUuid::createUuid().toString(QUuid::WithoutBraces), QStringLiteral("ETH"));
        QVERIFY2(shape.match(other).hasMatch() && other != eth, qPrintable(other));
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(*) FROM integrations_address WHERE user_id = '%1'").arg(m_userId)), QStringLiteral("2"));
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT address FROM integrations_address WHERE user_id = '%1' AND currency = 'ETH'").arg(m_userId)), eth);
        // Fiat wallets have no address; nonsense is refused.
        const auto usd = assign(m_userId, QStringLiteral("USD"));
        QVERIFY2(usd && usd->status == 200 && usd->json().value(QLatin1String("address")).isNull(), qPrintable(describe(usd)));
        CHECK(verifyProblem(assign(m_userId, QStringLiteral("XXX")), 422));
        CHECK(verifyProblem(assign(QStringLiteral("not-a-uuid"), QStringLiteral("ETH")), 422));
    }
};

QTEST_GUILESS_MAIN(TestIntegrations)
#include "tst_integrations.moc"
