// The in-process event bus: queued delivery on the subscriber's thread, topic matching, and
// subscriptions that end with their context object; keyed delivery (SDK 1.1): an event published
// for a user reaches that user's subscribers and the topic-wide ones, with the user named, never
// another user's; unsubscribing or destroying the context stops it, also while another thread
// publishes; 10,000 users × one event each is 10,000 deliveries.
#include "yieldhost/Events.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QThread>

#include <atomic>
#include <memory>
#include <vector>
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

    void keyedDeliveryReachesOnlyThatUsersSubscribers()
    {
        EventBus bus;
        QObject context;
        QStringList alice, bob;
        bus.subscribeFor(QStringLiteral("a"), QStringLiteral("alice"), &context, [&alice](const Event &e) { alice.append(e.userId); });
        bus.subscribeFor(QStringLiteral("a"), QStringLiteral("bob"), &context, [&bob](const Event &e) { bob.append(e.userId); });
        bus.publishFor(QStringLiteral("a"), QStringLiteral("alice"), {});
        bus.publishFor(QStringLiteral("b"), QStringLiteral("alice"), {}); // another topic
        bus.publish(QStringLiteral("a"), {});                              // about nobody in particular
        QTRY_COMPARE(alice.size(), 1);
        QTest::qWait(20);
        QCOMPARE(alice, QStringList{QStringLiteral("alice")});
        QVERIFY(bob.isEmpty());
    }

    void keyedSubscriptionToEveryTopicGetsAllOfItsUsersEvents()
    {
        EventBus bus;
        QObject context;
        QStringList topics;
        bus.subscribeFor(QStringLiteral("*"), QStringLiteral("alice"), &context, [&topics](const Event &e) { topics.append(e.topic); });
        bus.publishFor(QStringLiteral("a"), QStringLiteral("alice"), {});
        bus.publishFor(QStringLiteral("b"), QStringLiteral("alice"), {});
        bus.publishFor(QStringLiteral("a"), QStringLiteral("bob"), {});
        QTRY_COMPARE(topics.size(), 2);
        QTest::qWait(20);
        QCOMPARE(topics, (QStringList{QStringLiteral("a"), QStringLiteral("b")}));
    }

    void topicWideSubscribersAlsoSeeKeyedEventsWithTheirUser()
    {
        EventBus bus;
        QObject context;
        QList<Event> exact, all;
        bus.subscribe(QStringLiteral("a"), &context, [&exact](const Event &e) { exact.append(e); });
        bus.subscribe(QStringLiteral("*"), &context, [&all](const Event &e) { all.append(e); });
        bus.publishFor(QStringLiteral("a"), QStringLiteral("alice"), QJsonObject{{QStringLiteral("n"), 1}});
        QTRY_COMPARE(all.size(), 1);
        QCOMPARE(exact.size(), 1);
        QCOMPARE(exact.first().userId, QStringLiteral("alice"));
        QCOMPARE(exact.first().data.value(QLatin1String("n")).toInt(), 1);
        QCOMPARE(all.first().userId, QStringLiteral("alice"));
        QCOMPARE(all.first().topic, QStringLiteral("a"));
    }

    void subscriptionsFireInTheOrderTheyWereMade()
    {
        EventBus bus;
        QObject context;
        QStringList order;
        auto record = [&order](const char *name) { return [&order, name](const Event &) { order.append(QLatin1String(name)); }; };
        bus.subscribeFor(QStringLiteral("a"), QStringLiteral("alice"), &context, record("keyed"));
        bus.subscribe(QStringLiteral("*"), &context, record("everything"));
        bus.subscribeFor(QStringLiteral("*"), QStringLiteral("alice"), &context, record("alice"));
        bus.subscribe(QStringLiteral("a"), &context, record("topic"));
        bus.publishFor(QStringLiteral("a"), QStringLiteral("alice"), {});
        QTRY_COMPARE(order.size(), 4);
        QCOMPARE(order, (QStringList{QStringLiteral("keyed"), QStringLiteral("everything"), QStringLiteral("alice"), QStringLiteral("topic")}));
    }

    void unsubscribeStopsDeliveryEvenOfEventsAlreadyQueued()
    {
        EventBus bus;
        QObject context, other;
        int calls = 0, otherCalls = 0;
        bus.subscribeFor(QStringLiteral("a"), QStringLiteral("alice"), &context, [&calls](const Event &) { ++calls; });
        bus.subscribe(QStringLiteral("a"), &context, [&calls](const Event &) { ++calls; });
        bus.subscribeFor(QStringLiteral("a"), QStringLiteral("alice"), &other, [&otherCalls](const Event &) { ++otherCalls; });
        bus.publishFor(QStringLiteral("a"), QStringLiteral("alice"), {}); // queued, not run yet
        bus.unsubscribe(&context);
        bus.publishFor(QStringLiteral("a"), QStringLiteral("alice"), {});
        QTRY_COMPARE(otherCalls, 2);
        QTest::qWait(20);
        QCOMPARE(calls, 0);
        // A context may subscribe again after it unsubscribed.
        bus.subscribeFor(QStringLiteral("a"), QStringLiteral("alice"), &context, [&calls](const Event &) { ++calls; });
        bus.publishFor(QStringLiteral("a"), QStringLiteral("alice"), {});
        QTRY_COMPARE(calls, 1);
    }

    void keyedSubscriptionEndsWithItsContext()
    {
        EventBus bus;
        int calls = 0;
        {
            QObject context;
            bus.subscribeFor(QStringLiteral("a"), QStringLiteral("alice"), &context, [&calls](const Event &) { ++calls; });
            bus.publishFor(QStringLiteral("a"), QStringLiteral("alice"), {}); // queued to a context about to go
        }
        bus.publishFor(QStringLiteral("a"), QStringLiteral("alice"), {});
        QTest::qWait(50);
        QCOMPARE(calls, 0);
    }

    void contextsComeAndGoWhileAnotherThreadPublishes()
    {
        // Publishing from a worker while this thread subscribes, unsubscribes and destroys
        // contexts: no delivery to a context that is gone (run under ASan/TSan to see it).
        EventBus bus;
        std::atomic<bool> stop{false};
        std::atomic<int> published{0};
        std::unique_ptr<QThread> publisher(QThread::create([&bus, &stop, &published] {
            while (!stop.load()) {
                bus.publishFor(QStringLiteral("a"), QString::number(published.load() % 8), {});
                bus.publish(QStringLiteral("a"), {});
                ++published;
            }
        }));
        publisher->start();
        int delivered = 0;
        QElapsedTimer clock;
        clock.start();
        for (int round = 0; clock.elapsed() < 300; ++round) {
            std::vector<std::unique_ptr<QObject>> contexts;
            for (int i = 0; i < 8; ++i) {
                contexts.push_back(std::make_unique<QObject>());
                bus.subscribeFor(QStringLiteral("a"), QString::number(i), contexts.back().get(), [&delivered](const Event &) { ++delivered; });
                bus.subscribe(QStringLiteral("a"), contexts.back().get(), [&delivered](const Event &) { ++delivered; });
            }
            QCoreApplication::processEvents();
            if (round % 2)
                bus.unsubscribe(contexts.front().get());
            contexts.clear();
        }
        stop = true;
        publisher->wait();
        QCoreApplication::processEvents();
        QVERIFY(published.load() > 0);
        qInfo("%d events published, %d delivered", published.load(), delivered);
    }

    void tenThousandUsersEachGetExactlyTheirOwnEvent()
    {
        constexpr int Users = 10000;
        EventBus bus;
        std::vector<std::unique_ptr<QObject>> sockets; // one context per user, as WebSocket sessions
        std::vector<QStringList> received(Users);
        int calls = 0;
        sockets.reserve(Users);
        for (int i = 0; i < Users; ++i) {
            sockets.push_back(std::make_unique<QObject>());
            bus.subscribeFor(topics::Notification, QStringLiteral("user-%1").arg(i), sockets.back().get(),
                             [&received, &calls, i](const Event &e) {
                ++calls;
                received[size_t(i)].append(e.userId);
            });
        }
        QElapsedTimer clock;
        clock.start();
        for (int i = 0; i < Users; ++i)
            bus.publishFor(topics::Notification, QStringLiteral("user-%1").arg(i), {});
        const qint64 publishMs = clock.elapsed();
        QTRY_COMPARE(calls, Users);
        qInfo("%d keyed events published in %lld ms, delivered in %lld ms", Users, publishMs, clock.elapsed());
        QTest::qWait(20);
        QCOMPARE(calls, Users); // one delivery per event: no one else's
        for (int i = 0; i < Users; ++i)
            QCOMPARE(received[size_t(i)], QStringList{QStringLiteral("user-%1").arg(i)});
    }
};

QTEST_GUILESS_MAIN(TestEvents)
#include "tst_events.moc"
