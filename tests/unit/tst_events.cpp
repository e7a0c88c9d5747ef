// The in-process event bus: queued delivery on the subscriber's thread, topic matching, and
// subscriptions that end with their context object.
#include "yieldhost/Events.h"

#include <QtCore/QThread>
#include <QtTest/QtTest>

using namespace yieldhost;

class TestEvents : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void deliveryIsQueuedNotInThePublishersStack()
    {
        EventBus bus;
        QObject context;
        QList<QJsonObject> received;
        bus.subscribe(QStringLiteral("wallets.updated"), &context, [&received](const Event &e) { received.append(e.data); });
        bus.publish(QStringLiteral("wallets.updated"), QJsonObject{{QStringLiteral("wallet_id"), QStringLiteral("w1")}});
        QVERIFY(received.isEmpty()); // not yet: queued
        QTRY_COMPARE(received.size(), 1);
        QCOMPARE(received.first().value(QLatin1String("wallet_id")).toString(), QStringLiteral("w1"));
    }

    void onlyMatchingTopicsAndTheWildcardReceive()
    {
        EventBus bus;
        QObject context;
        QStringList exact, all;
        bus.subscribe(QStringLiteral("a"), &context, [&exact](const Event &e) { exact.append(e.topic); });
        bus.subscribe(QStringLiteral("*"), &context, [&all](const Event &e) { all.append(e.topic); });
        bus.publish(QStringLiteral("a"), {});
        bus.publish(QStringLiteral("b"), {});
        QTRY_COMPARE(all.size(), 2);
        QCOMPARE(exact, QStringList{QStringLiteral("a")});
        QCOMPARE(all, (QStringList{QStringLiteral("a"), QStringLiteral("b")}));
    }

    void subscriberRunsOnItsContextsThread()
    {
        EventBus bus;
        QThread worker;
        worker.start();
        QObject context;
        context.moveToThread(&worker);
        QThread *ranOn = nullptr;
        bus.subscribe(QStringLiteral("x"), &context, [&ranOn](const Event &) { ranOn = QThread::currentThread(); });
        bus.publish(QStringLiteral("x"), {}); // from the test's thread
        QTRY_VERIFY(ranOn != nullptr);
        QCOMPARE(ranOn, &worker);
        worker.quit();
        worker.wait();
    }

    void subscriptionEndsWithItsContext()
    {
        EventBus bus;
        int calls = 0;
        {
            QObject context;
            bus.subscribe(QStringLiteral("x"), &context, [&calls](const Event &) { ++calls; });
        }
        bus.publish(QStringLiteral("x"), {});
        QTest::qWait(50);
        QCOMPARE(calls, 0);
    }
};

QTEST_GUILESS_MAIN(TestEvents)
#include "tst_events.moc"
