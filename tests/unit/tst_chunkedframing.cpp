// ChunkedFraming: the strict chunked grammar that stands in front of a lenient http_parser. Each
// refusal below is something Debian's non-strict build accepts and a strict proxy would frame
// differently; each acceptance is valid RFC 9112 that must keep working, split at any byte.
#include "http/ChunkedFraming.h"

#include <QtTest/QtTest>

using namespace yieldhost;

class TestChunkedFraming : public QObject
{
    Q_OBJECT

    // Feeds `body` in pieces of `piece` bytes; returns the total accepted and whether it completed.
    static ChunkedFraming::Step feedInPieces(const QByteArray &body, qsizetype piece)
    {
        ChunkedFraming framing(64);
        ChunkedFraming::Step total;
        for (qsizetype at = 0; at < body.size(); at += piece) {
            const ChunkedFraming::Step step = framing.feed(body.mid(at, piece));
            total.accepted += step.accepted;
            if (!step.error.isEmpty() || step.complete) {
                total.error = step.error;
                total.complete = step.complete;
                return total;
            }
        }
        return total;
    }

private Q_SLOTS:
    void validBodiesAreAcceptedToTheirLastByteSplitAnywhere_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::newRow("one chunk") << QByteArray("5\r\nhello\r\n0\r\n\r\n");
        QTest::newRow("two chunks, hex") << QByteArray("a\r\n0123456789\r\nA\r\n0123456789\r\n0\r\n\r\n");
        QTest::newRow("extension") << QByteArray("5;name=value\r\nhello\r\n0\r\n\r\n");
        QTest::newRow("BWS before extension") << QByteArray("5 ;x\r\nhello\r\n0\r\n\r\n");
        QTest::newRow("trailer") << QByteArray("5\r\nhello\r\n0\r\nExpires: never\r\n\r\n");
        QTest::newRow("empty body") << QByteArray("0\r\n\r\n");
        QTest::newRow("data holding CRLF") << QByteArray("4\r\n\r\n\r\n\r\n0\r\n\r\n");
    }
    void validBodiesAreAcceptedToTheirLastByteSplitAnywhere()
    {
        QFETCH(QByteArray, body);
        const QByteArray next = "GET / HTTP/1.1\r\n\r\n"; // a pipelined request must not be read as body
        for (qsizetype piece : {qsizetype(1), qsizetype(2), qsizetype(3), qsizetype(7), qsizetype(1000)}) {
            const ChunkedFraming::Step step = feedInPieces(body + next, piece);
            QVERIFY2(step.error.isEmpty(), qPrintable(step.error));
            QVERIFY(step.complete);
            QCOMPARE(step.accepted, body.size());
        }
    }

    void brokenFramingIsRefusedAtTheBadByte_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<qsizetype>("badAt");
        QTest::newRow("bare LF after size") << QByteArray("5\nhello\r\n0\r\n\r\n") << qsizetype(1);
        QTest::newRow("bare LF after data") << QByteArray("5\r\nhello\n0\r\n\r\n") << qsizetype(8);
        QTest::newRow("data longer than size") << QByteArray("3\r\nhello\r\n0\r\n\r\n") << qsizetype(6);
        QTest::newRow("space after size") << QByteArray("5 \r\nhello\r\n0\r\n\r\n") << qsizetype(2);
        QTest::newRow("no size") << QByteArray("\r\nhello\r\n0\r\n\r\n") << qsizetype(0);
        QTest::newRow("sign") << QByteArray("+5\r\nhello\r\n0\r\n\r\n") << qsizetype(0);
        QTest::newRow("sixteen digits") << QByteArray("0000000000000005\r\nhello\r\n0\r\n\r\n") << qsizetype(15);
        QTest::newRow("LF in extension") << QByteArray("5;a\nb\r\nhello\r\n0\r\n\r\n") << qsizetype(3);
        QTest::newRow("bare LF in trailer") << QByteArray("0\r\nX: y\n\r\n") << qsizetype(7);
        QTest::newRow("bare LF at the end") << QByteArray("0\r\n\n") << qsizetype(3);
    }
    void brokenFramingIsRefusedAtTheBadByte()
    {
        QFETCH(QByteArray, body);
        QFETCH(qsizetype, badAt);
        for (qsizetype piece : {qsizetype(1), qsizetype(4), qsizetype(1000)}) {
            const ChunkedFraming::Step step = feedInPieces(body, piece);
            QVERIFY2(!step.error.isEmpty(), body.constData());
            QVERIFY(!step.complete);
            QCOMPARE(step.accepted, badAt);
        }
    }

    void aLongTrailerSectionIsRefused()
    {
        ChunkedFraming framing(64);
        const ChunkedFraming::Step step = framing.feed(QByteArray("0\r\nX: " + QByteArray(100, 'a') + "\r\n\r\n"));
        QVERIFY(!step.error.isEmpty());
        QVERIFY(step.error.contains(QLatin1String("64")));
    }
};

QTEST_APPLESS_MAIN(TestChunkedFraming)
#include "tst_chunkedframing.moc"
