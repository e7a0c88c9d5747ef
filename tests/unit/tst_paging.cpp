// tst_paging.cpp — specification of yieldhost::PageRequest, the SDK's list paging.
//
// Covered: the default and the bounds of ?limit= (422 naming "limit" outside 1..500 or not a
// number); a cursor round trip carrying the position; "next" null on the last page; cursors that
// are tampered with, truncated, garbage, signed with another key, or carried to another list's
// path are all 422 naming "cursor".
#include "yieldhost/HostAccess.h"
#include "yieldhost/Paging.h"

#include <QtCore/QJsonDocument>
#include <QtTest/QTest>

using namespace yieldhost;

namespace {

HttpRequest request(const QString &path, const QString &query)
{
    HttpRequest r;
    HttpRequestWriter::setMethod(r, HttpMethod::Get);
    HttpRequestWriter::setPath(r, path);
    HttpRequestWriter::setQuery(r, QUrlQuery(query));
    return r;
}

QString failedField(const Problem &p)
{
    return p.errors.isEmpty() ? QString() : p.errors.firstKey();
}

} // namespace

class TestPaging : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { PagingKeyWriter::setKey(QByteArrayLiteral("a test key of thirty-two bytes!!")); }

    void theDefaultLimitIs50()
    {
        Problem p;
        const auto page = PageRequest::fromRequest(request(QStringLiteral("/api/v1/things"), {}), &p);
        QVERIFY(page);
        QCOMPARE(page->limit, 50);
        QVERIFY(page->after.isEmpty());
    }

    void aLimitOutside1To500Is422_data()
    {
        QTest::addColumn<QString>("limit");
        for (const char *bad : {"0", "-1", "501", "abc", "1.5", "", "9999999999"})
            QTest::newRow(bad) << QString::fromLatin1(bad);
    }
    void aLimitOutside1To500Is422()
    {
        QFETCH(QString, limit);
        Problem p;
        QVERIFY(!PageRequest::fromRequest(request(QStringLiteral("/api/v1/things"), QStringLiteral("limit=") + limit), &p));
        QCOMPARE(p.status, 422);
        QCOMPARE(failedField(p), QStringLiteral("limit"));
    }

    void limitsAtTheBoundsAreAccepted()
    {
        Problem p;
        QCOMPARE(PageRequest::fromRequest(request(QStringLiteral("/x"), QStringLiteral("limit=1")), &p)->limit, 1);
        QCOMPARE(PageRequest::fromRequest(request(QStringLiteral("/x"), QStringLiteral("limit=500")), &p)->limit, 500);
    }

    void aCursorCarriesThePositionToTheNextPage()
    {
        Problem p;
        const auto first = PageRequest::fromRequest(request(QStringLiteral("/api/v1/things"), QStringLiteral("limit=2")), &p);
        const QJsonObject position{{QStringLiteral("created_at"), QStringLiteral("2026-11-30T10:00:00Z")}, {QStringLiteral("id"), 42}};
        const QJsonObject reply = first->reply({1, 2}, position);
        const QString cursor = reply.value(QLatin1String("next")).toString();
        QVERIFY(!cursor.isEmpty());
        QVERIFY2(!cursor.contains(QLatin1String("42")) || cursor.contains(u'.'), "opaque: base64, not the raw position");
        const auto second = PageRequest::fromRequest(request(QStringLiteral("/api/v1/things"), QStringLiteral("limit=2&cursor=") + cursor), &p);
        QVERIFY(second);
        QCOMPARE(second->after, position);
    }

    void theLastPageHasANullNext()
    {
        Problem p;
        const auto page = PageRequest::fromRequest(request(QStringLiteral("/x"), {}), &p);
        const QJsonObject reply = page->reply({1}, std::nullopt);
        QVERIFY(reply.value(QLatin1String("next")).isNull());
        QCOMPARE(reply.value(QLatin1String("results")).toArray().size(), 1);
    }

    void aCursorThisServerDidNotIssueIs422()
    {
        Problem p;
        const auto page = PageRequest::fromRequest(request(QStringLiteral("/api/v1/things"), {}), &p);
        const QString good = page->cursorAfter({{QStringLiteral("id"), 42}});
        const QString payload = good.section(u'.', 0, 0), signature = good.section(u'.', 1);
        const QString forgedPayload = QString::fromLatin1(QByteArray(R"({"id":43})").toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
        const QStringList bad{forgedPayload + u'.' + signature, payload, payload + u'.', QStringLiteral("!!"), QStringLiteral("e30"),
                              payload + u'.' + signature.left(signature.size() - 2)};
        for (const QString &cursor : bad) {
            QVERIFY2(!PageRequest::fromRequest(request(QStringLiteral("/api/v1/things"), QStringLiteral("cursor=") + cursor), &p), qPrintable(cursor));
            QCOMPARE(p.status, 422);
            QCOMPARE(failedField(p), QStringLiteral("cursor"));
        }
        // Another list's path, and the same cursor once the key changed.
        QVERIFY(!PageRequest::fromRequest(request(QStringLiteral("/api/v1/other"), QStringLiteral("cursor=") + good), &p));
        QVERIFY(PageRequest::fromRequest(request(QStringLiteral("/api/v1/things"), QStringLiteral("cursor=") + good), &p));
        PagingKeyWriter::setKey(QByteArrayLiteral("another key entirely, 32 bytes!!"));
        QVERIFY(!PageRequest::fromRequest(request(QStringLiteral("/api/v1/things"), QStringLiteral("cursor=") + good), &p));
    }
};

QTEST_GUILESS_MAIN(TestPaging)
#include "tst_paging.moc"
