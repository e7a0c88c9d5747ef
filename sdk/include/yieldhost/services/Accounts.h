// Accounts.h — account administration as a service (the `createuser` command uses it).
#pragma once

#include "yieldhost/Global.h"
#include "yieldhost/Status.h"

#include <QCoro/QCoroTask>

namespace yieldhost {

// Account administration, provided by the users plugin; the host's `createuser` command uses it.
class YIELDHOST_SDK_EXPORT Accounts
{
public:
    static constexpr const char *ServiceId = "dev.yieldhost.Accounts/1";
    virtual ~Accounts();
    // Creates an active account; fails with a sentence (taken email, weak password, ...).
    virtual QCoro::Task<Status> createUser(QString email, QString password, bool staff) = 0;
};

} // namespace yieldhost
