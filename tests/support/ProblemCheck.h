// ProblemCheck.h — the shared assertion that a reply is an RFC 9457 problem with a given status.
#pragma once

#include "HttpClient.h"

#include <QtTest/QtTest>

#include <optional>

namespace yieldhost::test {

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
