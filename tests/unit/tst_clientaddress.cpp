// ClientAddress: whose address a request carries when proxies sit in front. The forged cases are
// the point — a client writing its own X-Forwarded-For or Forwarded must not choose its address.
#include "http/ClientAddress.h"

#include <QtTest/QtTest>

using namespace yieldhost;

class TestClientAddress : public QObject
{
    Q_OBJECT

    static ClientAddress resolver(const QStringList &cidrs, const QString &header = QStringLiteral("x-forwarded-for"))
    {
        QString error;
        const std::optional<ClientAddress> r = ClientAddress::fromSettings(cidrs, header, &error);
        if (!r)
            qFatal("bad test settings: %s", qPrintable(error));
        return *r;
    }

private Q_SLOTS:
    void withoutTrustedProxiesTheHeaderIsIgnored()
    {
        const ClientAddress r = resolver({});
        QCOMPARE(r.resolve(QHostAddress(QStringLiteral("127.0.0.1")), {"203.0.113.9"}), QHostAddress(QStringLiteral("127.0.0.1")));
    }

    void anUntrustedPeerCannotNameAnotherAddress()
    {
        const ClientAddress r = resolver({QStringLiteral("10.0.0.0/8")});
        QCOMPARE(r.resolve(QHostAddress(QStringLiteral("198.51.100.7")), {"203.0.113.9"}), QHostAddress(QStringLiteral("198.51.100.7")));
    }

    void theRightmostUntrustedHopIsTheClient_data()
    {
        QTest::addColumn<QByteArrayList>("values");
        QTest::addColumn<QString>("client");
        QTest::newRow("one proxy") << QByteArrayList{"203.0.113.9"} << QStringLiteral("203.0.113.9");
        // The client wrote 1.2.3.4 itself; nginx appended the address it really saw.
        QTest::newRow("forged entry left of the real one") << QByteArrayList{"1.2.3.4, 203.0.113.9"} << QStringLiteral("203.0.113.9");
        QTest::newRow("two trusted hops") << QByteArrayList{"203.0.113.9, 10.1.2.3"} << QStringLiteral("203.0.113.9");
        QTest::newRow("lines joined in order") << QByteArrayList{"1.2.3.4", "203.0.113.9, 10.1.2.3"} << QStringLiteral("203.0.113.9");
        QTest::newRow("port kept by a proxy") << QByteArrayList{"203.0.113.9:5555"} << QStringLiteral("203.0.113.9");
        QTest::newRow("IPv6 in brackets") << QByteArrayList{"[2001:db8::1]:443"} << QStringLiteral("2001:db8::1");
        QTest::newRow("bare IPv6") << QByteArrayList{"2001:db8::1"} << QStringLiteral("2001:db8::1");
        QTest::newRow("garbage right of a trusted hop stops at that hop") << QByteArrayList{"203.0.113.9, 10.1.2.3, bogus"} << QStringLiteral("127.0.0.1");
        QTest::newRow("empty header") << QByteArrayList{} << QStringLiteral("127.0.0.1");
    }
    void theRightmostUntrustedHopIsTheClient()
    {
        QFETCH(QByteArrayList, values);
        QFETCH(QString, client);
        const ClientAddress r = resolver({QStringLiteral("127.0.0.1"), QStringLiteral("10.0.0.0/8")});
        QCOMPARE(r.resolve(QHostAddress(QStringLiteral("127.0.0.1")), values), QHostAddress(client));
    }

    void forwardedIsReadOnlyWhenConfigured()
    {
        const QByteArrayList values{R"(for=1.2.3.4, for="[2001:db8:cafe::17]:4711";proto=https)"};
        const ClientAddress rfc = resolver({QStringLiteral("127.0.0.1")}, QStringLiteral("forwarded"));
        QCOMPARE(rfc.headerName(), QByteArray("forwarded"));
        QCOMPARE(rfc.resolve(QHostAddress(QStringLiteral("127.0.0.1")), values), QHostAddress(QStringLiteral("2001:db8:cafe::17")));
        QCOMPARE(rfc.resolve(QHostAddress(QStringLiteral("127.0.0.1")), {"for=unknown"}), QHostAddress(QStringLiteral("127.0.0.1")));
        // The default reads X-Forwarded-For: a Forwarded header a client sent through nginx is not believed.
        QCOMPARE(resolver({QStringLiteral("127.0.0.1")}).headerName(), QByteArray("x-forwarded-for"));
    }

    void aMappedIPv4PeerIsMatchedAsIPv4()
    {
        const ClientAddress r = resolver({QStringLiteral("127.0.0.0/8")});
        QVERIFY(r.isTrustedProxy(QHostAddress(QStringLiteral("::ffff:127.0.0.1"))));
        QCOMPARE(r.resolve(QHostAddress(QStringLiteral("::ffff:127.0.0.1")), {"::ffff:203.0.113.9"}), QHostAddress(QStringLiteral("203.0.113.9")));
    }

    void limitKeysGroupIPv6ByItsSlash64()
    {
        QCOMPARE(ClientAddress::limitKey(QHostAddress(QStringLiteral("2001:db8:1:2:aaaa::1"))),
                 ClientAddress::limitKey(QHostAddress(QStringLiteral("2001:db8:1:2:bbbb::9"))));
        QVERIFY(ClientAddress::limitKey(QHostAddress(QStringLiteral("2001:db8:1:2::1")))
                != ClientAddress::limitKey(QHostAddress(QStringLiteral("2001:db8:1:3::1"))));
        QCOMPARE(ClientAddress::limitKey(QHostAddress(QStringLiteral("192.0.2.1"))), QHostAddress(QStringLiteral("192.0.2.1")));
    }

    void badSettingsAreRefusedByName()
    {
        QString error;
        QVERIFY(!ClientAddress::fromSettings({QStringLiteral("10.0.0.0/33")}, QStringLiteral("x-forwarded-for"), &error));
        QVERIFY(error.contains(QLatin1String("10.0.0.0/33")));
        QVERIFY(!ClientAddress::fromSettings({QStringLiteral("nginx")}, QStringLiteral("x-forwarded-for"), &error));
        QVERIFY(!ClientAddress::fromSettings({}, QStringLiteral("x-real-ip"), &error));
        QVERIFY(error.contains(QLatin1String("forwarded_header")));
    }
};

QTEST_APPLESS_MAIN(TestClientAddress)
#include "tst_clientaddress.moc"
