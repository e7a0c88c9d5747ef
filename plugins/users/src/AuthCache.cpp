#include "AuthCache.h"

namespace yieldhost::users {

AuthCache::AuthCache(qint64 ttlMs, qsizetype maxEntries)
    : m_ttlMs(std::max<qint64>(0, ttlMs))
    , m_maxEntries(std::max<qsizetype>(1, maxEntries))
{
}

std::optional<AuthCache::SignIn> AuthCache::find(const QString &userId, const QString &sessionId, qint64 version, qint64 nowMs) const
{
    if (!enabled())
        return std::nullopt;
    const QMutexLocker lock(&m_mutex);
    const auto it = m_entries.constFind(key(userId, sessionId));
    if (it == m_entries.cend() || it->version != version || nowMs - it->confirmedMs >= m_ttlMs || nowMs < it->confirmedMs)
        return std::nullopt;
    return it->signIn;
}

void AuthCache::remember(const QString &sessionId, qint64 version, SignIn signIn, qint64 nowMs)
{
    if (!enabled())
        return;
    const QMutexLocker lock(&m_mutex);
    if (m_entries.size() >= m_maxEntries) {
        // Full: drop what has expired; if that is not enough, start over (the next requests
        // re-check with the database, which is the cost of no cache, not an error).
        m_entries.removeIf([&](const auto &e) { return nowMs - e.value().confirmedMs >= m_ttlMs; });
        if (m_entries.size() >= m_maxEntries)
            m_entries.clear();
    }
    const QString k = key(signIn.userId, sessionId);
    m_entries.insert(k, Entry{std::move(signIn), version, nowMs});
}

void AuthCache::forgetUser(const QString &userId)
{
    const QMutexLocker lock(&m_mutex);
    const QString prefix = userId + u'/';
    m_entries.removeIf([&](const auto &e) { return e.key().startsWith(prefix); });
}

} // namespace yieldhost::users
