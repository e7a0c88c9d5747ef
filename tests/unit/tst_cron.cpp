// Cron expressions: hand-checked next() tables, rejected syntax, and a seeded cross-check against a
// minute-by-minute reference so the month/day/hour skipping in Cron::next() cannot silently drift.
#include "jobs/Cron.h"

#include <QtCore/QRandomGenerator>
#include <QtTest/QtTest>

using namespace yieldhost;

namespace {

QDateTime utc(int year, int month, int day, int hour = 0, int minute = 0, int second = 0, int ms = 0)
{
    return QDateTime(QDate(year, month, day), QTime(hour, minute, second, ms), Qt::UTC);
}

QString iso(const QDateTime &t)
{
    return t.isValid() ? t.toString(Qt::ISODateWithMs) : QStringLiteral("(invalid)");
}

// The reference knows the expected field sets from the generator, not from Cron's parser, so it checks both.
struct ReferenceSets
{
    quint64 minutes = 0;
    quint64 hours = 0;
    quint64 daysOfMonth = 0;
    quint64 months = 0;
    quint64 daysOfWeek = 0; // Sunday = bit 0; the generator folds 7 onto it
    bool daysOfMonthStar = false;
    bool daysOfWeekStar = false;
};

bool bit(quint64 bits, int n)
{
    return (bits >> n) & 1;
}

bool referenceDay(const ReferenceSets &s, const QDate &date)
{
    if (!bit(s.months, date.month()))
        return false;
    const bool dom = bit(s.daysOfMonth, date.day());
    const bool dow = bit(s.daysOfWeek, date.dayOfWeek() == 7 ? 0 : date.dayOfWeek());
    return (s.daysOfMonthStar || s.daysOfWeekStar) ? (dom && dow) : (dom || dow);
}

bool referenceMatches(const ReferenceSets &s, const QDateTime &t)
{
    const QDateTime u = t.toUTC();
    return referenceDay(s, u.date()) && bit(s.hours, u.time().hour()) && bit(s.minutes, u.time().minute());
}

// Deliberately dumb: walk every minute up to the horizon. Only the day test is cached, which changes nothing
// about which minute is found first.
QDateTime referenceNext(const ReferenceSets &s, const QDateTime &after, const QDate &horizon)
{
    const QDateTime start = after.toUTC();
    QDate date = start.date();
    int minuteOfDay = start.time().hour() * 60 + start.time().minute() + 1;
    bool dayOk = referenceDay(s, date);
    for (;;) {
        if (minuteOfDay == 24 * 60) {
            date = date.addDays(1);
            minuteOfDay = 0;
            if (date > horizon)
                return {};
            dayOk = referenceDay(s, date);
        }
        if (dayOk && bit(s.hours, minuteOfDay / 60) && bit(s.minutes, minuteOfDay % 60))
            return QDateTime(date, QTime(minuteOfDay / 60, minuteOfDay % 60), Qt::UTC);
        ++minuteOfDay;
    }
}

struct FieldGen
{
    int min;
    int max;
    const char *const *names; // indexed by value - min; only values below min + nameCount have one
    int nameCount;
};

constexpr const char *kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char *kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

QString valueText(QRandomGenerator &rng, const FieldGen &f, int v)
{
    if (f.names && v - f.min < f.nameCount && rng.bounded(3) == 0) {
        const QString name = QString::fromLatin1(f.names[v - f.min]);
        switch (rng.bounded(3)) {
        case 0:
            return name;
        case 1:
            return name.toLower();
        default:
            return name.left(1) + name.mid(1).toLower();
        }
    }
    return QString::number(v);
}

int randomStep(QRandomGenerator &rng, const FieldGen &f)
{
    return 1 + int(rng.bounded(rng.bounded(5) == 0 ? f.max : std::min(f.max, 12)));
}

// One field's text plus the set it must denote.
QString randomField(QRandomGenerator &rng, const FieldGen &f, quint64 *bits)
{
    const auto span = [&](int low, int high, int step) {
        for (int v = low; v <= high; v += step)
            *bits |= quint64(1) << v;
    };
    const auto randomValue = [&] { return f.min + int(rng.bounded(f.max - f.min + 1)); };

    *bits = 0;
    if (rng.bounded(100) < 35) {
        span(f.min, f.max, 1);
        return QStringLiteral("*");
    }
    QStringList items;
    const int count = 1 + int(rng.bounded(3));
    for (int i = 0; i < count; ++i) {
        int a = randomValue();
        int b = randomValue();
        if (a > b)
            std::swap(a, b);
        const int step = randomStep(rng, f);
        // A '*' inside a list makes the whole field full, so keep it rare to get sparse schedules too.
        int kind = int(rng.bounded(6));
        if (kind == 0)
            kind = int(rng.bounded(6));
        switch (kind) {
        case 0:
            span(f.min, f.max, 1);
            items << QStringLiteral("*");
            break;
        case 1:
            span(a, a, 1);
            items << valueText(rng, f, a);
            break;
        case 2:
            span(a, b, 1);
            items << valueText(rng, f, a) + QLatin1Char('-') + valueText(rng, f, b);
            break;
        case 3:
            span(f.min, f.max, step);
            items << QStringLiteral("*/") + QString::number(step);
            break;
        case 4:
            span(a, b, step);
            items << valueText(rng, f, a) + QLatin1Char('-') + valueText(rng, f, b) + QLatin1Char('/')
                    + QString::number(step);
            break;
        default:
            span(a, f.max, step);
            items << valueText(rng, f, a) + QLatin1Char('/') + QString::number(step);
            break;
        }
    }
    return items.join(QLatin1Char(','));
}

} // namespace

