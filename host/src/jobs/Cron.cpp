#include "jobs/Cron.h"

#include <QtCore/QStringList>

#include <algorithm>
#include <array>
#include <bit>

namespace yieldhost {

namespace {

struct FieldSpec
{
    QLatin1String name;
    int min;
    int max;
    const char *const *names; // three-letter aliases for min..min+nameCount-1, or nullptr
    int nameCount;
    QLatin1String nameKind;
};

constexpr const char *kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char *kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

const std::array<FieldSpec, 5> kFields = {{
    {QLatin1String("minute"), 0, 59, nullptr, 0, QLatin1String()},
    {QLatin1String("hour"), 0, 23, nullptr, 0, QLatin1String()},
    {QLatin1String("day-of-month"), 1, 31, nullptr, 0, QLatin1String()},
    {QLatin1String("month"), 1, 12, kMonthNames, 12, QLatin1String("month name (JAN-DEC)")},
    // 7 is accepted as a second spelling of Sunday, as every cron since Vixie does.
    {QLatin1String("day-of-week"), 0, 7, kDayNames, 7, QLatin1String("day name (SUN-SAT)")},
}};

struct Macro
{
    QLatin1String name;
    QLatin1String expansion;
};

const std::array<Macro, 7> kMacros = {{
    {QLatin1String("@yearly"), QLatin1String("0 0 1 1 *")},
    {QLatin1String("@annually"), QLatin1String("0 0 1 1 *")},
    {QLatin1String("@monthly"), QLatin1String("0 0 1 * *")},
    {QLatin1String("@weekly"), QLatin1String("0 0 * * 0")},
    {QLatin1String("@daily"), QLatin1String("0 0 * * *")},
    {QLatin1String("@midnight"), QLatin1String("0 0 * * *")},
    {QLatin1String("@hourly"), QLatin1String("0 * * * *")},
}};

bool isDigits(const QString &s)
{
    return !s.isEmpty() && std::all_of(s.cbegin(), s.cend(), [](QChar c) { return c.unicode() >= u'0' && c.unicode() <= u'9'; });
}

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

bool parseValue(const QString &token, const FieldSpec &spec, int *value, QString *error)
{
    if (token.isEmpty())
        return fail(error, QStringLiteral("%1 field has an empty value").arg(spec.name));
    if (isDigits(token)) {
        bool ok = false;
        const int v = token.toInt(&ok);
        // toInt only fails on overflow here, which is just a very out-of-range number.
        if (!ok || v < spec.min || v > spec.max) {
            return fail(error, QStringLiteral("%1 field \"%2\" is out of range %3-%4")
                                   .arg(spec.name, token)
                                   .arg(spec.min)
                                   .arg(spec.max));
        }
        *value = v;
        return true;
    }
    for (int i = 0; i < spec.nameCount; ++i) {
        if (token.compare(QLatin1String(spec.names[i]), Qt::CaseInsensitive) == 0) {
            *value = spec.min + i;
            return true;
        }
    }
    if (spec.names)
        return fail(error, QStringLiteral("%1 field \"%2\" is not a number or %3").arg(spec.name, token, spec.nameKind));
    return fail(error, QStringLiteral("%1 field \"%2\" is not a number").arg(spec.name, token));
}

bool parseField(const QString &text, const FieldSpec &spec, std::uint64_t *bits, QString *error)
{
    *bits = 0;
    const QStringList items = text.split(QLatin1Char(','));
    for (const QString &item : items) {
        if (item.isEmpty())
            return fail(error, QStringLiteral("%1 field \"%2\" has an empty list item").arg(spec.name, text));

        const QStringList rangeAndStep = item.split(QLatin1Char('/'));
        if (rangeAndStep.size() > 2)
            return fail(error, QStringLiteral("%1 field \"%2\" has more than one step").arg(spec.name, item));
        const QString &range = rangeAndStep.first();
        const bool hasStep = rangeAndStep.size() == 2;

        int step = 1;
        if (hasStep) {
            const QString &stepText = rangeAndStep.at(1);
            if (!isDigits(stepText))
                return fail(error, QStringLiteral("%1 field \"%2\" has a step that is not a number").arg(spec.name, item));
            bool ok = false;
            step = stepText.toInt(&ok);
            if (!ok || step < 1 || step > spec.max) {
                return fail(error, QStringLiteral("%1 field \"%2\" has step %3, which must be between 1 and %4")
                                       .arg(spec.name, item, stepText)
                                       .arg(spec.max));
            }
        }

        int low = 0;
        int high = 0;
        if (range.isEmpty()) {
            return fail(error, QStringLiteral("%1 field \"%2\" has a step but no range before the '/'")
                                   .arg(spec.name, item));
        } else if (range == QLatin1String("*")) {
            low = spec.min;
            high = spec.max;
        } else if (const QStringList bounds = range.split(QLatin1Char('-')); bounds.size() == 2) {
            if (bounds.at(0).isEmpty() || bounds.at(1).isEmpty())
                return fail(error, QStringLiteral("%1 field \"%2\" is a range with a missing end").arg(spec.name, range));
            if (!parseValue(bounds.at(0), spec, &low, error) || !parseValue(bounds.at(1), spec, &high, error))
                return false;
            if (low > high) {
                // "MON-SUN" is the likely mistake here: SUN is 0, and only 7 can close a range on Sunday.
                const QString hint = spec.names == kDayNames && high == 0
                    ? QStringLiteral(" (Sunday is 0; end the range with 7 instead)")
                    : QStringLiteral("; write the smaller value first");
                return fail(error, QStringLiteral("%1 field \"%2\" is a reversed range%3").arg(spec.name, range, hint));
            }
        } else if (bounds.size() > 2) {
            return fail(error, QStringLiteral("%1 field \"%2\" is not a valid range").arg(spec.name, range));
        } else {
            if (!parseValue(range, spec, &low, error))
                return false;
            // "a/n" means "from a to the end, every n", as in cronie; without a step it is just a.
            high = hasStep ? spec.max : low;
        }

        for (int v = low; v <= high; v += step)
            *bits |= std::uint64_t(1) << v;
    }
    return true;
}

int nextBit(std::uint64_t bits, int from)
{
    if (from >= 64)
        return -1;
    bits >>= from;
    return bits ? from + std::countr_zero(bits) : -1;
}

bool hasBit(std::uint64_t bits, int bit)
{
    return (bits >> bit) & 1;
}

} // namespace

std::optional<Cron> Cron::parse(const QString &expression, QString *error)
{
    const QString trimmed = expression.trimmed();
    if (trimmed.isEmpty()) {
        fail(error, QStringLiteral("cron expression is empty"));
        return std::nullopt;
    }

    QString fieldsText = trimmed.simplified();
    if (fieldsText.startsWith(QLatin1Char('@'))) {
        const auto macro = std::find_if(kMacros.cbegin(), kMacros.cend(), [&](const Macro &m) {
            return fieldsText.compare(m.name, Qt::CaseInsensitive) == 0;
        });
        if (macro == kMacros.cend()) {
            fail(error, QStringLiteral("unknown cron macro \"%1\"; expected @yearly, @annually, @monthly, @weekly, "
                                       "@daily, @midnight or @hourly")
                            .arg(fieldsText));
            return std::nullopt;
        }
        fieldsText = macro->expansion;
    }

    const QStringList fields = fieldsText.split(QLatin1Char(' '));
    if (fields.size() != 5) {
        fail(error, QStringLiteral("cron expression \"%1\" has %2 field%3; expected 5 (minute hour day-of-month month "
                                   "day-of-week) or a macro such as @daily")
                        .arg(trimmed)
                        .arg(fields.size())
                        .arg(fields.size() == 1 ? QString() : QStringLiteral("s")));
        return std::nullopt;
    }

    std::array<std::uint64_t, 5> bits{};
    for (size_t i = 0; i < kFields.size(); ++i) {
        if (!parseField(fields.at(qsizetype(i)), kFields[i], &bits[i], error))
            return std::nullopt;
    }

    Cron cron;
    cron.m_expression = trimmed;
    cron.m_minutes = bits[0];
    cron.m_hours = std::uint32_t(bits[1]);
    cron.m_daysOfMonth = std::uint32_t(bits[2]);
    cron.m_months = std::uint16_t(bits[3]);
    cron.m_daysOfWeek = std::uint8_t((bits[4] | (bits[4] >> 7)) & 0x7f);
    // Vixie looks only at the first character, so "*/2" counts as unrestricted too; matching that keeps
    // crontabs copied from Linux hosts firing on the same days here.
    cron.m_daysOfMonthStar = fields.at(2).startsWith(QLatin1Char('*'));
    cron.m_daysOfWeekStar = fields.at(4).startsWith(QLatin1Char('*'));
    return cron;
}

bool Cron::dayMatches(const QDate &date) const
{
    const bool dom = hasBit(m_daysOfMonth, date.day());
    const bool dow = hasBit(m_daysOfWeek, date.dayOfWeek() % 7); // Qt's Sunday is 7
    if (m_daysOfMonthStar || m_daysOfWeekStar)
        return dom && dow;
    return dom || dow;
}

bool Cron::matches(const QDateTime &utcMinute) const
{
    if (!utcMinute.isValid())
        return false;
    const QDateTime utc = utcMinute.toUTC();
    const QDate date = utc.date();
    const QTime time = utc.time();
    return hasBit(m_minutes, time.minute()) && hasBit(m_hours, time.hour()) && hasBit(m_months, date.month())
        && dayMatches(date);
}

QDateTime Cron::next(const QDateTime &after) const
{
    if (!after.isValid())
        return {};
    const QDateTime utc = after.toUTC();
    QDate date = utc.date();
    int hour = utc.time().hour();
    int minute = utc.time().minute() + 1; // strictly after; may be 60, which the hour step below absorbs
    const QDate limit = date.addYears(5);

    // Each pass either returns or moves to the start of a later month, day or hour, so this runs at most a few
    // thousand times even for expressions that never match.
    while (date <= limit) {
        if (!hasBit(m_months, date.month())) {
            date = QDate(date.year(), date.month(), 1).addMonths(1);
            hour = minute = 0;
            continue;
        }
        if (!dayMatches(date)) {
            date = date.addDays(1);
            hour = minute = 0;
            continue;
        }
        if (minute > 59) {
            ++hour;
            minute = 0;
        }
        const int h = nextBit(m_hours, hour);
        if (h < 0) {
            date = date.addDays(1);
            hour = minute = 0;
            continue;
        }
        if (h != hour) {
            hour = h;
            minute = 0;
        }
        const int m = nextBit(m_minutes, minute);
        if (m < 0) {
            ++hour;
            minute = 0;
            continue;
        }
        return QDateTime(date, QTime(hour, m), Qt::UTC);
    }
    return {};
}

} // namespace yieldhost
