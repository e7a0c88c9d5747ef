// ProblemCheck.h — shared test assertions: a reply is an RFC 9457 problem with a given status;
// CHECK() leaves a test function when a helper failed; waitUntil() polls with a live event loop.
#pragma once

#include "HttpClient.h"

#include <QtCore/QDeadlineTimer>
#include <QtTest/QtTest>

#include <functional>
#include <optional>

// Runs a checking helper and leaves the test function if it failed.
#define CHECK(expr)                         \
    do {                                    \
        expr;                               \
        if (QTest::currentTestFailed())     \
            return;                         \
    } while (false)

namespace yieldhost::test {

// Polls with a running event loop (so the QProcess of every started host keeps reading its pipe)
// until `condition` holds or the time is up.
inline bool waitUntil(const std::function<bool()> &condition, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        if (condition())
            return true;
        QTest::qWait(50);
    }
    return condition();
}

inline QString describe(const std::optional<HttpReply> &r)
{
    return r ? QStringLiteral("%1 %2").arg(r->status).arg(QString::fromUtf8(r->body.left(600))) : QStringLiteral("no reply");
}

inline void verifyProblem(const std::optional<HttpReply> &r, int status)
{
    QVERIFY2(r, "no reply");
    QVERIFY2(r->status == status, qPrintable(QStringLiteral("expected %1, got %2").arg(status).arg(describe(r))));
    QCOMPARE(r->header("content-type"), QByteArray("application/problem+json"));
    const QJsonObject p = r->json();
    QCOMPARE(p.value(QLatin1String("status")).toInt(), status);
    QVERIFY(p.value(QLatin1String("type")).toString().startsWith(QLatin1String("https://yieldhost.dev/problems/")));
    QVERIFY(!p.value(QLatin1String("title")).toString().isEmpty());
    QVERIFY(!p.value(QLatin1String("detail")).toString().isEmpty());
}

} // namespace yieldhost::test
