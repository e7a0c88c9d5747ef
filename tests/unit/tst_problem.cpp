// tst_problem.cpp — specification of yieldhost::ProblemBuilder and the RFC 9457 replies it makes.
//
// Covered: a built problem's status, Content-Type and JSON members (type URI, title, status,
// detail only when given, errors only for fields); the generic type and title each status starts
// with; field errors collecting per field in order; Retry-After only when set and not negative;
// build(), the implicit conversion and toResponse() agreeing; and the Problem factories, now built
// on the builder, answering exactly as before.

#include "yieldhost/Http.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtTest/QTest>

using namespace Qt::Literals::StringLiterals;
using yieldhost::HttpResponse;
using yieldhost::Problem;
using yieldhost::ProblemBuilder;

Q_DECLARE_METATYPE(yieldhost::Problem)

namespace {

QJsonObject bodyOf(const HttpResponse &response)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(response.body(), &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        qWarning() << "not a JSON object:" << response.body();
    return document.object();
}

// The Retry-After values sent, in order (normally none or one).
QByteArrayList retryAfterOf(const HttpResponse &response)
{
    QByteArrayList values;
    for (const auto &[name, value] : response.headers()) {
        if (name.compare("Retry-After", Qt::CaseInsensitive) == 0)
            values << value;
    }
    return values;
}

} // namespace

class TestProblem : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void namedFieldsBecomeAProblemJsonReply();
    void detailIsLeftOutWhenEmpty();
    void eachStatusStartsWithItsGenericTypeAndTitle_data();
    void eachStatusStartsWithItsGenericTypeAndTitle();
    void fieldErrorsCollectPerFieldInOrder();
    void retryAfterIsSentOnlyWhenSet_data();
    void retryAfterIsSentOnlyWhenSet();
    void buildConversionAndResponseAgree();
    void factoriesAnswerAsBefore_data();
    void factoriesAnswerAsBefore();
};

void TestProblem::namedFieldsBecomeAProblemJsonReply()
{
    const HttpResponse r = Problem::make(409)
                                   .type(u"insufficient-funds"_s)
                                   .title(u"Insufficient funds"_s)
                                   .detail(u"The wallet holds 12.50 EUR; the withdrawal needs 20.00 EUR."_s)
                                   .toResponse();
    QCOMPARE(r.status(), 409);
    QCOMPARE(r.contentType(), QByteArray("application/problem+json"));
    const QJsonObject expected{
        { u"type"_s, u"https://yieldhost.dev/problems/insufficient-funds"_s },
        { u"title"_s, u"Insufficient funds"_s },
        { u"status"_s, 409 },
        { u"detail"_s, u"The wallet holds 12.50 EUR; the withdrawal needs 20.00 EUR."_s },
    };
    QCOMPARE(bodyOf(r), expected);
    QVERIFY(retryAfterOf(r).isEmpty());
}

void TestProblem::detailIsLeftOutWhenEmpty()
{
    const QJsonObject body = bodyOf(Problem::make(404).toResponse());
    QVERIFY2(!body.contains(u"detail"_s), QJsonDocument(body).toJson().constData());
    QVERIFY(!body.contains(u"errors"_s));
    QCOMPARE(body.value(u"status"_s).toInt(), 404);
}

void TestProblem::eachStatusStartsWithItsGenericTypeAndTitle_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("type");
    QTest::addColumn<QString>("title");

    QTest::newRow("400") << 400 << u"bad-request"_s << u"Bad request"_s;
    QTest::newRow("401") << 401 << u"unauthorized"_s << u"Unauthorized"_s;
    QTest::newRow("403") << 403 << u"forbidden"_s << u"Forbidden"_s;
    QTest::newRow("404") << 404 << u"not-found"_s << u"Not found"_s;
    QTest::newRow("405") << 405 << u"method-not-allowed"_s << u"Method not allowed"_s;
    QTest::newRow("408") << 408 << u"request-timeout"_s << u"Request timeout"_s;
    QTest::newRow("409") << 409 << u"conflict"_s << u"Conflict"_s;
    QTest::newRow("413") << 413 << u"body-too-large"_s << u"Content too large"_s;
    QTest::newRow("415") << 415 << u"unsupported-media-type"_s << u"Unsupported media type"_s;
    QTest::newRow("422") << 422 << u"validation"_s << u"Invalid values"_s;
    QTest::newRow("429") << 429 << u"too-many-requests"_s << u"Too many requests"_s;
    QTest::newRow("431") << 431 << u"headers-too-large"_s << u"Request header fields too large"_s;
    QTest::newRow("500") << 500 << u"internal"_s << u"Internal error"_s;
    QTest::newRow("501") << 501 << u"not-implemented"_s << u"Not implemented"_s;
    QTest::newRow("503") << 503 << u"unavailable"_s << u"Service unavailable"_s;
    QTest::newRow("a status without one") << 418 << u"error"_s << u"Error"_s;
}

