// RateMath.h — the arithmetic of rates, pure and exact: every currency's value is kept in US
// dollars, a rate between two currencies is the quotient of their USD values, and a conversion
// is rounded half-even once, from the exact quotient, to the target's decimals.
#pragma once

#include "yieldhost/Decimal.h"

#include <optional>

namespace yieldhost::integrations::RateMath {

// The USD value of a fiat currency from one coin's price in USD and in that currency (both > 0):
// usd / fiat, rounded half-even to 18 decimals. nullopt for a non-positive input.
std::optional<Decimal> fiatValue(const Decimal &coinInUsd, const Decimal &coinInFiat);

// amount x usdFrom / usdTo rounded half-even once to `decimals`; nullopt when the result needs
// more than 38 digits or usdTo is not positive.
std::optional<Decimal> convert(const Decimal &amount, const Decimal &usdFrom, const Decimal &usdTo, int decimals);

// usdFrom / usdTo for display: 18 decimals rounded half-even when it fits in 38 digits, fewer
// decimals otherwise (only for absurdly large rates). nullopt when usdTo is not positive.
std::optional<Decimal> rate(const Decimal &usdFrom, const Decimal &usdTo);

} // namespace yieldhost::integrations::RateMath
