// Events.cpp — the event bus behind Events.h.
//
// Subscriptions are indexed twice: topic-wide ones by topic, keyed ones by topic then user, both in
// hash maps, so a publish looks up at most four buckets (topic, "*", and each of them for the user)
// and never scans the subscriptions of other topics or users. Each bucket is ordered by when the
// subscription was made, and the buckets a publish hits are merged in that order, so a subscriber
// sees its subscriptions fire in the order it made them, as before keyed delivery.
//
// The bus lock is held only to copy the matching subscriptions; the events are queued after it is
// released, so a publisher with 10,000 targets never holds up subscribe() or other publishers.
// Queuing to a context that another thread is destroying would touch a deleted object: each
// context has a small guard that its `destroyed` handler closes, and a publisher queues to the
// context only while holding that guard open. Qt drops the events queued to an object when it is
// destroyed (after `destroyed` is emitted), so nothing runs on a dead context.
#include "yieldhost/Events.h"

#include <QtCore/QHash>
#include <QtCore/QMutex>

#include <algorithm>
#include <atomic>
#include <map>
#include <vector>

namespace yieldhost {

namespace {

const QString Everything = QStringLiteral("*");

// Whether a context may still be queued to; shared by the bus and the context's `destroyed` handler.
struct ContextGuard
{
    QMutex mutex;
    bool alive = true;
};

struct Subscription
{
    quint64 order; // when it was made, for delivery in subscription order
    QString topic;
    QString userId; // empty: topic-wide
    QObject *context;
    std::shared_ptr<ContextGuard> guard;
    EventBus::Subscriber subscriber;
    std::atomic<bool> active{true}; // false once unsubscribed: a delivery already queued is dropped
};
using SubscriptionPtr = std::shared_ptr<Subscription>;
using Bucket = std::map<quint64, SubscriptionPtr>; // by order: ordered, and O(log n) removal

struct ContextEntry
{
    std::shared_ptr<ContextGuard> guard;
    QMetaObject::Connection onDestroyed;
    std::vector<SubscriptionPtr> subscriptions;
};

} // namespace

// The state lives behind a shared pointer so that a context's `destroyed` handler, which may run
// on any thread and after the bus is gone, holds it only weakly.
struct EventBusState
{
    QMutex mutex;
    quint64 nextOrder = 0;
    QHash<QString, Bucket> byTopic;                 // topic-wide subscriptions, "*" included
    QHash<QString, QHash<QString, Bucket>> byUser;  // keyed: topic ("*" included) → user → bucket
    QHash<QObject *, ContextEntry> byContext;       // for removal when a context ends

