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

QCoro::Task<RefreshTokens::Issued> RefreshTokens::issue(QString userId, QDateTime now)
{
    Issued issued;
    issued.token = newToken();
    issued.userId = userId;
    const QString sql = QStringLiteral("INSERT INTO users_refresh_token (user_id, family_id, token_hash, created_at, expires_at) "
                                       "VALUES (?::uuid, gen_random_uuid(), ?, ?, ?)");
    const QVariantList params{userId, hashOf(issued.token), now, now.addSecs(m_lifetime)};
    const SqlResult r = co_await m_db.query(sql, params);
    issued.error = r.error();
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
        const SqlResult found = tx.exec(QStringLiteral("SELECT t.id::text AS id, t.user_id::text AS user_id, t.family_id::text AS family_id, "
                                                       "t.expires_at, t.revoked_at, u.is_active FROM users_refresh_token t "
                                                       "JOIN users_user u ON u.id = t.user_id WHERE t.token_hash = ? FOR UPDATE OF t"),
                                        {hash});
        if (found.error())
            return Status::failure(QStringLiteral("lookup failed"));
        if (found.isEmpty())
            return {}; // Invalid
        const QString family = found.string(0, QStringLiteral("family_id"));
        if (!found.isNull(0, QStringLiteral("revoked_at"))) {
            tx.exec(QStringLiteral("UPDATE users_refresh_token SET revoked_at = ? WHERE family_id = ?::uuid AND revoked_at IS NULL"), {now, family});
            rotation.verdict = Verdict::Reused;
            return {};
        }
        if (found.value(0, QStringLiteral("expires_at")).toDateTime() <= now || !found.value(0, QStringLiteral("is_active")).toBool())
            return {}; // Invalid
        const QString userId = found.string(0, QStringLiteral("user_id"));
        const SqlResult inserted = tx.exec(QStringLiteral("INSERT INTO users_refresh_token (user_id, family_id, token_hash, created_at, expires_at) "
                                                          "VALUES (?::uuid, ?::uuid, ?, ?, ?) RETURNING id::text AS id"),
                                           {userId, family, hashOf(next), now, now.addSecs(lifetime)});
        if (inserted.error())
            return Status::failure(QStringLiteral("insert failed"));
        tx.exec(QStringLiteral("UPDATE users_refresh_token SET revoked_at = ?, replaced_by = ?::uuid WHERE id = ?::uuid"),
                {now, inserted.string(0, QStringLiteral("id")), found.string(0, QStringLiteral("id"))});
        rotation.verdict = Verdict::Rotated;
        rotation.next.token = next;
        rotation.next.userId = userId;
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

QCoro::Task<std::optional<bool>> RefreshTokens::revoke(QString token, QString userId, QDateTime now)
{
    const QString sql = QStringLiteral("UPDATE users_refresh_token SET revoked_at = ? WHERE token_hash = ? AND user_id = ?::uuid AND revoked_at IS NULL");
    const QVariantList params{now, hashOf(token), userId};
    const SqlResult r = co_await m_db.query(sql, params);
    if (r.error())
        co_return std::nullopt;
    co_return r.rowsAffected() > 0;
}

QCoro::Task<SqlResult> RefreshTokens::purgeExpired(QDateTime now)
{
    const QVariantList params{now};
    co_return co_await m_db.query(QStringLiteral("DELETE FROM users_refresh_token WHERE expires_at < ?"), params);
}

} // namespace yieldhost::users
