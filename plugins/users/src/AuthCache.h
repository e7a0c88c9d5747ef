// AuthCache.h — the Authenticator's short memory of access tokens it has accepted.
//
// Every authenticated request would otherwise verify the token's signature, parse its claims and
// ask the database whether the account is active, the sign-in live and the token version current
// before its handler ran its own query. The cache keeps, per token, the user and claims it was
// accepted with, for `ttlMs` after the database last said yes (never past the token's own
// expiry). The rule, documented in docs/users.md: a change made in this process (logout, sign out
// everywhere, password change) takes effect at once (forgetUser); one made elsewhere (another
// host process, a deactivation in SQL) within ttlMs. Only accepted tokens are kept.
// Thread-safe: the HTTP threads authenticate concurrently.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QHash>
#include <QtCore/QJsonObject>
#include <QtCore/QMutex>
#include <QtCore/QString>

#include <optional>

namespace yieldhost::users {

class AuthCache
{
public:
    struct SignIn
    {
        QString userId;
        QString email;
        bool isStaff = false;
        QJsonObject claims;
    };

    // ttlMs 0 turns the cache off. At most maxEntries tokens are kept.
    explicit AuthCache(qint64 ttlMs, qsizetype maxEntries = 100000);

    bool enabled() const { return m_ttlMs > 0; }
    // The sign-in `token` was accepted as, if that was less than ttlMs before nowMs and the
    // token has not expired (expiresAtMs) since.
    std::optional<SignIn> find(const QByteArray &token, qint64 nowMs) const;
    void remember(const QByteArray &token, SignIn signIn, qint64 expiresAtMs, qint64 nowMs);
    // Every token of the user, now: the user signed out or changed the password here.
    void forgetUser(const QString &userId);

private:
    struct Entry
    {
        SignIn signIn;
        qint64 validUntilMs = 0;
        qint64 confirmedMs = 0;
    };

    const qint64 m_ttlMs;
    const qsizetype m_maxEntries;
    mutable QMutex m_mutex;
    QHash<QByteArray, Entry> m_entries;
};

} // namespace yieldhost::users