class TestCron : public QObject
{
    Q_OBJECT

    static void addNext(const char *expression, const QDateTime &after, const QDateTime &expected)
    {
        QTest::addRow("%s | after %s", expression, qPrintable(iso(after)))
            << QString::fromUtf8(expression) << after << expected;
    }

private Q_SLOTS:
    void next_data()
    {
        QTest::addColumn<QString>("expression");
        QTest::addColumn<QDateTime>("after");
        QTest::addColumn<QDateTime>("expected");

        // 2026-03-10 is a Tuesday; 2026-03-13 a Friday; 2026-03-15 a Sunday.
        addNext("*/5 * * * *", utc(2026, 3, 10, 10, 4, 30), utc(2026, 3, 10, 10, 5));
        addNext("*/5 * * * *", utc(2026, 3, 10, 10, 5), utc(2026, 3, 10, 10, 10));
        addNext("*/5 * * * *", utc(2026, 3, 10, 10, 5, 0, 1), utc(2026, 3, 10, 10, 10));
        addNext("*/5 * * * *", utc(2026, 3, 10, 23, 58), utc(2026, 3, 11, 0, 0));
        addNext("* * * * *", utc(2026, 3, 10, 10, 4, 59, 999), utc(2026, 3, 10, 10, 5));
        addNext("* * * * *", utc(2026, 12, 31, 23, 59, 59), utc(2027, 1, 1, 0, 0));
        addNext("5 0 * * *", utc(2026, 3, 10, 0, 4), utc(2026, 3, 10, 0, 5));
        addNext("5 0 * * *", utc(2026, 3, 10, 0, 5), utc(2026, 3, 11, 0, 5));
        addNext("5 0 * * *", utc(2026, 2, 28, 12, 0), utc(2026, 3, 1, 0, 5));
        addNext("0 3 * * *", utc(2026, 3, 10, 2, 59, 59), utc(2026, 3, 10, 3, 0));
        addNext("0 3 * * *", utc(2026, 3, 10, 3, 0), utc(2026, 3, 11, 3, 0));
        addNext("0 3 * * *", utc(2026, 12, 31, 3, 0), utc(2027, 1, 1, 3, 0));
        addNext("0 12 * * *", utc(2026, 3, 10, 12, 0, 0, 1), utc(2026, 3, 11, 12, 0));
        addNext("0 0 * * *", utc(2028, 2, 28, 0, 0), utc(2028, 2, 29, 0, 0));

        // Month and year rollover.
        addNext("0 0 1 * *", utc(2026, 1, 15), utc(2026, 2, 1));
        addNext("0 0 1 * *", utc(2026, 11, 30, 23, 59), utc(2026, 12, 1));
        addNext("0 0 1 * *", utc(2026, 12, 1), utc(2027, 1, 1));
        addNext("0 0 1 1 *", utc(2026, 12, 31, 23, 59, 59), utc(2027, 1, 1));
        addNext("59 23 31 12 *", utc(2026, 12, 31, 23, 59), utc(2027, 12, 31, 23, 59));
        addNext("0 0 31 * *", utc(2026, 3, 31), utc(2026, 5, 31));
        addNext("0 0 * JAN,jul *", utc(2026, 2, 1), utc(2026, 7, 1));
        addNext("0 0 * JAN,jul *", utc(2026, 7, 31, 23, 59), utc(2027, 1, 1));
        addNext("0 0 1 jan-dec/3 *", utc(2026, 1, 1), utc(2026, 4, 1));
        addNext("0 0 1 Oct-Nov *", utc(2026, 3, 10), utc(2026, 10, 1));

        // Leap days: nothing in 2026/2027, so the search has to cross two whole years.
        addNext("0 0 29 2 *", utc(2026, 1, 1), utc(2028, 2, 29));
        addNext("0 0 29 2 *", utc(2028, 2, 29), utc(2032, 2, 29));
        addNext("0 0 29 FEB *", utc(2024, 2, 28, 23, 59), utc(2024, 2, 29));

        // Never within the 5-year window.
        addNext("0 0 30 2 *", utc(2026, 3, 10), QDateTime());
        addNext("0 0 30,31 2 *", utc(2026, 3, 10), QDateTime());
        addNext("0 0 31 4,6,9,11 *", utc(2026, 3, 10), QDateTime());

        // Days of week, names, and 7 as Sunday.
        addNext("30 12 * * MON", utc(2026, 3, 10), utc(2026, 3, 16, 12, 30));
        addNext("0 9 * * mon-fri", utc(2026, 3, 13, 17, 0), utc(2026, 3, 16, 9, 0));
        addNext("0 9 * * MON-FRI", utc(2026, 3, 13, 8, 59, 59), utc(2026, 3, 13, 9, 0));
        addNext("0 0 * * 0", utc(2026, 3, 10, 12, 0), utc(2026, 3, 15));
        addNext("0 0 * * 7", utc(2026, 3, 10, 12, 0), utc(2026, 3, 15));
        addNext("0 0 * * SUN", utc(2026, 3, 10, 12, 0), utc(2026, 3, 15));
        addNext("0 0 * * sun", utc(2026, 3, 10, 12, 0), utc(2026, 3, 15));
        addNext("0 0 * * 5-7", utc(2026, 3, 13), utc(2026, 3, 14));
        addNext("0 0 * * 5-7", utc(2026, 3, 15), utc(2026, 3, 20));
        addNext("0 0 * * 6,7", utc(2026, 3, 15), utc(2026, 3, 21));
        addNext("0 0 * * MON-7", utc(2026, 3, 10), utc(2026, 3, 11));
        addNext("0 0 * * Fri/7", utc(2026, 3, 10), utc(2026, 3, 13));

        // Both day fields restricted: either one matching is enough (Vixie).
        addNext("0 0 13 * FRI", utc(2026, 3, 10), utc(2026, 3, 13));
        addNext("0 0 13 * FRI", utc(2026, 3, 13), utc(2026, 3, 20));
        addNext("0 0 13 * FRI", utc(2026, 4, 10), utc(2026, 4, 13));
        addNext("0 0 1-7 * MON", utc(2026, 3, 10), utc(2026, 3, 16));
        addNext("0 0 1-7 * MON", utc(2026, 3, 30), utc(2026, 4, 1));
        addNext("0 0 29 2 MON", utc(2026, 3, 1), utc(2027, 2, 1));
        // A field starting with '*' counts as unrestricted, so these need both (Vixie's first-character rule).
        addNext("0 0 13 * *", utc(2026, 3, 10), utc(2026, 3, 13));
        addNext("0 0 * * FRI", utc(2026, 3, 14), utc(2026, 3, 20));
        addNext("0 0 */10 * MON", utc(2026, 3, 10), utc(2026, 5, 11));

        // Ranges, steps and lists.
        addNext("0-30/10 * * * *", utc(2026, 3, 10, 10, 5), utc(2026, 3, 10, 10, 10));
        addNext("0-30/10 * * * *", utc(2026, 3, 10, 10, 30), utc(2026, 3, 10, 11, 0));
        addNext("10/20 * * * *", utc(2026, 3, 10, 10, 10), utc(2026, 3, 10, 10, 30));
        addNext("10/20 * * * *", utc(2026, 3, 10, 10, 50), utc(2026, 3, 10, 11, 10));
        addNext("0 8-18/4 * * *", utc(2026, 3, 10, 9, 0), utc(2026, 3, 10, 12, 0));
        addNext("0 8-18/4 * * *", utc(2026, 3, 10, 16, 0), utc(2026, 3, 11, 8, 0));
        addNext("15 */6 * * *", utc(2026, 3, 10, 18, 15), utc(2026, 3, 11, 0, 15));
        addNext("5,10-12,*/30 * * * *", utc(2026, 3, 10, 10, 5), utc(2026, 3, 10, 10, 10));
        addNext("5,10-12,*/30 * * * *", utc(2026, 3, 10, 10, 12), utc(2026, 3, 10, 10, 30));
        addNext("5,10-12,*/30 * * * *", utc(2026, 3, 10, 10, 30), utc(2026, 3, 10, 11, 0));
        addNext("  */15 \t *  * * *  ", utc(2026, 3, 10, 10, 0), utc(2026, 3, 10, 10, 15));

        // Macros.
        addNext("@yearly", utc(2026, 3, 10, 10, 4, 30), utc(2027, 1, 1));
        addNext("@annually", utc(2026, 3, 10, 10, 4, 30), utc(2027, 1, 1));
        addNext("@monthly", utc(2026, 3, 10, 10, 4, 30), utc(2026, 4, 1));
        addNext("@weekly", utc(2026, 3, 10, 10, 4, 30), utc(2026, 3, 15));
        addNext("@daily", utc(2026, 3, 10, 10, 4, 30), utc(2026, 3, 11));
        addNext("@midnight", utc(2026, 3, 10, 10, 4, 30), utc(2026, 3, 11));
        addNext("@hourly", utc(2026, 3, 10, 10, 4, 30), utc(2026, 3, 10, 11, 0));
        addNext("@hourly", utc(2026, 3, 10, 11, 0), utc(2026, 3, 10, 12, 0));
        addNext("@HOURLY", utc(2026, 3, 10, 23, 0), utc(2026, 3, 11, 0, 0));

        // Non-UTC input is converted before the search.
        const QDateTime plusTwo(QDate(2026, 3, 10), QTime(12, 4, 30), Qt::OffsetFromUTC, 2 * 3600);
        addNext("*/5 * * * *", plusTwo, utc(2026, 3, 10, 10, 5));
        const QDateTime minusFive(QDate(2026, 12, 31), QTime(20, 30), Qt::OffsetFromUTC, -5 * 3600);
        addNext("0 0 1 1 *", minusFive, utc(2028, 1, 1)); // already 01:30 UTC on 2027-01-01
    }

