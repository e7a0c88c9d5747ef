// JobRoutes.h — the staff-only job admin API (/api/v1/admin/...) and the /admin/jobs dashboard.
#pragma once

#include "core/Config.h"
#include "http/Router.h"
#include "jobs/JobRegistry.h"

#include "yieldhost/Clock.h"
#include "yieldhost/Database.h"

namespace yieldhost {

class JobRoutes
{
public:
    // `database` may be null (a process without one): every route that needs it answers 503.
    JobRoutes(Router &router, JobRegistry &jobs, Database *database, const Config &config, const Clock &clock);
    Status registerRoutes();

    QCoro::Task<HttpResponse> queues(HttpRequest request);
    QCoro::Task<HttpResponse> listJobs(HttpRequest request);
    QCoro::Task<HttpResponse> enqueueJob(HttpRequest request);
    QCoro::Task<HttpResponse> job(HttpRequest request);
    QCoro::Task<HttpResponse> retryJob(HttpRequest request);
    QCoro::Task<HttpResponse> cancelJob(HttpRequest request);
    QCoro::Task<HttpResponse> workers(HttpRequest request);
    QCoro::Task<HttpResponse> schedules(HttpRequest request);
    QCoro::Task<HttpResponse> tasks(HttpRequest request);
    QCoro::Task<HttpResponse> dashboard(HttpRequest request);

private:
    // GET job, retry and cancel share their replies: the job, or 404/409 with the reason.
    QCoro::Task<HttpResponse> jobAction(HttpRequest request, QString action);

    Router &m_router;
    JobRegistry &m_jobs;
    Database *m_db;
    const Config &m_config;
    const Clock &m_clock;
};

} // namespace yieldhost
