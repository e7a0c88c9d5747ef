// Events.h — the in-process event bus: plugins publish facts, others react, without linking to
// each other. Delivery is asynchronous (queued to the subscriber's thread), so a publisher never
// runs subscriber code inside its own call stack. Events that must survive a crash go through
// the transactional outbox instead; this bus is for in-process fan-out.
// Example (snippet "events"):
//   ctx.events().subscribe(topics::WalletUpdated, this, [this](const Event &e) {
//       qCInfo(ctx.log()) << "wallet" << e.data.value(u"wallet_id").toString() << "updated";
//   });
//   ctx.events().publish(topics::WalletUpdated, QJsonObject{{u"wallet_id"_s, id}});
//
// Keyed delivery (SDK 1.1): an event about one user goes to that user's subscribers (and to the
// topic-wide ones), found by a hash lookup on (topic, user) instead of a scan of every
// subscription — with 10,000 sockets each subscribed for its own user, one event per user costs
// 10,000 deliveries, not 10^8 checks. A subscriber (a user's socket, say) subscribes for its
// user; the publisher names the user:
// Example (snippet "events-keyed"):
//   ctx.events().subscribeFor(topics::Notification, userId, this, [this](const Event &e) {
//       qCInfo(ctx.log()) << "notification for" << e.userId << e.data.value(u"title").toString();
//   });
//   ctx.events().publishFor(topics::Notification, userId, QJsonObject{{u"title"_s, u"Yield paid"_s}});
#pragma once

#include "yieldhost/Global.h"

#include <QtCore/QJsonObject>
#include <QtCore/QObject>
#include <QtCore/QString>

#include <functional>
#include <memory>

namespace yieldhost {

// The topics that are also pushed to API clients (SDK 1.1): a topic is the WebSocket message's
// "type" of API.md, singular noun then past participle. Publish these names, not variants.
namespace topics {
inline const QString WalletUpdated = QStringLiteral("wallet.updated");       // {"wallet_id","balance","currency"}
inline const QString YieldPaid = QStringLiteral("yield.paid");               // {"investment_id","amount","currency","tx_hash"}
inline const QString PortfolioChanged = QStringLiteral("portfolio.changed"); // {"reason"}
inline const QString Notification = QStringLiteral("notification");          // a stored notification
} // namespace topics

// 1.0 plugins read the first two members: new ones are appended at the end only.
struct Event
{
    QString topic;
    QJsonObject data;
    QString userId; // SDK 1.1: the user a publishFor() named; empty for publish()
};

class YIELDHOST_SDK_EXPORT EventBus
{
public:
    using Subscriber = std::function<void(const Event &)>;

    EventBus();
    ~EventBus();
    EventBus(const EventBus &) = delete;
    EventBus &operator=(const EventBus &) = delete;

    // Thread-safe. Every subscriber of `topic` (or of "*") gets the event on its context's thread.
    // Subscribers for a user (subscribeFor) do not: an event about nobody in particular is not
    // theirs.
    void publish(const QString &topic, const QJsonObject &data);
    // The subscription ends when `context` is destroyed (or unsubscribe(context) is called).
    void subscribe(const QString &topic, QObject *context, Subscriber subscriber);

    // SDK 1.1, keyed delivery. Thread-safe. The event, with Event::userId set, goes to the
    // subscribers for (`topic`, `userId`), for ("*", `userId`) and to every subscriber of `topic`
    // or "*"; the cost is the number of those subscribers, whatever the number of other users.
    // An empty `userId` is publish(topic, data).
    void publishFor(const QString &topic, const QString &userId, const QJsonObject &data);
    // Only events published for `userId` on `topic` ("*": on every topic). Ends like subscribe().
    // An empty `userId` is subscribe(topic, context, subscriber).
    void subscribeFor(const QString &topic, const QString &userId, QObject *context, Subscriber subscriber);
    // Ends every subscription of `context` now; a delivery already queued to it is dropped rather
    // than run. Call it on the context's thread for that guarantee.
    void unsubscribe(QObject *context);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace yieldhost
