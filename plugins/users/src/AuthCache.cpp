#include "AuthCache.h"

namespace yieldhost::users {

AuthCache::AuthCache(qint64 ttlMs, qsizetype maxEntries)
    : m_ttlMs(std::max<qint64>(0, ttlMs))
    , m_maxEntries(std::max<qsizetype>(1, maxEntries))
{
}

std::optional<AuthCache::SignIn> AuthCache::find(const QByteArray &token, qint64 nowMs) const
{
    if (!enabled())
        return std::nullopt;
    const QMutexLocker lock(&m_mutex);
    const auto it = m_entries.constFind(token);
    // A clock that went back (nowMs before the confirmation) is not trusted either.
    if (it == m_entries.cend() || nowMs >= it->validUntilMs || nowMs < it->confirmedMs)
        return std::nullopt;
    return it->signIn;
}

void AuthCache::remember(const QByteArray &token, SignIn signIn, qint64 expiresAtMs, qint64 nowMs)
{
    if (!enabled())
        return;
    const qint64 validUntil = std::min(nowMs + m_ttlMs, expiresAtMs);
    if (validUntil <= nowMs)
        return;
    const QMutexLocker lock(&m_mutex);
    if (m_entries.size() >= m_maxEntries) {
        // Full: drop what has expired; if that is not enough, start over (the next requests
        // check with the database again, which is the cost of no cache, not an error).
        m_entries.removeIf([&](const auto &e) { return nowMs >= e.value().validUntilMs; });
        if (m_entries.size() >= m_maxEntries)
            m_entries.clear();
    }
    m_entries.insert(token, Entry{std::move(signIn), validUntil, nowMs});
}

void AuthCache::forgetUser(const QString &userId)
{
    const QMutexLocker lock(&m_mutex);
    m_entries.removeIf([&](const auto &e) { return e.value().signIn.userId == userId; });
}

} // namespace yieldhost::users