    void add(const QString &topic, const QString &userId, QObject *context, EventBus::Subscriber subscriber,
             const std::shared_ptr<EventBusState> &self);
    // Under `mutex`: removes every subscription of `context` from the indexes.
    void removeContext(QObject *context);
    // Under `mutex`: appends the subscriptions of `bucket` (if any) to `out` and merges them in order.
    static void collect(const Bucket *bucket, std::vector<SubscriptionPtr> &out);
};

struct EventBus::Private
{
    std::shared_ptr<EventBusState> state = std::make_shared<EventBusState>();
};

void EventBusState::add(const QString &topic, const QString &userId, QObject *context,
                        EventBus::Subscriber subscriber, const std::shared_ptr<EventBusState> &self)
{
    Q_ASSERT(context);
    QMutexLocker lock(&mutex);
    ContextEntry &entry = byContext[context];
    if (!entry.guard) {
        entry.guard = std::make_shared<ContextGuard>();
        // Direct: runs on the destroying thread, inside ~QObject, before Qt drops its queued events.
        entry.onDestroyed = QObject::connect(context, &QObject::destroyed,
                                             [weak = std::weak_ptr<EventBusState>(self), guard = entry.guard, context] {
            {
                QMutexLocker closing(&guard->mutex); // waits for a publisher queuing to it right now
                guard->alive = false;
            }
            if (auto state = weak.lock()) {
                QMutexLocker stateLock(&state->mutex);
                state->removeContext(context);
            }
        });
    }
    auto s = std::make_shared<Subscription>();
    s->order = nextOrder++;
    s->topic = topic;
    s->userId = userId;
    s->context = context;
    s->guard = entry.guard;
    s->subscriber = std::move(subscriber);
    entry.subscriptions.push_back(s);
    Bucket &bucket = userId.isEmpty() ? byTopic[topic] : byUser[topic][userId];
    bucket.emplace(s->order, std::move(s));
}

void EventBusState::removeContext(QObject *context)
{
    const auto it = byContext.find(context);
    if (it == byContext.end())
        return;
    {
        // A publisher may hold a copy of these subscriptions; once the connection below is gone
        // nothing else would close the guard before the context dies, so close it now.
        QMutexLocker closing(&it->guard->mutex);
        it->guard->alive = false;
    }
    for (const SubscriptionPtr &s : it->subscriptions) {
        s->active.store(false, std::memory_order_release);
        if (s->userId.isEmpty()) {
            const auto b = byTopic.find(s->topic);
            b->erase(s->order);
            if (b->empty())
                byTopic.erase(b);
        } else {
            const auto users = byUser.find(s->topic);
            const auto b = users->find(s->userId);
            b->erase(s->order);
            if (b->empty()) {
                users->erase(b);
                if (users->isEmpty())
                    byUser.erase(users);
            }
        }
    }
    QObject::disconnect(it->onDestroyed);
    byContext.erase(it);
}

void EventBusState::collect(const Bucket *bucket, std::vector<SubscriptionPtr> &out)
{
    if (!bucket || bucket->empty())
        return;
    const auto middle = std::ptrdiff_t(out.size());
    for (const auto &entry : *bucket)
        out.push_back(entry.second);
    std::inplace_merge(out.begin(), out.begin() + middle, out.end(),
                       [](const SubscriptionPtr &a, const SubscriptionPtr &b) { return a->order < b->order; });
}

EventBus::EventBus() : d(std::make_unique<Private>()) {}

EventBus::~EventBus()
{
    // Subscriptions end with the bus; contexts that outlive it no longer call into it.
    QMutexLocker lock(&d->state->mutex);
    for (const ContextEntry &entry : std::as_const(d->state->byContext))
        QObject::disconnect(entry.onDestroyed);
}

void EventBus::publish(const QString &topic, const QJsonObject &data)
{
    publishFor(topic, QString(), data);
}

void EventBus::publishFor(const QString &topic, const QString &userId, const QJsonObject &data)
{
    EventBusState &state = *d->state;
    std::vector<SubscriptionPtr> targets;
    {
        QMutexLocker lock(&state.mutex);
        const auto bucket = [](const auto &hash, const QString &key) {
            const auto it = hash.constFind(key);
            return it == hash.cend() ? nullptr : &*it;
        };
        EventBusState::collect(bucket(state.byTopic, topic), targets);
        if (topic != Everything)
            EventBusState::collect(bucket(state.byTopic, Everything), targets);
        if (!userId.isEmpty()) {
            if (const auto *users = bucket(state.byUser, topic))
                EventBusState::collect(bucket(*users, userId), targets);
            if (topic != Everything) {
                if (const auto *users = bucket(state.byUser, Everything))
                    EventBusState::collect(bucket(*users, userId), targets);
            }
        }
    }
    if (targets.empty())
        return;
    const Event event{topic, data, userId};
    for (const SubscriptionPtr &s : targets) {
        QMutexLocker guardLock(&s->guard->mutex);
        if (!s->guard->alive)
            continue;
        // Queued even on the same thread: a publisher never runs subscriber code in its own stack.
        QMetaObject::invokeMethod(s->context, [s, event] {
            if (s->active.load(std::memory_order_acquire))
                s->subscriber(event);
        }, Qt::QueuedConnection);
    }
}

void EventBus::subscribe(const QString &topic, QObject *context, Subscriber subscriber)
{
    d->state->add(topic, QString(), context, std::move(subscriber), d->state);
}

void EventBus::subscribeFor(const QString &topic, const QString &userId, QObject *context, Subscriber subscriber)
{
    d->state->add(topic, userId, context, std::move(subscriber), d->state);
}

void EventBus::unsubscribe(QObject *context)
{
    QMutexLocker lock(&d->state->mutex);
    d->state->removeContext(context);
}

} // namespace yieldhost