    void next()
    {
        QFETCH(QString, expression);
        QFETCH(QDateTime, after);
        QFETCH(QDateTime, expected);

        QString error;
        const auto cron = Cron::parse(expression, &error);
        QVERIFY2(cron, qPrintable(error));
        const QDateTime actual = cron->next(after);
        QVERIFY2(actual.isValid() == expected.isValid(), qPrintable(iso(actual)));
        if (!expected.isValid())
            return;
        QCOMPARE(actual, expected);
        QCOMPARE(actual.timeSpec(), Qt::UTC);
        QVERIFY(cron->matches(actual));
        QVERIFY(actual > after);
    }

    void invalid_data()
    {
        QTest::addColumn<QString>("expression");
        const char *const expressions[] = {
            "",
            "   ",
            "* * * *",
            "* * * * * *",
            "* * * * * * *",
            "hello",
            "60 * * * *",
            "61 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * 32 * *",
            "* * * 0 *",
            "* * * 13 *",
            "* * * * 8",
            "99999999999 * * * *",
            "*/0 * * * *",
            "1/0 * * * *",
            "0-30/0 * * * *",
            "*/61 * * * *",
            "*/x * * * *",
            "*/ * * * *",
            "*/5/2 * * * *",
            "5-1 * * * *",
            "* 23-1 * * *",
            "* * * DEC-JAN *",
            "* * * * MON-SUN",
            "* * * * sat-sun",
            "1,,2 * * * *",
            ",1 * * * *",
            "1, * * * *",
            "* * , * *",
            "1-2-3 * * * *",
            "1- * * * *",
            "-1 * * * *",
            "*-5 * * * *",
            "/5 * * * *",
            "+5 * * * *",
            "5.0 * * * *",
            "abc * * * *",
            "L * * * *",
            "? * * * *",
            "0 0 L * *",
            "0 0 * * 1#2",
            "0 0 * * 5L",
            "* * JAN * *",
            "MON * * * *",
            "* * * FOO *",
            "* * * JANUARY *",
            "* * * * FUN",
            "* * * * MONDAY",
            "@reboot",
            "@every 5m",
            "@daily *",
            "@",
            "*,* * * * *x",
            "\xd9\xa3 * * * *", // Arabic-Indic digit three: not an ASCII number
        };
        for (const char *expression : expressions)
            QTest::addRow("\"%s\"", expression) << QString::fromUtf8(expression);
    }

