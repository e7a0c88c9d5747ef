#include "yieldhost/Idempotency.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QSet>

namespace yieldhost {

namespace {

HttpResponse storedReply(const SqlResult &row)
{
    HttpResponse reply(int(row.integer(0, QStringLiteral("status"))));
    reply.setBody(QByteArray::fromHex(row.string(0, QStringLiteral("body")).toLatin1()),
                  row.string(0, QStringLiteral("content_type")).toLatin1());
    const QJsonArray headers = QJsonDocument::fromJson(row.string(0, QStringLiteral("headers")).toUtf8()).array();
    for (const QJsonValue &h : headers) {
        const QJsonArray pair = h.toArray();
        reply.addHeader(pair.at(0).toString().toLatin1(), pair.at(1).toString().toLatin1());
    }
    reply.addHeader("Idempotent-Replayed", "true");
    return reply;
}

// A reply's extra headers as the JSON array the headers column keeps: [["name","value"], ...].
QString headersJson(const HttpResponse &reply)
{
    QJsonArray headers;
    for (const auto &[name, value] : reply.headers())
        headers.append(QJsonArray{QString::fromLatin1(name), QString::fromLatin1(value)});
    return QString::fromUtf8(QJsonDocument(headers).toJson(QJsonDocument::Compact));
}

} // namespace

QString IdempotencyKey::invalidReason(QByteArrayView header)
{
    if (header.isEmpty())
        return QStringLiteral("This request moves money: send an Idempotency-Key header (1-255 printable ASCII characters), "
                              "and the same key again to repeat it safely.");
    if (header.size() > MaxLength)
        return QStringLiteral("The Idempotency-Key header is longer than %1 characters.").arg(MaxLength);
    for (const char c : header) {
        if (c < 0x20 || c > 0x7e)
            return QStringLiteral("The Idempotency-Key header may hold only printable ASCII characters.");
    }
    return {};
}

std::optional<IdempotencyKey> IdempotencyKey::fromRequest(const HttpRequest &request, Problem *problem)
{
    const std::optional<AuthenticatedUser> &user = request.user();
    if (!user) {
        *problem = Problem::unauthorized(QStringLiteral("Idempotency keys belong to a user: authenticate this request."));
        return std::nullopt;
    }
    const QByteArray header = request.header("idempotency-key");
    if (const QString why = invalidReason(header); !why.isEmpty()) {
        *problem = Problem::make(400).type(QStringLiteral("invalid-idempotency-key")).title(QStringLiteral("Invalid Idempotency-Key")).detail(why);
        return std::nullopt;
    }
    IdempotencyKey key;
    key.m_userId = user->id;
    key.m_key = QString::fromLatin1(header);
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(methodName(request.method()));
    hash.addData("\n");
    hash.addData(request.path().toUtf8());
    hash.addData("\n");
    const QJsonValue json = request.json();
    if (json.isObject())
        hash.addData(QJsonDocument(json.toObject()).toJson(QJsonDocument::Compact));
    else if (json.isArray())
        hash.addData(QJsonDocument(json.toArray()).toJson(QJsonDocument::Compact));
    else
        hash.addData(request.body());
    key.m_fingerprint = hash.result();
    return key;
}

IdempotencyKey::Claim IdempotencyKey::claim(SqlTransaction &tx) const
{
    Claim out;
    const QString fingerprint = QString::fromLatin1(m_fingerprint.toHex());
    // Blocks while another transaction holds the same key uncommitted; then inserts nothing.
    const SqlResult inserted = tx.exec(QStringLiteral(
        "INSERT INTO host_idempotency_key (user_id, key, fingerprint) VALUES (?, ?, decode(?, 'hex')) "
        "ON CONFLICT (user_id, key) DO NOTHING RETURNING true AS fresh"),
        {m_userId, m_key, fingerprint});
    if (inserted.error()) {
        out.error = inserted.error();
        return out;
    }
    if (!inserted.isEmpty()) {
        out.kind = Claim::Kind::Fresh;
        return out;
    }
    const SqlResult stored = tx.exec(QStringLiteral(
        "SELECT encode(fingerprint, 'hex') AS fingerprint, status, content_type, encode(body, 'hex') AS body, headers::text AS headers "
        "FROM host_idempotency_key WHERE user_id = ? AND key = ?"),
        {m_userId, m_key});
    if (stored.error() || stored.isEmpty()) {
        out.error = stored.error() ? stored.error() : DbError::fromSqlState(QStringLiteral("40001"), QStringLiteral("the idempotency key vanished"));
        return out;
    }
    if (stored.string(0, QStringLiteral("fingerprint")) != fingerprint) {
        out.kind = Claim::Kind::Mismatch;
        out.response = Problem::make(422)
                           .type(QStringLiteral("idempotency-key-reused"))
                           .title(QStringLiteral("Idempotency-Key reused"))
                           .detail(QStringLiteral("This Idempotency-Key was already used for a different request; "
                                                  "use a new key for a new request."))
                           .toResponse();
        return out;
    }
    if (stored.isNull(0, QStringLiteral("status"))) {
        // Committed without a reply: only a handler that claims by hand and forgets store() does this.
        out.kind = Claim::Kind::Mismatch;
        out.response = Problem::make(409)
                           .type(QStringLiteral("idempotency-key-in-use"))
                           .title(QStringLiteral("Idempotency-Key in use"))
                           .detail(QStringLiteral("The request with this Idempotency-Key has no stored reply; use a new key."))
                           .toResponse();
        return out;
    }
    out.kind = Claim::Kind::Replay;
    out.response = storedReply(stored);
    return out;
}

IdempotencyKey::Statement IdempotencyKey::storeStatement(const HttpResponse &reply) const
{
    return {QStringLiteral("UPDATE host_idempotency_key SET status = ?, content_type = ?, body = decode(?, 'hex'), headers = ?::jsonb "
                           "WHERE user_id = ? AND key = ?"),
            {reply.status(), QString::fromLatin1(reply.contentType()), QString::fromLatin1(reply.body().toHex()),
             headersJson(reply), m_userId, m_key}};
}

DbError IdempotencyKey::store(SqlTransaction &tx, const HttpResponse &reply) const
{
    const Statement update = storeStatement(reply);
    return tx.exec(update.sql, update.params).error();
}

void IdempotencyKey::storeDeferred(SqlTransaction &tx, const HttpResponse &reply) const
{
    const Statement update = storeStatement(reply);
    tx.defer(update.sql, update.params);
}

namespace {

// The columns of host_idempotency_key for many keys and replies, as arrays for unnest().
struct KeyArrays
{
    QStringList users, names, fingerprints, statuses, contentTypes, bodies, headers;
};

KeyArrays keyArrays(const QList<IdempotencyKey> &keys, const QList<HttpResponse> &replies)
{
    Q_ASSERT(keys.size() == replies.size());
    KeyArrays a;
    for (qsizetype i = 0; i < keys.size() && i < replies.size(); ++i) {
        const HttpResponse &reply = replies[i];
        a.users.append(keys[i].userId());
        a.names.append(keys[i].key());
        a.fingerprints.append(QString::fromLatin1(keys[i].fingerprint().toHex()));
        a.statuses.append(QString::number(reply.status()));
        a.contentTypes.append(QString::fromLatin1(reply.contentType()));
        a.bodies.append(QString::fromLatin1(reply.body().toHex()));
        a.headers.append(headersJson(reply));
    }
    return a;
}

} // namespace

QList<bool> IdempotencyKey::claimAll(SqlTransaction &tx, const QList<IdempotencyKey> &keys, const QList<HttpResponse> &replies, DbError *error)
{
    if (keys.isEmpty())
        return {};
    const KeyArrays a = keyArrays(keys, replies);
    // Inserted in (user, key) order: two batches holding the same keys wait for each other
    // instead of deadlocking over them.
    const SqlResult inserted = tx.exec(QStringLiteral(
        "INSERT INTO host_idempotency_key (user_id, key, fingerprint, status, content_type, body, headers) "
        "SELECT u, k, decode(f, 'hex'), s, c, decode(b, 'hex'), h::jsonb "
        "FROM unnest(?::text[], ?::text[], ?::text[], ?::integer[], ?::text[], ?::text[], ?::text[]) AS r(u, k, f, s, c, b, h) ORDER BY u, k "
        "ON CONFLICT (user_id, key) DO NOTHING RETURNING user_id, key"),
        {a.users, a.names, a.fingerprints, a.statuses, a.contentTypes, a.bodies, a.headers});
    if (inserted.error()) {
        *error = inserted.error();
        return {};
    }
    QSet<QString> fresh;
    for (qsizetype i = 0; i < inserted.size(); ++i)
        fresh.insert(inserted.string(i, QStringLiteral("user_id")) + u'\n' + inserted.string(i, QStringLiteral("key")));
    QList<bool> out;
    out.reserve(keys.size());
    for (const IdempotencyKey &k : keys)
        out.append(fresh.contains(k.m_userId + u'\n' + k.m_key));
    return out;
}

void IdempotencyKey::storeAllDeferred(SqlTransaction &tx, const QList<IdempotencyKey> &keys, const QList<HttpResponse> &replies)
{
    if (keys.isEmpty())
        return;
    const KeyArrays a = keyArrays(keys, replies);
    tx.defer(QStringLiteral("UPDATE host_idempotency_key h SET status = s.status, content_type = s.content_type, body = decode(s.body, 'hex'), "
                            "headers = s.headers::jsonb "
                            "FROM unnest(?::text[], ?::text[], ?::integer[], ?::text[], ?::text[], ?::text[]) AS s(u, k, status, content_type, body, headers) "
                            "WHERE h.user_id = s.u AND h.key = s.k"),
             {a.users, a.names, a.statuses, a.contentTypes, a.bodies, a.headers});
}

QCoro::Task<HttpResponse> idempotentTransaction(Database &db, IdempotencyKey key, std::function<HttpResponse(SqlTransaction &)> work,
                                                TransactionOptions options)
{
    HttpResponse reply;
    auto run = [&](SqlTransaction &tx) -> Status {
        const IdempotencyKey::Claim claim = key.claim(tx);
        if (claim.kind == IdempotencyKey::Claim::Kind::Failed)
            return Status::failure(claim.error.message);
        if (claim.kind != IdempotencyKey::Claim::Kind::Fresh) {
            reply = claim.response;
            return {};
        }
        // The work runs under a savepoint, so a refusal (4xx) can undo its changes and still
        // commit the claimed key with the refusal stored.
        // None of these three statements' answers is needed: they travel with the work's first
        // statement and with the COMMIT, which keeps the work's row locks short.
        tx.defer(QStringLiteral("SAVEPOINT yieldhost_idempotent_work"));
        reply = work(tx);
        if (reply.status() >= 500)
            return Status::failure(QStringLiteral("the work answered %1").arg(reply.status()));
        tx.defer(reply.status() < 300 ? QStringLiteral("RELEASE SAVEPOINT yieldhost_idempotent_work")
                                      : QStringLiteral("ROLLBACK TO SAVEPOINT yieldhost_idempotent_work"));
        key.storeDeferred(tx, reply);
        return {};
    };
    const TransactionOutcome outcome = co_await db.transaction(run, options);
    if (outcome.committed)
        co_return reply;
    if (reply.status() >= 500)
        co_return reply; // the work's own answer (its problem for the database error)
    if (outcome.error)
        co_return problemFor(outcome.error).toResponse();
    co_return Problem::make(500).detail(QStringLiteral("The request could not be completed; it is safe to retry with the same Idempotency-Key.")).toResponse();
}

} // namespace yieldhost
