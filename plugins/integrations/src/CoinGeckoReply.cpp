#include "CoinGeckoReply.h"

#include "RateMath.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace yieldhost::integrations {

namespace {

// Keeps the shape {"coin": {"vs": number, ...}, ...} and the numbers' text; deeper values are
// skipped, other top-level values are an error.
class PriceReader : public nlohmann::json_sax<nlohmann::json>
{
public:
    QHash<QString, QHash<QString, QString>> prices;
    QString error;

    bool null() override { return scalar(); }
    bool boolean(bool) override { return scalar(); }
    bool number_integer(number_integer_t value) override { return number(QString::number(value)); }
    bool number_unsigned(number_unsigned_t value) override { return number(QString::number(value)); }
    bool number_float(number_float_t, const string_t &text) override { return number(QString::fromStdString(text)); }
    bool string(string_t &) override { return scalar(); }
    bool binary(binary_t &) override { return scalar(); }
    bool start_object(std::size_t) override { return open(); }
    bool end_object() override { return close(); }
    bool start_array(std::size_t) override { return open(); }
    bool end_array() override { return close(); }
    bool key(string_t &name) override
    {
        if (m_depth == 1)
            m_coin = QString::fromStdString(name);
        else if (m_depth == 2)
            m_vs = QString::fromStdString(name);
        return true;
    }
    bool parse_error(std::size_t position, const std::string &, const nlohmann::detail::exception &) override
    {
        error = QStringLiteral("the reply is not valid JSON (at byte %1)").arg(position);
        return false;
    }

private:
    bool open()
    {
        ++m_depth;
        return true;
    }
    bool close()
    {
        --m_depth;
        return true;
    }
    bool scalar()
    {
        if (m_depth == 0) {
            error = QStringLiteral("the reply is not a JSON object");
            return false;
        }
        return true;
    }
    bool number(const QString &text)
    {
        if (!scalar())
            return false;
        if (m_depth == 2)
            prices[m_coin].insert(m_vs, text);
        return true;
    }

    int m_depth = 0;
    QString m_coin;
    QString m_vs;
};

} // namespace

CoinGeckoReply CoinGeckoReply::parse(const QByteArray &body)
{
    PriceReader reader;
    CoinGeckoReply reply;
    const std::string_view text(body.constData(), size_t(body.size()));
    const bool ok = nlohmann::json::sax_parse(text, &reader);
    if (!ok) {
        reply.error = reader.error.isEmpty() ? QStringLiteral("the reply is not valid JSON") : reader.error;
        return reply;
    }
    if (!body.trimmed().startsWith('{')) {
        reply.error = QStringLiteral("the reply is not a JSON object");
        return reply;
    }
    reply.prices = std::move(reader.prices);
    return reply;
}

QHash<QString, Decimal> CoinGeckoReply::usdValues(const QList<Currency> &currencies, QStringList *skipped) const
{
    // A price we can use: present, a JSON number Decimal can hold, and positive.
    const auto priceOf = [this](const QString &coin, const QString &vs, QString *why) -> std::optional<Decimal> {
        const QString text = prices.value(coin).value(vs);
        if (text.isEmpty()) {
            *why = QStringLiteral("no %1 price for %2 in the reply").arg(vs, coin);
            return std::nullopt;
        }
        QString error;
        const std::optional<Decimal> value = Decimal::fromJsonNumber(text, &error);
        if (!value) {
            *why = QStringLiteral("the %1 price of %2 (%3) is unusable: %4").arg(vs, coin, text.left(60), error);
            return std::nullopt;
        }
        if (value->signum() <= 0) {
            *why = QStringLiteral("the %1 price of %2 is not positive (%3)").arg(vs, coin, text.left(60));
            return std::nullopt;
        }
        return value;
    };

    QList<Currency> coins;
    for (const Currency &c : currencies) {
        if (c.isCrypto() && !c.coingeckoId.isEmpty())
            coins.append(c);
    }
    std::sort(coins.begin(), coins.end(), [](const Currency &a, const Currency &b) { return a.code < b.code; });

    QHash<QString, Decimal> values;
    QString why;
    for (const Currency &coin : std::as_const(coins)) {
        if (const std::optional<Decimal> usd = priceOf(coin.coingeckoId, QStringLiteral("usd"), &why))
            values.insert(coin.code, *usd);
        else if (skipped)
            skipped->append(coin.code + QStringLiteral(": ") + why);
    }
    for (const Currency &fiat : currencies) {
        if (fiat.isCrypto() || fiat.code == QLatin1String("USD"))
            continue;
        const QString vs = fiat.code.toLower();
        std::optional<Decimal> value;
        for (const Currency &coin : std::as_const(coins)) {
            const std::optional<Decimal> usd = values.contains(coin.code) ? std::optional<Decimal>(values.value(coin.code)) : std::nullopt;
            if (!usd)
                continue;
            if (const std::optional<Decimal> inFiat = priceOf(coin.coingeckoId, vs, &why)) {
                value = RateMath::fiatValue(*usd, *inFiat);
                if (value)
                    break;
            }
        }
        if (value)
            values.insert(fiat.code, *value);
        else if (skipped)
            skipped->append(QStringLiteral("%1: no coin in the reply is priced in both USD and %1").arg(fiat.code));
    }
    return values;
}

} // namespace yieldhost::integrations
