#include "RateMath.h"

namespace yieldhost::integrations::RateMath {

std::optional<Decimal> fiatValue(const Decimal &coinInUsd, const Decimal &coinInFiat)
{
    if (coinInUsd.signum() <= 0 || coinInFiat.signum() <= 0)
        return std::nullopt;
    const std::optional<Decimal> value = coinInUsd.div(coinInFiat, Decimal::MaxScale);
    if (!value || value->signum() <= 0) // a value below 1e-18 USD cannot be stored exactly enough to convert with
        return std::nullopt;
    return value;
}

std::optional<Decimal> convert(const Decimal &amount, const Decimal &usdFrom, const Decimal &usdTo, int decimals)
{
    if (usdTo.signum() <= 0)
        return std::nullopt;
    return Decimal::mulDiv(amount, usdFrom, usdTo, decimals);
}

std::optional<Decimal> rate(const Decimal &usdFrom, const Decimal &usdTo)
{
    if (usdTo.signum() <= 0)
        return std::nullopt;
    for (int scale = Decimal::MaxScale; scale >= 0; --scale) {
        if (std::optional<Decimal> r = usdFrom.div(usdTo, scale))
            return r;
    }
    return std::nullopt;
}

} // namespace yieldhost::integrations::RateMath
