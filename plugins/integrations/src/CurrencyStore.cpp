#include "CurrencyStore.h"

#include <QtCore/QRegularExpression>

namespace yieldhost::integrations {

namespace {

const QString Columns = QStringLiteral("code, name, kind, decimals, coalesce(coingecko_id, '') AS coingecko_id");

Currency currencyAt(const SqlResult &r, qsizetype row)
{
    Currency c;
    c.code = r.string(row, QStringLiteral("code"));
    c.name = r.string(row, QStringLiteral("name"));
    c.kind = r.string(row, QStringLiteral("kind")) == QLatin1String("crypto") ? Currency::Kind::Crypto : Currency::Kind::Fiat;
    c.decimals = int(r.integer(row, QStringLiteral("decimals")));
    c.coingeckoId = r.string(row, QStringLiteral("coingecko_id"));
    return c;
}

} // namespace

QString CurrencyStore::normalizedCode(const QString &code)
{
    static const QRegularExpression re(QStringLiteral("^[A-Z0-9]{3,10}$"));
    const QString upper = code.trimmed().toUpper();
    return re.match(upper).hasMatch() ? upper : QString();
}

QJsonObject CurrencyStore::toJson(const Currency &currency)
{
    return QJsonObject{{QStringLiteral("code"), currency.code},
                       {QStringLiteral("name"), currency.name},
                       {QStringLiteral("kind"), currency.kindName()},
                       {QStringLiteral("decimals"), currency.decimals}};
}

std::optional<Currency> CurrencyStore::cached(const QString &code) const
{
    const QReadLocker lock(&m_lock);
    const auto it = m_known.constFind(code);
    if (it == m_known.cend())
        return std::nullopt;
    return *it;
}

void CurrencyStore::remember(const Currency &currency)
{
    const QWriteLocker lock(&m_lock);
    m_known.insert(currency.code, currency);
}

CurrencyLookup CurrencyStore::lookupFrom(const SqlResult &r)
{
    CurrencyLookup found;
    found.error = r.error();
    if (!r.error() && !r.isEmpty()) {
        found.currency = currencyAt(r, 0);
        remember(*found.currency);
    }
    return found;
}

QCoro::Task<CurrencyLookup> CurrencyStore::find(QString code)
{
    const QString key = normalizedCode(code);
    if (key.isEmpty())
        co_return CurrencyLookup{};
    if (std::optional<Currency> known = cached(key))
        co_return CurrencyLookup{std::move(known), {}};
    const QVariantList params{key};
    const SqlResult r = co_await m_db.query(QStringLiteral("SELECT ") + Columns + QStringLiteral(" FROM integrations_currency WHERE code = ?"), params);
    co_return lookupFrom(r);
}

CurrencyLookup CurrencyStore::findIn(SqlTransaction &tx, const QString &code)
{
    const QString key = normalizedCode(code);
    if (key.isEmpty())
        return CurrencyLookup{};
    if (std::optional<Currency> known = cached(key))
        return CurrencyLookup{std::move(known), {}};
    return lookupFrom(tx.exec(QStringLiteral("SELECT ") + Columns + QStringLiteral(" FROM integrations_currency WHERE code = ?"), {key}));
}

QCoro::Task<CurrencyStore::All> CurrencyStore::all()
{
    const SqlResult r = co_await m_db.query(QStringLiteral("SELECT ") + Columns + QStringLiteral(" FROM integrations_currency ORDER BY code"));
    All out;
    out.error = r.error();
    for (qsizetype i = 0; !r.error() && i < r.size(); ++i) {
        out.currencies.append(currencyAt(r, i));
        remember(out.currencies.constLast());
    }
    co_return out;
}

QCoro::Task<CurrencyStore::All> CurrencyStore::page(int limit, QString afterCode)
{
    const QVariantList params{afterCode, limit + 1};
    const SqlResult r = co_await m_db.query(QStringLiteral("SELECT ") + Columns + QStringLiteral(" FROM integrations_currency WHERE code > coalesce(?, '') ORDER BY code LIMIT ?"), params);
    All out;
    out.error = r.error();
    for (qsizetype i = 0; !r.error() && i < r.size(); ++i)
        out.currencies.append(currencyAt(r, i));
    co_return out;
}

QCoro::Task<CurrencyStore::Added> CurrencyStore::add(Currency currency)
{
    const QVariantList params{currency.code, currency.name, currency.kindName(), currency.decimals,
                              currency.coingeckoId.isEmpty() ? QVariant() : QVariant(currency.coingeckoId)};
    const SqlResult r = co_await m_db.query(QStringLiteral("INSERT INTO integrations_currency (code, name, kind, decimals, coingecko_id) "
                                                          "VALUES (?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING RETURNING ") + Columns,
                                            params);
    Added added;
    added.error = r.error();
    if (r.error())
        co_return added;
    if (r.isEmpty()) {
        added.exists = true;
        co_return added;
    }
    added.currency = currencyAt(r, 0);
    remember(*added.currency);
    co_return added;
}

} // namespace yieldhost::integrations
