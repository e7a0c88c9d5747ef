// CoinGecko's reply read exactly (numbers as written: exponents, beyond double and uint64
// precision), the fiat values derived through the reference coin, and RateMath's one rounding —
// against values computed independently with Python's decimal module at 100 digits.
#include "CoinGeckoReply.h"
#include "RateMath.h"

#include <QtTest/QtTest>

using namespace yieldhost;
using namespace yieldhost::integrations;

namespace {

Decimal dec(const char *text)
{
    const std::optional<Decimal> d = Decimal::fromString(QString::fromLatin1(text));
    Q_ASSERT(d);
    return *d;
}

Currency currency(const char *code, Currency::Kind kind, int decimals, const char *coingeckoId = "")
{
    return Currency{QLatin1String(code), QLatin1String(code), kind, decimals, QLatin1String(coingeckoId)};
}

QList<Currency> seeded()
{
    using K = Currency::Kind;
    return {currency("USD", K::Fiat, 2), currency("EUR", K::Fiat, 2), currency("GBP", K::Fiat, 2),
            currency("BTC", K::Crypto, 8, "bitcoin"), currency("ETH", K::Crypto, 18, "ethereum"),
            currency("USDT", K::Crypto, 6, "tether"), currency("SOL", K::Crypto, 9, "solana")};
}

} // namespace

