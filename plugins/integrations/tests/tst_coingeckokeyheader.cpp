// Which header a CoinGecko API key travels in, by the configured base URL: the Pro API's host
// wants x-cg-pro-api-key, everything else (the public and demo API, a fake, a proxy) the demo
// header. The end-to-end test sees the demo header reach its fake on 127.0.0.1; the Pro host
// cannot be reached from a test, so the choice is checked here.
#include "CoinGeckoProvider.h"

#include <QtTest/QtTest>

using namespace yieldhost::integrations;

class TestCoinGeckoKeyHeader : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void headerFollowsTheHost_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QByteArray>("header");
        QTest::newRow("pro") << QStringLiteral("https://pro-api.coingecko.com") << QByteArrayLiteral("x-cg-pro-api-key");
        QTest::newRow("pro, path and port") << QStringLiteral("https://pro-api.coingecko.com:443/") << QByteArrayLiteral("x-cg-pro-api-key");
        QTest::newRow("pro, upper case") << QStringLiteral("https://PRO-API.CoinGecko.com") << QByteArrayLiteral("x-cg-pro-api-key");
        QTest::newRow("public") << QStringLiteral("https://api.coingecko.com") << QByteArrayLiteral("x-cg-demo-api-key");
        QTest::newRow("look-alike") << QStringLiteral("https://pro-api.coingecko.com.example.org") << QByteArrayLiteral("x-cg-demo-api-key");
        QTest::newRow("loopback fake") << QStringLiteral("http://127.0.0.1:8080") << QByteArrayLiteral("x-cg-demo-api-key");
    }

    void headerFollowsTheHost()
    {
        QFETCH(QString, url);
        QFETCH(QByteArray, header);
        QCOMPARE(CoinGeckoProvider::keyHeader(QUrl(url)), header);
    }
};

QTEST_GUILESS_MAIN(TestCoinGeckoKeyHeader)
#include "tst_coingeckokeyheader.moc"
