// The authenticator's cache: what it remembers, for how long, and what makes it forget.
#include "AuthCache.h"

#include <QtTest/QtTest>

using yieldhost::users::AuthCache;

class TestAuthCache : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void remembersASignInForItsTimeOnly()
    {
        AuthCache cache(2000);
        cache.remember(QStringLiteral("s1"), 3, AuthCache::SignIn{QStringLiteral("u1"), QStringLiteral("a@example.com"), true}, 10000);
        const auto hit = cache.find(QStringLiteral("u1"), QStringLiteral("s1"), 3, 11999);
        QVERIFY(hit);
        QCOMPARE(hit->email, QStringLiteral("a@example.com"));
        QVERIFY(hit->isStaff);
        QVERIFY(!cache.find(QStringLiteral("u1"), QStringLiteral("s1"), 3, 12000)); // ttl reached
        QVERIFY(!cache.find(QStringLiteral("u1"), QStringLiteral("s1"), 3, 9999));  // the clock went back
    }

    void anotherVersionSessionOrUserMisses()
    {
        AuthCache cache(2000);
        cache.remember(QStringLiteral("s1"), 3, AuthCache::SignIn{QStringLiteral("u1"), QString(), false}, 0);
        QVERIFY(!cache.find(QStringLiteral("u1"), QStringLiteral("s1"), 4, 1));
        QVERIFY(!cache.find(QStringLiteral("u1"), QStringLiteral("s2"), 3, 1));
        QVERIFY(!cache.find(QStringLiteral("u2"), QStringLiteral("s1"), 3, 1));
        QVERIFY(cache.find(QStringLiteral("u1"), QStringLiteral("s1"), 3, 1));
    }

    void forgetUserForgetsEverySignInOfThatUserOnly()
    {
        AuthCache cache(2000);
        cache.remember(QStringLiteral("s1"), 1, AuthCache::SignIn{QStringLiteral("u1"), QString(), false}, 0);
        cache.remember(QStringLiteral("s2"), 1, AuthCache::SignIn{QStringLiteral("u1"), QString(), false}, 0);
        cache.remember(QStringLiteral("s3"), 1, AuthCache::SignIn{QStringLiteral("u10"), QString(), false}, 0);
        cache.forgetUser(QStringLiteral("u1"));
        QVERIFY(!cache.find(QStringLiteral("u1"), QStringLiteral("s1"), 1, 1));
        QVERIFY(!cache.find(QStringLiteral("u1"), QStringLiteral("s2"), 1, 1));
        QVERIFY(cache.find(QStringLiteral("u10"), QStringLiteral("s3"), 1, 1)); // "u1" is a prefix of "u10", not its user
    }

    void zeroTurnsItOff()
    {
        AuthCache cache(0);
        cache.remember(QStringLiteral("s1"), 1, AuthCache::SignIn{QStringLiteral("u1"), QString(), false}, 0);
        QVERIFY(!cache.find(QStringLiteral("u1"), QStringLiteral("s1"), 1, 0));
    }

    void staysWithinItsSize()
    {
        AuthCache cache(2000, 100);
        for (int i = 0; i < 1000; ++i)
            cache.remember(QString::number(i), 1, AuthCache::SignIn{QStringLiteral("u"), QString(), false}, i);
        int kept = 0;
        for (int i = 0; i < 1000; ++i)
            kept += cache.find(QStringLiteral("u"), QString::number(i), 1, 1000) ? 1 : 0;
        QVERIFY2(kept > 0 && kept <= 100, qPrintable(QString::number(kept)));
        QVERIFY(cache.find(QStringLiteral("u"), QStringLiteral("999"), 1, 1000)); // the newest is always kept
    }
};

QTEST_GUILESS_MAIN(TestAuthCache)
#include "tst_authcache.moc"
