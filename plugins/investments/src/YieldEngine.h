// YieldEngine.h — the yield rule of API.md as a pure calculation, with no I/O: which payout
// periods of a position are due at a date, and exactly how much each pays.
//
// A position earns simple interest on its principal, principal x apy x days / 365, for each whole
// UTC day starting the day after it was opened, paid at the end of each payout interval (1, 7 or
// 30 days). Period k (1, 2, ...) covers the days [opened + 1 + (k-1) x interval, opened + 1 +
// k x interval) and ends at 00:00 UTC of its last date; it is due once that end is at or before
// the as-of date's 00:00 UTC. Each period pays the CUMULATIVE amount due after it,
// round_half_even(principal x apy x k x interval / 365) to the currency's decimals, minus what was
// already paid — one rounding, from the exact product (Decimal::mulDiv) — so after any number of
// payouts the total paid is within half a minor unit of the exact total, and never drifts.
#pragma once

#include "yieldhost/Decimal.h"

#include <QtCore/QDate>
#include <QtCore/QList>

#include <optional>

namespace yieldhost::investments {

struct YieldTerms
{
    Decimal principal;   // > 0, at the currency's decimals
    Decimal apy;         // 0.0500 for 5 % a year
    int intervalDays = 1; // 1, 7 or 30
    int decimals = 2;     // the currency's
    QDate openedOn;       // the UTC date it was opened; interest starts the next day
    QDate endsOn;         // invalid while active; the UTC date it was redeemed: no period ending after it is due
};

struct YieldPeriod
{
    int index = 0;      // 1 for the first period
    QDate start;        // 00:00 UTC of its first day
    QDate end;          // 00:00 UTC after its last day (the start of the next period)
    Decimal amount;     // what this period pays (may be zero for tiny principals)
    Decimal cumulative; // the total due after this period
};

class YieldEngine
{
public:
    // Period `index` of a position (index >= 1).
    static YieldPeriod period(const YieldTerms &terms, int index);
    // The cumulative amount due after `index` periods; nullopt if it needs more than 38 digits.
    static std::optional<Decimal> cumulative(const YieldTerms &terms, int index);
    // The periods after `lastPaidIndex` that are due on `asOf` (ending on or before it), at most
    // `limit` of them, given that `paidSoFar` was paid for the periods up to `lastPaidIndex`.
    // Each amount is cumulative - what was paid before it. Empty for invalid terms.
    static QList<YieldPeriod> due(const YieldTerms &terms, int lastPaidIndex, const Decimal &paidSoFar, const QDate &asOf, int limit = 1000);
    // How many periods have ended on `asOf` (0 before the first one ends).
    static int periodsEnded(const YieldTerms &terms, const QDate &asOf);
    static bool valid(const YieldTerms &terms);
};

} // namespace yieldhost::investments
