// The retry delay of a failed job, JobWorker::backoffMs: retry_base_ms · 2^(attempt-1), capped at
// retry_max_ms, then ×0.8–1.2 jitter (docs/jobs.md). Each case draws the delay many times: every
// draw stays inside the band around the documented delay, and the draws spread across the band,
// so jobs that failed together do not all come back at the same instant — capped ones included.
#include "jobs/JobWorker.h"

#include <QtTest/QtTest>

#include <algorithm>
#include <limits>

using namespace yieldhost;

namespace {

constexpr qint64 Hour = 3600 * 1000;

// The delay the docs promise before jitter, by doubling rather than by the formula under test.
qint64 documentedDelay(int attempt, qint64 baseMs, qint64 maxMs)
{
    qint64 delay = baseMs;
    for (int i = 1; i < attempt && delay < maxMs; ++i)
        delay *= 2;
    return std::min(delay, maxMs);
}

} // namespace

class TestBackoff : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void staysWithinTwentyPercentOfTheDocumentedDelay_data()
    {
        QTest::addColumn<int>("attempt");
        QTest::addColumn<qint64>("baseMs");
        QTest::addColumn<qint64>("maxMs");
        // The defaults: 2 s doubling, past the one-hour cap from attempt 12 on.
        for (int attempt = 1; attempt <= 16; ++attempt)
            QTest::addRow("attempt %d", attempt) << attempt << qint64(2000) << Hour;
        // However many attempts, the cap holds; the exponent must not overflow into a negative
        // or runaway delay.
        for (const int attempt : {41, 64, 1000, std::numeric_limits<int>::max()})
            QTest::addRow("attempt %d", attempt) << attempt << qint64(2000) << Hour;
        QTest::newRow("a cap below the base wins at once") << 1 << qint64(5000) << qint64(1000);
        QTest::newRow("a short base") << 3 << qint64(200) << Hour;
        // A job's attempt count is at least 1 when it fails; anything less waits the base.
        QTest::newRow("attempt 0") << 0 << qint64(2000) << Hour;
        QTest::newRow("attempt -5") << -5 << qint64(2000) << Hour;
    }

    void staysWithinTwentyPercentOfTheDocumentedDelay()
    {
        QFETCH(int, attempt);
        QFETCH(qint64, baseMs);
        QFETCH(qint64, maxMs);
        const qint64 delay = documentedDelay(attempt, baseMs, maxMs);
        qint64 lowest = std::numeric_limits<qint64>::max();
        qint64 highest = std::numeric_limits<qint64>::min();
        for (int i = 0; i < 2000; ++i) {
            const qint64 d = JobWorker::backoffMs(attempt, baseMs, maxMs);
            lowest = std::min(lowest, d);
            highest = std::max(highest, d);
        }
        const QString seen = QStringLiteral("%1..%2 ms around %3 ms").arg(lowest).arg(highest).arg(delay);
        // Whole milliseconds: a draw at the very bottom may round down by one.
        QVERIFY2(lowest >= delay * 4 / 5 - 1, qPrintable(seen));
        QVERIFY2(highest <= delay * 6 / 5, qPrintable(seen));
        // 2000 uniform draws all missing the outer eighth of the band at one end: (7/8)^2000.
        QVERIFY2(lowest < delay * 85 / 100, qPrintable(seen));
        QVERIFY2(highest > delay * 115 / 100, qPrintable(seen));
    }

    void noBaseMeansNoDelay()
    {
        for (int attempt = 1; attempt <= 5; ++attempt)
            QCOMPARE(JobWorker::backoffMs(attempt, 0, Hour), qint64(0));
    }
};

QTEST_APPLESS_MAIN(TestBackoff)
#include "tst_backoff.moc"
