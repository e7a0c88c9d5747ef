#include "yieldhost/Events.h"

#include <QtCore/QMutex>
#include <QtCore/QPointer>

namespace yieldhost {

struct EventBus::Private
{
    struct Subscription
    {
        QString topic;
        QPointer<QObject> context;
        Subscriber subscriber;
    };
    QMutex mutex;
    QList<Subscription> subscriptions;
};

EventBus::EventBus() : d(std::make_unique<Private>()) {}
EventBus::~EventBus() = default;

void EventBus::publish(const QString &topic, const QJsonObject &data)
{
    QList<Private::Subscription> targets;
    {
        QMutexLocker lock(&d->mutex);
        d->subscriptions.removeIf([](const Private::Subscription &s) { return s.context.isNull(); });
        for (const auto &s : std::as_const(d->subscriptions)) {
            if (s.topic == topic || s.topic == QLatin1String("*"))
                targets.append(s);
        }
    }
    const Event event{topic, data};
    for (const auto &s : std::as_const(targets)) {
        // Queued even on the same thread: a publisher never runs subscriber code in its own stack.
        QMetaObject::invokeMethod(s.context.data(), [fn = s.subscriber, event] { fn(event); }, Qt::QueuedConnection);
    }
}

void EventBus::subscribe(const QString &topic, QObject *context, Subscriber subscriber)
{
    Q_ASSERT(context);
    QMutexLocker lock(&d->mutex);
    d->subscriptions.append({topic, context, std::move(subscriber)});
}

} // namespace yieldhost
