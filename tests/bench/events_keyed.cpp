// events_keyed — keyed delivery of the event bus (issue 13): 10,000 users, each with one
// subscription (one context, as a WebSocket session), one event per user. Two ways to get each
// user only their own events:
//   scan:  every socket subscribes topic-wide and drops the events of other users in its handler,
//          as plugins had to before SDK 1.1 — each event is queued to and checked by all 10,000;
//   keyed: every socket subscribes for its user (subscribeFor) and the publisher names the user
//          (publishFor) — each event is queued to its user's socket only.
// Events are published in batches of 100 and the queue drained after each batch (so the scan's
// 10^6 queued deliveries per batch fit in memory); events/s counts publish + delivery. The scan
// stops after --scan-seconds (default 3) and its rate is measured over the events it published.
// Usage: events_keyed [--users N] [--scan-seconds S]   (built with the tests, not run by ctest)
#include "yieldhost/Events.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QStringList>

#include <cstdio>
#include <memory>
#include <vector>

using namespace yieldhost;

namespace {

constexpr int Batch = 100;

struct Result
{
    int events = 0;
    qint64 nanoseconds = 0;
    quint64 handlerCalls = 0;
    quint64 delivered = 0; // handler calls that were for the socket's own user
};

Result run(bool keyed, const QStringList &users, qint64 budgetNs)
{
    EventBus bus;
    std::vector<std::unique_ptr<QObject>> sockets;
    sockets.reserve(size_t(users.size()));
    Result r;
    for (const QString &user : users) {
        sockets.push_back(std::make_unique<QObject>());
        auto handler = [&r, user](const Event &e) {
            ++r.handlerCalls;
            if (e.userId == user)
                ++r.delivered;
        };
        if (keyed)
            bus.subscribeFor(topics::Notification, user, sockets.back().get(), handler);
        else
            bus.subscribe(topics::Notification, sockets.back().get(), handler);
    }
    const QJsonObject data{{QStringLiteral("title"), QStringLiteral("Yield paid")}};
    QElapsedTimer clock;
    clock.start();
    for (qsizetype i = 0; i < users.size() && clock.nsecsElapsed() < budgetNs;) {
        for (const qsizetype end = std::min(i + Batch, users.size()); i < end; ++i)
            bus.publishFor(topics::Notification, users[i], data);
        QCoreApplication::sendPostedEvents(); // runs every queued delivery of the batch
        r.events = int(i);
    }
    r.nanoseconds = clock.nsecsElapsed();
    return r;
}

void print(const char *name, const Result &r, int users)
{
    const double seconds = double(r.nanoseconds) / 1e9;
    std::printf("%-6s %6d events in %8.3f s = %12.0f events/s, %8.0f handler calls/event, %s\n", name, r.events,
                seconds, r.events / seconds, double(r.handlerCalls) / r.events,
                r.delivered == quint64(r.events) ? "each user got exactly its events" : "WRONG DELIVERY");
    if (r.events < users)
        std::printf("       (all %d events would take %.1f s)\n", users, seconds * users / r.events);
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    const auto option = [&args](const char *name, int fallback) {
        const qsizetype at = args.indexOf(QLatin1String(name));
        return at >= 0 && at + 1 < args.size() ? args[at + 1].toInt() : fallback;
    };
    const int userCount = option("--users", 10000);
    const int scanSeconds = option("--scan-seconds", 3);
    QStringList users;
    for (int i = 0; i < userCount; ++i)
        users.append(QStringLiteral("user-%1").arg(i));

    std::printf("%d users, one subscription and one event each\n", userCount);
    const Result keyed = run(true, users, qint64(600) * 1000000000);
    print("keyed", keyed, userCount);
    const Result scan = run(false, users, qint64(scanSeconds) * 1000000000);
    print("scan", scan, userCount);
    std::printf("keyed / scan: %.0fx\n", (keyed.events / double(keyed.nanoseconds)) / (scan.events / double(scan.nanoseconds)));
    return keyed.delivered == quint64(keyed.events) && scan.delivered == quint64(scan.events) ? 0 : 1;
}
