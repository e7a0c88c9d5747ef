// Idempotency.h — Idempotency-Key for money-moving POSTs (SDK 1.1), kept by the host.
//
// A repeat of a request with the same key and body gets the first reply (same status and body)
// and moves no money again; the same key with a different body is 422; keys are per user, 1–255
// printable ASCII characters (else 400), kept at least 24 hours and purged by host.cleanup.
// The key is claimed and the reply stored in the handler's own transaction, so a crash leaves
// both the movement and the stored reply, or neither. A second request with the same key that
// arrives while the first is still running waits for the first to commit, then replays it.
//
// Declare the route idempotent (the host then refuses a missing or malformed key with 400 before
// the handler runs, and documents the header), and run the work through idempotentTransaction().
// Example (snippet "idempotent-route"):
//   ctx.addRoute(HttpMethod::Post, u"/api/v1/snippets/wallets/{id}/deposit"_s, [this](HttpRequest r) { return deposit(std::move(r)); })
//       .idempotent(); // AuthLevel::User by default: keys are per user
// Example (snippet "idempotent-post"), in the handler:
//   Problem problem;
//   const std::optional<IdempotencyKey> key = IdempotencyKey::fromRequest(request, &problem);
//   if (!key)
//       co_return problem.toResponse();
//   auto work = [&](SqlTransaction &tx) -> HttpResponse {
//       const SqlResult r = tx.exec(u"UPDATE snippets_wallet SET balance = balance + ? WHERE id = ? RETURNING balance"_s,
//                                   {amount.toString(), id});
//       if (r.error())
//           return problemFor(r.error()).toResponse(); // 5xx: rolled back, nothing stored
//       if (r.isEmpty())
//           return Problem::notFound(u"No such wallet."_s).toResponse(); // 4xx: undone, stored
//       return HttpResponse::json(201, QJsonObject{{u"balance"_s, r.string(0, u"balance"_s)}});
//   };
//   co_return co_await idempotentTransaction(ctx.database(), *key, std::move(work));
//
// What the work returns decides what happens: a 2xx commits its changes with the stored reply;
// a 4xx (insufficient funds, validation) undoes the work's changes but stores and commits the
// reply, so a repeat gets the same 409; a 5xx (a database error, a bug) rolls everything back and
// stores nothing, so the client may retry with the same key.
#pragma once

#include "yieldhost/Database.h"
#include "yieldhost/Global.h"
#include "yieldhost/Http.h"

#include <QtCore/QByteArray>
#include <QtCore/QString>

#include <functional>
#include <optional>

namespace yieldhost {

class YIELDHOST_SDK_EXPORT IdempotencyKey
{
public:
    static constexpr qsizetype MaxLength = 255;

    // The request's Idempotency-Key, its user and its fingerprint (method, path and body; a JSON
    // body is compared by value, so key order and whitespace do not matter). nullopt, with the
    // problem in *problem, when the header is missing or malformed (400) or the request has no
    // authenticated user (keys are per user; 401).
    static std::optional<IdempotencyKey> fromRequest(const HttpRequest &request, Problem *problem);
    // Why `header` is not a valid key, or an empty string when it is.
    static QString invalidReason(QByteArrayView header);

    const QString &userId() const { return m_userId; }
    const QString &key() const { return m_key; }
    const QByteArray &fingerprint() const { return m_fingerprint; }

    // In the caller's transaction: claims the key. Fresh: go on, then store(). Replay: `response`
    // is the stored reply. Mismatch: `response` is the 422. Failed: `error` says why (the
    // transaction should end).
    struct Claim
    {
        enum class Kind { Fresh, Replay, Mismatch, Failed };
        Kind kind = Kind::Failed;
        HttpResponse response;
        DbError error;
    };
    Claim claim(SqlTransaction &tx) const;
    // In the same transaction: stores the reply that a repeat will get.
    DbError store(SqlTransaction &tx, const HttpResponse &reply) const;
    // The same, sent with the transaction's next statement or its COMMIT (SqlTransaction::defer):
    // a failure fails the transaction there.
    void storeDeferred(SqlTransaction &tx, const HttpResponse &reply) const;

    // SDK 1.1, for a handler that gathers concurrent requests into one transaction (the wallets
    // plugin's transfers) and decides their replies before it claims their keys: claims every key
    // in one statement, in one fixed order, with replies[i] stored for keys[i]. Returns, per key,
    // whether it was claimed here. A key that exists already (a repeat, a reuse, or a key another
    // transaction holds until it commits, which this waits for) is not claimed: run that request
    // alone through idempotentTransaction(), which replays or refuses it, and correct the stored
    // replies of the others with storeAllDeferred() if leaving it out changes them. The keys must
    // be distinct (the same user and key twice: claim one, run the other alone). Unlike
    // idempotentTransaction() nothing is undone for a 4xx: decide refusals before writing
    // anything for them. On a database error the list is empty and *error says why.
    static QList<bool> claimAll(SqlTransaction &tx, const QList<IdempotencyKey> &keys, const QList<HttpResponse> &replies, DbError *error);
    // Stores replies[i] for keys[i] (claimed in this transaction) in one statement, sent with the
    // transaction's next statement or its COMMIT.
    static void storeAllDeferred(SqlTransaction &tx, const QList<IdempotencyKey> &keys, const QList<HttpResponse> &replies);

private:
    struct Statement
    {
        QString sql;
        QVariantList params;
    };
    Statement storeStatement(const HttpResponse &reply) const;
    IdempotencyKey() = default;
    QString m_userId;
    QString m_key;
    QByteArray m_fingerprint; // SHA-256
};

// Runs `work` in one transaction with `key` claimed, as described at the top of this header, and
// returns the reply: the work's, the stored one for a repeat, or a problem.
YIELDHOST_SDK_EXPORT QCoro::Task<HttpResponse> idempotentTransaction(Database &db, IdempotencyKey key,
                                                                     std::function<HttpResponse(SqlTransaction &)> work,
                                                                     TransactionOptions options = {});

} // namespace yieldhost