void TestProblem::eachStatusStartsWithItsGenericTypeAndTitle()
{
    QFETCH(int, status);
    QFETCH(QString, type);
    QFETCH(QString, title);

    const Problem p = Problem::make(status);
    QCOMPARE(p.status, status);
    QCOMPARE(p.type, type);
    QCOMPARE(p.title, title);
    QVERIFY(p.detail.isEmpty());
    QVERIFY(p.errors.isEmpty());
    QCOMPARE(p.retryAfterSeconds, -1);

    // Naming a type and title replaces them; changing the status later keeps them.
    const Problem named = Problem::make(status).type(u"own"_s).title(u"Own"_s).status(400);
    QCOMPARE(named.status, 400);
    QCOMPARE(named.type, u"own"_s);
    QCOMPARE(named.title, u"Own"_s);
}

void TestProblem::fieldErrorsCollectPerFieldInOrder()
{
    const HttpResponse r = Problem::make(422)
                                   .detail(u"One or more fields are invalid."_s)
                                   .field(u"amount"_s, u"must be greater than zero"_s)
                                   .field(u"currency"_s, u"must be one of EUR, USD"_s)
                                   .field(u"amount"_s, u"must have at most 2 decimals"_s)
                                   .fields({ { u"iban"_s, { u"is required"_s } } })
                                   .toResponse();
    QCOMPARE(r.status(), 422);
    QCOMPARE(r.contentType(), QByteArray("application/problem+json"));
    const QJsonObject body = bodyOf(r);
    QCOMPARE(body.value(u"type"_s).toString(), u"https://yieldhost.dev/problems/validation"_s);
    QCOMPARE(body.value(u"title"_s).toString(), u"Invalid values"_s);
    const QJsonObject expected{
        { u"amount"_s,
          QJsonArray{ u"must be greater than zero"_s, u"must have at most 2 decimals"_s } },
        { u"currency"_s, QJsonArray{ u"must be one of EUR, USD"_s } },
        { u"iban"_s, QJsonArray{ u"is required"_s } },
    };
    QCOMPARE(body.value(u"errors"_s).toObject(), expected);
}

void TestProblem::retryAfterIsSentOnlyWhenSet_data()
{
    QTest::addColumn<int>("seconds"); // -2: retryAfter() not called
    QTest::addColumn<QByteArrayList>("header");
    QTest::addColumn<int>("stored");

    QTest::newRow("not set") << -2 << QByteArrayList() << -1;
    QTest::newRow("30 seconds") << 30 << QByteArrayList{ "30" } << 30;
    QTest::newRow("zero is sent") << 0 << QByteArrayList{ "0" } << 0;
    QTest::newRow("negative leaves it unset") << -5 << QByteArrayList() << -1;
}

void TestProblem::retryAfterIsSentOnlyWhenSet()
{
    QFETCH(int, seconds);
    QFETCH(QByteArrayList, header);
    QFETCH(int, stored);

    ProblemBuilder builder = Problem::make(429).detail(u"Try again later."_s);
    if (seconds != -2)
        builder.retryAfter(seconds);
    const Problem p = builder;
    QCOMPARE(p.retryAfterSeconds, stored);
    const HttpResponse r = builder.toResponse();
    QCOMPARE(r.status(), 429);
    QCOMPARE(retryAfterOf(r), header);
    // Retry-After is a header, never a member of the JSON body.
    QVERIFY(!bodyOf(r).contains(u"retryAfter"_s));
}

