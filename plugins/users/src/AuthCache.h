// AuthCache.h — the Authenticator's short memory of sign-ins it has checked.
//
// Every authenticated request would otherwise cost a database round trip before its handler ran
// its own: the cache answers "this account is active, this sign-in is live, this token version is
// current" for `ttlMs` after the database last said so. The rule, documented in docs/users.md: a
// change made in this process (logout, sign out everywhere, password change) takes effect at once
// (forgetUser); one made elsewhere (another host process, a deactivation in SQL) within ttlMs.
// Only positive answers are kept. Thread-safe: the HTTP threads authenticate concurrently.
#pragma once

#include <QtCore/QHash>
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
    };

    // ttlMs 0 turns the cache off. At most maxEntries sign-ins are kept.
    AuthCache(qint64 ttlMs, qsizetype maxEntries = 100000);

    bool enabled() const { return m_ttlMs > 0; }
    // The sign-in (user, session, token version) if it was confirmed less than ttlMs before nowMs.
    std::optional<SignIn> find(const QString &userId, const QString &sessionId, qint64 version, qint64 nowMs) const;
    void remember(const QString &sessionId, qint64 version, SignIn signIn, qint64 nowMs);
    // Every sign-in of the user, now: the user signed out or changed the password here.
    void forgetUser(const QString &userId);

private:
    struct Entry
    {
        SignIn signIn;
        qint64 version = 0;
        qint64 confirmedMs = 0;
    };
    static QString key(const QString &userId, const QString &sessionId) { return userId + u'/' + sessionId; }

    const qint64 m_ttlMs;
    const qsizetype m_maxEntries;
    mutable QMutex m_mutex;
    QHash<QString, Entry> m_entries;
};

} // namespace yieldhost::users
