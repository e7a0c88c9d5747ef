#include "AddressBook.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QUuid>

namespace yieldhost::integrations {

QString AddressBook::derive(const QString &userId, const QString &code)
{
    const QByteArray seed = QStringLiteral("yieldhost-address/1\n%1\n%2").arg(userId.toLower(), code).toUtf8();
    return QStringLiteral("0x") + QString::fromLatin1(QCryptographicHash::hash(seed, QCryptographicHash::Keccak_256).right(20).toHex());
}

AddressAssignment AddressBook::assignIn(SqlTransaction &tx, const QString &userId, const QString &currency)
{
    AddressAssignment out;
    if (QUuid::fromString(userId).isNull()) {
        out.failure = QStringLiteral("the user id is not a UUID");
        return out;
    }
    const CurrencyLookup found = m_currencies.findIn(tx, currency);
    if (found.error) {
        out.error = found.error;
        return out;
    }
    if (!found.currency) {
        out.failure = QStringLiteral("unknown currency %1").arg(currency);
        return out;
    }
    if (!found.currency->isCrypto())
        return out; // fiat wallets have no on-chain address
    // An address handed out before is returned as it was recorded.
    const SqlResult r = tx.exec(QStringLiteral("INSERT INTO integrations_address (user_id, currency, address) VALUES (?::uuid, ?, ?) "
                                               "ON CONFLICT (user_id, currency) DO UPDATE SET user_id = EXCLUDED.user_id RETURNING address"),
                                {userId.toLower(), found.currency->code, derive(userId, found.currency->code)});
    out.error = r.error();
    if (!r.error())
        out.address = r.string(0, QStringLiteral("address"));
    return out;
}

} // namespace yieldhost::integrations
