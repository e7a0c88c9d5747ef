// ClockRoutes.h — the sandbox's test clock for staff: GET/POST /api/v1/admin/clock.
//
// Registered only in sandbox mode, so in production the paths do not exist (404, as API.md
// says) and appear in no OpenAPI document. An advance is one UPDATE of host_clock: its trigger
// notifies every process (db/ClockSync), and the job queue reads host_now() in SQL, so nothing
// else has to be told.
#pragma once

#include "core/HostClock.h"
#include "http/Router.h"

#include "yieldhost/Database.h"

namespace yieldhost {

class ClockRoutes
{
public:
    // Forward only, and bounded: one request moves at most MaxStepDays, the clock never runs more
    // than MaxOffsetDays ahead of real time (far beyond any plan's lock or statement period).
    static constexpr qint64 MaxStepDays = 3660;
    static constexpr qint64 MaxOffsetDays = 36600;

    // `database` may be null (a process without one): both routes then answer 503.
    ClockRoutes(Router &router, Database *database, HostClock &clock);
    Status registerRoutes();

    QCoro::Task<HttpResponse> read(HttpRequest request);
    QCoro::Task<HttpResponse> advance(HttpRequest request);

private:
    Router &m_router;
    Database *m_db;
    HostClock &m_clock;
};

} // namespace yieldhost
