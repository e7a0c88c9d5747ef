// AddressBook.h — the default Addresses service: mock on-chain deposit addresses, derived from
// (user, currency) with Keccak-256 the way an Ethereum address is cut from a key hash, and
// recorded in integrations_address inside the wallet's own transaction.
#pragma once

#include "CurrencyStore.h"

#include "yieldhost/services/Addresses.h"

namespace yieldhost::integrations {

class AddressBook : public Addresses
{
public:
    explicit AddressBook(CurrencyStore &currencies) : m_currencies(currencies) { }

    AddressAssignment assignIn(SqlTransaction &tx, const QString &userId, const QString &currency) override;

    // "0x" + the last 20 bytes of Keccak-256("yieldhost-address/1\n<user>\n<code>"), lower case.
    static QString derive(const QString &userId, const QString &code);

private:
    CurrencyStore &m_currencies;
};

} // namespace yieldhost::integrations
