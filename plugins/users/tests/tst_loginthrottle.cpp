// The login throttle's decision on its own: which counts refuse, for how long, and that an
// address that has not been failing is never held back by the account-wide limit.
#include "LoginThrottle.h"

#include <QtTest/QtTest>

using namespace yieldhost::users;

class TestLoginThrottle : public QObject
{
    Q_OBJECT

    const QDateTime m_now = QDateTime(QDate(2026, 11, 30), QTime(12, 0), Qt::UTC);
    const LoginThrottle::Limits m_limits; // 5 per pair, 20 per address, 20 per account, 30 s doubling, 900 s window

    LoginThrottle::Counts counts(qint64 pair, qint64 address, qint64 account, qint64 secondsSinceLastAccountFailure = 0) const
    {
        LoginThrottle::Counts c;
        c.pair = pair;
        c.address = address;
        c.account = account;
        c.oldestPair = c.oldestAddress = m_now.addSecs(-600);
        c.newestAccount = m_now.addSecs(-secondsSinceLastAccountFailure);
        return c;
    }

private Q_SLOTS:
    void belowEveryLimitIsAllowed() { QCOMPARE(LoginThrottle::retryAfter(counts(4, 19, 19), m_limits, m_now), 0); }

    void thePairLimitRefusesUntilTheOldestFailureLeavesTheWindow()
    {
        QCOMPARE(LoginThrottle::retryAfter(counts(5, 5, 5), m_limits, m_now), 300);
    }

    void theAddressLimitRefusesAcrossAccounts() { QCOMPARE(LoginThrottle::retryAfter(counts(0, 20, 0), m_limits, m_now), 300); }

    void theAccountLimitNeverHoldsBackAnAddressThatHasNotFailed()
    {
        QCOMPARE(LoginThrottle::retryAfter(counts(0, 0, 500), m_limits, m_now), 0);
    }

    void theAccountDelayDoublesPerFailurePastTheThresholdUpToTheWindow()
    {
        QCOMPARE(LoginThrottle::retryAfter(counts(1, 1, 20), m_limits, m_now), 30);
        QCOMPARE(LoginThrottle::retryAfter(counts(1, 1, 21), m_limits, m_now), 60);
        QCOMPARE(LoginThrottle::retryAfter(counts(1, 1, 23), m_limits, m_now), 240);
        QCOMPARE(LoginThrottle::retryAfter(counts(1, 1, 40), m_limits, m_now), 900);
        QCOMPARE(LoginThrottle::retryAfter(counts(1, 1, 100000), m_limits, m_now), 900); // no overflow
        // The delay runs from the newest failure: once it has passed, the address may try again.
        QCOMPARE(LoginThrottle::retryAfter(counts(1, 1, 20, 31), m_limits, m_now), 0);
    }

    void ipv6ClientsAreCountedByTheirSlash64()
    {
        QCOMPARE(LoginThrottle::addressKey(QHostAddress(QStringLiteral("2001:db8:1:2:aaaa::1"))),
                 LoginThrottle::addressKey(QHostAddress(QStringLiteral("2001:db8:1:2:bbbb::2"))));
        QVERIFY(LoginThrottle::addressKey(QHostAddress(QStringLiteral("2001:db8:1:2::1")))
                != LoginThrottle::addressKey(QHostAddress(QStringLiteral("2001:db8:1:3::1"))));
        QCOMPARE(LoginThrottle::addressKey(QHostAddress(QStringLiteral("::ffff:192.0.2.7"))), QStringLiteral("192.0.2.7"));
        QCOMPARE(LoginThrottle::addressKey(QHostAddress(QStringLiteral("192.0.2.7"))), QStringLiteral("192.0.2.7"));
    }
};

QTEST_GUILESS_MAIN(TestLoginThrottle)
#include "tst_loginthrottle.moc"
