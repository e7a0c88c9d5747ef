#include "ClockTasks.h"

#include <QtCore/QCoreApplication>

using namespace yieldhost;

Status registerClockTasks(PluginContext &context)
{
    Database &db = context.database();
    Clock &clock = context.clock();
    TaskOptions options;
    options.queue = QStringLiteral("testkit");
    if (Status s = context.jobs().registerTask(QStringLiteral("testkit.clock"), options, [&db, &clock](JobContext &) -> QCoro::Task<Status> {
            const QVariantList params{QStringLiteral("clock %1 %2").arg(QCoreApplication::applicationPid()).arg(clock.now().toString(Qt::ISODateWithMs))};
            const SqlResult r = co_await db.query(QStringLiteral("INSERT INTO testkit_note (body) VALUES (?)"), params);
            co_return r.error() ? Status::failure(r.error().message) : Status{};
        }); !s)
        return s;
    if (Status s = context.jobs().registerTask(QStringLiteral("testkit.daily"), options, [&db](JobContext &job) -> QCoro::Task<Status> {
            const QVariantList params{job.jobId().toLongLong(), job.task(), job.attempt(), QCoreApplication::applicationPid()};
            const SqlResult r = co_await db.query(QStringLiteral("INSERT INTO testkit_job_run (job_id, task, attempt, pid) VALUES (?, ?, ?, ?)"), params);
            co_return r.error() ? Status::failure(r.error().message) : Status{};
        }); !s)
        return s;
    const QJsonValue daily = context.config().value(QLatin1String("daily_schedule"));
    if (daily.toBool() || daily.toString() == QLatin1String("1"))
        return context.jobs().addSchedule(QStringLiteral("testkit.daily"), QStringLiteral("5 0 * * *"));
    return {};
}
