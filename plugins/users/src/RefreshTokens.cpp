#include "RefreshTokens.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QRandomGenerator>
#include <QtCore/QUuid>

namespace yieldhost::users {

QString RefreshTokens::newToken()
{
    QByteArray bytes(32, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(bytes.data()), bytes.size() / 4);
    return QString::fromLatin1(bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

QString RefreshTokens::hashOf(const QString &token)
{
    return QString::fromLatin1(QCryptographicHash::hash(token.toUtf8(), QCryptographicHash::Sha256).toHex());
}

QCoro::Task<RefreshTokens::Issued> RefreshTokens::issue(QString userId, int tokenVersion, QDateTime now)
{
    Issued issued;
    issued.token = newToken();
    issued.userId = userId;
    issued.tokenVersion = tokenVersion;
    // One statement, so no one (the cleanup job) ever sees the family without its first token.
    const QString sql = QStringLiteral("WITH family AS (INSERT INTO users_token_family (user_id, token_version, created_at, last_issued_at) "
                                       "VALUES (?::uuid, ?, ?, ?) RETURNING id) "
                                       "INSERT INTO users_refresh_token (user_id, family_id, token_hash, created_at, expires_at) "
                                       "SELECT ?::uuid, id, ?, ?, ? FROM family RETURNING family_id::text AS family_id");
    const QVariantList params{userId, tokenVersion, now, now, userId, hashOf(issued.token), now, now.addSecs(m_lifetime)};
    const SqlResult r = co_await m_db.query(sql, params);
    issued.error = r.error();
    if (!r.error() && !r.isEmpty())
        issued.familyId = r.string(0, QStringLiteral("family_id"));
    co_return issued;
}

QCoro::Task<RefreshTokens::Rotation> RefreshTokens::rotate(QString token, QDateTime now)
{
    Rotation rotation;
    const QString hash = hashOf(token);
    const QString next = newToken();
    const qint64 lifetime = m_lifetime;
    // The family revocation on reuse must commit, so "reused" is an outcome, not a failure.
    std::function<Status(SqlTransaction &)> work = [&rotation, hash, next, now, lifetime](SqlTransaction &tx) -> Status {
        rotation = Rotation{};
        // The family's lock first, and only then the rows that decide: read in a statement of its
        // own, after the wait, they show what a rotation that held the lock meanwhile committed.
        const SqlResult locked = tx.exec(QStringLiteral("SELECT id FROM users_token_family "
                                                        "WHERE id = (SELECT family_id FROM users_refresh_token WHERE token_hash = ?) FOR UPDATE"),
                                         {hash});
        if (locked.error())
            return Status::failure(QStringLiteral("locking the family failed"));
        if (locked.isEmpty())
            return {}; // Invalid: no such token
        const SqlResult found = tx.exec(QStringLiteral("SELECT t.id::text AS id, t.user_id::text AS user_id, t.family_id::text AS family_id, "
                                                       "t.expires_at, t.revoked_at, f.revoked_at AS family_revoked_at, f.token_version, "
                                                       "u.is_active, u.token_version AS account_version FROM users_refresh_token t "
                                                       "JOIN users_token_family f ON f.id = t.family_id JOIN users_user u ON u.id = t.user_id "
                                                       "WHERE t.token_hash = ?"),
                                        {hash});
        if (found.error())
            return Status::failure(QStringLiteral("lookup failed"));
        if (found.isEmpty() || !found.isNull(0, QStringLiteral("family_revoked_at")))
            return {}; // Invalid: purged meanwhile, or the sign-in has ended (logout): nothing left to protect
        const QString family = found.string(0, QStringLiteral("family_id"));
        if (!found.isNull(0, QStringLiteral("revoked_at"))) {
            const SqlResult revoked = tx.exec(QStringLiteral("UPDATE users_token_family SET revoked_at = ? WHERE id = ?::uuid"), {now, family});
            if (revoked.error())
                return Status::failure(QStringLiteral("revoking the family failed"));
            rotation.verdict = Verdict::Reused;
            return {};
        }
        const qint64 version = found.integer(0, QStringLiteral("token_version"));
        if (found.value(0, QStringLiteral("expires_at")).toDateTime() <= now || !found.value(0, QStringLiteral("is_active")).toBool()
            || version != found.integer(0, QStringLiteral("account_version")))
            return {}; // Invalid: expired, account disabled, or signed out everywhere since this sign-in
        const QString userId = found.string(0, QStringLiteral("user_id"));
        const SqlResult inserted = tx.exec(QStringLiteral("INSERT INTO users_refresh_token (user_id, family_id, token_hash, created_at, expires_at) "
                                                          "VALUES (?::uuid, ?::uuid, ?, ?, ?) RETURNING id::text AS id"),
                                           {userId, family, hashOf(next), now, now.addSecs(lifetime)});
        if (inserted.error())
            return Status::failure(QStringLiteral("insert failed"));
        const SqlResult replaced = tx.exec(QStringLiteral("UPDATE users_refresh_token SET revoked_at = ?, replaced_by = ?::uuid WHERE id = ?::uuid"),
                                           {now, inserted.string(0, QStringLiteral("id")), found.string(0, QStringLiteral("id"))});
        if (replaced.error())
            return Status::failure(QStringLiteral("revoking the used token failed"));
        const SqlResult touched = tx.exec(QStringLiteral("UPDATE users_token_family SET last_issued_at = ? WHERE id = ?::uuid"), {now, family});
        if (touched.error())
            return Status::failure(QStringLiteral("recording the issue failed"));
        rotation.verdict = Verdict::Rotated;
        rotation.next.token = next;
        rotation.next.userId = userId;
        rotation.next.familyId = family;
        rotation.next.tokenVersion = int(version);
        return {};
    };
    const TransactionOutcome outcome = co_await m_db.transaction(std::move(work));
    if (!outcome.committed) {
        rotation = Rotation{};
        rotation.next.error = outcome.error;
        if (!outcome.error) // a failed Status without a database error
            rotation.next.error.kind = DbError::Kind::Query;
    }
    co_return rotation;
}

QCoro::Task<std::optional<bool>> RefreshTokens::revokeFamily(QString token, QString userId, QDateTime now)
{
    // An UPDATE waits for a rotation holding the family's lock and then revokes the family it
    // extended: the pair that rotation issued dies with it.
    const QString sql = QStringLiteral("UPDATE users_token_family f SET revoked_at = ? FROM users_refresh_token t "
                                       "WHERE t.token_hash = ? AND t.user_id = ?::uuid AND f.id = t.family_id AND f.revoked_at IS NULL");
    const QVariantList params{now, hashOf(token), userId};
    const SqlResult r = co_await m_db.query(sql, params);
    if (r.error())
        co_return std::nullopt;
    co_return r.rowsAffected() > 0;
}

Status RefreshTokens::revokeAllFamilies(SqlTransaction &tx, const QString &userId, const QDateTime &now)
{
    const SqlResult r = tx.exec(QStringLiteral("UPDATE users_token_family SET revoked_at = ? WHERE user_id = ?::uuid AND revoked_at IS NULL"), {now, userId});
    return r.error() ? Status::failure(QStringLiteral("revoking the account's sign-ins failed")) : Status{};
}

QCoro::Task<RefreshTokens::Purged> RefreshTokens::purgeExpired(QDateTime now)
{
    Purged purged;
    const QVariantList params{now};
    const SqlResult tokens = co_await m_db.query(QStringLiteral("DELETE FROM users_refresh_token WHERE expires_at < ?"), params);
    purged.error = tokens.error();
    if (purged.error)
        co_return purged;
    purged.tokens = tokens.rowsAffected();
    const QString ended = QStringLiteral("DELETE FROM users_token_family f WHERE f.last_issued_at < ? "
                                         "AND NOT EXISTS (SELECT 1 FROM users_refresh_token t WHERE t.family_id = f.id AND t.expires_at >= ?)");
    const QVariantList bounds{now.addSecs(-m_accessLifetime), now};
    const SqlResult families = co_await m_db.query(ended, bounds);
    purged.error = families.error();
    purged.families = families.rowsAffected();
    co_return purged;
}

} // namespace yieldhost::users