class TestCoinGeckoReply : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void numbersAreKeptAsWritten()
    {
        const CoinGeckoReply r = CoinGeckoReply::parse(
            R"({"solana":{"usd":1.05e-05,"eur":6.7E+4},"big":{"usd":123456789012345678901234.5,"eur":123456789012345678901234},)"
            R"("bitcoin":{"usd":67187.33,"usd_24h_change":null,"last_updated_at":1700000000,"note":"x","nested":{"usd":1}}})");
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.prices.value(QStringLiteral("solana")).value(QStringLiteral("usd")), QStringLiteral("1.05e-05"));
        QCOMPARE(r.prices.value(QStringLiteral("solana")).value(QStringLiteral("eur")), QStringLiteral("6.7E+4"));
        QCOMPARE(r.prices.value(QStringLiteral("big")).value(QStringLiteral("usd")), QStringLiteral("123456789012345678901234.5"));
        QCOMPARE(r.prices.value(QStringLiteral("big")).value(QStringLiteral("eur")), QStringLiteral("123456789012345678901234"));
        QCOMPARE(r.prices.value(QStringLiteral("bitcoin")).value(QStringLiteral("usd")), QStringLiteral("67187.33"));
        QVERIFY(!r.prices.value(QStringLiteral("bitcoin")).contains(QStringLiteral("usd_24h_change"))); // null is no price
        QVERIFY(!r.prices.value(QStringLiteral("bitcoin")).contains(QStringLiteral("note")));
        QCOMPARE(Decimal::fromJsonNumber(QStringLiteral("1.05e-05"))->toString(), QStringLiteral("0.0000105"));
    }

    void malformedRepliesAreErrors_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::newRow("truncated") << QByteArray(R"({"bitcoin":{"usd":671)");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("html") << QByteArray("<html>Bad gateway</html>");
        QTest::newRow("array") << QByteArray("[1, 2]");
        QTest::newRow("string") << QByteArray(R"("bitcoin")");
        QTest::newRow("trailing garbage") << QByteArray(R"({"bitcoin":{"usd":1}} x)");
        QTest::newRow("NaN") << QByteArray(R"({"bitcoin":{"usd":NaN}})");
        // Beyond a double's range: nlohmann/json refuses the whole reply (CoinGecko never sends one).
        QTest::newRow("1e400") << QByteArray(R"({"bitcoin":{"usd":1e400}})");
    }
    void malformedRepliesAreErrors()
    {
        QFETCH(QByteArray, body);
        QVERIFY(!CoinGeckoReply::parse(body).error.isEmpty());
    }

    void usdValuesFollowTheStorageRule()
    {
        // bitcoin is the reference coin (BTC sorts first), even though ethereum comes first.
        const CoinGeckoReply r = CoinGeckoReply::parse(
            R"({"ethereum":{"usd":3456.789012345678,"eur":1,"gbp":1},"bitcoin":{"usd":67187.33,"eur":61876.12,"gbp":53123.9},)"
            R"("tether":{"usd":1.0001},"solana":{"usd":1.05e-05}})");
        QVERIFY(r.error.isEmpty());
        QStringList skipped;
        const QHash<QString, Decimal> v = r.usdValues(seeded(), &skipped);
        QVERIFY2(skipped.isEmpty(), qPrintable(skipped.join(u'\n')));
        QCOMPARE(v.size(), 6); // every currency but USD
        QCOMPARE(v.value(QStringLiteral("BTC")).toString(), QStringLiteral("67187.33"));
        QCOMPARE(v.value(QStringLiteral("ETH")).toString(), QStringLiteral("3456.789012345678"));
        QCOMPARE(v.value(QStringLiteral("SOL")).toString(), QStringLiteral("0.0000105"));
        // Python: (Decimal('67187.33') / Decimal('61876.12')).quantize(Decimal('1e-18'), ROUND_HALF_EVEN)
        QCOMPARE(v.value(QStringLiteral("EUR")).toString(), QStringLiteral("1.085836183652110055"));
        QCOMPARE(v.value(QStringLiteral("GBP")).toString(), QStringLiteral("1.264728869680125141"));
    }

    void unusablePricesAreSkippedAndSaid()
    {
        const CoinGeckoReply r = CoinGeckoReply::parse(
            R"({"bitcoin":{"usd":0,"eur":61876.12},"ethereum":{"usd":-1},"tether":{"usd":1e50,"eur":0.9}})");
        QVERIFY(r.error.isEmpty());
        QStringList skipped;
        const QHash<QString, Decimal> v = r.usdValues(seeded(), &skipped);
        QVERIFY2(v.isEmpty(), qPrintable(QStringList(v.keys()).join(u',')));
        // BTC, ETH, USDT (more than 38 digits) unusable; SOL missing; EUR and GBP without a reference coin.
        QCOMPARE(skipped.size(), 6);
        QVERIFY(skipped.join(u'\n').contains(QLatin1String("solana")));
    }

    void theReferenceIsTheFirstCoinPricedInBoth()
    {
        // bitcoin has no EUR price: EUR comes from ethereum, the next coin by code.
        const CoinGeckoReply r = CoinGeckoReply::parse(R"({"bitcoin":{"usd":67187.33},"ethereum":{"usd":3000,"eur":2500}})");
        QStringList skipped;
        const QHash<QString, Decimal> v = r.usdValues(seeded(), &skipped);
        QCOMPARE(v.value(QStringLiteral("EUR")).toString(), QStringLiteral("1.200000000000000000"));
        QVERIFY(!v.contains(QStringLiteral("GBP")));
    }

    void conversionRoundsOnceHalfEven()
    {
        const Decimal btc = dec("67187.33");
        const Decimal eur = dec("1.085836183652110055");
        const Decimal eth = dec("3456.789012345678");
        // Python decimal, 100 digits: quantize(amount * p_from / p_to, 10^-decimals, ROUND_HALF_EVEN)
        QCOMPARE(RateMath::convert(dec("100"), Decimal::fromInt(1), btc, 8)->toString(), QStringLiteral("0.00148838"));
        QCOMPARE(RateMath::convert(dec("1"), eth, eur, 2)->toString(), QStringLiteral("3183.53"));
        QCOMPARE(RateMath::convert(dec("12345.67"), eur, eth, 18)->toString(), QStringLiteral("3.877984785751167945"));
        QCOMPARE(RateMath::convert(dec("1000000"), dec("0.0000105"), Decimal::fromInt(1), 2)->toString(), QStringLiteral("10.50"));
        QCOMPARE(RateMath::rate(Decimal::fromInt(1), btc)->toString(), QStringLiteral("0.000014883758589603"));
        // Ties go to the even neighbour, once.
        QCOMPARE(RateMath::convert(dec("0.5"), dec("1"), dec("1"), 0)->toString(), QStringLiteral("0"));
        QCOMPARE(RateMath::convert(dec("1.5"), dec("1"), dec("1"), 0)->toString(), QStringLiteral("2"));
        QCOMPARE(RateMath::convert(dec("0.125"), dec("2"), dec("1"), 2)->toString(), QStringLiteral("0.25"));
        QCOMPARE(RateMath::convert(dec("0.0125"), dec("1"), dec("1"), 3)->toString(), QStringLiteral("0.012"));
        // Too large or impossible: nullopt, never a wrong number.
        QVERIFY(!RateMath::convert(dec("99999999999999999999"), dec("99999999999999999999"), dec("0.000000000000000001"), 2));
        QVERIFY(!RateMath::convert(dec("1"), dec("1"), Decimal(), 2));
        QVERIFY(!RateMath::fiatValue(dec("1"), Decimal()));
    }
};

QTEST_GUILESS_MAIN(TestCoinGeckoReply)
#include "tst_coingeckoreply.moc"
