// LoginThrottle.h — limits failed logins per account and per client address, in PostgreSQL so the
// limit holds across every host process.
#pragma once

#include "yieldhost/Database.h"

#include <QtCore/QDateTime>

#include <QCoro/QCoroTask>

namespace yieldhost::users {

class LoginThrottle
{
public:
    struct Limits
    {
        int perAccount = 5;
        int perAddress = 20;
        qint64 windowSeconds = 900;
    };
    LoginThrottle(Database &db, Limits limits) : m_db(db), m_limits(limits) {}

    // Seconds to wait before trying again (> 0 when throttled), 0 when allowed, nullopt when the
    // database cannot tell.
    QCoro::Task<std::optional<qint64>> retryAfter(QString account, QString address, QDateTime now);
    QCoro::Task<> recordFailure(QString account, QString address, QDateTime now);
    QCoro::Task<> clearAccount(QString account);
    // host.cleanup: failures older than the window no longer count.
    QCoro::Task<SqlResult> purgeOld(QDateTime now);

private:
    Database &m_db;
    Limits m_limits;
};

} // namespace yieldhost::users
