// Cron.h — five-field Vixie cron expressions, evaluated in UTC, for the job scheduler ("beat").
// Parsed once into bitsets so next() can skip whole months, days and hours instead of scanning minutes.
#pragma once

#include <QtCore/QDateTime>
#include <QtCore/QString>

#include <cstdint>
#include <optional>

namespace yieldhost {

class Cron
{
public:
    // Matches nothing and never fires; only there so containers of schedules can default-construct.
    Cron() = default;

    // nullopt with *error set to one sentence naming the offending field when the expression is malformed.
    static std::optional<Cron> parse(const QString &expression, QString *error);

    // First matching minute strictly after `after` (taken in UTC, seconds ignored); invalid if none within 5 years,
    // which is how impossible dates such as "0 0 30 2 *" surface.
    QDateTime next(const QDateTime &after) const;
    bool matches(const QDateTime &utcMinute) const;
    QString expression() const { return m_expression; }

private:
    bool dayMatches(const QDate &date) const;

    QString m_expression;
    std::uint64_t m_minutes = 0;     // bits 0-59
    std::uint32_t m_hours = 0;       // bits 0-23
    std::uint32_t m_daysOfMonth = 0; // bits 1-31
    std::uint16_t m_months = 0;      // bits 1-12
    std::uint8_t m_daysOfWeek = 0;   // bits 0-6, Sunday = 0 (7 is folded onto 0)
    // Vixie's rule: a field written starting with '*' is "unrestricted", which turns the day test from OR into AND.
    bool m_daysOfMonthStar = false;
    bool m_daysOfWeekStar = false;
};

} // namespace yieldhost
