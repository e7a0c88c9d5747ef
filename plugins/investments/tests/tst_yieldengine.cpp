// The yield rule as a pure calculation: period dates (leap years, month ends), the cumulative
// amounts against values computed independently with Python's decimal module at 120 digits, tiny
// and huge principals, ETH's 18 decimals, redemption, and the property that matters: however the
// payouts are batched, the total paid equals round(P x apy x days / 365) — never drifting.
#include "YieldEngine.h"

#include <QtCore/QRandomGenerator>
#include <QtTest/QtTest>

using namespace yieldhost;
using namespace yieldhost::investments;

namespace {

Decimal dec(const char *text)
{
    return *Decimal::fromString(QString::fromLatin1(text));
}

YieldTerms terms(const char *principal, const char *apy, int interval, int decimals, QDate opened)
{
    YieldTerms t;
    t.principal = dec(principal);
    t.apy = dec(apy);
    t.intervalDays = interval;
    t.decimals = decimals;
    t.openedOn = opened;
    return t;
}

QStringList amounts(const QList<YieldPeriod> &periods)
{
    QStringList out;
    for (const YieldPeriod &p : periods)
        out.append(p.amount.toString());
    return out;
}

} // namespace

class TestYieldEngine : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void dailyPeriodsPayTheCumulativeDifference()
    {
        const YieldTerms t = terms("1000.00", "0.05", 1, 2, QDate(2026, 1, 1));
        // Opened on Jan 1: day 1 is Jan 2, period 1 ends at Jan 3 00:00. On Jan 5, 3 have ended.
        QCOMPARE(YieldEngine::periodsEnded(t, QDate(2026, 1, 2)), 0);
        QCOMPARE(YieldEngine::periodsEnded(t, QDate(2026, 1, 3)), 1);
        const QList<YieldPeriod> due = YieldEngine::due(t, 0, Decimal(), QDate(2026, 1, 5));
        // Python: round(1000 * 0.05 * k / 365, 2) = 0.14, 0.27, 0.41
        QCOMPARE(amounts(due), QStringList({QStringLiteral("0.14"), QStringLiteral("0.13"), QStringLiteral("0.14")}));
        QCOMPARE(due[0].start, QDate(2026, 1, 2));
        QCOMPARE(due[0].end, QDate(2026, 1, 3));
        QCOMPARE(due[2].cumulative.toString(), QStringLiteral("0.41"));
        // Resuming after period 2 pays only period 3, the same amount.
        QCOMPARE(amounts(YieldEngine::due(t, 2, dec("0.27"), QDate(2026, 1, 5))), QStringList({QStringLiteral("0.14")}));
        QVERIFY(YieldEngine::due(t, 3, dec("0.41"), QDate(2026, 1, 5)).isEmpty());
    }

    void periodDatesCrossLeapDaysAndMonthEnds()
    {
        const YieldTerms weekly = terms("100.00", "0.05", 7, 2, QDate(2028, 2, 27));
        QCOMPARE(YieldEngine::period(weekly, 1).start, QDate(2028, 2, 28));
        QCOMPARE(YieldEngine::period(weekly, 1).end, QDate(2028, 3, 6)); // Feb 29 is one of the days
        const YieldTerms monthly = terms("100.00", "0.05", 30, 2, QDate(2026, 1, 31));
        QCOMPARE(YieldEngine::period(monthly, 1).start, QDate(2026, 2, 1));
        QCOMPARE(YieldEngine::period(monthly, 1).end, QDate(2026, 3, 3));
        QCOMPARE(YieldEngine::period(monthly, 2).end, QDate(2026, 4, 2));
        QCOMPARE(YieldEngine::periodsEnded(monthly, QDate(2026, 4, 1)), 1);
        QCOMPARE(YieldEngine::periodsEnded(monthly, QDate(2026, 4, 2)), 2);
        // A year with Feb 29 still divides by 365: 366 daily periods pay apy x 366/365.
        const YieldTerms leap = terms("365.00", "0.10", 1, 2, QDate(2027, 12, 31));
        QCOMPARE(YieldEngine::periodsEnded(leap, QDate(2029, 1, 2)), 367);
        QCOMPARE(YieldEngine::cumulative(leap, 366)->toString(), QStringLiteral("36.60"));
    }

    void weeklyAmounts()
    {
        const YieldTerms t = terms("250000.00", "0.0725", 7, 2, QDate(2026, 3, 1));
        const QList<YieldPeriod> due = YieldEngine::due(t, 0, Decimal(), QDate(2026, 4, 6));
        // Python: cumulative 347.60, 695.21, 1042.81, 1390.41, 1738.01
        QCOMPARE(amounts(due), QStringList({QStringLiteral("347.60"), QStringLiteral("347.61"), QStringLiteral("347.60"),
                                            QStringLiteral("347.60"), QStringLiteral("347.60")}));
    }

    void ethKeepsEighteenDecimals()
    {
        const YieldTerms t = terms("1.5", "0.0425", 1, 18, QDate(2026, 6, 1));
        const QList<YieldPeriod> due = YieldEngine::due(t, 0, Decimal(), QDate(2026, 6, 5));
        QCOMPARE(due.size(), 3);
        // Python: 0.000174657534246575, 0.000349315068493151, 0.000523972602739726
        QCOMPARE(due[0].amount.toString(), QStringLiteral("0.000174657534246575"));
        QCOMPARE(due[1].amount.toString(), QStringLiteral("0.000174657534246576"));
        QCOMPARE(due[2].cumulative.toString(), QStringLiteral("0.000523972602739726"));
    }

    void tinyPrincipalsPayZeroUntilAUnitIsDue()
    {
        const YieldTerms t = terms("0.01", "0.05", 1, 2, QDate(2026, 1, 1));
        QCOMPARE(YieldEngine::cumulative(t, 3649)->toString(), QStringLiteral("0.00"));
        QCOMPARE(YieldEngine::cumulative(t, 3650)->toString(), QStringLiteral("0.00")); // exactly half a cent: to even
        QCOMPARE(YieldEngine::cumulative(t, 10000)->toString(), QStringLiteral("0.01"));
        const QList<YieldPeriod> due = YieldEngine::due(t, 0, Decimal(), QDate(2026, 1, 10));
        QCOMPARE(due.size(), 8);
        for (const YieldPeriod &p : due)
            QVERIFY(p.amount.isZero());
    }

    void hugePrincipalsStayExact()
    {
        const YieldTerms t = terms("100000000000000000000.00", "0.12", 30, 2, QDate(2026, 1, 1));
        // Python: round(1e20 x 0.12 x 30000 / 365, 2)
        QCOMPARE(YieldEngine::cumulative(t, 1000)->toString(), QStringLiteral("986301369863013698630.14"));
    }

    void redemptionEndsThePeriods()
    {
        YieldTerms t = terms("1000.00", "0.05", 7, 2, QDate(2026, 1, 1));
        t.endsOn = QDate(2026, 1, 20); // periods end Jan 9, Jan 16, Jan 23: two are paid
        QCOMPARE(YieldEngine::due(t, 0, Decimal(), QDate(2026, 3, 1)).size(), 2);
    }

    void invalidTermsAreNeverDue()
    {
        YieldTerms t = terms("1000.00", "0.05", 1, 2, QDate(2026, 1, 1));
        t.principal = Decimal();
        QVERIFY(YieldEngine::due(t, 0, Decimal(), QDate(2027, 1, 1)).isEmpty());
        t = terms("1000.00", "0.05", 0, 2, QDate(2026, 1, 1));
        QVERIFY(YieldEngine::due(t, 0, Decimal(), QDate(2027, 1, 1)).isEmpty());
    }

    // However the payouts are batched, the total equals the one-rounding cumulative amount, and
    // that is within half a minor unit of the exact value.
    void theTotalNeverDrifts()
    {
        QRandomGenerator random(20261201);
        const int intervals[] = {1, 7, 30};
        for (int round = 0; round < 300; ++round) {
            const int decimals = int(random.bounded(19));
            const qint64 units = 1 + qint64(random.bounded(1000000000));
            const Decimal principal = *Decimal::fromInt(units).div(Decimal::fromInt(100), std::min(decimals, 2));
            const Decimal apy = *Decimal::fromInt(qint64(random.bounded(2000))).div(Decimal::fromInt(10000), 4);
            YieldTerms t;
            t.principal = principal.signum() > 0 ? principal : Decimal::fromInt(1);
            t.apy = apy;
            t.intervalDays = intervals[random.bounded(3)];
            t.decimals = decimals;
            t.openedOn = QDate(2024, 1, 1).addDays(random.bounded(1000));
            const QDate asOf = t.openedOn.addDays(2 + random.bounded(800));
            int last = 0;
            Decimal paid;
            while (true) {
                const QList<YieldPeriod> batch = YieldEngine::due(t, last, paid, asOf, 1 + int(random.bounded(5)));
                if (batch.isEmpty())
                    break;
                for (const YieldPeriod &p : batch) {
                    QVERIFY(!p.amount.isNegative());
                    paid = *paid.add(p.amount);
                    last = p.index;
                }
            }
            const int n = YieldEngine::periodsEnded(t, asOf);
            QCOMPARE(last, n);
            QCOMPARE(paid, *YieldEngine::cumulative(t, n));
            // |paid - P x apy x n x I / 365| <= half a unit, checked exactly: |365 paid - P apy n I| <= 365/2 units.
            const Decimal exact365 = *t.principal.mul(*t.apy.mul(Decimal::fromInt(qint64(n) * t.intervalDays)));
            const Decimal diff = paid.mul(Decimal::fromInt(365))->sub(exact365)->abs();
            const QString unitText = decimals == 0 ? QStringLiteral("1") : QString(QStringLiteral("0.") + QString(decimals - 1, u'0') + u'1');
            const Decimal unit = *Decimal::fromString(unitText);
            const bool within = *diff.mul(Decimal::fromInt(2)) <= *unit.mul(Decimal::fromInt(365));
            QVERIFY2(within, qPrintable(QStringLiteral("P=%1 apy=%2 I=%3 n=%4 paid=%5").arg(t.principal.toString(), t.apy.toString()).arg(t.intervalDays).arg(n).arg(paid.toString())));
        }
    }
};

QTEST_GUILESS_MAIN(TestYieldEngine)
#include "tst_yieldengine.moc"
