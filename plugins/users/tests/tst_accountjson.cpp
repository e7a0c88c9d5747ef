// The user object written directly as JSON text (GET /users/me) is byte for byte what
// QJsonDocument makes of the QJsonObject form, whatever a user put in the names.
#include "AccountStore.h"

#include <QtCore/QJsonDocument>
#include <QtTest/QtTest>

using yieldhost::users::Account;

class TestAccountJson : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void sameBytesAsQJsonDocument_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("plain") << QStringLiteral("Ada");
        QTest::newRow("empty") << QString();
        QTest::newRow("quotes and backslashes") << QStringLiteral("a\"b\\c\"");
        QTest::newRow("control characters") << QString::fromUtf8("\b\f\n\r\t\x01\x1f end");
        QTest::newRow("delete and non-ASCII") << QString::fromUtf8("\x7f é 漢字 😀");
        QTest::newRow("a forged field") << QStringLiteral("x\",\"is_staff\":true,\"y\":\"");
        QTest::newRow("slash and angle brackets") << QStringLiteral("</script>");
    }

    void sameBytesAsQJsonDocument()
    {
        QFETCH(QString, name);
        Account a;
        a.id = QStringLiteral("eb8a29d6-02a6-4022-ae55-65f0eff22afe");
        a.email = QStringLiteral("o'brien+") + name + QStringLiteral("@example.com");
        a.firstName = name;
        a.lastName = name + name;
        a.baseCurrency = QStringLiteral("EUR");
        a.isStaff = name.size() % 2 == 0;
        a.dateJoined = QDateTime(QDate(2026, 2, 28), QTime(23, 59, 58, 999), Qt::UTC);
        QCOMPARE(a.toJsonText(), QJsonDocument(a.toJson()).toJson(QJsonDocument::Compact));
    }
};

QTEST_GUILESS_MAIN(TestAccountJson)
#include "tst_accountjson.moc"
