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

    void everyGeneratedUuidPasses()
    {
        for (int i = 0; i < 1000; ++i)
            QVERIFY(yieldhost::isUuid(QUuid::createUuid().toString(QUuid::WithoutBraces)));
    }
};

QTEST_GUILESS_MAIN(TestIds)
#include "tst_ids.moc"
