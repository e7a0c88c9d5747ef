#include "http/ClockRoutes.h"

#include "http/RouteTable.h"
#include "http/StaffAudit.h"

#include <QtCore/QJsonObject>

#include <cmath>

namespace yieldhost {

namespace {

constexpr qint64 SecondsPerDay = 86400;

QString rfc3339(const QDateTime &t)
{
    return t.toUTC().toString(Qt::ISODateWithMs);
}

HttpResponse clockJson(const QDateTime &now, qint64 offsetMs)
{
    return HttpResponse::json(200, QJsonObject{{QStringLiteral("now"), rfc3339(now)},
                                               {QStringLiteral("offset_seconds"), double(offsetMs / 1000)}});
}

HttpResponse noDatabase()
{
    return Problem::unavailable(QStringLiteral("No database is configured in this process."), 5).toResponse();
}

// A whole number from 1 to `max`, or the sentence saying why not.
std::optional<qint64> positiveWhole(const QJsonValue &value, qint64 max, QString *why)
{
    const double d = value.toDouble();
    if (!value.isDouble() || !std::isfinite(d) || d != std::floor(d)) {
        *why = QStringLiteral("must be a whole number");
        return std::nullopt;
    }
    if (d < 1) {
        *why = QStringLiteral("must be at least 1: the clock only moves forward");
        return std::nullopt;
    }
    if (d > double(max)) {
        *why = QStringLiteral("must be at most %1").arg(max);
        return std::nullopt;
    }
    return qint64(d);
}

} // namespace

ClockRoutes::ClockRoutes(Router &router, Database *database, HostClock &clock)
    : m_router(router)
    , m_db(database)
    , m_clock(clock)
{
}

Status ClockRoutes::registerRoutes()
{
    static constexpr RouteRow<ClockRoutes> rows[] = {
        {HttpMethod::Get, "/api/v1/admin/clock", AuthLevel::Staff, 200, "getClock",
         "The host clock (sandbox only): {now, offset_seconds}", &ClockRoutes::read},
        {HttpMethod::Post, "/api/v1/admin/clock", AuthLevel::Staff, 200, "advanceClock",
         "Move the host clock forward (sandbox only): {advance_days} or {advance_seconds} → {now, offset_seconds}", &ClockRoutes::advance},
    };
    return addRouteTable<ClockRoutes>(m_router, QStringLiteral("host"), *this, rows);
}

QCoro::Task<HttpResponse> ClockRoutes::read(HttpRequest)
{
    if (!m_db)
        co_return noDatabase();
    const SqlResult r = co_await m_db->query(QStringLiteral(
        "SELECT now() + offset_ms * interval '1 millisecond' AS now, offset_ms FROM host_clock"));
    if (r.error())
        co_return problemFor(r.error()).toResponse();
    if (r.isEmpty())
        co_return Problem::unavailable(QStringLiteral("The host clock is not set up yet (migrations are still running)."), 5).toResponse();
    co_return clockJson(r.value(0, QStringLiteral("now")).toDateTime(), r.integer(0, QStringLiteral("offset_ms")));
}

QCoro::Task<HttpResponse> ClockRoutes::advance(HttpRequest req)
{
    if (!m_db)
        co_return noDatabase();
    const QJsonValue body = req.json();
    if (!body.isObject())
        co_return Problem::badRequest(QStringLiteral("The body must be a JSON object: {\"advance_days\": N} or {\"advance_seconds\": N}.")).toResponse();
    const QJsonObject o = body.toObject();
    const QJsonValue days = o.value(QLatin1String("advance_days"));
    const QJsonValue seconds = o.value(QLatin1String("advance_seconds"));
    QMap<QString, QStringList> errors;
    qint64 stepSeconds = 0;
    QString why;
    if (days.isUndefined() == seconds.isUndefined()) {
        errors[QStringLiteral("advance_days")].append(QStringLiteral("give exactly one of advance_days and advance_seconds"));
    } else if (!days.isUndefined()) {
        if (const auto n = positiveWhole(days, MaxStepDays, &why))
            stepSeconds = *n * SecondsPerDay;
        else
            errors[QStringLiteral("advance_days")].append(why);
    } else {
        if (const auto n = positiveWhole(seconds, MaxStepDays * SecondsPerDay, &why))
            stepSeconds = *n;
        else
            errors[QStringLiteral("advance_seconds")].append(why);
    }
    if (!errors.isEmpty())
        co_return Problem::validation(errors).toResponse();

    const qint64 stepMs = stepSeconds * 1000;
    const QVariantList params{stepMs, stepMs, MaxOffsetDays * SecondsPerDay * 1000};
    const SqlResult r = co_await m_db->query(QStringLiteral(
        "UPDATE host_clock SET offset_ms = offset_ms + ?, changed_at = now() WHERE offset_ms + ? <= ? "
        "RETURNING now() + offset_ms * interval '1 millisecond' AS now, offset_ms"), params);
    if (r.error())
        co_return problemFor(r.error()).toResponse();
    if (r.isEmpty()) {
        const QString field = days.isUndefined() ? QStringLiteral("advance_seconds") : QStringLiteral("advance_days");
        errors[field].append(QStringLiteral("would move the clock more than %1 days ahead of real time").arg(MaxOffsetDays));
        co_return Problem::validation(errors).toResponse();
    }
    const qint64 offsetMs = r.integer(0, QStringLiteral("offset_ms"));
    m_clock.setOffsetMs(offsetMs); // this process at once; the others through ClockSync
    const QDateTime now = r.value(0, QStringLiteral("now")).toDateTime();
    auditStaffChange(req, QStringLiteral("advanced the host clock by %1 s to %2").arg(stepSeconds).arg(rfc3339(now)));
    co_return clockJson(now, offsetMs);
}

} // namespace yieldhost