    void invalid()
    {
        QFETCH(QString, expression);
        QString error;
        const auto cron = Cron::parse(expression, &error);
        QVERIFY2(!cron, qPrintable(QStringLiteral("accepted, next: ") + iso(cron ? cron->next(utc(2026, 1, 1)) : QDateTime())));
        QVERIFY(!error.isEmpty());
        QVERIFY2(!error.contains(QLatin1Char('\n')), qPrintable(error));
    }

    void errorMessagesNameTheFieldAndValue()
    {
        QString error;
        QVERIFY(!Cron::parse(QStringLiteral("61 * * * *"), &error));
        QCOMPARE(error, QStringLiteral("minute field \"61\" is out of range 0-59"));
        QVERIFY(!Cron::parse(QStringLiteral("0 0 * * 9"), &error));
        QCOMPARE(error, QStringLiteral("day-of-week field \"9\" is out of range 0-7"));
        QVERIFY(!Cron::parse(QStringLiteral("0 5-1 * * *"), &error));
        QVERIFY2(error.startsWith(QStringLiteral("hour field \"5-1\"")), qPrintable(error));
        QVERIFY(!Cron::parse(QStringLiteral("0 0 * * MON-SUN"), &error));
        QVERIFY2(error.contains(QStringLiteral("with 7")), qPrintable(error));
        QVERIFY(!Cron::parse(QStringLiteral("* * * *"), &error));
        QVERIFY2(error.contains(QStringLiteral("4 fields")), qPrintable(error));
    }

