// Events.h — the in-process event bus: plugins publish facts, others react, without linking to
// each other. Delivery is asynchronous (queued to the subscriber's thread), so a publisher never
// runs subscriber code inside its own call stack. Events that must survive a crash go through
// the transactional outbox instead; this bus is for in-process fan-out.
// Example (snippet "events"):
//   ctx.events().subscribe(topics::WalletUpdated, this, [this](const Event &e) {
//       qCInfo(ctx.log()) << "wallet" << e.data.value(u"wallet_id").toString() << "updated";
//   });
//   ctx.events().publish(topics::WalletUpdated, QJsonObject{{u"wallet_id"_s, id}});
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

struct Event
{
    QString topic;
    QJsonObject data;
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
    void publish(const QString &topic, const QJsonObject &data);
    // The subscription ends when `context` is destroyed.
    void subscribe(const QString &topic, QObject *context, Subscriber subscriber);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace yieldhost
