#include "UserSocketLimit.h"

namespace yieldhost::notifications {

UserSocketLimit::UserSocketLimit(int perUser)
    : m_perUser(perUser)
{
}

bool UserSocketLimit::acquire(const QString &userId)
{
    const QMutexLocker lock(&m_mutex);
    int &n = m_counts[userId];
    if (n >= m_perUser) {
        if (n == 0)
            m_counts.remove(userId);
        return false;
    }
    ++n;
    return true;
}

void UserSocketLimit::release(const QString &userId)
{
    const QMutexLocker lock(&m_mutex);
    const auto it = m_counts.find(userId);
    if (it == m_counts.end())
        return;
    if (--*it <= 0)
        m_counts.erase(it);
}

int UserSocketLimit::count(const QString &userId) const
{
    const QMutexLocker lock(&m_mutex);
    return m_counts.value(userId);
}

} // namespace yieldhost::notifications