    void parseToleratesNullErrorPointer()
    {
        QVERIFY(!Cron::parse(QStringLiteral("nope"), nullptr));
        QVERIFY(Cron::parse(QStringLiteral("* * * * *"), nullptr));
    }

    void expressionIsKeptTrimmed()
    {
        QString error;
        QCOMPARE(Cron::parse(QStringLiteral("  */5 * * * *\n"), &error)->expression(), QStringLiteral("*/5 * * * *"));
        QCOMPARE(Cron::parse(QStringLiteral("@daily"), &error)->expression(), QStringLiteral("@daily"));
    }

    void matches_data()
    {
        QTest::addColumn<QString>("expression");
        QTest::addColumn<QDateTime>("when");
        QTest::addColumn<bool>("expected");

        const auto add = [](const char *expression, const QDateTime &when, bool expected) {
            QTest::addRow("%s | %s", expression, qPrintable(iso(when))) << QString::fromUtf8(expression) << when
                                                                        << expected;
        };
        add("*/5 * * * *", utc(2026, 3, 10, 10, 5, 42, 7), true); // seconds ignored
        add("*/5 * * * *", utc(2026, 3, 10, 10, 6), false);
        add("*/5 * * * *", QDateTime(QDate(2026, 3, 10), QTime(12, 5), Qt::OffsetFromUTC, 7200), true);
        add("0 0 13 * FRI", utc(2026, 3, 20), true);  // a Friday
        add("0 0 13 * FRI", utc(2026, 4, 13), true);  // a Monday the 13th
        add("0 0 13 * FRI", utc(2026, 4, 14), false); // neither
        add("0 0 */10 * MON", utc(2026, 3, 16), false); // Monday, but not day 1/11/21/31
        add("0 0 */10 * MON", utc(2026, 5, 11), true);
        add("0 0 * * 7", utc(2026, 3, 15), true);
        add("0 0 * * 7", utc(2026, 3, 16), false);
        add("0 0 29 2 *", utc(2028, 2, 29), true);
        add("* * * * *", QDateTime(), false);
    }

