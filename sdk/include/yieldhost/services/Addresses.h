// Addresses.h — deposit addresses of crypto wallets, as a service (provided by the integrations
// plugin; the default derives mock on-chain addresses).
//
// Header-only: it adds no symbol to the SDK library, so a plugin using it runs on any 1.1 host.
#pragma once

#include "yieldhost/Database.h"
#include "yieldhost/Global.h"

#include <QtCore/QString>

namespace yieldhost {

struct AddressAssignment
{
    QString address; // "0x" + 40 lower-case hex digits; empty for a fiat currency
    DbError error;
    QString failure; // an unknown currency, or no user id
    explicit operator bool() const { return !error && failure.isEmpty(); }
};

class Addresses
{
public:
    static constexpr const char *ServiceId = "dev.yieldhost.Addresses/1";
    virtual ~Addresses() = default;

    // The deposit address of `userId`'s wallet in `currency`, recorded inside the caller's
    // transaction (so it is kept exactly when the wallet is): the same address every time for the
    // same user and currency, different for any other pair. Call on the DB thread, from the
    // transaction function.
    virtual AddressAssignment assignIn(SqlTransaction &tx, const QString &userId, const QString &currency) = 0;
};

} // namespace yieldhost
