// The authenticator's cache: what it remembers, for how long, and what makes it forget.
#include "AuthCache.h"

#include <QtTest/QtTest>

using yieldhost::users::AuthCache;

namespace {
AuthCache::SignIn signIn(const char *user, bool staff = false)
{
    return AuthCache::SignIn{QString::fromLatin1(user), QStringLiteral("a@example.com"), staff, QJsonObject{{QStringLiteral("sub"), QString::fromLatin1(user)}}};
}
constexpr qint64 Never = std::numeric_limits<qint64>::max();
} // namespace

class TestAuthCache : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void remembersATokenForItsTimeOnly()
    {
        AuthCache cache(2000);
        cache.remember("t1", signIn("u1", true), Never, 10000);
        const auto hit = cache.find("t1", 11999);
        QVERIFY(hit);
        QCOMPARE(hit->userId, QStringLiteral("u1"));
        QVERIFY(hit->isStaff);
        QCOMPARE(hit->claims.value(QLatin1String("sub")).toString(), QStringLiteral("u1"));
        QVERIFY(!cache.find("t1", 12000)); // ttl reached
        QVERIFY(!cache.find("t1", 9999));  // the clock went back
        QVERIFY(!cache.find("t2", 11000)); // another token
    }

    void neverPastTheTokensExpiry()
    {
        AuthCache cache(2000);
        cache.remember("t1", signIn("u1"), 10500, 10000);
        QVERIFY(cache.find("t1", 10499));
        QVERIFY(!cache.find("t1", 10500));
        cache.remember("t2", signIn("u1"), 9000, 10000); // already expired: not kept
        QVERIFY(!cache.find("t2", 10000));
    }

    void forgetUserForgetsEveryTokenOfThatUserOnly()
    {
        AuthCache cache(2000);
        cache.remember("t1", signIn("u1"), Never, 0);
        cache.remember("t2", signIn("u1"), Never, 0);
        cache.remember("t3", signIn("u10"), Never, 0);
        cache.forgetUser(QStringLiteral("u1"));
        QVERIFY(!cache.find("t1", 1));
        QVERIFY(!cache.find("t2", 1));
        QVERIFY(cache.find("t3", 1));
    }

    void zeroTurnsItOff()
    {
        AuthCache cache(0);
        cache.remember("t1", signIn("u1"), Never, 0);
        QVERIFY(!cache.find("t1", 0));
    }

    void staysWithinItsSize()
    {
        AuthCache cache(2000, 100);
        for (int i = 0; i < 1000; ++i)
            cache.remember(QByteArray::number(i), signIn("u"), Never, i);
        int kept = 0;
        for (int i = 0; i < 1000; ++i)
            kept += cache.find(QByteArray::number(i), 1000) ? 1 : 0;
        QVERIFY2(kept > 0 && kept <= 100, qPrintable(QString::number(kept)));
        QVERIFY(cache.find("999", 1000)); // the newest is always kept
    }
};

QTEST_GUILESS_MAIN(TestAuthCache)
#include "tst_authcache.moc"