    void matches()
    {
        QFETCH(QString, expression);
        QFETCH(QDateTime, when);
        QFETCH(bool, expected);
        QString error;
        const auto cron = Cron::parse(expression, &error);
        QVERIFY2(cron, qPrintable(error));
        QCOMPARE(cron->matches(when), expected);
    }

    void invalidAfterGivesInvalidNext()
    {
        QString error;
        QVERIFY(!Cron::parse(QStringLiteral("* * * * *"), &error)->next(QDateTime()).isValid());
    }

    void randomizedAgainstReference_data()
    {
        QTest::addColumn<QString>("expression");
        QTest::addColumn<quint64>("minutes");
        QTest::addColumn<quint64>("hours");
        QTest::addColumn<quint64>("daysOfMonth");
        QTest::addColumn<quint64>("months");
        QTest::addColumn<quint64>("daysOfWeek");
        QTest::addColumn<bool>("daysOfMonthStar");
        QTest::addColumn<bool>("daysOfWeekStar");
        QTest::addColumn<QDateTime>("after");
        QTest::addColumn<quint32>("seed");

        const FieldGen fields[] = {
            {0, 59, nullptr, 0},
            {0, 23, nullptr, 0},
            {1, 31, nullptr, 0},
            {1, 12, kMonthNames, 12},
            {0, 7, kDayNames, 7},
        };
        QRandomGenerator rng(20260310);
        const qint64 from = utc(2020, 1, 1).toSecsSinceEpoch();
        const qint64 to = utc(2035, 1, 1).toSecsSinceEpoch();
        for (int row = 0; row < 200; ++row) {
            quint64 bits[5];
            QStringList texts;
            for (int i = 0; i < 5; ++i)
                texts << randomField(rng, fields[i], &bits[i]);
            const quint64 dows = (bits[4] | (bits[4] >> 7)) & 0x7f;
            const QDateTime after = QDateTime::fromMSecsSinceEpoch(
                (from + qint64(rng.bounded(quint64(to - from)))) * 1000 + rng.bounded(1000), Qt::UTC);
            const QString expression = texts.join(QLatin1Char(' '));
            QTest::addRow("%d: %s | after %s", row, qPrintable(expression), qPrintable(iso(after)))
                << expression << bits[0] << bits[1] << bits[2] << bits[3] << dows
                << texts[2].startsWith(QLatin1Char('*')) << texts[4].startsWith(QLatin1Char('*')) << after
                << rng.generate();
        }
    }

    void randomizedAgainstReference()
    {
        QFETCH(QString, expression);
        QFETCH(quint64, minutes);
        QFETCH(quint64, hours);
        QFETCH(quint64, daysOfMonth);
        QFETCH(quint64, months);
        QFETCH(quint64, daysOfWeek);
        QFETCH(bool, daysOfMonthStar);
        QFETCH(bool, daysOfWeekStar);
        QFETCH(QDateTime, after);
        QFETCH(quint32, seed);
        const ReferenceSets sets{minutes, hours, daysOfMonth, months, daysOfWeek, daysOfMonthStar, daysOfWeekStar};

        QString error;
        const auto cron = Cron::parse(expression, &error);
        QVERIFY2(cron, qPrintable(error));

        // Chain a few steps so "after" is regularly an exact match, which must be skipped.
        QDateTime t = after;
        for (int step = 0; step < 3; ++step) {
            const QDate horizon = t.date().addYears(2);
            const QDateTime expected = referenceNext(sets, t, horizon);
            const QDateTime actual = cron->next(t);
            if (!expected.isValid()) {
                // Cron looks further ahead (5 years) than the reference, so it may still find something.
                QVERIFY2(!actual.isValid() || actual.date() > horizon, qPrintable(iso(actual)));
                break;
            }
            QCOMPARE(actual, expected);
            t = actual;
        }

        QRandomGenerator rng(seed);
        const qint64 base = after.toSecsSinceEpoch() / 60;
        for (int i = 0; i < 50; ++i) {
            const QDateTime when = QDateTime::fromSecsSinceEpoch((base + qint64(rng.bounded(2 * 366 * 24 * 60))) * 60,
                                                                 Qt::UTC);
            QVERIFY2(cron->matches(when) == referenceMatches(sets, when), qPrintable(iso(when)));
        }
    }
};

QTEST_GUILESS_MAIN(TestCron)
#include "tst_cron.moc"
