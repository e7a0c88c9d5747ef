// UserDirectory.h — finding an account by email, as a service (provided by the users plugin), for
// plugins that address users the way people do (a transfer "to_email").
//
// Header-only: it adds no symbol to the SDK library, so a plugin using it runs on any 1.1 host.
#pragma once

#include "yieldhost/Database.h"
#include "yieldhost/Global.h"

#include <QtCore/QString>

#include <QCoro/QCoroTask>

#include <optional>

namespace yieldhost {

struct DirectoryEntry
{
    QString userId;
    QString email; // as the account shows it
};

struct DirectoryLookup
{
    std::optional<DirectoryEntry> entry; // nullopt: no active account has this email
    DbError error;
};

class UserDirectory
{
public:
    static constexpr const char *ServiceId = "dev.yieldhost.UserDirectory/1";
    virtual ~UserDirectory() = default;

    // The active account with this email, matched the way logins match it (case and Unicode
    // normalisation do not matter). Thread-safe.
    virtual QCoro::Task<DirectoryLookup> findByEmail(QString email) = 0;
};

} // namespace yieldhost
