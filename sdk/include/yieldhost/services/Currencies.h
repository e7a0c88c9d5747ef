// Currencies.h — the currencies the platform knows, as a service (provided by the integrations
// plugin). Currencies are data: seeded by a migration, added by staff, never changed or removed
// once they exist (balances are kept at a currency's decimals, so those cannot move).
//
// Header-only: it adds no symbol to the SDK library, so a plugin using it runs on any 1.1 host.
#pragma once

#include "yieldhost/Database.h"
#include "yieldhost/Global.h"

#include <QtCore/QList>
#include <QtCore/QString>

#include <QCoro/QCoroTask>

#include <optional>

namespace yieldhost {

struct Currency
{
    enum class Kind { Fiat, Crypto };

    QString code;        // "BTC": 3 to 10 upper-case letters or digits
    QString name;        // "Bitcoin"
    Kind kind = Kind::Fiat;
    int decimals = 2;    // amounts are kept and printed with exactly this many (0..18)
    QString coingeckoId; // "bitcoin"; empty for fiat and for a crypto CoinGecko does not list

    bool isCrypto() const { return kind == Kind::Crypto; }
    QString kindName() const { return kind == Kind::Crypto ? QStringLiteral("crypto") : QStringLiteral("fiat"); }
};

// The answer of a lookup: a currency, none (an unknown code, not an error), or a database error.
struct CurrencyLookup
{
    std::optional<Currency> currency;
    DbError error;
};

class Currencies
{
public:
    static constexpr const char *ServiceId = "dev.yieldhost.Currencies/1";
    virtual ~Currencies() = default;

    // The currency with this code, case-insensitively ("usd" finds USD). Known currencies are
    // answered from memory; an unknown code is looked up in the database, so a currency staff
    // added through another host process is found at once. Thread-safe.
    virtual QCoro::Task<CurrencyLookup> find(QString code) = 0;
    // The same inside the caller's transaction (call it on the DB thread, from the transaction
    // function).
    virtual CurrencyLookup findIn(SqlTransaction &tx, const QString &code) = 0;
};

} // namespace yieldhost
