// DirectTcpSocket over real loopback TCP: bytes arrive whole and in order whether send() takes
// them at once or the kernel's buffer is full and Qt queues the rest; bytesWritten() counts every
// byte and never fires inside write(); gathered writes leave at the end of the turn, and before
// a disconnect.
#include "http/DirectTcpSocket.h"

#include <QtCore/QRandomGenerator>
#include <QtNetwork/QTcpServer>
#include <QtTest/QtTest>

#include <memory>

using namespace yieldhost;

class TestDirectTcpSocket : public QObject
{
    Q_OBJECT

    struct Pair
    {
        std::unique_ptr<DirectTcpServer> server;
        DirectTcpSocket *accepted = nullptr; // owned by the server
        std::unique_ptr<QTcpSocket> client;
    };

    static std::unique_ptr<Pair> connectPair()
    {
        auto pair = std::make_unique<Pair>();
        pair->server = std::make_unique<DirectTcpServer>();
        if (!pair->server->listen(QHostAddress::LocalHost))
            return nullptr;
        pair->client = std::make_unique<QTcpSocket>();
        pair->client->connectToHost(QHostAddress::LocalHost, pair->server->serverPort());
        if (!pair->client->waitForConnected(5000) || !pair->server->waitForNewConnection(5000))
            return nullptr;
        pair->accepted = qobject_cast<DirectTcpSocket *>(pair->server->nextPendingConnection());
        return pair->accepted ? std::move(pair) : nullptr;
    }

    static QByteArray readAll(QTcpSocket &socket, qint64 size, int timeoutMs = 10000)
    {
        QByteArray in;
        QDeadlineTimer deadline(timeoutMs);
        // The event loop turns meanwhile: both ends live on this thread, and the sender's
        // gathered and queued bytes leave from it.
        while (in.size() < size && !deadline.hasExpired()) {
            in += socket.readAll();
            if (in.size() < size)
                QTest::qWait(5);
        }
        return in;
    }

    static QByteArray randomBytes(qsizetype size)
    {
        QByteArray data(size, Qt::Uninitialized);
        QRandomGenerator generator(42);
        for (char &c : data)
            c = char(generator.generate());
        return data;
    }

private Q_SLOTS:
    void theServerMakesDirectSockets()
    {
        const auto pair = connectPair();
        QVERIFY(pair);
    }

    void writesArriveInOrderAndAreCountedOutsideWrite_data()
    {
        QTest::addColumn<bool>("coalescing");
        QTest::addColumn<int>("pieces");
        QTest::addColumn<int>("pieceSize");
        QTest::newRow("direct, small") << false << 50 << 100;
        QTest::newRow("direct, beyond the kernel's buffer") << false << 64 << 256 * 1024; // 16 MiB: Qt queues the rest
        QTest::newRow("gathered, small") << true << 50 << 100;
        QTest::newRow("gathered, beyond the kernel's buffer") << true << 64 << 256 * 1024;
    }
    void writesArriveInOrderAndAreCountedOutsideWrite()
    {
        QFETCH(bool, coalescing);
        QFETCH(int, pieces);
        QFETCH(int, pieceSize);
        const auto pair = connectPair();
        QVERIFY(pair);
        pair->accepted->setCoalescing(coalescing);
        qint64 announced = 0;
        bool insideWrite = false;
        bool announcedInsideWrite = false;
        connect(pair->accepted, &QIODevice::bytesWritten, this, [&](qint64 n) {
            announced += n;
            announcedInsideWrite = announcedInsideWrite || insideWrite;
        });
        const QByteArray data = randomBytes(qsizetype(pieces) * pieceSize);
        for (int i = 0; i < pieces; ++i) {
            insideWrite = true;
            QCOMPARE(pair->accepted->write(data.constData() + qsizetype(i) * pieceSize, pieceSize), qint64(pieceSize));
            insideWrite = false;
        }
        const QByteArray received = readAll(*pair->client, data.size());
        QCOMPARE(received.size(), data.size());
        QVERIFY(received == data);
        QTRY_COMPARE_WITH_TIMEOUT(announced, qint64(data.size()), 5000);
        QVERIFY(!announcedInsideWrite);
        QCOMPARE(pair->accepted->bytesToWrite(), qint64(0));
    }

    void gatheredWritesWaitForTheEndOfTheTurn()
    {
        const auto pair = connectPair();
        QVERIFY(pair);
        pair->accepted->setCoalescing(true);
        pair->accepted->write("header");
        pair->accepted->write("payload");
        QCOMPARE(pair->accepted->bytesToWrite(), qint64(13)); // nothing sent inside the turn
        const QByteArray received = readAll(*pair->client, 13);
        QCOMPARE(received, QByteArray("headerpayload"));
        QCOMPARE(pair->accepted->bytesToWrite(), qint64(0));
    }

    void gatheredWritesLeaveBeforeADisconnect()
    {
        const auto pair = connectPair();
        QVERIFY(pair);
        pair->accepted->setCoalescing(true);
        pair->accepted->write("last words");
        pair->accepted->disconnectFromHost();
        QCOMPARE(readAll(*pair->client, 10), QByteArray("last words"));
        QVERIFY(pair->client->state() == QAbstractSocket::UnconnectedState || pair->client->waitForDisconnected(5000));
    }
};

QTEST_GUILESS_MAIN(TestDirectTcpSocket)
#include "tst_directtcpsocket.moc"
