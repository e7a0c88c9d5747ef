// RefreshTokens.h — opaque, rotating refresh tokens stored only as SHA-256 hashes, grouped in
// families: one family per sign-in (users_token_family).
//
// Each login starts a family. Refreshing revokes the presented token and issues the next one in
// the same family; presenting a rotated token again (a replay, or a stolen copy) revokes the
// whole family, so both the thief and the victim must log in again. Access tokens name their
// family in the `sid` claim and the Authenticator refuses those of a revoked family, so ending a
// sign-in ends its access tokens too, not only its refresh tokens.
//
// Every change to a family's tokens happens under a lock on the family's row (rotation, reuse,
// logout, sign out everywhere), and reads that decide are made after taking it: two refreshes of
// one token cannot both win, and a logout racing a refresh cannot leave the new pair alive.
#pragma once

#include "yieldhost/Database.h"

#include <QtCore/QDateTime>

#include <QCoro/QCoroTask>

namespace yieldhost::users {

class RefreshTokens
{
public:
    // `accessLifetimeSeconds`: how long an access token lives, so the cleanup keeps a family while
    // one of its access tokens may still be presented.
    RefreshTokens(Database &db, qint64 lifetimeSeconds, qint64 accessLifetimeSeconds)
        : m_db(db), m_lifetime(lifetimeSeconds), m_accessLifetime(accessLifetimeSeconds)
    {
    }

    struct Issued
    {
        QString token;
        QString userId;
        QString familyId;     // the access token's `sid`
        int tokenVersion = 0; // the access token's `ver`
        DbError error;
    };
    // A new family for `userId`, under the account's token version as read when its password was
    // checked: if the version has moved on since (a password change meanwhile), the family is
    // born outdated and never works.
    QCoro::Task<Issued> issue(QString userId, int tokenVersion, QDateTime now);

    enum class Verdict { Rotated, Invalid, Reused };
    struct Rotation
    {
        Verdict verdict = Verdict::Invalid;
        Issued next; // when Rotated
    };
    QCoro::Task<Rotation> rotate(QString token, QDateTime now);

    // Ends the sign-in `token` belongs to, if it is `userId`'s: its family is revoked, whichever of
    // its tokens is given. True when a live family was revoked; nullopt when the database failed.
    QCoro::Task<std::optional<bool>> revokeFamily(QString token, QString userId, QDateTime now);
    // Revokes every family of `userId`, inside the caller's transaction (sign out everywhere).
    static Status revokeAllFamilies(SqlTransaction &tx, const QString &userId, const QDateTime &now);

    struct Purged
    {
        qint64 tokens = 0;
        qint64 families = 0;
        DbError error;
    };
    // host.cleanup: forgets tokens past their expiry (they can no longer be used or reused, so
    // family-reuse detection loses nothing), then families with no live token whose last access
    // token has expired too (an access token of a forgotten family would be refused).
    QCoro::Task<Purged> purgeExpired(QDateTime now);

    static QString hashOf(const QString &token);
    static QString newToken();

private:
    Database &m_db;
    qint64 m_lifetime;
    qint64 m_accessLifetime;
};

} // namespace yieldhost::users
