// NotificationStore.h — stored notifications: made from the outbox events every host process
// hears (yield.paid, settlement.confirmed, statement.ready, wallet.deposited above a threshold),
// written in batches, once per fact however often the event arrives, and pushed to the user's
// sockets as a `notification` event through the outbox.
#pragma once

#include "yieldhost/Decimal.h"
#include "yieldhost/Events.h"
#include "yieldhost/PluginContext.h"

#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QTimer>

#include <QCoro/QCoroTask>

namespace yieldhost {
class ExchangeRates;
}

namespace yieldhost::notifications {

class NotificationStore : public QObject
{
    Q_OBJECT
public:
    // The outbox topics a notification is made from (wallets publishes wallet.deposited).
    static const QStringList &sourceTopics();

    NotificationStore(PluginContext &context, const Decimal &largeDepositUsd);

    // Subscribes to sourceTopics(); `rates` (may be null) converts deposits to USD for the
    // large-deposit threshold. Call from start(), once every plugin initialized.
    void start(ExchangeRates *rates);

    // {"id","kind","title","body","data","read","created_at"} from a row of `columns()`.
    static QJsonObject json(const SqlResult &r, qsizetype row);
    static const QString &columns();

private:
    struct Draft
    {
        QString userId;
        QString kind;
        QString title;
        QString body;
        QJsonObject data;
        QString source;
    };

    void received(const Event &event);
    QCoro::Task<> writePending();
    QCoro::Task<QList<Draft>> largeDeposits(QList<Event> deposits);
    static std::optional<Draft> draftFor(const Event &event);

    PluginContext &m_context;
    Decimal m_largeDepositUsd;
    ExchangeRates *m_rates = nullptr;
    QList<Draft> m_pending;
    QList<Event> m_deposits;
    QTimer m_batchTimer;
    bool m_writing = false;
};

} // namespace yieldhost::notifications
