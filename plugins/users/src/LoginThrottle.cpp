#include "LoginThrottle.h"

namespace yieldhost::users {

QCoro::Task<std::optional<qint64>> LoginThrottle::retryAfter(QString account, QString address, QDateTime now)
{
    const QString sql = QStringLiteral("SELECT scope, count(*) AS n, min(failed_at) AS oldest FROM users_login_failure "
                                       "WHERE ((scope = 'account' AND key = ?) OR (scope = 'address' AND key = ?)) AND failed_at > ? "
                                       "GROUP BY scope");
    const QVariantList params{account, address, now.addSecs(-m_limits.windowSeconds)};
    const SqlResult r = co_await m_db.query(sql, params);
    if (r.error())
        co_return std::nullopt;
    qint64 wait = 0;
    for (qsizetype i = 0; i < r.size(); ++i) {
        const bool isAccount = r.string(i, QStringLiteral("scope")) == QLatin1String("account");
        const qint64 limit = isAccount ? m_limits.perAccount : m_limits.perAddress;
        if (r.integer(i, QStringLiteral("n")) < limit)
            continue;
        // Allowed again when the oldest failure in the window leaves it.
        const QDateTime oldest = r.value(i, QStringLiteral("oldest")).toDateTime();
        wait = std::max(wait, std::max<qint64>(1, now.secsTo(oldest.addSecs(m_limits.windowSeconds))));
    }
    co_return wait;
}

QCoro::Task<> LoginThrottle::recordFailure(QString account, QString address, QDateTime now)
{
    const QString sql = QStringLiteral("INSERT INTO users_login_failure (scope, key, failed_at) VALUES ('account', ?, ?), ('address', ?, ?)");
    const QVariantList params{account, now, address, now};
    co_await m_db.query(sql, params);
}

QCoro::Task<> LoginThrottle::clearAccount(QString account)
{
    const QString sql = QStringLiteral("DELETE FROM users_login_failure WHERE scope = 'account' AND key = ?");
    const QVariantList params{account};
    co_await m_db.query(sql, params);
}

QCoro::Task<SqlResult> LoginThrottle::purgeOld(QDateTime now)
{
    const QVariantList params{now.addSecs(-m_limits.windowSeconds)};
    co_return co_await m_db.query(QStringLiteral("DELETE FROM users_login_failure WHERE failed_at < ?"), params);
}

} // namespace yieldhost::users
