#include "YieldEngine.h"

namespace yieldhost::investments {

namespace {

constexpr int DaysPerYear = 365;

} // namespace

bool YieldEngine::valid(const YieldTerms &terms)
{
    return terms.principal.signum() > 0 && terms.apy.signum() >= 0 && terms.intervalDays > 0 && terms.decimals >= 0
           && terms.decimals <= Decimal::MaxScale && terms.openedOn.isValid();
}

YieldPeriod YieldEngine::period(const YieldTerms &terms, int index)
{
    YieldPeriod p;
    p.index = index;
    p.start = terms.openedOn.addDays(1 + qint64(index - 1) * terms.intervalDays);
    p.end = p.start.addDays(terms.intervalDays);
    return p;
}

std::optional<Decimal> YieldEngine::cumulative(const YieldTerms &terms, int index)
{
    if (index <= 0)
        return Decimal();
    // apy x days first (exact: an integer times a decimal), then principal x that / 365, rounded once.
    const std::optional<Decimal> apyDays = terms.apy.mul(Decimal::fromInt(qint64(index) * terms.intervalDays));
    if (!apyDays)
        return std::nullopt;
    return Decimal::mulDiv(terms.principal, *apyDays, Decimal::fromInt(DaysPerYear), terms.decimals);
}

int YieldEngine::periodsEnded(const YieldTerms &terms, const QDate &asOf)
{
    if (!valid(terms) || !asOf.isValid())
        return 0;
    QDate last = asOf;
    if (terms.endsOn.isValid() && terms.endsOn < last)
        last = terms.endsOn;
    // Period k ends on openedOn + 1 + k x interval; it has ended when that is <= last.
    const qint64 days = terms.openedOn.daysTo(last) - 1;
    if (days < terms.intervalDays)
        return 0;
    return int(days / terms.intervalDays);
}

QList<YieldPeriod> YieldEngine::due(const YieldTerms &terms, int lastPaidIndex, const Decimal &paidSoFar, const QDate &asOf, int limit)
{
    QList<YieldPeriod> out;
    if (!valid(terms))
        return out;
    const int ended = periodsEnded(terms, asOf);
    Decimal paid = paidSoFar;
    for (int k = std::max(0, lastPaidIndex) + 1; k <= ended && out.size() < limit; ++k) {
        const std::optional<Decimal> total = cumulative(terms, k);
        if (!total)
            break;
        const std::optional<Decimal> amount = total->sub(paid);
        if (!amount)
            break;
        YieldPeriod p = period(terms, k);
        // Never negative: a position whose earlier payouts were larger (terms changed by hand)
        // waits until the rule catches up rather than taking money back.
        p.amount = amount->isNegative() ? Decimal() : amount->withScale(terms.decimals).value_or(*amount);
        p.cumulative = *total;
        paid = *total > paid ? *total : paid;
        out.append(p);
    }
    return out;
}

} // namespace yieldhost::investments
