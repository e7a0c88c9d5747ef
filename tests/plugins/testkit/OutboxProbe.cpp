#include "OutboxProbe.h"

#include "yieldhost/Outbox.h"

#include <QtCore/QCoreApplication>

using namespace yieldhost;

namespace {

const QString Topic = QStringLiteral("testkit.outbox");

// Writes the events in one transaction; the Status says whether it committed.
QCoro::Task<Status> write(Database &db, QJsonObject args)
{
    const qint64 first = args.value(QLatin1String("n")).toInteger();
    const qint64 count = std::max<qint64>(1, args.value(QLatin1String("count")).toInteger(1));
    const bool commit = args.value(QLatin1String("commit")).toBool(true);
    const double holdSeconds = args.value(QLatin1String("hold_ms")).toInt() / 1000.0;
    const bool record = args.value(QLatin1String("record")).toBool(true); // the benchmark counts through /metrics instead
    auto work = [&](SqlTransaction &tx) -> Status {
        for (qint64 n = first; n < first + count; ++n) {
            if (const DbError e = publishIn(tx, Topic, QStringLiteral("user-%1").arg(n % 7), QJsonObject{{QStringLiteral("n"), n}, {QStringLiteral("record"), record}}))
                return Status::failure(e.message);
        }
        if (holdSeconds > 0)
            tx.exec(QStringLiteral("SELECT pg_sleep(?::float8)"), {holdSeconds});
        return commit ? Status{} : Status::failure(QStringLiteral("rolled back on purpose"));
    };
    const TransactionOutcome t = co_await db.transaction(std::move(work));
    co_return t.committed ? Status{} : Status::failure(t.failure.isEmpty() ? t.error.message : t.failure);
}

QCoro::Task<> note(Database &db, qint64 n)
{
    const QVariantList params{QStringLiteral("outbox %1 %2").arg(QCoreApplication::applicationPid()).arg(n)};
    co_await db.query(QStringLiteral("INSERT INTO testkit_note (body) VALUES (?)"), params);
}

} // namespace

Status registerOutboxProbe(PluginContext &context, QObject *subscriberContext)
{
    Database &db = context.database();
    context.events().subscribe(Topic, subscriberContext, [&db](const Event &e) {
        if (e.data.value(QLatin1String("record")).toBool(true))
            note(db, e.data.value(QLatin1String("n")).toInteger());
    });
    context.addRoute(HttpMethod::Post, QStringLiteral("/test/outbox/publish"), [&db](HttpRequest req) -> QCoro::Task<HttpResponse> {
        const Status written = co_await write(db, req.json().toObject());
        co_return HttpResponse::json(written ? 201 : 409, QJsonObject{{QStringLiteral("committed"), bool(written)}});
    }).auth(AuthLevel::Public);
    TaskOptions options;
    options.queue = QStringLiteral("testkit");
    return context.jobs().registerTask(QStringLiteral("testkit.outbox_publish"), options,
                                       [&db](JobContext &job) -> QCoro::Task<Status> { co_return co_await write(db, job.args()); });
}
