// UserSocketLimit.h — how many notification sockets each user holds, against a configurable
// limit. Sockets live on the HTTP server's threads, so the count is shared under a mutex.
#pragma once

#include <QtCore/QHash>
#include <QtCore/QMutex>
#include <QtCore/QString>

namespace yieldhost::notifications {

class UserSocketLimit
{
public:
    explicit UserSocketLimit(int perUser);

    int perUser() const { return m_perUser; }
    // Counts one more socket for `userId`; false (and nothing counted) at the limit.
    bool acquire(const QString &userId);
    void release(const QString &userId);
    int count(const QString &userId) const;

private:
    const int m_perUser;
    mutable QMutex m_mutex;
    QHash<QString, int> m_counts;
};

} // namespace yieldhost::notifications
