// RefreshTokens.h — opaque, rotating refresh tokens stored only as SHA-256 hashes.
//
// Each login starts a family. Refreshing revokes the presented token and issues the next one in
// the same family; presenting a revoked token again (a replay, or a stolen copy) revokes the
// whole family, so both the thief and the victim must log in again.
#pragma once

#include "yieldhost/Database.h"

#include <QtCore/QDateTime>

#include <QCoro/QCoroTask>

namespace yieldhost::users {

class RefreshTokens
{
public:
    RefreshTokens(Database &db, qint64 lifetimeSeconds) : m_db(db), m_lifetime(lifetimeSeconds) {}

    struct Issued
    {
        QString token;
        QString userId;
        DbError error;
    };
    // A new family for `userId`.
    QCoro::Task<Issued> issue(QString userId, QDateTime now);

    enum class Verdict { Rotated, Invalid, Reused };
    struct Rotation
    {
        Verdict verdict = Verdict::Invalid;
        Issued next; // when Rotated
    };
    QCoro::Task<Rotation> rotate(QString token, QDateTime now);

    // Revokes `token` if it belongs to `userId`; true when a live token was revoked.
    QCoro::Task<std::optional<bool>> revoke(QString token, QString userId, QDateTime now);
    // host.cleanup: forgets tokens past their expiry (they can no longer be used or reused, so
    // family-reuse detection loses nothing). Returns rows deleted, or the error.
    QCoro::Task<SqlResult> purgeExpired(QDateTime now);

    static QString hashOf(const QString &token);
    static QString newToken();

private:
    Database &m_db;
    qint64 m_lifetime;
};

} // namespace yieldhost::users
