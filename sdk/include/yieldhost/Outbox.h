// Outbox.h — events that leave a transaction (SDK 1.1): written with the change, delivered to
// every host process only if the change commits.
//
// ctx.events().publish() reaches only this process, at once, even if the transaction that
// caused it rolls back. publishIn() instead writes the event as a row in the caller's
// transaction; when that commits, every host process (serve, worker, beat, on any machine)
// republishes it on its own EventBus, once — so a subscriber in `serve` (a WebSocket push) sees
// what a `worker` paid. Nothing is delivered for a rolled-back transaction, nothing is lost when
// a process or a listening session drops, and a process that starts fresh begins at the
// current end (live push is for connected clients; stored history is the plugin's own table).
//
// Example (snippet "outbox"), inside a transaction function:
//   const DbError written = publishIn(tx, topics::WalletUpdated, userId,
//                                     QJsonObject{{u"wallet_id"_s, id}, {u"balance"_s, balance}});
//   if (written)
//       return Status::failure(written.message);
// Subscribers see an ordinary Event (its data is what was written, userId the user named),
// delivered on their thread; subscribeFor(topic, userId, …) gets only that user's (Events.h).
#pragma once

#include "yieldhost/Database.h"
#include "yieldhost/Global.h"

#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtCore/QString>

namespace yieldhost {

// Call from a transaction function (on the DB thread). `userId` may be empty for events that
// concern no single user. The insert goes out with the transaction's next statement or its COMMIT
// (SqlTransaction::defer, one round trip fewer); if it fails, the transaction fails there. So the
// DbError returned is always empty; it stays for the callers written before.
YIELDHOST_SDK_EXPORT DbError publishIn(SqlTransaction &tx, const QString &topic, const QString &userId, const QJsonObject &data);

struct OutboxEvent
{
    QString topic;
    QString userId; // may be empty
    QJsonObject data;
};

// Many events in one statement (SDK 1.1, added with the money plugins): a batch of a thousand
// payouts writes its thousand events in one round trip instead of a thousand. Delivered in order.
YIELDHOST_SDK_EXPORT DbError publishAllIn(SqlTransaction &tx, const QList<OutboxEvent> &events);

} // namespace yieldhost
