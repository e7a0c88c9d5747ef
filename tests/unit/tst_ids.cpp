// isUuid: what may reach a ::uuid cast — the canonical 8-4-4-4-12 form only.
#include "yieldhost/Ids.h"

#include <QtCore/QUuid>
#include <QtTest/QtTest>

using namespace yieldhost;

class TestIds : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void isUuid_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("valid");
        QTest::newRow("lower") << QStringLiteral("0f8fad5b-d9cb-469f-a165-70867728950e") << true;
        QTest::newRow("upper") << QStringLiteral("0F8FAD5B-D9CB-469F-A165-70867728950E") << true;
        QTest::newRow("nil") << QStringLiteral("00000000-0000-0000-0000-000000000000") << true;
        QTest::newRow("empty") << QString() << false;
        QTest::newRow("braces") << QStringLiteral("{0f8fad5b-d9cb-469f-a165-70867728950e}") << false;
        QTest::newRow("no hyphens") << QStringLiteral("0f8fad5bd9cb469fa16570867728950e") << false;
        QTest::newRow("hyphen moved") << QStringLiteral("0f8fad5bd-9cb-469f-a165-70867728950e") << false;
        QTest::newRow("not hex") << QStringLiteral("0f8fad5b-d9cb-469f-a165-70867728950g") << false;
        QTest::newRow("one short") << QStringLiteral("0f8fad5b-d9cb-469f-a165-70867728950") << false;
        QTest::newRow("one long") << QStringLiteral("0f8fad5b-d9cb-469f-a165-70867728950e0") << false;
        QTest::newRow("trailing space") << QStringLiteral("0f8fad5b-d9cb-469f-a165-70867728950 ") << false;
        QTest::newRow("SQL") << QStringLiteral("'; DROP TABLE x; --aaaaaaaaaaaaaaaaaaaaa") << false;
        QTest::newRow("full-width digit") << QStringLiteral("0f8fad5b-d9cb-469f-a165-7086772895\uFF10e") << false;
    }
    void isUuid()
    {
        QFETCH(QString, text);
        QFETCH(bool, valid);
        QCOMPARE(yieldhost::isUuid(text), valid);
    }

    void orderedUuidsAreVersion7AndSortByTime()
    {
        const qint64 before = QDateTime::currentMSecsSinceEpoch();
        QStringList ids;
        for (int i = 0; i < 2000; ++i)
            ids.append(createOrderedUuid());
        const qint64 after = QDateTime::currentMSecsSinceEpoch();
        QSet<QString> distinct;
        for (const QString &id : std::as_const(ids)) {
            QVERIFY2(yieldhost::isUuid(id) && id == id.toLower(), qPrintable(id));
            // Qt 6.4's QUuid::version() knows no version 7: read the nibbles from the text.
            QCOMPARE(id.at(14), QChar(u'7'));
            QVERIFY2(QStringLiteral("89ab").contains(id.at(19)), qPrintable(id)); // the RFC variant, 10xx
            // The first 48 bits are the time it was made, in Unix milliseconds.
            const qint64 ms = QStringView(id).left(8).toString().toLongLong(nullptr, 16) << 16 | QStringView(id).mid(9, 4).toString().toLongLong(nullptr, 16);
            QVERIFY2(ms >= before && ms <= after, qPrintable(QStringLiteral("%1 not in [%2, %3]").arg(ms).arg(before).arg(after)));
            distinct.insert(id);
        }
        QCOMPARE(distinct.size(), ids.size());
        // One made a millisecond later sorts after every earlier one, as text and as a uuid.
        QTest::qWait(2);
        const QString later = createOrderedUuid();
        for (const QString &id : std::as_const(ids))
            QVERIFY2(id < later, qPrintable(id + QStringLiteral(" >= ") + later));
    }

    void everyGeneratedUuidPasses()
    {
        for (int i = 0; i < 1000; ++i)
            QVERIFY(yieldhost::isUuid(QUuid::createUuid().toString(QUuid::WithoutBraces)));
    }
};

QTEST_GUILESS_MAIN(TestIds)
#include "tst_ids.moc"