void TestProblem::buildConversionAndResponseAgree()
{
    const ProblemBuilder builder = Problem::make(503)
                                           .type(u"provider-down"_s)
                                           .title(u"Provider unavailable"_s)
                                           .detail(u"CoinGecko does not answer; try again shortly."_s)
                                           .retryAfter(7);
    const Problem built = builder.build();
    const Problem converted = builder;
    for (const Problem &p : { built, converted }) {
        QCOMPARE(p.status, 503);
        QCOMPARE(p.type, u"provider-down"_s);
        QCOMPARE(p.title, u"Provider unavailable"_s);
        QCOMPARE(p.detail, u"CoinGecko does not answer; try again shortly."_s);
        QCOMPARE(p.retryAfterSeconds, 7);
    }
    const HttpResponse fromBuilder = builder.toResponse();
    const HttpResponse fromProblem = built.toResponse();
    QCOMPARE(fromBuilder.status(), fromProblem.status());
    QCOMPARE(fromBuilder.body(), fromProblem.body());
    QCOMPARE(fromBuilder.contentType(), fromProblem.contentType());
    QCOMPARE(fromBuilder.headers(), fromProblem.headers());
}

void TestProblem::factoriesAnswerAsBefore_data()
{
    QTest::addColumn<Problem>("problem");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArrayList>("retryAfter");

    // The exact bytes the positional literals produced before SDK 1.1.
    QTest::newRow("badRequest") << Problem::badRequest(u"No."_s) << 400
                                << QByteArray(R"({"detail":"No.","status":400,"title":"Bad request","type":"https://yieldhost.dev/problems/bad-request"})")
                                << QByteArrayList();
    QTest::newRow("unauthorized") << Problem::unauthorized(u"Log in."_s) << 401
                                  << QByteArray(R"({"detail":"Log in.","status":401,"title":"Unauthorized","type":"https://yieldhost.dev/problems/unauthorized"})")
                                  << QByteArrayList();
    QTest::newRow("forbidden") << Problem::forbidden(u"Staff only."_s) << 403
                               << QByteArray(R"({"detail":"Staff only.","status":403,"title":"Forbidden","type":"https://yieldhost.dev/problems/forbidden"})")
                               << QByteArrayList();
    QTest::newRow("notFound") << Problem::notFound(u"No item 7."_s) << 404
                              << QByteArray(R"({"detail":"No item 7.","status":404,"title":"Not found","type":"https://yieldhost.dev/problems/not-found"})")
                              << QByteArrayList();
    QTest::newRow("conflict") << Problem::conflict(u"email-taken"_s, u"Email already registered"_s, u"Taken."_s)
                              << 409
                              << QByteArray(R"({"detail":"Taken.","status":409,"title":"Email already registered","type":"https://yieldhost.dev/problems/email-taken"})")
                              << QByteArrayList();
    QTest::newRow("validation") << Problem::validation({ { u"email"_s, { u"must be an email address"_s } } })
                                << 422
                                << QByteArray(R"({"detail":"One or more fields are invalid.","errors":{"email":["must be an email address"]},"status":422,"title":"Invalid values","type":"https://yieldhost.dev/problems/validation"})")
                                << QByteArrayList();
    QTest::newRow("unavailable") << Problem::unavailable(u"Down."_s, 5) << 503
                                 << QByteArray(R"({"detail":"Down.","status":503,"title":"Service unavailable","type":"https://yieldhost.dev/problems/unavailable"})")
                                 << QByteArrayList{ "5" };
}

void TestProblem::factoriesAnswerAsBefore()
{
    QFETCH(Problem, problem);
    QFETCH(int, status);
    QFETCH(QByteArray, body);
    QFETCH(QByteArrayList, retryAfter);

    const HttpResponse r = problem.toResponse();
    QCOMPARE(r.status(), status);
    QCOMPARE(r.contentType(), QByteArray("application/problem+json"));
    QCOMPARE(r.body(), body);
    QCOMPARE(retryAfterOf(r), retryAfter);
}

QTEST_APPLESS_MAIN(TestProblem)

#include "tst_problem.moc"
