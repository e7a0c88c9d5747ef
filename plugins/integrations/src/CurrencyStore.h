// CurrencyStore.h — the Currencies service: the integrations_currency table, with the currencies
// already seen kept in memory (they never change once they exist, so the memory cannot go stale).
#pragma once

#include "yieldhost/services/Currencies.h"

#include <QtCore/QHash>
#include <QtCore/QJsonObject>
#include <QtCore/QReadWriteLock>

namespace yieldhost::integrations {

class CurrencyStore : public Currencies
{
public:
    explicit CurrencyStore(Database &database) : m_db(database) { }

    QCoro::Task<CurrencyLookup> find(QString code) override;
    CurrencyLookup findIn(SqlTransaction &tx, const QString &code) override;

    // Every currency, by code (the rates job and the rate table read them all).
    struct All
    {
        QList<Currency> currencies;
        DbError error;
    };
    QCoro::Task<All> all();
    // A page of the list, by code, after `afterCode`: at most `limit` + 1 rows (the extra one
    // says there is a next page).
    QCoro::Task<All> page(int limit, QString afterCode);

    struct Added
    {
        std::optional<Currency> currency;
        DbError error;
        bool exists = false; // the code is taken
    };
    QCoro::Task<Added> add(Currency currency);

    // Upper-cased code, or empty when it cannot be a code at all (so garbage never reaches SQL).
    static QString normalizedCode(const QString &code);
    static QJsonObject toJson(const Currency &currency);

private:
    std::optional<Currency> cached(const QString &code) const;
    void remember(const Currency &currency);
    CurrencyLookup lookupFrom(const SqlResult &r);

    Database &m_db;
    mutable QReadWriteLock m_lock;
    QHash<QString, Currency> m_known;
};

} // namespace yieldhost::integrations
