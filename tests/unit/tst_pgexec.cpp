// Placeholder rewriting and value formatting for libpq, without a server.
#include "db/PgExec.h"

#include <QtCore/QDateTime>
#include <QtTest/QtTest>

using namespace yieldhost;

class TestPgExec : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void placeholdersBecomeNumbered_data()
    {
        QTest::addColumn<QString>("sql");
        QTest::addColumn<QByteArray>("expected");
        QTest::addColumn<int>("count");
        QTest::newRow("plain") << QStringLiteral("SELECT ? + ?") << QByteArray("SELECT $1 + $2") << 2;
        QTest::newRow("in string") << QStringLiteral("SELECT '?', ?") << QByteArray("SELECT '?', $1") << 1;
        QTest::newRow("escaped quote") << QStringLiteral("SELECT 'it''s ?', ?") << QByteArray("SELECT 'it''s ?', $1") << 1;
        QTest::newRow("identifier") << QStringLiteral("SELECT \"a?\" FROM t WHERE x = ?") << QByteArray("SELECT \"a?\" FROM t WHERE x = $1") << 1;
        QTest::newRow("comment") << QStringLiteral("SELECT ? -- why?\n, ?") << QByteArray("SELECT $1 -- why?\n, $2") << 2;
        QTest::newRow("dollar quoted") << QStringLiteral("SELECT $q$ ? $q$, ?") << QByteArray("SELECT $q$ ? $q$, $1") << 1;
        QTest::newRow("cast") << QStringLiteral("SELECT ?::numeric") << QByteArray("SELECT $1::numeric") << 1;
        QTest::newRow("none") << QStringLiteral("SELECT 1") << QByteArray("SELECT 1") << 0;
    }
    void placeholdersBecomeNumbered()
    {
        QFETCH(QString, sql);
        QFETCH(QByteArray, expected);
        QFETCH(int, count);
        int n = -1;
        QCOMPARE(PgExec::positional(sql, &n), expected);
        QCOMPARE(n, count);
    }

    void valuesAreFormattedForPostgres()
    {
        QCOMPARE(*PgExec::text(QVariant(true)), QByteArray("t"));
        QCOMPARE(*PgExec::text(QVariant(qint64(-42))), QByteArray("-42"));
        QCOMPARE(*PgExec::text(QVariant(QStringLiteral("12.50"))), QByteArray("12.50"));
        QCOMPARE(*PgExec::text(QVariant(QStringLiteral("ünïcode"))), QStringLiteral("ünïcode").toUtf8());
        const QDateTime dt(QDate(2026, 11, 24), QTime(10, 15, 0, 250), Qt::UTC);
        QCOMPARE(*PgExec::text(QVariant(dt)), QByteArray("2026-11-24T10:15:00.250Z"));
    }

    void nullsStayNull()
    {
        QVERIFY(!PgExec::text(QVariant()));
        QVERIFY(!PgExec::text(QVariant(QString())));
        QVERIFY(!PgExec::text(QVariant(QDateTime())));
    }
};

QTEST_GUILESS_MAIN(TestPgExec)
#include "tst_pgexec.moc"
